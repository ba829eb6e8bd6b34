// SPDX-License-Identifier: GPL-3.0-or-later
// How connections start and end, from their state changes: handshake_slow (a handshake far
// slower than the recent median), rst_storm (connections with one remote ended by resets),
// refused_burst (connects to one remote port refused), time_wait_buildup (sockets toward one
// remote port entering TIME_WAIT) and port_scan (many closed or filtered ports between this
// host and one remote: refused or unanswered connects, and SYNs answered from no socket, seen
// as packets or as the kernel's NO_SOCKET drops). Internal to core/detect, fed by the
// AlertEngine in record time order.
#pragma once

#include "detect/detector_context.h"

#include "tcpscope_records.h"

#include <deque>

namespace tcpscope::detail {

class ConnectionOutcomes
{
public:
    explicit ConnectionOutcomes(DetectorContext &ctx) : m_ctx(ctx) {}

    void onStateChange(const Connection &c, const StateChange &change);
    // The answer to a SYN on a closed port: RST|ACK with sequence 0 from no socket.
    void onPacket(const Packet &p)
    {
        if ((p.tcpFlags & TS_TCP_RST) && p.connectionId == 0 &&
            p.direction == PacketDirection::Out && p.seq == 0)
            onClosedPortReset(p);
    }
    // A SYN the kernel had no socket for.
    void onDrop(const DropEvent &d);
    // Forgets the subjects whose windows emptied.
    void sweep(qint64 nowNs);

private:
    void onHandshake(const Connection &c, qint64 timeNs);
    bool firstOfLocalPair(const Connection &c, qint64 timeNs);
    void onClosedPortReset(const Packet &p);
    void onClosedPort(const QString &remoteAddr, quint16 port, qint64 timeNs, qint64 connId);

    DetectorContext &m_ctx;
    Windows m_scanPorts;                 // by remote address; Hit::value is the port
    Windows m_resets;                    // by remote address
    Windows m_refused;                   // by remote addr:port
    Windows m_timeWaits;                 // by remote addr:port
    QHash<QString, qint64> m_resetPairs; // local pairs whose reset was counted, when
    std::deque<qint64> m_handshakes;     // recent handshake times (ns), for the median
};

} // namespace tcpscope::detail
