// SPDX-License-Identifier: GPL-3.0-or-later
#include "session/session_schema.h"

#include "model/connection.h"
#include "model/connection_columns.h"

extern "C" {
#include "tcpscope_records.h"
}

namespace tcpscope::schema {

namespace {

// The tables before and after `connections`, whose columns come from connection_columns.
constexpr const char *kCreateMeta = R"sql(
CREATE TABLE meta (
  key   TEXT PRIMARY KEY NOT NULL,
  value TEXT NOT NULL
);
)sql";
constexpr const char *kCreateOthers = R"sql(CREATE TABLE state_changes (
  connection_id INTEGER NOT NULL REFERENCES connections(id),
  seq           INTEGER NOT NULL,
  ts_ns         INTEGER NOT NULL,
  from_state    TEXT NOT NULL,
  to_state      TEXT NOT NULL,
  ctx_pid       INTEGER NOT NULL,
  ctx_comm      TEXT NOT NULL
);
CREATE INDEX state_changes_by_connection ON state_changes(connection_id, seq);
)sql";
constexpr const char *kCreatePackets = R"sql(CREATE TABLE packets (
  id              INTEGER PRIMARY KEY,
  connection_id   INTEGER REFERENCES connections(id),
  ts_ns           INTEGER NOT NULL,
  sock_id         INTEGER NOT NULL,
  sock_state      TEXT NOT NULL,
  ifindex         INTEGER NOT NULL,
  direction       TEXT NOT NULL,
  parse_status    INTEGER NOT NULL,
  family          INTEGER NOT NULL,
  src_addr        TEXT NOT NULL,
  src_port        INTEGER NOT NULL,
  dst_addr        TEXT NOT NULL,
  dst_port        INTEGER NOT NULL,
  seq             INTEGER NOT NULL,
  ack             INTEGER NOT NULL,
  tcp_flags       INTEGER NOT NULL,
  window          INTEGER NOT NULL,
  urg_ptr         INTEGER NOT NULL,
  payload_len     INTEGER NOT NULL,
  skb_len         INTEGER NOT NULL,
  gso_segs        INTEGER NOT NULL,
  gso_size        INTEGER NOT NULL,
  ttl             INTEGER NOT NULL,
  tos             INTEGER NOT NULL,
  vlan_tci        INTEGER NOT NULL,
  vlan_depth      INTEGER NOT NULL,
  ip_frag         INTEGER NOT NULL,
  ip_id           INTEGER NOT NULL,
  ip_hdr_len      INTEGER NOT NULL,
  tcp_hdr_len     INTEGER NOT NULL,
  options         BLOB NOT NULL,
  payload         BLOB NOT NULL,
  analysis        INTEGER NOT NULL,
  dup_ack_num     INTEGER NOT NULL,
  rel_seq         INTEGER NOT NULL,
  rel_ack         INTEGER NOT NULL,
  bytes_in_flight INTEGER,
  scaled_window   INTEGER,
  ack_rtt_ns      INTEGER
);
CREATE INDEX packets_by_connection ON packets(connection_id, id);
)sql";
constexpr const char *kCreateInterfaces = R"sql(CREATE TABLE interfaces (
  ifindex INTEGER PRIMARY KEY,
  name    TEXT NOT NULL,
  attach  TEXT NOT NULL
);
)sql";
constexpr const char *kCreateSamples = R"sql(CREATE TABLE tcp_samples (
  connection_id  INTEGER REFERENCES connections(id),
  ts_ns          INTEGER NOT NULL,
  fields         INTEGER NOT NULL,
  srtt_us        INTEGER NOT NULL,
  rttvar_us      INTEGER NOT NULL,
  min_rtt_us     INTEGER NOT NULL,
  cwnd           INTEGER NOT NULL,
  ssthresh       INTEGER NOT NULL,
  snd_wnd        INTEGER NOT NULL,
  rcv_wnd        INTEGER NOT NULL,
  packets_out    INTEGER NOT NULL,
  retrans_out    INTEGER NOT NULL,
  lost_out       INTEGER NOT NULL,
  sacked_out     INTEGER NOT NULL,
  in_flight      INTEGER NOT NULL,
  mss            INTEGER NOT NULL,
  total_retrans  INTEGER NOT NULL,
  bytes_acked    INTEGER NOT NULL,
  bytes_received INTEGER NOT NULL,
  delivery_rate  INTEGER NOT NULL,
  ca_state       TEXT NOT NULL
);
CREATE INDEX tcp_samples_by_connection ON tcp_samples(connection_id, ts_ns);
)sql";
constexpr const char *kCreateKernel = R"sql(CREATE TABLE kernel_events (
  connection_id  INTEGER REFERENCES connections(id),
  ts_ns          INTEGER NOT NULL,
  kind           TEXT NOT NULL,
  state          TEXT NOT NULL,
  seq            INTEGER NOT NULL,
  segs           INTEGER NOT NULL,
  err            INTEGER NOT NULL,
  tcp_flags      INTEGER NOT NULL,
  reason         INTEGER,
  reason_name    TEXT NOT NULL,
  old_ca_state   TEXT,
  new_ca_state   TEXT,
  srtt_us        INTEGER NOT NULL,
  cwnd           INTEGER NOT NULL
);
CREATE INDEX kernel_events_by_connection ON kernel_events(connection_id, ts_ns);
CREATE TABLE drops (
  connection_id  INTEGER REFERENCES connections(id),
  ts_ns          INTEGER NOT NULL,
  reason         INTEGER NOT NULL,
  reason_name    TEXT NOT NULL,
  location       INTEGER NOT NULL,
  ifindex        INTEGER NOT NULL,
  family         INTEGER NOT NULL,
  src_addr       TEXT NOT NULL,
  src_port       INTEGER NOT NULL,
  dst_addr       TEXT NOT NULL,
  dst_port       INTEGER NOT NULL,
  tcp_flags      INTEGER NOT NULL,
  sock_state     TEXT NOT NULL,
  seq            INTEGER NOT NULL,
  ack            INTEGER NOT NULL,
  payload_len    INTEGER NOT NULL
);
CREATE INDEX drops_by_connection ON drops(connection_id, ts_ns);
CREATE TABLE listener_samples (
  connection_id  INTEGER REFERENCES connections(id),
  ts_ns          INTEGER NOT NULL,
  sock_id        INTEGER NOT NULL,
  family         INTEGER NOT NULL,
  addr           TEXT NOT NULL,
  port           INTEGER NOT NULL,
  backlog        INTEGER NOT NULL,
  max_backlog    INTEGER NOT NULL,
  drops          INTEGER NOT NULL
);
CREATE INDEX listener_samples_by_connection ON listener_samples(connection_id, ts_ns);
)sql";
// Format 4: packets and tcp samples in compressed chunks of one connection (0 = not joined),
// found by connection and position or by id range; per-second aggregates written while
// recording. Layout of `data`: docs/SESSION_FORMAT.md.
constexpr const char *kCreateChunks = R"sql(CREATE TABLE packet_chunks (
  id            INTEGER PRIMARY KEY,
  connection_id INTEGER NOT NULL,
  first_id      INTEGER NOT NULL,
  last_id       INTEGER NOT NULL,
  first_ts_ns   INTEGER NOT NULL,
  last_ts_ns    INTEGER NOT NULL,
  count         INTEGER NOT NULL,
  codec         INTEGER NOT NULL,
  raw_bytes     INTEGER NOT NULL,
  data          BLOB NOT NULL
);
CREATE INDEX packet_chunks_by_connection ON packet_chunks(connection_id, first_id);
CREATE INDEX packet_chunks_by_id ON packet_chunks(first_id, last_id);
CREATE TABLE sample_chunks (
  id            INTEGER PRIMARY KEY,
  connection_id INTEGER NOT NULL,
  first_ts_ns   INTEGER NOT NULL,
  last_ts_ns    INTEGER NOT NULL,
  count         INTEGER NOT NULL,
  codec         INTEGER NOT NULL,
  raw_bytes     INTEGER NOT NULL,
  data          BLOB NOT NULL
);
CREATE INDEX sample_chunks_by_connection ON sample_chunks(connection_id, first_ts_ns);
CREATE TABLE seconds (
  second_ns     INTEGER PRIMARY KEY,
  opened        INTEGER NOT NULL,
  closed        INTEGER NOT NULL,
  active        INTEGER NOT NULL,
  packets       INTEGER NOT NULL,
  payload_bytes INTEGER NOT NULL,
  retransmits   INTEGER NOT NULL,
  resets        INTEGER NOT NULL,
  drops         INTEGER NOT NULL,
  samples       INTEGER NOT NULL
);
)sql";
// The tables minors of format 4 added, each created only where missing: a new file gets them
// all; saving a view into a file of an earlier minor adds what that minor lacked.
constexpr const char *kCreateMinorTables = R"sql(CREATE TABLE IF NOT EXISTS interruptions (
  start_ns      INTEGER NOT NULL,
  end_ns        INTEGER,
  records_lost  INTEGER,
  reason        TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS view_state (
  key           TEXT PRIMARY KEY,
  value         TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS annotations (
  id            INTEGER PRIMARY KEY,
  connection_id INTEGER NOT NULL,
  packet_id     INTEGER NOT NULL,
  start_ns      INTEGER NOT NULL,
  end_ns        INTEGER NOT NULL,
  text          TEXT NOT NULL,
  author        TEXT NOT NULL,
  created_ns    INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS alerts (
  id            INTEGER PRIMARY KEY,
  time_ns       INTEGER NOT NULL,
  kind          TEXT NOT NULL,
  custom        INTEGER NOT NULL,
  severity      TEXT NOT NULL,
  subject       TEXT NOT NULL,
  summary       TEXT NOT NULL,
  remote        TEXT,
  connections   TEXT NOT NULL,
  packets       TEXT NOT NULL,
  suppressed    INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS kept_windows (
  start_ns      INTEGER NOT NULL,
  end_ns        INTEGER NOT NULL,
  triggers      TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS cgroups (
  id            INTEGER PRIMARY KEY,
  path          TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS netns_names (
  inode         INTEGER PRIMARY KEY,
  name          TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS hosts (
  id              INTEGER PRIMARY KEY,
  name            TEXT NOT NULL,
  kernel          TEXT NOT NULL,
  probes          TEXT NOT NULL,
  source          TEXT NOT NULL,
  clock_offset_ns INTEGER NOT NULL,
  offset_error_ns INTEGER NOT NULL,
  offset_method   TEXT NOT NULL
);
)sql";

} // namespace

QByteArray createSql(int major)
{
    const QByteArray common = kCreateMeta +
                              connectionsCreateSql(major >= 4 ? kUserVersion : major) +
                              kCreateOthers + kCreateInterfaces + kCreateKernel;
    return major >= 4 ? common + kCreateChunks + kCreateMinorTables
                      : common + kCreatePackets + kCreateSamples;
}

QByteArray createMinorTablesSql()
{
    return kCreateMinorTables;
}

namespace {
const QVector<TableSpec> &v3Tables();
const QVector<TableSpec> &v4Tables();
} // namespace

const QVector<TableSpec> &tables(int version)
{
    static const QVector<TableSpec> specs = {
        {"meta", {"key", "value"}},
        {"connections", connectionColumnNames(1)},
        {"state_changes",
         {"connection_id", "seq", "ts_ns", "from_state", "to_state", "ctx_pid", "ctx_comm"}},
    };
    if (version == 1)
        return specs;
    if (version >= 4)
        return v4Tables();
    if (version == 3)
        return v3Tables();
    static const QVector<TableSpec> v2 = [] {
        QVector<TableSpec> t = specs;
        t[1].columns = connectionColumnNames(2);
        t.append({"packets",
                  {"id",         "connection_id",   "ts_ns",         "sock_id",     "sock_state",
                   "ifindex",    "direction",       "parse_status",  "family",      "src_addr",
                   "src_port",   "dst_addr",        "dst_port",      "seq",         "ack",
                   "tcp_flags",  "window",          "urg_ptr",       "payload_len", "skb_len",
                   "gso_segs",   "gso_size",        "ttl",           "tos",         "vlan_tci",
                   "vlan_depth", "ip_frag",         "ip_id",         "ip_hdr_len",  "tcp_hdr_len",
                   "options",    "payload",         "analysis",      "dup_ack_num", "rel_seq",
                   "rel_ack",    "bytes_in_flight", "scaled_window", "ack_rtt_ns"}});
        t.append({"interfaces", {"ifindex", "name", "attach"}});
        return t;
    }();
    return v2;
}

namespace {
// v2 plus the kernel's view.
const QVector<TableSpec> &v3Tables()
{
    static const QVector<TableSpec> v3 = [] {
        QVector<TableSpec> t = tables(2);
        t[1].columns = connectionColumnNames(3);
        t.append({"tcp_samples", {"connection_id", "ts_ns",       "fields",         "srtt_us",
                                  "rttvar_us",     "min_rtt_us",  "cwnd",           "ssthresh",
                                  "snd_wnd",       "rcv_wnd",     "packets_out",    "retrans_out",
                                  "lost_out",      "sacked_out",  "in_flight",      "mss",
                                  "total_retrans", "bytes_acked", "bytes_received", "delivery_rate",
                                  "ca_state"}});
        t.append({"kernel_events",
                  {"connection_id", "ts_ns", "kind", "state", "seq", "segs", "err", "tcp_flags",
                   "reason", "reason_name", "old_ca_state", "new_ca_state", "srtt_us", "cwnd"}});
        t.append({"drops",
                  {"connection_id", "ts_ns", "reason", "reason_name", "location", "ifindex",
                   "family", "src_addr", "src_port", "dst_addr", "dst_port", "tcp_flags",
                   "sock_state", "seq", "ack", "payload_len"}});
        t.append({"listener_samples",
                  {"connection_id", "ts_ns", "sock_id", "family", "addr", "port", "backlog",
                   "max_backlog", "drops"}});
        return t;
    }();
    return v3;
}
// v3 with packets and tcp samples in chunks, plus per-second aggregates.
const QVector<TableSpec> &v4Tables()
{
    static const QVector<TableSpec> v4 = [] {
        QVector<TableSpec> t;
        for (const TableSpec &spec : v3Tables()) {
            if (qstrcmp(spec.name, "packets") != 0 && qstrcmp(spec.name, "tcp_samples") != 0)
                t.append(spec);
        }
        t.append({"packet_chunks",
                  {"id", "connection_id", "first_id", "last_id", "first_ts_ns", "last_ts_ns",
                   "count", "codec", "raw_bytes", "data"}});
        t.append({"sample_chunks",
                  {"id", "connection_id", "first_ts_ns", "last_ts_ns", "count", "codec",
                   "raw_bytes", "data"}});
        t.append({"seconds",
                  {"second_ns", "opened", "closed", "active", "packets", "payload_bytes",
                   "retransmits", "resets", "drops", "samples"}});
        return t;
    }();
    return v4;
}
} // namespace

const QVector<MinorTable> &minorTables(int major)
{
    static const QVector<MinorTable> v4 = {
        {1, {kInterruptionsTable, {"start_ns", "end_ns", "records_lost", "reason"}}},
        {3, {kViewStateTable, {"key", "value"}}},
        {3,
         {kAnnotationsTable,
          {"id", "connection_id", "packet_id", "start_ns", "end_ns", "text", "author",
           "created_ns"}}},
        {4,
         {kAlertsTable,
          {"id", "time_ns", "kind", "custom", "severity", "subject", "summary", "remote",
           "connections", "packets", "suppressed"}}},
        {4, {kKeptWindowsTable, {"start_ns", "end_ns", "triggers"}}},
        {5, {kCgroupsTable, {"id", "path"}}},
        {5, {kNetnsNamesTable, {"inode", "name"}}},
        {6,
         {kHostsTable,
          {"id", "name", "kernel", "probes", "source", "clock_offset_ns", "offset_error_ns",
           "offset_method"}}},
    };
    static const QVector<MinorTable> none;
    return major == 4 ? v4 : none;
}

QVector<TableSpec> tablesOf(int major, int minor)
{
    QVector<TableSpec> specs = tables(major);
    // A minor may append connections columns too (4.6: host_id, isn_local, isn_remote).
    for (TableSpec &spec : specs)
        if (qstrcmp(spec.name, "connections") == 0)
            spec.columns = connectionColumnNames(connectionColumnsVersion(major, minor));
    for (const MinorTable &t : minorTables(major))
        if (t.minor <= minor)
            specs.append(t.spec);
    return specs;
}

const QStringList &connectionKernelColumns()
{
    static const QStringList cols = connectionColumnNamesAddedIn(3);
    return cols;
}

const QStringList &connectionPacketColumns()
{
    static const QStringList cols = connectionColumnNamesAddedIn(2);
    return cols;
}

const QStringList &indexes(int version)
{
    static const QStringList v1 = {QStringLiteral("state_changes_by_connection")};
    static const QStringList v2 = {QStringLiteral("state_changes_by_connection"),
                                   QStringLiteral("packets_by_connection")};
    static const QStringList v3 = QStringList(v2)
                                  << QStringLiteral("tcp_samples_by_connection")
                                  << QStringLiteral("kernel_events_by_connection")
                                  << QStringLiteral("drops_by_connection")
                                  << QStringLiteral("listener_samples_by_connection");
    static const QStringList v4 = {QStringLiteral("state_changes_by_connection"),
                                   QStringLiteral("kernel_events_by_connection"),
                                   QStringLiteral("drops_by_connection"),
                                   QStringLiteral("listener_samples_by_connection"),
                                   QStringLiteral("packet_chunks_by_connection"),
                                   QStringLiteral("packet_chunks_by_id"),
                                   QStringLiteral("sample_chunks_by_connection")};
    return version == 1 ? v1 : version == 2 ? v2 : version == 3 ? v3 : v4;
}

Version versionFromUserVersion(qint64 userVersion)
{
    if (userVersion >= 1 && userVersion <= 3)
        return {int(userVersion), 0};
    if (userVersion >= 4000 && userVersion < 1000000)
        return {int(userVersion / 1000), int(userVersion % 1000)};
    return {};
}

QString sockStateName(quint8 state)
{
    return state == 0 ? QStringLiteral("NONE") : tcpStateName(static_cast<TcpState>(state));
}

std::optional<quint8> sockStateFromName(const QString &name)
{
    if (name == QLatin1String("NONE") || name == QLatin1String("UNKNOWN"))
        return quint8(0);
    const TcpState s = tcpStateFromName(name);
    if (s == TcpState::Unknown)
        return std::nullopt;
    return static_cast<quint8>(s);
}

std::optional<quint8> caStateFromName(const QString &name)
{
    for (quint8 ca = 0; ca <= 4; ++ca) {
        if (caStateName(ca) == name)
            return ca;
    }
    return std::nullopt;
}

QString attachName(quint8 attach)
{
    switch (attach) {
    case TS_ATTACH_NONE:
        return QStringLiteral("none");
    case TS_ATTACH_TCX:
        return QStringLiteral("tcx");
    case TS_ATTACH_CLSACT:
        return QStringLiteral("clsact");
    default:
        return QStringLiteral("failed");
    }
}

std::optional<quint8> attachFromName(const QString &name)
{
    for (quint8 a = TS_ATTACH_NONE; a <= TS_ATTACH_FAILED; ++a) {
        if (attachName(a) == name)
            return a;
    }
    return std::nullopt;
}

} // namespace tcpscope::schema
