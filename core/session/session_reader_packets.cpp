// SPDX-License-Identifier: GPL-3.0-or-later
// SessionReader, version 2 tables: interfaces and packets. Every packet field is range-checked;
// a row that does not fit is a one-line error naming the packet and the field.
#include "model/address.h"
#include "session/session_reader_impl.h"
#include "session/session_schema.h"

#include <QSet>

#include <algorithm>
#include <limits>

extern "C" {
#include "tcpscope_records.h"
}

namespace tcpscope::detail {

bool Reader::blob(sqlite3_stmt *stmt, int col, int maxBytes, const char *what, QByteArray *out)
{
    if (sqlite3_column_type(stmt, col) != SQLITE_BLOB)
        return fail(QStringLiteral("corrupt session: %1 is not a blob").arg(QLatin1String(what)));
    const int bytes = sqlite3_column_bytes(stmt, col);
    if (bytes > maxBytes)
        return fail(QStringLiteral("corrupt session: %1 is too long (%2 bytes, at most %3)")
                        .arg(QLatin1String(what))
                        .arg(bytes)
                        .arg(maxBytes));
    *out = QByteArray(static_cast<const char *>(sqlite3_column_blob(stmt, col)), bytes);
    return true;
}

bool Reader::readInterfaces(SessionInfo *info)
{
    qint64 count = 0;
    sqlite::Stmt stmt = prepareBounded("interfaces", "interfaces", kMaxInterfaces,
                                       "SELECT ifindex, name, attach FROM interfaces"
                                       " ORDER BY ifindex LIMIT ?1",
                                       &count);
    if (!stmt)
        return false;
    sqlite3_stmt *s = stmt.get();
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        InterfaceInfo i;
        const qint64 ifindex = sqlite3_column_int64(s, 0);
        QString attach;
        if (!text(s, 1, 16, "interface name", &i.name) ||
            !text(s, 2, kMaxShortText, "interface attach", &attach))
            return false;
        const auto a = schema::attachFromName(attach);
        if (ifindex < 0 || ifindex > UINT32_MAX || !a)
            return fail(QStringLiteral("corrupt session: interface %1 has an invalid index or "
                                       "attach kind")
                            .arg(ifindex));
        i.ifindex = quint32(ifindex);
        i.attach = *a;
        info->interfaces.append(i);
    }
    if (rc != SQLITE_DONE)
        return fail(QStringLiteral("corrupt session: ") + sqlite::lastError(db));
    return true;
}

