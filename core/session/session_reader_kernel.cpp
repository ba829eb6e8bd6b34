// SPDX-License-Identifier: GPL-3.0-or-later
// SessionReader, version 3 tables: the kernel's view (tcp_samples, kernel_events, drops,
// listener_samples). Every field is checked;
// a row that does not fit is a one-line error naming the table, the row (rowid) and the field.
#include "model/address.h"
#include "session/session_reader_impl.h"
#include "session/session_schema.h"

#include <QSet>

#include <limits>

namespace tcpscope::detail {

namespace {

constexpr qint64 kI64Max = std::numeric_limits<qint64>::max();
constexpr int kMaxReasonName = 64; // ts_reason_name.name

// Checks one row's columns; the first bad field is remembered for the error message.
struct RowCheck
{
    sqlite3_stmt *s;
    const char *badField = nullptr;

    qint64 ranged(int col, qint64 lo, qint64 hi, const char *field)
    {
        const qint64 v = sqlite3_column_int64(s, col);
        if (!badField && (sqlite3_column_type(s, col) != SQLITE_INTEGER || v < lo || v > hi))
            badField = field;
        return v;
    }
    quint32 u32(int col, const char *field) { return quint32(ranged(col, 0, UINT32_MAX, field)); }
    // u64 kernel values are stored bit-for-bit: any integer is valid.
    quint64 u64(int col, const char *field)
    {
        return static_cast<quint64>(
            ranged(col, std::numeric_limits<qint64>::min(), kI64Max, field));
    }
    bool isNull(int col) const { return sqlite3_column_type(s, col) == SQLITE_NULL; }
};

bool validAddress(int family, const QString &text)
{
    if (text.isEmpty())
        return true; // the kernel side could not tell
    quint8 buf[16];
    return parseAddress(family, text, buf);
}

} // namespace

sqlite::Stmt Reader::prepareKernelQuery(const char *table, const char *what, const char *columns,
                                        const ReadOptions &options)
{
    QByteArray where;
    if (options.connectionId != 0)
        where = " WHERE connection_id = " + QByteArray::number(options.connectionId);
    qint64 count = 0;
    QString err;
    const QByteArray countSql = QByteArray("SELECT count(*) FROM ") + table + where;
    if (!sqlite::queryInt(db, countSql.constData(), &count, &err)) {
        fail(QStringLiteral("corrupt session: ") + err);
        return {};
    }
    if (count > kMaxKernelRows) {
        fail(QStringLiteral("session has %1 %2, more than this tcpscope reads (%3); read one "
                            "connection's instead")
                 .arg(count)
                 .arg(QLatin1String(what))
                 .arg(kMaxKernelRows));
        return {};
    }
    // rowid names the row in errors; time order as the model promises (ties: insertion order).
    const QByteArray sql = QByteArray("SELECT rowid, ") + columns + " FROM " + table + where +
                           " ORDER BY ts_ns, rowid LIMIT ?1";
    sqlite::Stmt stmt = sqlite::prepare(db, sql.constData(), &err);
    if (!stmt) {
        fail(QStringLiteral("corrupt session: ") + err);
        return {};
    }
    sqlite3_bind_int64(stmt.get(), 1, kMaxKernelRows);
    kernelRowsExpected = count;
    return stmt;
}

bool Reader::badRow(const char *what, qint64 rowid, const char *field)
{
    return fail(QStringLiteral("corrupt session: %1 %2 has an invalid %3")
                    .arg(QLatin1String(what))
                    .arg(rowid)
                    .arg(QLatin1String(field)));
}

bool Reader::kernelConnection(sqlite3_stmt *s, int col, qint64 *out)
{
    if (sqlite3_column_type(s, col) == SQLITE_NULL) {
        *out = 0;
        return true;
    }
    *out = sqlite3_column_int64(s, col);
    return sqlite3_column_type(s, col) == SQLITE_INTEGER && knownIds.contains(*out);
}

bool Reader::readKernel(const QVector<Connection> &conns, const ReadOptions &options,
                        KernelData *out)
{
    knownIds.clear();
    knownIds.reserve(conns.size());
    for (const Connection &c : conns)
        knownIds.insert(c.id);
    return (!options.kernelSamples || readSamples(options, &out->samples)) &&
           readEvents(options, &out->events) && readDrops(options, &out->drops) &&
           readListeners(options, &out->listeners);
}

bool Reader::readSamples(const ReadOptions &options, QVector<TcpSample> *out)
{
    sqlite::Stmt stmt = prepareKernelQuery(
        "tcp_samples", "tcp samples",
        "connection_id, ts_ns, fields, srtt_us, rttvar_us, min_rtt_us, cwnd, ssthresh, snd_wnd,"
        " rcv_wnd, packets_out, retrans_out, lost_out, sacked_out, in_flight, mss, total_retrans,"
        " bytes_acked, bytes_received, delivery_rate, ca_state",
        options);
    if (!stmt)
        return false;
    out->reserve(kernelRowsExpected);
    sqlite3_stmt *s = stmt.get();
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const qint64 rowid = sqlite3_column_int64(s, 0);
        TcpSample t;
        if (!kernelConnection(s, 1, &t.connectionId))
            return badRow("tcp sample", rowid, "connection_id (no such connection)");
        RowCheck r{s};
        t.timeNs = r.ranged(2, 0, kI64Max, "ts_ns");
        t.fields = quint16(r.ranged(3, 0, 0xffff, "fields"));
        t.srttUs = r.u32(4, "srtt_us");
        t.rttvarUs = r.u32(5, "rttvar_us");
        t.minRttUs = r.u32(6, "min_rtt_us");
        t.cwnd = r.u32(7, "cwnd");
        t.ssthresh = r.u32(8, "ssthresh");
        t.sndWnd = r.u32(9, "snd_wnd");
        t.rcvWnd = r.u32(10, "rcv_wnd");
        t.packetsOut = r.u32(11, "packets_out");
        t.retransOut = r.u32(12, "retrans_out");
        t.lostOut = r.u32(13, "lost_out");
        t.sackedOut = r.u32(14, "sacked_out");
        t.inFlight = r.u32(15, "in_flight");
        t.mss = quint32(r.ranged(16, 0, 65535, "mss"));
        t.totalRetrans = r.u32(17, "total_retrans");
        t.bytesAcked = r.u64(18, "bytes_acked");
        t.bytesReceived = r.u64(19, "bytes_received");
        t.deliveryRate = r.u64(20, "delivery_rate");
        if (r.badField)
            return badRow("tcp sample", rowid, r.badField);
        QString ca;
        if (!text(s, 21, kMaxShortText, "ca_state", &ca))
            return false;
        const auto caState = schema::caStateFromName(ca);
        if (!caState)
            return badRow("tcp sample", rowid, "ca_state");
        t.caState = *caState;
        out->append(t);
    }
    if (rc != SQLITE_DONE)
        return fail(QStringLiteral("corrupt session: ") + sqlite::lastError(db));
    return true;
}

