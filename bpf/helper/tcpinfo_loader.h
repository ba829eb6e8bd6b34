// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "owner_maps.h"
#include "wire.h"

#include <cstdint>
#include <string>
#include <vector>

struct tcpinfo_bpf;

namespace tcpscope::helper {

class Tracefs;

// Loads tcpinfo.bpf.c before Hello. Usually all seven hooks (tcp_probe, tcp_retransmit_skb,
// tcp_retransmit_synack, tcp_send_reset, tcp_receive_reset, tcp_cong_state_set, kfree_skb) load
// together as tp_btf (classic tracepoints with --force-tracepoint) and are attached as the
// probe; those links stay for Start. If that fails, every hook is probed on its own: its tp_btf
// program loaded and attached once in a throw-away object (no tracefs needed); if that fails,
// the classic tracepoint the same way (tracefs made available first); otherwise the hook is
// unavailable and the report says why. The real object is then loaded with exactly the winning
// program per hook, and attached on Start. Programs emit nothing until configure().
// All attachments are links owned by this object: nothing is pinned, nothing outlives the helper.
class TcpInfoLoader
{
public:
    TcpInfoLoader() = default;
    TcpInfoLoader(const TcpInfoLoader &) = delete;
    TcpInfoLoader &operator=(const TcpInfoLoader &) = delete;
    ~TcpInfoLoader();

    // False (with a reason) only when no hook at all could be loaded; reports() is always filled.
    // lifecyclePtrIdsFd: lifecycle's ptr_ids map when lifecycle runs on the classic tracepoint
    // (its socket ids are then pinned pointers), else -1.
    // The owner filter's maps to share (lifecycle's), set before load().
    void setOwnerMaps(const OwnerMapFds &fds) { m_ownerMaps = fds; }
    bool load(bool forceTracepoint, unsigned ringbufBytes, int lifecyclePtrIdsFd, Tracefs &tracefs,
              std::string &error);
    // Minimum time between two samples of one connection (0 = every tcp_probe hit).
    bool configure(std::uint32_t sampleIntervalUs, std::string &error);
    bool attach(std::string &error);

    bool loaded() const { return m_skel != nullptr; }
    // One per hook, in a fixed order.
    const std::vector<wire::ProbeReport> &reports() const { return m_reports; }
    int eventsFd() const;
    // Adds this object's failed ring-buffer reserves per CPU into perCpu (resized if needed).
    bool addLost(std::vector<std::uint64_t> &perCpu) const;
    // recursion_misses of the loaded programs (see LifecycleLoader::readMissedRuns).
    bool readMissedRuns(std::uint64_t &total) const;

private:
    OwnerMapFds m_ownerMaps;
    enum class Mode
    {
        None,
        Btf,
        Tracepoint
    };
    bool trial(std::size_t hook, Mode mode, std::string &error) const;
    bool loadModes(unsigned ringbufBytes, int lifecyclePtrIdsFd, std::string &error);
    bool attachEarly();
    void noteSharing();
    tcpinfo_bpf *m_skel = nullptr;
    std::vector<Mode> m_modes;
    bool m_attached = false;
    bool m_sharedPtrIds = false;
    bool m_shareFailed = false;
    std::vector<wire::ProbeReport> m_reports;
};

} // namespace tcpscope::helper
