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
    TS_REC_PACKET = 3,       /* struct ts_packet: one TCP packet at TC ingress/egress */
    TS_REC_PACKET_SNAP = 4,  /* struct ts_packet_snap: ts_packet + payload snapshot */
    TS_REC_INTERFACE = 5,    /* struct ts_interface: written by the helper, not by BPF */
    TS_REC_TCP_SAMPLE = 6,   /* struct ts_tcp_sample: tcp_probe, rate-limited per connection */
    TS_REC_TCP_EVENT = 7, /* struct ts_tcp_event: retransmit, SYN-ACK retransmit, RST, CA state */
    TS_REC_DROP = 8,      /* struct ts_drop: kfree_skb of a TCP packet, with the drop reason */
    TS_REC_LISTENER = 9,  /* struct ts_listener_sample: helper's sock_diag of listeners */
    TS_REC_REASON_NAME = 10, /* struct ts_reason_name: helper, from kernel BTF enums, at start */
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
    __u64 cgroup_id; /* cgroup v2 id of the owner at attribution time */
    __u32 netns_ino; /* network namespace inode of the socket */
    __u32 pid;       /* owning process (tgid), see owner_source */
    __u32 ctx_pid;   /* tgid of the task the hook ran in (softirq context: whoever it was) */
    __u16 family;    /* AF_INET (2) or AF_INET6 (10) */
    __u16 sport;     /* local port, host order */
    __u16 dport;     /* remote port, host order */
    __u8 oldstate;   /* TCP_* from include/net/tcp_states.h (1..12) */
    __u8 newstate;
    __u8 owner_source; /* enum ts_owner_source */
    __u8 _pad[3];
    __u8 saddr[16];             /* local address: IPv4 in the first 4 bytes, network order */
    __u8 daddr[16];             /* remote address */
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
    __u32 srtt_us;    /* smoothed RTT in microseconds (tp->srtt_us >> 3) */
    __u32 min_rtt_us; /* windowed min RTT (tcp_min_rtt); 0 = no RTT sample */
    __s32 sk_err;     /* sk->sk_err at close: ECONNREFUSED, ETIMEDOUT, ECONNRESET, 0 */
    __u8 oldstate;    /* state before CLOSE */
    __u8 _pad[7];
};

/* ---- packets.bpf.c: TCP headers at TC ingress/egress ---------------------------------------- */

enum ts_packet_direction {
    TS_DIR_INGRESS = 0, /* received by this host: the socket found is the receiver */
    TS_DIR_EGRESS = 1,  /* sent by this host: the socket found is the sender */
};

/* How far the headers could be trusted. A record is emitted for every packet that is TCP as far
 * as its headers tell (IPv4 protocol 6, or an IPv6 extension chain ending in TCP); fields after the
 * failing point are zero and must not be used. */
enum ts_parse_status {
    TS_PARSE_OK = 0,
    TS_PARSE_TRUNC_IP = 1,        /* IP header shorter than its own header length field */
    TS_PARSE_BAD_IP = 2,          /* IPv4 ihl < 5, total length < ihl*4, or length beyond packet */
    TS_PARSE_TRUNC_EXTHDR = 3,    /* IPv6 extension header runs past the packet */
    TS_PARSE_TOO_MANY_EXTHDR = 4, /* more IPv6 extension headers than the parser follows (8) */
    TS_PARSE_FRAGMENT = 5,        /* non-first IP fragment: no TCP header in it */
    TS_PARSE_TRUNC_TCP = 6,       /* fewer than 20 bytes of TCP header present */
    TS_PARSE_BAD_TCP_HDR_LEN = 7, /* data offset < 5 words, or beyond the IP payload */
    TS_PARSE_TRUNC_OPTIONS = 8, /* options area shorter than data offset says (opt_len = copied) */
};

/* TCP header flag bits as in byte 13 of the header. */
#define TS_TCP_FIN 0x01
#define TS_TCP_SYN 0x02
#define TS_TCP_RST 0x04
#define TS_TCP_PSH 0x08
#define TS_TCP_ACK 0x10
#define TS_TCP_URG 0x20
#define TS_TCP_ECE 0x40
#define TS_TCP_CWR 0x80

#define TS_TCP_OPTIONS_MAX 40
#define TS_SNAP_MAX 256

