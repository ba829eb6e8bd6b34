// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tcpscope::helper {

// A TCP listening socket that existed before the capture, with the process holding it.
struct ScannedListener
{
    std::uint16_t port = 0;
    std::uint16_t family = 0; // AF_INET / AF_INET6
    std::uint32_t pid = 0;
    std::uint64_t cgroupId = 0;
    std::string comm;
};

// Reads /proc/net/tcp{,6} (LISTEN entries: port + inode) and /proc/*/fd socket links. Covers
// the helper's own network namespace only: /proc/net is per netns.
std::vector<ScannedListener> scanListeners();
// Inode of /proc/self/ns/net, which equals the kernel's net->ns.inum.
std::uint32_t ownNetnsInode();
// Writes scanned listeners into the BPF `listeners` map without overwriting what the program
// learned itself (BPF_NOEXIST). Returns how many entries were added.
int seedListenersMap(int mapFd, const std::vector<ScannedListener> &listeners);

} // namespace tcpscope::helper
