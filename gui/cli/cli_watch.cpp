// SPDX-License-Identifier: GPL-3.0-or-later
// `tcpscope watch`: the detectors (core/detect) on a live capture or on a session file, one line
// (or JSON object) per alert, an optional command run per alert, exit 3 after a high one.
#include "cli_capture_loop.h"
#include "cli_commands.h"

#include "capture/live_capture.h"
#include "detect/session_alerts.h"
#include "export/text_escape.h"
#include "output_file.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTimer>

#include <cstdio>
#include <memory>
#include <unistd.h>

namespace tcpscope::cli {

namespace {

const QString kCmd = QStringLiteral("watch");
constexpr int kExitHighAlert = 3;

// Runs --exec's command per alert, at most kBurst at once and on average one a second, so a
// flood of alerts cannot become a flood of processes. Alerts over the limit are counted.
class AlertCommand
{
public:
    explicit AlertCommand(QString command) : m_command(std::move(command)) { m_clock.start(); }
    ~AlertCommand()
    {
        // The commands still running get 5 s together to finish.
        QElapsedTimer left;
        left.start();
        for (QProcess *p : std::as_const(m_running)) {
            p->waitForFinished(int(std::max<qint64>(0, 5000 - left.elapsed())));
            delete p; // kills it if it is still running
        }
    }
    bool active() const { return !m_command.isEmpty(); }
    quint64 skipped() const { return m_skipped; }
    quint64 failed() const { return m_failed; }

    void run(const QByteArray &json)
    {
        reap();
        // Token bucket: one token a second, at most kBurst saved.
        const double now = m_clock.elapsed() / 1000.0;
        m_tokens = std::min<double>(kBurst, m_tokens + (now - m_lastRefill));
        m_lastRefill = now;
        if (m_tokens < 1 || m_running.size() >= kBurst) {
            ++m_skipped;
            return;
        }
        m_tokens -= 1;
        auto *p = new QProcess;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("TCPSCOPE_ALERT"), QString::fromUtf8(json));
        p->setProcessEnvironment(env);
        // Its output goes to stderr: stdout carries only alerts (--json lines stay parseable).
        p->setProcessChannelMode(QProcess::ForwardedErrorChannel);
        p->setStandardOutputFile(QStringLiteral("/dev/stderr"));
        p->setStandardInputFile(QProcess::nullDevice());
        p->start(QStringLiteral("/bin/sh"), {QStringLiteral("-c"), m_command});
        if (!p->waitForStarted(2000)) {
            ++m_failed;
            if (m_failed == 1)
                printErr(
                    QStringLiteral("watch: --exec: cannot run /bin/sh: %1").arg(p->errorString()));
            delete p;
            return;
        }
        m_running.append(p);
    }

    void reap()
    {
        for (qsizetype i = m_running.size() - 1; i >= 0; --i) {
            QProcess *p = m_running.at(i);
            if (p->state() == QProcess::NotRunning || p->waitForFinished(0)) {
                if (p->exitStatus() != QProcess::NormalExit || p->exitCode() != 0)
                    ++m_failed;
                m_running.removeAt(i);
                delete p;
            }
        }
    }

private:
    static constexpr int kBurst = 5;
    QString m_command;
    QElapsedTimer m_clock;
    double m_tokens = kBurst;
    double m_lastRefill = 0;
    QVector<QProcess *> m_running;
    quint64 m_skipped = 0;
    quint64 m_failed = 0;
};

struct Printer
{
    bool json = false;
    AlertCommand *command = nullptr;
    quint64 count = 0;
    quint64 high = 0;

