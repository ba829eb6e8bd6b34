// SPDX-License-Identifier: GPL-3.0-or-later
// The owner filter's maps (bpf/progs/owner_filter.bpf.h): lifecycle.bpf.c's object owns them, the
// packet and tcpinfo objects reuse its descriptors, and the helper writes them from Start.
#pragma once

#include "wire.h"

#include <string>

struct bpf_object;

namespace tcpscope::helper {

struct OwnerMapFds
{
    int config = -1;
    int cgroups = -1;
    int netns = -1;
    int pids = -1;
    int comms = -1;
    int verdict = -1;
    int listeners = -1; // lifecycle's listener owners, which the filter also reads
    bool valid() const { return config >= 0; }
};

// The descriptors of obj's owner maps (a loaded lifecycle object).
OwnerMapFds ownerMapFds(bpf_object *obj);

// Before obj is loaded: its owner maps become the ones of fds (false + why when libbpf refuses).
// Without valid fds, obj keeps maps of its own, shrunk to a minimum (a probe's throw-away object).
bool reuseOwnerMaps(bpf_object *obj, const OwnerMapFds &fds, std::string &error);

// Writes Start's owner terms into the maps; the configuration last, so the programs never see a
// filter without its entries.
// ptrIds: lifecycle runs on the classic tracepoint (verdicts may be keyed by pointer ids).
bool writeOwnerFilter(const OwnerMapFds &fds, const wire::StartOptions &start, bool ptrIds,
                      std::string &error);

// The first pid of start.pids that is no process on this host, or 0 when all exist.
std::uint32_t missingPid(const wire::StartOptions &start, std::size_t *index);

// The cgroup v2 tree (breadth first, bounded like wire::HostOwners) and the `ip netns` names of
// this host. cgroupRoot: the cgroup2 mount, empty = found in /proc/self/mountinfo.
wire::HostOwners hostOwners(const std::string &cgroupRoot = {},
                            const std::string &netnsDir = "/run/netns");

} // namespace tcpscope::helper
