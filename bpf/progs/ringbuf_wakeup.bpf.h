/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * When a ring buffer submit wakes the helper. A wake-up is an irq_work, which on x86 is a
 * self-IPI: on the development VM it cost more than everything else a packet program does (over
 * half of a TC run, measured with perf). The helper therefore consumes on a short timer, and a
 * submit wakes it only when ts_wakeup_bytes are already waiting (the helper sets half the ring
 * before load), so a burst cannot fill the ring between two timer polls. 0 (the default, e.g.
 * an object loaded by a test) keeps the kernel's adaptive wake-up of every caught-up consumer.
 * Included once by each .bpf.c that owns a ring buffer (after vmlinux.h and the libbpf headers).
 */
#ifndef TCPSCOPE_RINGBUF_WAKEUP_BPF_H
#define TCPSCOPE_RINGBUF_WAKEUP_BPF_H

const volatile __u64 ts_wakeup_bytes = 0;

static __always_inline __u64 ts_submit_flags(void *ringbuf)
{
    if (!ts_wakeup_bytes)
        return 0;
    return bpf_ringbuf_query(ringbuf, BPF_RB_AVAIL_DATA) >= ts_wakeup_bytes ? BPF_RB_FORCE_WAKEUP
                                                                            : BPF_RB_NO_WAKEUP;
}

#endif /* TCPSCOPE_RINGBUF_WAKEUP_BPF_H */
