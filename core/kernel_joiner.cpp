// SPDX-License-Identifier: GPL-3.0-or-later
#include "kernel_joiner.h"
#include "hold_queue.h"
#include "model/address.h"

#include <algorithm>
#include <cstring>

namespace tcpscope {

namespace {

bool pureSyn(quint8 flags)
{
    return (flags & TS_TCP_SYN) && !(flags & TS_TCP_ACK);
}

// Key of m_listenerByFamilyPort.
quint32 familyPort(AddressFamily family, quint16 port)
{
    return quint32(family) << 16 | port;
}

} // namespace

void KernelJoiner::onStateChange(const ts_state_change &rec)
{
    const qint64 id = m_tracker.idForSock(rec.sock_id);
    if (id != 0) {
        const AddressFamily family = familyFromAf(rec.family);
        if (rec.newstate == quint8(TcpState::Listen) && rec.sport != 0) {
            m_listenerByFamilyPort.insert(familyPort(family, rec.sport), id);
            m_listenerByPort.insert(rec.sport, id);
        } else if (rec.oldstate == quint8(TcpState::Listen)) {
            // Stopped listening: the port may be taken by another listener from now on.
            m_listenerByFamilyPort.remove(familyPort(family, rec.sport));
            if (m_listenerByPort.value(rec.sport) == id)
                m_listenerByPort.remove(rec.sport);
        }
        if (!m_held.isEmpty()) {
            if (rec.newstate == quint8(TcpState::Listen))
                retryGroup(TupleKey::listener(family, rec.sport));
            else if (rec.sport != 0 && rec.dport != 0)
                retryGroup(PacketJoiner::tupleKey(rec).canonical());
        }
    }
    noteTime(rec.hdr.ts_ns);
}

qint64 KernelJoiner::timeOf(const Item &item) const
{
    return std::visit([](const auto &v) { return v.timeNs; }, item.value);
}

qint64 KernelJoiner::byOwnSock(quint64 sockId) const
{
    // A listener is never "the connection" of a sample, event or packet drop.
    const qint64 id = m_tracker.idForSock(sockId);
    const Connection *c = m_tracker.find(id);
    return c && c->role != ConnectionRole::Listener ? id : 0;
}

qint64 KernelJoiner::byTuple(const Item &item, bool localIsB) const
{
    if (item.aPort == 0 || item.bPort == 0)
        return 0;
    const TupleKey key = localIsB ? PacketJoiner::tupleKey(item.b, item.bPort, item.a, item.aPort)
                                  : PacketJoiner::tupleKey(item.a, item.aPort, item.b, item.bPort);
    // The instance alive at the record's time (one socket lifetime; see PacketJoiner).
    const auto *drop = std::get_if<DropEvent>(&item.value);
    return m_packets.tupleTargetAt(key, timeOf(item), drop && pureSyn(drop->tcpFlags));
}

qint64 KernelJoiner::listenerFor(const Item &item) const
{
    if (const qint64 id = m_tracker.idForSock(item.sockId); id != 0) {
        const Connection *c = m_tracker.find(id);
        if (c && c->role == ConnectionRole::Listener)
            return id;
    }
    if (qint64 id = m_listenerByFamilyPort.value(familyPort(item.a.family(), item.aPort), 0))
        return id;
    return m_listenerByPort.value(item.aPort, 0);
}

KernelJoiner::Target KernelJoiner::target(const Item &item) const
{
    if (m_tracker.wasEvicted(item.sockId))
        return {}; // late: its tuple may name a newer connection by now
    if (std::holds_alternative<TcpSample>(item.value)) {
        if (const qint64 id = byOwnSock(item.sockId))
            return {id, false};
        return {byTuple(item, false), false};
    }
    if (const auto *e = std::get_if<KernelEvent>(&item.value)) {
        if (e->kind == KernelEventKind::SynAckRetransmit)
            return {byTuple(item, false), false}; // never the listener, never the peer
        if (const qint64 id = byOwnSock(item.sockId))
            return {id, false};
        if (const qint64 id = byTuple(item, false))
            return {id, false};
        if (item.sockId == 0)
            return {byTuple(item, true), true};
        return {};
    }
    if (std::holds_alternative<DropEvent>(item.value)) {
        if (const qint64 id = byOwnSock(item.sockId))
            return {id, false};
        // The packet's destination is local (received, the usual drop) or its source (sent).
        if (const qint64 id = byTuple(item, true))
            return {id, false};
        if (const qint64 id = byTuple(item, false))
            return {id, false};
        const qint64 listener = m_tracker.idForSock(item.sockId);
        const Connection *c = m_tracker.find(listener);
        return {c && c->role == ConnectionRole::Listener ? listener : 0, false};
    }
    return {listenerFor(item), false};
}

TupleKey KernelJoiner::holdKey(const Item &item) const
{
    if (std::holds_alternative<ListenerSample>(item.value))
        return TupleKey::listener(item.a.family(), item.aPort);
    if (item.aPort == 0 || item.bPort == 0)
        return {}; // no tuple to wait for
    return PacketJoiner::tupleKey(item.a, item.aPort, item.b, item.bPort).canonical();
}

void KernelJoiner::add(Item &&item)
{
    const quint64 monoNs = item.monoNs;
    const Target t = target(item);
    if (t.id != 0) {
        // The common case (a sample of a known socket) builds no key unless something waits.
        if (!m_held.isEmpty()) {
            if (const TupleKey key = holdKey(item); !key.isNull() && m_held.contains(key))
                retryGroup(key); // earlier records of this tuple go first
        }
        deliver(std::move(item), t);
        noteTime(monoNs);
        return;
    }
    const TupleKey key = m_tracker.wasEvicted(item.sockId) ? TupleKey() : holdKey(item);
    if (key.isNull()) {
        deliver(std::move(item), t);
    } else {
        Held &group = m_held[key];
        if (group.items.isEmpty()) {
            group.firstMonoNs = monoNs;
            m_nextDeadline = std::min(m_nextDeadline, monoNs + quint64(m_limits.holdNs));
        }
        group.items.append(std::move(item));
        ++m_heldCount;
        if (group.items.size() >= m_limits.maxHeldPerTuple)
            decideGroup(key);
        if (m_heldCount > m_limits.maxHeld)
            expire(false);
    }
    noteTime(monoNs);
}

void KernelJoiner::summarize(Connection &c, const Item &item, bool viaPeer)
{
    KernelSummary &k = c.kernel;
    if (const auto *s = std::get_if<TcpSample>(&item.value)) {
        ++k.samples;
        if ((s->fields & TS_SAMPLE_RTT) && s->srttUs > 0) {
            k.srttUsMin = k.srttUsMin == 0 ? s->srttUs : std::min(k.srttUsMin, s->srttUs);
            k.srttUsMax = std::max(k.srttUsMax, s->srttUs);
        }
        if (s->fields & TS_SAMPLE_CWND)
            k.cwndMax = std::max(k.cwndMax, s->cwnd);
    } else if (const auto *e = std::get_if<KernelEvent>(&item.value)) {
        if (viaPeer)
            return;
        const quint32 segs = std::max<quint32>(e->segs, 1);
        switch (e->kind) {
        case KernelEventKind::Retransmit:
            if (e->err == 0) { // a resend the kernel failed to send did not reach the wire
                k.retransmits += segs;
                if (e->tcpFlags & TS_TCP_SYN)
                    k.synRetransmits += segs;
            }
            break;
        case KernelEventKind::SynAckRetransmit:
            k.synAckRetransmits += segs;
            break;
        case KernelEventKind::ResetSent:
            ++k.resetsSent;
            break;
        case KernelEventKind::ResetReceived:
            ++k.resetsReceived;
            break;
        case KernelEventKind::CongestionState:
            break;
        }
    } else if (std::holds_alternative<DropEvent>(item.value)) {
        ++k.drops;
    } else if (const auto *l = std::get_if<ListenerSample>(&item.value)) {
        auto first = m_firstListenDrops.constFind(c.id);
        if (first == m_firstListenDrops.cend()) {
            // A listener whose listen() we saw was born with 0 drops (the 100 ms poll may first
            // see it after some); one that predates the capture counts from its first sample.
            const bool bornHere =
                !c.history.isEmpty() && c.history.constFirst().to == TcpState::Listen;
            first = m_firstListenDrops.insert(c.id, bornHere ? 0 : l->drops);
        }
        k.listenDrops = l->drops >= *first ? quint32(l->drops - *first) : 0;
        k.backlogMax = std::max(k.backlogMax, l->backlog);
    }
}

void KernelJoiner::deliver(Item &&item, const Target &t)
{
    Connection *c = t.id != 0 ? m_tracker.findMutable(t.id) : nullptr;
    const qint64 id = c ? t.id : 0;
    if (c) {
        summarize(*c, item, t.viaPeer);
        m_tracker.markChanged(id);
    } else {
        ++m_unjoined;
        if (m_tracker.wasEvicted(item.sockId))
            ++m_late;
    }
    std::visit(
        [&](auto &v) {
            v.connectionId = id;
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, TcpSample>)
                m_out.samples.append(std::move(v));
            else if constexpr (std::is_same_v<T, KernelEvent>)
                m_out.events.append(std::move(v));
            else if constexpr (std::is_same_v<T, DropEvent>)
                m_out.drops.append(std::move(v));
            else
                m_out.listeners.append(std::move(v));
        },
        item.value);
}

