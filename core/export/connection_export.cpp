// SPDX-License-Identifier: GPL-3.0-or-later
#include "export/connection_export.h"

#include "analysis/termination.h"

#include <QFile>
#include <QSaveFile>

#include <algorithm>

#include <cstdio>

namespace tcpscope {

namespace {

// One value per column; text is marked so CSV/JSON can quote it, null for "unknown".
struct Cell
{
    enum Kind
    {
        Null,
        Number,
        Text
    } kind = Null;
    QByteArray value;
};

Cell num(qint64 v)
{
    return {Cell::Number, QByteArray::number(v)};
}
Cell unum(quint64 v)
{
    return {Cell::Number, QByteArray::number(v)};
}
Cell text(const QString &s)
{
    return {Cell::Text, s.toUtf8()};
}
Cell ms(double v)
{
    return {Cell::Number, QByteArray::number(v, 'f', 3)};
}

// The kernel's view (issue 4): unknown when not captured; RTT/cwnd extremes unknown without a
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

// Termination stage (issue 4): who closed first, RST by whom, time half-closed, in FIN_WAIT2 and
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

QByteArray csvField(const Cell &cell)
{
    if (cell.kind != Cell::Text)
        return cell.value;
    // RFC 4180: quote fields with separators, quotes or line breaks; double inner quotes.
    const QByteArray &v = cell.value;
    if (!v.contains(',') && !v.contains('"') && !v.contains('\n') && !v.contains('\r'))
        return v;
    QByteArray quoted = v;
    quoted.replace('"', "\"\"");
    return '"' + quoted + '"';
}

QByteArray jsonString(const QByteArray &utf8)
{
    QByteArray out;
    out.reserve(utf8.size() + 2);
    out += '"';
    for (char ch : utf8) {
        const auto u = static_cast<unsigned char>(ch);
        switch (ch) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        default:
            if (u < 0x20) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", u);
                out += buf;
            } else {
                out += ch; // UTF-8 passes through: JSON text is UTF-8
            }
        }
    }
    out += '"';
    return out;
}

bool writeAll(QIODevice &out, const QByteArray &data, QString *error)
{
    if (out.write(data) == data.size())
        return true;
    if (error)
        *error = out.errorString();
    return false;
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
            // Packet analysis (issue 3); empty/null when no packet of the connection was seen.
            QStringLiteral("packets_in"), QStringLiteral("packets_out"),
            QStringLiteral("payload_bytes_in"), QStringLiteral("payload_bytes_out"),
            QStringLiteral("retransmissions_seen"), QStringLiteral("fast_retransmissions"),
            QStringLiteral("spurious_retransmissions"), QStringLiteral("dup_acks"),
            QStringLiteral("out_of_order"), QStringLiteral("lost_segments"),
            QStringLiteral("zero_windows"), QStringLiteral("zero_window_probes"),
            QStringLiteral("window_full"), QStringLiteral("window_updates"),
            QStringLiteral("keep_alives"), QStringLiteral("resets_seen"), QStringLiteral("irtt_ms"),
            // The kernel's view (issue 4); empty/null when kernel metrics were not captured.
            QStringLiteral("srtt_us_min"), QStringLiteral("srtt_us_max"),
            QStringLiteral("cwnd_max"), QStringLiteral("resets_sent"),
            QStringLiteral("resets_received"), QStringLiteral("drops"),
            QStringLiteral("kernel_samples"), QStringLiteral("kernel_retransmits"),
            QStringLiteral("syn_retransmits"), QStringLiteral("synack_retransmits"),
            QStringLiteral("listen_drops"), QStringLiteral("backlog_max"),
            // Termination stage (issue 4), from the state history.
            QStringLiteral("closed_first"), QStringLiteral("reset_by"),
            QStringLiteral("half_closed_ms"), QStringLiteral("fin_wait2_ms"),
            QStringLiteral("time_wait_ms"), QStringLiteral("time_wait_inferred")};
}

bool writeConnectionsCsv(const QVector<Connection> &connections, QIODevice &out, QString *error,
                         const ConnectionExportOptions &given)
{
    ConnectionExportOptions options = given;
    if (options.sessionEndNs <= 0)
        options.sessionEndNs = lastKnownNs(connections);
    if (!writeAll(out, connectionExportColumns().join(QLatin1Char(',')).toUtf8() + "\r\n", error))
        return false;
    QByteArray chunk;
    for (const Connection &c : connections) {
        const QVector<Cell> row = cells(c, options);
        for (qsizetype i = 0; i < row.size(); ++i) {
            if (i)
                chunk += ',';
            chunk += csvField(row[i]);
        }
        chunk += "\r\n";
        if (chunk.size() > 64 * 1024) {
            if (!writeAll(out, chunk, error))
                return false;
            chunk.clear();
        }
    }
    return writeAll(out, chunk, error);
}

bool writeConnectionsJson(const QVector<Connection> &connections, QIODevice &out, QString *error,
                          const ConnectionExportOptions &given)
{
    ConnectionExportOptions options = given;
    if (options.sessionEndNs <= 0)
        options.sessionEndNs = lastKnownNs(connections);
    // Written by hand so 64-bit integers (ns timestamps, byte counts) stay exact.
    QVector<QByteArray> keys;
    for (const QString &name : connectionExportColumns())
        keys.append(jsonString(name.toUtf8()));
    QByteArray chunk = "[";
    for (qsizetype n = 0; n < connections.size(); ++n) {
        const QVector<Cell> row = cells(connections[n], options);
        chunk += n ? ",\n  {" : "\n  {";
        for (qsizetype i = 0; i < row.size(); ++i) {
            if (i)
                chunk += ", ";
            chunk += keys[i] + ": ";
            switch (row[i].kind) {
            case Cell::Null:
                chunk += "null";
                break;
            case Cell::Number:
                chunk += row[i].value;
                break;
            case Cell::Text:
                chunk += jsonString(row[i].value);
                break;
            }
        }
        chunk += '}';
        if (chunk.size() > 64 * 1024) {
            if (!writeAll(out, chunk, error))
                return false;
            chunk.clear();
        }
    }
    chunk += connections.isEmpty() ? "]\n" : "\n]\n";
    return writeAll(out, chunk, error);
}

bool exportFormatForPath(const QString &path, ExportFormat *format)
{
    if (path == QLatin1String("-") || path.endsWith(QLatin1String(".csv"), Qt::CaseInsensitive))
        *format = ExportFormat::Csv;
    else if (path.endsWith(QLatin1String(".json"), Qt::CaseInsensitive))
        *format = ExportFormat::Json;
    else
        return false;
    return true;
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
    QString err;
    if (path == QLatin1String("-")) {
        QFile out;
        if (!out.open(stdout, QIODevice::WriteOnly)) {
            if (error)
                *error = QStringLiteral("stdout: ") + out.errorString();
            return false;
        }
        const bool ok = writeConnectionsCsv(connections, out, &err, options);
        out.flush();
        if (!ok && error)
            *error = QStringLiteral("stdout: ") + err;
        return ok;
    }
    QSaveFile out(path);
    if (!out.open(QIODevice::WriteOnly)) {
        if (error)
            *error = QStringLiteral("%1: %2").arg(path, out.errorString());
        return false;
    }
    const bool ok = format == ExportFormat::Csv
                        ? writeConnectionsCsv(connections, out, &err, options)
                        : writeConnectionsJson(connections, out, &err, options);
    if (!ok || !out.commit()) {
        if (error)
            *error = QStringLiteral("%1: %2").arg(path, ok ? out.errorString() : err);
        return false;
    }
    return true;
}

} // namespace tcpscope
