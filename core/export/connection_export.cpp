// SPDX-License-Identifier: GPL-3.0-or-later
#include "export/connection_export.h"
#include "output_file.h"

#include "analysis/termination.h"
#include "model/connection_columns.h"

#include <algorithm>

namespace tcpscope {

namespace {

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

// What one row's cells are computed from.
struct Row
{
    const Connection &c;
    const ConnectionExportOptions &options;
    TerminationInfo termination;
    const QStringList *notes = nullptr;        // the connection's annotation lines, null = none
    const CgroupAttribution *cgroup = nullptr; // read from the connection's cgroup path
};

Cell textOrNull(const QString &s)
{
    return s.isEmpty() ? Cell{} : Cell{Cell::Text, s.toUtf8()};
}

Cell cgroupPath(const Row &r)
{
    return r.options.owners ? textOrNull(r.options.owners->cgroupPaths.value(r.c.cgroupId))
                            : Cell{};
}

// When a stored value is exported; otherwise the cell is unknown (empty / null).
using Known = bool (*)(const Row &row);

bool always(const Row &)
{
    return true;
}
// Close statistics come from the kernel when the socket closed.
bool closeStats(const Row &r)
{
    return r.c.haveCloseStats;
}
// No packet of the connection seen (none captured, --no-packets, old file): unknown, not 0.
bool packetsSeen(const Row &r)
{
    return r.c.packets.packetsIn + r.c.packets.packetsOut > 0;
}
// The kernel's view: unknown when not captured.
bool kernelMetrics(const Row &r)
{
    return r.options.kernelMetrics;
}
// Accept queue figures exist for listeners only.
bool listenerMetrics(const Row &r)
{
    return r.options.kernelMetrics && r.c.role == ConnectionRole::Listener;
}

Cell msOrNull(qint64 ns)
{
    return ns >= 0 ? ms(double(ns) / 1e6) : Cell{};
}

// One export column: either a stored `connections` column (its value as stored, NULL as
// unknown, shown only when `known`), or a value derived from the connection.
struct ExportColumn
{
    const char *name;
    const ConnectionColumn *stored = nullptr;
    Known known = always;
    bool nsAsMs = false; // a stored ns value exported in ms (3 decimals)
    Cell (*derive)(const Row &row) = nullptr;

