// SPDX-License-Identifier: GPL-3.0-or-later
#include "options.h"

#include <cerrno>
#include <cstdlib>
#include <string_view>

namespace tcpscope::helper {

const char *usageText()
{
    return "usage: tcpscope-helper (--fd N | --listen PATH | --stdio) [--force-tracepoint]\n"
           "                       [--ringbuf-kib N] [--packet-ringbuf-kib N] [--force-clsact]\n"
           "                       [--tcpinfo-ringbuf-kib N] [--verbose]\n"
           "\n"
           "Privileged half of tcpscope: loads the TCP lifecycle, packet and tcpinfo BPF\n"
           "programs and streams their records over an AF_UNIX stream socket (or stdin and\n"
           "stdout) using the tcpscope wire protocol.\n"
           "\n"
           "  --fd N              use the already connected socket N (the app's socketpair)\n"
           "  --listen PATH       create a socket at PATH (mode 0660), serve one client at a\n"
           "                      time until SIGTERM/SIGINT; PATH is removed on exit\n"
           "  --stdio             read the client's frames from stdin and write to stdout\n"
           "                      (pipes or a socket), one capture: for `ssh HOST\n"
           "                      tcpscope-helper --stdio`; messages go to stderr only\n"
           "  --force-tracepoint  skip tp_btf and use the classic tracepoints (for tests)\n"
           "  --ringbuf-kib N     kernel ring buffer size in KiB (power of two, 4..1048576,\n"
           "                      at most 32768 when the caller is not root; default 8192);\n"
           "                      small values provoke losses in tests\n"
           "  --packet-ringbuf-kib N  packet ring buffer size in KiB (same rules, default 2048)\n"
           "  --tcpinfo-ringbuf-kib N  ring buffer of tcp_probe samples, retransmits, resets and\n"
           "                      drops in KiB (same rules, default 8192)\n"
           "  --force-clsact      attach the packet programs with clsact filters even where\n"
           "                      the kernel has tcx links (for tests)\n"
           "  --verbose           show libbpf warnings and session notes on stderr\n"
           "  --help              this text\n"
           "\n"
           "Needs root, or CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN (and CAP_SYS_PTRACE to\n"
           "attribute listening sockets of other users that predate the capture). Only root or\n"
           "the user that started the helper may connect. With --fd or --stdio, once attached\n"
           "it keeps only CAP_BPF and CAP_NET_ADMIN, sets no_new_privs and is not dumpable.\n"
           "Start options are capped: snap length 256 bytes, sample interval 10 s, maximum\n"
           "stall 1 h. See tcpscope-helper(8).\n"
           "\n"
           "Exit status: 0 stopped normally (Stop, peer hang-up, SIGTERM/SIGINT, bad peer),\n"
           "64 usage error, 69 BPF unavailable, 71 system error, 77 missing privileges.\n";
}

bool parseOptions(int argc, char **argv, Options &out, std::string &error)
{
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        auto value = [&](const char *name) -> const char * {
            if (i + 1 >= argc) {
                error = std::string(name) + " needs a value";
                return nullptr;
            }
            return argv[++i];
        };
        if (arg == "--help" || arg == "-h") {
            out.help = true;
        } else if (arg == "--force-tracepoint") {
            out.forceTracepoint = true;
        } else if (arg == "--verbose") {
            out.verbose = true;
        } else if (arg == "--fd") {
            const char *v = value("--fd");
            if (!v)
                return false;
            char *end = nullptr;
            errno = 0;
            const long fd = std::strtol(v, &end, 10);
            if (errno || *v == '\0' || *end != '\0' || fd < 0 || fd > 1 << 20) {
                error = "--fd: not a file descriptor number: " + std::string(v);
                return false;
            }
            out.fd = static_cast<int>(fd);
        } else if (arg == "--stdio") {
            out.stdio = true;
        } else if (arg == "--force-clsact") {
            out.forceClsact = true;
        } else if (arg == "--ringbuf-kib" || arg == "--packet-ringbuf-kib" ||
                   arg == "--tcpinfo-ringbuf-kib") {
            const std::string name(arg);
            const char *v = value(name.c_str());
            if (!v)
                return false;
            char *end = nullptr;
            const unsigned long kib = std::strtoul(v, &end, 10);
            if (*v == '\0' || *end != '\0' || kib < 4 || kib > (1ul << 20) || (kib & (kib - 1))) {
                error = name + ": need a power of two between 4 and 1048576";
                return false;
            }
            unsigned &target = name == "--ringbuf-kib"          ? out.ringbufKib
                               : name == "--packet-ringbuf-kib" ? out.packetRingbufKib
                                                                : out.tcpinfoRingbufKib;
            target = static_cast<unsigned>(kib);
        } else if (arg == "--listen") {
            const char *v = value("--listen");
            if (!v)
                return false;
            out.listenPath = v;
            if (out.listenPath.empty()) {
                error = "--listen: empty path";
                return false;
            }
        } else {
            error = "unknown argument: " + std::string(arg);
            return false;
        }
    }
    if (out.help)
        return true;
    if (int(out.fd >= 0) + int(!out.listenPath.empty()) + int(out.stdio) != 1) {
        error = "exactly one of --fd N, --listen PATH or --stdio is required";
        return false;
    }
    return true;
}

} // namespace tcpscope::helper
