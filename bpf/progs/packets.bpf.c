// SPDX-License-Identifier: GPL-3.0-or-later
/*
 * TCP header inspection at TC ingress and egress of every interface. Copies header fields (and
 * the raw TCP option bytes) into fixed-size ts_packet records; never the packet itself, unless
 * the app asked for a payload snapshot (at most TS_SNAP_MAX bytes). Never changes or drops a
 * packet: both programs always return -1 (TCX_NEXT / TC_ACT_UNSPEC).
 *
 * Every read goes through bpf_skb_load_bytes, which bounds-checks against the skb (including
 * non-linear data) - a truncated or lying header simply fails to load and is recorded as such.
 */
#include "vmlinux.h"

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "owner_filter.bpf.h"
#include "ringbuf_wakeup.bpf.h"
#include "tcpscope_packet_maps.h"

char LICENSE[] SEC("license") = "GPL";

#define ETH_P_IP_ 0x0800
#define ETH_P_IPV6_ 0x86DD
#define ETH_P_8021Q_ 0x8100
#define ETH_P_8021AD_ 0x88A8
#define IPPROTO_TCP_ 6
#define TS_MAX_EXTHDR 8
#define TS_TCP_LISTEN 10
#define TS_TCP_TIME_WAIT 6
#define TS_TCP_NEW_SYN_RECV 12
#define TS_PASS (-1)

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 2 * 1024 * 1024); /* the helper sets the real size before load */
} pkt_events SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct ts_packet_config);
} pkt_config SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 65536);
    __type(key, __u32);
    __type(value, __u8);
} pkt_ports SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __uint(max_entries, 64);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, struct ts_lpm4_key);
    __type(value, __u8);
} pkt_nets4 SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __uint(max_entries, 64);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, struct ts_lpm6_key);
    __type(value, __u8);
} pkt_nets6 SEC(".maps");

/* ifindex -> link header length at TC (TS_L2_ETHERNET or TS_L2_NONE); absent = Ethernet. */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 4096);
    __type(key, __u32);
    __type(value, __u8);
} pkt_l2len SEC(".maps");

/* Failed ring buffer reserves and packets left out by the filter, per CPU. */
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
} pkt_lost SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
} pkt_filtered SEC(".maps");

static __always_inline void count(void *map)
{
    __u32 zero = 0;
    __u64 *v = bpf_map_lookup_elem(map, &zero);
    if (v)
        __sync_fetch_and_add(v, 1);
}

static __always_inline int port_wanted(__u16 port)
{
    __u32 key = port;
    __u8 *v = bpf_map_lookup_elem(&pkt_ports, &key);
    return v && *v;
}

static __always_inline int addr_wanted(const struct ts_packet *p, const __u8 *addr)
{
    if (p->family == 2) {
        struct ts_lpm4_key k = {.prefixlen = 32};
        __builtin_memcpy(k.addr, addr, 4);
        return bpf_map_lookup_elem(&pkt_nets4, &k) != NULL;
    }
    struct ts_lpm6_key k = {.prefixlen = 128};
    __builtin_memcpy(k.addr, addr, 16);
    return bpf_map_lookup_elem(&pkt_nets6, &k) != NULL;
}

/* Cookie of a socket the program holds, without allocating one: a cookie of 0 was never allocated
 * (no lifecycle record asked for it) and the app joins by 4-tuple then. Request sockets are
 * always joined by tuple (the child gets its own id). */
static __always_inline __u64 cookie_of(struct bpf_sock *sk, __u8 state)
{
    if (state == TS_TCP_TIME_WAIT) {
        struct tcp_timewait_sock *tw = bpf_skc_to_tcp_timewait_sock(sk);
        return tw ? tw->tw_sk.__tw_common.skc_cookie.counter : 0;
    }
    if (state == TS_TCP_NEW_SYN_RECV)
        return 0;
    struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);
    return tp ? tp->inet_conn.icsk_inet.sk.__sk_common.skc_cookie.counter : 0;
}

/* The owner filter's answer for a socket the lookup returned: the kernel socket behind it (a full
 * or listening socket, a request or a TIME_WAIT socket) goes to ts_owner_keep. */
