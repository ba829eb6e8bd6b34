// SPDX-License-Identifier: GPL-3.0-or-later
// tcpscope-helper: the small privileged process that loads the BPF programs and streams their
// records to the app (see docs/ARCHITECTURE.md). It accepts no code, paths or attach points
// from its client: only Start and Stop.
#include "options.h"
#include "privileges.h"
#include "resource_limits.h"
#include "session.h"
#include "signals.h"
#include "tracefs.h"
#include "unique_fd.h"

#include <bpf/libbpf.h>
#include <cerrno>
#include <csignal>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

using namespace tcpscope::helper;
using tcpscope::UniqueFd;

namespace {

bool g_verbose = false;

int libbpfPrint(enum libbpf_print_level level, const char *format, va_list args)
{
    // The tp_btf probe may fail by design; its verifier log is noise unless asked for.
    if (!g_verbose || level == LIBBPF_DEBUG)
        return 0;
    return std::vfprintf(stderr, format, args);
}

bool isUnixStream(int fd)
{
    int domain = 0, type = 0;
    socklen_t len = sizeof domain;
    if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0)
        return false;
    len = sizeof type;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0)
        return false;
    return domain == AF_UNIX && type == SOCK_STREAM;
}

// --stdio: the client's frames on stdin, ours on stdout. Both are moved to descriptors of their
// own, and stdin becomes /dev/null and stdout a copy of stderr, so nothing printed by mistake
// (ours or a library's) can ever corrupt the stream: every message of the helper goes to stderr.
// Refuses a network socket (inetd and the like: the helper serves no network; ssh
// authenticates its clients) and an AF_UNIX socket whose peer may not drive us.
bool takeStdio(int &readFd, int &writeFd, std::string &why)
{
    for (const int fd : {STDIN_FILENO, STDOUT_FILENO}) {
        struct stat st
        {
        };
        if (fstat(fd, &st) != 0) {
            why = std::string(fd == STDIN_FILENO ? "stdin" : "stdout") + " is not open";
            return false;
        }
        if (!S_ISSOCK(st.st_mode))
            continue;
        if (!isUnixStream(fd)) {
            why = std::string(fd == STDIN_FILENO ? "stdin" : "stdout") +
                  " is a network socket: tcpscope-helper serves no network; run it through ssh";
            return false;
        }
        if (!peerAllowed(fd, why))
            return false;
    }
    readFd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
    writeFd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
    if (readFd < 0 || writeFd < 0) {
        why = std::string("cannot duplicate stdin/stdout: ") + std::strerror(errno);
        return false;
    }
    const int devNull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (devNull < 0 || dup2(devNull, STDIN_FILENO) < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
        why = std::string("cannot redirect stdin/stdout: ") + std::strerror(errno);
        return false;
    }
    close(devNull);
    return true;
}

int serveListen(const Options &options, Tracefs &tracefs, int signalFd)
{
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (options.listenPath.size() >= sizeof addr.sun_path) {
        std::fprintf(stderr, "tcpscope-helper: --listen path too long\n");
        return kExitUsage;
    }
    std::memcpy(addr.sun_path, options.listenPath.c_str(), options.listenPath.size() + 1);
    // A socket left by a killed helper would make bind() fail; remove only sockets, never a
    // file someone pointed us at by mistake.
    struct stat st
    {
    };
    if (lstat(options.listenPath.c_str(), &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(options.listenPath.c_str());
    UniqueFd server(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    // umask makes the socket 0660 from the start: no window where others could connect.
    const mode_t oldMask = umask(0117);
    const int bound =
        server.valid() ? bind(server.get(), reinterpret_cast<sockaddr *>(&addr), sizeof addr) : -1;
    const int bindErrno = errno;
    umask(oldMask);
    if (bound != 0 || listen(server.get(), 1) != 0) {
        std::fprintf(stderr, "tcpscope-helper: cannot listen on %s: %s\n",
                     options.listenPath.c_str(), std::strerror(bound != 0 ? bindErrno : errno));
        return kExitOsError;
    }
    int code = kExitOk;
    bool signalled = false;
    while (!signalled) {
        pollfd fds[2] = {{server.get(), POLLIN, 0}, {signalFd, POLLIN, 0}};
        if (poll(fds, 2, -1) < 0)
            continue;
        if (fds[1].revents && readSignal(signalFd))
            break;
        UniqueFd client(accept4(server.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (!client.valid())
            continue;
        Session session(client.get(), options, tracefs, signalFd);
        code = session.run(signalled); // one client at a time; BPF detached in between
        if (code == kExitUnavailable)
            break;
    }
    unlink(options.listenPath.c_str());
    return code;
}

} // namespace

int main(int argc, char **argv)
{
    Options options;
    std::string error;
    if (!parseOptions(argc, argv, options, error)) {
        std::fprintf(stderr, "tcpscope-helper: %s\n%s", error.c_str(), usageText());
        return kExitUsage;
    }
    if (options.help) {
        std::fputs(usageText(), stdout);
        return kExitOk;
    }
    // A client gone while we write must be a write error, never a silent death by SIGPIPE
    // (which would skip the clean-up of clsact filters).
    std::signal(SIGPIPE, SIG_IGN);
    if (options.fd >= 0 && !isUnixStream(options.fd)) {
        std::fprintf(stderr, "tcpscope-helper: --fd %d is not an AF_UNIX stream socket\n",
                     options.fd);
        return kExitUsage;
    }
    // The client's descriptors: one socket (--fd) or stdin and stdout (--stdio); none for
    // --listen, whose clients come later.
    int readFd = options.fd, writeFd = options.fd;
    if (options.stdio && !takeStdio(readFd, writeFd, error)) {
        std::fprintf(stderr, "tcpscope-helper: --stdio: %s\n", error.c_str());
        return kExitUsage;
    }
    UniqueFd ownedRead(options.stdio ? readFd : -1), ownedWrite(options.stdio ? writeFd : -1);
    // Checked before anything is allocated: a user running the capability-bearing helper may not
    // pin more kernel memory than the caps allow.
    if (!checkRingLimits(options, getuid(), error)) {
        std::fprintf(stderr, "tcpscope-helper: %s\n", error.c_str());
        if (readFd >= 0)
            PeerChannel(readFd, writeFd)
                .sendError(tcpscope::wire::ErrorCode::Limits, "refusing the ring buffer sizes",
                           error);
        return kExitUsage;
    }
    if (!hasRequiredPrivileges()) {
        const std::string message = privilegesMessage(argv[0]);
        std::fprintf(stderr, "%s\n", message.c_str());
        if (readFd >= 0)
            PeerChannel(readFd, writeFd)
                .sendError(tcpscope::wire::ErrorCode::Permission, kPrivilegesNeeded,
                           privilegesAdvice(argv[0]));
        return kExitNoPermission;
    }
    g_verbose = options.verbose;
    libbpf_set_print(libbpfPrint);
    UniqueFd signalFd = setupSignals();
    if (!signalFd.valid()) {
        std::fprintf(stderr, "tcpscope-helper: signalfd: %s\n", std::strerror(errno));
        return kExitOsError;
    }
    Tracefs tracefs; // outlives every session; unmounts at exit if it mounted
    if (!options.listenPath.empty())
        return serveListen(options, tracefs, signalFd.get());
    UniqueFd peer(options.stdio ? -1 : options.fd); // --stdio: owned above
    bool signalled = false;
    Session session(readFd, writeFd, options, tracefs, signalFd.get());
    return session.run(signalled);
}
