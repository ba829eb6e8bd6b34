// SPDX-License-Identifier: GPL-3.0-or-later
// Builders for synthetic kernel records, shared by the unit and GUI tests.
#pragma once

#include <arpa/inet.h>
#include <cstring>
#include <sys/socket.h>

extern "C" {
#include "tcpscope_records.h"
}

namespace testrec {

// Kernel TCP_* numbers (include/net/tcp_states.h).
enum : __u8
{
    ESTABLISHED = 1,
    SYN_SENT,
    SYN_RECV,
    FIN_WAIT1,
    FIN_WAIT2,
    TIME_WAIT,
    CLOSE,
    CLOSE_WAIT,
    LAST_ACK,
    LISTEN,
    CLOSING,
    NEW_SYN_RECV
};

struct Endpoint
{
    int family = AF_INET;
    const char *local = "127.0.0.1";
    __u16 lport = 0;
    const char *remote = "127.0.0.1";
    __u16 rport = 0;
};

inline ts_state_change change(__u64 sock, __u64 tsNs, __u8 from, __u8 to, const Endpoint &ep,
                              __u32 pid = 100, const char *comm = "client",
                              __u8 owner = TS_OWNER_CURRENT)
{
    ts_state_change r{};
    r.hdr.type = TS_REC_STATE_CHANGE;
    r.hdr.size = sizeof r;
    r.hdr.ts_ns = tsNs;
    r.sock_id = sock;
    r.cgroup_id = 77;
    r.netns_ino = 4026531840u;
    r.pid = pid;
    r.ctx_pid = pid ? pid : 999;
    r.family = __u16(ep.family);
    r.sport = ep.lport;
    r.dport = ep.rport;
    r.oldstate = from;
    r.newstate = to;
    r.owner_source = pid ? owner : __u8(TS_OWNER_NONE);
    inet_pton(ep.family, ep.local, r.saddr);
    inet_pton(ep.family, ep.remote, r.daddr);
    std::strncpy(r.comm, comm, sizeof r.comm - 1);
    std::strncpy(r.ctx_comm, pid ? comm : "swapper/0", sizeof r.ctx_comm - 1);
    return r;
}

inline ts_close_stats closeStats(__u64 sock, __u64 tsNs, __u8 oldstate, __s32 skErr = 0,
                                 __u64 sent = 0, __u64 received = 0)
{
    ts_close_stats s{};
    s.hdr.type = TS_REC_CLOSE_STATS;
    s.hdr.size = sizeof s;
    s.hdr.ts_ns = tsNs;
    s.sock_id = sock;
    s.bytes_acked = sent;
    s.bytes_received = received;
    s.segs_in = 11;
    s.segs_out = 12;
    s.total_retrans = 3;
    s.srtt_us = 45;
    s.min_rtt_us = 20;
    s.sk_err = skErr;
    s.oldstate = oldstate;
    return s;
}

// One TCP packet at TC. `ep` is written from the packet's point of view: src = ep.local:lport,
// dst = ep.remote:rport (so an Out packet of a socket uses its own Endpoint, an In packet the
// swapped one; see swapped()). sock/sockState as bpf_skc_lookup_tcp would report them.
inline ts_packet packet(__u64 sock, __u64 tsNs, __u8 direction, const Endpoint &ep, __u8 flags,
                        __u32 seq = 0, __u32 ack = 0, __u32 payloadLen = 0, __u16 window = 65535,
                        __u8 sockState = ESTABLISHED, __u32 ifindex = 1)
{
    ts_packet p{};
    p.hdr.type = TS_REC_PACKET;
    p.hdr.size = sizeof p;
    p.hdr.ts_ns = tsNs;
    p.sock_id = sock;
    p.ifindex = ifindex;
    p.seq = seq;
    p.ack_seq = ack;
    p.payload_len = payloadLen;
    p.sport = ep.lport;
    p.dport = ep.rport;
    p.window = window;
    p.family = __u16(ep.family);
    p.direction = direction;
    p.tcp_flags = flags;
    p.parse_status = TS_PARSE_OK;
    p.ip_ttl = 64;
    p.ip_hdr_len = ep.family == AF_INET6 ? 40 : 20;
    p.tcp_hdr_len = 20;
    p.skb_len = p.ip_hdr_len + p.tcp_hdr_len + payloadLen;
    p.sock_state = sock ? sockState : 0;
    inet_pton(ep.family, ep.local, p.saddr);
    inet_pton(ep.family, ep.remote, p.daddr);
    return p;
}

// The same connection seen from the other end (local <-> remote).
inline Endpoint swapped(const Endpoint &ep)
{
    return Endpoint{ep.family, ep.remote, ep.rport, ep.local, ep.lport};
}

// ts_packet_snap around packet(), with `len` bytes of `data` as the payload snapshot.
inline ts_packet_snap packetSnap(const ts_packet &pkt, const void *data, __u16 len)
{
    ts_packet_snap s{};
    s.pkt = pkt;
    s.pkt.hdr.type = TS_REC_PACKET_SNAP;
    s.pkt.hdr.size = sizeof s;
    s.snap_len = len > TS_SNAP_MAX ? TS_SNAP_MAX : len;
    std::memcpy(s.data, data, s.snap_len);
    return s;
}

inline ts_interface interface(__u32 ifindex, const char *name, __u8 attach = TS_ATTACH_TCX,
                              __u64 tsNs = 0)
{
    ts_interface i{};
    i.hdr.type = TS_REC_INTERFACE;
    i.hdr.size = sizeof i;
    i.hdr.ts_ns = tsNs;
    i.ifindex = ifindex;
    i.attach = attach;
    std::strncpy(i.name, name, sizeof i.name - 1);
    return i;
}

// ---- tcpinfo records -------------------------------------------------------------

// One tcp_probe sample of the socket with Endpoint `ep` (local/remote), all fields valid.
inline ts_tcp_sample tcpSample(__u64 sock, __u64 tsNs, const Endpoint &ep, __u32 srttUs, __u32 cwnd,
                               __u8 state = ESTABLISHED,
                               __u16 fields = 0x1ff /* every TS_SAMPLE_* bit */)
{
    ts_tcp_sample s{};
    s.hdr.type = TS_REC_TCP_SAMPLE;
    s.hdr.size = sizeof s;
    s.hdr.ts_ns = tsNs;
    s.sock_id = sock;
    s.bytes_acked = 1000;
    s.bytes_received = 2000;
    s.delivery_rate = 125000;
    s.srtt_us = srttUs;
    s.rttvar_us = srttUs / 2;
    s.min_rtt_us = srttUs / 2;
    s.snd_cwnd = cwnd;
    s.snd_ssthresh = TS_SSTHRESH_INFINITE;
    s.snd_wnd = 65536;
    s.rcv_wnd = 131072;
    s.packets_out = 4;
    s.in_flight = 4;
    s.mss_cache = 1448;
    s.fields = fields;
    s.family = __u16(ep.family);
    s.sport = ep.lport;
    s.dport = ep.rport;
    s.state = state;
    inet_pton(ep.family, ep.local, s.saddr);
    inet_pton(ep.family, ep.remote, s.daddr);
    return s;
}

// A discrete event of the socket with Endpoint `ep` (local/remote as the hook gives them).
inline ts_tcp_event tcpEvent(__u64 sock, __u64 tsNs, __u8 kind, const Endpoint &ep, __u16 segs = 1,
                             __s32 err = 0, __u8 flags = 0, __u32 reason = TS_REASON_NONE,
                             __u8 state = ESTABLISHED)
{
    ts_tcp_event e{};
    e.hdr.type = TS_REC_TCP_EVENT;
    e.hdr.size = sizeof e;
    e.hdr.ts_ns = tsNs;
    e.sock_id = sock;
    e.reason = reason;
    e.seq = 1000;
    e.err = err;
    e.segs = segs;
    e.family = __u16(ep.family);
    e.sport = ep.lport;
    e.dport = ep.rport;
    e.kind = kind;
    e.sk_state = state;
    e.tcp_flags = flags;
    inet_pton(ep.family, ep.local, e.saddr);
    inet_pton(ep.family, ep.remote, e.daddr);
    return e;
}

// A dropped packet; `ep` from the packet's point of view (src = ep.local:lport, like packet()).
inline ts_drop drop(__u64 sock, __u64 tsNs, const Endpoint &ep, __u32 reason, __u8 flags,
                    __u8 sockState = 0)
{
    ts_drop d{};
    d.hdr.type = TS_REC_DROP;
    d.hdr.size = sizeof d;
    d.hdr.ts_ns = tsNs;
    d.sock_id = sock;
    d.location = 0xffffffff81abcdefull;
    d.reason = reason;
    d.ifindex = 1;
    d.seq = 100;
    d.family = __u16(ep.family);
    d.sport = ep.lport;
    d.dport = ep.rport;
    d.tcp_flags = flags;
    d.sk_state = sockState;
    inet_pton(ep.family, ep.local, d.saddr);
    inet_pton(ep.family, ep.remote, d.daddr);
    return d;
}

inline ts_listener_sample listenerSample(__u64 sock, __u64 tsNs, int family, const char *addr,
                                         __u16 port, __u32 backlog, __u32 maxBacklog, __u64 drops)
{
    ts_listener_sample l{};
    l.hdr.type = TS_REC_LISTENER;
    l.hdr.size = sizeof l;
    l.hdr.ts_ns = tsNs;
    l.sock_id = sock;
    l.drops = drops;
    l.backlog = backlog;
    l.max_backlog = maxBacklog;
    l.netns_ino = 4026531840u;
    l.family = __u16(family);
    l.port = port;
    inet_pton(family, addr, l.addr);
    return l;
}

inline ts_reason_name reasonName(__u16 table, __u32 value, const char *name)
{
    ts_reason_name r{};
    r.hdr.type = TS_REC_REASON_NAME;
    r.hdr.size = sizeof r;
    r.table = table;
    r.value = value;
    std::strncpy(r.name, name, sizeof r.name - 1);
    return r;
}

} // namespace testrec
