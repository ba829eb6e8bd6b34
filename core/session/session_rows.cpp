// SPDX-License-Identifier: GPL-3.0-or-later
#include "session/session_rows.h"

#include "model/address.h"
#include "model/connection_columns.h"
#include "session/session_schema.h"

#include <limits>

extern "C" {
#include "tcpscope_records.h"
}

namespace tcpscope::rows {

namespace {
constexpr qint64 kI64Max = std::numeric_limits<qint64>::max();
constexpr qint64 kI64Min = std::numeric_limits<qint64>::min();
} // namespace

qint64 Cells::ranged(int col, qint64 lo, qint64 hi, qint64 sentinel)
{
    const qint64 v = sqlite3_column_int64(s, col);
    if (sqlite3_column_type(s, col) != SQLITE_INTEGER || v < lo || v > hi) {
        count();
        return sentinel;
    }
    return v;
}

quint64 Cells::u64(int col)
{
    return static_cast<quint64>(ranged(col, kI64Min, kI64Max, 0));
}

qint64 Cells::optional(int col, qint64 lo, qint64 hi)
{
    return isNull(col) ? -1 : ranged(col, lo, hi, -1);
}

QString Cells::text(int col, int maxChars)
{
    const int bytes = sqlite3_column_bytes(s, col);
    if (sqlite3_column_type(s, col) != SQLITE_TEXT || bytes > maxChars * 4) {
        count();
        return {};
    }
    return QString::fromUtf8(reinterpret_cast<const char *>(sqlite3_column_text(s, col)), bytes);
}

QByteArray Cells::blob(int col, int maxBytes)
{
    const int bytes = sqlite3_column_bytes(s, col);
    if (sqlite3_column_type(s, col) != SQLITE_BLOB || bytes > maxBytes) {
        if (!(sqlite3_column_type(s, col) == SQLITE_BLOB && bytes == 0))
            count();
        return {};
    }
    return QByteArray(static_cast<const char *>(sqlite3_column_blob(s, col)), bytes);
}

IpAddress Cells::address(int col, qint64 family)
{
    const QString text = this->text(col, kMaxShortText);
    AddressFamily f = AddressFamily::None;
    if (!familyFromNumber(family, &f) || f == AddressFamily::None) {
        if (!text.isEmpty())
            count();
        return IpAddress();
    }
    const IpAddress addr = IpAddress::parse(f, text);
    if (addr.isNull() && !text.isEmpty())
        count();
    return addr;
}

// The columns Session reads (all but those derived on reading, like `states`), in order.
QVector<const ConnectionColumn *> readColumns(const ConnectionFields &fields)
{
    auto pick = [](const ConnectionFields &f) {
        QVector<const ConnectionColumn *> out;
        for (const ConnectionColumn &col : tcpscope::connectionColumns())
            if (col.read() && f.has(col))
                out << &col;
        return out;
    };
    static const ConnectionFields lifetimeFields = ConnectionFields::lifetime();
    static const QVector<const ConnectionColumn *> all = pick(ConnectionFields::all());
    static const QVector<const ConnectionColumn *> lifetime = pick(lifetimeFields);
    if (fields.isAll())
        return all;
    return fields == lifetimeFields ? lifetime : pick(fields);
}

QByteArray connectionColumns(int version, ConnectionFields fields)
{
    // Columns a file of this version does not have yet are selected as the value a connection
    // without that data has (v1: no packet counts, v1/v2: no kernel summary).
    QByteArray sql;
    for (const ConnectionColumn *col : readColumns(fields)) {
        sql += sql.isEmpty() ? "" : ", ";
        sql += col->since <= version ? col->name : col->absentSql();
    }
    return sql;
}

void connection(Cells &c, Connection *out)
{
    static const QVector<const ConnectionColumn *> all = readColumns(ConnectionFields::all());
    connection(c, out, all);
}

void connection(Cells &c, Connection *out, const QVector<const ConnectionColumn *> &cols)
{
    for (int i = 0; i < cols.size(); ++i) {
        ColumnValue v;
        switch (sqlite3_column_type(c.s, i)) {
        case SQLITE_NULL:
            v.kind = ColumnValue::Null;
            break;
        case SQLITE_INTEGER:
            v.kind = ColumnValue::Integer;
            v.integer = sqlite3_column_int64(c.s, i);
            break;
        case SQLITE_TEXT:
            if (sqlite3_column_bytes(c.s, i) <= kMaxShortText * 4) {
                v.kind = ColumnValue::Text;
                v.text =
                    QString::fromUtf8(reinterpret_cast<const char *>(sqlite3_column_text(c.s, i)),
                                      sqlite3_column_bytes(c.s, i));
                break;
            }
            [[fallthrough]]; // implausibly long: does not fit
        default:
            v.kind = ColumnValue::Other;
        }
        if (!cols[i]->assign(*out, v))
            c.count(); // the field keeps a new Connection's value: unknown
    }
    Connection &k = *out;
    if (!k.localAddr.isNull() && !k.remoteAddr.isNull() &&
        k.localAddr.family() != k.remoteAddr.family()) { // one socket has one family
        c.count();
        k.remoteAddr = IpAddress();
    }
    KernelSummary &s = k.kernel;
    if (s.srttUsMin > s.srttUsMax) { // one of them is wrong: neither is known
        c.count();
        s.srttUsMin = s.srttUsMax = 0;
    }
}

const char *const kStateChangeColumns =
    "connection_id, ts_ns, from_state, to_state, ctx_pid, ctx_comm";

void stateChange(Cells &c, StateChange *out)
{
    out->timeNs = c.ranged(1, 0, kI64Max, 0);
    // A name that is no TCP state is unknown and counted.
    for (auto [col, state] : {std::pair{2, &out->from}, std::pair{3, &out->to}}) {
        const QString name = c.text(col, kMaxShortText);
        *state = tcpStateFromName(name);
        if (*state == TcpState::Unknown && name != tcpStateName(TcpState::Unknown))
            c.count();
    }
    out->ctxPid = c.u32(4);
    out->ctxComm = c.text(5, kMaxShortText);
}

const char *const kPacketColumns =
    "id, connection_id, ts_ns, sock_id, sock_state, ifindex, direction, parse_status,"
    " family, src_addr, src_port, dst_addr, dst_port, seq, ack, tcp_flags, window, urg_ptr,"
    " payload_len, skb_len, gso_segs, gso_size, ttl, tos, vlan_tci, vlan_depth, ip_frag,"
    " ip_id, ip_hdr_len, tcp_hdr_len, options, payload, analysis, dup_ack_num, rel_seq,"
    " rel_ack, bytes_in_flight, scaled_window, ack_rtt_ns";

bool packet(Cells &c, Packet *out)
{
    Packet &p = *out;
    p.id = sqlite3_column_int64(c.s, 0); // the INTEGER PRIMARY KEY: always an integer
    p.connectionId = c.isNull(1) ? 0 : c.ranged(1, 1, kI64Max, 0);
    const QString direction = c.text(6, kMaxShortText);
    const qint64 family = c.ranged(8, 4, 6, 0);
    if ((direction != QLatin1String("in") && direction != QLatin1String("out")) ||
        (family != 4 && family != 6)) {
        c.count();
        return false;
    }
    p.direction = direction == QLatin1String("in") ? PacketDirection::In : PacketDirection::Out;
    p.timeNs = c.ranged(2, 0, kI64Max, 0);
    p.sockId = c.u64(3);
    const auto st = schema::sockStateFromName(c.text(4, kMaxShortText));
    if (!st)
        c.count();
    p.sockState = st.value_or(0);
    p.ifindex = c.u32(5);
    p.parseStatus = quint8(c.ranged(7, TS_PARSE_OK, TS_PARSE_TRUNC_OPTIONS, TS_PARSE_OK));
    for (auto [col, addr] : {std::pair{9, &p.srcAddr}, std::pair{11, &p.dstAddr}}) {
        *addr = c.address(col, family);
        if (addr->isNull()) { // a packet always has its family's addresses
            if (c.text(col, kMaxShortText).isEmpty())
                c.count();
            *addr = IpAddress::any(AddressFamily(family));
        }
    }
    p.srcPort = quint16(c.ranged(10, 0, 65535, 0));
    p.dstPort = quint16(c.ranged(12, 0, 65535, 0));
    p.seq = c.u32(13);
    p.ack = c.u32(14);
    p.tcpFlags = quint8(c.ranged(15, 0, 255, 0));
    p.window = quint16(c.ranged(16, 0, 65535, 0));
    p.urgPtr = quint16(c.ranged(17, 0, 65535, 0));
    p.payloadLen = c.u32(18);
    p.skbLen = c.u32(19);
    p.gsoSegs = quint16(c.ranged(20, 0, 65535, 0));
    p.gsoSize = quint16(c.ranged(21, 0, 65535, 0));
    p.ttl = quint8(c.ranged(22, 0, 255, 0));
    p.tos = quint8(c.ranged(23, 0, 255, 0));
    p.vlanTci = quint16(c.ranged(24, 0, 65535, 0));
    p.vlanDepth = quint8(c.ranged(25, 0, 255, 0));
    p.ipFrag = quint8(c.ranged(26, 0, 7, 0));
    p.ipId = c.u32(27);
    p.ipHdrLen = quint8(c.ranged(28, 0, 255, 0));
    p.tcpHdrLen = quint8(c.ranged(29, 0, 255, 0));
    p.options = c.blob(30, TS_TCP_OPTIONS_MAX);
    p.payload = c.blob(31, TS_SNAP_MAX);
    p.analysis = quint32(c.ranged(32, 0, kAnalysisFlagsAll, 0));
    p.dupAckNum = c.u32(33);
    p.relSeq = c.u32(34);
    p.relAck = c.u32(35);
    p.bytesInFlight = c.optional(36, 0, kI64Max);
    p.scaledWindow = c.optional(37, 0, qint64(65535) << 14);
    p.ackRttNs = c.optional(38, 0, kI64Max);
    return true;
}

const char *const kSampleColumns =
    "connection_id, ts_ns, fields, srtt_us, rttvar_us, min_rtt_us, cwnd, ssthresh, snd_wnd,"
    " rcv_wnd, packets_out, retrans_out, lost_out, sacked_out, in_flight, mss, total_retrans,"
    " bytes_acked, bytes_received, delivery_rate, ca_state";

bool sample(Cells &c, TcpSample *out)
{
    TcpSample &t = *out;
    const auto ca = schema::caStateFromName(c.text(20, kMaxShortText));
    if (!ca) {
        c.count();
        return false;
    }
    t.caState = *ca;
    t.connectionId = c.isNull(0) ? 0 : c.ranged(0, 1, kI64Max, 0);
    t.timeNs = c.ranged(1, 0, kI64Max, 0);
    t.fields = quint16(c.ranged(2, 0, 0xffff, 0));
    t.srttUs = c.u32(3);
    t.rttvarUs = c.u32(4);
    t.minRttUs = c.u32(5);
    t.cwnd = c.u32(6);
    t.ssthresh = c.u32(7);
    t.sndWnd = c.u32(8);
    t.rcvWnd = c.u32(9);
    t.packetsOut = c.u32(10);
    t.retransOut = c.u32(11);
    t.lostOut = c.u32(12);
    t.sackedOut = c.u32(13);
    t.inFlight = c.u32(14);
    t.mss = quint32(c.ranged(15, 0, 65535, 0));
    t.totalRetrans = c.u32(16);
    t.bytesAcked = c.u64(17);
    t.bytesReceived = c.u64(18);
    t.deliveryRate = c.u64(19);
    return true;
}

const char *const kEventColumns =
    "connection_id, ts_ns, kind, state, seq, segs, err, tcp_flags, reason, reason_name,"
    " old_ca_state, new_ca_state, srtt_us, cwnd";

bool event(Cells &c, KernelEvent *out)
{
    KernelEvent &e = *out;
    if (!kernelEventKindFromName(c.text(2, kMaxShortText), &e.kind)) {
        c.count();
        return false;
    }
    if (e.kind == KernelEventKind::CongestionState) {
        // The change itself is the event: without both states there is nothing to show.
        const auto o =
            c.isNull(10) ? std::nullopt : schema::caStateFromName(c.text(10, kMaxShortText));
        const auto n =
            c.isNull(11) ? std::nullopt : schema::caStateFromName(c.text(11, kMaxShortText));
        if (!o || !n) {
            c.count();
            return false;
        }
        e.oldCaState = *o;
        e.newCaState = *n;
    } else if (!c.isNull(10) || !c.isNull(11)) {
        c.count(); // meaningless for this kind: ignored
    }
    e.connectionId = c.isNull(0) ? 0 : c.ranged(0, 1, kI64Max, 0);
    e.timeNs = c.ranged(1, 0, kI64Max, 0);
    const auto st = schema::sockStateFromName(c.text(3, kMaxShortText));
    if (!st)
        c.count();
    e.state = st.value_or(0);
    e.seq = c.u32(4);
    e.segs = quint16(c.ranged(5, 0, 65535, 0));
    e.err = qint32(
        c.ranged(6, std::numeric_limits<qint32>::min(), std::numeric_limits<qint32>::max(), 0));
    e.tcpFlags = quint8(c.ranged(7, 0, 255, 0));
    // NULL = the kernel gave no reason (TS_REASON_NONE in the record).
    e.reason = c.isNull(8) ? 0xffffffffu : quint32(c.ranged(8, 0, UINT32_MAX, 0xffffffffu));
    e.reasonName = c.text(9, kMaxReasonName);
    e.srttUs = c.u32(12);
    e.cwnd = c.u32(13);
    return true;
}

const char *const kDropColumns =
    "connection_id, ts_ns, reason, reason_name, location, ifindex, family, src_addr,"
    " src_port, dst_addr, dst_port, tcp_flags, sock_state, seq, ack, payload_len";

bool drop(Cells &c, DropEvent *out)
{
    DropEvent &d = *out;
    d.connectionId = c.isNull(0) ? 0 : c.ranged(0, 1, kI64Max, 0);
    d.timeNs = c.ranged(1, 0, kI64Max, 0);
    d.reason = c.u32(2);
    d.reasonName = c.text(3, kMaxReasonName);
    d.location = c.u64(4);
    d.ifindex = c.u32(5);
    const qint64 family = c.ranged(6, 4, 6, 0);
    if (family == 5)
        c.count();
    d.srcAddr = c.address(7, family);
    d.srcPort = quint16(c.ranged(8, 0, 65535, 0));
    d.dstAddr = c.address(9, family);
    d.dstPort = quint16(c.ranged(10, 0, 65535, 0));
    d.tcpFlags = quint8(c.ranged(11, 0, 255, 0));
    const auto st = schema::sockStateFromName(c.text(12, kMaxShortText));
    if (!st)
        c.count();
    d.sockState = st.value_or(0);
    d.seq = c.u32(13);
    d.ack = c.u32(14);
    d.payloadLen = c.u32(15);
    return true;
}

const char *const kListenerColumns =
    "connection_id, ts_ns, sock_id, family, addr, port, backlog, max_backlog, drops";

bool listener(Cells &c, ListenerSample *out)
{
    ListenerSample &l = *out;
    l.connectionId = c.isNull(0) ? 0 : c.ranged(0, 1, kI64Max, 0);
    l.timeNs = c.ranged(1, 0, kI64Max, 0);
    l.sockId = c.u64(2);
    const qint64 family = c.ranged(3, 4, 6, 0);
    if (family == 5)
        c.count();
    l.addr = c.address(4, family);
    l.port = quint16(c.ranged(5, 0, 65535, 0));
    l.backlog = c.u32(6);
    l.maxBacklog = c.u32(7);
    l.drops = c.u64(8); // an unsigned counter, stored bit-for-bit as the writer binds it
    return true;
}

} // namespace tcpscope::rows
