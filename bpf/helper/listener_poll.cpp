// SPDX-License-Identifier: GPL-3.0-or-later
#include "listener_poll.h"

#include "proc_scan.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

namespace tcpscope::helper {

namespace {

constexpr int kTcpListen = 10; // TCP_LISTEN, include/net/tcp_states.h
// Reads are into a fixed buffer. The kernel sizes dump skbs by the reader's buffer (at most
// 32 KiB by default), so 64 KiB never truncates a message; MSG_TRUNC is still checked.
constexpr std::size_t kBufferBytes = 64 * 1024;
// Bounds per dump so that a kernel (or a bug) that never says NLMSG_DONE cannot hold the
// helper's loop: recv calls per dump, and short waits for the rest of a dump.
constexpr int kMaxReadsPerDump = 4096;
constexpr int kMaxWaits = 5;
constexpr int kWaitMs = 20;
// A listener table this large is not something to track entry by entry; beyond it new
// listeners are skipped (known ones keep being reported).
constexpr std::size_t kMaxListeners = 65536;
// Stale replies left from an aborted dump are read and thrown away before a new request.
constexpr int kMaxDrainReads = 4096;

std::uint64_t monotonicNs()
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return std::uint64_t(ts.tv_sec) * 1000000000ull + std::uint64_t(ts.tv_nsec);
}

// Parses one SOCK_DIAG_BY_FAMILY message into sample. False if it is too short or not a
// listening TCP socket of the requested family.
bool parseDiag(const nlmsghdr *nlh, std::uint8_t family, ts_listener_sample &sample)
{
    if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(inet_diag_msg)))
        return false;
    const auto *msg = static_cast<const inet_diag_msg *>(NLMSG_DATA(nlh));
    if (msg->idiag_family != family || msg->idiag_state != kTcpListen)
        return false;
    sample.sock_id =
        std::uint64_t(msg->id.idiag_cookie[0]) | (std::uint64_t(msg->id.idiag_cookie[1]) << 32);
    sample.backlog = msg->idiag_rqueue;
    sample.max_backlog = msg->idiag_wqueue;
    sample.family = family;
    sample.port = ntohs(msg->id.idiag_sport);
    std::memcpy(sample.addr, msg->id.idiag_src, family == AF_INET ? 4 : 16);

    // Attributes follow the message; each is bounds-checked by RTA_OK against what is left.
    const std::size_t headLen = NLMSG_LENGTH(NLMSG_ALIGN(sizeof(inet_diag_msg)));
    if (nlh->nlmsg_len <= headLen)
        return true; // no attributes: drops stay 0
    int left = static_cast<int>(nlh->nlmsg_len - headLen);
    const auto *attr =
        reinterpret_cast<const rtattr *>(reinterpret_cast<const char *>(nlh) + headLen);
    for (; RTA_OK(attr, left); attr = RTA_NEXT(attr, left)) {
        if (attr->rta_type != INET_DIAG_SKMEMINFO)
            continue;
        if (RTA_PAYLOAD(attr) < (SK_MEMINFO_DROPS + 1) * sizeof(std::uint32_t))
            continue; // an older kernel's shorter array: no drop counter
        std::uint32_t meminfo[SK_MEMINFO_DROPS + 1];
        std::memcpy(meminfo, RTA_DATA(attr), sizeof meminfo);
        sample.drops = meminfo[SK_MEMINFO_DROPS];
    }
    return true;
}

} // namespace

bool ListenerPoll::open(std::string &error)
{
    m_fd.reset(::socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_SOCK_DIAG));
    if (!m_fd.valid()) {
        error = std::string("NETLINK_SOCK_DIAG socket: ") + std::strerror(errno);
        return false;
    }
    m_netnsIno = ownNetnsInode();
    m_buffer.resize(kBufferBytes);
    return true;
}

std::vector<ts_listener_sample> ListenerPoll::poll()
{
    std::vector<ts_listener_sample> out;
    if (!m_fd.valid())
        return out;
    ++m_pollNo;
    const std::uint64_t now = monotonicNs();
    bool complete = true;
    for (const std::uint8_t family : {std::uint8_t(AF_INET), std::uint8_t(AF_INET6)}) {
        if (family == AF_INET6 && m_noInet6)
            continue;
        complete = dumpFamily(family, now, out) && complete;
    }
    if (!complete) {
        ++m_failedPolls;
        return out; // keep what we knew: a listener missing from a failed dump has not vanished
    }
    for (auto it = m_known.begin(); it != m_known.end();) {
        if (it->second.seenInPoll != m_pollNo)
            it = m_known.erase(it);
        else
            ++it;
    }
    return out;
}

void ListenerPoll::drain()
{
    for (int i = 0; i < kMaxDrainReads; ++i) {
        if (::recv(m_fd.get(), m_buffer.data(), m_buffer.size(), MSG_DONTWAIT) < 0 &&
            errno != EINTR)
            return;
    }
}

