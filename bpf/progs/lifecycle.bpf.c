// SPDX-License-Identifier: GPL-3.0-or-later
/*
 * TCP connection lifecycle: every inet_sock_set_state of a TCP socket (IPv4 and IPv6) becomes a
 * ts_state_change record carrying the owning process; entering CLOSE also emits ts_close_stats
 * read from struct tcp_sock.
 *
 * Two entry points share one body: tp_btf (preferred: no tracefs, socket cookie available) and
 * the classic tracepoint (fallback). The helper loads exactly one of them.
 *
 * Process attribution: the hook runs in whatever task the kernel happens to be in. That is the
 * right process for connect() and listen(), but a server's accepted socket is created and made
 * ESTABLISHED while processing the client's packets, i.e. in softirq context or, on loopback,
 * in the *client's* task. So the owner is learned only where it is authoritative and then
 * remembered (see docs/ARCHITECTURE.md, "Process attribution").
 */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "owner_filter.bpf.h"
#include "ringbuf_wakeup.bpf.h"
#include "tcpscope_maps.h"

#define AF_INET 2
#define AF_INET6 10

char LICENSE[] SEC("license") = "GPL";

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, TS_RINGBUF_BYTES);
} events SEC(".maps");

/* Failed bpf_ringbuf_reserve calls, per CPU: a record we could not deliver is never silent. */
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
} lost SEC(".maps");

/* sock_id -> owner, learned at connect()/listen()/accept-time and dropped at CLOSE. LRU so a
 * missed CLOSE can never fill the map and block new entries. */
struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, TS_MAX_OWNERS);
    __type(key, __u64);
    __type(value, struct ts_owner);
} owners SEC(".maps");

/* `listeners` ({netns, port, family} -> owner of the listening socket, also written by the
 * helper's scan) is defined in owner_filter.bpf.h: the owner filter reads it too. */

/* Classic tracepoint only: sk pointer -> the id chosen at first sight, so a cookie allocated
 * mid-life (by ss, SO_COOKIE, ...) cannot change a socket's identity half way. */
struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, TS_MAX_OWNERS);
    __type(key, __u64);
    __type(value, __u64);
} ptr_ids SEC(".maps");

/* listen() without bind() picks its port only after the CLOSE->LISTEN transition, so such a
 * listener cannot be keyed by port yet. It waits here (sock_id -> sk + owner) until its first
 * child arrives; that child's miss in `listeners` walks this small map and promotes the match. */
struct pending_listener {
    __u64 sk;
    __u32 netns_ino;
    __u16 family;
    __u16 _pad;
    struct ts_owner owner;
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 256);
    __type(key, __u64);
    __type(value, struct pending_listener);
} pending_listeners SEC(".maps");

struct sk_info {
    const struct sock *sk;
    __u64 sock_id;
    __u32 netns_ino;
    __u16 family;
    __u16 sport;
    __u16 dport;
    __u8 oldstate;
    __u8 newstate;
    __u8 saddr[16];
    __u8 daddr[16];
};

static __always_inline void count_lost(void)
{
    __u32 zero = 0;
    __u64 *n = bpf_map_lookup_elem(&lost, &zero);

    if (n)
        (*n)++; /* per-CPU slot: no other writer, no atomic needed */
}

static __always_inline void owner_from_current(struct ts_owner *o)
{
    o->pid = bpf_get_current_pid_tgid() >> 32;
    o->cgroup_id = bpf_get_current_cgroup_id();
    o->source = TS_OWNER_CURRENT;
    bpf_get_current_comm(o->comm, sizeof(o->comm));
}

struct pending_match {
    __u32 netns_ino;
    __u16 family;
    __u16 port;
    __u64 sock_id; /* out: the listener found, 0 if none */
    struct ts_owner owner;
};

static long match_pending(struct bpf_map *map, __u64 *key, struct pending_listener *p,
                          struct pending_match *m)
{
    const struct inet_sock *inet = (const struct inet_sock *)p->sk;

    if (p->netns_ino != m->netns_ino || p->family != m->family)
        return 0;
    /* By now the autobound port is assigned. A stale pointer only yields a non-matching read:
     * entries are removed when their listener closes. */
    if (__builtin_bswap16(BPF_CORE_READ(inet, inet_sport)) != m->port)
        return 0;
    m->sock_id = *key;
    m->owner = p->owner;
    return 1; /* stop */
}