void KernelJoiner::retryGroup(const TupleKey &key)
{
    const auto it = m_held.find(key);
    if (it == m_held.end())
        return;
    // Each record decides for itself (on loopback one tuple holds both ends' records); the
    // ones still without a connection keep waiting, in order, with the group's deadline.
    QVector<Item> items = std::move(it->items);
    QVector<Item> still;
    for (Item &item : items) {
        const Target t = target(item);
        if (t.id != 0)
            deliver(std::move(item), t);
        else
            still.append(std::move(item));
    }
    m_heldCount -= items.size() - still.size();
    if (still.isEmpty())
        m_held.erase(m_held.find(key));
    else
        m_held[key].items = std::move(still);
}

qint64 KernelJoiner::found(const Held &group)
{
    for (const Item &item : group.items) {
        if (item.sockId == 0 || m_tracker.idForSock(item.sockId) != 0 ||
            m_tracker.wasEvicted(item.sockId))
            continue;
        if (const auto *l = std::get_if<ListenerSample>(&item.value)) {
            // A listener that predates the capture, as sock_diag reports it.
            Connection c;
            c.sockId = item.sockId;
            c.localAddr = l->addr;
            c.localPort = l->port;
            c.remoteAddr = IpAddress::any(l->addr.family());
            c.role = ConnectionRole::Listener;
            c.state = TcpState::Listen;
            c.startNs = timeOf(group.items.constFirst());
            const qint64 id = m_tracker.addFromPacket(std::move(c));
            m_listenerByFamilyPort.insert(familyPort(item.a.family(), item.aPort), id);
            if (!m_listenerByPort.contains(item.aPort))
                m_listenerByPort.insert(item.aPort, id);
            return id;
        }
        const auto *e = std::get_if<KernelEvent>(&item.value);
        const bool sample = std::holds_alternative<TcpSample>(item.value);
        if ((sample || (e && e->kind != KernelEventKind::SynAckRetransmit)) &&
            PacketJoiner::isConnectionSocketState(item.sockState) && item.aPort != 0 &&
            item.bPort != 0) {
            // A connection that predates the capture, known only from the kernel's records.
            PacketJoiner::PredatingSocket s;
            s.sockId = item.sockId;
            s.local = item.a;
            s.localPort = item.aPort;
            s.remote = item.b;
            s.remotePort = item.bPort;
            s.state = item.sockState;
            return m_packets.addPredating(s, timeOf(group.items.constFirst()));
        }
    }
    return 0;
}

