// SPDX-License-Identifier: GPL-3.0-or-later
#include "detect/listener_pressure.h"

#include "model/address.h"

#include <algorithm>
#include <climits>

namespace tcpscope::detail {

void ListenerPressure::onStateChange(const Connection &c, const StateChange &change)
{
    if (m_on && change.to == TcpState::Established &&
        (change.from == TcpState::SynSent || change.from == TcpState::SynRecv) &&
        c.role == ConnectionRole::Server)
        m_completed.at(QString::number(c.localPort)).add({change.timeNs, c.id, 0});
}

void ListenerPressure::onSynPacket(const Packet &p)
{
    const bool ack = p.tcpFlags & TS_TCP_ACK;
    if (!ack && p.direction == PacketDirection::In) {
        if (const ListenerInfo *l = m_ctx.listener(p.dstPort)) {
            onSyn(p.dstPort, l->first, l->second, p.timeNs, addressId(p.srcAddr));
        }
    }
    if (ack && p.direction == PacketDirection::Out && p.sockState == 0) {
        // A SYN-ACK sent from a listening port with no request socket behind it: the kernel
        // answered with a SYN cookie instead of queueing the half-open (a normal SYN-ACK finds
        // its request socket, a Fast Open one its child socket).
        if (m_ctx.listener(p.srcPort))
            onSynPressure(m_cookies, p.srcPort, p.timeNs, 0, addressId(p.dstAddr), 1,
                          "syn_flood.min_cookies", "SYN cookies sent");
    }
}

void ListenerPressure::onEvent(const KernelEvent &e)
{
    if (e.kind != KernelEventKind::SynAckRetransmit || !m_on)
        return;
    // Joined to the accepted connection, or to the listener when none came of it.
    const ConnInfo *info = m_ctx.connection(e.connectionId);
    if (info &&
        (info->c.role == ConnectionRole::Listener || info->c.role == ConnectionRole::Server))
        onSynPressure(m_synAckResends, info->c.localPort, e.timeNs, e.connectionId, 0,
                      std::max<quint32>(1, e.segs), "syn_flood.min_synack_resends",
                      "SYN-ACKs resent to half-open connections");
}

void ListenerPressure::onDrop(const DropEvent &d)
{
    if (m_on && (d.reasonName == QLatin1String("TCP_LISTEN_OVERFLOW") ||
                 d.reasonName == QLatin1String("TCP_REQQFULLDROP")))
        onOverflow(d.dstPort, d.timeNs, 1, QStringLiteral("SYNs dropped by a full queue"));
}

void ListenerPressure::onListener(const ListenerSample &l)
{
    if (l.connectionId <= 0)
        return;
    auto it = m_listenerDrops.find(l.connectionId);
    if (it == m_listenerDrops.end()) {
        m_listenerDrops.insert(l.connectionId, l.drops);
        return;
    }
    const quint64 delta = l.drops > it.value() ? l.drops - it.value() : 0;
    it.value() = l.drops;
    if (delta > 0 && m_on)
        onOverflow(l.port, l.timeNs, delta, QStringLiteral("connections the listener dropped"));
}

void ListenerPressure::sweep(qint64 nowNs)
{
    const qint64 windowNs = m_ctx.paramNs("syn_flood.window");
    for (Windows *set : {&m_syns, &m_completed, &m_overflows, &m_cookies, &m_synAckResends})
        set->sweep(nowNs, windowNs);
}

quint32 ListenerPressure::addressId(const IpAddress &addr)
{
    auto it = m_addressIds.constFind(addr);
    if (it != m_addressIds.constEnd())
        return it.value();
    if (m_addresses.size() > 100000) {
        // A flood of spoofed sources: start over, with the SYN windows that name them.
        m_addressIds.clear();
        m_addresses.clear();
        m_syns = Windows();
    }
    const quint32 id = quint32(m_addresses.size());
    m_addresses.append(addr);
    m_addressIds.insert(addr, id);
    return id;
}

void ListenerPressure::onSyn(quint16 port, const QString &listener, qint64 listenerId,
                             qint64 timeNs, quint32 source)
{
    const QString key = QString::number(port);
    const qint64 windowNs = m_ctx.paramNs("syn_flood.window");
    Window &syns = m_syns.at(key);
    syns.expire(timeNs, windowNs);
    syns.add({timeNs, 0, source});
    Window &done = m_completed.at(key);
    done.expire(timeNs, windowNs);
    if (!(syns.size() >= m_ctx.param("syn_flood.min_syns") &&
          done.size() < m_ctx.param("syn_flood.max_completed") * syns.size()))
        return;
    Alert a = m_ctx.builtin("syn_flood", timeNs, listener);
    const auto [top, topCount] = syns.mostCommon();
    if (topCount * 10 >= quint64(syns.size()) * 9 && top < quint32(m_addresses.size()))
        a.remote = m_addresses.at(top).toString();
    a.connections = {listenerId};
    a.summary = QStringLiteral("SYN flood on %1: %2 SYNs from %3 source%4, %5 handshakes "
                               "completed in %6")
                    .arg(listener)
                    .arg(syns.size())
                    .arg(syns.distinct())
                    .arg(syns.distinct() == 1 ? QString() : QStringLiteral("s"))
                    .arg(done.size())
                    .arg(durationText(syns.spanNs()));
    if (!a.remote.isEmpty() && syns.distinct() > 1)
        a.summary += QStringLiteral(", most from %1").arg(a.remote);
    a.summary += synEvidence(key, &syns, timeNs);
    syns.clear();
    m_ctx.raise(std::move(a));
}

// What else the listener's windows hold, for the summary: ", 40 SYN cookies sent, ..." (the
// window that raised the alert says it first and is left out).
QString ListenerPressure::synEvidence(const QString &key, const Window *except, qint64 timeNs)
{
    QString out;
    const qint64 windowNs = m_ctx.paramNs("syn_flood.window");
    struct Part
    {
        Windows *set;
        const char *one, *many;
    };
    const Part parts[] = {{&m_syns, "SYN", "SYNs"},
                          {&m_cookies, "SYN cookie sent", "SYN cookies sent"},
                          {&m_synAckResends, "SYN-ACK resent to a half-open connection",
                           "SYN-ACKs resent to half-open connections"},
                          {&m_overflows, "SYN or connection dropped by a full queue",
                           "SYNs or connections dropped by a full queue"}};
    for (const Part &part : parts) {
        Window *w = part.set->find(key);
        if (!w || w == except)
            continue;
        w->expire(timeNs, windowNs);
        if (w->size() > 0)
            out += QStringLiteral(", %1 %2").arg(w->size()).arg(
                QLatin1String(w->size() == 1 ? part.one : part.many));
    }
    return out;
}

// SYN cookies or SYN-ACK resends on one listener port while few handshakes complete.
void ListenerPressure::onSynPressure(Windows &set, quint16 port, qint64 timeNs, qint64 connId,
                                     quint32 source, quint32 count, const char *minParam,
                                     const char *what)
{
    const QString key = QString::number(port);
    const qint64 windowNs = m_ctx.paramNs("syn_flood.window");
    Window &w = set.at(key);
    w.expire(timeNs, windowNs);
    w.add({timeNs, connId, source, count});
    Window &done = m_completed.at(key);
    done.expire(timeNs, windowNs);
    if (w.size() < m_ctx.param(minParam) ||
        done.size() >= m_ctx.param("syn_flood.max_completed") * w.size())
        return;
    const ListenerInfo *l = m_ctx.listener(port);
    const QString listener = l ? l->first : QStringLiteral("port %1").arg(port);
    Alert a = m_ctx.builtin("syn_flood", timeNs, listener);
    a.connections = w.connections();
    if (l && !a.connections.contains(l->second))
        a.connections.prepend(l->second);
    a.summary = QStringLiteral("SYN flood on %1: %2 %3 in %4, %5 handshakes completed")
                    .arg(listener)
                    .arg(w.size())
                    .arg(QLatin1String(what), durationText(w.spanNs()))
                    .arg(done.size());
    a.summary += synEvidence(key, &w, timeNs);
    w.clear();
    m_ctx.raise(std::move(a));
}

void ListenerPressure::onOverflow(quint16 port, qint64 timeNs, quint64 count, const QString &what)
{
    const ListenerInfo *l = m_ctx.listener(port);
    const QString listener = l ? l->first : QStringLiteral("port %1").arg(port);
    Window &w = m_overflows.at(QString::number(port));
    w.expire(timeNs, m_ctx.paramNs("syn_flood.window"));
    w.add({timeNs, l ? l->second : 0, 0, quint32(std::min<quint64>(count, UINT32_MAX))});
    if (!(w.size() >= m_ctx.param("syn_flood.min_overflows")))
        return;
    Alert a = m_ctx.builtin("syn_flood", timeNs, listener);
    a.connections = w.connections();
    a.summary = QStringLiteral("SYN flood on %1: %2 %3 in %4")
                    .arg(listener)
                    .arg(w.size())
                    .arg(what, durationText(w.spanNs()));
    a.summary += synEvidence(QString::number(port), &w, timeNs);
    w.clear();
    m_ctx.raise(std::move(a));
}

} // namespace tcpscope::detail
