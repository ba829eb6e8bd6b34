/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The owner filter, shared by lifecycle.bpf.c, packets.bpf.c and tcpinfo.bpf.c: whether a socket
 * belongs to an owner the capture filter asks for (its cgroup subtree, network namespace,
 * process or process name). The decision is made once per socket and cached in owner_verdict by
 * socket id (the cookie; cookies are never reused), so a packet or a sample of a known socket
 * costs one hash lookup. Who decides first:
 *   - lifecycle, at connect()/listen() and when a listener's child is created: it knows the
 *     owner process, so every kind of term can be decided (an accepted socket is its listener's
 *     owner's, like its cgroup, which the kernel copies from the listener);
 *   - a packet or kernel event of a socket lifecycle never saw (it predates the capture): the
 *     socket's own cgroup and namespace decide; pid and comm are unknown there, so such a socket
 *     is left out when the filter has pid or comm terms (not cached: lifecycle may learn it).
 * Request sockets (a handshake in progress) are decided by their listener; TIME_WAIT sockets
 * only by the verdict their connection left (they have no cgroup). Everything is read with CO-RE
 * probe reads from a kernel socket pointer, so tracing and TC programs share the code.
 */
#ifndef TCPSCOPE_OWNER_FILTER_BPF_H
#define TCPSCOPE_OWNER_FILTER_BPF_H

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "tcpscope_maps.h"
#include "tcpscope_owner_maps.h"

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct ts_owner_config);
} owner_cfg SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, TS_MAX_OWNER_TERMS);
    __type(key, __u64);
    __type(value, __u8);
} owner_cgroups SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, TS_MAX_OWNER_TERMS);
    __type(key, __u32);
    __type(value, __u8);
} owner_netns SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, TS_MAX_OWNER_TERMS);
    __type(key, __u32);
    __type(value, __u8);
} owner_pids SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, TS_MAX_OWNER_TERMS);
    __type(key, struct ts_comm_key);
    __type(value, __u8);
} owner_comms SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, TS_OWNER_VERDICTS);
    __type(key, __u64);
    __type(value, __u8);
} owner_verdict SEC(".maps");

/* lifecycle.bpf.c's {netns, port, family} -> owner of the listening socket (also written by the
 * helper's /proc scan): how the filter learns the owner of a listener that predates the capture. */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, TS_MAX_LISTENERS);
    __type(key, struct ts_listener_key);
    __type(value, struct ts_listener);
} listeners SEC(".maps");

#define TS_OWNER_TCP_LISTEN 10
#define TS_OWNER_TCP_TIME_WAIT 6
#define TS_OWNER_TCP_NEW_SYN_RECV 12

/* The filter's configuration when an owner filter is on, else NULL: the only cost without one. */
static __always_inline const struct ts_owner_config *owner_filter_on(void)
{
    __u32 zero = 0;
    const struct ts_owner_config *cfg = bpf_map_lookup_elem(&owner_cfg, &zero);

    return cfg && cfg->enabled ? cfg : 0;
}

/* One level of the cgroup walk: is cg listed; if not, go on with its parent (stop at the root). */
struct cgroup_walk {
    struct cgroup *cg;
    int found;
};

static __always_inline long cgroup_walk_step(struct cgroup_walk *w)
{
    struct cgroup *cg = w->cg; /* a local: CO-RE relocates only the kernel's types */
    __u64 id = BPF_CORE_READ(cg, kn, id);
    struct cgroup_subsys_state *parent;

    if (bpf_map_lookup_elem(&owner_cgroups, &id)) {
        w->found = 1;
        return 1;
    }
    parent = BPF_CORE_READ(cg, self.parent);
    if (!parent)
        return 1;
    w->cg = (struct cgroup *)((char *)parent - bpf_core_field_offset(struct cgroup, self));
    return 0;
}

static long cgroup_walk_cb(__u64 index, void *ctx)
{
    return cgroup_walk_step(ctx);
}

/* The socket's cgroup (sk_cgrp_data: the cgroup of the task that created it, or of its listener)
 * or one of its ancestors is listed. Walks parents rather than ancestor arrays, whose layout
 * changed across kernels. Without sk_cgrp_data: the owner's cgroup id, exactly.
 * With bpf_loop (kernel 5.17 on) the verifier checks one step of the walk, not all
 * TS_CGROUP_MAX_DEPTH of them for every way into it: that unrolled walk was most of what it
 * checked in every program (a quarter of the helper's start-up). Older kernels walk unrolled;
 * CO-RE settles which at load time, and the verifier never visits the other branch. */
static __always_inline int cgroup_wanted(const struct sock *sk, __u64 owner_cgroup)
{
    struct cgroup_walk w = {};

    if (bpf_core_field_exists(sk->sk_cgrp_data.cgroup))
        w.cg = BPF_CORE_READ(sk, sk_cgrp_data.cgroup);
    if (!w.cg)
        return owner_cgroup && bpf_map_lookup_elem(&owner_cgroups, &owner_cgroup) != 0;
    if (bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_loop)) {
        bpf_loop(TS_CGROUP_MAX_DEPTH, cgroup_walk_cb, &w, 0);
        return w.found;
    }
    for (int i = 0; i < TS_CGROUP_MAX_DEPTH; i++) {
        if (cgroup_walk_step(&w))
            break;
    }
    return w.found;
}