static __always_inline int lookup_owner_keep(struct bpf_sock *sk, __u8 state)
{
    if (state == TS_TCP_TIME_WAIT) {
        struct tcp_timewait_sock *tw = bpf_skc_to_tcp_timewait_sock(sk);

        return tw && owner_keep(tw, tw->tw_sk.__tw_common.skc_cookie.counter);
    }
    if (state == TS_TCP_NEW_SYN_RECV) {
        struct tcp_request_sock *req = bpf_skc_to_tcp_request_sock(sk);

        return req && owner_keep(req, 0);
    }
    struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);
    return tp && owner_keep(tp, tp->inet_conn.icsk_inet.sk.__sk_common.skc_cookie.counter);
}

/* The local socket of this packet, by the kernel's own lookup (see tcpscope_records.h). keep:
 * set to the owner filter's answer when there is a filter (left 0 when there is no socket). */
static __always_inline void find_socket(struct __sk_buff *skb, struct ts_packet *p, int owners,
                                        int *keep)
{
    struct bpf_sock_tuple t = {};
    __u32 tuple_size;
    const int in = p->direction == TS_DIR_INGRESS;
    const __u8 *remote = in ? p->saddr : p->daddr;
    const __u8 *local = in ? p->daddr : p->saddr;
    const __u16 rport = in ? p->sport : p->dport;
    const __u16 lport = in ? p->dport : p->sport;

    if (p->family == 2) {
        __builtin_memcpy(&t.ipv4.saddr, remote, 4);
        __builtin_memcpy(&t.ipv4.daddr, local, 4);
        t.ipv4.sport = bpf_htons(rport);
        t.ipv4.dport = bpf_htons(lport);
        tuple_size = sizeof(t.ipv4);
    } else {
        __builtin_memcpy(t.ipv6.saddr, remote, 16);
        __builtin_memcpy(t.ipv6.daddr, local, 16);
        t.ipv6.sport = bpf_htons(rport);
        t.ipv6.dport = bpf_htons(lport);
        tuple_size = sizeof(t.ipv6);
    }
    struct bpf_sock *sk = bpf_skc_lookup_tcp(skb, &t, tuple_size, BPF_F_CURRENT_NETNS, 0);
    if (!sk)
        return;
    const __u8 state = (__u8)sk->state;
    if (state != TS_TCP_LISTEN) {
        p->sock_state = state;
        p->sock_id = cookie_of(sk, state);
    }
    if (owners)
        *keep = lookup_owner_keep(sk, state);
    bpf_sk_release(sk);
}

/* States in which a full TCP socket is in the kernel's established hash under its 4-tuple
 * (SYN_SENT .. CLOSING except TIME_WAIT, CLOSE and LISTEN): bits 1-5, 8, 9, 11. */
#define TS_HASHED_STATES 0x0b3e

extern void *bpf_cast_to_kern_ctx(void *obj) __ksym __weak;

/* At egress a locally sent packet usually carries its socket (skb->sk). It is the answer
 * find_socket() would get, without the hash lookup and its two atomic reference-count updates,
 * when the kernel guarantees that: a full socket in a hashed state (the established hash holds
 * one socket per 4-tuple and network namespace), whose 4-tuple is the packet's (not rewritten by
 * NAT on the way) and whose namespace is the one the lookup searches (the device's: skb->sk
 * survives a veth hop into another namespace). Anything else - no socket, a request or
 * TIME_WAIT socket, a control socket sending an RST, a closed socket - returns 0 and the caller
 * asks the lookup. */
static __always_inline int socket_from_skb(struct __sk_buff *skb, struct ts_packet *p, int owners,
                                           int *keep)
{
    struct bpf_sock *sk = skb->sk;
    if (!sk)
        return 0;
    const __u32 state = sk->state;
    if (state > 11 || !((1u << state) & TS_HASHED_STATES))
        return 0;
    if (sk->src_port != p->sport || sk->dst_port != bpf_htons(p->dport))
        return 0;
    if (p->family == 2) {
        __u32 sa, da;
        __builtin_memcpy(&sa, p->saddr, 4);
        __builtin_memcpy(&da, p->daddr, 4);
        if (sk->src_ip4 != sa || sk->dst_ip4 != da)
            return 0;
    } else {
        __u32 sa[4], da[4];
        __builtin_memcpy(sa, p->saddr, 16);
        __builtin_memcpy(da, p->daddr, 16);
        if (sk->src_ip6[0] != sa[0] || sk->src_ip6[1] != sa[1] || sk->src_ip6[2] != sa[2] ||
            sk->src_ip6[3] != sa[3] || sk->dst_ip6[0] != da[0] || sk->dst_ip6[1] != da[1] ||
            sk->dst_ip6[2] != da[2] || sk->dst_ip6[3] != da[3])
            return 0;
    }
    struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);
    if (!tp)
        return 0;
    const struct sk_buff *kskb = bpf_cast_to_kern_ctx(skb);
    const struct net_device *dev = kskb->dev;
    if (dev && dev->nd_net.net != tp->inet_conn.icsk_inet.sk.__sk_common.skc_net.net)
        return 0;
    p->sock_state = (__u8)state;
    p->sock_id = tp->inet_conn.icsk_inet.sk.__sk_common.skc_cookie.counter;
    if (owners)
        *keep = owner_keep(tp, p->sock_id);
    return 1;
}

