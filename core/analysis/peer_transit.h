// SPDX-License-Identifier: GPL-3.0-or-later
// One-way delay and loss between the two ends of one connection (analysis/peers.h): the
// packets one end SENT (its egress records) are matched with the packets the other end
// RECEIVED (its ingress records). Each match gives a one-way delay (receive time − send time
// on the session's time axis; across hosts it carries the hosts' clock offset); a segment sent
// and never received is "sent, not received": lost in the network between the two capture
// points.
//
// How a received packet finds the packet that was sent:
//  * Segments that occupy sequence space (payload, SYN, FIN) are matched by byte range, so a
//    large GSO segment sent by one host may arrive as several smaller ones (or several sent
//    segments as one GRO'd packet) on another: each received packet is split at the sent
//    segments it covers and every piece matched. When both carry a TCP timestamp option its
//    value must be equal; this tells a retransmission (a new send, a new TSval) from the
//    original. Among the sends that remain, the latest one sent no later than the receive is
//    taken, else the latest within the clock slack after it, else the earliest; without
//    timestamps a spurious retransmission racing its original may so be matched with the wrong
//    copy.
//  * Segments without sequence space (pure ACKs, RSTs without data) are matched whole: same
//    seq, ack, flags, window and TSval; a send is received at most once, identical copies (dup
//    ACKs in one timestamp tick) in the order they were sent.
//  * A sent packet is received when any byte of it was received; its delay is that of the last
//    piece to arrive (the whole segment had then arrived). Each received packet's delay is to
//    the latest-sent segment it was matched with.
//  * A sent packet with no match is "sent, not received" only when the other end received
//    something sent after it (its capture still ran, so the segment would have been recorded)
//    and, across hosts, when it was sent after the other end's first record (minus the slack).
//    Otherwise nothing is said about it.
//
// Memory: ~48 bytes per packet of the two connections; the packets themselves are streamed.
#pragma once

#include "model/packet.h"

#include <QHash>
#include <QVector>

#include <atomic>
#include <limits>

namespace tcpscope {

class Session;

// What one packet needs for the matching.
struct TransitSegment
{
    qint64 packetId = 0;
    qint64 timeNs = 0;
    quint32 seq = 0;
    quint32 ack = 0;
    quint32 length = 0; // sequence space: payload + SYN + FIN
    quint16 window = 0;
    quint8 flags = 0;
    bool hasTsVal = false;
    quint32 tsVal = 0;
    bool outgoing = false;
};
TransitSegment transitSegment(const Packet &packet);

// One packet's result.
struct PeerTransitMark
{
    static constexpr qint64 kNone = std::numeric_limits<qint64>::min();
    qint64 delayNs = kNone;  // one-way delay; kNone = not matched
    qint64 peerPacketId = 0; // the matching packet of the other end
    bool lost = false;       // sent, never received by the other end
    bool matched() const { return delayNs != kNone; }
};

// One direction's totals.
struct TransitDirection
{
    quint64 sent = 0;     // packets sent by this end
    quint64 received = 0; // of them, received by the other end
    quint64 lost = 0;     // of them, sent and not received
    quint64 delays = 0;   // received packets with a delay (the other end's matched ingress)
    qint64 minNs = 0, medianNs = 0, maxNs = 0; // over those delays (valid when delays > 0)
};

struct PeerTransit
{
    qint64 connectionId = 0;              // "this" end
    qint64 peerId = 0;                    // the other end
    TransitDirection outbound;            // sent by connectionId, received by peerId
    TransitDirection inbound;             // sent by peerId, received by connectionId
    QHash<qint64, PeerTransitMark> marks; // by packet id, packets of both ends
    bool cancelled = false;

    bool isEmpty() const { return peerId == 0; }
    PeerTransitMark mark(qint64 packetId) const { return marks.value(packetId); }
    // The direction a's packets were sent in, seen from connection id.
    const TransitDirection &sentBy(qint64 id) const
    {
        return id == connectionId ? outbound : inbound;
    }
};

struct TransitOptions
{
    // Ends on different hosts: their clocks differ by up to this much.
    bool sameHost = true;
    qint64 clockSlackNs = 1'000'000'000;
};

// Matches the packets of two ends (each in capture order, both directions mixed).
PeerTransit matchPeerTransit(qint64 aId, const QVector<TransitSegment> &a, qint64 bId,
                             const QVector<TransitSegment> &b, const TransitOptions &options = {});

// The same from a session: streams both connections' packets. sameHost from their hostIds, the
// clock slack from the session's hosts (sessionClockSlack).
// cancel (may be null) is polled; a cancelled run returns an empty result with cancelled set.
PeerTransit sessionPeerTransit(const Session &session, qint64 connectionId, qint64 peerId,
                               const std::atomic<bool> *cancel = nullptr);

// The marks of every paired connection of a session (display filters, packet export): one
// stream over each paired connection's packets.
QHash<qint64, PeerTransitMark> sessionTransitMarks(const Session &session,
                                                   const std::atomic<bool> *cancel = nullptr);

} // namespace tcpscope
