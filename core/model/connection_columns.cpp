// SPDX-License-Identifier: GPL-3.0-or-later
#include "model/connection_columns.h"

#include <QtGlobal>

#include <algorithm>
#include <limits>
#include <type_traits>
#include <utility>

namespace tcpscope {

namespace {

using Col = ConnectionColumn;

constexpr qint64 kMin = std::numeric_limits<qint64>::min();
constexpr qint64 kMax = std::numeric_limits<qint64>::max();
constexpr const char *kNotNull = "INTEGER NOT NULL";
// Columns added after v1 need a default: ALTER TABLE ADD COLUMN (and old rows) require one.
constexpr const char *kCount = "INTEGER NOT NULL DEFAULT 0";

// The field a column's accessor returns a reference to.
template <typename Field>
using FieldType =
    std::remove_cvref_t<decltype(std::declval<Field>()(std::declval<Connection &>()))>;

template <typename T> qint64 toStored(T v)
{
    if constexpr (std::is_same_v<T, bool>)
        return v ? 1 : 0;
    else
        return static_cast<qint64>(v); // quint64: bit-for-bit
}

template <typename T> T fromStored(qint64 v)
{
    if constexpr (std::is_same_v<T, bool>)
        return v != 0;
    else
        return static_cast<T>(v);
}

// The stored range of a field type: quint64 is stored bit-for-bit, so any integer fits it.
template <typename T> constexpr std::pair<qint64, qint64> rangeOf()
{
    if constexpr (std::is_same_v<T, bool>)
        return {0, 1};
    else if constexpr (std::is_same_v<T, quint64>)
        return {kMin, kMax};
    else
        return {qint64(std::numeric_limits<T>::min()), qint64(std::numeric_limits<T>::max())};
}

// `Field` returns a reference to the member (see At/In below), so one accessor serves reading
// (const Connection) and writing alike.
template <typename Field> Col integer(const char *name, const char *sqlType, int since, Field)
{
    using T = FieldType<Field>;
    Col col{name, sqlType, since, std::is_same_v<T, quint64> ? Col::U64 : Col::Int};
    std::tie(col.lo, col.hi) = rangeOf<T>();
    col.get = [](const Col &, const Connection &c) {
        return ColumnValue::of(toStored(Field{}(c)));
    };
    col.set = [](const Col &column, Connection &c, const ColumnValue &v) {
        const qint64 x = v.integer;
        if (v.kind != ColumnValue::Integer || x < column.lo || x > column.hi)
            return false;
        Field{}(c) = fromStored<T>(x);
        return true;
    };
    return col;
}

// An integer whose `unknown` value (and anything outside [lo, hi]) is stored as NULL. Reading
// NULL gives `unknown`; a value outside [lo, hi] does not fit.
template <typename Field>
Col optional(const char *name, int since, Field, qint64 unknown, qint64 lo, qint64 hi)
{
    using T = FieldType<Field>;
    Col col{name, "INTEGER", since, Col::Int, true, unknown, lo, hi};
    col.get = [](const Col &column, const Connection &c) {
        const qint64 x = toStored(Field{}(c));
        return x == column.unknown || x < column.lo || x > column.hi ? ColumnValue::null()
                                                                     : ColumnValue::of(x);
    };
    col.set = [](const Col &column, Connection &c, const ColumnValue &v) {
        qint64 x = v.integer;
        if (v.kind == ColumnValue::Null)
            x = column.unknown;
        else if (v.kind != ColumnValue::Integer || x < column.lo || x > column.hi)
            return false;
        Field{}(c) = fromStored<T>(x);
        return true;
    };
    return col;
}

template <typename Field> Col text(const char *name, int since, Field)
{
    Col col{name, "TEXT NOT NULL", since, Col::Text};
    col.get = [](const Col &, const Connection &c) { return ColumnValue::of(Field{}(c)); };
    col.set = [](const Col &, Connection &c, const ColumnValue &v) {
        if (v.kind != ColumnValue::Text)
            return false;
        Field{}(c) = v.text;
        return true;
    };
    return col;
}

// An address stored as inet_ntop's text; "" is no address. Text that is not an address does
// not fit.
template <typename Field> Col address(const char *name, int since, Field)
{
    Col col{name, "TEXT NOT NULL", since, Col::Text};
    col.get = [](const Col &, const Connection &c) {
        return ColumnValue::of(Field{}(c).toString());
    };
    col.set = [](const Col &, Connection &c, const ColumnValue &v) {
        if (v.kind != ColumnValue::Text)
            return false;
        const IpAddress addr = IpAddress::parse(v.text);
        if (addr.isNull() && !v.text.isEmpty())
            return false;
        Field{}(c) = addr;
        return true;
    };
    return col;
}

// The family (4, 6, 0 = not known), for people reading the file and for sorting. A
// connection's family is its addresses': the reader derives it from them (no `set`).
Col familyColumn()
{
    Col col{"family", kNotNull, 1, Col::Int, false, 0, 0, 6};
    col.get = [](const Col &, const Connection &c) { return ColumnValue::of(qint64(c.family())); };
    return col;
}

// An enum stored as its name.
template <auto Member, auto toName, auto fromName> Col named(const char *name, int since)
{
    Col col{name, "TEXT NOT NULL", since, Col::Text};
    col.get = [](const Col &, const Connection &c) { return ColumnValue::of(toName(c.*Member)); };
    col.set = [](const Col &, Connection &c, const ColumnValue &v) {
        if (v.kind != ColumnValue::Text)
            return false;
        c.*Member = fromName(v.text);
        return toName(c.*Member) == v.text; // a name we do not know: unknown
    };
    return col;
}

// Field accessors for the list below: a member of Connection, or a member of one of its
// member structs.
template <auto Member> struct At
{
    auto &operator()(auto &c) const { return c.*Member; }
};
template <auto Outer, auto Inner> struct In
{
    auto &operator()(auto &c) const { return (c.*Outer).*Inner; }
};
template <auto Member> using Packets = In<&Connection::packets, Member>;
template <auto Member> using Kernel = In<&Connection::kernel, Member>;

// The column with the display-filter field that tests its value (and the unit of its literal).
Col filtered(Col col, const char *field, const char *unit = "")
{
    col.filterField = field;
    col.filterUnit = unit;
    return col;
}

// hosts.id: at most HostInfo::kMaxHosts hosts; another value does not fit (host 0).
Col hostColumn()
{
    Col col = integer("host_id", kCount, 4006, At<&Connection::hostId>{});
    col.lo = 0;
    col.hi = HostInfo::kMaxHosts - 1;
    return col;
}

QVector<Col> makeColumns()
{
    constexpr qint64 kU32 = std::numeric_limits<quint32>::max();
    return {
        // v1: the lifecycle. States, roles and close reasons are stored as names so the file
        // reads well in sqlite3.
        filtered(integer("id", "INTEGER PRIMARY KEY", 1, At<&Connection::id>{}), "conn.id"),
        integer("sock_id", kNotNull, 1, At<&Connection::sockId>{}),
        filtered(integer("pid", kNotNull, 1, At<&Connection::pid>{}), "proc.pid"),
        filtered(text("comm", 1, At<&Connection::comm>{}), "proc.name"),
        integer("owner_source", kNotNull, 1, At<&Connection::ownerSource>{}),
        integer("cgroup_id", kNotNull, 1, At<&Connection::cgroupId>{}),
        integer("netns", kNotNull, 1, At<&Connection::netnsIno>{}),
        familyColumn(),
        filtered(address("local_addr", 1, At<&Connection::localAddr>{}), "conn.local_addr"),
        filtered(integer("local_port", kNotNull, 1, At<&Connection::localPort>{}),
                 "conn.local_port"),
        filtered(address("remote_addr", 1, At<&Connection::remoteAddr>{}), "conn.remote_addr"),
        filtered(integer("remote_port", kNotNull, 1, At<&Connection::remotePort>{}),
                 "conn.remote_port"),
        filtered(named<&Connection::role, connectionRoleName, connectionRoleFromName>("role", 1),
                 "conn.role"),
        integer("start_ns", kNotNull, 1, At<&Connection::startNs>{}),
        // NULL while open / while the handshake was not seen.
        optional("end_ns", 1, At<&Connection::endNs>{}, 0, kMin, kMax),
        filtered(optional("handshake_ns", 1, At<&Connection::handshakeNs>{}, -1, 0, kMax),
                 "conn.handshake_time", "ns"),
        filtered(named<&Connection::state, tcpStateName, tcpStateFromName>("state", 1),
                 "conn.state"),
        filtered(named<&Connection::closeReason, closeReasonName, closeReasonFromName>(
                     "close_reason", 1),
                 "conn.close_reason"),
        integer("have_close_stats", kNotNull, 1, At<&Connection::haveCloseStats>{}),
        filtered(integer("bytes_sent", kNotNull, 1, At<&Connection::bytesSent>{}),
                 "conn.bytes_sent"),
        filtered(integer("bytes_received", kNotNull, 1, At<&Connection::bytesReceived>{}),
                 "conn.bytes_received"),
        integer("segs_in", kNotNull, 1, At<&Connection::segsIn>{}),
        integer("segs_out", kNotNull, 1, At<&Connection::segsOut>{}),
        integer("retransmits", kNotNull, 1, At<&Connection::retransmits>{}),
        filtered(integer("srtt_us", kNotNull, 1, At<&Connection::srttUs>{}), "kernel.srtt", "us"),
        integer("min_rtt_us", kNotNull, 1, At<&Connection::minRttUs>{}),
        integer("sk_err", kNotNull, 1, At<&Connection::skErr>{}),
        // For people reading the file; the reader rebuilds history from state_changes.
        Col{"states", "TEXT NOT NULL", 1, Col::Text, false, 0, 0, 0,
            [](const Col &, const Connection &c) { return ColumnValue::of(c.statesPath()); }},
        // v2: PacketCounts, from the packet analysis.
        integer("packets_in", kCount, 2, Packets<&PacketCounts::packetsIn>{}),
        integer("packets_out", kCount, 2, Packets<&PacketCounts::packetsOut>{}),
        integer("payload_bytes_in", kCount, 2, Packets<&PacketCounts::payloadBytesIn>{}),
        integer("payload_bytes_out", kCount, 2, Packets<&PacketCounts::payloadBytesOut>{}),
        integer("retransmissions_seen", kCount, 2, Packets<&PacketCounts::retransmissions>{}),
        integer("fast_retransmissions", kCount, 2, Packets<&PacketCounts::fastRetransmissions>{}),
        integer("spurious_retransmissions", kCount, 2,
                Packets<&PacketCounts::spuriousRetransmissions>{}),
        integer("dup_acks", kCount, 2, Packets<&PacketCounts::dupAcks>{}),
        integer("out_of_order", kCount, 2, Packets<&PacketCounts::outOfOrder>{}),
        integer("lost_segments", kCount, 2, Packets<&PacketCounts::lostSegments>{}),
        integer("zero_windows", kCount, 2, Packets<&PacketCounts::zeroWindows>{}),
        integer("zero_window_probes", kCount, 2, Packets<&PacketCounts::zeroWindowProbes>{}),
        integer("window_full", kCount, 2, Packets<&PacketCounts::windowFull>{}),
        integer("window_updates", kCount, 2, Packets<&PacketCounts::windowUpdates>{}),
        integer("keep_alives", kCount, 2, Packets<&PacketCounts::keepAlives>{}),
        integer("resets_seen", kCount, 2, Packets<&PacketCounts::resets>{}),
        optional("irtt_ns", 2, Packets<&PacketCounts::irttNs>{}, -1, 0, kMax),
        optional("mss_local", 2, Packets<&PacketCounts::mssLocal>{}, -1, 0, 65535),
        optional("mss_remote", 2, Packets<&PacketCounts::mssRemote>{}, -1, 0, 65535),
        optional("wscale_local", 2, Packets<&PacketCounts::wscaleLocal>{}, -1, 0, 255),
        optional("wscale_remote", 2, Packets<&PacketCounts::wscaleRemote>{}, -1, 0, 255),
        integer("sack_permitted", kCount, 2, Packets<&PacketCounts::sackPermitted>{}),
        integer("timestamps", kCount, 2, Packets<&PacketCounts::timestamps>{}),
        // v3: KernelSummary, the kernel's view. RTT/cwnd extremes are NULL when no sample had
        // them.
        integer("kernel_samples", kCount, 3, Kernel<&KernelSummary::samples>{}),
        filtered(optional("srtt_us_min", 3, Kernel<&KernelSummary::srttUsMin>{}, 0, 0, kU32),
                 "kernel.srtt_min", "us"),
        filtered(optional("srtt_us_max", 3, Kernel<&KernelSummary::srttUsMax>{}, 0, 0, kU32),
                 "kernel.srtt_max", "us"),
        filtered(optional("cwnd_max", 3, Kernel<&KernelSummary::cwndMax>{}, 0, 0, kU32),
                 "kernel.cwnd"),
        filtered(integer("kernel_retransmits", kCount, 3, Kernel<&KernelSummary::retransmits>{}),
                 "kernel.retransmits"),
        integer("syn_retransmits", kCount, 3, Kernel<&KernelSummary::synRetransmits>{}),
        integer("synack_retransmits", kCount, 3, Kernel<&KernelSummary::synAckRetransmits>{}),
        integer("resets_sent", kCount, 3, Kernel<&KernelSummary::resetsSent>{}),
        integer("resets_received", kCount, 3, Kernel<&KernelSummary::resetsReceived>{}),
        integer("drops", kCount, 3, Kernel<&KernelSummary::drops>{}),
        integer("listen_drops", kCount, 3, Kernel<&KernelSummary::listenDrops>{}),
        integer("backlog_max", kCount, 3, Kernel<&KernelSummary::backlogMax>{}),
        // 4.6 (user_version 4006): the host the connection was seen on (hosts.id) and the raw
        // initial sequence numbers of both sides (NULL when that handshake packet was not
        // captured).
        hostColumn(),
        optional("isn_local", 4006, Packets<&PacketCounts::isnLocal>{}, -1, 0, kU32),
        optional("isn_remote", 4006, Packets<&PacketCounts::isnRemote>{}, -1, 0, kU32),
    };
}

} // namespace

const QVector<ConnectionColumn> &connectionColumns()
{
    static const QVector<ConnectionColumn> columns = [] {
        QVector<ConnectionColumn> all = makeColumns();
        // ConnectionFields keeps a bit per column and always asks for the first, id.
        if (all.size() > ConnectionFields::kMaxColumns || qstrcmp(all.first().name, "id") != 0)
            qFatal("connection columns: %lld, the first '%s'", qint64(all.size()),
                   all.first().name);
        return all;
    }();
    return columns;
}

const ConnectionColumn &connectionColumn(const char *name)
{
    for (const ConnectionColumn &col : connectionColumns()) {
        if (qstrcmp(col.name, name) == 0)
            return col;
    }
    qFatal("no connections column '%s'", name);
}

namespace {
int columnIndex(const ConnectionColumn &column)
{
    const QVector<ConnectionColumn> &all = connectionColumns();
    const auto i = &column - all.constData();
    Q_ASSERT(i >= 0 && i < all.size());
    return int(i);
}
} // namespace

ConnectionFields ConnectionFields::all()
{
    ConnectionFields f;
    f.m_all = true;
    return f;
}

ConnectionFields ConnectionFields::lifetime()
{
    ConnectionFields f;
    for (const char *name :
         {"pid", "comm", "host_id", "local_addr", "local_port", "remote_addr", "remote_port",
          "role", "start_ns", "end_ns", "handshake_ns", "state", "close_reason"})
        f.add(name);
    return f;
}

ConnectionFields &ConnectionFields::add(const char *name)
{
    m_columns.set(std::size_t(columnIndex(connectionColumn(name))));
    return *this;
}

bool ConnectionFields::has(const ConnectionColumn &column) const
{
    return m_all || m_columns.test(std::size_t(columnIndex(column)));
}

QStringList connectionColumnNames(int version)
{
    QStringList names;
    for (const ConnectionColumn &col : connectionColumns()) {
        if (col.since <= version)
            names << QLatin1String(col.name);
    }
    return names;
}

QStringList connectionColumnNamesAddedIn(int version)
{
    QStringList names;
    for (const ConnectionColumn &col : connectionColumns()) {
        if (col.since == version)
            names << QLatin1String(col.name);
    }
    return names;
}

QByteArray connectionsCreateSql(int version)
{
    QByteArray sql = "CREATE TABLE connections (\n";
    QVector<ConnectionColumn> columns;
    for (const ConnectionColumn &col : connectionColumns())
        if (col.since <= version)
            columns.append(col);
    for (qsizetype i = 0; i < columns.size(); ++i) {
        // Names padded to one column of types, as sqlite3's .schema then shows them.
        sql += "  " + QByteArray(columns[i].name).leftJustified(16) + ' ' + columns[i].sqlType;
        sql += i + 1 < columns.size() ? ",\n" : "\n";
    }
    return sql + ");\n";
}

} // namespace tcpscope
