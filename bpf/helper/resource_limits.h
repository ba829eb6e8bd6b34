// SPDX-License-Identifier: GPL-3.0-or-later
// Hard caps on what a caller may make the helper allocate or do. The helper runs with
// capabilities its caller lacks, so it checks every resource option itself instead of trusting
// the app (or whoever runs it) to stay within bounds. Documented in tcpscope-helper(8).
#pragma once

#include "options.h"
#include "wire.h"

#include <string>

namespace tcpscope::helper {

// Ring buffer sizes in KiB. Any caller: 4 KiB .. 1 GiB (power of two, a kernel rule). A caller
// that is not root (real uid != 0, i.e. a user running the capability-bearing helper) gets at
// most kMaxUserRingbufKib per ring: three rings then pin at most 96 MiB of kernel memory.
inline constexpr unsigned kMinRingbufKib = 4;
inline constexpr unsigned kMaxRingbufKib = 1u << 20;
inline constexpr unsigned kMaxUserRingbufKib = 32768;

// Start options (every caller): payload snapshot up to TS_SNAP_MAX bytes, sample interval up to
// 10 s (0 = every tcp_probe sample, bounded by the ring size), stall up to one hour, and the
// filter list lengths of the wire protocol.
inline constexpr unsigned kMaxSnapLen = TS_SNAP_MAX;
inline constexpr unsigned kMaxSampleIntervalUs = 10'000'000;
inline constexpr unsigned kMaxStallMs = 3'600'000;

// False + one line naming the option and its cap when options exceed what callerUid may ask.
bool checkRingLimits(const Options &options, unsigned callerUid, std::string &why);
bool checkStartLimits(const wire::StartOptions &start, std::string &why);

} // namespace tcpscope::helper
