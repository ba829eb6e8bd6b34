// SPDX-License-Identifier: GPL-3.0-or-later
/*
 * The kernel's own view of each connection: tcp_probe samples (RTT, cwnd, windows, in-flight),
 * retransmits, SYN-ACK retransmits, RSTs sent and received, congestion-state changes, and drops
 * of TCP packets with the kernel's drop reason. Records go into their own ring buffer so a burst
 * here can never cost lifecycle or packet records.
 *
 * Every hook has two entry points: tp_btf (preferred: no tracefs) and the classic tracepoint
 * (fallback). Both pass the socket/skb pointers to one shared body, which reads everything with
 * CO-RE probe reads (a tp_btf struct sock cannot be cast to tcp_sock and dereferenced directly).
 * The helper loads exactly one entry point per hook. Arguments that older kernels lack (the
 * retransmit err, the RST reason, kfree_skb's reason and rx_sk) are read only where CO-RE says
 * the running kernel's tracepoint has them; tp_btf programs take the raw u64 ctx so that such an
 * argument is not even touched otherwise.
 */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "owner_filter.bpf.h"
#include "ringbuf_wakeup.bpf.h"
#include "tcpinfo_maps.h"
#include "tcpinfo_read.bpf.h"
#include "tcpscope_maps.h"

char LICENSE[] SEC("license") = "GPL";

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 8 << 20); /* --tcpinfo-ringbuf-kib */
} tcpinfo_events SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
} tcpinfo_lost SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct ts_tcpinfo_config);
} tcpinfo_config SEC(".maps");

/* sock_id -> time of its last emitted sample. tcp_probe never sees a close, so entries of closed
 * sockets simply age out of the LRU; a reused pointer id can at worst lose one sample. */
struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, TS_TCPINFO_RATE_ENTRIES);
    __type(key, __u64);
    __type(value, __u64);
} sample_last SEC(".maps");

/* The same per-socket time, kept in the socket itself: tp_btf only (tracing programs may use
 * socket storage, classic tracepoints may not). A lookup there is a pointer and a cache slot
 * where the LRU hash above costs a hash walk, and it goes with the socket. */
struct {
    __uint(type, BPF_MAP_TYPE_SK_STORAGE);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, int);
    __type(value, __u64);
} sample_last_sk SEC(".maps");

/* lifecycle.bpf.c's own `ptr_ids` (the helper hands us its fd when lifecycle runs on the classic
 * tracepoint): sk pointer -> the id lifecycle records use for that socket. Without it, a socket
 * lifecycle named by its pointer would get its cookie here (classic tcp_probe allocates one). */
struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, TS_MAX_OWNERS);
    __type(key, __u64);
    __type(value, __u64);
} ptr_ids SEC(".maps");

static __always_inline struct ts_tcpinfo_config *get_config(void)
{
    __u32 zero = 0;

    return bpf_map_lookup_elem(&tcpinfo_config, &zero);
}

static __always_inline void count_lost(void)
{
    __u32 zero = 0;
    __u64 *n = bpf_map_lookup_elem(&tcpinfo_lost, &zero);

    if (n)
        (*n)++; /* per-CPU slot */
}

static __always_inline void *reserve(__u32 size, __u16 type)
{
    struct ts_tcpinfo_config *cfg = get_config();
    struct ts_record_header *h;

    if (!cfg || !cfg->enabled)
        return 0; /* loaded and probe-attached before Start: not capturing yet */
    h = bpf_ringbuf_reserve(&tcpinfo_events, size, 0);
    if (!h) {
        count_lost();
        return 0;
    }
    __builtin_memset(h, 0, size);
    h->type = type;
    h->size = size;
    h->cpu = bpf_get_smp_processor_id();
    h->ts_ns = bpf_ktime_get_ns();
    return h;
}

/* The id lifecycle records use for this socket: with lifecycle on the classic tracepoint, the one
 * it pinned for the pointer; a socket it has not seen yet is pinned here with our id first, so
 * both agree even if a cookie gets allocated later. Otherwise `id` as computed by the hook. */
