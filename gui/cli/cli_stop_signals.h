// SPDX-License-Identifier: GPL-3.0-or-later
// SIGINT, SIGTERM and SIGHUP as a readable socket for the event loop (record, watch): the
// handler only writes a byte, the loop does the real stop. The old handlers come back when the
// object goes away.
#pragma once

#include "unique_fd.h"

#include <csignal>

namespace tcpscope::cli {

class StopSignals
{
public:
    StopSignals() = default;
    StopSignals(const StopSignals &) = delete;
    StopSignals &operator=(const StopSignals &) = delete;
    ~StopSignals();
    bool install();
    int readFd() const { return m_read.get(); }

private:
    static constexpr int kCount = 3;
    static constexpr int kSignals[kCount] = {SIGINT, SIGTERM, SIGHUP};
    struct sigaction m_old[kCount]
    {
    };
    UniqueFd m_read, m_write;
    bool m_installed = false;
};

} // namespace tcpscope::cli
