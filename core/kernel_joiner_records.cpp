// SPDX-License-Identifier: GPL-3.0-or-later
// KernelJoiner's entry points: tcpinfo/listener records converted to KernelData values (wall
// time, mapped sentinels, reason names) and the join keys they carry. The join itself is in
// kernel_joiner.cpp.
#include "kernel_joiner.h"
#include "model/address.h"

#include <cstring>

namespace tcpscope {

TcpSample KernelJoiner::toSample(const ts_tcp_sample &r, qint64 offset)
{
    TcpSample s;
    s.timeNs = qint64(r.hdr.ts_ns) + offset;
    s.srttUs = r.srtt_us;
    s.rttvarUs = r.rttvar_us;
    s.minRttUs = r.min_rtt_us == ~__u32(0) ? 0 : r.min_rtt_us; // ~0U: no RTT sample yet
    s.cwnd = r.snd_cwnd;
    s.ssthresh = r.snd_ssthresh >= TS_SSTHRESH_INFINITE ? 0 : r.snd_ssthresh;
    s.sndWnd = r.snd_wnd;
    s.rcvWnd = r.rcv_wnd;
    s.packetsOut = r.packets_out;
    s.retransOut = r.retrans_out;
    s.lostOut = r.lost_out;
    s.sackedOut = r.sacked_out;
    s.inFlight = r.in_flight;
    s.mss = r.mss_cache;
    s.totalRetrans = r.total_retrans;
    s.bytesAcked = r.bytes_acked;
    s.bytesReceived = r.bytes_received;
    s.deliveryRate = r.delivery_rate;
    s.caState = r.ca_state;
    s.fields = r.fields;
    return s;
}

KernelEvent KernelJoiner::toEvent(const ts_tcp_event &r, qint64 offset)
{
    KernelEvent e;
    e.timeNs = qint64(r.hdr.ts_ns) + offset;
    e.kind = static_cast<KernelEventKind>(r.kind);
    e.state = r.sk_state <= quint8(TcpState::NewSynRecv) ? r.sk_state : 0;
    e.seq = r.seq;
    e.segs = r.segs;
    e.err = r.err;
    e.tcpFlags = r.tcp_flags;
    e.reason = r.reason;
    e.oldCaState = r.old_ca_state;
    e.newCaState = r.new_ca_state;
    e.srttUs = r.srtt_us;
    e.cwnd = r.snd_cwnd;
    return e;
}

DropEvent KernelJoiner::toDrop(const ts_drop &r, qint64 offset)
{
    DropEvent d;
    d.timeNs = qint64(r.hdr.ts_ns) + offset;
    d.reason = r.reason;
    d.location = r.location;
    d.ifindex = r.ifindex;
    d.srcAddr = IpAddress(familyFromAf(r.family), r.saddr);
    d.srcPort = r.sport;
    d.dstAddr = IpAddress(familyFromAf(r.family), r.daddr);
    d.dstPort = r.dport;
    d.tcpFlags = r.tcp_flags;
    d.sockState = r.sk_state;
    d.seq = r.seq;
    d.ack = r.ack_seq;
    d.payloadLen = r.payload_len;
    return d;
}

ListenerSample KernelJoiner::toListener(const ts_listener_sample &r, qint64 offset)
{
    ListenerSample l;
    l.timeNs = qint64(r.hdr.ts_ns) + offset;
    l.sockId = r.sock_id;
    l.addr = IpAddress(familyFromAf(r.family), r.addr);
    l.port = r.port;
    l.backlog = r.backlog;
    l.maxBacklog = r.max_backlog;
    l.drops = r.drops;
    return l;
}

namespace {

// Samples, events and drops carry their time, socket and 4-tuple in the same fields.
template <typename ItemT, typename Rec>
void fillTuple(ItemT &item, const Rec &rec, quint8 sockState)
{
    item.monoNs = rec.hdr.ts_ns;
    item.sockId = rec.sock_id;
    item.sockState = sockState;
    item.a = IpAddress(familyFromAf(rec.family), rec.saddr);
    item.aPort = rec.sport;
    item.b = IpAddress(familyFromAf(rec.family), rec.daddr);
    item.bPort = rec.dport;
}

} // namespace

QString KernelJoiner::reasonName(quint16 table, quint32 value) const
{
    if (table < std::size(m_reasonNames)) {
        const auto it = m_reasonNames[table].constFind(value);
        if (it != m_reasonNames[table].cend())
            return *it;
    }
    return QStringLiteral("reason %1").arg(value);
}

void KernelJoiner::onReasonName(const ts_reason_name &rec)
{
    if (rec.table == 0 || rec.table >= std::size(m_reasonNames))
        return; // a table this app does not know: nothing refers to it
    const QString name = QString::fromUtf8(rec.name, qsizetype(strnlen(rec.name, sizeof rec.name)));
    if (!name.isEmpty())
        m_reasonNames[rec.table].insert(rec.value, name);
}

void KernelJoiner::onSample(const ts_tcp_sample &rec)
{
    Item item;
    item.value = toSample(rec, m_offsetNs);
    fillTuple(item, rec, rec.state);
    add(std::move(item));
}

void KernelJoiner::onEvent(const ts_tcp_event &rec)
{
    KernelEvent e = toEvent(rec, m_offsetNs);
    if (e.kind == KernelEventKind::ResetSent && e.reason != TS_REASON_NONE)
        e.reasonName = reasonName(TS_REASONS_SK_RST, e.reason);
    Item item;
    item.value = std::move(e);
    fillTuple(item, rec, rec.sk_state);
    add(std::move(item));
}

void KernelJoiner::onDrop(const ts_drop &rec)
{
    DropEvent d = toDrop(rec, m_offsetNs);
    d.reasonName = reasonName(TS_REASONS_SKB_DROP, d.reason);
    Item item;
    item.value = std::move(d);
    fillTuple(item, rec, rec.sk_state);
    add(std::move(item));
}

void KernelJoiner::onListener(const ts_listener_sample &rec)
{
    Item item;
    item.value = toListener(rec, m_offsetNs);
    item.monoNs = rec.hdr.ts_ns;
    item.sockId = rec.sock_id;
    item.sockState = quint8(TcpState::Listen);
    item.a = IpAddress(familyFromAf(rec.family), rec.addr);
    item.aPort = rec.port;
    add(std::move(item));
}

} // namespace tcpscope
