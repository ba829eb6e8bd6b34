/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Key/value layouts of the lifecycle program's maps that user space also writes (the helper's
 * start-up scan fills `listeners`). Not part of the wire format: only the helper and the BPF
 * object, built together, share these.
 */
#ifndef TCPSCOPE_MAPS_H
#define TCPSCOPE_MAPS_H

#include "tcpscope_records.h"

/* Who owns a socket, and how we know. */
struct ts_owner {
    __u64 cgroup_id;
    __u32 pid;   /* tgid */
    __u8 source; /* enum ts_owner_source at the time it was learned */
    __u8 flags;  /* TS_OWNER_F_* */
    __u8 _pad[2];
    char comm[TS_COMM_LEN];
};

/* The socket did an active open (connect): its SYN is counted in tcp_sock.bytes_acked. */
#define TS_OWNER_F_ACTIVE_OPEN 1

/* A listening socket is found again by the child's local port in the same netns and family.
 * (A dual-stack IPv6 listener's children are AF_INET6 too, so family matches exactly.) The
 * local address is deliberately not part of the key: the child does not know which of several
 * bind addresses the listener used, and per-address listeners on one port by different
 * processes are rare; the last one to listen wins. */
struct ts_listener_key {
    __u32 netns_ino;
    __u16 port; /* host order */
    __u16 family;
};

struct ts_listener {
    struct ts_owner owner;
    __u64 sock_id; /* 0 when learned by the /proc scan (cookie unknown) */
};

#define TS_MAX_OWNERS 65536
#define TS_MAX_LISTENERS 4096
#define TS_RINGBUF_BYTES (8u << 20)

#endif /* TCPSCOPE_MAPS_H */
