// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <string>

namespace tcpscope::helper {

// Exit codes (sysexits.h values where one fits), documented in --help.
inline constexpr int kExitOk = 0;            // stopped normally: Stop, hang-up, signal, bad peer
inline constexpr int kExitUsage = 64;        // EX_USAGE: bad command line
inline constexpr int kExitUnavailable = 69;  // EX_UNAVAILABLE: BPF could not be loaded/attached
inline constexpr int kExitOsError = 71;      // EX_OSERR: socket/system call failure
inline constexpr int kExitNoPermission = 77; // EX_NOPERM: missing root/capabilities

struct Options
{
    int fd = -1;            // --fd N: connected socket inherited from the app
    std::string listenPath; // --listen PATH: standalone server socket
    // --stdio: the wire protocol on stdin (read) and stdout (written), for a client that runs
    // the helper through a remote shell (`ssh HOST tcpscope-helper --stdio`).
    bool stdio = false;
    bool forceTracepoint = false;
    unsigned ringbufKib = 8192; // BPF ring buffer size; power of two, >= one page
    bool forceClsact = false;   // packets: clsact instead of tcx links (tests, old kernels)
    // Packet ring buffer size; power of two, >= one page. Small on purpose: a record written into
    // a ring larger than the caches costs ~4x one written into a 2 MiB ring (bpf/README.md).
    unsigned packetRingbufKib = 2048;
    unsigned tcpinfoRingbufKib = 8192; // tcpinfo (samples, events, drops) ring buffer size
    bool verbose = false;              // libbpf warnings and per-session notes on stderr
    bool help = false;
};

// Returns false and sets error on a bad command line.
bool parseOptions(int argc, char **argv, Options &out, std::string &error);
const char *usageText();

} // namespace tcpscope::helper