static __always_inline void emit(struct __sk_buff *skb, const struct ts_packet *p,
                                 const struct ts_packet_config *cfg, __u32 payload_off)
{
    if (cfg && cfg->payload && p->parse_status == TS_PARSE_OK) {
        struct ts_packet_snap *s = bpf_ringbuf_reserve(&pkt_events, sizeof(*s), 0);
        if (!s) {
            count(&pkt_lost);
            return;
        }
        __builtin_memcpy(&s->pkt, p, sizeof(*p));
        s->pkt.hdr.type = TS_REC_PACKET_SNAP;
        s->pkt.hdr.size = sizeof(*s);
        s->snap_len = 0;
        __u32 len = cfg->snap_len;
        __u32 avail = skb->len > payload_off ? skb->len - payload_off : 0;
        if (len > avail)
            len = avail;
        if (len > p->payload_len)
            len = p->payload_len;
        if (len > TS_SNAP_MAX)
            len = TS_SNAP_MAX;
        if (len > 0) {
            /* 1..256 by construction, in a form the verifier can see after any reordering */
            const __u32 n = ((len - 1) & (TS_SNAP_MAX - 1)) + 1;
            if (bpf_skb_load_bytes(skb, payload_off, s->data, n) == 0)
                s->snap_len = n;
        }
        bpf_ringbuf_submit(s, ts_submit_flags(&pkt_events));
        return;
    }
    struct ts_packet *r = bpf_ringbuf_reserve(&pkt_events, sizeof(*r), 0);
    if (!r) {
        count(&pkt_lost);
        return;
    }
    __builtin_memcpy(r, p, sizeof(*p));
    bpf_ringbuf_submit(r, ts_submit_flags(&pkt_events));
}

/* The TCP header at l4 (ip_payload: TCP header + data bytes by the IP length fields). A global
 * function: the verifier checks it once, not once per way through the IP and extension-header
 * parsing before it (which made loading the programs take seconds). */
__noinline int parse_tcp(struct __sk_buff *skb, struct ts_packet *p, __u32 l4, __u32 ip_payload)
{
    if (!p)
        return 0;
    struct tcphdr th;
    if (bpf_skb_load_bytes(skb, l4, &th, sizeof(th))) {
        p->parse_status = TS_PARSE_TRUNC_TCP;
        return 0;
    }
    p->sport = bpf_ntohs(th.source);
    p->dport = bpf_ntohs(th.dest);
    p->seq = bpf_ntohl(th.seq);
    p->ack_seq = bpf_ntohl(th.ack_seq);
    p->window = bpf_ntohs(th.window);
    p->urg_ptr = bpf_ntohs(th.urg_ptr);
    __u8 flags;
    if (bpf_skb_load_bytes(skb, l4 + 13, &flags, 1) == 0)
        p->tcp_flags = flags;
    const __u32 doff = th.doff * 4;
    p->tcp_hdr_len = doff;
    if (doff < 20 || doff > ip_payload) {
        p->parse_status = TS_PARSE_BAD_TCP_HDR_LEN;
        return 0;
    }
    p->payload_len = ip_payload - doff;
    __u32 olen = doff - 20;
    __u32 avail = skb->len > l4 + 20 ? skb->len - (l4 + 20) : 0;
    if (olen > avail) {
        olen = avail;
        p->parse_status = TS_PARSE_TRUNC_OPTIONS;
    }
    if (olen > TS_TCP_OPTIONS_MAX)
        olen = TS_TCP_OPTIONS_MAX;
    if (olen > 0) {
        /* n == olen, written so the verifier sees 1..64 whatever the compiler reorders;
         * hence the 64-byte bounce buffer. */
        __u8 opts[64] = {};
        const __u32 n = ((olen - 1) & 63) + 1;
        if (bpf_skb_load_bytes(skb, l4 + 20, opts, n) == 0) {
            __builtin_memcpy(p->options, opts, TS_TCP_OPTIONS_MAX);
            p->opt_len = olen;
        }
    }
    return 0;
}

