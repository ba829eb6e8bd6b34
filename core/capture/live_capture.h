// SPDX-License-Identifier: GPL-3.0-or-later
// A live capture: spawns tcpscope-helper over a socketpair, reads its frames on an ingest thread,
// feeds ConnectionTracker and SessionWriter, and publishes value-type updates through queued
// signals. Used by the GUI (File > Start capture) and by `tcpscope record`.
#pragma once

#include "capture/capture_options.h"
#include "capture/helper_access.h"
#include "capture/remote_transport.h"
#include "capture/session_ring.h"
#include "capture/trigger_ring.h"
#include "detect/alert_rules.h"
#include "model/connection.h"
#include "model/packet.h"

#include <QObject>
#include <QString>
#include <QVector>
#include <memory>
#include <optional>

namespace tcpscope {

struct CaptureStats
{
    quint64 recordsReceived = 0;
    quint64 lostRecords = 0;       // ring buffer losses + missedProgramRuns
    quint64 missedProgramRuns = 0; // BPF program runs the kernel skipped (part of lostRecords)
    double recordsPerSecond = 0;   // over the last stats interval
    quint64 packetsReceived = 0;   // packet records (part of recordsReceived)
    quint64 lostPackets = 0;       // packet ring buffer losses (part of lostRecords)
    quint64 packetsFiltered = 0;   // left out by the kernel-side capture filter
    quint64 samplesReceived = 0;   // tcp_probe samples (part of recordsReceived)
    quint64 kernelEventsReceived = 0;
    quint64 dropsReceived = 0;
    // Records the helper dropped while tcpscope did not read them in time (not in lostRecords).
    quint64 readerDropped = 0;
    quint64 connectionsSeen = 0;    // created since the start (evicted ones included)
    quint64 connectionsHeld = 0;    // in the ingest thread's memory now (open + closed in grace)
    quint64 connectionsEvicted = 0; // closed, written, and dropped from memory
    quint64 connectionsEvictedEarly = 0; // of those: before their grace period (too many closed)
    // Packets and kernel records that named an evicted connection's socket: stored unjoined.
    quint64 lateRecords = 0;
    // Record order (core/pipeline/reorder_window.h): records that arrived after a newer one and
    // were put back in time order, the largest such inversion, and records later than the
    // reorder window (processed in arrival order; derived durations clamped at 0).
    quint64 recordsReordered = 0;
    quint64 maxInversionNs = 0;
    quint64 recordsBeyondWindow = 0;
    quint64 maxBeyondWindowNs = 0;
    quint64 reorderWindowNs = 0;
    quint64 alertsRaised = 0;     // by the detectors (stored in the file, alertsRaised signal)
    quint64 alertsSuppressed = 0; // left out by their throttling
    // Triggered capture: windows kept so far, the ring's fill and the record time it holds,
    // records left out of the file (outside every window).
    quint64 triggerWindows = 0;
    qint64 triggerRingBytes = 0;
    qint64 triggerRingSpanNs = 0;
    qint64 triggerKeptNs = 0; // the windows' time together
    quint64 triggerDiscarded = 0;
    quint64 filesWritten = 0; // session files started (1 without rotation)
    quint64 bytesWritten = 0; // their size together, deleted ring files included
};

class LiveCapture : public QObject
{
    Q_OBJECT
public:
    explicit LiveCapture(QObject *parent = nullptr);
    ~LiveCapture() override; // stops the capture if running (helper detaches and exits)

    // Where tcpscope-helper is: $TCPSCOPE_HELPER, else the installed libexec path for an
    // installed app, else next to this executable (build trees); see resolveHelperPath().
    static QString helperPath();
    // What kind of failure the last failed start() was (None after a successful one):
    // Permission when the user may not run the helper or the helper lacks its privileges,
    // Kernel when the kernel cannot load tcpscope's programs (e.g. no BTF). Decided from the
    // helper's typed Error; its exit status only when it sent none (it died before its socket
    // was usable, or it is too old to say).
    CaptureFailure lastFailure() const { return m_failure; }
    // The typed Error the helper sent in the last failed start attempt, if it sent one.
    const std::optional<wire::ErrorMessage> &lastHelperError() const { return m_helperError; }

