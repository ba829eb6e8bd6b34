// SPDX-License-Identifier: GPL-3.0-or-later
// One connection's headline figures taken from its summary (close statistics, the kernel's
// view, the packet analysis), defined once for every view that ranks or sums connections: the
// overview's rankings and histograms and the endpoints table.
#pragma once

#include "model/connection.h"

#include <algorithm>

namespace tcpscope {

// Smoothed RTT in µs: the kernel's at close, else the largest it sampled (a connection still
// open, or reset before close statistics); 0 = unknown.
inline quint32 connectionRttUs(const Connection &c)
{
    return c.srttUs > 0 ? c.srttUs : c.kernel.srttUsMax;
}

// Segments the kernel resent: its close statistics, or the retransmit events it reported
// (SYN-ACK resends included), whichever saw more.
inline quint64 connectionRetransmits(const Connection &c)
{
    return std::max(quint64(c.retransmits),
                    quint64(c.kernel.retransmits) + c.kernel.synAckRetransmits);
}

// Bytes this socket sent / received: acknowledged bytes from the close statistics, or the TCP
// payload the packet analysis saw, whichever is larger (one is unknown for open connections
// or captures without packets).
inline quint64 connectionBytesOut(const Connection &c)
{
    return std::max(c.haveCloseStats ? c.bytesSent : 0, c.packets.payloadBytesOut);
}
inline quint64 connectionBytesIn(const Connection &c)
{
    return std::max(c.haveCloseStats ? c.bytesReceived : 0, c.packets.payloadBytesIn);
}

// Resets: the RSTs the kernel sent and received for it, else the RST packets captured on it.
inline quint64 connectionResets(const Connection &c)
{
    const quint64 kernel = quint64(c.kernel.resetsSent) + c.kernel.resetsReceived;
    return kernel > 0 ? kernel : c.packets.resets;
}

} // namespace tcpscope
