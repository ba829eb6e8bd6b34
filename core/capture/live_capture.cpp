// SPDX-License-Identifier: GPL-3.0-or-later
#include "capture/live_capture.h"

#include "capture/helper_access.h"
#include "capture/live_capture_private.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <mutex>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <time.h>

#ifndef TCPSCOPE_VERSION
#define TCPSCOPE_VERSION "unknown"
#endif

namespace tcpscope {

using namespace live_detail;

namespace {

// A capture allocates and frees batches of records (hundreds of KiB to tens of MiB) on three
// threads. glibc raises its mmap threshold to the largest block freed so far (up to 32 MiB), so
// after the first large batch such blocks come from the heap arenas instead, and once freed they
// stay there as free space the process keeps: 70-140 MiB of free arena memory under unthrottled
// churn. A fixed threshold keeps every block of 128 KiB or more a mapping of its own, returned
// when freed. Measured in docs/ARCHITECTURE.md ("Recorder memory under a connection storm").
void keepLargeBlocksMapped()
{
#ifdef __GLIBC__
    static std::once_flag once;
    std::call_once(once, [] { mallopt(M_MMAP_THRESHOLD, 128 * 1024); });
#endif
}

} // namespace

LiveCapture::LiveCapture(QObject *parent) : QObject(parent), d(std::make_unique<Private>())
{
    d->q = this;
    qRegisterMetaType<tcpscope::Connection>();
    qRegisterMetaType<QVector<tcpscope::Connection>>();
    qRegisterMetaType<tcpscope::SessionInfo>();
    qRegisterMetaType<tcpscope::CaptureStats>();
    qRegisterMetaType<tcpscope::Packet>();
    qRegisterMetaType<QVector<tcpscope::Packet>>();
    qRegisterMetaType<tcpscope::KernelData>();
    qRegisterMetaType<tcpscope::Alert>();
    qRegisterMetaType<QVector<tcpscope::Alert>>();
}

LiveCapture::~LiveCapture()
{
    stop();
}

QString LiveCapture::helperPath()
{
    const QString dir = QCoreApplication::instance() ? QCoreApplication::applicationDirPath()
                                                     : QFileInfo(QStringLiteral("/proc/self/exe"))
                                                           .canonicalFilePath()
                                                           .section(QLatin1Char('/'), 0, -2);
    return resolveHelperPath(dir);
}

bool LiveCapture::isRunning() const
{
    return d->running;
}

QString LiveCapture::sessionPath() const
{
    std::lock_guard lock(d->mutex);
    return d->sessionPath;
}

QStringList LiveCapture::sessionFiles() const
{
    std::lock_guard lock(d->mutex);
    return d->files;
}

CaptureStats LiveCapture::stats() const
{
    std::lock_guard lock(d->mutex);
    return d->lastStats;
}

QVector<InterfaceInfo> LiveCapture::interfaces() const
{
    std::lock_guard lock(d->mutex);
    return d->info.interfaces;
}

QString LiveCapture::Private::helperFailureText(const QString &fallback)
{
    // The helper explains itself on stderr (e.g. missing privileges); prefer its words.
    // Give a dying helper a moment so its exit status can be part of the reason.
    for (int i = 0; i < 50 && !helper.tryReap(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    helper.drainStderr();
    const QString line = helper.lastStderrLine();
    const QString exit = helper.exitDescription();
    if (remote) {
        // ssh's exit status says what failed: ssh itself (255), the remote shell (126, 127) or
        // the remote helper (its own status). Once streaming, an end without the helper's
        // Error is a lost connection.
        const bool reaped = !exit.isEmpty();
        if (isStreaming() || !reaped)
            return remoteLostText(
                *remote, reaped ? std::optional<int>(helper.exitStatus()) : std::nullopt, line);
        return remoteStartFailure(*remote, helper.exitStatus(), line, &remoteFailure);
    }
    if (line.isEmpty())
        return exit.isEmpty() ? fallback : QStringLiteral("tcpscope-helper %1").arg(exit);
    // A signal is news the helper could not tell itself (e.g. the OOM killer's SIGKILL).
    return exit.startsWith(QLatin1String("killed")) ? QStringLiteral("%1 (%2)").arg(line, exit)
                                                    : line;
}

QString LiveCapture::Private::helperName() const
{
    return remote ? QStringLiteral("tcpscope-helper on '%1'").arg(remote->destination)
                  : QStringLiteral("tcpscope-helper");
}

bool LiveCapture::start(const QString &sessionPath, const CaptureOptions &options, QString *error)
{
    keepLargeBlocksMapped();
    QString err;
    m_failure = CaptureFailure::None;
    if (startOnce(sessionPath, options, {}, &err))
        return true;
    // No fallback helps when the helper may not run at all.
    if (m_failure == CaptureFailure::Permission || m_failure == CaptureFailure::Kernel ||
        m_failure == CaptureFailure::BadFilter) {
        if (error)
            *error = err;
        return false;
    }
    CaptureOptions fallback = options;
    QStringList notes;
    // Fallbacks are decided from the code of the helper's typed Error, never from its text.
    const auto refused = [this](wire::ErrorCode code) {
        return m_helperError && m_helperError->code == code;
    };
    // A helper whose kernel cannot run the tcpinfo programs may refuse Start with kTcpInfo
    // (when it does not instead report every probe unavailable): the kernel's view is an
    // extra, so the capture runs without it and says so in the probe report.
    if (options.tcpInfo && refused(wire::ErrorCode::TcpInfoUnavailable)) {
        fallback.tcpInfo = false;
        notes << QStringLiteral("kernel_metrics=unavailable (%1)").arg(err);
        QString retryErr;
        if (startOnce(sessionPath, fallback, notes, &retryErr))
            return true;
        err = retryErr;
    }
    // A helper whose kernel refuses the packet programs fails the start. When the user asked
    // for nothing packet-specific, a lifecycle-only capture is better than none: it says so in
    // the probe report and in SessionInfo.packetsCaptured. An explicit --filter/--snap fails
    // instead.
    const bool defaults =
        options.packets && options.filter.trimmed().isEmpty() && options.snapLen == 0;
    const bool packetsRefused = refused(wire::ErrorCode::PacketsUnavailable);
    if (defaults && packetsRefused) {
        fallback.packets = false;
        notes << QStringLiteral("packets=unavailable (%1)").arg(err);
        QString retryErr;
        if (startOnce(sessionPath, fallback, notes, &retryErr))
            return true;
    }
    if (options.packets && packetsRefused)
        err += QStringLiteral(" (this tcpscope-helper cannot capture packets with these options; "
                              "--no-packets records state changes only)");
    if (error)
        *error = err;
    return false;
}

bool LiveCapture::startOnce(const QString &sessionPath, const CaptureOptions &options,
                            const QStringList &fallbackNotes, QString *error)
{
    m_failure = CaptureFailure::Other;
    m_helperError.reset();
    auto fail = [error](const QString &why) {
        if (error)
            *error = why;
        return false;
    };
    if (d->running)
        return fail(QStringLiteral("a capture is already running"));
    stop(); // clean up leftovers of a capture that failed on its own

    QString err;
    // A bad filter is the user's typo: say so before touching files or starting the helper.
    OwnerTerms ownerTerms;
    const std::optional<wire::StartOptions> startOptions =
        buildStartOptions(options, &err, &ownerTerms);
    if (!startOptions) {
        m_failure = CaptureFailure::BadFilter;
        return fail(err);
    }
    if (m_trigger && m_rotation.active())
        return fail(QStringLiteral("a triggered capture writes one file; it cannot rotate"));
    if (m_trigger && !m_alerts)
        return fail(QStringLiteral("a trigger is an alert: it needs the detectors"));
    d = std::make_unique<Private>();
    d->q = this;
    d->startOptions = *startOptions;
    d->ownerTerms = ownerTerms;
    d->fallbackNotes = fallbackNotes;
    // The file first: an unwritable path should fail before a privileged helper is started.
    QString path = sessionPath;
    if (m_rotation.active()) {
        d->ring.emplace(sessionPath, m_rotation);
        const std::optional<QString> first = d->ring->nextPath(QDateTime::currentDateTime(), &err);
        if (!first)
            return fail(err);
        path = *first;
    }
    d->writer = SessionWriter::create(path, &err);
    if (!d->writer)
        return fail(err);
    if (d->ring)
        d->ring->added(path);
    d->sessionPath = path;
    d->files = QStringList{path};
    d->fileStarted = std::chrono::steady_clock::now();
    d->info.packetsCaptured = options.packets;
    d->trigger.reset();
    d->info.trigger.clear();
    std::optional<AlertConfig> alertConfig = m_alerts;
    if (m_trigger) {
        if (const QString rule = m_trigger->ruleText(); !rule.isEmpty()) {
            QString why;
            const auto parsed = parseAlertConfig(rule, &why);
            if (!parsed) {
                d->writer->close();
                d->writer.reset();
                QFile::remove(path);
                return fail(QStringLiteral("trigger: ") + why);
            }
            alertConfig->addRule(parsed->rules().first());
        }
        d->trigger = std::make_unique<TriggerRing>(*m_trigger);
        d->info.trigger = m_trigger->trigger.trimmed();
        d->info.triggerPreNs = m_trigger->preNs;
        d->info.triggerPostNs = m_trigger->postNs;
        d->info.triggerRingBytes = m_trigger->ringBytes;
    }
    d->alerts = alertConfig ? std::make_unique<AlertEngine>(*alertConfig) : nullptr;
    d->info.alertsRecorded = alertConfig.has_value();
    // Owner terms act without packets too (state changes, kernel samples).
    d->info.captureFilter =
        options.packets || startOptions->hasOwnerTerms() || !ownerTerms.isEmpty()
            ? options.filter.simplified()
            : QString();
    d->remote = m_remote;
    d->info.remote = m_remote ? m_remote->destination : QString();
    d->owners = m_remote ? nullptr : std::make_unique<OwnerNamer>();
    int helloTimeoutMs = kHelloTimeoutMs;
    bool spawned = false;
    if (m_remote) {
        // ssh runs the helper there, talking over its stdin and stdout. It may ask for a
        // password or a host key only where a person can answer on the terminal.
        const bool prompts = terminalForPrompts();
        helloTimeoutMs = prompts ? kRemotePromptHelloTimeoutMs : kRemoteHelloTimeoutMs;
        HelperProcess::SpawnOptions spawnOptions;
        spawnOptions.peerOnStdio = true;
        spawnOptions.ownProcessGroup = !prompts;
        spawnOptions.ignoreInterrupts = true;
        if (const std::optional<QStringList> ssh = sshCommand(*m_remote, prompts, &err))
            spawned = d->helper.spawn(ssh->first(), ssh->mid(1), spawnOptions, &err);
    } else {
        const QString helper = helperPath();
        if (const QString why = helperPermissionProblem(helper); !why.isEmpty()) {
            m_failure = CaptureFailure::Permission;
            err = why;
        }
        spawned = err.isEmpty() &&
                  d->helper.spawn(helper, {QStringLiteral("--fd"), QStringLiteral("3")}, &err);
    }
    if (!spawned) {
        d->writer->close();
        d->writer.reset();
        QFile::remove(path);
        return fail(err);
    }
    d->ingest = std::thread([p = d.get()] { p->runIngest(); });

    std::unique_lock lock(d->mutex);
    const bool ready = d->cond.wait_for(lock, std::chrono::milliseconds(helloTimeoutMs),
                                        [this] { return d->streaming || d->ingestDone; });
    const bool ok = ready && d->streaming;
    QString reason = d->failure;
    m_helperError = d->helperError;
    lock.unlock();
    if (ok) {
        d->running = true;
        m_failure = CaptureFailure::None;
        return true;
    }
    // No Hello: let the helper finish saying why, then clean up completely.
    shutdown(d->helper.socketFd(), SHUT_RDWR);
    if (d->ingest.joinable())
        d->ingest.join();
    d->helper.terminate(ready ? 1000 : 0);
    if (!ready)
        reason = QStringLiteral("%1 did not answer within %2 s")
                     .arg(d->helperName())
                     .arg(helloTimeoutMs / 1000);
    // A reason the stream gave (the helper's Error, a version refusal, a protocol error) is
    // the one to show; the helper's stderr only when there is none (it hung or closed silently,
    // which runIngest() already turned into the stderr line).
    if (!ready && d->remote) {
        // terminate() ended ssh: its status says nothing, its last words may (a prompt left
        // unanswered, a slow network).
        d->helper.drainStderr();
        if (const QString line = d->helper.lastStderrLine(); !line.isEmpty())
            reason += QStringLiteral(": ") + line;
    } else if (!ready || reason.isEmpty()) {
        reason = d->helperFailureText(reason);
    }
    if (d->badFilter) {
        // A cgroup path or netns name the capturing host does not have: the user's input.
        m_failure = CaptureFailure::BadFilter;
    } else if (m_helperError) {
        // The code says which kind of failure it was.
        if (m_helperError->code == wire::ErrorCode::Permission)
            m_failure = CaptureFailure::Permission;
        else if (m_helperError->code == wire::ErrorCode::KernelUnsupported)
            m_failure = CaptureFailure::Kernel;
        else if (m_helperError->code == wire::ErrorCode::BadFilter)
            m_failure = CaptureFailure::BadFilter;
    } else if (d->remote) {
        m_failure = d->remoteFailure; // from ssh's exit status (helperFailureText)
    } else {
        // No typed Error: a helper that died before its socket was usable (or one too old to
        // send codes). Only then does its exit status (terminate() reaped it) say which kind of
        // failure it was.
        const int status = d->helper.exitStatus();
        if (WIFEXITED(status) && WEXITSTATUS(status) == kHelperExitNoPermission)
            m_failure = CaptureFailure::Permission;
        else if (WIFEXITED(status) && WEXITSTATUS(status) == kHelperExitUnavailable &&
                 !d->helloSeen)
            m_failure = CaptureFailure::Kernel;
    }
    d->writer->close();
    d->writer.reset();
    QFile::remove(path);
    return fail(reason.isEmpty() ? QStringLiteral("tcpscope-helper failed to start") : reason);
}

void LiveCapture::stop()
{
    if (!d->ingest.joinable() && !d->writer)
        return;
    const bool wasRunning = d->running;
    d->running = false;
    if (d->ingest.joinable()) {
        d->stopSent = true;
        sendAll(d->helper.socketFd(), wire::encodeStop());
        // The helper flushes what it has, then closes: wait for that EOF while data still
        // flows (a backlog after heavy churn takes a while to ingest), bounded; then insist.
        quint64 before = d->bytesIn;
        bool done = d->waitIngestDone(kStopGraceMs);
        for (int extra = 0;
             !done && d->bytesIn != before && extra < kStopBacklogMaxMs / kStopGraceMs; ++extra) {
            before = d->bytesIn;
            done = d->waitIngestDone(kStopGraceMs);
        }
        if (!done) {
            d->helper.sendSignal(SIGTERM);
            if (!d->waitIngestDone(1000)) {
                d->helper.sendSignal(SIGKILL);
                if (!d->waitIngestDone(1000))
                    shutdown(d->helper.socketFd(), SHUT_RDWR);
            }
        }
        d->ingest.join();
    }
    d->helper.terminate(1000);
    // The previous ring file is finished before the last one, so the ring is complete on disk
    // when stop() returns.
    if (const QString closeError = d->joinCloser(); !closeError.isEmpty())
        emit failed(closeError);
    if (d->writer) {
        std::lock_guard lock(d->mutex);
        d->info.stoppedNs = realtimeNs();
        d->fillCounters(d->info);
        d->writer->setInfo(d->info);
    }
    QString err;
    if (d->writer && !d->writer->close(&err))
        emit failed(err);
    if (d->writer) {
        std::lock_guard lock(d->mutex);
        d->lastStats.bytesWritten = quint64(d->closedBytes + QFileInfo(d->sessionPath).size());
    }
    d->writer.reset();
    if (wasRunning)
        emit stopped();
}

} // namespace tcpscope