/* Socket identity of a packet: the local socket the kernel's own lookup finds for the packet's
 * 4-tuple (bpf_skc_lookup_tcp, tuple oriented so that the local end is daddr at ingress and
 * saddr at egress), using the same rule as lifecycle records: the socket cookie when allocated,
 * else the pointer with TS_SOCK_ID_PTR_FLAG. A listening socket is not "the connection": then,
 * and when nothing is found, sock_id is 0 and sock_state is 0. Request sockets (SYN_RECV) and
 * TIME_WAIT sockets are reported with their state; the app joins by 4-tuple when the id does
 * not name a known connection. */
struct ts_packet {
    struct ts_record_header hdr;
    __u64 sock_id;     /* 0 = no socket of a connection found */
    __u32 ifindex;     /* interface the TC program ran on */
    __u32 skb_len;     /* skb->len at the hook */
    __u32 seq;         /* host order */
    __u32 ack_seq;     /* host order (meaningful when TS_TCP_ACK is set) */
    __u32 payload_len; /* TCP payload bytes by the IP length fields (GSO: whole super-packet) */
    __u32 ip_id;       /* IPv4 identification, or IPv6 flow label (20 bits) */
    __u16 sport;       /* host order */
    __u16 dport;
    __u16 window; /* raw header value, unscaled */
    __u16 urg_ptr;
    __u16 gso_segs;    /* skb_shared_info gso_segs (0/1 = not GSO) */
    __u16 gso_size;    /* MSS of GSO segments, 0 when not GSO */
    __u16 vlan_tci;    /* outermost VLAN tag (in the packet or skb->vlan_tci), 0 = none */
    __u16 family;      /* AF_INET (2) or AF_INET6 (10) */
    __u8 direction;    /* enum ts_packet_direction */
    __u8 tcp_flags;    /* TS_TCP_* */
    __u8 parse_status; /* enum ts_parse_status */
    __u8 ip_ttl;       /* TTL / hop limit */
    __u8 ip_tos;       /* IPv4 TOS / IPv6 traffic class: DSCP << 2 | ECN */
    __u8 ip_hdr_len;   /* IPv4 ihl*4; IPv6 40 + extension headers */
    __u8 tcp_hdr_len;  /* data offset * 4 as on the wire (see parse_status) */
    __u8 opt_len;      /* bytes of options[] that are valid (0..40) */
    __u8 vlan_depth;   /* VLAN tags found in the packet (not counting skb->vlan_tci) */
    __u8 ip_frag; /* bit0 DF, bit1 MF, bit2 fragment offset != 0 (IPv4); IPv6 frag hdr: bit1/bit2 */
    __u8 sock_state; /* TCP_* state of the socket found (e.g. 1 established, 3 syn_recv, 6
                        time_wait), 0 none */
    __u8 _pad[5];
    __u8 saddr[16]; /* network order; IPv4 in the first 4 bytes */
    __u8 daddr[16];
    __u8 options[TS_TCP_OPTIONS_MAX]; /* raw TCP option bytes, parsed in user space */
};

/* Emitted instead of ts_packet when the app asked for payload snapshots. */
struct ts_packet_snap {
    struct ts_packet
        pkt;        /* pkt.hdr.type = TS_REC_PACKET_SNAP, pkt.hdr.size = sizeof(ts_packet_snap) */
    __u16 snap_len; /* valid bytes in data[] (<= requested snap length <= TS_SNAP_MAX) */
    __u8 _pad[6];
    __u8 data[TS_SNAP_MAX];
};

enum ts_interface_attach {
    TS_ATTACH_NONE = 0,   /* interface gone, or not attached (filtered out by name) */
    TS_ATTACH_TCX = 1,    /* tcx links on ingress and egress */
    TS_ATTACH_CLSACT = 2, /* clsact qdisc + cls_bpf filters (fallback) */
    TS_ATTACH_FAILED = 3,
};

/* Synthesized by the helper (hdr.ts_ns = CLOCK_MONOTONIC when it attached/detached) and sent in
 * the Records stream, so the app learns interface names in order with the packets. */
struct ts_interface {
    struct ts_record_header hdr;
    __u32 ifindex;
    __u8 attach; /* enum ts_interface_attach */
    __u8 _pad[3];
    char name[16]; /* IFNAMSIZ, NUL-terminated */
};

/* ---- tcpinfo.bpf.c: the kernel's own view of each connection -------------------------------- */

