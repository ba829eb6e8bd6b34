// SPDX-License-Identifier: GPL-3.0-or-later
// Builders for synthetic kernel records, shared by the unit and GUI tests.
#pragma once

#include <arpa/inet.h>
#include <cstring>
#include <sys/socket.h>

extern "C" {
#include "tcpscope_records.h"
}

namespace testrec {

// Kernel TCP_* numbers (include/net/tcp_states.h).
enum : __u8
{
    ESTABLISHED = 1,
    SYN_SENT,
    SYN_RECV,
    FIN_WAIT1,
    FIN_WAIT2,
    TIME_WAIT,
    CLOSE,
    CLOSE_WAIT,
    LAST_ACK,
    LISTEN,
    CLOSING,
    NEW_SYN_RECV
};

struct Endpoint
{
    int family = AF_INET;
    const char *local = "127.0.0.1";
    __u16 lport = 0;
    const char *remote = "127.0.0.1";
    __u16 rport = 0;
};

inline ts_state_change change(__u64 sock, __u64 tsNs, __u8 from, __u8 to, const Endpoint &ep,
                              __u32 pid = 100, const char *comm = "client",
                              __u8 owner = TS_OWNER_CURRENT)
{
    ts_state_change r{};
    r.hdr.type = TS_REC_STATE_CHANGE;
    r.hdr.size = sizeof r;
    r.hdr.ts_ns = tsNs;
    r.sock_id = sock;
    r.cgroup_id = 77;
    r.netns_ino = 4026531840u;
    r.pid = pid;
    r.ctx_pid = pid ? pid : 999;
    r.family = __u16(ep.family);
    r.sport = ep.lport;
    r.dport = ep.rport;
    r.oldstate = from;
    r.newstate = to;
    r.owner_source = pid ? owner : __u8(TS_OWNER_NONE);
    inet_pton(ep.family, ep.local, r.saddr);
    inet_pton(ep.family, ep.remote, r.daddr);
    std::strncpy(r.comm, comm, sizeof r.comm - 1);
    std::strncpy(r.ctx_comm, pid ? comm : "swapper/0", sizeof r.ctx_comm - 1);
    return r;
}

inline ts_close_stats closeStats(__u64 sock, __u64 tsNs, __u8 oldstate, __s32 skErr = 0,
                                 __u64 sent = 0, __u64 received = 0)
{
    ts_close_stats s{};
    s.hdr.type = TS_REC_CLOSE_STATS;
    s.hdr.size = sizeof s;
    s.hdr.ts_ns = tsNs;
    s.sock_id = sock;
    s.bytes_acked = sent;
    s.bytes_received = received;
    s.segs_in = 11;
    s.segs_out = 12;
    s.total_retrans = 3;
    s.srtt_us = 45;
    s.min_rtt_us = 20;
    s.sk_err = skErr;
    s.oldstate = oldstate;
    return s;
}

} // namespace testrec
