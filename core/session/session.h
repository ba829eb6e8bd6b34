// SPDX-License-Identifier: GPL-3.0-or-later
// The one view of a capture, live or from a file: views and the CLI ask a Session for what they
// show instead of loading the whole file. Every answer comes straight from the SQLite file
// (indexes, compressed packet/sample chunks, per-second aggregates) through small caches, so
// opening costs the same for a 1 MB and a 1 GB session.
//
// Reads every format tcpscope has written (v1..v3 row tables, v4 chunks). A file is untrusted:
// it is opened read-only with trusted_schema=OFF and the expected schema only; a value out of
// range makes that one field unknown and is counted (valuesOutOfRange()); only structural damage
// (not SQLite, another application, a newer major version, missing tables) refuses the file.
//
// Thread safety: every method may be called from any thread; calls are serialised internally
// (one SQLite connection per Session). A GUI that must never wait runs slow queries (export,
// open) on a worker thread.
#pragma once

#include "detect/alert.h"
#include "model/annotation.h"
#include "model/cgroup.h"
#include "model/connection.h"
#include "model/connection_columns.h"

#include <QMap>
#include <QString>
#include <QVector>
#include <atomic>
#include <functional>
#include <limits>
#include <memory>
#include <optional>

namespace tcpscope {

struct SessionFormat
{
    int major = 0; // v1..v3 files are major 1..3, minor 0
    int minor = 0; // user_version = major * 1000 + minor from major 4 on
    QString text() const { return QStringLiteral("%1.%2").arg(major).arg(minor); }
};

// Which connections, in which order. Column names are the `connections` table's SQL column
// names (the one column table in core/model/connection_columns.h).
struct ConnectionQuery
{
    QString sortColumn = QStringLiteral("id");
    bool descending = false;
    // Words (case-insensitive), all of which must match one of: comm, pid, addresses, ports,
    // role, state, close reason. Empty = no text condition.
    QString text;
    // Non-empty: only these ids (the overview's "connections in this bar").
    QVector<qint64> ids;
};

// One second of the capture, written while recording (never computed by scanning packets).
struct SecondBucket
{
    qint64 secondNs = 0; // wall ns of the second's start (multiple of 1e9)
    quint32 opened = 0;  // connections whose first state change falls in the second
    quint32 closed = 0;
    quint32 active = 0; // open at the end of the second
    quint64 packets = 0;
    quint64 payloadBytes = 0;
    quint32 retransmits =
        0; // kernel retransmitted segments (packet-analysis ones when no kernel view)
    quint32 resets = 0;
    quint32 drops = 0;
    quint32 samples = 0;
};

struct WordIndex; // internal: session/session_columns.h

class Session
{
public:
    using Progress = std::function<void(int percent)>;

    // Opens path read-only. Cost: the header, the schema, meta and a few counts; no page scan
    // (a damaged page is reported by the query that reads it). nullptr + one-line reason. cancel
    // (may be null) is polled; a cancelled open returns nullptr with "cancelled". progress (may be
    // empty) gets 0..100.
    static std::unique_ptr<Session> open(const QString &path, QString *error,
                                         const std::atomic<bool> *cancel = nullptr,
                                         const Progress &progress = {});
    ~Session();

    QString path() const;
    SessionFormat format() const;
    SessionInfo info() const;
    // What the user was looking at when the view was last saved into the file (keys and values
    // as the app wrote them: docs/SESSION_FORMAT.md, `view_state`); empty when none was (and
    // for files before format 4.3 that never had one saved). Read once, at open.
    QMap<QString, QString> savedView() const;
    // The notes saved in the file (model/annotation.h), in the order they were written; empty
    // before format 4.3. Read once, at open; hostile rows are left out and counted.
    QVector<Annotation> annotations() const;
    // The alerts the detectors raised while recording (format 4.4, when info().alertsRecorded),
    // in time order, at most schema::kMaxAlerts; empty otherwise. Hostile rows are left out
    // and counted. Read on each call.
    QVector<Alert> alerts() const;
    // The names of the cgroup ids and network namespaces of the connections, as the capturing
    // machine knew them while recording (format 4.5; empty before, or for a remote capture
    // whose host did not report them). Hostile rows are left out and counted. Read on each call.
    OwnerNames ownerNames() const;
    // The hosts whose connections the session holds, by id (Connection::hostId indexes it):
    // the file's `hosts` rows (format 4.6), or, for a file without any (a recording, older
    // formats), one host from info(): its hostname, kernel, probes and ssh destination, offset
    // 0. Never empty.
    QVector<HostInfo> hosts() const;
    // Fields read from the file that were out of range and are shown as unknown (rows whose
    // identity is unknown, e.g. a packet without a valid direction, are skipped and counted).
    quint64 valuesOutOfRange() const;
    // Compressed chunks that failed to decode (bad sizes, codec, truncated data): each is left
    // out of the answers and counted; the rest of the file reads normally.
    quint64 badChunks() const;
    // Why the last bad chunk was left out, one line ("packet chunk 7: compressed chunk is
    // damaged ..."); empty when none was.
    QString badChunkError() const;
    // The last query's error (a damaged page, an I/O error), one line; empty when the last
    // query succeeded. Every query returns what it could read before the error.
    QString error() const;
    // Re-reads what a recorder appended since open/the last refresh (live: the file is in WAL
    // mode and being written). True when anything changed.
    bool refresh();