/* Decides the owner of this transition and keeps the maps up to date. Leaves *o zeroed
 * (TS_OWNER_NONE, pid 0) when nothing authoritative is known: a wrong pid is worse than none. */
static __always_inline void attribute(const struct sk_info *in, struct ts_owner *o)
{
    struct ts_listener_key lk = {
        .netns_ino = in->netns_ino, .port = in->sport, .family = in->family};
    struct ts_listener *l;
    struct ts_owner *known;

    if (in->oldstate == TCP_CLOSE && (in->newstate == TCP_SYN_SENT || in->newstate == TCP_LISTEN)) {
        /* connect() / listen(): always in the calling task. */
        owner_from_current(o);
        if (in->newstate == TCP_SYN_SENT)
            o->flags = TS_OWNER_F_ACTIVE_OPEN;
        bpf_map_update_elem(&owners, &in->sock_id, o, BPF_ANY);
        if (in->newstate == TCP_LISTEN && in->sport) {
            struct ts_listener nl = {.sock_id = in->sock_id};

            nl.owner = *o;
            bpf_map_update_elem(&listeners, &lk, &nl, BPF_ANY);
        } else if (in->newstate == TCP_LISTEN) {
            struct pending_listener pl = {
                .sk = (__u64)in->sk, .netns_ino = in->netns_ino, .family = in->family};

            pl.owner = *o;
            bpf_map_update_elem(&pending_listeners, &in->sock_id, &pl, BPF_ANY);
        }
        return;
    }
    if (in->oldstate == TCP_LISTEN && in->newstate == TCP_SYN_RECV) {
        /* A child cloned from a listener (inet_csk_clone_lock): it still carries the
         * listener's local port, so the listener's owner is the accepting process. */
        l = bpf_map_lookup_elem(&listeners, &lk);
        if (l) {
            *o = l->owner;
        } else {
            struct pending_match m = {
                .netns_ino = in->netns_ino, .family = in->family, .port = in->sport};
            struct ts_listener nl = {};

            bpf_for_each_map_elem(&pending_listeners, match_pending, &m, 0);
            if (!m.sock_id)
                return; /* unknown listener: no owner rather than a wrong one */
            nl.owner = m.owner;
            nl.sock_id = m.sock_id;
            bpf_map_update_elem(&listeners, &lk, &nl, BPF_ANY);
            bpf_map_delete_elem(&pending_listeners, &m.sock_id);
            *o = m.owner;
        }
        o->source = TS_OWNER_LISTENER;
        o->flags = 0;
        bpf_map_update_elem(&owners, &in->sock_id, o, BPF_ANY);
        return;
    }
    known = bpf_map_lookup_elem(&owners, &in->sock_id);
    if (known) {
        *o = *known;
        o->source = TS_OWNER_REMEMBERED;
    }
    if (in->oldstate == TCP_LISTEN && in->newstate == TCP_CLOSE) {
        bpf_map_delete_elem(&pending_listeners, &in->sock_id);
        l = bpf_map_lookup_elem(&listeners, &lk);
        /* Only forget the entry if it is this socket's (SO_REUSEPORT siblings share a key);
         * scan-learned entries have no id and go with any listener closing on that key. */
        if (l && (l->sock_id == in->sock_id || l->sock_id == 0)) {
            if (!known) {
                *o = l->owner;
                o->source = l->owner.source;
            }
            bpf_map_delete_elem(&listeners, &lk);
        }
    }
}

/* tcp_sock's counters are in sequence space: bytes_acked includes our SYN (active open only:
 * a passive child starts with snd_una past its SYN-ACK) and our FIN; bytes_received includes the
 * peer's FIN. Records carry payload bytes, which is what a user means by "bytes sent":
 *   received = bytes_received - (peer FIN seen ? 1 : 0); tcp_fin() sets SOCK_DONE.
 *   acked    = min(bytes_sent - bytes_retrans, bytes_acked - SYN)
 * The min() removes our FIN without knowing whether it was sent: the FIN is the last sequence
 * number, so once it is acked all payload is acked and the unique payload sent is the answer. */
