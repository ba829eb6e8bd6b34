// SPDX-License-Identifier: GPL-3.0-or-later
// Test support for the issue-4 helper tests: a bulk loopback transfer between two ts_traffic
// processes, finding its two sockets in the lifecycle records, and the samples of one socket.
#pragma once

#include "helper_capture.h"

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

// Inode of this process's network namespace (the kernel's net->ns.inum).
std::uint32_t ownNetns();

} // namespace tcpscope::test