    // host: who raised it when several hosts (or a remote one) are watched; "" = this one.
    void print(const Alert &a, const QString &host = {})
    {
        ++count;
        if (a.severity == AlertSeverity::High)
            ++high;
        QJsonObject o = alertToJson(a);
        if (!host.isEmpty())
            o.insert(QStringLiteral("host"), host);
        const QByteArray object = QJsonDocument(o).toJson(QJsonDocument::Compact);
        if (json)
            printOut(QString::fromUtf8(object) + QLatin1Char('\n'));
        else
            printOut(escapeControls(host.isEmpty()
                                        ? alertLine(a)
                                        : QStringLiteral("[%1] %2").arg(host, alertLine(a)),
                                    LineBreaks::Escape) +
                     QLatin1Char('\n'));
        if (command && command->active())
            command->run(object);
    }
};

QString detectorList()
{
    QString out = QStringLiteral("Detectors (name, default severity, what fires it):\n");
    for (const DetectorInfo &d : builtinDetectors())
        out += QStringLiteral("  %1 %2 %3\n")
                   .arg(d.kind, -18)
                   .arg(alertSeverityName(d.severity), -7)
                   .arg(d.description);
    out += QStringLiteral("\nSettings (set NAME = VALUE in a rules file; default):\n");
    for (const DetectorParameter &p : detectorParameters()) {
        const QString value =
            p.isDuration
                ? (p.defaultValue >= 1e9 ? QStringLiteral("%1s").arg(p.defaultValue / 1e9)
                                         : QStringLiteral("%1ms").arg(p.defaultValue / 1e6))
                : QString::number(p.defaultValue);
        out += QStringLiteral("  %1 = %2  %3\n").arg(p.name, -36).arg(value, -6).arg(p.description);
    }
    out += QStringLiteral("  %1 = %2\n  %3  drop reasons drop_surge leaves out (housekeeping and "
                          "firewall policy)\n")
               .arg(QStringLiteral("drop_surge.ignore"), -36)
               .arg(AlertConfig::defaultIgnoredDrops().join(QStringLiteral(", ")))
               .arg(QString(), 36);
    return out;
}

int replay(const QString &path, const AlertConfig &config, Printer &printer)
{
    std::unique_ptr<Session> session = openSession(path);
    if (!session)
        return kExitUsage;
    ReplayStats stats;
    detectAlerts(*session, config, &stats, [&](const Alert &a) {
        printer.print(a);
        return true;
    });
    if (!stats.error.isEmpty())
        printErr(QStringLiteral("watch: %1: %2 (alerts from what could be read)")
                     .arg(path, stats.error));
    printErr(QStringLiteral("watch: %1 alert%2 (%3 high, %4 suppressed by throttling) from %5 "
                            "records")
                 .arg(printer.count)
                 .arg(printer.count == 1 ? QString() : QStringLiteral("s"))
                 .arg(printer.high)
                 .arg(stats.suppressed)
                 .arg(stats.items));
    return printer.high > 0 ? kExitHighAlert : kExitOk;
}

} // namespace

