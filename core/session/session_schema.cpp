// SPDX-License-Identifier: GPL-3.0-or-later
#include "session/session_schema.h"

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
  states           TEXT NOT NULL
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
)sql";

const QVector<TableSpec> &tables()
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
    return specs;
}

const QStringList &indexes()
{
    static const QStringList names = {QStringLiteral("state_changes_by_connection")};
    return names;
}

} // namespace tcpscope::schema
