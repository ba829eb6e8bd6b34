/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Map layouts of packets.bpf.c that the helper writes: the capture configuration and the
 * kernel-side filter. Shared only by the helper and the BPF object built with it (not wire).
 */
#ifndef TCPSCOPE_PACKET_MAPS_H
#define TCPSCOPE_PACKET_MAPS_H

#include "tcpscope_records.h"

struct ts_packet_config {
    __u8 ports_enabled; /* 1: only packets whose sport or dport is set in pkt_ports */
    __u8 nets_enabled;  /* 1: only packets whose saddr or daddr is in pkt_nets4/pkt_nets6 */
    __u8 payload;       /* 1: emit ts_packet_snap with up to snap_len payload bytes */
    __u8 _pad;
    __u16 snap_len;
    __u16 _pad2;
};

struct ts_lpm4_key {
    __u32 prefixlen;
    __u8 addr[4];
};

struct ts_lpm6_key {
    __u32 prefixlen;
    __u8 addr[16];
};

/* pkt_l2len values: bytes of link-layer header before the network header at TC. */
#define TS_L2_ETHERNET 14
#define TS_L2_NONE 0

#endif /* TCPSCOPE_PACKET_MAPS_H */