static __always_inline void emit_close_stats(const struct sk_info *in, __u8 owner_flags, __u64 now,
                                             __u32 cpu)
{
    /* Locals, not in->sk: CO-RE relocations must start from a kernel type. */
    const struct sock *sk = in->sk;
    const struct tcp_sock *tp = (const struct tcp_sock *)sk;
    struct ts_close_stats *c;
    __u64 acked, unique_sent, received;

    c = bpf_ringbuf_reserve(&events, sizeof(*c), 0);
    if (!c) {
        count_lost();
        return;
    }
    __builtin_memset(c, 0, sizeof(*c));
    c->hdr.type = TS_REC_CLOSE_STATS;
    c->hdr.size = sizeof(*c);
    c->hdr.cpu = cpu;
    c->hdr.ts_ns = now;
    c->sock_id = in->sock_id;

    acked = BPF_CORE_READ(tp, bytes_acked);
    if ((owner_flags & TS_OWNER_F_ACTIVE_OPEN) && acked > 0)
        acked--;
    unique_sent = BPF_CORE_READ(tp, bytes_sent) - BPF_CORE_READ(tp, bytes_retrans);
    c->bytes_acked = acked < unique_sent ? acked : unique_sent;
    received = BPF_CORE_READ(tp, bytes_received);
    if ((BPF_CORE_READ(sk, __sk_common.skc_flags) & (1UL << SOCK_DONE)) && received > 0)
        received--;
    c->bytes_received = received;

    c->segs_in = BPF_CORE_READ(tp, segs_in);
    c->segs_out = BPF_CORE_READ(tp, segs_out);
    c->total_retrans = BPF_CORE_READ(tp, total_retrans);
    c->srtt_us = BPF_CORE_READ(tp, srtt_us) >> 3;
    c->min_rtt_us = BPF_CORE_READ(tp, rtt_min.s[0].v);
    if (c->min_rtt_us == ~0U) /* minmax's "no sample yet" */
        c->min_rtt_us = 0;
    c->sk_err = BPF_CORE_READ(sk, sk_err);
    c->oldstate = in->oldstate;
    bpf_ringbuf_submit(c, ts_submit_flags(&events));
}

/* A verdict kept under a pointer id goes with its socket: the pointer is reused after CLOSE
 * (cookie-keyed verdicts stay for the TIME_WAIT socket and age out of the LRU). */
static __always_inline void forget_ptr_verdict(__u64 sock_id)
{
    if (sock_id & TS_SOCK_ID_PTR_FLAG)
        bpf_map_delete_elem(&owner_verdict, &sock_id);
}

