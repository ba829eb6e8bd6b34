// SPDX-License-Identifier: GPL-3.0-or-later
// syn_flood: pressure on a listening port while few of its handshakes complete. Several views
// of one listener are counted per port, because no one of them covers every kernel setting
// (docs/ARCHITECTURE.md, "Detectors run where the records are published"): SYNs the packet
// capture saw, SYN cookies sent, SYN-ACKs resent to half-open connections, and SYNs or
// connections dropped by a full queue (drops and listener samples). Whichever reaches its
// threshold raises the alert; its summary lists what the other windows hold. Internal to
// core/detect, fed by the AlertEngine in record time order.
#pragma once

#include "detect/detector_context.h"

#include "tcpscope_records.h"

namespace tcpscope::detail {

class ListenerPressure
{
public:
    explicit ListenerPressure(DetectorContext &ctx) : m_ctx(ctx), m_on(ctx.on("syn_flood")) {}

    // A handshake completed on a server socket.
    void onStateChange(const Connection &c, const StateChange &change);
    // SYNs to a listener, SYN cookies from one.
    void onPacket(const Packet &p)
    {
        if (m_on && (p.tcpFlags & TS_TCP_SYN))
            onSynPacket(p);
    }
    // SYN-ACK resends.
    void onEvent(const KernelEvent &e);
    // SYNs dropped by a full accept or SYN queue.
    void onDrop(const DropEvent &d);
    // The listener's own drop counter.
    void onListener(const ListenerSample &l);
    // A listener connection the engine forgets.
    void forgetListener(qint64 id) { m_listenerDrops.remove(id); }
    // Forgets the ports whose windows emptied.
    void sweep(qint64 nowNs);

private:
    void onSynPacket(const Packet &p);
    quint32 addressId(const IpAddress &addr);
    void onSyn(quint16 port, const QString &listener, qint64 listenerId, qint64 timeNs,
               quint32 source);
    void onSynPressure(Windows &set, quint16 port, qint64 timeNs, qint64 connId, quint32 source,
                       quint32 count, const char *minParam, const char *what);
    void onOverflow(quint16 port, qint64 timeNs, quint64 count, const QString &what);
    QString synEvidence(const QString &key, const Window *except, qint64 timeNs);

    DetectorContext &m_ctx;
    const bool m_on;
    // By listener port text. A SYN's Hit::value is its interned source address.
    Windows m_syns, m_completed, m_overflows, m_cookies, m_synAckResends;
    QHash<qint64, quint64> m_listenerDrops; // last cumulative sk_drops per listener connection
    // Interned address texts for Hit::value.
    QHash<IpAddress, quint32> m_addressIds;
    QVector<IpAddress> m_addresses;
};

} // namespace tcpscope::detail
