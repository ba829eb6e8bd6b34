// SPDX-License-Identifier: GPL-3.0-or-later
#include "session/session_schema.h"

#include "model/connection.h"

extern "C" {
#include "tcpscope_records.h"
}

namespace tcpscope::schema {

// States, roles and close reasons are stored as names so the file reads well in sqlite3.
// end_ns and handshake_ns are NULL while unknown (open / handshake not seen).
const char *const kCreateSql = R"sql(
CREATE TABLE meta (
  key   TEXT PRIMARY KEY NOT NULL,
  value TEXT NOT NULL
);
CREATE TABLE connections (
  id               INTEGER PRIMARY KEY,
  sock_id          INTEGER NOT NULL,
  pid              INTEGER NOT NULL,
  comm             TEXT NOT NULL,
  owner_source     INTEGER NOT NULL,
  cgroup_id        INTEGER NOT NULL,
  netns            INTEGER NOT NULL,
  family           INTEGER NOT NULL,
  local_addr       TEXT NOT NULL,
  local_port       INTEGER NOT NULL,
  remote_addr      TEXT NOT NULL,
  remote_port      INTEGER NOT NULL,
  role             TEXT NOT NULL,
  start_ns         INTEGER NOT NULL,
  end_ns           INTEGER,
  handshake_ns     INTEGER,
  state            TEXT NOT NULL,
  close_reason     TEXT NOT NULL,
  have_close_stats INTEGER NOT NULL,
  bytes_sent       INTEGER NOT NULL,
  bytes_received   INTEGER NOT NULL,
  segs_in          INTEGER NOT NULL,
  segs_out         INTEGER NOT NULL,
  retransmits      INTEGER NOT NULL,
  srtt_us          INTEGER NOT NULL,
  min_rtt_us       INTEGER NOT NULL,
  sk_err           INTEGER NOT NULL,
  states           TEXT NOT NULL,
  packets_in       INTEGER NOT NULL DEFAULT 0,
  packets_out      INTEGER NOT NULL DEFAULT 0,
  payload_bytes_in INTEGER NOT NULL DEFAULT 0,
  payload_bytes_out INTEGER NOT NULL DEFAULT 0,
  retransmissions_seen INTEGER NOT NULL DEFAULT 0,
  fast_retransmissions INTEGER NOT NULL DEFAULT 0,
  spurious_retransmissions INTEGER NOT NULL DEFAULT 0,
  dup_acks         INTEGER NOT NULL DEFAULT 0,
  out_of_order     INTEGER NOT NULL DEFAULT 0,
  lost_segments    INTEGER NOT NULL DEFAULT 0,
  zero_windows     INTEGER NOT NULL DEFAULT 0,
  zero_window_probes INTEGER NOT NULL DEFAULT 0,
  window_full      INTEGER NOT NULL DEFAULT 0,
  window_updates   INTEGER NOT NULL DEFAULT 0,
  keep_alives      INTEGER NOT NULL DEFAULT 0,
  resets_seen      INTEGER NOT NULL DEFAULT 0,
  irtt_ns          INTEGER,
  mss_local        INTEGER,
  mss_remote       INTEGER,
  wscale_local     INTEGER,
  wscale_remote    INTEGER,
  sack_permitted   INTEGER NOT NULL DEFAULT 0,
  timestamps       INTEGER NOT NULL DEFAULT 0,
  kernel_samples   INTEGER NOT NULL DEFAULT 0,
  srtt_us_min      INTEGER,
  srtt_us_max      INTEGER,
  cwnd_max         INTEGER,
  kernel_retransmits INTEGER NOT NULL DEFAULT 0,
  syn_retransmits  INTEGER NOT NULL DEFAULT 0,
  synack_retransmits INTEGER NOT NULL DEFAULT 0,
  resets_sent      INTEGER NOT NULL DEFAULT 0,
  resets_received  INTEGER NOT NULL DEFAULT 0,
  drops            INTEGER NOT NULL DEFAULT 0,
  listen_drops     INTEGER NOT NULL DEFAULT 0,
  backlog_max      INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE state_changes (
  connection_id INTEGER NOT NULL REFERENCES connections(id),
  seq           INTEGER NOT NULL,
  ts_ns         INTEGER NOT NULL,
  from_state    TEXT NOT NULL,
  to_state      TEXT NOT NULL,
  ctx_pid       INTEGER NOT NULL,
  ctx_comm      TEXT NOT NULL
);
CREATE INDEX state_changes_by_connection ON state_changes(connection_id, seq);
CREATE TABLE packets (
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
CREATE TABLE interfaces (
  ifindex INTEGER PRIMARY KEY,
  name    TEXT NOT NULL,
  attach  TEXT NOT NULL
);
CREATE TABLE tcp_samples (
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
CREATE TABLE kernel_events (
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

namespace {
const QVector<TableSpec> &v3Tables();
} // namespace

const QVector<TableSpec> &tables(int version)
{
    static const QVector<TableSpec> specs = {
        {"meta", {"key", "value"}},
        {"connections",
         {"id",
          "sock_id",
          "pid",
          "comm",
          "owner_source",
          "cgroup_id",
          "netns",
          "family",
          "local_addr",
          "local_port",
          "remote_addr",
          "remote_port",
          "role",
          "start_ns",
          "end_ns",
          "handshake_ns",
          "state",
          "close_reason",
          "have_close_stats",
          "bytes_sent",
          "bytes_received",
          "segs_in",
          "segs_out",
          "retransmits",
          "srtt_us",
          "min_rtt_us",
          "sk_err",
          "states"}},
        {"state_changes",
         {"connection_id", "seq", "ts_ns", "from_state", "to_state", "ctx_pid", "ctx_comm"}},
    };
    if (version == 1)
        return specs;
    if (version >= 3)
        return v3Tables();
    static const QVector<TableSpec> v2 = [] {
        QVector<TableSpec> t = specs;
        t[1].columns << connectionPacketColumns();
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
// v2 plus the kernel's view (issue 4).
const QVector<TableSpec> &v3Tables()
{
    static const QVector<TableSpec> v3 = [] {
        QVector<TableSpec> t = tables(2);
        t[1].columns << connectionKernelColumns();
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
} // namespace

const QStringList &connectionKernelColumns()
{
    static const QStringList cols = {
        "kernel_samples",     "srtt_us_min",     "srtt_us_max",        "cwnd_max",
        "kernel_retransmits", "syn_retransmits", "synack_retransmits", "resets_sent",
        "resets_received",    "drops",           "listen_drops",       "backlog_max"};
    return cols;
}

const QStringList &connectionPacketColumns()
{
    static const QStringList cols = {"packets_in",
                                     "packets_out",
                                     "payload_bytes_in",
                                     "payload_bytes_out",
                                     "retransmissions_seen",
                                     "fast_retransmissions",
                                     "spurious_retransmissions",
                                     "dup_acks",
                                     "out_of_order",
                                     "lost_segments",
                                     "zero_windows",
                                     "zero_window_probes",
                                     "window_full",
                                     "window_updates",
                                     "keep_alives",
                                     "resets_seen",
                                     "irtt_ns",
                                     "mss_local",
                                     "mss_remote",
                                     "wscale_local",
                                     "wscale_remote",
                                     "sack_permitted",
                                     "timestamps"};
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
    return version == 1 ? v1 : version == 2 ? v2 : v3;
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