static __always_inline __u64 lifecycle_id(const struct sock *sk, __u64 id)
{
    struct ts_tcpinfo_config *cfg = get_config();
    __u64 ptr, *pinned;

    if (!cfg || !cfg->shared_ptr_ids || !sk || !id)
        return id;
    if (!full_sock_state(BPF_CORE_READ(sk, __sk_common.skc_state)))
        return id; /* TIME_WAIT/request sockets are never in lifecycle's map */
    ptr = ptr_bits(sk);
    pinned = bpf_map_lookup_elem(&ptr_ids, &ptr);
    if (pinned)
        return *pinned;
    bpf_map_update_elem(&ptr_ids, &ptr, &id, BPF_NOEXIST);
    return id;
}

/* ---- tcp_probe ---------------------------------------------------------------------------- */

static __always_inline int sample_due(__u64 id, __u64 now)
{
    struct ts_tcpinfo_config *cfg = get_config();
    __u64 interval;
    __u64 *last;

    if (!cfg || !cfg->enabled)
        return 0;
    interval = cfg->sample_interval_ns;
    if (!interval)
        return 1;
    last = bpf_map_lookup_elem(&sample_last, &id);
    if (last) {
        if (now - *last < interval)
            return 0;
        *last = now; /* a racing CPU may emit one extra sample: harmless */
        return 1;
    }
    bpf_map_update_elem(&sample_last, &id, &now, BPF_ANY);
    return 1;
}

/* Fills and submits one sample of a socket whose rate limit said yes. */
static __always_inline int emit_sample(const struct sock *sk, __u64 id, __u32 data_len)
{
    const struct tcp_sock *tp = (const struct tcp_sock *)sk;
    const struct inet_connection_sock *icsk = (const struct inet_connection_sock *)sk;
    struct ts_tcp_sample *s;
    __u32 rate, intv;

    if (!owner_keep(sk, id))
        return 0;
    s = reserve(sizeof(*s), TS_REC_TCP_SAMPLE);
    if (!s)
        return 0;
    s->sock_id = id;
    s->bytes_acked = BPF_CORE_READ(tp, bytes_acked);
    s->bytes_received = BPF_CORE_READ(tp, bytes_received);
    s->srtt_us = BPF_CORE_READ(tp, srtt_us) >> 3;
    s->rttvar_us = BPF_CORE_READ(tp, mdev_us) >> 2;
    s->min_rtt_us = BPF_CORE_READ(tp, rtt_min.s[0].v);
    s->snd_cwnd = BPF_CORE_READ(tp, snd_cwnd);
    s->snd_ssthresh = BPF_CORE_READ(tp, snd_ssthresh);
    s->snd_wnd = BPF_CORE_READ(tp, snd_wnd);
    s->rcv_wnd = BPF_CORE_READ(tp, rcv_wnd);
    s->packets_out = BPF_CORE_READ(tp, packets_out);
    s->retrans_out = BPF_CORE_READ(tp, retrans_out);
    s->lost_out = BPF_CORE_READ(tp, lost_out);
    s->sacked_out = BPF_CORE_READ(tp, sacked_out);
    /* tcp_packets_in_flight(): packets_out - tcp_left_out() + retrans_out */
    s->in_flight = s->packets_out - (s->sacked_out + s->lost_out) + s->retrans_out;
    s->mss_cache = BPF_CORE_READ(tp, mss_cache);
    s->snd_nxt = BPF_CORE_READ(tp, snd_nxt);
    s->snd_una = BPF_CORE_READ(tp, snd_una);
    s->total_retrans = BPF_CORE_READ(tp, total_retrans);
    /* As tcp_info's tcpi_delivery_rate (tcp_compute_delivery_rate). */
    rate = BPF_CORE_READ(tp, rate_delivered);
    intv = BPF_CORE_READ(tp, rate_interval_us);
    if (rate && intv)
        s->delivery_rate = (__u64)rate * s->mss_cache * 1000000ULL / intv;
    s->data_len = data_len;
    s->fields = TS_SAMPLE_RTT | TS_SAMPLE_MIN_RTT | TS_SAMPLE_CWND | TS_SAMPLE_WINDOWS |
                TS_SAMPLE_INFLIGHT | TS_SAMPLE_MSS | TS_SAMPLE_RATE | TS_SAMPLE_BYTES |
                TS_SAMPLE_SEQ;
    s->state = BPF_CORE_READ(sk, __sk_common.skc_state);
    s->ca_state = BPF_CORE_READ_BITFIELD_PROBED(icsk, icsk_ca_state);
    sock_tuple(sk, &s->family, &s->sport, &s->dport, s->saddr, s->daddr);
    bpf_ringbuf_submit(s, ts_submit_flags(&tcpinfo_events));
    return 0;
}

