// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "tcpscope_records.h"
#include "unique_fd.h"

#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace tcpscope::helper {

// Polls the accept queues of all listening TCP sockets (IPv4 and IPv6) of the helper's network
// namespace through NETLINK_SOCK_DIAG (inet_diag, states = LISTEN, INET_DIAG_SKMEMINFO). No BPF:
// this is how the backlog is seen on kernels without kprobes/fentry (tcpsynbl's idea).
//
// sock_id is inet_diag's idiag_cookie, which the kernel takes from sock_gen_cookie() — the same
// cookie bpf_get_socket_cookie() gives lifecycle records, so samples join to the listener's
// state changes. backlog = idiag_rqueue (sk_ack_backlog), max_backlog = idiag_wqueue
// (sk_max_ack_backlog), drops = SK_MEMINFO_DROPS (sk_drops). hdr.ts_ns is CLOCK_MONOTONIC.
//
// Usage (helper session loop): open() once after Start; call poll() about every intervalMs()
// and add the returned records to the batch. The socket is non-blocking and every reply is
// length-checked; a failed or malformed dump yields no records for that round (counted in
// failedPolls()), never a wrong one.
class ListenerPoll
{
public:
    ListenerPoll() = default;
    ListenerPoll(const ListenerPoll &) = delete;
    ListenerPoll &operator=(const ListenerPoll &) = delete;

    // Opens the NETLINK_SOCK_DIAG socket. False with a reason (e.g. module missing) otherwise;
    // the capture then simply has no listener samples.
    bool open(std::string &error);
    bool isOpen() const { return m_fd.valid(); }

    // One dump of both families. Returns a sample for each listener seen for the first time and
    // for each whose backlog or drops changed since the last poll; forgets vanished listeners.
    std::vector<ts_listener_sample> poll();

    int intervalMs() const { return kIntervalMs; }
    std::uint64_t failedPolls() const { return m_failedPolls; }
    std::size_t listenerCount() const { return m_known.size(); }

    static constexpr int kIntervalMs = 100;

    // One datagram of a dump reply (exposed for tests with crafted bytes): appends the listening
    // sockets of `family` in messages of sequence `seq` to parsed (hdr, netns_ino left to the
    // caller). More = the dump goes on; Done = NLMSG_DONE; NoFamily = the kernel has no
    // inet_diag handler for IPv6; Failed = an error reply or bytes that are not netlink.
    enum class ReplyStatus
    {
        More,
        Done,
        NoFamily,
        Failed
    };
    static ReplyStatus parseReply(std::span<const std::uint8_t> bytes, std::uint32_t seq,
                                  std::uint8_t family, std::vector<ts_listener_sample> &parsed);

private:
    struct Known
    {
        std::uint64_t drops = 0;
        std::uint32_t backlog = 0;
        std::uint64_t seenInPoll = 0;
    };
    bool dumpFamily(std::uint8_t family, std::uint64_t nowNs, std::vector<ts_listener_sample> &out);
    void consider(const ts_listener_sample &sample, std::vector<ts_listener_sample> &out);
    void drain();

    UniqueFd m_fd;
    std::uint32_t m_seq = 0;
    std::uint32_t m_netnsIno = 0;
    std::uint64_t m_pollNo = 0;
    std::uint64_t m_failedPolls = 0;
    bool m_noInet6 = false; // kernel without IPv6 (or its inet_diag handler): skip that family
    std::vector<std::uint8_t> m_buffer;
    std::unordered_map<std::uint64_t, Known> m_known; // by cookie
};

} // namespace tcpscope::helper
