// SPDX-License-Identifier: GPL-3.0-or-later
// Pure geometry of the tcptrace-style sequence graph of one connection: which packet becomes
// which bar, step or marker, in the data direction's relative sequence space. Built
// incrementally (live capture appends) and testable without widgets.
#pragma once

#include "model/packet.h"

#include <QHash>
#include <QVector>

#include <array>
#include <optional>

namespace tcpscope {

// A vertical bar: a data segment (seq .. seq+len) or a SACK block (left .. right).
struct SeqBar
{
    double x = 0;  // seconds since origin
    double y0 = 0; // relative sequence numbers (unwrapped: may exceed 2^32 on long transfers)
    double y1 = 0;
    qint64 packetId = 0;
};

// A point on the ACK/window lines or a marker (SYN, FIN, RST, dup ACK, zero window).
struct SeqPoint
{
    double x = 0;
    double y = 0;
    qint64 packetId = 0;
};

enum class SeqBarKind : int
{
    Data = 0,       // an ordinary data segment
    Retransmission, // AnalysisRetransmission (incl. fast and spurious)
    Problem,        // other problems: out-of-order, previous segment lost, window full, ...
    Sack,           // a SACK block of an ACK of the other direction
};
constexpr int kSeqBarKindCount = 4;

enum class SeqMarkKind : int
{
    Syn = 0,
    Fin,
    Rst,
    DupAck,     // on the ACK line
    ZeroWindow, // on the ACK line
};
constexpr int kSeqMarkKindCount = 5;

class SeqGraphData
{
public:
    // Resets to an empty graph of dataDirection; times are seconds since originNs.
    void reset(PacketDirection dataDirection, qint64 originNs);
    // Adds one packet of the connection (any direction). Packets should come in capture order.
    void add(const Packet &packet);
    void reserve(qsizetype packets);
    // Restores x order after out-of-order adds (timestamps of two CPUs); cheap when sorted.
    void finish();

    PacketDirection dataDirection() const { return m_dataDirection; }
    qint64 originNs() const { return m_originNs; }
    bool isEmpty() const { return m_packets.isEmpty(); }

    const QVector<SeqBar> &bars(SeqBarKind kind) const { return m_bars[int(kind)]; }
    const QVector<SeqPoint> &marks(SeqMarkKind kind) const { return m_marks[int(kind)]; }
    // One point per ACK of the other direction, in x order: the step lines.
    const QVector<SeqPoint> &acks() const { return m_acks; }
    const QVector<SeqPoint> &windows() const { return m_windows; }

    // The packets added, by id (tooltips, selection).
    const Packet *packet(qint64 id) const;
    int packetCount() const { return int(m_packets.size()); }
    const QVector<Packet> &packets() const { return m_packets; }
    // Where a packet is drawn: its bar (data) or its ACK point (other direction). nullopt when
    // it draws nothing (e.g. a pure ACK of the data direction).
    std::optional<SeqBar> placeOf(qint64 packetId) const;

    // Bounding box of everything drawn (x in seconds, y in relative bytes).
    bool hasExtent() const { return m_hasExtent; }
    double minX() const { return m_minX; }
    double maxX() const { return m_maxX; }
    double minY() const { return m_minY; }
    double maxY() const { return m_maxY; }
    // Highest point of the receive-window line (kept out of the extent: a multi-MiB window
    // would squash a small transfer into the bottom of the chart).
    double maxWindowY() const { return m_maxWindowY; }

    // Payload bytes per direction of a packet list (to pick the default data direction).
    static PacketDirection directionWithMorePayload(const QVector<Packet> &packets);

private:
    double unwrapped(quint32 relative, qint64 &reference) const;
    std::optional<quint32> dataBase(const Packet &packet);
    void extend(double x, double y);

    PacketDirection m_dataDirection = PacketDirection::Out;
    qint64 m_originNs = 0;
    // Absolute sequence number that is relative 0 in the data direction (its ISN, or the first
    // seq seen when the handshake was not captured), from the first packet that tells it.
    std::optional<quint32> m_base;
    // Last unwrapped values: relative numbers are 32 bit and wrap after 4 GiB.
    qint64 m_seqRef = 0;
    qint64 m_ackRef = 0;
    std::array<QVector<SeqBar>, kSeqBarKindCount> m_bars;
    std::array<QVector<SeqPoint>, kSeqMarkKindCount> m_marks;
    QVector<SeqPoint> m_acks;
    QVector<SeqPoint> m_windows;
    QVector<Packet> m_packets;
    QHash<qint64, int> m_indexById;
    QVector<SeqBar> m_places; // parallel to m_packets; packetId 0 = draws nothing
    bool m_hasExtent = false;
    double m_minX = 0, m_maxX = 0, m_minY = 0, m_maxY = 0;
    double m_maxWindowY = 0;
};

} // namespace tcpscope
