// SPDX-License-Identifier: GPL-3.0-or-later
#include "signals.h"

#include <csignal>
#include <sys/signalfd.h>

namespace tcpscope::helper {

UniqueFd setupSignals()
{
    std::signal(SIGPIPE, SIG_IGN);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, nullptr);
    return UniqueFd(signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
}

int readSignal(int signalFd)
{
    signalfd_siginfo info{};
    if (read(signalFd, &info, sizeof info) == static_cast<ssize_t>(sizeof info))
        return static_cast<int>(info.ssi_signo);
    return 0;
}

} // namespace tcpscope::helper
