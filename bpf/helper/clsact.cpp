// SPDX-License-Identifier: GPL-3.0-or-later
#include "clsact.h"

#include "unique_fd.h"

#include <bpf/libbpf.h>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>
#include <vector>
// glibc's <net/if.h> before any <linux/...> header, which then skip their copies.
#include <net/if.h>
// clang-format off (sorting would put these above <net/if.h>)
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/netlink.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
// clang-format on
#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

namespace tcpscope::helper {

namespace {

struct Filter
{
    std::uint32_t handle = 0;
    std::uint16_t priority = 0;
    std::uint32_t chain = 0;
    std::string kind;
};

std::uint32_t hookParent(bool ingress)
{
    return TC_H_MAKE(TC_H_CLSACT, ingress ? TC_H_MIN_INGRESS : TC_H_MIN_EGRESS);
}

// Sends one rtnetlink request and reads until its end (NLMSG_DONE of a dump, or the error/ack
// message). onReply sees every other message. Returns 0 or -errno.
int rtnetlink(const nlmsghdr &request, const std::function<void(const nlmsghdr &)> &onReply)
{
    UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
    if (!fd.valid())
        return -errno;
    if (::send(fd.get(), &request, request.nlmsg_len, 0) < 0)
        return -errno;
    alignas(nlmsghdr) char buf[32768];
    for (;;) {
        ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return -EPIPE;
        for (auto *h = reinterpret_cast<nlmsghdr *>(buf); NLMSG_OK(h, std::size_t(n));
             h = NLMSG_NEXT(h, n)) {
            if (h->nlmsg_type == NLMSG_DONE)
                return 0;
            if (h->nlmsg_type == NLMSG_ERROR)
                return static_cast<const nlmsgerr *>(NLMSG_DATA(h))->error;
            onReply(*h);
        }
    }
}

// The filters on one hook of ifindex's clsact qdisc, every chain. No qdisc: none.
int listFilters(std::uint32_t ifindex, bool ingress, std::vector<Filter> &out)
{
    struct
    {
        nlmsghdr header;
        tcmsg tc;
    } request{};
    request.header.nlmsg_len = NLMSG_LENGTH(sizeof(tcmsg));
    request.header.nlmsg_type = RTM_GETTFILTER;
    request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    request.tc.tcm_family = AF_UNSPEC;
    request.tc.tcm_ifindex = int(ifindex);
    request.tc.tcm_parent = hookParent(ingress);
    out.clear();
    const int err = rtnetlink(request.header, [&](const nlmsghdr &h) {
        if (h.nlmsg_type != RTM_NEWTFILTER || h.nlmsg_len < NLMSG_LENGTH(sizeof(tcmsg)))
            return;
        const auto *tc = static_cast<const tcmsg *>(NLMSG_DATA(&h));
        if (tc->tcm_handle == 0)
            return; // the header of a priority's filter list, not a filter
        Filter f;
        f.handle = tc->tcm_handle;
        f.priority = std::uint16_t(TC_H_MAJ(tc->tcm_info) >> 16);
        int len = int(h.nlmsg_len - NLMSG_LENGTH(sizeof(tcmsg)));
        for (auto *a = TCA_RTA(tc); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
            if (a->rta_type == TCA_KIND)
                f.kind.assign(static_cast<const char *>(RTA_DATA(a)),
                              strnlen(static_cast<const char *>(RTA_DATA(a)), RTA_PAYLOAD(a)));
            else if (a->rta_type == TCA_CHAIN && RTA_PAYLOAD(a) >= sizeof(std::uint32_t))
                std::memcpy(&f.chain, RTA_DATA(a), sizeof f.chain);
        }
        out.push_back(std::move(f));
    });
    // No qdisc (or no such device any more): nothing hangs off it.
    if (err == -EINVAL || err == -ENOENT || err == -ENODEV)
        return 0;
    return err;
}

bool isTcpscopeFilter(const Filter &f)
{
    return f.chain == 0 && f.priority == kClsactPriority && f.kind == "bpf";
}

bool isMarker(const Filter &f)
{
    return f.chain == kClsactMarkerChain && f.priority == kClsactPriority && f.kind == "bpf";
}

// A filter handle names its owning helper's PID; the owner runs when that process is a
// tcpscope-helper other than us (our own PID on a filter we have not attached yet is a leftover
// of an earlier helper that had the same PID).
bool ownerRuns(std::uint32_t pid)
{
    if (pid == std::uint32_t(::getpid()))
        return false;
    std::ifstream in("/proc/" + std::to_string(pid) + "/comm");
    std::string comm;
    std::getline(in, comm);
    return comm == "tcpscope-helper";
}

void removeFilter(std::uint32_t ifindex, bool ingress, std::uint32_t handle)
{
    DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = int(ifindex),
                        .attach_point = ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS);
    DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = handle, .priority = kClsactPriority);
    bpf_tc_detach(&hook, &opts); // ENOENT when it is gone already: fine
}

void removeStaleFilters(std::uint32_t ifindex)
{
    for (const bool ingress : {true, false}) {
        std::vector<Filter> filters;
        if (listFilters(ifindex, ingress, filters) != 0)
            continue;
        for (const Filter &f : filters)
            if (isTcpscopeFilter(f) && !ownerRuns(f.handle))
                removeFilter(ifindex, ingress, f.handle);
    }
}

