// SPDX-License-Identifier: GPL-3.0-or-later
// Internal to Session: its state, shared by session.cpp (open, schema, connections, aggregates)
// and session_query.cpp (packets, the kernel's view). Not an API.
#pragma once

#include "model/connection_columns.h"
#include "session/session.h"
#include "session/session_columns.h"
#include "session/session_rows.h"
#include "session/sqlite_util.h"

#include <QHash>
#include <QSet>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace tcpscope {

// The last few decoded chunks (paging through one connection, or a merge over overlapping
// chunks, decodes each once).
template <typename T> class ChunkCache
{
public:
    explicit ChunkCache(int capacity) : m_capacity(capacity) {}
    std::shared_ptr<const T> find(qint64 key)
    {
        const auto it = m_index.find(key);
        if (it == m_index.end())
            return {};
        m_order.splice(m_order.begin(), m_order, *it);
        return m_order.front().second;
    }
    void insert(qint64 key, std::shared_ptr<const T> value)
    {
        m_order.emplace_front(key, std::move(value));
        m_index.insert(key, m_order.begin());
        if (int(m_order.size()) > m_capacity) {
            m_index.remove(m_order.back().first);
            m_order.pop_back();
        }
    }
    void clear()
    {
        m_order.clear();
        m_index.clear();
    }

private:
    using Entry = std::pair<qint64, std::shared_ptr<const T>>;
    int m_capacity;
    std::list<Entry> m_order; // most recent first
    QHash<qint64, typename std::list<Entry>::iterator> m_index;
};

struct Session::Private
{
    mutable std::mutex mutex; // one SQLite connection: every call runs under this lock
    sqlite::Db db;
    QString path;
    SessionFormat format;
    SessionInfo info;
    QMap<QString, QString> savedView;
    QVector<Annotation> annotations;
    // The connections: counted when first asked (a pass over the whole table, which has no
    // index to count with: ~0.1 s for 200 000 connections), not on open, which a background
    // job's own Session (a filter expression, the Peer column) does not need.
    mutable std::optional<qint64> connectionCount;
    // The stored packets: counted when first asked (a pass over every chunk row, ~0.1 s for
    // ten million packets), not on open, which `info` and the chart exports do not need.
    mutable std::optional<qint64> packetCount;
    qint64 lastPacketId = 0;
    QStringList connectionColumns; // valid ORDER BY names (the file's own columns)
    mutable std::atomic<quint64> outOfRange{0};
    mutable std::atomic<quint64> badChunks{0};
    mutable QString error;                               // last query error, one line
    mutable std::optional<std::vector<qint64>> knownIds; // sorted ids, loaded when first needed
    mutable ChunkCache<QVector<Packet>> packetCache{64};
    // Where the packet chunks start and end in ids, for packetIdAtRank (session_chunks.cpp);
    // built when first needed, dropped on refresh.
    struct ChunkSpans
    {
        std::vector<qint64> firstIds, lastIds; // each sorted ascending
        // countsTo*[k]: packets in the chunks of the first k entries of firstIds / lastIds.
        std::vector<qint64> countsToFirst, countsToLast;
    };
    mutable std::optional<ChunkSpans> chunkSpans;
    mutable QString lastChunkError;
    // Sort and filter columns in memory (session_columns.h); dropped on refresh.
    mutable ConnectionColumns columns;

    bool chunked() const { return format.major >= 4; }
    // The user_version whose connections columns the file has (model/connection_columns.h).
    int columnsVersion() const { return connectionColumnsVersion(format.major, format.minor); }
    bool hasPackets() const { return format.major >= 2; }
    bool hasKernel() const { return format.major >= 3; }

    // Sets error (first one wins until cleared) and returns false.
    bool fail(const QString &why) const;
    // Prepared statement; null + error on failure.
    sqlite::Stmt prepare(const QByteArray &sql) const;
    // After a step loop: true for SQLITE_DONE, else error from the connection.
    bool done(int rc) const;
    bool queryInt(const QByteArray &sql, qint64 *out) const;
    // The highest connection id, 0 when none (or on an error, which is recorded).
    qint64 lastConnectionId() const;
    // 0 when the id names no connection (counted as a value out of range).
    qint64 joined(qint64 connectionId) const;
    rows::Cells cells(sqlite3_stmt *s) const { return rows::Cells{s, &localBad}; }
    // Steps s to the end, handing each row's cells to fn (false from fn stops early); then
    // done(): true when every row was read or fn stopped, else the connection's error.
    template <class Fn> bool eachRow(sqlite3_stmt *s, Fn fn) const
    {
        int rc;
        while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
            rows::Cells c = cells(s);
            if (!fn(c))
                break;
        }
        return done(rc);
    }
    // Cells count into localBad (plain integer, under the mutex); flushed into outOfRange.
    void flushBad() const
    {
        outOfRange += localBad;
        localBad = 0;
    }
    mutable quint64 localBad = 0;

    bool readMeta();
    bool readInterruptions(QVector<Interruption> &out);
    bool readSavedView();
    bool readAnnotations();
    bool readKeptWindows(QVector<KeptWindow> &out);
    bool readHosts(QVector<HostInfo> &out);
    bool readCounts();
    qint64 connections() const; // connectionCount, counted when first asked; 0 on an error
    // For reserving memory only: the count when already known, else 0 (never a count pass).
    qint64 connectionsIfKnown() const { return connectionCount.value_or(0); }
    qint64 packets() const; // packetCount, counted when first asked; 0 on an error
    bool readHistory(qint64 id, QVector<StateChange> *out) const;
    // Histories of these connections (one query), appended to each by id.
    bool readHistories(QHash<qint64, Connection> *byId) const;
    // connectionIds answered from the in-memory columns; false (error set) on a read failure.
    bool cachedIds(const ConnectionQuery &query, QVector<qint64> *out) const;
    bool readSeconds(qint64 fromNs, qint64 toNs, QVector<SecondBucket> *out) const;
    // Packets of v2/v3 row tables.
    bool rowPackets(const QByteArray &where, qint64 offset, qint64 limit,
                    const std::function<bool(const Packet &)> &fn) const;
    // Packets and samples of v4 chunks (session_chunks.cpp).
    // The current row of a packet_chunks query (kPacketChunkColumns), decoded; null when the
    // chunk is bad (counted).
    std::shared_ptr<const QVector<Packet>> packetChunk(sqlite3_stmt *s) const;
    bool chunkPackets(qint64 connectionId, qint64 offset, qint64 limit,
                      const std::function<bool(const Packet &)> &fn) const;
    bool chunkPacketsFromId(qint64 firstId, qint64 limit,
                            const std::function<bool(const Packet &)> &fn) const;
    // Id of the packet at this rank (0-based) in id order; 0 when there is none.
    qint64 chunkPacketIdAtRank(qint64 rank) const;
    bool chunkSamples(qint64 connectionId, const std::function<bool(const TcpSample &)> &fn) const;
    bool samplesOf(qint64 connectionId, const std::function<bool(const TcpSample &)> &fn) const;
    bool kernelRows(qint64 connectionId, bool withSamples, KernelData *out) const;
};

// SQLite's words for the two common ways a file is broken, in terms a user understands.
QString describeSqliteError(const QString &sqliteError);

} // namespace tcpscope