/* Filter, socket, record: the common tail of every packet, also a global function (checked once;
 * two of them so that only the egress program contains the skb->sk path and its kfunc). */
static __always_inline int finish(struct __sk_buff *skb, struct ts_packet *p, __u32 payload_off,
                                  int from_skb)
{
    __u32 zero = 0;
    const struct ts_packet_config *cfg = bpf_map_lookup_elem(&pkt_config, &zero);
    if (cfg && cfg->ports_enabled && !port_wanted(p->sport) && !port_wanted(p->dport)) {
        count(&pkt_filtered);
        return TS_PASS;
    }
    if (cfg && cfg->nets_enabled && !addr_wanted(p, p->saddr) && !addr_wanted(p, p->daddr)) {
        count(&pkt_filtered);
        return TS_PASS;
    }
    /* With an owner filter, a packet is kept only for a socket of a wanted owner (none found:
     * left out). */
    const int owners = owner_filter_on() != 0;
    int keep = !owners;
    if ((p->sport || p->dport) &&
        !(from_skb && p->parse_status == TS_PARSE_OK && socket_from_skb(skb, p, owners, &keep)))
        find_socket(skb, p, owners, &keep);
    if (!keep) {
        count(&pkt_filtered);
        return TS_PASS;
    }
    emit(skb, p, cfg, payload_off);
    return TS_PASS;
}

__noinline int finish_by_lookup(struct __sk_buff *skb, struct ts_packet *p, __u32 payload_off)
{
    return p ? finish(skb, p, payload_off, 0) : TS_PASS;
}

__noinline int finish_from_skb(struct __sk_buff *skb, struct ts_packet *p, __u32 payload_off)
{
    return p ? finish(skb, p, payload_off, 1) : TS_PASS;
}