    Cell cell(const Row &row) const
    {
        if (derive)
            return derive(row);
        if (!known(row))
            return {};
        const ColumnValue v = stored->value(row.c);
        if (v.kind == ColumnValue::Text)
            return text(v.text);
        if (v.kind != ColumnValue::Integer)
            return {};
        if (nsAsMs)
            return msOrNull(v.integer);
        return stored->storage == ConnectionColumn::U64 ? unum(quint64(v.integer)) : num(v.integer);
    }
};

ExportColumn plain(const char *name, Known known = always)
{
    return {name, &connectionColumn(name), known};
}

// A stored ns column under its ms name.
ExportColumn inMs(const char *name, const char *storedName)
{
    return {name, &connectionColumn(storedName), always, true};
}

ExportColumn derived(const char *name, Cell (*derive)(const Row &row))
{
    return {name, nullptr, always, false, derive};
}

// The export's columns in output order. The first 17 are the documented stable set; later
// versions only append.
const QVector<ExportColumn> &exportColumns()
{
    static const QVector<ExportColumn> columns = {
        plain("id"),
        plain("pid"),
        plain("comm"),
        plain("family"),
        plain("local_addr"),
        plain("local_port"),
        plain("remote_addr"),
        plain("remote_port"),
        plain("start_ns"),
        plain("end_ns"),
        derived("duration_ms",
                [](const Row &r) { return r.c.isOpen() ? Cell{} : ms(r.c.durationMs()); }),
        inMs("handshake_ms", "handshake_ns"),
        plain("bytes_sent", closeStats),
        plain("bytes_received", closeStats),
        plain("retransmits", closeStats),
        plain("close_reason"),
        plain("states"),
        plain("role"),
        plain("srtt_us", closeStats),
        plain("min_rtt_us", closeStats),
        plain("segs_in", closeStats),
        plain("segs_out", closeStats),
        plain("sk_err", closeStats),
        plain("state"),
        // Packet analysis.
        plain("packets_in", packetsSeen),
        plain("packets_out", packetsSeen),
        plain("payload_bytes_in", packetsSeen),
        plain("payload_bytes_out", packetsSeen),
        plain("retransmissions_seen", packetsSeen),
        plain("fast_retransmissions", packetsSeen),
        plain("spurious_retransmissions", packetsSeen),
        plain("dup_acks", packetsSeen),
        plain("out_of_order", packetsSeen),
        plain("lost_segments", packetsSeen),
        plain("zero_windows", packetsSeen),
        plain("zero_window_probes", packetsSeen),
        plain("window_full", packetsSeen),
        plain("window_updates", packetsSeen),
        plain("keep_alives", packetsSeen),
        plain("resets_seen", packetsSeen),
        inMs("irtt_ms", "irtt_ns"),
        // The kernel's view; RTT/cwnd extremes are unknown without a sample that had them.
        plain("srtt_us_min", kernelMetrics),
        plain("srtt_us_max", kernelMetrics),
        plain("cwnd_max", kernelMetrics),
        plain("resets_sent", kernelMetrics),
        plain("resets_received", kernelMetrics),
        plain("drops", kernelMetrics),
        plain("kernel_samples", kernelMetrics),
        plain("kernel_retransmits", kernelMetrics),
        plain("syn_retransmits", kernelMetrics),
        plain("synack_retransmits", kernelMetrics),
        plain("listen_drops", listenerMetrics),
        plain("backlog_max", listenerMetrics),
        // Termination stage: who closed first, RST by whom, time half-closed, in FIN_WAIT2 and
        // in TIME_WAIT (inferred from the hand-off to the timewait socket where the kernel
        // reports no TIME_WAIT state; bounded by the session end while still running).
        derived("closed_first",
                [](const Row &r) {
                    const Closer closer = r.termination.firstCloser;
                    return closer == Closer::Unknown ? Cell{} : text(closerName(closer));
                }),
        derived("reset_by",
                [](const Row &r) {
                    if (!r.termination.reset)
                        return Cell{};
                    return text(r.termination.resetByPeer ? QStringLiteral("peer")
                                                          : QStringLiteral("local"));
                }),
        derived("half_closed_ms",
                [](const Row &r) { return msOrNull(r.termination.halfClosedNs); }),
        derived("fin_wait2_ms", [](const Row &r) { return msOrNull(r.termination.finWait2Ns); }),
        derived("time_wait_ms", [](const Row &r) { return msOrNull(r.termination.timeWaitNs); }),
        derived("time_wait_inferred",
                [](const Row &r) {
                    const TerminationInfo &t = r.termination;
                    return t.timeWaitNs >= 0 ? num(t.timeWaitInferred ? 1 : 0) : Cell{};
                }),
        // The user's notes on the connection or its packets, one per line: "TEXT (AUTHOR)",
        // "packet N: TEXT (AUTHOR)".
        derived(
            "annotations",
            [](const Row &r) { return r.notes ? text(r.notes->join(QLatin1Char('\n'))) : Cell{}; }),
        // Where the socket lives: the host, and its owner beyond the process (the cgroup path
        // and what it names, the network namespace) as the capture named them.
        derived("host",
                [](const Row &r) {
                    return textOrNull(r.options.hostNames.isEmpty()
                                          ? r.options.host
                                          : r.options.hostNames.value(r.c.hostId));
                }),
        derived("cgroup_path", cgroupPath),
        derived("container_id",
                [](const Row &r) { return r.cgroup ? textOrNull(r.cgroup->containerId) : Cell{}; }),
        derived("pod_uid",
                [](const Row &r) { return r.cgroup ? textOrNull(r.cgroup->podUid) : Cell{}; }),
        derived("systemd_unit",
                [](const Row &r) { return r.cgroup ? textOrNull(r.cgroup->systemdUnit) : Cell{}; }),
        derived("netns",
                [](const Row &r) {
                    if (r.c.netnsIno == 0)
                        return Cell{};
                    const QString name = r.options.owners
                                             ? r.options.owners->netnsNames.value(r.c.netnsIno)
                                             : QString();
                    return name.isEmpty() ? text(QString::number(r.c.netnsIno)) : text(name);
                }),
        // The other end of the connection (another local socket, or a socket on another host
        // of a merged session), by the pairing rule of analysis/peers.h.
        derived("peer",
                [](const Row &r) {
                    if (!r.options.peers)
                        return Cell{};
                    const auto it = r.options.peers->constFind(r.c.id);
                    return it == r.options.peers->cend() ? Cell{} : num(*it);
                }),
    };
    return columns;
}

QVector<Cell> cells(const Connection &c, const ConnectionExportOptions &options,
                    const QHash<qint64, QStringList> &notes,
                    const QHash<quint64, CgroupAttribution> &attributions)
{
    const auto it = notes.constFind(c.id);
    const auto cg = attributions.constFind(c.cgroupId);
    const Row row{c, options, terminationOf(c, options.sessionEndNs),
                  it == notes.cend() ? nullptr : &*it, cg == attributions.cend() ? nullptr : &*cg};
    QVector<Cell> out;
    out.reserve(exportColumns().size());
    for (const ExportColumn &col : exportColumns())
        out << col.cell(row);
    return out;
}

} // namespace

QStringList connectionExportColumns()
{
    QStringList names;
    for (const ExportColumn &col : exportColumns())
        names << QLatin1String(col.name);
    return names;
}

ConnectionExportWriter::ConnectionExportWriter(QIODevice &out, ExportFormat format,
                                               const ConnectionExportOptions &options)
    : m_table(out, format, connectionExportColumns(), options.text), m_options(options)
{
    if (options.owners)
        m_attributions = attributeCgroups(*options.owners);
    if (options.annotations)
        for (const Annotation &a : *options.annotations) {
            if (a.connectionId <= 0)
                continue;
            QString line =
                a.packetId > 0 ? QStringLiteral("packet %1: ").arg(a.packetId) : QString();
            line += QString(a.text).replace(QLatin1Char('\n'), QLatin1Char(' '));
            if (!a.author.isEmpty())
                line += QStringLiteral(" (%1)").arg(a.author);
            m_notes[a.connectionId] << line;
        }
}

bool ConnectionExportWriter::begin()
{
    return m_table.begin();
}

bool ConnectionExportWriter::write(const Connection &connection)
{
    return m_table.row(cells(connection, m_options, m_notes, m_attributions));
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
        path, OutputUse::Stream,
        [&](QIODevice &out, QString *err) {
            return writeConnections(connections, out, format, err, options);
        },
        error);
}

} // namespace tcpscope
