// SPDX-License-Identifier: GPL-3.0-or-later
// The consumer side of progs/ringbuf_wakeup.bpf.h: the BPF programs submit without waking the
// helper until half a ring is waiting, and the helper consumes every kRingPollMs instead.
#pragma once

#include <bpf/libbpf.h>
#include <cstdint>

namespace tcpscope::helper {

// At the largest record rates seen on loopback (~200k records/s) a poll consumes ~600 KiB,
// a small part of the smallest default ring (8 MiB).
inline constexpr int kRingPollMs = 20;

// Bytes waiting in `ring` from which a submit wakes the consumer, for the object's
// ts_wakeup_bytes (set before load, after the ring's size is final).
inline std::uint64_t ringWakeupBytes(const bpf_map *ring)
{
    return bpf_map__max_entries(ring) / 2;
}

} // namespace tcpscope::helper
