// SPDX-License-Identifier: GPL-3.0-or-later
// Test support for the issue-4 helper tests: a bulk loopback transfer between two ts_traffic
// processes, finding its two sockets in the lifecycle records, and the samples of one socket.
#pragma once

#include "helper_capture.h"

#include <QStringList>

#include <cstdint>
#include <functional>
#include <sys/socket.h>
#include <vector>

namespace tcpscope::test {

inline constexpr unsigned kBulkBytes = 4u << 20; // server -> client
inline constexpr unsigned kRequestBytes = 1000;  // client -> server first

// StartOptions with lifecycle + tcpinfo only (no packet programs) and the given interval.
wire::StartOptions tcpinfoOnly(std::uint32_t intervalUs);

struct Bulk
{
    unsigned serverPort = 0, clientPort = 0;
    int family = AF_INET;
};
// ts_traffic server sends kBulkBytes after reading kRequestBytes from ts_traffic client.
// beforeClient runs once the server's port is known (e.g. to install a loss rule for it).
// Aborts the test run if the traffic itself fails.
Bulk runBulk(bool v6, const std::function<void(unsigned)> &beforeClient = {});

// Lifecycle connections of a bulk run: the client socket and the server's accepted socket.
struct Sides
{
    int client = -1, server = -1;
};
Sides findSides(const Capture &cap, const Bulk &b);

// Samples of one socket id, in time order.
std::vector<ts_tcp_sample> samplesOf(const Capture &cap, std::uint64_t id);

// What the kernel adds to Tcp RetransSegs, summed over the retransmit events the helper sent
// with hdr.ts_ns in [t0, t1]: TS_EV_RETRANSMIT with err 0 adds its segs, a SYN-ACK retransmit
// adds 1. /proc/net/snmp is per network namespace, so events of sockets whose lifecycle records
// name another namespace are counted apart. Events for which mine() is false are listed in
// others, so a mismatch can say whose traffic it was.
struct RetransWindow
{
    std::uint64_t segs = 0;       // this namespace (as far as known)
    std::uint64_t otherNetns = 0; // sockets known to live in another namespace
    QStringList others;           // "kind sport->dport segs=N id=ID" of others' events
};
RetransWindow retransInWindow(const Capture &cap, std::uint64_t t0, std::uint64_t t1,
                              const std::function<bool(const ts_tcp_event &)> &mine);

// Inode of this process's network namespace (the kernel's net->ns.inum).
std::uint32_t ownNetns();

} // namespace tcpscope::test
