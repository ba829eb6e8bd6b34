// SPDX-License-Identifier: GPL-3.0-or-later
// The detectors: a state machine fed with what the record pipeline publishes (changed
// connections, analysed packets, the kernel's events, drops and listener samples) that raises
// Alerts. The same code runs live (`tcpscope watch`, fed batch by batch from LiveCapture) and
// on a session file (detectAlerts in core/detect/session_alerts.h replays the file through it),
// so a reopened capture shows the alerts the live one raised.
//
// Each batch is put in time order before it is looked at, and every window is measured in
// record time, never the clock of the machine running the detectors. Memory is bounded by
// the connections alive and the records inside the longest window.
//
// Not thread-safe: one thread feeds it.
#pragma once

#include "detect/alert.h"
#include "detect/alert_rules.h"
#include "model/connection.h"

#include <memory>

namespace tcpscope {

class AlertEngine
{
public:
    explicit AlertEngine(const AlertConfig &config = AlertConfig());
    ~AlertEngine();
    AlertEngine(const AlertEngine &) = delete;
    AlertEngine &operator=(const AlertEngine &) = delete;

    // One publish step of the pipeline: connections created or changed (with their state
    // histories; a state change is looked at once however often its connection is sent),
    // packets and kernel data decided since the previous step.
    void addBatch(const QVector<Connection> &changed, const QVector<Packet> &packets,
                  const KernelData &kernel);
    // Time has reached nowNs (wall ns) even without records: stalls that are still going on
    // are measured up to here. Never moves time backwards.
    void advanceTo(qint64 nowNs);
    // Alerts raised since the previous call, in time order.
    QVector<Alert> takeAlerts();
    // Alerts throttling left out since the previous call (at most 10 000): a triggered
    // capture keeps the time around each of them too.
    QVector<Alert> takeSuppressed();
    // Connections the capture evicted (closed, final): their state goes.
    void forgetConnections(const QVector<qint64> &ids);

    // Totals for the end-of-run summary.
    quint64 alertsRaised() const;     // returned by takeAlerts
    quint64 alertsSuppressed() const; // left out by throttling
    // Records looked at (state changes, packets, kernel events, drops, listener samples).
    quint64 itemsSeen() const;

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace tcpscope