void KernelJoiner::decideGroup(const TupleKey &key)
{
    retryGroup(key); // someone may have claimed the tuple meanwhile
    auto it = m_held.find(key);
    if (it == m_held.end())
        return;
    if (found(*it) != 0) {
        retryGroup(key);
        it = m_held.find(key);
        if (it == m_held.end())
            return;
    }
    QVector<Item> items = std::move(it->items);
    m_held.erase(it);
    m_heldCount -= items.size();
    for (Item &item : items) {
        // A SYN-ACK resent for a request that no connection ever came of (a half-open that
        // was reset, timed out or is still waiting) belongs to the listener it was sent for.
        const auto *e = std::get_if<KernelEvent>(&item.value);
        const bool halfOpen = e && e->kind == KernelEventKind::SynAckRetransmit;
        deliver(std::move(item), Target{halfOpen ? listenerFor(item) : 0, false});
    }
}

void KernelJoiner::forget(const QVector<Connection> &evicted)
{
    for (const Connection &c : evicted) {
        m_firstListenDrops.remove(c.id);
        if (c.role != ConnectionRole::Listener)
            continue;
        // Normally gone when it stopped listening; a listener that closed without that change
        // (a lost record) must not keep the port.
        const quint32 key = familyPort(c.family(), c.localPort);
        if (m_listenerByFamilyPort.value(key) == c.id)
            m_listenerByFamilyPort.remove(key);
        if (m_listenerByPort.value(c.localPort) == c.id)
            m_listenerByPort.remove(c.localPort);
    }
}

void KernelJoiner::noteTime(quint64 monoNs)
{
    if (monoNs > m_nowMonoNs)
        m_nowMonoNs = monoNs;
    if (m_nowMonoNs >= m_nextDeadline)
        expire(false);
}

void KernelJoiner::advanceTo(quint64 monoNs)
{
    noteTime(monoNs);
}

void KernelJoiner::expire(bool all)
{
    // Oldest groups first, so founded connections get ids close to capture order.
    const quint64 hold = quint64(m_limits.holdNs);
    expireHeldGroups(
        m_held, hold, m_nowMonoNs, all, m_limits.maxHeld, [this] { return m_heldCount; },
        [this](const TupleKey &key) { decideGroup(key); });
    quint64 next = ~quint64(0);
    for (auto it = m_held.cbegin(); it != m_held.cend(); ++it)
        next = std::min(next, it->firstMonoNs + hold);
    m_nextDeadline = next;
}

void KernelJoiner::flushAll()
{
    expire(true);
}

KernelData KernelJoiner::takeData()
{
    KernelData out;
    std::swap(out, m_out);
    // Waiting records are delivered late: each batch is put back into time order.
    auto byTime = [](const auto &x, const auto &y) { return x.timeNs < y.timeNs; };
    std::stable_sort(out.samples.begin(), out.samples.end(), byTime);
    std::stable_sort(out.events.begin(), out.events.end(), byTime);
    std::stable_sort(out.drops.begin(), out.drops.end(), byTime);
    std::stable_sort(out.listeners.begin(), out.listeners.end(), byTime);
    return out;
}

} // namespace tcpscope