/* tcp_probe fires for every segment received on a socket; most runs are inside the sample
 * interval. Those only read the clock and the socket's storage: the id, the configuration of
 * id sharing and the packet are read only for a sample that will be emitted. */
SEC("tp_btf/tcp_probe")
int BPF_PROG(ti_probe_btf, struct sock *sk, const struct sk_buff *skb)
{
    struct ts_tcpinfo_config *cfg = get_config();
    unsigned char *th;
    __u64 now, interval, *last, id;
    __u8 doff = 0;
    __u32 len;

    if (!sk || !skb || !cfg || !cfg->enabled)
        return 0;
    now = bpf_ktime_get_ns();
    interval = cfg->sample_interval_ns;
    last = interval ? bpf_sk_storage_get(&sample_last_sk, sk, 0, BPF_SK_STORAGE_GET_F_CREATE) : 0;
    if (last) {
        if (now - *last < interval)
            return 0;
        *last = now; /* a racing CPU may emit one extra sample: harmless */
    }
    id = lifecycle_id(sk, bpf_get_socket_cookie(sk));
    if (interval && !last && !sample_due(id, now))
        return 0; /* no socket storage (out of memory): the LRU map decides */
    /* As the tracepoint's data_len: skb->data points at the TCP header here. */
    th = BPF_CORE_READ(skb, data);
    len = BPF_CORE_READ(skb, len);
    bpf_probe_read_kernel(&doff, 1, th + 12);
    doff = (doff >> 4) * 4;
    return emit_sample(sk, id, len > doff ? len - doff : 0);
}

SEC("tracepoint/tcp/tcp_probe")
int ti_probe_tp(struct trace_event_raw_tcp_probe *ctx)
{
    const struct sock *sk = BPF_CORE_READ(ctx, skaddr);
    __u64 id = 0;

    if (!sk)
        return 0;
    if (bpf_core_field_exists(ctx->sock_cookie))
        id = BPF_CORE_READ(ctx, sock_cookie); /* the tracepoint allocates it (sock_gen_cookie) */
    if (!id)
        id = sock_id_read(sk);
    id = lifecycle_id(sk, id);
    if (!sample_due(id, bpf_ktime_get_ns()))
        return 0;
    return emit_sample(sk, id, BPF_CORE_READ(ctx, data_len));
}

/* ---- events --------------------------------------------------------------------------------- */

/* Fills sock_id, state, tuple and (full sockets) the counters common to every event. */
static __always_inline void event_sock(struct ts_tcp_event *e, const struct sock *sk, __u64 id)
{
    const struct tcp_sock *tp = (const struct tcp_sock *)sk;

    e->sock_id = id;
    e->sk_state = BPF_CORE_READ(sk, __sk_common.skc_state);
    sock_tuple(sk, &e->family, &e->sport, &e->dport, e->saddr, e->daddr);
    if (full_sock_state(e->sk_state) && e->sk_state != TCP_LISTEN) {
        e->total_retrans = BPF_CORE_READ(tp, total_retrans);
        e->srtt_us = BPF_CORE_READ(tp, srtt_us) >> 3;
        e->snd_cwnd = BPF_CORE_READ(tp, snd_cwnd);
    }
}

/* segs is tcp_skb_pcount(skb) *after* __tcp_retransmit_skb fragmented the skb to the current
 * MSS: the same value the kernel added to TCP_MIB_RETRANSSEGS and tp->total_retrans just before
 * the tracepoint. */