    // Spawns the helper and starts recording into sessionPath (created/overwritten). Returns
    // once the helper reports its kernel hooks attached, so nothing after it is missed.
    // Returns false with a one-line reason (e.g. the helper's "needs root or CAP_BPF..." text).
    bool start(const QString &sessionPath, const CaptureOptions &options, QString *error);
    bool start(const QString &sessionPath, QString *error) // default options: packets on
    {
        return start(sessionPath, CaptureOptions{}, error);
    }
    // Asks the helper to stop, drains what it sent, finalizes the session file. Blocking but
    // bounded (a few seconds); safe to call twice.
    void stop();
    bool isRunning() const;
    // With limits.active(), the next start() records a ring of files named after its
    // sessionPath (core/capture/session_ring.h), switching files while capturing; each is a
    // complete session, and the connections held at a switch are carried into the new file.
    void setRotation(const RotationLimits &limits) { m_rotation = limits; }
    // The detectors (core/detect) the next start() runs on the records, their alerts stored in
    // the session file and emitted by alertsRaised; nullopt: none. Default: every built-in
    // detector with its default thresholds.
    void setAlertConfig(const std::optional<AlertConfig> &config) { m_alerts = config; }
    // Triggered capture for the next start(): packets and kernel samples are kept only around
    // each trigger (core/capture/trigger_ring.h). Needs the detectors (the trigger is an
    // alert); not with rotation. nullopt: everything is kept.
    void setTrigger(const std::optional<TriggerSettings> &trigger) { m_trigger = trigger; }
    // Remote capture for the next start(): the helper runs on target.destination through ssh
    // (core/capture/remote_transport.h) instead of on this machine; the session records the
    // destination (SessionInfo::remote) beside the remote host's name and kernel. nullopt: local.
    void setRemote(const std::optional<RemoteTarget> &remote) { m_remote = remote; }
    // The file being written now (with rotation: the newest of the ring).
    QString sessionPath() const;
    // The files of this recording still on disk, oldest first.
    QStringList sessionFiles() const;
    // Latest counters (thread-safe); after stop() the final ones of the last capture.
    CaptureStats stats() const;
    // The interfaces packets were captured on so far (thread-safe). Updated at each publish
    // before packetsAdded is emitted, so a receiver finds every ifindex of its packets here.
    QVector<InterfaceInfo> interfaces() const;

signals:
    // Connections created or changed since the last emission (throttled to a few per second).
    void connectionsUpdated(const QVector<tcpscope::Connection> &changed);
    void statsUpdated(const tcpscope::CaptureStats &stats);
    // Packets received since the last emission (same throttle as connectionsUpdated, emitted
    // after it so every connectionId already exists), analysed and joined, in id order.
    // Packets held back while waiting for their connection (handshake packets of an accepted
    // socket) come later, when joined or given up on (connectionId 0).
    void packetsAdded(const QVector<tcpscope::Packet> &packets);
    // Kernel samples/events/drops/listener samples since the last emission (same throttle,
    // emitted after connectionsUpdated and packetsAdded), joined to connection ids.
    void kernelDataAdded(const tcpscope::KernelData &data);
    // Alerts the detectors raised since the last emission (same throttle, emitted after
    // kernelDataAdded), in time order; also written to the session file.
    void alertsRaised(const QVector<tcpscope::Alert> &alerts);
    // Once the helper has attached its hooks (its first Stats after Hello/Start); startedNs set.
    void infoReady(const tcpscope::SessionInfo &info);
    // The helper died or the stream broke; the session file stays valid up to that point.
    // The capture then finalizes itself (as stop() would) from the event loop, so stopped()
    // follows; calling stop() in a slot connected to failed() is fine too.
    void failed(const QString &reason);
    void stopped();
    // A non-fatal event the helper reported (a Log frame: an interface it could not attach
    // to, a probe it gave up on). Warnings are also recorded in the session's probe notes as
    // "helper=warning (text)". Emitted from the ingest thread.
    void helperMessage(const QString &text, bool warning);

private:
    // One attempt; fallbackNotes = probe-report lines saying why something asked for is off
    // ("packets=unavailable (...)", "kernel_metrics=unavailable (...)").
    bool startOnce(const QString &sessionPath, const CaptureOptions &options,
                   const QStringList &fallbackNotes, QString *error);
    struct Private;
    std::unique_ptr<Private> d;
    RotationLimits m_rotation;
    std::optional<AlertConfig> m_alerts = AlertConfig();
    std::optional<TriggerSettings> m_trigger;
    std::optional<RemoteTarget> m_remote;
    CaptureFailure m_failure = CaptureFailure::None;
    std::optional<wire::ErrorMessage> m_helperError;
};

} // namespace tcpscope

Q_DECLARE_METATYPE(tcpscope::CaptureStats)
