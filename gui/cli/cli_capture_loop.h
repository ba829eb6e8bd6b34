// SPDX-License-Identifier: GPL-3.0-or-later
// What `record` and `watch` share around a live capture: SIGINT, SIGTERM and SIGHUP as a
// readable socket for the event loop (the handler only writes a byte, the loop does the real
// stop; the old handlers come back when the object goes away), the exit status of a capture
// that would not start, the event loop that runs until a signal, a duration or a failure, and
// one capture per host when several hosts (or a remote one) are captured at once.
#pragma once

#include "capture/capture_options.h"
#include "capture/helper_access.h"
#include "capture/remote_transport.h"
#include "detect/alert_rules.h"
#include "unique_fd.h"

#include <QString>
#include <QVector>
#include <csignal>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

class QCoreApplication;

namespace tcpscope {
class LiveCapture;
struct CaptureStats;
} // namespace tcpscope

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

// One LiveCapture per host (record or watch of several hosts), made and started in the hosts'
// order. The helper's warnings are printed as "helper on LABEL: TEXT" ("helper: TEXT" for a
// host without a label). When one host will not start, the ones started before it are stopped.
class HostCaptures
{
public:
    struct Host
    {
        std::optional<RemoteTarget> target; // nullopt: this machine
        QString label;                      // its name in messages; empty: none
        QString file;                       // where its capture goes
    };
    // Sets a capture up further before it starts (rotation, connections to its signals). Gets
    // the host's index.
    using Setup = std::function<void(LiveCapture &capture, qsizetype host)>;

    HostCaptures();
    HostCaptures(const HostCaptures &) = delete;
    HostCaptures &operator=(const HostCaptures &) = delete;
    ~HostCaptures();

    // Starts every host with options and the detectors of alerts. When one will not start, prints
    // "CANNOTSTART LABEL: ERROR" ("CANNOTSTART: ERROR" without a label), stops those started
    // and returns startFailureExit() for it; kExitOk when all of them run.
    int start(QCoreApplication *app, const QVector<Host> &hosts, const CaptureOptions &options,
              const std::optional<AlertConfig> &alerts, const QString &cannotStart,
              const Setup &setup = {});
    // runCaptureLoop() on all of them, then stops them and delivers their last queued signals.
    // Returns the first failure; empty when they were stopped as asked.
    QString run(QCoreApplication *app, const StopSignals &stopSignals, double seconds);
    void stopAll();

    // Each host's counters, in the hosts' order.
    std::vector<CaptureStats> stats() const;

private:
    std::vector<std::unique_ptr<LiveCapture>> m_captures;
};

} // namespace tcpscope::cli
