// SPDX-License-Identifier: GPL-3.0-or-later
// Every packet the window knows (a file's or a live capture's), indexed per connection so the
// packet list can show one connection out of hundreds of thousands of packets without copying.
// Live captures are bounded by a cap: past it new packets are counted as dropped (the session
// file on disk still has them), so a long capture cannot exhaust memory.
#pragma once

#include "model/packet.h"

#include <QHash>
#include <QObject>
#include <QVector>

namespace tcpscope {

class PacketStore : public QObject
{
    Q_OBJECT
public:
    // ~300 bytes per packet with its option bytes: 1M packets stay well under 1 GiB.
    static constexpr int kDefaultCap = 1'000'000;

    explicit PacketStore(QObject *parent = nullptr);

    void clear();
    // Replaces everything (a file was opened). Files are not capped: the reader already holds
    // them all in memory.
    void setPackets(QVector<Packet> packets);
    // Live: appends up to the cap; returns how many were taken.
    int append(const QVector<Packet> &packets);

    void setCap(int cap) { m_cap = cap; }
    int cap() const { return m_cap; }
    bool capReached() const { return m_dropped > 0; }
    quint64 dropped() const { return m_dropped; }

    int size() const { return int(m_packets.size()); }
    const Packet &at(int index) const { return m_packets.at(index); }
    // Implicitly shared: copying it is O(1) (used to hand the packets to an export thread).
    const QVector<Packet> &all() const { return m_packets; }
    // Store indices of a connection's packets in arrival order (empty when none).
    const QVector<int> &indicesOf(qint64 connectionId) const;
    // Store index of the packet with this id, -1 when unknown.
    int indexOfId(qint64 packetId) const { return m_indexById.value(packetId, -1); }
    // The packets of one connection in id order (for the sequence graph).
    QVector<Packet> packetsOf(qint64 connectionId) const;
    bool hasPackets(qint64 connectionId) const { return m_byConnection.contains(connectionId); }

signals:
    void reset();
    // Packets [first, first + count) were appended.
    void appended(int first, int count);
    void capHit(int cap);

private:
    void index(int from);

    QVector<Packet> m_packets;
    QHash<qint64, QVector<int>> m_byConnection;
    QHash<qint64, int> m_indexById;
    int m_cap = kDefaultCap;
    quint64 m_dropped = 0;
};

} // namespace tcpscope