bool ListenerPoll::dumpFamily(std::uint8_t family, std::uint64_t nowNs,
                              std::vector<ts_listener_sample> &out)
{
    drain();
    struct
    {
        nlmsghdr nlh;
        inet_diag_req_v2 req;
    } request{};
    const std::uint32_t seq = ++m_seq;
    request.nlh.nlmsg_len = sizeof request;
    request.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    request.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    request.nlh.nlmsg_seq = seq;
    request.req.sdiag_family = family;
    request.req.sdiag_protocol = IPPROTO_TCP;
    request.req.idiag_states = 1u << kTcpListen;
    request.req.idiag_ext = 1u << (INET_DIAG_SKMEMINFO - 1);
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    if (::sendto(m_fd.get(), &request, sizeof request, 0, reinterpret_cast<sockaddr *>(&kernel),
                 sizeof kernel) != static_cast<ssize_t>(sizeof request))
        return false;

    // Parsed first, applied only when the dump completed: no half-dump state changes.
    std::vector<ts_listener_sample> parsed;
    int waits = 0;
    for (int reads = 0; reads < kMaxReadsPerDump; ++reads) {
        iovec iov{m_buffer.data(), m_buffer.size()};
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        const ssize_t n = ::recvmsg(m_fd.get(), &msg, MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN || ++waits > kMaxWaits)
                return false; // ENOBUFS (overrun) or a dump that does not finish
            pollfd pfd{m_fd.get(), POLLIN, 0};
            ::poll(&pfd, 1, kWaitMs);
            continue;
        }
        if (n == 0 || (msg.msg_flags & MSG_TRUNC))
            return false;
        switch (parseReply({m_buffer.data(), std::size_t(n)}, seq, family, parsed)) {
        case ReplyStatus::More:
            continue;
        case ReplyStatus::Failed:
            return false;
        case ReplyStatus::NoFamily:
            m_noInet6 = true;
            return true;
        case ReplyStatus::Done:
            for (ts_listener_sample &sample : parsed) {
                sample.hdr.type = TS_REC_LISTENER;
                sample.hdr.size = sizeof sample;
                sample.hdr.ts_ns = nowNs;
                sample.netns_ino = m_netnsIno;
                consider(sample, out);
            }
            return true;
        }
    }
    return false;
}

ListenerPoll::ReplyStatus ListenerPoll::parseReply(std::span<const std::uint8_t> bytes,
                                                   std::uint32_t seq, std::uint8_t family,
                                                   std::vector<ts_listener_sample> &parsed)
{
    // Copied into an aligned buffer: the netlink macros dereference headers in place.
    std::vector<nlmsghdr> aligned((bytes.size() + sizeof(nlmsghdr) - 1) / sizeof(nlmsghdr));
    if (!bytes.empty())
        std::memcpy(aligned.data(), bytes.data(), bytes.size());
    int left = static_cast<int>(std::min<std::size_t>(bytes.size(), kBufferBytes));
    for (const nlmsghdr *nlh = aligned.data(); NLMSG_OK(nlh, left); nlh = NLMSG_NEXT(nlh, left)) {
        if (nlh->nlmsg_seq != seq)
            continue; // a reply to an earlier, abandoned request
        if (nlh->nlmsg_type == NLMSG_ERROR) {
            // No handler for the family (IPv6 off): the family has no listeners to report.
            nlmsgerr err{};
            if (nlh->nlmsg_len >= NLMSG_LENGTH(sizeof err))
                std::memcpy(&err, NLMSG_DATA(nlh), sizeof err);
            if (family == AF_INET6 && (err.error == -ENOENT || err.error == -EAFNOSUPPORT))
                return ReplyStatus::NoFamily;
            return ReplyStatus::Failed;
        }
        if (nlh->nlmsg_type == NLMSG_DONE) {
            if (nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(int))) {
                int status = 0;
                std::memcpy(&status, NLMSG_DATA(nlh), sizeof status);
                if (status < 0)
                    return ReplyStatus::Failed;
            }
            return ReplyStatus::Done;
        }
        if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY)
            continue;
        ts_listener_sample sample{};
        if (parseDiag(nlh, family, sample) && parsed.size() < kMaxListeners)
            parsed.push_back(sample);
    }
    // Bytes left over: a header claiming more than the datagram holds, or a runt after the last
    // message (the kernel pads every message, so a clean datagram ends at <= 0).
    return left <= 0 ? ReplyStatus::More : ReplyStatus::Failed;
}

void ListenerPoll::consider(const ts_listener_sample &sample, std::vector<ts_listener_sample> &out)
{
    auto it = m_known.find(sample.sock_id);
    if (it == m_known.end()) {
        if (m_known.size() >= kMaxListeners)
            return;
        m_known.emplace(sample.sock_id, Known{sample.drops, sample.backlog, m_pollNo});
        out.push_back(sample);
        return;
    }
    it->second.seenInPoll = m_pollNo;
    if (it->second.drops == sample.drops && it->second.backlog == sample.backlog)
        return;
    it->second.drops = sample.drops;
    it->second.backlog = sample.backlog;
    out.push_back(sample);
}

} // namespace tcpscope::helper
