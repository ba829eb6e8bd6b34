// SPDX-License-Identifier: GPL-3.0-or-later
// What `record` and `watch` share around a live capture: SIGINT, SIGTERM and SIGHUP as a
// readable socket for the event loop (the handler only writes a byte, the loop does the real
// stop; the old handlers come back when the object goes away), the exit status of a capture
// that would not start, and the event loop that runs until a signal, a duration or a failure.
#pragma once

#include "capture/helper_access.h"
#include "unique_fd.h"

#include <QString>
#include <csignal>
#include <vector>

class QCoreApplication;

namespace tcpscope {
class LiveCapture;
}

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

// kExitNoPermission, kExitUnavailable or kExitFailure for LiveCapture::lastFailure().
int startFailureExit(CaptureFailure failure);

// Runs app's event loop until one of stopSignals arrives, `seconds` have passed (when > 0), the
// capture fails, or something else quits the loop (a --stop-after check). Returns why the
// capture failed; empty when it was stopped as asked. The caller stops the capture.
QString runCaptureLoop(QCoreApplication *app, LiveCapture &capture, const StopSignals &stopSignals,
                       double seconds);
// The same for several captures at once (record of several hosts): the first failure of any
// ends the loop.
QString runCaptureLoop(QCoreApplication *app, const std::vector<LiveCapture *> &captures,
                       const StopSignals &stopSignals, double seconds);

} // namespace tcpscope::cli