static __always_inline int emit_retransmit(const struct sock *sk, const struct sk_buff *skb,
                                           __u64 id, int err)
{
    const struct tcp_skb_cb *cb = (const struct tcp_skb_cb *)&skb->cb[0];
    struct ts_tcp_event *e;

    id = lifecycle_id(sk, id);
    if (!owner_keep(sk, id))
        return 0;
    e = reserve(sizeof(*e), TS_REC_TCP_EVENT);
    if (!e)
        return 0;
    e->kind = TS_EV_RETRANSMIT;
    e->reason = TS_REASON_NONE;
    e->err = err;
    event_sock(e, sk, id);
    e->seq = BPF_CORE_READ(cb, seq);
    e->segs = BPF_CORE_READ(cb, tcp_gso_segs);
    if (!e->segs)
        e->segs = 1;
    e->tcp_flags = (__u8)BPF_CORE_READ(cb, tcp_flags);
    bpf_ringbuf_submit(e, ts_submit_flags(&tcpinfo_events));
    return 0;
}

SEC("tp_btf/tcp_retransmit_skb")
int ti_rtx_btf(__u64 *ctx)
{
    struct sock *sk = (struct sock *)ctx[0];
    const struct sk_buff *skb = (const struct sk_buff *)ctx[1];
    int err = 0;

    if (!sk || !skb)
        return 0;
    /* Kernels before the err argument fired only for successful retransmits. */
    if (bpf_core_field_exists(struct trace_event_raw_tcp_retransmit_skb, err))
        err = (int)ctx[2];
    return emit_retransmit(sk, skb, bpf_get_socket_cookie(sk), err);
}

SEC("tracepoint/tcp/tcp_retransmit_skb")
int ti_rtx_tp(struct trace_event_raw_tcp_retransmit_skb *ctx)
{
    const struct sock *sk = BPF_CORE_READ(ctx, skaddr);
    const struct sk_buff *skb = BPF_CORE_READ(ctx, skbaddr);
    int err = 0;

    if (!sk || !skb)
        return 0;
    if (bpf_core_field_exists(ctx->err))
        err = BPF_CORE_READ(ctx, err);
    return emit_retransmit(sk, skb, sock_id_read(sk), err);
}

/* The request socket's sock_common holds ir_loc_addr/ir_rmt_addr/ir_num/ir_rmt_port. */
static __always_inline int emit_synack(const struct sock *listener, const struct request_sock *req,
                                       __u64 listener_id)
{
    struct ts_tcp_event *e;

    listener_id = lifecycle_id(listener, listener_id);
    if (!owner_keep(listener, listener_id))
        return 0;
    e = reserve(sizeof(*e), TS_REC_TCP_EVENT);
    if (!e)
        return 0;
    e->kind = TS_EV_SYNACK_RETRANSMIT;
    e->reason = TS_REASON_NONE;
    e->sock_id = listener_id;
    e->segs = 1; /* tcp_rtx_synack: TCP_MIB_RETRANSSEGS += 1, tracepoint only on success */
    e->tcp_flags = TS_TCP_SYN | TS_TCP_ACK;
    e->sk_state = TCP_SYN_RECV;
    sock_tuple((const struct sock *)req, &e->family, &e->sport, &e->dport, e->saddr, e->daddr);
    bpf_ringbuf_submit(e, ts_submit_flags(&tcpinfo_events));
    return 0;
}

SEC("tp_btf/tcp_retransmit_synack")
int BPF_PROG(ti_synack_btf, struct sock *listener, const struct request_sock *req)
{
    if (!listener || !req)
        return 0;
    return emit_synack(listener, req, bpf_get_socket_cookie(listener));
}

SEC("tracepoint/tcp/tcp_retransmit_synack")
int ti_synack_tp(struct trace_event_raw_tcp_retransmit_synack *ctx)
{
    const struct sock *listener = BPF_CORE_READ(ctx, skaddr);
    const struct request_sock *req = BPF_CORE_READ(ctx, req);

    if (!listener || !req)
        return 0;
    return emit_synack(listener, req, sock_id_read(listener));
}

/* sk may be NULL (no socket for the packet), a listener, a request or TIME_WAIT socket, or a full
 * socket. skb is the packet being answered, NULL for an active reset (tcp_send_active_reset). */
