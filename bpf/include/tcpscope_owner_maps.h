/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The owner filter (capture filter terms cgroup, netns, pid, comm): layouts of the maps the
 * helper writes from Start. lifecycle.bpf.c owns the maps; the helper hands their descriptors to
 * the packet and tcpinfo objects (bpf_map__reuse_fd), so all three decide with one set and share
 * one verdict per socket. Shared only by the helper and the BPF objects built with it.
 */
#ifndef TCPSCOPE_OWNER_MAPS_H
#define TCPSCOPE_OWNER_MAPS_H

#include "tcpscope_records.h"

/* owner_cfg[0]: which kinds of owner terms are given (each 0 or 1); all 0 = no owner filter. */
struct ts_owner_config {
    __u8 enabled; /* any of the below */
    __u8 cgroups; /* owner_cgroups: the socket's cgroup or an ancestor is listed */
    __u8 netns;   /* owner_netns: the socket's network namespace inode is listed */
    __u8 pids;    /* owner_pids: the owner's tgid is listed */
    __u8 comms;   /* owner_comms: the owner's comm is listed */
    __u8 ptr_ids; /* lifecycle runs on the classic tracepoint: it keys verdicts by pointer ids */
    __u8 _pad[2];
};

struct ts_comm_key {
    char comm[TS_COMM_LEN]; /* NUL-padded */
};

/* owner_verdict values: the decision for one socket id, cached. */
#define TS_VERDICT_KEEP 1
#define TS_VERDICT_SKIP 2

#define TS_MAX_OWNER_TERMS 64   /* entries of each term map (wire::kMaxFilter*) */
#define TS_OWNER_VERDICTS 65536 /* sockets whose verdict is cached (LRU) */
#define TS_CGROUP_MAX_DEPTH 32  /* cgroup levels walked up from a socket's cgroup */

#endif /* TCPSCOPE_OWNER_MAPS_H */