static __always_inline int handle(struct sk_info *in)
{
    const struct sock *sk = in->sk;
    struct ts_owner owner = {};
    struct ts_state_change *e;
    __u64 now = bpf_ktime_get_ns();
    __u32 cpu = bpf_get_smp_processor_id();

    in->netns_ino = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
    attribute(in, &owner);
    /* The owner filter: a socket of an owner not asked for leaves no record. Its owner is
     * decided again where attribute() just learned it. */
    if (owner_filter_on()) {
        const int fresh = owner.source == TS_OWNER_CURRENT || owner.source == TS_OWNER_LISTENER;

        if (!ts_owner_keep(sk, in->sock_id, &owner, fresh)) {
            if (in->newstate == TCP_CLOSE) {
                bpf_map_delete_elem(&owners, &in->sock_id);
                forget_ptr_verdict(in->sock_id);
            }
            return 0;
        }
    }

    e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
    if (!e) {
        count_lost();
    } else {
        __builtin_memset(e, 0, sizeof(*e));
        e->hdr.type = TS_REC_STATE_CHANGE;
        e->hdr.size = sizeof(*e);
        e->hdr.cpu = cpu;
        e->hdr.ts_ns = now;
        e->sock_id = in->sock_id;
        e->cgroup_id = owner.cgroup_id;
        e->netns_ino = in->netns_ino;
        e->pid = owner.pid;
        e->ctx_pid = bpf_get_current_pid_tgid() >> 32;
        e->family = in->family;
        e->sport = in->sport;
        e->dport = in->dport;
        e->oldstate = in->oldstate;
        e->newstate = in->newstate;
        e->owner_source = owner.source;
        __builtin_memcpy(e->saddr, in->saddr, 16);
        __builtin_memcpy(e->daddr, in->daddr, 16);
        __builtin_memcpy(e->comm, owner.comm, TS_COMM_LEN);
        bpf_get_current_comm(e->ctx_comm, sizeof(e->ctx_comm));
        bpf_ringbuf_submit(e, ts_submit_flags(&events));
    }

    if (in->newstate == TCP_CLOSE) {
        emit_close_stats(in, owner.flags, now, cpu);
        bpf_map_delete_elem(&owners, &in->sock_id);
        forget_ptr_verdict(in->sock_id);
    }
    return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tcpscope_lc_btf, const struct sock *sk, const int oldstate, const int newstate)
{
    struct sk_info in = {};

    if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
        return 0;
    in.family = BPF_CORE_READ(sk, __sk_common.skc_family);
    if (in.family != AF_INET && in.family != AF_INET6)
        return 0;
    in.sk = sk;
    in.sock_id = bpf_get_socket_cookie((void *)sk);
    in.oldstate = oldstate;
    in.newstate = newstate;
    /* inet_sport like the classic tracepoint: skc_num is already cleared when CLOSE fires. */
    in.sport = __builtin_bswap16(BPF_CORE_READ((const struct inet_sock *)sk, inet_sport));
    in.dport = __builtin_bswap16(BPF_CORE_READ(sk, __sk_common.skc_dport));
    /* IPv4: read exactly 4 bytes; BPF_CORE_READ_INTO would copy sizeof(in.saddr) = 16 bytes and
     * drag the neighbouring fields into bytes that must stay zero. */
    if (in.family == AF_INET) {
        bpf_core_read(&in.saddr, 4, &sk->__sk_common.skc_rcv_saddr);
        bpf_core_read(&in.daddr, 4, &sk->__sk_common.skc_daddr);
    } else {
        BPF_CORE_READ_INTO(&in.saddr, sk, __sk_common.skc_v6_rcv_saddr);
        BPF_CORE_READ_INTO(&in.daddr, sk, __sk_common.skc_v6_daddr);
    }
    return handle(&in);
}

/* Fallback. This hook cannot call bpf_get_socket_cookie (no socket context), so it can only use
 * a cookie somebody else already allocated; otherwise the id is the sk pointer with the top bit
 * set. A pointer can be reused after the socket is freed, which is why the id is pinned per
 * pointer only until CLOSE and the tracker starts a new connection after CLOSE. */
SEC("tracepoint/sock/inet_sock_set_state")
int tcpscope_lc_tp(struct trace_event_raw_inet_sock_set_state *ctx)
{
    struct sk_info in = {};
    const struct sock *sk = (const struct sock *)ctx->skaddr;
    __u64 ptr, *pinned;

    if (ctx->protocol != IPPROTO_TCP)
        return 0;
    in.family = ctx->family;
    if (in.family != AF_INET && in.family != AF_INET6)
        return 0;
    in.sk = sk;
    ptr = (__u64)sk;
    pinned = bpf_map_lookup_elem(&ptr_ids, &ptr);
    if (pinned) {
        in.sock_id = *pinned;
    } else {
        in.sock_id = BPF_CORE_READ(sk, __sk_common.skc_cookie.counter);
        if (!in.sock_id)
            in.sock_id = ptr | TS_SOCK_ID_PTR_FLAG;
        bpf_map_update_elem(&ptr_ids, &ptr, &in.sock_id, BPF_ANY);
    }
    in.oldstate = ctx->oldstate;
    in.newstate = ctx->newstate;
    in.sport = ctx->sport;
    in.dport = ctx->dport;
    /* Probe reads: the verifier rejects ctx pointer arithmetic for the array fields. */
    if (in.family == AF_INET) {
        bpf_core_read(&in.saddr, 4, &ctx->saddr);
        bpf_core_read(&in.daddr, 4, &ctx->daddr);
    } else {
        BPF_CORE_READ_INTO(&in.saddr, ctx, saddr_v6);
        BPF_CORE_READ_INTO(&in.daddr, ctx, daddr_v6);
    }
    handle(&in);
    if (in.newstate == TCP_CLOSE)
        bpf_map_delete_elem(&ptr_ids, &ptr);
    return 0;
}