static __always_inline int emit_rst_sent(const struct sock *sk, const struct sk_buff *skb,
                                         __u32 reason)
{
    struct ts_tcp_event *e;
    struct pkt p = {};
    int have_pkt = skb && parse_skb(skb, &p) == 0;
    __u8 state = 0;

    if (!sk && !have_pkt)
        return 0;
    /* A reset without a socket (a stray packet) belongs to no owner. */
    if (!owner_keep(sk, sk ? lifecycle_id(sk, sock_id_read(sk)) : 0))
        return 0;
    e = reserve(sizeof(*e), TS_REC_TCP_EVENT);
    if (!e)
        return 0;
    e->kind = TS_EV_RST_SENT;
    e->reason = reason;
    e->segs = 1;
    e->tcp_flags = TS_TCP_RST;
    if (sk) {
        state = BPF_CORE_READ(sk, __sk_common.skc_state);
        /* A listener or request socket answering a stray packet is not this packet's
         * connection: tuple join instead. */
        event_sock(e, sk,
                   (state == TCP_LISTEN || state == TCP_NEW_SYN_RECV)
                       ? 0
                       : lifecycle_id(sk, sock_id_read(sk)));
        if (full_sock_state(state) && state != TCP_LISTEN)
            e->seq = BPF_CORE_READ((const struct tcp_sock *)sk, snd_nxt);
    }
    if (have_pkt) {
        /* Reply to p: local = the packet's destination. RFC 793: seq = the ACK it carried. */
        e->family = p.family;
        e->sport = p.dport;
        e->dport = p.sport;
        __builtin_memcpy(e->saddr, p.daddr, 16);
        __builtin_memcpy(e->daddr, p.saddr, 16);
        e->seq = (p.flags & TS_TCP_ACK) ? p.ack_seq : 0;
    }
    bpf_ringbuf_submit(e, ts_submit_flags(&tcpinfo_events));
    return 0;
}

SEC("tp_btf/tcp_send_reset")
int ti_rst_tx_btf(__u64 *ctx)
{
    __u32 reason = TS_REASON_NONE;

    if (bpf_core_field_exists(struct trace_event_raw_tcp_send_reset, reason))
        reason = (__u32)ctx[2];
    return emit_rst_sent((const struct sock *)ctx[0], (const struct sk_buff *)ctx[1], reason);
}

SEC("tracepoint/tcp/tcp_send_reset")
int ti_rst_tx_tp(struct trace_event_raw_tcp_send_reset *ctx)
{
    __u32 reason = TS_REASON_NONE;

    if (bpf_core_field_exists(ctx->reason))
        reason = BPF_CORE_READ(ctx, reason);
    return emit_rst_sent(BPF_CORE_READ(ctx, skaddr), BPF_CORE_READ(ctx, skbaddr), reason);
}