bool Reader::readEvents(const ReadOptions &options, QVector<KernelEvent> *out)
{
    sqlite::Stmt stmt =
        prepareKernelQuery("kernel_events", "kernel events",
                           "connection_id, ts_ns, kind, state, seq, segs, err, tcp_flags, reason,"
                           " reason_name, old_ca_state, new_ca_state, srtt_us, cwnd",
                           options);
    if (!stmt)
        return false;
    out->reserve(kernelRowsExpected);
    sqlite3_stmt *s = stmt.get();
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const qint64 rowid = sqlite3_column_int64(s, 0);
        KernelEvent e;
        if (!kernelConnection(s, 1, &e.connectionId))
            return badRow("kernel event", rowid, "connection_id (no such connection)");
        RowCheck r{s};
        e.timeNs = r.ranged(2, 0, kI64Max, "ts_ns");
        e.seq = r.u32(5, "seq");
        e.segs = quint16(r.ranged(6, 0, 65535, "segs"));
        e.err = qint32(r.ranged(7, std::numeric_limits<qint32>::min(),
                                std::numeric_limits<qint32>::max(), "err"));
        e.tcpFlags = quint8(r.ranged(8, 0, 255, "tcp_flags"));
        // NULL = the kernel gave no reason (TS_REASON_NONE in the record).
        e.reason = r.isNull(9) ? 0xffffffffu : r.u32(9, "reason");
        e.srttUs = r.u32(13, "srtt_us");
        e.cwnd = r.u32(14, "cwnd");
        if (r.badField)
            return badRow("kernel event", rowid, r.badField);
        QString kind, state;
        if (!text(s, 3, kMaxShortText, "kernel event kind", &kind) ||
            !text(s, 4, kMaxShortText, "kernel event state", &state) ||
            !text(s, 10, kMaxReasonName, "kernel event reason_name", &e.reasonName))
            return false;
        if (!kernelEventKindFromName(kind, &e.kind))
            return badRow("kernel event", rowid, "kind");
        const auto st = schema::sockStateFromName(state);
        if (!st)
            return badRow("kernel event", rowid, "state");
        e.state = *st;
        if (e.kind == KernelEventKind::CongestionState) {
            QString oldCa, newCa;
            if (r.isNull(11) || r.isNull(12))
                return badRow("kernel event", rowid, "old_ca_state/new_ca_state (missing)");
            if (!text(s, 11, kMaxShortText, "old_ca_state", &oldCa) ||
                !text(s, 12, kMaxShortText, "new_ca_state", &newCa))
                return false;
            const auto o = schema::caStateFromName(oldCa), n = schema::caStateFromName(newCa);
            if (!o || !n)
                return badRow("kernel event", rowid, "old_ca_state/new_ca_state");
            e.oldCaState = *o;
            e.newCaState = *n;
        } else if (!r.isNull(11) || !r.isNull(12)) {
            return badRow("kernel event", rowid, "old_ca_state/new_ca_state (not cong-state)");
        }
        out->append(e);
    }
    if (rc != SQLITE_DONE)
        return fail(QStringLiteral("corrupt session: ") + sqlite::lastError(db));
    return true;
}

