/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Map layouts of tcpinfo.bpf.c that the helper writes (the sample rate limit). Shared only by the
 * helper and the BPF object built with it; not part of the wire format.
 */
#ifndef TCPSCOPE_TCPINFO_MAPS_H
#define TCPSCOPE_TCPINFO_MAPS_H

#include "tcpscope_records.h"

/* tcpinfo_config[0], written by the helper after Start (before attach). */
struct ts_tcpinfo_config {
    __u64
        sample_interval_ns; /* minimum time between two tcp_probe samples of one socket; 0 = all */
    __u32 shared_ptr_ids;   /* 1: ptr_ids is lifecycle's map (its classic-tracepoint mode) */
    __u32 enabled;          /* 0 (before Start): programs emit nothing, e.g. while probed */
};

/* Sockets whose last sample time is remembered for the rate limit (LRU: closed sockets age out). */
#define TS_TCPINFO_RATE_ENTRIES 16384

#endif /* TCPSCOPE_TCPINFO_MAPS_H */
