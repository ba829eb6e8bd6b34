// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <cstdint>
#include <string>

namespace tcpscope::helper {

// The clsact + cls_bpf attachment used where tcx is missing (or forced), made safe for several
// tcpscope helpers and for other users of the same qdisc:
// - Every tcpscope filter has priority kClsactPriority in chain 0 and the owning helper's PID as
//   its handle. A filter whose handle is not the PID of a running tcpscope-helper belongs to a
//   helper that was killed: it is removed at the next attach. Filters of running helpers and of
//   anyone else are never touched.
// - A helper that creates the qdisc also adds a marker: a classic-BPF filter that matches nothing
//   in chain kClsactMarkerChain, which no packet ever reaches (nothing jumps there). It records,
//   on the qdisc itself, that tcpscope created it. Whoever removes the last filter besides the
//   marker (on exit or when cleaning up after a killed helper) deletes the qdisc; a qdisc without
//   the marker was there before tcpscope and stays.
constexpr std::uint16_t kClsactPriority = 0x7473;
constexpr std::uint32_t kClsactMarkerChain = 0x7473;

// Attaches the two programs on ifindex with this process's filters. On failure nothing of ours
// stays and error says why.
bool clsactAttach(std::uint32_t ifindex, int ingressProgFd, int egressProgFd, std::string &error);
// Removes this process's filters and, when the qdisc was tcpscope's and nothing else uses it,
// the qdisc.
void clsactDetach(std::uint32_t ifindex);

} // namespace tcpscope::helper
