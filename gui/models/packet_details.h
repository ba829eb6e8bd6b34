// SPDX-License-Identifier: GPL-3.0-or-later
// The details of one packet as a tree of lines (Frame, IP, TCP, Analysis), built from value
// types only so it is testable without widgets; PacketDetailsView shows it.
#pragma once

#include "model/connection.h"
#include "model/packet.h"

#include <QString>
#include <QVector>

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
};

// Top-level sections: [Malformed notice,] Frame, Internet Protocol, TCP, Analysis.
QVector<DetailNode> packetDetails(const Packet &packet, const PacketContext &context);

} // namespace tcpscope