bool Reader::readDrops(const ReadOptions &options, QVector<DropEvent> *out)
{
    sqlite::Stmt stmt = prepareKernelQuery(
        "drops", "drops",
        "connection_id, ts_ns, reason, reason_name, location, ifindex, family, src_addr,"
        " src_port, dst_addr, dst_port, tcp_flags, sock_state, seq, ack, payload_len",
        options);
    if (!stmt)
        return false;
    out->reserve(kernelRowsExpected);
    sqlite3_stmt *s = stmt.get();
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const qint64 rowid = sqlite3_column_int64(s, 0);
        DropEvent d;
        if (!kernelConnection(s, 1, &d.connectionId))
            return badRow("drop", rowid, "connection_id (no such connection)");
        RowCheck r{s};
        d.timeNs = r.ranged(2, 0, kI64Max, "ts_ns");
        d.reason = r.u32(3, "reason");
        d.location = r.u64(5, "location");
        d.ifindex = r.u32(6, "ifindex");
        d.family = int(r.ranged(7, 4, 6, "family"));
        d.srcPort = quint16(r.ranged(9, 0, 65535, "src_port"));
        d.dstPort = quint16(r.ranged(11, 0, 65535, "dst_port"));
        d.tcpFlags = quint8(r.ranged(12, 0, 255, "tcp_flags"));
        d.seq = r.u32(14, "seq");
        d.ack = r.u32(15, "ack");
        d.payloadLen = r.u32(16, "payload_len");
        if (!r.badField && d.family == 5)
            r.badField = "family";
        if (r.badField)
            return badRow("drop", rowid, r.badField);
        QString state;
        if (!text(s, 4, kMaxReasonName, "drop reason_name", &d.reasonName) ||
            !text(s, 8, kMaxShortText, "drop src_addr", &d.srcAddr) ||
            !text(s, 10, kMaxShortText, "drop dst_addr", &d.dstAddr) ||
            !text(s, 13, kMaxShortText, "drop sock_state", &state))
            return false;
        if (!validAddress(d.family, d.srcAddr))
            return badRow("drop", rowid, "src_addr");
        if (!validAddress(d.family, d.dstAddr))
            return badRow("drop", rowid, "dst_addr");
        const auto st = schema::sockStateFromName(state);
        if (!st)
            return badRow("drop", rowid, "sock_state");
        d.sockState = *st;
        out->append(d);
    }
    if (rc != SQLITE_DONE)
        return fail(QStringLiteral("corrupt session: ") + sqlite::lastError(db));
    return true;
}

bool Reader::readListeners(const ReadOptions &options, QVector<ListenerSample> *out)
{
    sqlite::Stmt stmt = prepareKernelQuery(
        "listener_samples", "listener samples",
        "connection_id, ts_ns, sock_id, family, addr, port, backlog, max_backlog, drops", options);
    if (!stmt)
        return false;
    out->reserve(kernelRowsExpected);
    sqlite3_stmt *s = stmt.get();
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const qint64 rowid = sqlite3_column_int64(s, 0);
        ListenerSample l;
        if (!kernelConnection(s, 1, &l.connectionId))
            return badRow("listener sample", rowid, "connection_id (no such connection)");
        RowCheck r{s};
        l.timeNs = r.ranged(2, 0, kI64Max, "ts_ns");
        l.sockId = r.u64(3, "sock_id");
        l.family = int(r.ranged(4, 4, 6, "family"));
        l.port = quint16(r.ranged(6, 0, 65535, "port"));
        l.backlog = r.u32(7, "backlog");
        l.maxBacklog = r.u32(8, "max_backlog");
        l.drops = quint64(r.ranged(9, 0, kI64Max, "drops")); // sk_drops: never negative
        if (!r.badField && l.family == 5)
            r.badField = "family";
        if (r.badField)
            return badRow("listener sample", rowid, r.badField);
        if (!text(s, 5, kMaxShortText, "listener addr", &l.addr))
            return false;
        if (!validAddress(l.family, l.addr))
            return badRow("listener sample", rowid, "addr");
        out->append(l);
    }
    if (rc != SQLITE_DONE)
        return fail(QStringLiteral("corrupt session: ") + sqlite::lastError(db));
    return true;
}

} // namespace tcpscope::detail
