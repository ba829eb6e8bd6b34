// SPDX-License-Identifier: GPL-3.0-or-later
#include "export/connection_export.h"

#include "analysis/termination.h"
#include "model/connection_columns.h"

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
};

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
    };
    return columns;
}

QVector<Cell> cells(const Connection &c, const ConnectionExportOptions &options)
{
    const Row row{c, options, terminationOf(c, options.sessionEndNs)};
    QVector<Cell> out;
    out.reserve(exportColumns().size());
    for (const ExportColumn &col : exportColumns())
        out << col.cell(row);
    return out;
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
    QStringList names;
    for (const ExportColumn &col : exportColumns())
        names << QLatin1String(col.name);
    return names;
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
