// SPDX-License-Identifier: GPL-3.0-or-later
// Turns kernel records into connections: state history, handshake time, close reason, owner
// process, close statistics. Not thread-safe: owned by the ingest thread.
#pragma once

#include "model/connection.h"

#include <QHash>
#include <QSet>
#include <QVector>
#include <deque>

extern "C" {
#include "tcpscope_records.h"
}

namespace tcpscope {

class ConnectionTracker
{
public:
    // wall ns = record monotonic ns + offset (from the helper's Hello clocks).
    void setClockOffset(qint64 monoToWallNs) { m_offsetNs = monoToWallNs; }

    void onStateChange(const ts_state_change &rec);
    void onCloseStats(const ts_close_stats &rec);

    // Connections created or changed since the previous call, in id order.
    QVector<Connection> takeChanged();
    QVector<Connection> all() const; // id order
    const Connection *find(qint64 id) const;
    qsizetype size() const { return m_connections.size(); }

    // Close stats that found no connection (neither open nor recently closed).
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
    void rememberClosed(quint64 sockId, qint64 id);

    qint64 m_offsetNs = 0;
    qint64 m_nextId = 1;
    QVector<Connection> m_connections;   // index = id - 1
    QHash<quint64, qint64> m_openBySock; // sock_id -> id of the connection that socket is now
    QVector<qint64> m_changed;
    QSet<qint64> m_changedSet;
    // Close stats follow the change to CLOSE, after the socket left m_openBySock; a short FIFO
    // of just-closed sockets lets them find their connection.
    QHash<quint64, qint64> m_recentlyClosed;
    std::deque<quint64> m_recentOrder;
    quint64 m_orphanStats = 0;
};

} // namespace tcpscope
