// SPDX-License-Identifier: GPL-3.0-or-later
#include "cli_capture_loop.h"

#include "cli_commands.h"

#include "capture/live_capture.h"

#include <QCoreApplication>
#include <QSocketNotifier>
#include <QTimer>

#include <cerrno>
#include <sys/socket.h>
#include <unistd.h>

namespace tcpscope::cli {

namespace {

int g_signalWriteFd = -1;

extern "C" void onStopSignal(int)
{
    const int saved = errno;
    const char byte = 1;
    [[maybe_unused]] auto n = write(g_signalWriteFd, &byte, 1);
    errno = saved;
}

} // namespace

bool StopSignals::install()
{
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds) != 0)
        return false;
    m_read.reset(fds[0]);
    m_write.reset(fds[1]);
    g_signalWriteFd = m_write.get();
    struct sigaction sa
    {
    };
    sa.sa_handler = onStopSignal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    for (int i = 0; i < kCount; ++i)
        sigaction(kSignals[i], &sa, &m_old[i]);
    m_installed = true;
    return true;
}

StopSignals::~StopSignals()
{
    if (m_installed) {
        for (int i = 0; i < kCount; ++i)
            sigaction(kSignals[i], &m_old[i], nullptr);
        g_signalWriteFd = -1;
    }
}

int startFailureExit(CaptureFailure failure)
{
    switch (failure) {
    case CaptureFailure::Permission:
        return kExitNoPermission;
    case CaptureFailure::Kernel:
        return kExitUnavailable;
    case CaptureFailure::BadFilter:
        return kExitUsage; // like a filter refused before the capture starts
    default:
        return kExitFailure;
    }
}

QString runCaptureLoop(QCoreApplication *app, LiveCapture &capture, const StopSignals &stopSignals,
                       double seconds)
{
    return runCaptureLoop(app, std::vector<LiveCapture *>{&capture}, stopSignals, seconds);
}

QString runCaptureLoop(QCoreApplication *app, const std::vector<LiveCapture *> &captures,
                       const StopSignals &stopSignals, double seconds)
{
    QString failure;
    // The connections end with this function (a failure reported during the caller's stop()
    // must not reach `failure` once it is gone).
    QObject context;
    for (LiveCapture *capture : captures) {
        QObject::connect(capture, &LiveCapture::failed, &context,
                         [&failure, app](const QString &reason) {
                             if (failure.isEmpty())
                                 failure = reason;
                             app->quit();
                         });
    }
    QSocketNotifier notifier(stopSignals.readFd(), QSocketNotifier::Read);
    QObject::connect(&notifier, &QSocketNotifier::activated, app, [app] { app->quit(); });
    QTimer stopTimer;
    if (seconds > 0) {
        stopTimer.setSingleShot(true);
        stopTimer.setTimerType(Qt::PreciseTimer); // a coarse timer may fire 5% early
        QObject::connect(&stopTimer, &QTimer::timeout, app, [app] { app->quit(); });
        stopTimer.start(qint64(seconds * 1000));
    }
    app->exec();
    return failure;
}

HostCaptures::HostCaptures() = default;
HostCaptures::~HostCaptures() = default;

int HostCaptures::start(QCoreApplication *app, const QVector<Host> &hosts,
                        const CaptureOptions &options, const std::optional<AlertConfig> &alerts,
                        const QString &cannotStart, const Setup &setup)
{
    for (qsizetype i = 0; i < hosts.size(); ++i) {
        const Host &host = hosts[i];
        auto capture = std::make_unique<LiveCapture>();
        capture->setAlertConfig(alerts);
        if (setup)
            setup(*capture, i);
        capture->setRemote(host.target);
        QObject::connect(
            capture.get(), &LiveCapture::helperMessage, app,
            [label = host.label](const QString &text, bool warning) {
                if (warning)
                    printErr((label.isEmpty()
                                  ? QStringLiteral("helper: ")
                                  : QStringLiteral("helper on ") + label + QStringLiteral(": ")) +
                             text);
            },
            Qt::DirectConnection);
        QString error;
        if (!capture->start(host.file, options, &error)) {
            printErr(cannotStart +
                     (host.label.isEmpty() ? QString() : QLatin1Char(' ') + host.label) +
                     QStringLiteral(": ") + error);
            const int exit = startFailureExit(capture->lastFailure());
            stopAll();
            return exit;
        }
        m_captures.push_back(std::move(capture));
    }
    return kExitOk;
}

QString HostCaptures::run(QCoreApplication *app, const StopSignals &stopSignals, double seconds)
{
    std::vector<LiveCapture *> running;
    for (auto &c : m_captures)
        running.push_back(c.get());
    QString failure = runCaptureLoop(app, running, stopSignals, seconds);
    stopAll();
    QCoreApplication::processEvents(); // the last publish's queued signals
    return failure;
}

std::vector<CaptureStats> HostCaptures::stats() const
{
    std::vector<CaptureStats> out;
    for (const auto &c : m_captures)
        out.push_back(c->stats());
    return out;
}

void HostCaptures::stopAll()
{
    for (auto &c : m_captures)
        c->stop();
}

} // namespace tcpscope::cli
