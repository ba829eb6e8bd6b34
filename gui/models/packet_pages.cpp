// SPDX-License-Identifier: GPL-3.0-or-later
#include "models/packet_pages.h"

#include "session/session.h"

#include <algorithm>

namespace tcpscope {

Packet packetNearestTime(const Session &session, qint64 connectionId, qint64 timeNs)
{
    auto at = [&](qint64 position) {
        const QVector<Packet> one = session.packets(connectionId, position, 1);
        return one.isEmpty() ? Packet() : one.first();
    };
    const qint64 count = session.packetCount(connectionId);
    if (count <= 0)
        return Packet();
    // The first position whose packet is not earlier than timeNs.
    qint64 lo = 0, hi = count;
    Packet later;
    while (lo < hi) {
        const qint64 mid = lo + (hi - lo) / 2;
        const Packet p = at(mid);
        if (p.id == 0)
            return Packet(); // a read error: nothing sensible to pick
        if (p.timeNs < timeNs) {
            lo = mid + 1;
        } else {
            hi = mid;
            later = p;
        }
    }
    if (lo == 0)
        return later;
    Packet earlier = at(lo - 1); // not const: returned by move
    if (lo == count || later.id == 0)
        return earlier;
    return timeNs - earlier.timeNs <= later.timeNs - timeNs ? earlier : later;
}

void PacketPages::reset(std::shared_ptr<const Session> session, const QVector<qint64> &connections)
{
    m_session = std::move(session);
    m_connections = connections;
    m_starts.clear();
    m_count = 0;
    m_firstId = 0;
    m_pages.clear();
    m_pageOrder.clear();
    refreshCounts();
}

qint64 PacketPages::refreshCounts()
{
    if (!m_session)
        return m_count = 0;
    if (m_connections.isEmpty()) {
        m_count = m_session->packetCount();
        if (m_firstId <= 0 && m_count > 0) {
            const QVector<Packet> first = m_session->packetsFromId(0, 1);
            m_firstId = first.isEmpty() ? 0 : first.first().id;
        }
        // The writer numbers packets 1, 2, 3, ...: row = id - first id. A file with gaps (a
        // killed recorder, records the writer could not store) asks the session for the id at
        // each page's first row instead.
        m_dense = m_count == 0 || m_session->lastPacketId() == m_firstId + m_count - 1;
    } else {
        m_starts.resize(m_connections.size() + 1);
        qint64 total = 0;
        for (int i = 0; i < m_connections.size(); ++i) {
            m_starts[i] = total;
            total += m_session->packetCount(m_connections.at(i));
        }
        m_starts[m_connections.size()] = total;
        m_count = total;
    }
    // The last page may have grown (live): read it again when asked.
    if (m_count > 0) {
        const qint64 lastPage = (m_count - 1) / kPageRows;
        m_pages.remove(lastPage);
        m_pageOrder.removeAll(lastPage);
    }
    return m_count;
}

QVector<Packet> PacketPages::read(qint64 first, qint64 count) const
{
    QVector<Packet> out;
    if (!m_session || first < 0 || count <= 0 || first >= m_count)
        return out;
    count = std::min(count, m_count - first);
    if (m_connections.isEmpty())
        return m_session->packetsFromId(m_firstId + first, count);
    // Rows of several connections: the part of each connection the range covers.
    auto it = std::upper_bound(m_starts.cbegin(), m_starts.cend(), first) - 1;
    for (int c = int(it - m_starts.cbegin()); c < m_connections.size() && out.size() < count; ++c) {
        const qint64 offset = std::max<qint64>(0, first + out.size() - m_starts.at(c));
        const qint64 want =
            std::min(count - out.size(), m_starts.at(c + 1) - m_starts.at(c) - offset);
        if (want > 0)
            out += m_session->packets(m_connections.at(c), offset, want);
    }
    return out;
}

const QVector<Packet> &PacketPages::page(qint64 index)
{
    const auto it = m_pages.constFind(index);
    if (it != m_pages.cend())
        return *it;
    if (m_pageOrder.size() >= kMaxCachedPages)
        m_pages.remove(m_pageOrder.takeFirst());
    QVector<Packet> rows;
    if (m_connections.isEmpty() && !m_dense)
        rows = pageWithGaps(index);
    else
        rows = read(index * kPageRows, kPageRows);
    m_pageOrder.append(index);
    return *m_pages.emplace(index, std::move(rows)); // insert() would copy the page
}

QVector<Packet> PacketPages::pageWithGaps(qint64 index)
{
    const qint64 firstId = m_session->packetIdAtRank(index * kPageRows);
    if (firstId <= 0)
        return {};
    return m_session->packetsFromId(firstId, kPageRows);
}

const Packet &PacketPages::at(qint64 row)
{
    static const Packet none;
    if (row < 0 || row >= m_count)
        return none;
    const QVector<Packet> &rows = page(row / kPageRows);
    const qint64 i = row % kPageRows;
    return i < rows.size() ? rows.at(i) : none;
}

qint64 PacketPages::rowOfId(qint64 packetId)
{
    if (packetId <= 0 || m_count == 0)
        return -1;
    if (m_connections.isEmpty() && m_dense) {
        const qint64 row = packetId - m_firstId;
        return row >= 0 && row < m_count ? row : -1;
    }
    // Capture order is id order within a connection (and in the whole session): binary search
    // over pages, then within the page.
    auto search = [&](qint64 lo, qint64 hi) -> qint64 { // rows [lo, hi)
        while (hi - lo > 0) {
            const qint64 mid = lo + (hi - lo) / 2;
            const qint64 id = at(mid).id;
            if (id == packetId)
                return mid;
            if (id < packetId)
                lo = mid + 1;
            else
                hi = mid;
        }
        return -1;
    };
    if (m_connections.isEmpty())
        return search(0, m_count);
    const QVector<Packet> one = m_session->packetsFromId(packetId, 1);
    if (one.isEmpty() || one.first().id != packetId)
        return -1;
    const int c = int(m_connections.indexOf(one.first().connectionId));
    return c < 0 ? -1 : search(m_starts.at(c), m_starts.at(c + 1));
}

} // namespace tcpscope
