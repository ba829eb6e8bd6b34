// SPDX-License-Identifier: GPL-3.0-or-later
// A live capture: spawns tcpscope-helper over a socketpair, reads its frames on an ingest thread,
// feeds ConnectionTracker and SessionWriter, and publishes value-type updates through queued
// signals. Used by the GUI (File > Start capture) and by `tcpscope record`.
#pragma once

#include "model/connection.h"

#include <QObject>
#include <QString>
#include <QVector>
#include <memory>

namespace tcpscope {

struct CaptureStats
{
    quint64 recordsReceived = 0;
    quint64 lostRecords = 0;       // ring buffer losses + missedProgramRuns
    quint64 missedProgramRuns = 0; // BPF program runs the kernel skipped (part of lostRecords)
    double recordsPerSecond = 0; // over the last stats interval
    quint64 connectionsSeen = 0;
};

class LiveCapture : public QObject
{
    Q_OBJECT
public:
    explicit LiveCapture(QObject *parent = nullptr);
    ~LiveCapture() override; // stops the capture if running (helper detaches and exits)

    // Where tcpscope-helper is: $TCPSCOPE_HELPER, else next to this executable.
    static QString helperPath();

    // Spawns the helper and starts recording into sessionPath (created/overwritten). Returns
    // once the helper reports its kernel hooks attached, so nothing after it is missed.
    // Returns false with a one-line reason (e.g. the helper's "needs root or CAP_BPF..." text).
    bool start(const QString &sessionPath, QString *error);
    // Asks the helper to stop, drains what it sent, finalizes the session file. Blocking but
    // bounded (a few seconds); safe to call twice.
    void stop();
    bool isRunning() const;
    QString sessionPath() const;
    // Latest counters (thread-safe); after stop() the final ones of the last capture.
    CaptureStats stats() const;

signals:
    // Connections created or changed since the last emission (throttled to a few per second).
    void connectionsUpdated(const QVector<tcpscope::Connection> &changed);
    void statsUpdated(const tcpscope::CaptureStats &stats);
    // Once the helper has attached its hooks (its first Stats after Hello/Start); startedNs set.
    void infoReady(const tcpscope::SessionInfo &info);
    // The helper died or the stream broke; the session file stays valid up to that point.
    // The capture then finalizes itself (as stop() would) from the event loop, so stopped()
    // follows; calling stop() in a slot connected to failed() is fine too.
    void failed(const QString &reason);
    void stopped();

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace tcpscope

Q_DECLARE_METATYPE(tcpscope::CaptureStats)
