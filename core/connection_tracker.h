// SPDX-License-Identifier: GPL-3.0-or-later
// Turns kernel records into connections: state history, handshake time, close reason, owner
// process, close statistics. Not thread-safe: owned by the ingest thread.
//
// Memory stays bounded for a capture of any length: a closed connection whose latest row has
// been taken (takeChanged) is evicted by evictClosed() once it has been closed for graceNs of
// record time, or earlier when more than maxClosed closed connections are kept. Its socket id
// is then remembered as a tombstone (a bounded FIFO), so records that still name it are
// recognised as late (wasEvicted) instead of founding a connection of their own.
#pragma once

#include "model/connection.h"
#include "recent_texts.h"

#include <QHash>
#include <QSet>
#include <QVector>
#include <deque>
#include <unordered_map>
#include <utility>

extern "C" {
#include "tcpscope_records.h"
}

namespace tcpscope {

class ConnectionTracker
{
public:
    struct Limits
    {
        // Record time a closed connection stays joinable: the joiners' closedJoinNs (TIME_WAIT,
        // 60 s) plus their hold time (2 s) plus slack for ring buffers being drained unevenly.
        qint64 graceNs = 65'000'000'000;
        // Closed connections kept at most; beyond it the longest-closed go early (counted).
        qsizetype maxClosed = 20'000;
        // Socket ids of evicted connections remembered as tombstones.
        qsizetype maxTombstones = 65'536;
    };
    void setLimits(const Limits &limits) { m_limits = limits; }
    const Limits &limits() const { return m_limits; }

    // wall ns = record monotonic ns + offset (from the helper's Hello clocks).
    void setClockOffset(qint64 monoToWallNs) { m_offsetNs = monoToWallNs; }

    void onStateChange(const ts_state_change &rec);
    void onCloseStats(const ts_close_stats &rec);

    // Connections created or changed since the previous call, in id order.
    QVector<Connection> takeChanged();
    QVector<Connection> all() const;         // the connections held now (not evicted), id order
    const Connection *find(qint64 id) const; // nullptr for unknown or evicted ids
    qsizetype size() const { return qsizetype(m_connections.size()); } // held now
    quint64 seen() const { return quint64(m_nextId - 1); } // ever created, evicted ones included
    qsizetype closedHeld() const { return qsizetype(m_closedOrder.size()); }

    // Evicts closed connections that have no change pending (their latest row was taken) and
    // were closed at least graceNs before nowWallNs, plus, oldest-closed first, those beyond
    // maxClosed. Returns them (moved out) so the joiners can drop their state for them.
    QVector<Connection> evictClosed(qint64 nowWallNs);
    // The socket id belonged to a connection that has been evicted (a bounded memory of them).
    bool wasEvicted(quint64 sockId) const { return sockId != 0 && m_tombstones.contains(sockId); }
    quint64 evicted() const { return m_evicted; }
    quint64 evictedEarly() const { return m_evictedEarly; } // by maxClosed, before graceNs

    // Close stats that found no connection (neither open nor closed and still held).
    quint64 orphanCloseStats() const { return m_orphanStats; }

    // For the packet joiner (core/packet_joiner.h):
    // the connection a socket id names now, else the one it named until it recently closed; 0.
    qint64 idForSock(quint64 sockId) const;
    // Mutable access; the caller must markChanged() what it modifies. nullptr for unknown ids.
    Connection *findMutable(qint64 id);
    void markChanged(qint64 id);
    // A connection known only from its packets (it predates the capture, so no state change was
    // seen yet): registered under its socket id so later state changes continue it.
    qint64 addFromPacket(Connection conn);

private:
    Connection &connectionFor(const ts_state_change &rec, qint64 wallNs);
    const QString &commText(const char (&comm)[TS_COMM_LEN]);
    void rememberClosed(const Connection &c);
    void addTombstone(quint64 sockId);

    Limits m_limits;
    qint64 m_offsetNs = 0;
    qint64 m_nextId = 1;
    std::unordered_map<qint64, Connection> m_connections; // nodes: references stay valid
    QHash<quint64, qint64> m_openBySock; // sock_id -> id of the connection that socket is now
    QVector<qint64> m_changed;
    QSet<qint64> m_changedSet;
    // Close stats and trailing records follow the change to CLOSE, after the socket left
    // m_openBySock: closed connections stay findable by socket until they are evicted.
    QHash<quint64, qint64> m_closedBySock;
    std::deque<std::pair<qint64, qint64>> m_closedOrder; // (endNs, id) in order of closing
    QSet<quint64> m_tombstones;
    std::deque<quint64> m_tombstoneOrder;
    RecentTexts<TS_COMM_LEN> m_comms;
    quint64 m_orphanStats = 0;
    quint64 m_evicted = 0;
    quint64 m_evictedEarly = 0;
};

} // namespace tcpscope