/* Every kind of term given must hold. sk: NULL when no socket with a cgroup and a namespace is
 * known; o: NULL when the owner process is unknown. */
static __always_inline int owner_wanted(const struct ts_owner_config *cfg, const struct sock *sk,
                                        const struct ts_owner *o)
{
    if (cfg->netns) {
        __u32 ino;

        if (!sk)
            return 0;
        ino = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
        if (!bpf_map_lookup_elem(&owner_netns, &ino))
            return 0;
    }
    if (cfg->cgroups && !(sk && cgroup_wanted(sk, o ? o->cgroup_id : 0)))
        return 0;
    if (cfg->pids) {
        __u32 pid = o ? o->pid : 0;

        if (!pid || !bpf_map_lookup_elem(&owner_pids, &pid))
            return 0;
    }
    if (cfg->comms) {
        struct ts_comm_key key = {};

        if (!o || !o->pid)
            return 0;
        __builtin_memcpy(key.comm, o->comm, TS_COMM_LEN);
        if (!bpf_map_lookup_elem(&owner_comms, &key))
            return 0;
    }
    return 1;
}

/* 1 when the socket sk (a kernel struct sock pointer of any state, NULL = none) with id (its
 * cookie, 0 = unknown) is wanted. o: the owner lifecycle attributed (NULL elsewhere); fresh: o was
 * just learned (connect, listen, a new child), so decide again rather than use the cache. A
 * subprogram, not inlined at every call site (it cannot be a global function: those take no
 * kernel pointers). */
static __noinline int ts_owner_keep(const struct sock *sk, __u64 id, struct ts_owner *o, int fresh)
{
    const struct ts_owner_config *cfg = owner_filter_on();
    __u8 *cached, verdict, state = 0;
    int wanted;

    if (!cfg)
        return 1;
    if (sk) {
        state = BPF_CORE_READ(sk, __sk_common.skc_state);

        if (state == TS_OWNER_TCP_NEW_SYN_RECV) {
            /* A handshake in progress belongs to its listener. */
            sk = BPF_CORE_READ(sk, __sk_common.skc_listener); /* rsk_listener */
            if (!sk)
                return 0;
            id = BPF_CORE_READ(sk, __sk_common.skc_cookie.counter);
            o = 0;
            fresh = 0;
            state = TS_OWNER_TCP_LISTEN;
        } else if (state == TS_OWNER_TCP_TIME_WAIT) {
            sk = 0; /* no cgroup: only the verdict its connection left counts */
        }
    }
    if (id && !(fresh && o)) {
        cached = bpf_map_lookup_elem(&owner_verdict, &id);
        if (cached)
            return *cached == TS_VERDICT_KEEP;
    }
    if (cfg->ptr_ids && sk && !(fresh && o)) {
        /* lifecycle on the classic tracepoint names a socket without a cookie by its pointer
         * (TS_SOCK_ID_PTR_FLAG): the packet programs know the cookie, so look that up too. */
        __u64 ptr = 0;

        bpf_probe_read_kernel(&ptr, sizeof(ptr), &sk);
        ptr |= TS_SOCK_ID_PTR_FLAG;
        cached = bpf_map_lookup_elem(&owner_verdict, &ptr);
        if (cached)
            return *cached == TS_VERDICT_KEEP;
    }
    if (!o && sk && state == TS_OWNER_TCP_LISTEN) {
        /* A listener lifecycle did not see start (it predates the capture): its owner as the
         * scan or an earlier listen() left it, so pid and comm terms can decide its handshakes. */
        struct ts_listener_key lk = {.netns_ino =
                                         BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum),
                                     .port = BPF_CORE_READ(sk, __sk_common.skc_num),
                                     .family = BPF_CORE_READ(sk, __sk_common.skc_family)};
        struct ts_listener *l = bpf_map_lookup_elem(&listeners, &lk);

        if (l)
            o = &l->owner;
    }
    wanted = owner_wanted(cfg, sk, o && o->pid ? o : 0);
    /* Without the owner, a pid/comm answer is only "not known yet": not cached. */
    if (id && ((o && o->pid) || !(cfg->pids || cfg->comms))) {
        verdict = wanted ? TS_VERDICT_KEEP : TS_VERDICT_SKIP;
        bpf_map_update_elem(&owner_verdict, &id, &verdict, BPF_ANY);
    }
    return wanted;
}

/* Inline front of ts_owner_keep for records without an owner: no call without a filter, and a
 * socket already decided (nearly every packet and sample) costs one lookup, no call. */
static __always_inline int owner_keep(const void *sk, __u64 id)
{
    __u8 *cached;

    if (!owner_filter_on())
        return 1;
    if (id) {
        cached = bpf_map_lookup_elem(&owner_verdict, &id);
        if (cached)
            return *cached == TS_VERDICT_KEEP;
    }
    return ts_owner_keep((const struct sock *)sk, id, 0, 0);
}

#endif /* TCPSCOPE_OWNER_FILTER_BPF_H */