int runWatch(const QStringList &args, int argc, char **argv)
{
    QCommandLineParser parser;
    const QCommandLineOption rules(QStringLiteral("rules"), QString(), QStringLiteral("FILE"));
    const QCommandLineOption json(QStringLiteral("json"), QString());
    const QCommandLineOption duration({QStringLiteral("d"), QStringLiteral("duration")}, QString(),
                                      QStringLiteral("SECONDS"));
    const QCommandLineOption exec(QStringLiteral("exec"), QString(), QStringLiteral("CMD"));
    const QCommandLineOption read({QStringLiteral("r"), QStringLiteral("read")}, QString(),
                                  QStringLiteral("FILE"));
    const QCommandLineOption output({QStringLiteral("o"), QStringLiteral("output")}, QString(),
                                    QStringLiteral("FILE"));
    const QCommandLineOption force({QStringLiteral("f"), QStringLiteral("force")}, QString());
    const QCommandLineOption check(QStringLiteral("check"), QString());
    const QCommandLineOption list(QStringLiteral("list-detectors"), QString());
    const QCommandLineOption quiet({QStringLiteral("q"), QStringLiteral("quiet")}, QString());
    const QCommandLineOption remote(QStringLiteral("remote"), QString(), QStringLiteral("DEST"));
    const QCommandLineOption remoteHelper(QStringLiteral("remote-helper"), QString(),
                                          QStringLiteral("PATH"));
    const QCommandLineOption local(QStringLiteral("local"), QString());
    parser.addOptions({rules, json, duration, exec, read, output, force, check, list, quiet, remote,
                       remoteHelper, local});
    if (!parser.parse(args))
        return usageError(kCmd, parser.errorText());
    if (!parser.positionalArguments().isEmpty())
        return usageError(kCmd, QStringLiteral("unexpected argument '%1' (a session file goes "
                                               "after -r)")
                                    .arg(parser.positionalArguments().first()));
    if (parser.isSet(list)) {
        printOut(detectorList());
        return kExitOk;
    }
    AlertConfig config;
    if (parser.isSet(rules) && !loadAlertConfig(kCmd, parser.value(rules), &config))
        return kExitUsage;
    if (parser.isSet(check)) {
        printOut(QStringLiteral("%1 rule%2 and %3 detectors: OK\n")
                     .arg(config.rules().size())
                     .arg(config.rules().size() == 1 ? QString() : QStringLiteral("s"))
                     .arg(builtinDetectors().size()));
        return kExitOk;
    }
    double seconds = 0;
    if (!durationOption(kCmd, parser, duration, &seconds))
        return kExitUsage;
    if (parser.isSet(read) && (parser.isSet(output) || parser.isSet(duration) ||
                               parser.isSet(remote) || parser.isSet(local)))
        return usageError(kCmd, QStringLiteral("-r reads a session file; it cannot be combined "
                                               "with %1")
                                    .arg(parser.isSet(output)     ? QStringLiteral("-o")
                                         : parser.isSet(duration) ? QStringLiteral("--duration")
                                         : parser.isSet(remote)   ? QStringLiteral("--remote")
                                                                  : QStringLiteral("--local")));
    // The hosts watched: this one (nullopt) unless --remote names others; with --local too.
    QVector<std::optional<RemoteTarget>> hosts;
    {
        if (!hostOptions(kCmd, parser, remote, remoteHelper, local, &hosts))
            return kExitUsage;
        if (hosts.size() > 1 && parser.isSet(output))
            return usageError(kCmd, QStringLiteral("-o keeps one host's capture; with several "
                                                   "hosts use tcpscope record --remote ... "
                                                   "--rules FILE"));
    }

    std::unique_ptr<QCoreApplication> ownApp;
    if (!QCoreApplication::instance())
        ownApp = std::make_unique<QCoreApplication>(argc, argv);
    QCoreApplication *app = QCoreApplication::instance();

    AlertCommand command(parser.value(exec));
    Printer printer;
    printer.json = parser.isSet(json);
    printer.command = &command;
    auto finish = [&](int code) {
        command.reap();
        if (command.skipped() > 0)
            printErr(QStringLiteral("watch: --exec left out for %1 alerts (at most 5 at once and "
                                    "one a second)")
                         .arg(command.skipped()));
        if (command.failed() > 0)
            printErr(QStringLiteral("watch: --exec: %1 runs failed or exited non-zero")
                         .arg(command.failed()));
        return code;
    };
    if (parser.isSet(read))
        return finish(replay(parser.value(read), config, printer));

    // Live: the capture goes to -o FILE, or to a small ring in a private temporary directory
    // that is removed at the end (the detectors need the records, not the file). Each host
    // watched has its own capture (and detectors: an alert is about one host's sockets).
    QString file = parser.value(output);
    QTemporaryDir tempDir;
    RotationLimits rotation;
    if (file.isEmpty()) {
        if (!tempDir.isValid()) {
            printErr(QStringLiteral("watch: cannot create a temporary directory: %1")
                         .arg(tempDir.errorString()));
            return kExitFailure;
        }
        rotation.maxBytes = 64LL * 1024 * 1024;
        rotation.keep = 2;
    } else {
        QString why;
        if (!checkSessionOutput(file, parser.isSet(force), &why)) {
            printErr(QStringLiteral("watch: ") + why);
            return kExitUsage;
        }
    }
    StopSignals stopSignals;
    if (!stopSignals.install()) {
        printErr(QStringLiteral("watch: cannot set up signal handling"));
        return kExitFailure;
    }
    // The captures run the detectors on every record they publish (and store the alerts in
    // their files); this prints them as they come, named by host when it is not only this one.
    const bool label = hosts.size() > 1 || hosts.first().has_value();
    QVector<HostCaptures::Host> watched;
    for (qsizetype i = 0; i < hosts.size(); ++i) {
        const std::optional<RemoteTarget> &host = hosts[i];
        watched.append(
            {host, label ? (host ? host->destination : QStringLiteral("local")) : QString(),
             file.isEmpty() ? tempDir.filePath(QStringLiteral("watch-%1.tcpscope").arg(i)) : file});
    }
    HostCaptures captures;
    if (const int exit = captures.start(
            app, watched, CaptureOptions{}, config, QStringLiteral("cannot watch"),
            [&](LiveCapture &capture, qsizetype i) {
                capture.setRotation(rotation);
                QObject::connect(&capture, &LiveCapture::alertsRaised, app,
                                 [&, name = watched[i].label](const QVector<Alert> &alerts) {
                                     for (const Alert &a : alerts)
                                         printer.print(a, name);
                                     command.reap();
                                 });
            });
        exit != kExitOk)
        return exit;
    if (!parser.isSet(quiet)) {
        QStringList names;
        for (const auto &h : hosts)
            names << (h ? h->destination : QStringLiteral("this machine"));
        printErr(QStringLiteral("watch: watching every TCP connection%1%2; Ctrl-C stops")
                     .arg(label ? QStringLiteral(" on %1").arg(names.join(QStringLiteral(", ")))
                                : QString(),
                          seconds > 0 ? QStringLiteral(" for %1 s").arg(seconds) : QString()));
    }
    QElapsedTimer elapsed;
    elapsed.start();
    const QString failure = captures.run(app, stopSignals, seconds);
    quint64 suppressed = 0, connections = 0, records = 0, lost = 0;
    for (const CaptureStats &s : captures.stats()) {
        suppressed += s.alertsSuppressed;
        connections += s.connectionsSeen;
        records += s.recordsReceived;
        lost += s.lostRecords + s.readerDropped;
    }
    if (!parser.isSet(quiet))
        printErr(QStringLiteral("watch: %1 alert%2 (%3 high, %4 suppressed by throttling) in "
                                "%5 s: %6 connections, %7 records, %8 lost")
                     .arg(printer.count)
                     .arg(printer.count == 1 ? QString() : QStringLiteral("s"))
                     .arg(printer.high)
                     .arg(suppressed)
                     .arg(elapsed.elapsed() / 1000.0, 0, 'f', 1)
                     .arg(connections)
                     .arg(records)
                     .arg(lost));
    if (!failure.isEmpty()) {
        printErr(QStringLiteral("watch: the capture failed: %1").arg(failure));
        return finish(kExitFailure);
    }
    return finish(printer.high > 0 ? kExitHighAlert : kExitOk);
}

} // namespace tcpscope::cli