/* Which fields of a ts_tcp_sample the hook could fill (the classic tracepoint fallback may give
 * fewer than tp_btf). A field whose bit is clear is zero and must not be charted. */
#define TS_SAMPLE_RTT (1u << 0)     /* srtt_us, rttvar_us */
#define TS_SAMPLE_MIN_RTT (1u << 1) /* min_rtt_us */
#define TS_SAMPLE_CWND (1u << 2)    /* snd_cwnd, snd_ssthresh */
#define TS_SAMPLE_WINDOWS (1u << 3) /* snd_wnd, rcv_wnd */
#define TS_SAMPLE_INFLIGHT                                                                         \
    (1u << 4)                     /* packets_out, retrans_out, lost_out, sacked_out, in_flight     \
                                   */
#define TS_SAMPLE_MSS (1u << 5)   /* mss_cache */
#define TS_SAMPLE_RATE (1u << 6)  /* delivery_rate */
#define TS_SAMPLE_BYTES (1u << 7) /* bytes_acked, bytes_received, total_retrans */
#define TS_SAMPLE_SEQ (1u << 8)   /* snd_nxt, snd_una */
#define TS_SSTHRESH_INFINITE 0x7fffffffu /* TCP_INFINITE_SSTHRESH: still in initial slow start */

/* One tcp_probe sample (taken when an established socket processes an incoming segment), at most
 * one per connection per configured minimum interval (StartOptions::sampleIntervalUs, 0 = all). */
struct ts_tcp_sample {
    struct ts_record_header hdr;
    __u64 sock_id;        /* same identity rule as ts_state_change */
    __u64 bytes_acked;    /* tp->bytes_acked */
    __u64 bytes_received; /* tp->bytes_received */
    __u64 delivery_rate;  /* bytes/s from tp->rate_delivered/rate_interval_us and mss; 0 = none */
    __u32 srtt_us;        /* tp->srtt_us >> 3 */
    __u32 rttvar_us;      /* tp->mdev_us >> 2 (as tcp_info's tcpi_rttvar) */
    __u32 min_rtt_us;     /* tcp_min_rtt(tp); ~0U = no sample yet */
    __u32 snd_cwnd;       /* packets */
    __u32 snd_ssthresh;   /* packets; TS_SSTHRESH_INFINITE = not set yet */
    __u32 snd_wnd;        /* bytes: the peer's advertised (scaled) window */
    __u32 rcv_wnd;        /* bytes: our current advertised window */
    __u32 packets_out;
    __u32 retrans_out;
    __u32 lost_out;
    __u32 sacked_out;
    __u32 in_flight; /* packets, as tcp_packets_in_flight(): out - (sacked + lost) + retrans */
    __u32 mss_cache; /* bytes in flight ~= in_flight * mss_cache */
    __u32 snd_nxt;
    __u32 snd_una;
    __u32 total_retrans; /* tp->total_retrans (segments, cumulative) */
    __u32 data_len;      /* payload bytes of the segment that triggered the sample */
    __u16 fields;        /* TS_SAMPLE_* bits */
    __u16 family;        /* AF_INET / AF_INET6 */
    __u16 sport;         /* local port, host order */
    __u16 dport;         /* remote port, host order */
    __u8 state;          /* TCP_* */
    __u8 ca_state;       /* TCP_CA_Open 0, Disorder 1, CWR 2, Recovery 3, Loss 4 */
    __u8 _pad[10];
    __u8 saddr[16]; /* local address, network order (IPv4 in the first 4 bytes) */
    __u8 daddr[16]; /* remote address */
};

enum ts_tcp_event_kind {
    TS_EV_RETRANSMIT = 1, /* tcp_retransmit_skb (data, SYN or FIN); segs, err, seq set */
    /* tcp_retransmit_synack; sock_id = the LISTENER, tuple = request */
    TS_EV_SYNACK_RETRANSMIT = 2,
    TS_EV_RST_SENT = 3, /* tcp_send_reset; reason = enum sk_rst_reason where the kernel has it */
    TS_EV_RST_RECEIVED = 4, /* tcp_receive_reset */
    TS_EV_CONG_STATE = 5,   /* tcp_cong_state_set: old_ca_state -> new_ca_state */
};

#define TS_REASON_NONE 0xffffffffu /* the kernel gave no reason for this event */

