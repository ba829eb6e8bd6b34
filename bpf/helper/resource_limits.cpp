// SPDX-License-Identifier: GPL-3.0-or-later
#include "resource_limits.h"

namespace tcpscope::helper {

namespace {
bool ringOk(const char *name, unsigned kib, unsigned cap, bool user, std::string &why)
{
    if (kib >= kMinRingbufKib && kib <= cap && (kib & (kib - 1)) == 0)
        return true;
    why = std::string(name) + " " + std::to_string(kib) +
          ": the helper allows a power of two from " + std::to_string(kMinRingbufKib) + " to " +
          std::to_string(cap) + " KiB" + (user ? " for a caller that is not root" : "");
    return false;
}
} // namespace

bool checkRingLimits(const Options &options, unsigned callerUid, std::string &why)
{
    const bool user = callerUid != 0;
    const unsigned cap = user ? kMaxUserRingbufKib : kMaxRingbufKib;
    return ringOk("--ringbuf-kib", options.ringbufKib, cap, user, why) &&
           ringOk("--packet-ringbuf-kib", options.packetRingbufKib, cap, user, why) &&
           ringOk("--tcpinfo-ringbuf-kib", options.tcpinfoRingbufKib, cap, user, why);
}

bool checkStartLimits(const wire::StartOptions &start, std::string &why)
{
    const bool payload = start.flags & wire::StartOptions::kPayload;
    if (payload ? (start.snapLen < 1 || start.snapLen > kMaxSnapLen) : start.snapLen != 0)
        why = "snap length " + std::to_string(start.snapLen) + " is outside the helper's limit (" +
              (payload ? "1 to " + std::to_string(kMaxSnapLen) + " bytes" : "0 without payload") +
              ")";
    else if (start.sampleIntervalUs > kMaxSampleIntervalUs)
        why = "sample interval " + std::to_string(start.sampleIntervalUs) +
              " us exceeds the helper's limit of " + std::to_string(kMaxSampleIntervalUs) + " us";
    else if (start.maxStallMs < 1 || start.maxStallMs > kMaxStallMs)
        why = "maximum stall " + std::to_string(start.maxStallMs) +
              " ms is outside the helper's limit (1 to " + std::to_string(kMaxStallMs) + " ms)";
    else if (start.ports.size() > wire::kMaxFilterPorts ||
             start.nets.size() > wire::kMaxFilterNets ||
             start.interfaces.size() > wire::kMaxFilterInterfaces)
        why = "the capture filter has more terms than the helper allows (" +
              std::to_string(wire::kMaxFilterPorts) + " ports, " +
              std::to_string(wire::kMaxFilterNets) + " networks, " +
              std::to_string(wire::kMaxFilterInterfaces) + " interfaces)";
    else
        return true;
    return false;
}

} // namespace tcpscope::helper
