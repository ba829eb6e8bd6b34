// SPDX-License-Identifier: GPL-3.0-or-later
// How data moves on established connections: retransmit_spike (retransmissions on one
// connection or toward one remote, weighed against the segments sent when those are known)
// and zero_window_stall (a receiver advertising a zero window for too long). Both look at the
// data packets and the kernel's retransmission events, counting each segment once: the
// sender's copy when both sockets are ours. Internal to core/detect, fed by the AlertEngine in
// record time order.
#pragma once

#include "detect/detector_context.h"

#include "tcpscope_records.h"

#include <QSet>

#include <limits>

namespace tcpscope::detail {

class TransferHealth
{
public:
    explicit TransferHealth(DetectorContext &ctx)
        : m_ctx(ctx), m_retransmitOn(ctx.on("retransmit_spike")),
          m_stallOn(ctx.on("zero_window_stall"))
    {
    }

    // A connection closed: the stalls it was part of end.
    void onStateChange(const Connection &c, const StateChange &change);
    void onPacket(const Packet &p);
    // The kernel's own retransmission events.
    void onEvent(const KernelEvent &e);
    // Time reached nowNs: stalls still going on are measured up to here.
    void advance(qint64 nowNs)
    {
        if (nowNs >= m_nextStallNs)
            checkStalls(nowNs);
    }
    // Forgets windows, remotes and stalls that went quiet.
    void sweep(qint64 nowNs);

private:
    struct ZeroWindowStall
    {
        qint64 startNs = 0;
        qint64 lastNs = 0;
        QSet<qint64> connections;
        QVector<qint64> packets;
        bool fired = false;
        QString summary; // "A:p advertised a zero window to B:p"
    };

    void countSegments(const Packet &p);
    void onRetransmission(qint64 connId, qint64 timeNs, int segments, qint64 packetId);
    bool retransmitsHigh(int retransmits, double minCount, const RateCounter *segments,
                         qint64 nowNs) const;
    QString shareText(int retransmits, const RateCounter *sent, qint64 nowNs) const;
    void onWindow(const Packet &p, const QString &src, const QString &dst);
    void checkStalls(qint64 nowNs);
    void checkStall(const QString &key, ZeroWindowStall &s, qint64 nowNs);

    DetectorContext &m_ctx;
    const bool m_retransmitOn;
    const bool m_stallOn;
    bool m_kernelRetransmits = false;               // the kernel reports retransmissions itself
    Windows m_retransConn;                          // by conn id
    Windows m_retransRemote;                        // by remote address
    QHash<IpAddress, RateCounter> m_remoteSegments; // by remote address
    QHash<QString, ZeroWindowStall> m_stalls;       // by "advertiser>peer" endpoint text
    // The earliest time an open zero-window stall becomes long enough to report.
    qint64 m_nextStallNs = std::numeric_limits<qint64>::max();
};

} // namespace tcpscope::detail
