// SPDX-License-Identifier: GPL-3.0-or-later
#include "models/packet_store.h"

#include <algorithm>

namespace tcpscope {

PacketStore::PacketStore(QObject *parent) : QObject(parent) {}

void PacketStore::clear()
{
    m_packets.clear();
    m_byConnection.clear();
    m_indexById.clear();
    m_dropped = 0;
    emit reset();
}

void PacketStore::setPackets(QVector<Packet> packets)
{
    m_packets = std::move(packets);
    m_byConnection.clear();
    m_indexById.clear();
    m_dropped = 0;
    m_indexById.reserve(m_packets.size());
    index(0);
    emit reset();
}

int PacketStore::append(const QVector<Packet> &packets)
{
    const int room = std::max(0, m_cap - int(m_packets.size()));
    const int take = std::min(room, int(packets.size()));
    if (take < packets.size()) {
        const bool first = m_dropped == 0;
        m_dropped += quint64(packets.size() - take);
        if (first)
            emit capHit(m_cap);
    }
    if (take == 0)
        return 0;
    const int first = int(m_packets.size());
    m_packets.append(packets.mid(0, take));
    index(first);
    emit appended(first, take);
    return take;
}

void PacketStore::index(int from)
{
    for (int i = from; i < m_packets.size(); ++i) {
        const Packet &p = m_packets.at(i);
        m_byConnection[p.connectionId].append(i);
        m_indexById.insert(p.id, i);
    }
}

const QVector<int> &PacketStore::indicesOf(qint64 connectionId) const
{
    static const QVector<int> none;
    const auto it = m_byConnection.constFind(connectionId);
    return it == m_byConnection.cend() ? none : *it;
}

QVector<Packet> PacketStore::packetsOf(qint64 connectionId) const
{
    QVector<Packet> out;
    const QVector<int> &indices = indicesOf(connectionId);
    out.reserve(indices.size());
    for (int i : indices)
        out.append(m_packets.at(i));
    // Packets held back until their connection was known arrive late: restore id order.
    std::stable_sort(out.begin(), out.end(), [](const Packet &a, const Packet &b) { return a.id < b.id; });
    return out;
}

} // namespace tcpscope
