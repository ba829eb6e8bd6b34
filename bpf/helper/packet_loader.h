// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "owner_maps.h"
#include "unique_fd.h"
#include "wire.h"

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

struct packets_bpf;
struct bpf_program;

namespace tcpscope::helper {

// Loads packets.bpf.c and keeps its two TC programs attached to every interface of the helper's
// network namespace (or only the ones StartOptions names), including interfaces that appear
// later (rtnetlink). Attachment is a tcx link per interface and direction when the kernel has
// tcx (>= 6.6): the kernel drops links with the helper, even on SIGKILL. Otherwise clsact +
// cls_bpf filters owned by this helper (clsact.h: what is ours, what a killed helper left, when
// the qdisc goes). The capture filter is written into maps, never code.
class PacketLoader
{
public:
    using InterfaceEvent =
        std::function<void(std::uint32_t ifindex, const std::string &name, std::uint8_t attach)>;
    // A non-fatal problem (an interface that could not be attached), one sentence.
    using Warning = std::function<void(const std::string &text)>;

    PacketLoader() = default;
    PacketLoader(const PacketLoader &) = delete;
    PacketLoader &operator=(const PacketLoader &) = delete;
    ~PacketLoader();

    // Opens and loads; probes tcx on lo unless forceClsact. The report says which mode.
    // The owner filter's maps to share (lifecycle's), set before load().
    void setOwnerMaps(const OwnerMapFds &fds) { m_ownerMaps = fds; }
    bool load(bool forceClsact, unsigned ringbufBytes, std::string &error);
    bool configure(const wire::StartOptions &options, std::string &error);
    // Attaches to all wanted interfaces and opens the rtnetlink watch; onEvent is called for
    // every attach/detach/failure (the helper turns those into ts_interface records), warn with
    // why an interface could not be attached (the helper logs it and tells the app).
    bool attachAll(InterfaceEvent onEvent, Warning warn, std::string &error);
    // Call when netlinkFd() is readable.
    void handleNetlink();
    void detachAll();

    const wire::ProbeReport &report() const { return m_report; }
    int eventsFd() const;
    int netlinkFd() const { return m_netlink.get(); }
    bool readCounters(std::vector<std::uint64_t> &lostPerCpu, std::uint64_t &filtered) const;

private:
    OwnerMapFds m_ownerMaps;
    struct Attachment
    {
        std::string name;
        UniqueFd ingress; // tcx links
        UniqueFd egress;
        bool clsact = false;
    };
    bool wanted(const std::string &name) const;
    void attachOne(std::uint32_t ifindex, const std::string &name);
    void detachOne(std::uint32_t ifindex);

    bool tryLoad(bool tcx, bool egressFromSkb, unsigned ringbufBytes, std::string &error);

    packets_bpf *m_skel = nullptr;
    bpf_program *m_egress = nullptr; // ts_tc_egress or ts_tc_egress_lookup, whichever loaded
    bool m_egressFromSkb = false;
    bool m_tcx = false;
    std::vector<std::string> m_names; // StartOptions::interfaces; empty = all
    std::map<std::uint32_t, Attachment> m_attached;
    UniqueFd m_netlink;
    InterfaceEvent m_onEvent;
    Warning m_warn;
    wire::ProbeReport m_report;
};

} // namespace tcpscope::helper