static __always_inline int emit_simple(const struct sock *sk, __u64 id, __u8 kind, __u8 new_ca)
{
    const struct inet_connection_sock *icsk = (const struct inet_connection_sock *)sk;
    struct ts_tcp_event *e;
    __u8 old_ca = 0;

    if (kind == TS_EV_CONG_STATE) {
        /* The tracepoint fires before icsk_ca_state is assigned. Calls that keep the state
         * are not changes and are not reported. */
        old_ca = BPF_CORE_READ_BITFIELD_PROBED(icsk, icsk_ca_state);
        if (old_ca == new_ca)
            return 0;
    }
    id = lifecycle_id(sk, id);
    if (!owner_keep(sk, id))
        return 0;
    e = reserve(sizeof(*e), TS_REC_TCP_EVENT);
    if (!e)
        return 0;
    e->kind = kind;
    e->reason = TS_REASON_NONE;
    e->old_ca_state = old_ca;
    e->new_ca_state = new_ca;
    if (kind == TS_EV_RST_RECEIVED)
        e->tcp_flags = TS_TCP_RST;
    event_sock(e, sk, id);
    bpf_ringbuf_submit(e, ts_submit_flags(&tcpinfo_events));
    return 0;
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(ti_rst_rx_btf, struct sock *sk)
{
    if (!sk)
        return 0;
    return emit_simple(sk, bpf_get_socket_cookie(sk), TS_EV_RST_RECEIVED, 0);
}

SEC("tracepoint/tcp/tcp_receive_reset")
int ti_rst_rx_tp(struct trace_event_raw_tcp_event_sk *ctx)
{
    const struct sock *sk = BPF_CORE_READ(ctx, skaddr);

    if (!sk)
        return 0;
    return emit_simple(sk, sock_id_read(sk), TS_EV_RST_RECEIVED, 0);
}

SEC("tp_btf/tcp_cong_state_set")
int BPF_PROG(ti_cong_btf, struct sock *sk, __u8 ca_state)
{
    if (!sk)
        return 0;
    return emit_simple(sk, bpf_get_socket_cookie(sk), TS_EV_CONG_STATE, ca_state);
}

SEC("tracepoint/tcp/tcp_cong_state_set")
int ti_cong_tp(struct trace_event_raw_tcp_cong_state_set *ctx)
{
    const struct sock *sk = BPF_CORE_READ(ctx, skaddr);

    if (!sk)
        return 0;
    return emit_simple(sk, sock_id_read(sk), TS_EV_CONG_STATE, BPF_CORE_READ(ctx, cong_state));
}

/* ---- kfree_skb --------------------------------------------------------------------------------
 */

static __always_inline int emit_drop(const struct sk_buff *skb, const struct sock *rx_sk,
                                     __u64 location, __u32 reason)
{
    const struct sock *sk;
    const struct net_device *dev;
    struct ts_drop *d;
    struct pkt p = {};

    /* SKB_CONSUMED normally goes to consume_skb's tracepoint; never count it as a drop. */
    if (bpf_core_enum_value_exists(enum skb_drop_reason, SKB_CONSUMED) &&
        reason == bpf_core_enum_value(enum skb_drop_reason, SKB_CONSUMED))
        return 0;
    if (parse_skb(skb, &p))
        return 0;
    sk = rx_sk ? rx_sk : BPF_CORE_READ(skb, sk);
    /* A drop without a socket (e.g. NO_SOCKET) belongs to no owner. */
    if (!owner_keep(sk, sk ? lifecycle_id(sk, sock_id_read(sk)) : 0))
        return 0;
    d = reserve(sizeof(*d), TS_REC_DROP);
    if (!d)
        return 0;
    if (sk) {
        d->sock_id = lifecycle_id(sk, sock_id_read(sk));
        d->sk_state = BPF_CORE_READ(sk, __sk_common.skc_state);
    }
    d->location = location;
    d->reason = reason;
    dev = BPF_CORE_READ(skb, dev);
    d->ifindex = dev ? BPF_CORE_READ(dev, ifindex) : BPF_CORE_READ(skb, skb_iif);
    d->seq = p.seq;
    d->ack_seq = p.ack_seq;
    d->payload_len = p.payload_len;
    d->family = p.family;
    d->sport = p.sport;
    d->dport = p.dport;
    d->tcp_flags = p.flags;
    __builtin_memcpy(d->saddr, p.saddr, 16);
    __builtin_memcpy(d->daddr, p.daddr, 16);
    bpf_ringbuf_submit(d, ts_submit_flags(&tcpinfo_events));
    return 0;
}

SEC("tp_btf/kfree_skb")
int ti_drop_btf(__u64 *ctx)
{
    const struct sk_buff *skb = (const struct sk_buff *)ctx[0];
    const struct sock *rx_sk = 0;
    __u32 reason = TS_REASON_NONE;

    if (!skb)
        return 0;
    if (bpf_core_field_exists(struct trace_event_raw_kfree_skb, reason))
        reason = (__u32)ctx[2];
    if (bpf_core_field_exists(struct trace_event_raw_kfree_skb, rx_sk))
        rx_sk = (const struct sock *)ctx[3];
    return emit_drop(skb, rx_sk, ctx[1], reason);
}

SEC("tracepoint/skb/kfree_skb")
int ti_drop_tp(struct trace_event_raw_kfree_skb *ctx)
{
    const struct sk_buff *skb = BPF_CORE_READ(ctx, skbaddr);
    const struct sock *rx_sk = 0;
    __u32 reason = TS_REASON_NONE;

    if (!skb)
        return 0;
    if (bpf_core_field_exists(ctx->reason))
        reason = BPF_CORE_READ(ctx, reason);
    if (bpf_core_field_exists(ctx->rx_sk))
        rx_sk = BPF_CORE_READ(ctx, rx_sk);
    return emit_drop(skb, rx_sk, (__u64)BPF_CORE_READ(ctx, location), reason);
}
