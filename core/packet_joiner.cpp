// SPDX-License-Identifier: GPL-3.0-or-later
#include "packet_joiner.h"
#include "hold_queue.h"
#include "model/address.h"

#include <algorithm>
#include <cstring>

namespace tcpscope {

namespace {

// The ports and addresses of these parse results are trustworthy enough to join by tuple.
bool tupleTrusted(quint8 parseStatus)
{
    return parseStatus == TS_PARSE_OK || parseStatus == TS_PARSE_TRUNC_OPTIONS;
}

void appendKey(QByteArray &key, const quint8 *addr, quint16 port)
{
    key.append(reinterpret_cast<const char *>(addr), 16);
    key.append(char(port >> 8));
    key.append(char(port & 0xff));
}

bool isV4Mapped(const quint8 *a)
{
    static const quint8 prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return std::memcmp(a, prefix, sizeof prefix) == 0;
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
    p.family = familyFromAf(r.family);
    std::memcpy(p.srcAddr.data(), r.saddr, 16);
    std::memcpy(p.dstAddr.data(), r.daddr, 16);
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
    p.options = QByteArray(reinterpret_cast<const char *>(r.options),
                           std::min<int>(r.opt_len, TS_TCP_OPTIONS_MAX));
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

QByteArray PacketJoiner::tupleKey(int family, const quint8 *local, quint16 localPort,
                                  const quint8 *remote, quint16 remotePort)
{
    QByteArray key;
    key.reserve(37);
    if (family == 6 && isV4Mapped(local) && isV4Mapped(remote)) {
        // A dual-stack socket talking IPv4: its packets are IPv4 on the wire.
        quint8 l[16] = {}, r[16] = {};
        std::memcpy(l, local + 12, 4);
        std::memcpy(r, remote + 12, 4);
        key.append(char(4));
        appendKey(key, l, localPort);
        appendKey(key, r, remotePort);
        return key;
    }
    if (family != 6) {
        // IPv4 uses the first 4 bytes only; the rest is not guaranteed to be zero (a BPF
        // program writing 4 bytes into a ring buffer slot leaves whatever was there before).
        quint8 l[16] = {}, r[16] = {};
        std::memcpy(l, local, 4);
        std::memcpy(r, remote, 4);
        key.append(char(4));
        appendKey(key, l, localPort);
        appendKey(key, r, remotePort);
        return key;
    }
    key.append(char(6));
    appendKey(key, local, localPort);
    appendKey(key, remote, remotePort);
    return key;
}

QByteArray PacketJoiner::tupleKey(const Packet &p)
{
    if (p.direction == PacketDirection::Out)
        return tupleKey(p.family, p.srcAddr.data(), p.srcPort, p.dstAddr.data(), p.dstPort);
    return tupleKey(p.family, p.dstAddr.data(), p.dstPort, p.srcAddr.data(), p.srcPort);
}

QByteArray PacketJoiner::tupleKey(const ts_state_change &rec)
{
    return tupleKey(familyFromAf(rec.family), rec.saddr, rec.sport, rec.daddr, rec.dport);
}

qint64 PacketJoiner::addPredating(const PredatingSocket &s, qint64 startNs)
{
    Connection c;
    c.sockId = s.sockId;
    c.family = s.family;
    c.localAddr = addressText(s.family, s.local);
    c.localPort = s.localPort;
    c.remoteAddr = addressText(s.family, s.remote);
    c.remotePort = s.remotePort;
    c.role = ConnectionRole::Unknown;
    c.ownerSource = TS_OWNER_NONE;
    c.startNs = startNs;
    c.state = static_cast<TcpState>(s.state);
    const qint64 id = m_tracker.addFromPacket(std::move(c));
    const QByteArray key =
        tupleKey(s.family, s.local.data(), s.localPort, s.remote.data(), s.remotePort);
    registerTuple(key, id);
    drainHeld(key, id); // its packets waiting for it go first
    return id;
}

void PacketJoiner::registerTuple(const QByteArray &key, qint64 id)
{
    m_tupleToId.insert(key, id);
    QVector<QByteArray> &keys = m_keysById[id];
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
        for (const QByteArray &key : std::as_const(*it)) {
            if (m_tupleToId.value(key) == c.id)
                m_tupleToId.remove(key);
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
        const QByteArray key = tupleKey(rec);
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

qint64 PacketJoiner::joinTarget(const Packet &p) const
{
    // A listener is never "the connection" of a packet (the kernel side reports 0 for it; a
    // listener id here would come from a different lookup rule): fall through to the tuple.
    if (const qint64 id = m_tracker.idForSock(p.sockId); id != 0) {
        const Connection *c = m_tracker.find(id);
        if (c && c->role != ConnectionRole::Listener)
            return id;
    }
    // The socket of an evicted connection: its tuple may name a newer connection by now.
    if (!tupleTrusted(p.parseStatus) || m_tracker.wasEvicted(p.sockId))
        return 0;
    const qint64 id = m_tupleToId.value(tupleKey(p), 0);
    const Connection *c = m_tracker.find(id);
    if (!c)
        return 0;
    if (c->isOpen())
        return id;
    const bool pureSyn = (p.tcpFlags & TS_TCP_SYN) && !(p.tcpFlags & TS_TCP_ACK);
    if (!pureSyn && p.timeNs - c->endNs <= m_limits.closedJoinNs)
        return id;
    return 0;
}

void PacketJoiner::onPacket(const ts_packet &rec, std::span<const quint8> snap)
{
    Packet p = toPacket(rec, m_offsetNs, snap);
    const qint64 target = joinTarget(p);
    if (target != 0 || !tupleTrusted(p.parseStatus) || m_tracker.wasEvicted(p.sockId)) {
        if (target != 0 && !m_held.isEmpty() && tupleTrusted(p.parseStatus))
            drainHeld(tupleKey(p), target); // earlier packets of this tuple go first
        deliver(std::move(p), target);
    } else {
        const QByteArray key = tupleKey(p);
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
    p.id = m_nextPacketId++;
    p.connectionId = connectionId;
    Connection *c = connectionId != 0 ? m_tracker.findMutable(connectionId) : nullptr;
    if (c) {
        TcpAnalyzer &analyzer = m_analyzers[connectionId];
        analyzer.analyze(p);
        c->packets = analyzer.counts();
        m_tracker.markChanged(connectionId);
    } else {
        p.connectionId = 0;
        // No connection to analyse against; a fresh analyzer still flags RST and malformed.
        TcpAnalyzer single;
        single.analyze(p);
        ++m_unjoined;
        if (m_tracker.wasEvicted(p.sockId))
            ++m_late;
    }
    m_out.append(std::move(p));
}

void PacketJoiner::drainHeld(const QByteArray &key, qint64 connectionId)
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

void PacketJoiner::decideGroup(const QByteArray &key)
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
                return p.sockId != 0 && isConnectionSocketState(p.sockState) &&
                       !m_tracker.wasEvicted(p.sockId);
            });
        if (founder != it->packets.cend()) {
            // A connection that predates the capture: known only from its packets.
            const Packet &f = *founder;
            const bool out = f.direction == PacketDirection::Out;
            PredatingSocket s;
            s.sockId = f.sockId;
            s.family = f.family;
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
        [this](const QByteArray &key) { decideGroup(key); });
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

QVector<Packet> PacketJoiner::takePackets()
{
    QVector<Packet> out;
    out.swap(m_out);
    return out;
}

bool PacketJoiner::takeInterfacesChanged()
{
    const bool changed = m_interfacesChanged;
    m_interfacesChanged = false;
    return changed;
}

} // namespace tcpscope
