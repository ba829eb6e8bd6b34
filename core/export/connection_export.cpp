// SPDX-License-Identifier: GPL-3.0-or-later
#include "export/connection_export.h"

#include "analysis/termination.h"

#include <algorithm>

namespace tcpscope {

namespace {

Cell num(qint64 v)
{
    return Cell::num(v);
}
Cell unum(quint64 v)
{
    return Cell::unum(v);
}
Cell text(const QString &s)
{
    return Cell::text(s);
}
Cell ms(double v)
{
    return Cell::ms(v);
}

// The kernel's view: unknown when not captured; RTT/cwnd extremes unknown without a
// sample that had them; listener columns only for listeners.
void appendKernelCells(QVector<Cell> &row, const Connection &c,
                       const ConnectionExportOptions &options)
{
    const KernelSummary &k = c.kernel;
    const bool on = options.kernelMetrics;
    auto count = [on](quint64 v) { return on ? unum(v) : Cell{}; };
    auto extreme = [on](quint32 v) { return on && v > 0 ? unum(v) : Cell{}; };
    const bool listener = c.role == ConnectionRole::Listener;
    row << extreme(k.srttUsMin) << extreme(k.srttUsMax) << extreme(k.cwndMax) << count(k.resetsSent)
        << count(k.resetsReceived) << count(k.drops) << count(k.samples) << count(k.retransmits)
        << count(k.synRetransmits) << count(k.synAckRetransmits)
        << (listener ? count(k.listenDrops) : Cell{}) << (listener ? count(k.backlogMax) : Cell{});
}

// Termination stage : who closed first, RST by whom, time half-closed, in FIN_WAIT2 and
// in TIME_WAIT (inferred from the hand-off to the timewait socket where the kernel reports no
// TIME_WAIT state; bounded by the session end while still running).
void appendTerminationCells(QVector<Cell> &row, const Connection &c, qint64 sessionEndNs)
{
    const TerminationInfo t = terminationOf(c, sessionEndNs);
    auto msOrNull = [](qint64 ns) { return ns >= 0 ? ms(double(ns) / 1e6) : Cell{}; };
    row << (t.firstCloser == Closer::Unknown ? Cell{} : text(closerName(t.firstCloser)))
        << (t.reset ? text(t.resetByPeer ? QStringLiteral("peer") : QStringLiteral("local"))
                    : Cell{})
        << msOrNull(t.halfClosedNs) << msOrNull(t.finWait2Ns) << msOrNull(t.timeWaitNs)
        << (t.timeWaitNs >= 0 ? num(t.timeWaitInferred ? 1 : 0) : Cell{});
}

// The last instant a session knows of when it did not record its stop time (killed).
qint64 lastKnownNs(const QVector<Connection> &connections)
{
    qint64 last = 0;
    for (const Connection &c : connections) {
        last = std::max({last, c.startNs, c.endNs});
        if (!c.history.isEmpty())
            last = std::max(last, c.history.constLast().timeNs);
    }
    return last;
}

QVector<Cell> cells(const Connection &c, const ConnectionExportOptions &options)
{
    const bool open = c.isOpen();
    // No packet of the connection seen (none captured, --no-packets, old file): unknown, not 0.
    const PacketCounts &k = c.packets;
    const bool seen = k.packetsIn + k.packetsOut > 0;
    auto count = [seen](quint64 v) { return seen ? unum(v) : Cell{}; };
    QVector<Cell> row = {
        num(c.id),
        unum(c.pid),
        text(c.comm),
        num(c.family),
        text(c.localAddr),
        unum(c.localPort),
        text(c.remoteAddr),
        unum(c.remotePort),
        num(c.startNs),
        open ? Cell{} : num(c.endNs),
        open ? Cell{} : ms(c.durationMs()),
        c.handshakeNs < 0 ? Cell{} : ms(double(c.handshakeNs) / 1e6),
        c.haveCloseStats ? unum(c.bytesSent) : Cell{},
        c.haveCloseStats ? unum(c.bytesReceived) : Cell{},
        c.haveCloseStats ? unum(c.retransmits) : Cell{},
        text(closeReasonName(c.closeReason)),
        text(c.statesPath()),
        text(connectionRoleName(c.role)),
        c.haveCloseStats ? unum(c.srttUs) : Cell{},
        c.haveCloseStats ? unum(c.minRttUs) : Cell{},
        c.haveCloseStats ? unum(c.segsIn) : Cell{},
        c.haveCloseStats ? unum(c.segsOut) : Cell{},
        c.haveCloseStats ? num(c.skErr) : Cell{},
        text(tcpStateName(c.state)),
    };
    row << count(k.packetsIn) << count(k.packetsOut) << count(k.payloadBytesIn)
        << count(k.payloadBytesOut) << count(k.retransmissions) << count(k.fastRetransmissions)
        << count(k.spuriousRetransmissions) << count(k.dupAcks) << count(k.outOfOrder)
        << count(k.lostSegments) << count(k.zeroWindows) << count(k.zeroWindowProbes)
        << count(k.windowFull) << count(k.windowUpdates) << count(k.keepAlives) << count(k.resets)
        << (k.irttNs >= 0 ? ms(double(k.irttNs) / 1e6) : Cell{});
    appendKernelCells(row, c, options);
    appendTerminationCells(row, c, options.sessionEndNs);
    return row;
}

} // namespace

QStringList connectionExportColumns()
{
    return {QStringLiteral("id"), QStringLiteral("pid"), QStringLiteral("comm"),
            QStringLiteral("family"), QStringLiteral("local_addr"), QStringLiteral("local_port"),
            QStringLiteral("remote_addr"), QStringLiteral("remote_port"),
            QStringLiteral("start_ns"), QStringLiteral("end_ns"), QStringLiteral("duration_ms"),
            QStringLiteral("handshake_ms"), QStringLiteral("bytes_sent"),
            QStringLiteral("bytes_received"), QStringLiteral("retransmits"),
            QStringLiteral("close_reason"), QStringLiteral("states"), QStringLiteral("role"),
            QStringLiteral("srtt_us"), QStringLiteral("min_rtt_us"), QStringLiteral("segs_in"),
            QStringLiteral("segs_out"), QStringLiteral("sk_err"), QStringLiteral("state"),
            // Packet analysis; empty/null when no packet of the connection was seen.
            QStringLiteral("packets_in"), QStringLiteral("packets_out"),
            QStringLiteral("payload_bytes_in"), QStringLiteral("payload_bytes_out"),
            QStringLiteral("retransmissions_seen"), QStringLiteral("fast_retransmissions"),
            QStringLiteral("spurious_retransmissions"), QStringLiteral("dup_acks"),
            QStringLiteral("out_of_order"), QStringLiteral("lost_segments"),
            QStringLiteral("zero_windows"), QStringLiteral("zero_window_probes"),
            QStringLiteral("window_full"), QStringLiteral("window_updates"),
            QStringLiteral("keep_alives"), QStringLiteral("resets_seen"), QStringLiteral("irtt_ms"),
            // The kernel's view; empty/null when kernel metrics were not captured.
            QStringLiteral("srtt_us_min"), QStringLiteral("srtt_us_max"),
            QStringLiteral("cwnd_max"), QStringLiteral("resets_sent"),
            QStringLiteral("resets_received"), QStringLiteral("drops"),
            QStringLiteral("kernel_samples"), QStringLiteral("kernel_retransmits"),
            QStringLiteral("syn_retransmits"), QStringLiteral("synack_retransmits"),
            QStringLiteral("listen_drops"), QStringLiteral("backlog_max"),
            // Termination stage, from the state history.
            QStringLiteral("closed_first"), QStringLiteral("reset_by"),
            QStringLiteral("half_closed_ms"), QStringLiteral("fin_wait2_ms"),
            QStringLiteral("time_wait_ms"), QStringLiteral("time_wait_inferred")};
}

ConnectionExportWriter::ConnectionExportWriter(QIODevice &out, ExportFormat format,
                                               const ConnectionExportOptions &options)
    : m_table(out, format, connectionExportColumns()), m_options(options)
{
}

bool ConnectionExportWriter::begin()
{
    return m_table.begin();
}

bool ConnectionExportWriter::write(const Connection &connection)
{
    return m_table.row(cells(connection, m_options));
}

bool ConnectionExportWriter::finish()
{
    return m_table.finish();
}

namespace {

bool writeConnections(const QVector<Connection> &connections, QIODevice &out, ExportFormat format,
                      QString *error, const ConnectionExportOptions &given)
{
    ConnectionExportOptions options = given;
    if (options.sessionEndNs <= 0)
        options.sessionEndNs = lastKnownNs(connections);
    ConnectionExportWriter writer(out, format, options);
    bool ok = writer.begin();
    for (qsizetype i = 0; ok && i < connections.size(); ++i)
        ok = writer.write(connections[i]);
    ok = ok && writer.finish();
    if (!ok && error)
        *error = writer.error();
    return ok;
}

} // namespace

bool writeConnectionsCsv(const QVector<Connection> &connections, QIODevice &out, QString *error,
                         const ConnectionExportOptions &options)
{
    return writeConnections(connections, out, ExportFormat::Csv, error, options);
}

bool writeConnectionsJson(const QVector<Connection> &connections, QIODevice &out, QString *error,
                          const ConnectionExportOptions &options)
{
    return writeConnections(connections, out, ExportFormat::Json, error, options);
}

bool exportConnections(const QVector<Connection> &connections, const QString &path, QString *error,
                       const ConnectionExportOptions &options)
{
    ExportFormat format;
    if (!exportFormatForPath(path, &format)) {
        if (error)
            *error = QStringLiteral("%1: unknown format (use .csv or .json)").arg(path);
        return false;
    }
    return writeOutputFile(
        path,
        [&](QIODevice &out, QString *err) {
            return writeConnections(connections, out, format, err, options);
        },
        error);
}

} // namespace tcpscope
