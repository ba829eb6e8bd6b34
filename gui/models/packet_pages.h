// SPDX-License-Identifier: GPL-3.0-or-later
// The packets of a selection of connections (or of the whole session) as a list addressed by
// row, read from a Session page by page: rows are the connections' packets in capture order,
// one connection after the other. Only a bounded number of pages stays in memory, so scrolling
// through 9M packets costs the pages on screen, not the session.
#pragma once

#include "model/packet.h"

#include <QHash>
#include <QVector>

#include <memory>

namespace tcpscope {

class Session;

// The packet of connectionId whose time is nearest timeNs (the earlier one on a tie), or a
// default Packet (id 0) when the connection has none. A connection's packets are stored in
// capture order, which is time order, so this bisects them: about log2(n) one-packet reads,
// never the whole connection.
Packet packetNearestTime(const Session &session, qint64 connectionId, qint64 timeNs);

class PacketPages
{
public:
    static constexpr int kPageRows = 512;
    static constexpr int kMaxCachedPages = 32;

    // connections empty = every packet of the session in id order.
    void reset(std::shared_ptr<const Session> session, const QVector<qint64> &connections);
    // Re-reads the counts (live: the session grew). Returns the new row count; rows only grow.
    qint64 refreshCounts();

    qint64 count() const { return m_count; }
    const QVector<qint64> &connections() const { return m_connections; }
    // The row's packet; a default Packet (id 0) when it cannot be read.
    const Packet &at(qint64 row);
    // Row of the packet with this id, -1 when it is not in the list.
    qint64 rowOfId(qint64 packetId);
    // Rows [first, first + count) read straight from the session (not cached).
    QVector<Packet> read(qint64 first, qint64 count) const;

private:
    const QVector<Packet> &page(qint64 index);
    QVector<Packet> pageWithGaps(qint64 index);

    std::shared_ptr<const Session> m_session;
    QVector<qint64> m_connections;
    QVector<qint64> m_starts; // first row of each connection, plus the total at the end
    qint64 m_count = 0;
    qint64 m_firstId = 0; // all packets: id of row 0
    bool m_dense = true;  // all packets: ids without gaps, row = id - m_firstId
    QHash<qint64, QVector<Packet>> m_pages;
    QVector<qint64> m_pageOrder; // least recently fetched first
};

} // namespace tcpscope