    // Connections ----------------------------------------------------------------------------
    qint64 connectionCount() const;
    qint64 lastConnectionId() const; // the highest connection id, 0 = none
    // Matching ids in query order (8 bytes per connection: 200k connections = 1.6 MB). The sort
    // column and the filter text are read into memory on first use (one pass over the table,
    // then a sort in memory: ~40 bytes per connection per column, a few columns kept).
    QVector<qint64> connectionIds(const ConnectionQuery &query) const;
    // The text filter words (ConnectionQuery::text) are matched against is read by the first
    // query with words: a pass over the connections table (~0.15 s for 200k connections; ~70
    // bytes per connection kept until the file changes). A viewer can read it ahead through a
    // handle of its own on a worker (readWordIndex) and give it to the session it shows
    // (adoptWordIndex), so the first word typed does not wait for the pass. readWordIndex:
    // null + error() on failure. adoptWordIndex takes the index only when this session has
    // none yet and the index holds exactly this session's connections (count and last id);
    // true when the session has one afterwards. The caller makes sure both read the same file
    // state (a live file changes rows in place).
    std::shared_ptr<const WordIndex> readWordIndex() const;
    bool adoptWordIndex(const std::shared_ptr<const WordIndex> &index) const;
    bool hasWordIndex() const; // read or adopted, and the file has not changed since
    // These connections, in the order given (a table page); with their state histories when
    // asked (one more query for all of them).
    QVector<Connection> connections(const QVector<qint64> &ids, bool withHistory = false) const;
    // One connection with its state history; nullopt when unknown.
    std::optional<Connection> connection(qint64 id) const;
    // Every connection in id order, with history when asked (exports, timeline). Return false
    // from fn to stop early. fields: every column, or only those asked for (faster).
    void forEachConnection(const std::function<bool(const Connection &)> &fn, bool withHistory,
                           const ConnectionFields &fields = ConnectionFields::all()) const;
    // At most `limit` connections with ids above afterId, in id order (paging through a big
    // session with bounded memory).
    QVector<Connection> connectionsAfter(qint64 afterId, int limit, bool withHistory) const;
    // Every connection in id order in one vector (the callers that need them all at once).
    QVector<Connection>
    allConnections(bool withHistory,
                   const ConnectionFields &fields = ConnectionFields::all()) const;

    // Packets --------------------------------------------------------------------------------
    qint64 packetCount() const;                    // the whole session
    qint64 packetCount(qint64 connectionId) const; // one connection (0 = not joined)
    qint64 lastPacketId() const;                   // the highest packet id, 0 = none
    // Packets of one connection in capture order, positions [offset, offset + limit).
    QVector<Packet> packets(qint64 connectionId, qint64 offset = 0,
                            qint64 limit = std::numeric_limits<qint64>::max()) const;
    // The whole session's packets in id order: the first `limit` with id >= firstId.
    QVector<Packet> packetsFromId(qint64 firstId, qint64 limit) const;
    // Id of the packet at this position (0-based) in id order, 0 when there is none: row ->
    // id for files whose ids have gaps (a killed recorder, records not written), without
    // reading the packets before it.
    qint64 packetIdAtRank(qint64 rank) const;
    // Streams packets in id order (connectionId < 0: all; else that connection's).
    void forEachPacket(qint64 connectionId, const std::function<bool(const Packet &)> &fn) const;

    // The kernel's view ----------------------------------------------------------------------
    // One connection's samples, events and drops (listener samples when it is a listener).
    KernelData kernelData(qint64 connectionId, bool withSamples = true) const;
    // Events, drops and listener samples of the whole session (no samples: they are large).
    KernelData kernelEvents() const;
    // Streams the kernel events, drops and listener samples of the whole session in batches
    // of about batchSize records (each table in the order it was written, not by time), so a
    // big session is read with bounded memory. Return false from fn to stop.
    void forEachKernelBatch(int batchSize, const std::function<bool(const KernelData &)> &fn) const;
    // Streams samples in time order (connectionId < 0: all; else that connection's).
    void forEachSample(qint64 connectionId, const std::function<bool(const TcpSample &)> &fn) const;

    // Aggregates -----------------------------------------------------------------------------
    QVector<SecondBucket> seconds(qint64 fromNs = std::numeric_limits<qint64>::min(),
                                  qint64 toNs = std::numeric_limits<qint64>::max()) const;

private:
    Session();
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace tcpscope
