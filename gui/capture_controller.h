// SPDX-License-Identifier: GPL-3.0-or-later
// Owns the window's LiveCapture: picks the session path in the cache directory, starts it with
// the remembered capture options (and trigger) and relays its queued signals. The window
// only reacts.
#pragma once

#include "capture/live_capture.h"

#include <QObject>

#include <memory>
#include <optional>

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
    void stop();        // bounded; stopped() follows
    void release();     // forgets a stopped capture (a file was opened instead)
    bool isRunning() const;
    bool hasCapture() const { return m_capture != nullptr; }
    QString sessionPath() const;
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
    std::unique_ptr<LiveCapture> m_capture;
    CaptureOptions m_options;
    std::optional<TriggerSettings> m_trigger;
};

} // namespace tcpscope