bool Reader::readPackets(const QVector<Connection> &conns, const ReadOptions &options,
                         QVector<Packet> *out)
{
    QSet<qint64> known;
    known.reserve(conns.size());
    for (const Connection &c : conns)
        known.insert(c.id);
    const char *columns =
        "SELECT id, connection_id, ts_ns, sock_id, sock_state, ifindex, direction, parse_status,"
        " family, src_addr, src_port, dst_addr, dst_port, seq, ack, tcp_flags, window, urg_ptr,"
        " payload_len, skb_len, gso_segs, gso_size, ttl, tos, vlan_tci, vlan_depth, ip_frag,"
        " ip_id, ip_hdr_len, tcp_hdr_len, options, payload, analysis, dup_ack_num, rel_seq,"
        " rel_ack, bytes_in_flight, scaled_window, ack_rtt_ns FROM packets";
    QString err;
    qint64 count = 0;
    QByteArray countSql = "SELECT count(*) FROM packets";
    QByteArray sql = columns;
    if (options.connectionId != 0) {
        const QByteArray where =
            " WHERE connection_id = " + QByteArray::number(options.connectionId);
        countSql += where;
        sql += where;
    }
    sql += " ORDER BY id LIMIT ?1";
    if (!sqlite::queryInt(db, countSql.constData(), &count, &err))
        return fail(QStringLiteral("corrupt session: ") + err);
    if (count > kMaxPackets)
        return fail(QStringLiteral("session has %1 packets, more than this tcpscope reads (%2); "
                                   "read one connection's packets instead")
                        .arg(count)
                        .arg(kMaxPackets));
    sqlite::Stmt stmt = sqlite::prepare(db, sql.constData(), &err);
    if (!stmt)
        return fail(QStringLiteral("corrupt session: ") + err);
    sqlite3_stmt *s = stmt.get();
    sqlite3_bind_int64(s, 1, kMaxPackets);
    out->reserve(count);
    auto i64 = [s](int col) { return sqlite3_column_int64(s, col); };
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        Packet p;
        p.id = i64(0);
        // One line naming the packet and the field: enough to find the row in sqlite3.
        auto bad = [&](const char *field) {
            return fail(QStringLiteral("corrupt session: packet %1 has an invalid %2")
                            .arg(p.id)
                            .arg(QLatin1String(field)));
        };
        // Integer column in [lo, hi], else the file is refused (never silently truncated).
        bool ok = true;
        const char *badField = nullptr;
        auto ranged = [&](int col, qint64 lo, qint64 hi, const char *field) -> qint64 {
            const qint64 v = i64(col);
            if (ok && (sqlite3_column_type(s, col) != SQLITE_INTEGER || v < lo || v > hi)) {
                ok = false;
                badField = field;
            }
            return v;
        };
        auto optional = [&](int col, qint64 lo, qint64 hi, const char *field) -> qint64 {
            return sqlite3_column_type(s, col) == SQLITE_NULL ? -1 : ranged(col, lo, hi, field);
        };
        if (p.id <= 0)
            return bad("id");
        if (sqlite3_column_type(s, 1) != SQLITE_NULL) {
            p.connectionId = i64(1);
            if (!known.contains(p.connectionId))
                return bad("connection_id (no such connection)");
        }
        p.timeNs = ranged(2, 0, std::numeric_limits<qint64>::max(), "ts_ns");
        p.sockId = static_cast<quint64>(i64(3));
        p.ifindex = quint32(ranged(5, 0, UINT32_MAX, "ifindex"));
        p.parseStatus = quint8(ranged(7, TS_PARSE_OK, TS_PARSE_TRUNC_OPTIONS, "parse_status"));
        p.family = int(ranged(8, 4, 6, "family"));
        p.srcPort = quint16(ranged(10, 0, 65535, "src_port"));
        p.dstPort = quint16(ranged(12, 0, 65535, "dst_port"));
        p.seq = quint32(ranged(13, 0, UINT32_MAX, "seq"));
        p.ack = quint32(ranged(14, 0, UINT32_MAX, "ack"));
        p.tcpFlags = quint8(ranged(15, 0, 255, "tcp_flags"));
        p.window = quint16(ranged(16, 0, 65535, "window"));
        p.urgPtr = quint16(ranged(17, 0, 65535, "urg_ptr"));
        p.payloadLen = quint32(ranged(18, 0, UINT32_MAX, "payload_len"));
        p.skbLen = quint32(ranged(19, 0, UINT32_MAX, "skb_len"));
        p.gsoSegs = quint16(ranged(20, 0, 65535, "gso_segs"));
        p.gsoSize = quint16(ranged(21, 0, 65535, "gso_size"));
        p.ttl = quint8(ranged(22, 0, 255, "ttl"));
        p.tos = quint8(ranged(23, 0, 255, "tos"));
        p.vlanTci = quint16(ranged(24, 0, 65535, "vlan_tci"));
        p.vlanDepth = quint8(ranged(25, 0, 255, "vlan_depth"));
        p.ipFrag = quint8(ranged(26, 0, 7, "ip_frag"));
        p.ipId = quint32(ranged(27, 0, UINT32_MAX, "ip_id"));
        p.ipHdrLen = quint8(ranged(28, 0, 255, "ip_hdr_len"));
        p.tcpHdrLen = quint8(ranged(29, 0, 255, "tcp_hdr_len"));
        p.analysis = quint32(ranged(32, 0, 0xffff, "analysis"));
        p.dupAckNum = quint32(ranged(33, 0, UINT32_MAX, "dup_ack_num"));
        p.relSeq = quint32(ranged(34, 0, UINT32_MAX, "rel_seq"));
        p.relAck = quint32(ranged(35, 0, UINT32_MAX, "rel_ack"));
        p.bytesInFlight = optional(36, 0, std::numeric_limits<qint64>::max(), "bytes_in_flight");
        p.scaledWindow = optional(37, 0, qint64(65535) << 14, "scaled_window");
        p.ackRttNs = optional(38, 0, std::numeric_limits<qint64>::max(), "ack_rtt_ns");
        if (!ok)
            return bad(badField);
        if (p.family != 4 && p.family != 6)
            return bad("family");
        QString state, direction, src, dst;
        if (!text(s, 4, kMaxShortText, "sock_state", &state) ||
            !text(s, 6, kMaxShortText, "direction", &direction) ||
            !text(s, 9, kMaxShortText, "src_addr", &src) ||
            !text(s, 11, kMaxShortText, "dst_addr", &dst))
            return false;
        const auto st = schema::sockStateFromName(state);
        if (!st)
            return bad("sock_state");
        p.sockState = *st;
        if (direction == QLatin1String("in"))
            p.direction = PacketDirection::In;
        else if (direction == QLatin1String("out"))
            p.direction = PacketDirection::Out;
        else
            return bad("direction");
        if (!parseAddress(p.family, src, p.srcAddr.data()))
            return bad("src_addr");
        if (!parseAddress(p.family, dst, p.dstAddr.data()))
            return bad("dst_addr");
        if (!blob(s, 30, TS_TCP_OPTIONS_MAX, "packet options", &p.options) ||
            !blob(s, 31, TS_SNAP_MAX, "packet payload", &p.payload))
            return false;
        if (!out->isEmpty() && out->constLast().id >= p.id)
            return bad("id (not increasing)");
        out->append(std::move(p));
    }
    if (rc != SQLITE_DONE)
        return fail(QStringLiteral("corrupt session: ") + sqlite::lastError(db));
    return true;
}

} // namespace tcpscope::detail
