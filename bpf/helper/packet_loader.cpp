// SPDX-License-Identifier: GPL-3.0-or-later
#include "packet_loader.h"
#include "clsact.h"
#include "ring_wakeup.h"

#include "packets.skel.h"
#include "tcpscope_packet_maps.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
// glibc's <net/if.h> before any <linux/...> header, which then skip their copies.
#include <net/if.h>
// clang-format off (sorting would put these above <net/if.h>)
#include <linux/if_arp.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
// clang-format on
#include <sys/socket.h>
#include <unistd.h>

namespace tcpscope::helper {

namespace {
// BPF_TCX_INGRESS / BPF_TCX_EGRESS (kernel >= 6.6); libbpf 1.1's enum predates them.
constexpr int kTcxIngress = 46;
constexpr int kTcxEgress = 47;

std::string errnoText(int err)
{
    return std::strerror(err < 0 ? -err : err);
}

// Bytes before the network header at TC: Ethernet-like devices (incl. loopback) have 14, L3
// devices (tun, wireguard, ip tunnels) none.
std::uint8_t linkHeaderLength(const std::string &name)
{
    std::ifstream in("/sys/class/net/" + name + "/type");
    int type = ARPHRD_ETHER;
    in >> type;
    return (type == ARPHRD_ETHER || type == ARPHRD_LOOPBACK) ? TS_L2_ETHERNET : TS_L2_NONE;
}
} // namespace

PacketLoader::~PacketLoader()
{
    m_onEvent = nullptr; // whoever listened may already be gone: no reports while tearing down
    detachAll();
    packets_bpf__destroy(m_skel);
}

int PacketLoader::eventsFd() const
{
    return m_skel ? bpf_map__fd(m_skel->maps.pkt_events) : -1;
}

// One load attempt: tcx attach types or plain SCHED_CLS, egress from skb->sk or by lookup.
bool PacketLoader::tryLoad(bool tcx, bool egressFromSkb, unsigned ringbufBytes, std::string &error)
{
    packets_bpf__destroy(m_skel);
    m_skel = packets_bpf__open();
    if (!m_skel) {
        error = "cannot open packets BPF object: " + errnoText(errno);
        return false;
    }
    if (ringbufBytes)
        bpf_map__set_max_entries(m_skel->maps.pkt_events, ringbufBytes);
    if (!reuseOwnerMaps(m_skel->obj, m_ownerMaps, error)) {
        packets_bpf__destroy(m_skel);
        m_skel = nullptr;
        return false;
    }
    m_skel->rodata->ts_wakeup_bytes = ringWakeupBytes(m_skel->maps.pkt_events);
    bpf_program__set_autoload(m_skel->progs.ts_tc_egress, egressFromSkb);
    bpf_program__set_autoload(m_skel->progs.ts_tc_egress_lookup, !egressFromSkb);
    m_egress = egressFromSkb ? m_skel->progs.ts_tc_egress : m_skel->progs.ts_tc_egress_lookup;
    if (tcx) {
        // tcx needs the attach type at load time; cls_bpf ignores it, so one load serves both.
        bpf_program__set_expected_attach_type(m_skel->progs.ts_tc_ingress,
                                              static_cast<bpf_attach_type>(kTcxIngress));
        bpf_program__set_expected_attach_type(m_egress, static_cast<bpf_attach_type>(kTcxEgress));
    }
    const int err = packets_bpf__load(m_skel);
    if (err) {
        error = "cannot load packets BPF programs: " + errnoText(err);
        packets_bpf__destroy(m_skel);
        m_skel = nullptr;
        m_egress = nullptr;
        return false;
    }
    return true;
}

bool PacketLoader::load(bool forceClsact, unsigned ringbufBytes, std::string &error)
{
    m_report.name = "tc-packets";
    // Newest first. An older kernel may refuse the tcx attach types (then: plain SCHED_CLS
    // programs and clsact), or lack bpf_cast_to_kern_ctx (6.3), which the skb->sk path of the
    // egress program needs (then: the egress program that always asks the socket lookup).
    std::string why;
    bool loaded = false, tcxLoad = false;
    for (const bool tcx : {true, false}) {
        for (const bool fromSkb : {true, false}) {
            if (tryLoad(tcx, fromSkb, ringbufBytes, why)) {
                loaded = true;
                tcxLoad = tcx;
                m_egressFromSkb = fromSkb;
                break;
            }
        }
        if (loaded)
            break;
    }
    if (!loaded) {
        error = why;
        return false;
    }
    if (!tcxLoad) {
        forceClsact = true;
        m_report.detail = "tcx unavailable (programs load only without tcx attach types)";
    }
    const auto addDetail = [this](const std::string &text) {
        m_report.detail += (m_report.detail.empty() ? "" : "; ") + text;
    };
    if (!m_egressFromSkb)
        addDetail("egress sockets by lookup only (no bpf_cast_to_kern_ctx)");
    if (!forceClsact) {
        // Probe tcx on loopback: link and drop it again.
        const int fd = bpf_link_create(bpf_program__fd(m_skel->progs.ts_tc_ingress), 1,
                                       static_cast<bpf_attach_type>(kTcxIngress), nullptr);
        if (fd >= 0) {
            ::close(fd);
            m_tcx = true;
        } else {
            addDetail("tcx unavailable (" + errnoText(errno) + "), using clsact");
        }
    } else if (tcxLoad) {
        addDetail("clsact forced (--force-clsact)");
    }
    m_report.status = m_tcx ? "tcx" : "clsact";
    return true;
}

bool PacketLoader::configure(const wire::StartOptions &options, std::string &error)
{
    ts_packet_config cfg{};
    cfg.ports_enabled = options.ports.empty() ? 0 : 1;
    cfg.nets_enabled = options.nets.empty() ? 0 : 1;
    cfg.payload = (options.flags & wire::StartOptions::kPayload) ? 1 : 0;
    cfg.snap_len = options.snapLen;
    const std::uint32_t zero = 0;
    const std::uint8_t one = 1;
    auto fail = [&error](const std::string &what) {
        error = "cannot write packet " + what + ": " + errnoText(errno);
        return false;
    };
    if (bpf_map_update_elem(bpf_map__fd(m_skel->maps.pkt_config), &zero, &cfg, BPF_ANY))
        return fail("configuration");
    for (std::uint16_t port : options.ports) {
        const std::uint32_t key = port;
        if (bpf_map_update_elem(bpf_map__fd(m_skel->maps.pkt_ports), &key, &one, BPF_ANY))
            return fail("port filter");
    }
    for (const wire::NetFilter &net : options.nets) {
        if (net.family == 4) {
            ts_lpm4_key key{net.prefixLen, {}};
            std::memcpy(key.addr, net.addr.data(), 4);
            if (bpf_map_update_elem(bpf_map__fd(m_skel->maps.pkt_nets4), &key, &one, BPF_ANY))
                return fail("address filter");
        } else {
            ts_lpm6_key key{net.prefixLen, {}};
            std::memcpy(key.addr, net.addr.data(), 16);
            if (bpf_map_update_elem(bpf_map__fd(m_skel->maps.pkt_nets6), &key, &one, BPF_ANY))
                return fail("address filter");
        }
    }
    m_names = options.interfaces;
    return true;
}

bool PacketLoader::wanted(const std::string &name) const
{
    if (m_names.empty())
        return true;
    for (const std::string &n : m_names)
        if (n == name)
            return true;
    return false;
}

bool PacketLoader::attachAll(InterfaceEvent onEvent, Warning warn, std::string &error)
{
    m_onEvent = std::move(onEvent);
    m_warn = std::move(warn);
    // Watch first, then enumerate: an interface created in between is seen at least once
    // (attachOne ignores one already attached).
    m_netlink.reset(::socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE));
    if (m_netlink.valid()) {
        sockaddr_nl addr{};
        addr.nl_family = AF_NETLINK;
        addr.nl_groups = RTMGRP_LINK;
        if (::bind(m_netlink.get(), reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0)
            m_netlink.reset();
    }
    if (!m_netlink.valid())
        m_report.detail += std::string(m_report.detail.empty() ? "" : "; ") +
                           "no rtnetlink watch: interfaces created later are not attached";
    struct if_nameindex *list = if_nameindex();
    if (!list) {
        error = "cannot list network interfaces: " + errnoText(errno);
        return false;
    }
    for (struct if_nameindex *i = list; i->if_index != 0; ++i)
        attachOne(i->if_index, i->if_name);
    if_freenameindex(list);
    bool any = false;
    for (const auto &[index, a] : m_attached)
        any = any || a.clsact || a.ingress.valid();
    if (!any) {
        error = m_names.empty() ? "could not attach to any network interface"
                                : "none of the requested interfaces exists or could be attached";
        return false;
    }
    return true;
}

void PacketLoader::attachOne(std::uint32_t ifindex, const std::string &name)
{
    if (m_attached.count(ifindex) || !wanted(name))
        return;
    const std::uint8_t l2 = linkHeaderLength(name);
    bpf_map_update_elem(bpf_map__fd(m_skel->maps.pkt_l2len), &ifindex, &l2, BPF_ANY);
    Attachment a;
    a.name = name;
    std::string why;
    if (m_tcx) {
        a.ingress.reset(bpf_link_create(bpf_program__fd(m_skel->progs.ts_tc_ingress), ifindex,
                                        static_cast<bpf_attach_type>(kTcxIngress), nullptr));
        if (a.ingress.valid())
            a.egress.reset(bpf_link_create(bpf_program__fd(m_egress), ifindex,
                                           static_cast<bpf_attach_type>(kTcxEgress), nullptr));
        if (!a.egress.valid()) {
            why = errnoText(errno);
            a.ingress.reset();
        }
    } else if (clsactAttach(ifindex, bpf_program__fd(m_skel->progs.ts_tc_ingress),
                            bpf_program__fd(m_egress), why)) {
        a.clsact = true;
    }
    const bool ok = a.clsact || a.egress.valid();
    if (m_onEvent)
        m_onEvent(ifindex, name,
                  ok ? (m_tcx ? TS_ATTACH_TCX : TS_ATTACH_CLSACT) : TS_ATTACH_FAILED);
    if (!ok) {
        const std::string text = "cannot attach to " + name + ": " + why;
        if (m_warn)
            m_warn(text);
        else
            std::fprintf(stderr, "tcpscope-helper: %s\n", text.c_str());
        return;
    }
    m_attached.emplace(ifindex, std::move(a));
}

void PacketLoader::detachOne(std::uint32_t ifindex)
{
    auto it = m_attached.find(ifindex);
    if (it == m_attached.end())
        return;
    if (it->second.clsact)
        clsactDetach(ifindex);
    const std::string name = it->second.name;
    m_attached.erase(it); // closes tcx link fds: the kernel detaches
    bpf_map_delete_elem(bpf_map__fd(m_skel->maps.pkt_l2len), &ifindex);
    if (m_onEvent)
        m_onEvent(ifindex, name, TS_ATTACH_NONE);
}

void PacketLoader::detachAll()
{
    while (!m_attached.empty())
        detachOne(m_attached.begin()->first);
    m_onEvent = nullptr;
    m_netlink.reset();
}

void PacketLoader::handleNetlink()
{
    alignas(nlmsghdr) char buf[16384];
    for (;;) {
        ssize_t n = ::recv(m_netlink.get(), buf, sizeof buf, 0);
        if (n <= 0)
            return; // EAGAIN: drained (ENOBUFS: lost events; the next one resyncs that link)
        for (auto *h = reinterpret_cast<nlmsghdr *>(buf); NLMSG_OK(h, std::size_t(n));
             h = NLMSG_NEXT(h, n)) {
            if (h->nlmsg_type != RTM_NEWLINK && h->nlmsg_type != RTM_DELLINK)
                continue;
            if (h->nlmsg_len < NLMSG_LENGTH(sizeof(ifinfomsg)))
                continue;
            const auto *ifi = static_cast<const ifinfomsg *>(NLMSG_DATA(h));
            const std::uint32_t index = std::uint32_t(ifi->ifi_index);
            if (h->nlmsg_type == RTM_DELLINK) {
                detachOne(index);
                continue;
            }
            std::string name;
            int len = int(IFLA_PAYLOAD(h));
            for (auto *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len))
                if (a->rta_type == IFLA_IFNAME)
                    name.assign(static_cast<const char *>(RTA_DATA(a)),
                                strnlen(static_cast<const char *>(RTA_DATA(a)), RTA_PAYLOAD(a)));
            if (!name.empty())
                attachOne(index, name);
        }
    }
}

bool PacketLoader::readCounters(std::vector<std::uint64_t> &lostPerCpu,
                                std::uint64_t &filtered) const
{
    const int ncpu = libbpf_num_possible_cpus();
    if (!m_skel || ncpu <= 0)
        return false;
    std::vector<std::uint64_t> values(std::size_t(ncpu), 0);
    const std::uint32_t zero = 0;
    if (bpf_map_lookup_elem(bpf_map__fd(m_skel->maps.pkt_lost), &zero, values.data()))
        return false;
    lostPerCpu = values;
    if (bpf_map_lookup_elem(bpf_map__fd(m_skel->maps.pkt_filtered), &zero, values.data()))
        return false;
    filtered = 0;
    for (std::uint64_t v : values)
        filtered += v;
    return true;
}

} // namespace tcpscope::helper
