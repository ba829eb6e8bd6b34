// SPDX-License-Identifier: GPL-3.0-or-later
// Owns the window's LiveCapture: picks the session path in the cache directory, starts it with
// the remembered capture options (and trigger) and relays its queued signals. The window
// only reacts. Several hosts (Capture ▸ Remote Hosts…) are one LiveCapture each, recording
// part files in a directory of their own; the first host's capture is the one whose signals
// are relayed (the live view), and after stop() the window merges partFiles() into
// mergedPath() (core/session/session_merge.h).
#pragma once

#include "capture/live_capture.h"

#include <QObject>

#include <memory>
#include <optional>
#include <utility>
#include <vector>

namespace tcpscope {

class CaptureController : public QObject
{
    Q_OBJECT
public:
    explicit CaptureController(QObject *parent = nullptr);
    ~CaptureController() override; // stops a running capture

    // Starts recording into a new file under the cache directory. Blocking but bounded (until
    // the helper's hooks are attached); false with a one-line reason.
    bool start(const CaptureOptions &options, QString *error);
    // The same for hosts (nullopt: this machine, else a remote host over SSH), in order; the
    // first is the live view. One host records as start() does; several record one part file
    // each. A host that cannot start stops the others: false with "HOST: reason".
    bool start(const CaptureOptions &options, const QVector<std::optional<RemoteTarget>> &hosts,
               QString *error);
    void stop();    // bounded; stopped() follows
    void release(); // forgets a stopped capture (a file was opened instead)
    bool isRunning() const;
    bool hasCapture() const { return m_capture != nullptr; }
    QString sessionPath() const; // the live view's file (with several hosts: the first's part)
    // The hosts of the current (or last) capture, "this machine" or the SSH destination.
    QStringList hostLabels() const { return m_labels; }
    bool isMultiHost() const { return !m_others.empty(); }
    // Several hosts: each host's part file, in host order, and the session they merge into.
    QStringList partFiles() const { return m_parts; }
    QString partsDirectory() const { return m_partsDir; }
    QString mergedPath() const { return m_merged; }
    // The merge target once, then empty: the caller merges the parts exactly once.
    QString takeMergedPath() { return std::exchange(m_merged, QString()); }
    CaptureOptions options() const { return m_options; }
    // Triggered capture for the next start() (LiveCapture::setTrigger); nullopt: keep everything.
    void setTrigger(const std::optional<TriggerSettings> &trigger) { m_trigger = trigger; }
    std::optional<TriggerSettings> trigger() const { return m_trigger; }

signals:
    void connectionsUpdated(const QVector<tcpscope::Connection> &changed);
    void packetsAdded(const QVector<tcpscope::Packet> &packets);
    void kernelDataAdded(const tcpscope::KernelData &data);
    void statsUpdated(const tcpscope::CaptureStats &stats);
    void infoReady(const tcpscope::SessionInfo &info);
    void failed(const QString &reason);
    void stopped();
    void helperWarning(const QString &text); // LiveCapture::helperMessage, warnings only
    void alertsRaised(const QVector<tcpscope::Alert> &alerts); // by the capture's detectors

private:
    std::unique_ptr<LiveCapture> makeCapture(const std::optional<RemoteTarget> &host, bool relay);

    std::unique_ptr<LiveCapture> m_capture;
    std::vector<std::unique_ptr<LiveCapture>> m_others; // the hosts after the first
    QStringList m_labels;
    QStringList m_parts;
    QString m_partsDir;
    QString m_merged;
    CaptureOptions m_options;
    std::optional<TriggerSettings> m_trigger;
};

} // namespace tcpscope
