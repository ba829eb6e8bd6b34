// SPDX-License-Identifier: GPL-3.0-or-later
// The details of one packet as a tree of lines (Frame, IP, TCP, Analysis), built from value
// types only so it is testable without widgets; PacketDetailsView shows it.
#pragma once

#include "analysis/peer_transit.h"
#include "model/connection.h"
#include "model/packet.h"

#include <QString>
#include <QVector>

#include <optional>

namespace tcpscope {

struct DetailNode
{
    QString text;
    QVector<DetailNode> children;
    bool problem = false;   // shown red (malformed, option parse error, analysis problem)
    bool monospace = false; // hex dump lines
    // The display-filter expression that selects this value (tcp.srcport == 40001), for
    // "Apply as Filter"; empty when the language has no field for it.
    QString filter;
};

struct PacketContext
{
    const Connection *connection = nullptr; // the connection it joined, if any
    QVector<InterfaceInfo> interfaces;      // to name packet.ifindex
    qint64 originNs = 0;                    // session origin for relative times
    // The other end of the connection (analysis/peers.h), 0 = none in the session, and what it
    // did with this packet (analysis/peer_transit.h); no transit = not computed (yet).
    qint64 peerConnectionId = 0;
    std::optional<PeerTransitMark> transit;
};

// A one-way delay: "850 ns", "1.25 µs", "12.3 µs", "4.21 ms"; negative ones (two hosts' clocks)
// with a minus sign.
QString oneWayDelayText(qint64 ns);
// The One-way delay column and the details' Peer section for one packet: "Received by the peer
// after 12.3 µs", "Sent by the peer 12.3 µs earlier", "Not received by the peer (lost in
// transit)"; empty when there is nothing to say.
QString peerTransitText(const Packet &packet, const PeerTransitMark &mark);

// Top-level sections: [Malformed notice,] Frame, Internet Protocol, TCP, Analysis.
QVector<DetailNode> packetDetails(const Packet &packet, const PacketContext &context);

} // namespace tcpscope
