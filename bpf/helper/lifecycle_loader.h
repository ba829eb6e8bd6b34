// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "owner_maps.h"
#include "wire.h"

#include <cstdint>
#include <string>
#include <vector>

struct lifecycle_bpf;

namespace tcpscope::helper {

class Tracefs;

// Loads lifecycle.bpf.c the libbpf-tools way: try the tp_btf program with the tracepoint one
// switched off; if that fails (or is forced off), load the classic tracepoint instead, making
// tracefs available first. Destroying the loader detaches every link (nothing is pinned).
class LifecycleLoader
{
public:
    LifecycleLoader() = default;
    LifecycleLoader(const LifecycleLoader &) = delete;
    LifecycleLoader &operator=(const LifecycleLoader &) = delete;
    ~LifecycleLoader();

    bool load(bool forceTracepoint, unsigned ringbufBytes, Tracefs &tracefs, std::string &error);
    bool attach(std::string &error);

    const wire::ProbeReport &report() const { return m_report; }
    int eventsFd() const;
    int listenersFd() const;
    // sk pointer -> socket id map of the classic-tracepoint mode, shared with tcpinfo.bpf.c so
    // both name a socket alike (-1 when not loaded).
    int ptrIdsFd() const;
    // The owner filter's maps, which the packet and tcpinfo objects share.
    OwnerMapFds ownerMaps() const;
    // Cumulative failed ring-buffer reserves per possible CPU.
    bool readLost(std::vector<std::uint64_t> &perCpu) const;
    // Cumulative runs the kernel skipped, summed over every loaded program (bpf_prog_info's
    // recursion_misses: a tp_btf trampoline refuses to nest on one CPU, e.g. when a softirq's
    // state change interrupts ours). Each skipped run is at least one record never produced.
    // Kernels before 5.12 do not report it: 0 then.
    bool readMissedRuns(std::uint64_t &total) const;

private:
    bool loadMode(bool btf, std::string &error);
    lifecycle_bpf *m_skel = nullptr;
    unsigned m_ringbufBytes = 0;
    wire::ProbeReport m_report;
};

} // namespace tcpscope::helper