// Deletes the qdisc when it carries the marker and no other filter. A failed dump keeps it.
void removeQdiscIfUnusedAndOurs(std::uint32_t ifindex)
{
    bool marker = false;
    for (const bool ingress : {true, false}) {
        std::vector<Filter> filters;
        if (listFilters(ifindex, ingress, filters) != 0)
            return;
        for (const Filter &f : filters) {
            if (!isMarker(f))
                return;
            marker = true;
        }
    }
    if (!marker)
        return;
    DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = int(ifindex),
                        .attach_point = bpf_tc_attach_point(BPF_TC_INGRESS | BPF_TC_EGRESS));
    bpf_tc_hook_destroy(&hook);
}

void addAttribute(nlmsghdr &header, std::size_t capacity, std::uint16_t type, const void *data,
                  std::size_t length)
{
    auto *a = reinterpret_cast<rtattr *>(reinterpret_cast<char *>(&header) +
                                         NLMSG_ALIGN(header.nlmsg_len));
    if (NLMSG_ALIGN(header.nlmsg_len) + RTA_SPACE(length) > capacity)
        return; // cannot happen with the fixed sizes below; the kernel would reject it
    a->rta_type = type;
    a->rta_len = std::uint16_t(RTA_LENGTH(length));
    if (length)
        std::memcpy(RTA_DATA(a), data, length);
    header.nlmsg_len = std::uint32_t(NLMSG_ALIGN(header.nlmsg_len) + RTA_SPACE(length));
}

// The marker: classic BPF "return 0" (matches nothing) in a chain nothing jumps to.
int addMarker(std::uint32_t ifindex)
{
    struct
    {
        nlmsghdr header;
        tcmsg tc;
        char attributes[256];
    } request{};
    const std::size_t capacity = sizeof request;
    request.header.nlmsg_len = NLMSG_LENGTH(sizeof(tcmsg));
    request.header.nlmsg_type = RTM_NEWTFILTER;
    request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
    request.tc.tcm_family = AF_UNSPEC;
    request.tc.tcm_ifindex = int(ifindex);
    request.tc.tcm_parent = hookParent(true);
    request.tc.tcm_handle = 1;
    request.tc.tcm_info = TC_H_MAKE(std::uint32_t(kClsactPriority) << 16, htons(ETH_P_ALL));
    addAttribute(request.header, capacity, TCA_KIND, "bpf", 4);
    addAttribute(request.header, capacity, TCA_CHAIN, &kClsactMarkerChain,
                 sizeof kClsactMarkerChain);
    auto *options = reinterpret_cast<rtattr *>(reinterpret_cast<char *>(&request.header) +
                                               NLMSG_ALIGN(request.header.nlmsg_len));
    addAttribute(request.header, capacity, TCA_OPTIONS | NLA_F_NESTED, nullptr, 0);
    const std::uint16_t count = 1;
    const sock_filter returnZero{BPF_RET | BPF_K, 0, 0, 0};
    addAttribute(request.header, capacity, TCA_BPF_OPS_LEN, &count, sizeof count);
    addAttribute(request.header, capacity, TCA_BPF_OPS, &returnZero, sizeof returnZero);
    options->rta_len = std::uint16_t(reinterpret_cast<char *>(&request.header) +
                                     request.header.nlmsg_len - reinterpret_cast<char *>(options));
    return rtnetlink(request.header, [](const nlmsghdr &) {});
}

std::string errnoText(int err)
{
    return std::strerror(err < 0 ? -err : err);
}

} // namespace

bool clsactAttach(std::uint32_t ifindex, int ingressProgFd, int egressProgFd, std::string &error)
{
    removeStaleFilters(ifindex);
    removeQdiscIfUnusedAndOurs(ifindex);
    const std::uint32_t handle = std::uint32_t(::getpid());
    // A second round when another helper deleted the qdisc between our create and attach
    // (it saw no filter but the marker).
    for (int round = 0; round < 2; ++round) {
        error.clear();
        DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = int(ifindex),
                            .attach_point = BPF_TC_INGRESS);
        int err = bpf_tc_hook_create(&hook);
        if (err && err != -EEXIST) {
            error = "clsact: " + errnoText(err);
            break;
        }
        if (err == 0 && (err = addMarker(ifindex)) != 0) {
            error = "clsact marker: " + errnoText(err);
            bpf_tc_hook_destroy(&hook);
            break;
        }
        bool gone = false;
        for (const bool ingress : {true, false}) {
            DECLARE_LIBBPF_OPTS(bpf_tc_hook, point, .ifindex = int(ifindex),
                                .attach_point = ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS);
            DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts,
                                .prog_fd = ingress ? ingressProgFd : egressProgFd, .handle = handle,
                                .priority = kClsactPriority);
            err = bpf_tc_attach(&point, &opts);
            if (err) {
                error = "cls_bpf: " + errnoText(err);
                gone = err == -ENOENT || err == -EINVAL;
                break;
            }
        }
        if (error.empty())
            return true;
        clsactDetach(ifindex);
        if (!gone)
            break;
    }
    return false;
}

void clsactDetach(std::uint32_t ifindex)
{
    const std::uint32_t handle = std::uint32_t(::getpid());
    for (const bool ingress : {true, false})
        removeFilter(ifindex, ingress, handle);
    removeQdiscIfUnusedAndOurs(ifindex);
}

} // namespace tcpscope::helper