/* A discrete event on a connection. Tuple fields are oriented local/remote as far as the hook
 * tells (send_reset without a socket: saddr = the address that sends the RST). */
struct ts_tcp_event {
    struct ts_record_header hdr;
    __u64 sock_id;       /* 0 = no full socket (e.g. RST sent for a packet without a socket) */
    __u32 reason;        /* RST sent: enum sk_rst_reason; else TS_REASON_NONE */
    __u32 seq;           /* retransmit: TCP_SKB_CB(skb)->seq; RST sent: seq of the RST if known */
    __s32 err;           /* retransmit: the tracepoint's err (0 = sent); else 0 */
    __u32 total_retrans; /* tp->total_retrans after the event (full sockets), else 0 */
    __u32 srtt_us;       /* at the event (full sockets), else 0 */
    __u32 snd_cwnd;      /* at the event (full sockets), else 0 */
    __u16 segs;          /* retransmit: tcp_skb_pcount(skb) (segments resent); SYN-ACK: 1 */
    __u16 family;
    __u16 sport;       /* local port, host order */
    __u16 dport;       /* remote port */
    __u8 kind;         /* enum ts_tcp_event_kind */
    __u8 sk_state;     /* TCP_* of the socket at the event, 0 unknown */
    __u8 old_ca_state; /* CONG_STATE only */
    __u8 new_ca_state; /* CONG_STATE only */
    __u8 tcp_flags;    /* retransmit: TCP_SKB_CB(skb)->tcp_flags (SYN/FIN resends) */
    __u8 _pad[3];
    __u8 saddr[16]; /* local */
    __u8 daddr[16]; /* remote */
};

/* kfree_skb of a TCP packet (skb:kfree_skb; consume_skb is not a drop and not traced). The tuple is
 * the packet's own (saddr/sport = its source), parsed from the skb's network/transport headers. */
struct ts_drop {
    struct ts_record_header hdr;
    __u64 sock_id;  /* skb->sk or rx_sk when the kernel had one (same id rule), else 0 */
    __u64 location; /* kernel text address of the dropping call site */
    __u32 reason;   /* enum skb_drop_reason (names: ts_reason_name table 1) */
    __u32 ifindex;  /* skb->dev / skb->skb_iif, 0 unknown */
    __u32 seq;      /* host order */
    __u32 ack_seq;
    __u32 payload_len; /* TCP payload bytes by the IP length fields */
    __u16 family;
    __u16 sport;    /* packet's source port, host order */
    __u16 dport;    /* packet's destination port */
    __u8 tcp_flags; /* TS_TCP_* */
    __u8 sk_state;  /* state of the socket the kernel had, 0 none */
    __u8 _pad[4];
    __u8 saddr[16]; /* packet's source address */
    __u8 daddr[16]; /* packet's destination address */
};

/* A listening socket's accept queue as sock_diag reports it, polled by the helper (every 100 ms
 * while capturing); sent for a listener when first seen and whenever backlog or drops change. */
struct ts_listener_sample {
    struct ts_record_header hdr;
    __u64 sock_id;     /* socket cookie (inet_diag idiag_cookie), as lifecycle records use */
    __u64 drops;       /* sk_drops (SK_MEMINFO_DROPS): SYNs/ACKs the listener dropped, cumulative */
    __u32 backlog;     /* sk_ack_backlog: established connections waiting for accept() */
    __u32 max_backlog; /* sk_max_ack_backlog: listen()'s backlog (capped by somaxconn) */
    __u32 netns_ino;
    __u16 family;
    __u16 port;    /* host order */
    __u8 addr[16]; /* bound address, network order */
};

enum ts_reason_table {
    TS_REASONS_SKB_DROP = 1, /* enum skb_drop_reason, names without the SKB_DROP_REASON_ prefix */
    TS_REASONS_SK_RST = 2,   /* enum sk_rst_reason, names without the SK_RST_REASON_ prefix */
};

/* Name of one enum value, from the running kernel's BTF; the helper sends the whole tables right
 * after Hello-time attach, before any record that uses them. */
struct ts_reason_name {
    struct ts_record_header hdr;
    __u16 table; /* enum ts_reason_table */
    __u16 _pad;
    __u32 value;
    char name[64]; /* NUL-terminated, e.g. "NO_SOCKET" */
};

#endif /* TCPSCOPE_RECORDS_H */
