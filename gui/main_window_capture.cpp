// SPDX-License-Identifier: GPL-3.0-or-later
// MainWindow's live capture side: start/stop through CaptureController. The views show a
// Session on the file being recorded; LiveCapture's queued updates only say that (and which
// connections) something changed, and the session is refreshed at most 4 times a second.
#include "main_window.h"

#include "capture/live_capture.h"
#include "capture_controller.h"
#include "charts/timeline_widget.h"
#include "dialogs/capture_options_dialog.h"
#include "dialogs/remote_hosts_dialog.h"
#include "main_window_packets.h"
#include "models/connection_table_model.h"
#include "session/session_merge.h"
#include "views/alerts_view.h"
#include "views/connection_detail_view.h"
#include "views/endpoints_view.h"
#include "views/overview_dashboard.h"
#include "views/packet_inspector.h"

#include <QDateTime>
#include <QDir>
#include <QEventLoop>
#include <QLabel>
#include <QProgressDialog>
#include <QStatusBar>
#include <QThread>

#include <atomic>

namespace tcpscope {

namespace {
qint64 wallNowNs()
{
    return QDateTime::currentMSecsSinceEpoch() * 1'000'000;
}

// Merges the hosts' part files into output on a worker thread (the code File ▸ Merge… and
// `tcpscope merge` run) while a progress dialog shows how far it is; Cancel stops it and
// leaves no output. False + one line.
bool mergeParts(QWidget *parent, const QStringList &parts, const QString &output, QString *error)
{
    QProgressDialog progress(MainWindow::tr("Merging the hosts' recordings…"),
                             MainWindow::tr("Cancel"), 0, 100, parent);
    progress.setWindowTitle(MainWindow::tr("Stop Capture"));
    progress.setWindowModality(Qt::WindowModal);
    progress.setMinimumDuration(0);
    progress.setValue(0);
    std::atomic<bool> cancel = false;
    bool ok = false;
    QString why;
    QEventLoop loop;
    QThread *worker = QThread::create([&] {
        MergeOptions options;
        options.inputs = parts;
        options.output = output;
        MergeReport report;
        ok = mergeSessions(options, &report, &why, &cancel, [&progress](int percent) {
            QMetaObject::invokeMethod(
                &progress, [&progress, percent] { progress.setValue(percent); },
                Qt::QueuedConnection);
        });
    });
    QObject::connect(worker, &QThread::finished, &loop, &QEventLoop::quit);
    QObject::connect(&progress, &QProgressDialog::canceled, &loop,
                     [&cancel] { cancel.store(true); });
    worker->start();
    loop.exec();
    worker->wait();
    delete worker;
    QCoreApplication::sendPostedEvents(&progress); // the worker's last progress calls
    if (!ok)
        *error = why;
    return ok;
}
} // namespace

void MainWindow::showRemoteHosts()
{
    RemoteHostsDialog dialog(RemoteHostsDialog::load(), this);
    if (dialog.exec() == QDialog::Accepted && isCapturing())
        statusBar()->showMessage(tr("The hosts apply to the next capture"), 5000);
}

void MainWindow::startCapture()
{
    if (isCapturing())
        return;
    setCaptureState(tr("Starting…"));
    QString error;
    const CaptureOptions options = CaptureOptionsDialog::load();
    // A triggered capture keeps packets around its triggers: none without packets.
    m_capture->setTrigger(options.packets ? CaptureOptionsDialog::loadTrigger().active()
                                          : std::nullopt);
    const QVector<std::optional<RemoteTarget>> hosts = RemoteHostsDialog::load().chosen();
    if (!m_capture->start(options, hosts, &error)) {
        setCaptureState(tr("Idle"));
        showError(tr("Start Capture"), tr("Could not start the capture:\n%1").arg(error));
        updateActions();
        return;
    }
    m_sessionPath = m_capture->sessionPath();
    m_info = SessionInfo();
    m_info.packetsCaptured = m_capture->options().packets;
    m_originNs = wallNowNs();
    m_endNs = m_originNs;
    setSession(nullptr);
    m_alertsView->startLive(); // filled by onAlertsRaised
    m_liveChanged.clear();
    m_liveChangedBefore.clear();
    refreshLive(); // opens the session on the new file once its schema is there
    m_model->setReferenceTimeNs(m_endNs);
    m_inspector->reset(m_info.packetsCaptured ? noPacketsHint(m_info, true)
                                              : noPacketsHint(m_info, false));
    m_inspector->setOriginNs(m_originNs);
    m_detail->reset(tr("Capturing — select a connection to follow the kernel's view of it"));
    m_detail->setSessionInfo(m_info, true);
    m_detail->setOriginNs(m_originNs);
    m_lostPackets = m_filteredPackets = 0;
    m_overview->setSession(m_originNs, m_endNs, false);
    updateTimelineNow();
    m_rateLabel->setText(tr("0 records · 0/s"));
    setLost(0);
    updatePacketLabel();
    QStringList labels = m_capture->hostLabels();
    const QString where =
        labels.size() == 1 && hosts.first() ? tr(" on %1").arg(labels.first()) : QString();
    if (const auto trigger = m_capture->trigger())
        setCaptureState(tr("● Capturing%1 (trigger %2)").arg(where, trigger->trigger),
                        QStringLiteral("#b00000"));
    else
        setCaptureState(tr("● Capturing%1").arg(where), QStringLiteral("#b00000"));
    if (labels.size() > 1) {
        const QString first = labels.takeFirst();
        const QString text =
            tr("Live view: %1 (also recording: %2)").arg(first, labels.join(QStringLiteral(", ")));
        m_stateLabel->setToolTip(text);
        statusBar()->showMessage(text);
    }
    m_clockTimer.start();
    updateCounts();
    updateActions();
    updateTitle();
}

void MainWindow::stopCapture()
{
    if (!m_capture->hasCapture())
        return;
    // The recorder turns the file back into a self-contained one when it closes, which it
    // cannot while another connection reads it: the views let go of the session meanwhile.
    setSession(nullptr);
    m_capture->stop();
    onCaptureStopped();
    const QString merged = m_capture->takeMergedPath();
    if (merged.isEmpty())
        return;
    // Several hosts: their parts become one session, which replaces the live view.
    setCaptureState(tr("Merging…"));
    QString error;
    if (!mergeParts(this, m_capture->partFiles(), merged, &error)) {
        setCaptureState(tr("Stopped"));
        showError(tr("Stop Capture"),
                  tr("Could not merge the hosts' recordings: %1\nTheir parts are kept in %2 (File "
                     "▸ Merge…).")
                      .arg(error, QDir::toNativeSeparators(m_capture->partsDirectory())));
        return;
    }
    const QString parts = m_capture->partsDirectory();
    const QStringList labels = m_capture->hostLabels();
    if (openSession(merged)) {
        QDir(parts).removeRecursively(); // made by the controller for this capture only
        setCaptureState(tr("Stopped"));
        statusBar()->showMessage(
            tr("Recorded %1 hosts (%2) into %3")
                .arg(labels.size())
                .arg(labels.join(QStringLiteral(", ")), QDir::toNativeSeparators(merged)),
            10000);
    }
}

void MainWindow::onConnectionsUpdated(const QVector<Connection> &changed)
{
    for (const Connection &c : changed)
        m_liveChanged.insert(c.id);
    scheduleLiveRefresh();
}

void MainWindow::scheduleLiveRefresh()
{
    if (!m_liveTimer.isActive())
        m_liveTimer.start();
}

void MainWindow::refreshLive()
{
    if (!m_capture->hasCapture())
        return;
    if (!m_session) {
        QString error;
        std::unique_ptr<Session> session = Session::open(m_capture->sessionPath(), &error);
        if (!session) {
            m_liveTimer.start(); // the recorder has not created the file yet
            return;
        }
        setSession(std::move(session));
    } else if (!m_session->refresh() && m_liveChanged.isEmpty()) {
        return;
    }
    // LiveCapture reports a change before the writer commits it: connections reported in the
    // last two rounds are treated as changed.
    QSet<qint64> changed = m_liveChanged;
    changed += m_liveChangedBefore;
    m_liveChangedBefore = m_liveChanged;
    m_liveChanged.clear();
    m_model->refresh();
    m_overview->sessionChanged();
    m_endpoints->sessionChanged();
    m_inspector->refresh();
    m_detail->onDataChanged(changed);
    m_markersOf -= changed;
    scheduleTimelineUpdate();
    updateCounts();
    updatePacketLabel();
    updateActions();
    if (!m_liveChangedBefore.isEmpty())
        m_liveTimer.start(); // once more for what was reported but not yet committed
}

void MainWindow::onStatsUpdated(const CaptureStats &stats)
{
    m_rateLabel->setText(
        tr("%1 records · %2/s").arg(stats.recordsReceived).arg(stats.recordsPerSecond, 0, 'f', 0));
    setLost(stats.lostRecords + stats.readerDropped);
    m_lostPackets = stats.lostPackets;
    m_filteredPackets = stats.packetsFiltered;
    updatePacketLabel();
    // A triggered capture: how much time its ring holds now, red when less than "before".
    if (const auto trigger = m_capture->trigger(); trigger && isCapturing()) {
        const bool short_ = stats.triggerRingBytes >= trigger->ringBytes * 9 / 10 &&
                            stats.triggerRingSpanNs < trigger->preNs;
        setCaptureState(tr("● Capturing (trigger %1) · ring %2 s, %3 window(s) kept")
                            .arg(trigger->trigger)
                            .arg(stats.triggerRingSpanNs / 1e9, 0, 'f', 1)
                            .arg(stats.triggerWindows),
                        QStringLiteral("#b00000"));
        m_stateLabel->setToolTip(short_
                                     ? tr("The ring holds less than the %1 s kept before a trigger "
                                          "at this rate: raise its size in the capture options")
                                           .arg(trigger->preNs / 1e9)
                                     : tr("Packets and kernel samples wait in a %1 MiB ring; those "
                                          "around each trigger are written")
                                           .arg(trigger->ringBytes / 1048576));
    }
}

void MainWindow::onInfoReady(const SessionInfo &info)
{
    m_info = info;
    m_detail->setSessionInfo(info, isCapturing());
    m_overview->setSession(info.startedNs > 0 ? info.startedNs : m_originNs, m_endNs,
                           info.kernelMetrics);
    if (info.startedNs > 0 && info.startedNs != m_originNs) {
        m_originNs = info.startedNs;
        m_detail->setOriginNs(m_originNs);
        m_alertsView->setOriginNs(m_originNs);
        scheduleTimelineUpdate();
    }
}

void MainWindow::onCaptureFailed(const QString &reason)
{
    m_clockTimer.stop();
    setCaptureState(tr("Failed"), QStringLiteral("#b00000"));
    updateActions();
    showError(tr("Capture failed"),
              tr("The capture stopped: %1\nThe session file keeps everything recorded until then.")
                  .arg(reason));
}

void MainWindow::onCaptureStopped()
{
    refreshLive(); // everything the recorder committed, up to its last batch
    if (m_clockTimer.isActive()) {
        m_clockTimer.stop();
        onClockTick(); // open connections end where the capture ended
    }
    if (!m_stateLabel->text().startsWith(tr("Failed")))
        setCaptureState(tr("Stopped"));
    updateActions();
    updateTitle();
}

void MainWindow::onClockTick()
{
    m_endNs = wallNowNs();
    m_model->setReferenceTimeNs(m_endNs);
    m_timeline->setEndTime(m_endNs);
    m_detail->setSessionEndNs(m_endNs);
    m_overview->setEndNs(m_endNs);
}

} // namespace tcpscope
