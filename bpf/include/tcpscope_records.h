/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The one definition of every record that crosses from the kernel to user space and on to the
 * app. Included by BPF programs (with vmlinux.h, which provides __u8.. types) and by C++ code
 * (with <linux/types.h>). Every struct is fixed-size with explicit widths and explicit padding so
 * that BPF, the helper and the app agree byte for byte; static_asserts in core/wire pin the sizes.
 *
 * Compatibility rule: a record type's layout never changes once released. A new field means a new
 * record type (or TS_RECORD_VERSION bump, which the wire handshake rejects on mismatch).
 */
#ifndef TCPSCOPE_RECORDS_H
#define TCPSCOPE_RECORDS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define TS_RECORD_VERSION 1
#define TS_COMM_LEN 16

enum ts_record_type {
    TS_REC_STATE_CHANGE = 1, /* struct ts_state_change */
    TS_REC_CLOSE_STATS = 2,  /* struct ts_close_stats, emitted right after a change to CLOSE */
};

/* How the owning process of a state change was determined. */
enum ts_owner_source {
    TS_OWNER_NONE = 0,       /* unknown: socket predates capture and no scan found it */
    TS_OWNER_CURRENT = 1,    /* current task at connect()/listen() time (authoritative) */
    TS_OWNER_LISTENER = 2,   /* accepted socket: owner of the listening socket on that port */
    TS_OWNER_REMEMBERED = 3, /* owner remembered from an earlier record of the same socket */
    TS_OWNER_SCAN = 4,       /* from the helper's start-up scan of existing sockets (/proc) */
};

/* Socket identity: the socket cookie when the hook can obtain it, else the sk pointer with the
 * top bit set (TS_SOCK_ID_PTR_FLAG). Kernel pointers on x86-64 already have the top bit set, so
 * the flag keeps that space disjoint from cookies, which are small counters. */
#define TS_SOCK_ID_PTR_FLAG (1ULL << 63)

/* Every record starts with this header. size is the whole record size in bytes. */
struct ts_record_header {
    __u16 type;
    __u16 size;
    __u32 cpu;
    __u64 ts_ns; /* CLOCK_MONOTONIC (bpf_ktime_get_ns) */
};

struct ts_state_change {
    struct ts_record_header hdr;
    __u64 sock_id;
    __u64 cgroup_id;  /* cgroup v2 id of the owner at attribution time */
    __u32 netns_ino;  /* network namespace inode of the socket */
    __u32 pid;        /* owning process (tgid), see owner_source */
    __u32 ctx_pid;    /* tgid of the task the hook ran in (softirq context: whoever it was) */
    __u16 family;     /* AF_INET (2) or AF_INET6 (10) */
    __u16 sport;      /* local port, host order */
    __u16 dport;      /* remote port, host order */
    __u8 oldstate;    /* TCP_* from include/net/tcp_states.h (1..12) */
    __u8 newstate;
    __u8 owner_source; /* enum ts_owner_source */
    __u8 _pad[3];
    __u8 saddr[16];   /* local address: IPv4 in the first 4 bytes, network order */
    __u8 daddr[16];   /* remote address */
    char comm[TS_COMM_LEN];     /* owner's comm */
    char ctx_comm[TS_COMM_LEN]; /* comm of the task the hook ran in */
};

/* Read from struct tcp_sock when the socket enters TCP_CLOSE. */
struct ts_close_stats {
    struct ts_record_header hdr;
    __u64 sock_id;
    __u64 bytes_acked;    /* payload bytes sent and acknowledged by the peer (no SYN/FIN) */
    __u64 bytes_received; /* payload bytes received in order (no FIN) */
    __u32 segs_in;
    __u32 segs_out;
    __u32 total_retrans;
    __u32 srtt_us;        /* smoothed RTT in microseconds (tp->srtt_us >> 3) */
    __u32 min_rtt_us;     /* windowed min RTT (tcp_min_rtt); 0 = no RTT sample */
    __s32 sk_err;         /* sk->sk_err at close: ECONNREFUSED, ETIMEDOUT, ECONNRESET, 0 */
    __u8 oldstate;        /* state before CLOSE */
    __u8 _pad[7];
};

#endif /* TCPSCOPE_RECORDS_H */
