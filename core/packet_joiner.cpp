// SPDX-License-Identifier: GPL-3.0-or-later
#include "packet_joiner.h"
#include "hold_queue.h"
#include "model/address.h"

#include <algorithm>
#include <cstring>
#include <limits>

namespace tcpscope {

namespace {

// The ports and addresses of these parse results are trustworthy enough to join by tuple.
bool tupleTrusted(quint8 parseStatus)
{
    return parseStatus == TS_PARSE_OK || parseStatus == TS_PARSE_TRUNC_OPTIONS;
}

bool pureSyn(quint8 flags)
{
    return (flags & TS_TCP_SYN) && !(flags & TS_TCP_ACK);
}

// A packet of a handshake in progress: it belongs to whatever connection the handshake makes,
// even if its socket id once named another (evicted) connection.
bool isHandshake(const Packet &p)
{
    switch (static_cast<TcpState>(p.sockState)) {
    case TcpState::SynSent:
    case TcpState::SynRecv:
    case TcpState::NewSynRecv:
        return true;
    default:
        return (p.tcpFlags & TS_TCP_SYN) != 0;
    }
}

} // namespace

void PacketJoiner::setClockOffset(qint64 monoToWallNs)
{
    m_offsetNs = monoToWallNs;
    m_tracker.setClockOffset(monoToWallNs);
}

Packet PacketJoiner::toPacket(const ts_packet &r, qint64 offset, std::span<const quint8> snap)
{
    Packet p;
    p.timeNs = qint64(r.hdr.ts_ns) + offset;
    p.sockId = r.sock_id;
    p.ifindex = r.ifindex;
    p.direction = r.direction == TS_DIR_EGRESS ? PacketDirection::Out : PacketDirection::In;
    p.parseStatus = r.parse_status;
    p.sockState = r.sock_state;
    p.srcAddr = IpAddress(familyFromAf(r.family), r.saddr);
    p.dstAddr = IpAddress(familyFromAf(r.family), r.daddr);
    p.srcPort = r.sport;
    p.dstPort = r.dport;
    p.seq = r.seq;
    p.ack = r.ack_seq;
    p.tcpFlags = r.tcp_flags;
    p.window = r.window;
    p.urgPtr = r.urg_ptr;
    p.payloadLen = r.payload_len;
    p.skbLen = r.skb_len;
    p.gsoSegs = r.gso_segs;
    p.gsoSize = r.gso_size;
    p.ttl = r.ip_ttl;
    p.tos = r.ip_tos;
    p.vlanTci = r.vlan_tci;
    p.vlanDepth = r.vlan_depth;
    p.ipFrag = r.ip_frag;
    p.ipId = r.ip_id;
    p.ipHdrLen = r.ip_hdr_len;
    p.tcpHdrLen = r.tcp_hdr_len;
    // Never trust a length field further than the array it describes.
    static_assert(TcpOptionBytes::kMax == TS_TCP_OPTIONS_MAX);
    p.options = TcpOptionBytes(r.options, std::min<int>(r.opt_len, TS_TCP_OPTIONS_MAX));
    if (!snap.empty())
        p.payload = QByteArray(reinterpret_cast<const char *>(snap.data()),
                               qsizetype(std::min<std::size_t>(snap.size(), TS_SNAP_MAX)));
    return p;
}

// Socket states that mean "a connection's own socket" (kernel TCP_* numbers): its records may
// found a connection of their own when no lifecycle record ever names it. Request sockets
// (SYN_RECV/NEW_SYN_RECV) belong to a child that will appear; TIME_WAIT and LISTEN sockets are
// not connections.
bool PacketJoiner::isConnectionSocketState(quint8 state)
{
    switch (static_cast<TcpState>(state)) {
    case TcpState::Established:
    case TcpState::SynSent:
    case TcpState::FinWait1:
    case TcpState::FinWait2:
    case TcpState::CloseWait:
    case TcpState::LastAck:
    case TcpState::Closing:
        return true;
    default:
        return false;
    }
}

TupleKey PacketJoiner::tupleKey(const IpAddress &local, quint16 localPort, const IpAddress &remote,
                                quint16 remotePort)
{
    return TupleKey::tuple(local, localPort, remote, remotePort);
}

TupleKey PacketJoiner::tupleKey(const Packet &p)
{
    if (p.direction == PacketDirection::Out)
        return tupleKey(p.srcAddr, p.srcPort, p.dstAddr, p.dstPort);
    return tupleKey(p.dstAddr, p.dstPort, p.srcAddr, p.srcPort);
}

TupleKey PacketJoiner::tupleKey(const ts_state_change &rec)
{
    return TupleKey::tuple(familyFromAf(rec.family), rec.saddr, rec.sport, rec.daddr, rec.dport);
}

qint64 PacketJoiner::addPredating(const PredatingSocket &s, qint64 startNs)
{
    Connection c;
    c.sockId = s.sockId;
    c.localAddr = s.local;
    c.localPort = s.localPort;
    c.remoteAddr = s.remote;
    c.remotePort = s.remotePort;
    c.role = ConnectionRole::Unknown;
    c.ownerSource = TS_OWNER_NONE;
    c.startNs = startNs;
    c.state = static_cast<TcpState>(s.state);
    const qint64 id = m_tracker.addFromPacket(std::move(c));
    const TupleKey key = tupleKey(s.local, s.localPort, s.remote, s.remotePort);
    registerTuple(key, id);
    drainHeld(key, id); // its packets waiting for it go first
    return id;
}

void PacketJoiner::registerTuple(const TupleKey &key, qint64 id)
{
    TupleEntry &e = m_tuples[key];
    if (e.id != id) {
        if (e.id != 0) {
            // The next instance on a used tuple: the old one keeps what is stamped before the
            // new one's SYN (or, without a SYN seen, before the new connection's start).
            // An accepted socket's first state change comes after its handshake, so without
            // a SYN seen the instance starts right after the previous one ended: a late
            // (beyond the reorder window) handshake packet must not go to the old one.
            const Connection *c = m_tracker.find(id);
            const Connection *prev = m_tracker.find(e.id);
            qint64 start = c ? c->startNs : 0;
            if (e.nextSynNs >= 0)
                start = std::min(start, e.nextSynNs);
            if (prev && !prev->isOpen())
                start = std::min(start, prev->endNs + 1);
            e.prevId = e.id;
            e.instanceStartNs = start;
        }
        e.id = id;
        e.nextSynNs = -1;
    }
    QVector<TupleKey> &keys = m_keysById[id];
    if (!keys.contains(key))
        keys.append(key);
}

void PacketJoiner::forget(const QVector<Connection> &evicted)
{
    for (const Connection &c : evicted) {
        m_analyzers.erase(c.id);
        const auto it = m_keysById.find(c.id);
        if (it == m_keysById.end())
            continue;
        // A tuple reused by a newer connection stays that connection's.
        for (const TupleKey &key : std::as_const(*it)) {
            const auto t = m_tuples.find(key);
            if (t == m_tuples.end())
                continue;
            if (t->prevId == c.id)
                t->prevId = 0;
            if (t->id == c.id)
                m_tuples.erase(t);
        }
        m_keysById.erase(it);
    }
}

void PacketJoiner::noteTime(quint64 monoNs)
{
    if (monoNs > m_nowMonoNs)
        m_nowMonoNs = monoNs;
    if (m_nowMonoNs >= m_nextDeadline)
        expire(false);
}

void PacketJoiner::onStateChange(const ts_state_change &rec)
{
    m_tracker.onStateChange(rec);
    const qint64 id = m_tracker.idForSock(rec.sock_id);
    // Listeners have no remote end; sockets that have not bound/connected yet no tuple.
    if (id != 0 && rec.sport != 0 && rec.dport != 0 && rec.newstate != quint8(TcpState::Listen)) {
        const TupleKey key = tupleKey(rec);
        registerTuple(key, id);
        drainHeld(key, id);
    }
    noteTime(rec.hdr.ts_ns);
}

void PacketJoiner::onCloseStats(const ts_close_stats &rec)
{
    m_tracker.onCloseStats(rec);
    noteTime(rec.hdr.ts_ns);
}

bool PacketJoiner::aliveAt(qint64 id, qint64 timeNs, bool syn) const
{
    const Connection *c = m_tracker.find(id);
    if (!c)
        return false;
    const bool timeWait = c->state == TcpState::TimeWait;
    if (c->isOpen() && !timeWait)
        return true;
    if (syn) // a SYN after the end (or in TIME_WAIT) starts the next instance
        return c->isOpen() ? false : timeNs <= c->endNs;
    return c->isOpen() || timeNs - c->endNs <= m_limits.closedJoinNs;
}

qint64 PacketJoiner::tupleTargetAt(const TupleKey &key, qint64 timeNs, bool syn) const
{
    const auto it = m_tuples.constFind(key);
    if (it == m_tuples.cend())
        return 0;
    const TupleEntry &e = *it;
    if (e.prevId != 0 && timeNs < e.instanceStartNs)
        return aliveAt(e.prevId, timeNs, syn) ? e.prevId : 0; // stamped before this instance
    if (e.nextSynNs >= 0 && timeNs >= e.nextSynNs)
        return 0; // the next instance's handshake has begun: not this connection any more
    return aliveAt(e.id, timeNs, syn) ? e.id : 0;
}

bool PacketJoiner::lateForEvicted(const Packet &p) const
{
    return m_tracker.wasEvicted(p.sockId) && !isHandshake(p);
}

qint64 PacketJoiner::joinTarget(const Packet &p) const
{
    // A listener is never "the connection" of a packet (the kernel side reports 0 for it; a
    // listener id here would come from a different lookup rule): fall through to the tuple.
    const bool trusted = tupleTrusted(p.parseStatus);
    if (const qint64 id = m_tracker.idForSock(p.sockId); id != 0) {
        const Connection *c = m_tracker.find(id);
        if (c && c->role != ConnectionRole::Listener) {
            if (!trusted || (c->isOpen() && c->state != TcpState::TimeWait))
                return id;
            // A closed or TIME_WAIT connection by socket id (the timewait socket keeps the
            // cookie of its full socket): only while it is the instance alive on its tuple.
            const TupleKey key = tupleKey(p);
            const bool syn = pureSyn(p.tcpFlags);
            const auto e = m_tuples.constFind(key);
            const bool superseded =
                e != m_tuples.cend() && ((e->nextSynNs >= 0 && p.timeNs >= e->nextSynNs) ||
                                         (e->id != id && p.timeNs >= e->instanceStartNs));
            if (superseded || (syn && (c->isOpen() || p.timeNs > c->endNs)))
                return tupleTargetAt(key, p.timeNs, syn);
            return id;
        }
    }
    // The socket of an evicted connection: its tuple may name a newer connection by now.
    if (!trusted || lateForEvicted(p))
        return 0;
    return tupleTargetAt(tupleKey(p), p.timeNs, pureSyn(p.tcpFlags));
}

void PacketJoiner::noteSyn(Packet &p, qint64 target)
{
    // The first SYN of a next instance on a tuple whose connection closed (or is in TIME_WAIT):
    // from its time on the old connection takes no tuple joins, and it is flagged as reuse.
    const auto it = m_tuples.find(tupleKey(p));
    if (it == m_tuples.end() || it->id == 0 || it->id == target || it->nextSynNs >= 0)
        return;
    const Connection *c = m_tracker.find(it->id);
    if (!c || (c->isOpen() && c->state != TcpState::TimeWait))
        return;
    if (!c->isOpen() && p.timeNs <= c->endNs)
        return; // stamped before the old one ended: a late SYN of it, not a new instance
    it->nextSynNs = p.timeNs;
    p.analysis |= AnalysisPortsReused;
    ++m_portsReused;
}

void PacketJoiner::onPacket(const ts_packet &rec, std::span<const quint8> snap)
{
    Packet p = toPacket(rec, m_offsetNs, snap);
    const qint64 target = joinTarget(p);
    if (pureSyn(p.tcpFlags) && tupleTrusted(p.parseStatus))
        noteSyn(p, target);
    if (target != 0 || !tupleTrusted(p.parseStatus) || lateForEvicted(p)) {
        if (target != 0 && !m_held.isEmpty() && tupleTrusted(p.parseStatus))
            drainHeld(tupleKey(p), target); // earlier packets of this tuple go first
        deliver(std::move(p), target);
    } else {
        const TupleKey key = tupleKey(p);
        Held &group = m_held[key];
        if (group.packets.isEmpty()) {
            group.firstMonoNs = rec.hdr.ts_ns;
            m_nextDeadline = std::min(m_nextDeadline, rec.hdr.ts_ns + quint64(m_limits.holdNs));
        }
        group.packets.append(std::move(p));
        ++m_heldCount;
        if (group.packets.size() >= m_limits.maxHeldPerTuple)
            decideGroup(key);
        if (m_heldCount > m_limits.maxHeld)
            expire(false);
    }
    noteTime(rec.hdr.ts_ns);
}

void PacketJoiner::onInterface(const ts_interface &rec)
{
    InterfaceInfo info;
    info.ifindex = rec.ifindex;
    info.name = QString::fromUtf8(rec.name, qsizetype(strnlen(rec.name, sizeof rec.name)));
    info.attach = rec.attach <= TS_ATTACH_FAILED ? rec.attach : quint8(TS_ATTACH_FAILED);
    const auto it = std::find_if(m_interfaces.begin(), m_interfaces.end(),
                                 [&](const InterfaceInfo &i) { return i.ifindex == rec.ifindex; });
    if (it == m_interfaces.end())
        m_interfaces.append(info);
    else if (*it == info)
        return;
    else
        *it = info; // re-attached, detached or renamed: the latest word counts
    m_interfacesChanged = true;
}

void PacketJoiner::advanceTo(quint64 monoNs)
{
    noteTime(monoNs);
}

void PacketJoiner::deliver(Packet &&p, qint64 connectionId)
{
    // Set before the analysis (which rewrites the flags) from the tuple's instance history.
    const quint32 reused = p.analysis & AnalysisPortsReused;
    p.connectionId = connectionId;
    Connection *c = connectionId != 0 ? m_tracker.findMutable(connectionId) : nullptr;
    if (c) {
        TcpAnalyzer &analyzer = m_analyzers[connectionId];
        analyzer.analyze(p);
        p.analysis |= reused;
        c->packets = analyzer.counts();
        m_tracker.markChanged(connectionId);
    } else {
        p.connectionId = 0;
        // No connection to analyse against; a fresh analyzer still flags RST and malformed.
        TcpAnalyzer single;
        single.analyze(p);
        p.analysis |= reused;
        ++m_unjoined;
        if (lateForEvicted(p))
            ++m_late;
    }
    m_out.append(std::move(p));
}

void PacketJoiner::drainHeld(const TupleKey &key, qint64 connectionId)
{
    const auto it = m_held.find(key);
    if (it == m_held.end())
        return;
    QVector<Packet> packets = std::move(it->packets);
    m_held.erase(it);
    m_heldCount -= packets.size();
    for (Packet &p : packets)
        deliver(std::move(p), connectionId);
}

void PacketJoiner::decideGroup(const TupleKey &key)
{
    const auto it = m_held.constFind(key);
    if (it == m_held.cend())
        return;
    // Someone may have claimed the tuple meanwhile (a closed connection's trailing packets).
    qint64 id = joinTarget(it->packets.constFirst());
    if (id == 0) {
        const auto founder =
            std::find_if(it->packets.cbegin(), it->packets.cend(), [this](const Packet &p) {
                // The socket of an evicted connection is late, not a connection predating us.
                return p.sockId != 0 && isConnectionSocketState(p.sockState) && !lateForEvicted(p);
            });
        if (founder != it->packets.cend()) {
            // A connection that predates the capture: known only from its packets.
            const Packet &f = *founder;
            const bool out = f.direction == PacketDirection::Out;
            PredatingSocket s;
            s.sockId = f.sockId;
            s.local = out ? f.srcAddr : f.dstAddr;
            s.localPort = out ? f.srcPort : f.dstPort;
            s.remote = out ? f.dstAddr : f.srcAddr;
            s.remotePort = out ? f.dstPort : f.srcPort;
            s.state = f.sockState;
            const qint64 startNs = it->packets.constFirst().timeNs;
            addPredating(s, startNs); // delivers the held group: it is this key's
            return;
        }
    }
    drainHeld(key, id); // id 0: unjoined
}

void PacketJoiner::expire(bool all)
{
    // Oldest groups first, so ids stay close to capture order. The next deadline is that of
    // the groups not yet due, taken before any is decided.
    quint64 next = ~quint64(0);
    const quint64 hold = quint64(m_limits.holdNs);
    for (auto it = m_held.cbegin(); it != m_held.cend(); ++it) {
        if (!(all || it->firstMonoNs + hold <= m_nowMonoNs))
            next = std::min(next, it->firstMonoNs + hold);
    }
    const bool capped = expireHeldGroups(
        m_held, hold, m_nowMonoNs, all, m_limits.maxHeld, [this] { return m_heldCount; },
        [this](const TupleKey &key) { decideGroup(key); });
    if (capped) {
        // Groups gave up early: recompute from what is still held.
        next = ~quint64(0);
        for (auto it = m_held.cbegin(); it != m_held.cend(); ++it)
            next = std::min(next, it->firstMonoNs + hold);
    }
    m_nextDeadline = next;
}

void PacketJoiner::flushAll()
{
    expire(true);
}

qint64 PacketJoiner::heldWatermarkNs() const
{
    qint64 oldest = std::numeric_limits<qint64>::max();
    for (auto it = m_held.cbegin(); it != m_held.cend(); ++it) {
        for (const Packet &p : it->packets)
            oldest = std::min(oldest, p.timeNs);
    }
    return oldest;
}

QVector<Packet> PacketJoiner::takePackets()
{
    // Numbered in time order (ties: order of decision). A packet still held may be older than
    // decided ones: those wait until it is decided, so ids never go back in time.
    // Packets decided late (held for their connection) come after newer ones: the order is
    // found on (time, position) pairs, a stable sort by time that moves 16 bytes per packet
    // instead of the packets, and each packet is then moved once, to where it goes.
    const qsizetype n = m_out.size();
    m_order.clear();
    m_order.reserve(size_t(n));
    bool sorted = true;
    for (qsizetype i = 0; i < n; ++i) {
        const qint64 t = m_out.at(i).timeNs;
        sorted = sorted && (i == 0 || m_order.back().first <= t);
        m_order.emplace_back(t, i);
    }
    if (!sorted)
        std::sort(m_order.begin(), m_order.end());
    const qint64 limit = m_held.isEmpty() ? std::numeric_limits<qint64>::max() : heldWatermarkNs();
    const auto cut = std::lower_bound(m_order.cbegin(), m_order.cend(),
                                      std::pair<qint64, qsizetype>(limit, -1)) -
                     m_order.cbegin();
    QVector<Packet> out;
    out.reserve(cut);
    for (qsizetype k = 0; k < cut; ++k) {
        Packet &p = m_out[m_order[size_t(k)].second];
        p.id = m_nextPacketId++;
        out.append(std::move(p));
    }
    if (cut == n) {
        m_out.clear(); // keeps its capacity for the next packets
        return out;
    }
    QVector<Packet> rest;
    rest.reserve(n - cut);
    for (qsizetype k = cut; k < n; ++k)
        rest.append(std::move(m_out[m_order[size_t(k)].second]));
    m_out.swap(rest);
    return out;
}

bool PacketJoiner::takeInterfacesChanged()
{
    const bool changed = m_interfacesChanged;
    m_interfacesChanged = false;
    return changed;
}

} // namespace tcpscope