static __always_inline int handle(struct __sk_buff *skb, __u8 direction, int from_skb)
{
    struct ts_packet p = {};
    __u32 ifindex = skb->ifindex;
    __u32 off = 0;
    __u16 proto;

    p.hdr.type = TS_REC_PACKET;
    p.hdr.size = sizeof(p);
    p.hdr.cpu = bpf_get_smp_processor_id();
    p.hdr.ts_ns = bpf_ktime_get_ns();
    p.ifindex = ifindex;
    p.skb_len = skb->len;
    p.direction = direction;
    p.gso_segs = (__u16)skb->gso_segs;
    p.gso_size = (__u16)skb->gso_size;
    if (skb->vlan_present)
        p.vlan_tci = (__u16)skb->vlan_tci;

    __u8 *l2 = bpf_map_lookup_elem(&pkt_l2len, &ifindex);
    if (l2 && *l2 == TS_L2_NONE) {
        proto = bpf_ntohs((__u16)skb->protocol);
    } else {
        __u16 eth_proto;
        if (bpf_skb_load_bytes(skb, 12, &eth_proto, 2))
            return TS_PASS;
        proto = bpf_ntohs(eth_proto);
        off = 14;
#pragma unroll
        for (int i = 0; i < 2; i++) {
            if (proto != ETH_P_8021Q_ && proto != ETH_P_8021AD_)
                break;
            __u16 tag[2];
            if (bpf_skb_load_bytes(skb, off, tag, 4))
                return TS_PASS;
            if (!p.vlan_tci)
                p.vlan_tci = bpf_ntohs(tag[0]);
            p.vlan_depth++;
            proto = bpf_ntohs(tag[1]);
            off += 4;
        }
    }

    __u32 l4 = 0, ip_payload = 0; /* TCP header offset, IP payload bytes (TCP header + data) */
    if (proto == ETH_P_IP_) {
        struct iphdr ip;
        if (bpf_skb_load_bytes(skb, off, &ip, sizeof(ip)))
            return TS_PASS;
        if (ip.protocol != IPPROTO_TCP_)
            return TS_PASS;
        p.family = 2;
        __builtin_memcpy(p.saddr, &ip.saddr, 4);
        __builtin_memcpy(p.daddr, &ip.daddr, 4);
        p.ip_ttl = ip.ttl;
        p.ip_tos = ip.tos;
        p.ip_id = bpf_ntohs(ip.id);
        const __u16 frag = bpf_ntohs(ip.frag_off);
        p.ip_frag =
            ((frag & 0x4000) ? 1 : 0) | ((frag & 0x2000) ? 2 : 0) | ((frag & 0x1fff) ? 4 : 0);
        const __u32 ihl = ip.ihl * 4;
        p.ip_hdr_len = ihl;
        __u32 tot = bpf_ntohs(ip.tot_len);
        if (tot == 0 && p.gso_segs > 1) /* BIG TCP super-packet: the length lives in the skb */
            tot = skb->len - off;
        if (ip.version != 4 || ihl < 20 || tot < ihl) {
            p.parse_status = TS_PARSE_BAD_IP;
            goto out;
        }
        if (off + ihl > skb->len) {
            p.parse_status = TS_PARSE_TRUNC_IP;
            goto out;
        }
        if (frag & 0x1fff) {
            p.parse_status = TS_PARSE_FRAGMENT;
            goto out;
        }
        l4 = off + ihl;
        ip_payload = tot - ihl;
    } else if (proto == ETH_P_IPV6_) {
        struct ipv6hdr ip6;
        if (bpf_skb_load_bytes(skb, off, &ip6, sizeof(ip6)))
            return TS_PASS;
        __u8 next = ip6.nexthdr;
        __u32 hdr = 40;
        __u32 plen = bpf_ntohs(ip6.payload_len);
        if (plen == 0 && p.gso_segs > 1)
            plen = skb->len - off - 40;
        p.family = 10;
        __builtin_memcpy(p.saddr, &ip6.saddr, 16);
        __builtin_memcpy(p.daddr, &ip6.daddr, 16);
        p.ip_ttl = ip6.hop_limit;
        p.ip_tos = (ip6.priority << 4) | (ip6.flow_lbl[0] >> 4);
        p.ip_id = ((__u32)(ip6.flow_lbl[0] & 0x0f) << 16) | ((__u32)ip6.flow_lbl[1] << 8) |
                  ip6.flow_lbl[2];
        /* a bounded loop (kernel >= 5.3), not unrolled: the body is large */
        for (int i = 0; i < TS_MAX_EXTHDR; i++) {
            if (next == IPPROTO_TCP_)
                break;
            __u8 ext[8];
            if (next != 0 && next != 43 && next != 44 && next != 60 && next != 51)
                return TS_PASS; /* not TCP (or an ext header we do not follow) */
            if (bpf_skb_load_bytes(skb, off + hdr, ext, 8)) {
                p.parse_status = TS_PARSE_TRUNC_EXTHDR;
                goto out;
            }
            if (next == 44) {
                const __u16 fo = ((__u16)ext[2] << 8) | ext[3];
                p.ip_frag |= ((fo & 1) ? 2 : 0) | ((fo & 0xfff8) ? 4 : 0);
                next = ext[0];
                hdr += 8;
                if (fo & 0xfff8) {
                    p.parse_status = TS_PARSE_FRAGMENT;
                    goto out;
                }
            } else if (next == 51) {
                next = ext[0];
                hdr += ((__u32)ext[1] + 2) * 4;
            } else {
                next = ext[0];
                hdr += ((__u32)ext[1] + 1) * 8;
            }
        }
        if (next != IPPROTO_TCP_) {
            p.parse_status = TS_PARSE_TOO_MANY_EXTHDR;
            goto out;
        }
        p.ip_hdr_len = hdr > 255 ? 255 : hdr;
        if (40 + plen < hdr) {
            p.parse_status = TS_PARSE_BAD_IP;
            goto out;
        }
        l4 = off + hdr;
        ip_payload = 40 + plen - hdr;
    } else {
        return TS_PASS;
    }

    parse_tcp(skb, &p, l4, ip_payload);

out:
    return from_skb ? finish_from_skb(skb, &p, l4 + p.tcp_hdr_len)
                    : finish_by_lookup(skb, &p, l4 + p.tcp_hdr_len);
}

SEC("tc")
int ts_tc_ingress(struct __sk_buff *skb)
{
    return handle(skb, TS_DIR_INGRESS, 0); /* skb->sk is set later, by early demux */
}

SEC("tc")
int ts_tc_egress(struct __sk_buff *skb)
{
    return handle(skb, TS_DIR_EGRESS, 1);
}

/* The same without skb->sk, for kernels without bpf_cast_to_kern_ctx (before 6.3): the helper
 * loads this one when ts_tc_egress does not load. */
SEC("tc")
int ts_tc_egress_lookup(struct __sk_buff *skb)
{
    return handle(skb, TS_DIR_EGRESS, 0);
}
