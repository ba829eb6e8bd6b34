// SPDX-License-Identifier: GPL-3.0-or-later
// The detectors over a session file: its records replayed through AlertEngine in time order, in
// slices as the live capture publishes them, so a reopened capture raises the alerts a live one
// raised. Connections are given as they were at each point of the replay (their state history
// up to it, and their handshake and close not yet known before they happen).
#pragma once

#include "detect/alert_engine.h"

#include <atomic>
#include <functional>

namespace tcpscope {

class Session;

struct ReplayStats
{
    quint64 items = 0;      // records looked at
    quint64 suppressed = 0; // alerts left out by throttling
    QString error;          // the session's read error, if any (what was read is used)
};

// The session's records in time order, in slices as a live capture publishes them: fn gets
// each slice's connections (as of the slice's end), packets and kernel records; return false
// to stop. What detectAlerts feeds the detectors (and what a benchmark times them on).
using ReplaySlice = std::function<bool(const QVector<Connection> &changed,
                                       const QVector<Packet> &packets, const KernelData &kernel)>;
// cancel (may be null) is polled per packet: set, the replay stops where it is.
void replaySession(const Session &session, const ReplaySlice &fn,
                   const std::atomic<bool> *cancel = nullptr);

// Every alert in the session. onAlert, when given, receives them as they are raised (in time
// order within a slice); return false from it to stop early.
QVector<Alert> detectAlerts(const Session &session, const AlertConfig &config,
                            ReplayStats *stats = nullptr,
                            const std::function<bool(const Alert &)> &onAlert = {},
                            const std::atomic<bool> *cancel = nullptr);

} // namespace tcpscope
