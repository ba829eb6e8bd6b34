// SPDX-License-Identifier: GPL-3.0-or-later
#include "cli_capture_loop.h"
#include "cli_commands.h"
#include "cli_pcapng_stream.h"
#include "cli_record_hosts.h"

#include "capture/live_capture.h"
#include "output_file.h"
#include "unique_fd.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QTimer>
#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <memory>
#include <mutex>
#include <sys/socket.h>
#include <unistd.h>

namespace tcpscope::cli {

namespace {

const QString kCmd = QStringLiteral("record");

} // namespace

int runRecord(const QStringList &args, int argc, char **argv)
{
    QCommandLineParser parser;
    const QCommandLineOption output({QStringLiteral("o"), QStringLiteral("output")}, QString(),
                                    QStringLiteral("FILE"));
    const QCommandLineOption duration({QStringLiteral("d"), QStringLiteral("duration")}, QString(),
                                      QStringLiteral("SECONDS"));
    const QCommandLineOption quiet({QStringLiteral("q"), QStringLiteral("quiet")}, QString());
    const QCommandLineOption force({QStringLiteral("f"), QStringLiteral("force")}, QString());
    const QCommandLineOption filter(QStringLiteral("filter"), QString(), QStringLiteral("EXPR"));
    const QCommandLineOption noPackets(QStringLiteral("no-packets"), QString());
    const QCommandLineOption snap(QStringLiteral("snap"), QString(), QStringLiteral("BYTES"));
    const QCommandLineOption noTcpInfo(QStringLiteral("no-tcpinfo"), QString());
    const QCommandLineOption sampleInterval(QStringLiteral("sample-interval"), QString(),
                                            QStringLiteral("USEC"));
    const QCommandLineOption rotate(QStringLiteral("rotate"), QString(),
                                    QStringLiteral("SIZE|DURATION"));
    const QCommandLineOption keep(QStringLiteral("keep"), QString(), QStringLiteral("N"));
    const QCommandLineOption stopAfter(QStringLiteral("stop-after"), QString(),
                                       QStringLiteral("SIZE|DURATION|COUNTconn"));
    const QCommandLineOption maxStall(QStringLiteral("max-stall"), QString(),
                                      QStringLiteral("SECONDS"));
    const QCommandLineOption rules(QStringLiteral("rules"), QString(), QStringLiteral("FILE"));
    const QCommandLineOption noAlerts(QStringLiteral("no-alerts"), QString());
    const QCommandLineOption trigger(QStringLiteral("trigger"), QString(),
                                     QStringLiteral("kind:KIND|EXPR"));
    const QCommandLineOption pre(QStringLiteral("pre"), QString(), QStringLiteral("SECONDS"));
    const QCommandLineOption post(QStringLiteral("post"), QString(), QStringLiteral("SECONDS"));
    const QCommandLineOption ringMib(QStringLiteral("ring-mib"), QString(), QStringLiteral("M"));
    const QCommandLineOption remote(QStringLiteral("remote"), QString(), QStringLiteral("DEST"));
    const QCommandLineOption remoteHelper(QStringLiteral("remote-helper"), QString(),
                                          QStringLiteral("PATH"));
    const QCommandLineOption pcapngOut(QStringLiteral("pcapng-out"), QString(),
                                       QStringLiteral("PATH"));
    const QCommandLineOption local(QStringLiteral("local"), QString());
    parser.addOptions({output,   duration,  quiet,          force,     filter, noPackets,
                       snap,     noTcpInfo, sampleInterval, rotate,    keep,   stopAfter,
                       maxStall, rules,     noAlerts,       trigger,   pre,    post,
                       ringMib,  remote,    remoteHelper,   pcapngOut, local});
    if (!parser.parse(args))
        return usageError(kCmd, parser.errorText());
    if (!parser.positionalArguments().isEmpty())
        return usageError(kCmd, QStringLiteral("unexpected argument '%1' (the file goes after -o)")
                                    .arg(parser.positionalArguments().first()));
    if (!parser.isSet(output) || parser.value(output).isEmpty())
        return usageError(kCmd, QStringLiteral("missing -o FILE"));
    const QString file = parser.value(output);
    // One remote host: its session alone. Several, or one with --local: one session of every
    // host (cli_record_hosts.cpp), this one first.
    std::optional<RemoteTarget> remoteTarget;
    QVector<std::optional<RemoteTarget>> hostList;
    if (!hostOptions(kCmd, parser, remote, remoteHelper, local, &hostList))
        return kExitUsage;
    if (hostList.size() == 1) {
        remoteTarget = hostList.first(); // this machine (nullopt) or one remote host
        hostList.clear();
    }
    RotationLimits rotation;
    if (parser.isSet(rotate)) {
        if (parser.values(rotate).size() > 1)
            return usageError(kCmd, QStringLiteral("--rotate: give it once (a size or a "
                                                   "duration)"));
        QString why;
        const std::optional<RotationLimits> r = parseRotation(parser.value(rotate), &why);
        if (!r)
            return usageError(kCmd, why);
        rotation = *r;
    }
    if (parser.isSet(keep)) {
        if (!rotation.active())
            return usageError(kCmd, QStringLiteral("--keep needs --rotate (it counts the files "
                                                   "of a ring)"));
        const QString text = parser.value(keep);
        bool ok = !text.isEmpty() && text.size() <= 9 &&
                  std::all_of(text.cbegin(), text.cend(), [](QChar ch) {
                      return ch >= QLatin1Char('0') && ch <= QLatin1Char('9');
                  });
        rotation.keep = ok ? text.toInt(&ok) : 0;
        if (!ok || rotation.keep < 1)
            return usageError(
                kCmd, QStringLiteral("--keep: expected a number of files of at least 1, got '%1'")
                          .arg(text));
    }
    QVector<StopCondition> stops;
    for (const QString &text : parser.values(stopAfter)) {
        QString why;
        const std::optional<StopCondition> c = parseStopCondition(text, &why);
        if (!c)
            return usageError(kCmd, why);
        stops.append(*c);
    }
    // A ring's files get new names (an existing one is never overwritten); only a single file
    // replaces what is at FILE.
    // record runs as root: a typo like `-o /etc/hosts` must not destroy a file, and a device,
    // socket, directory or symlink is never written, --force or not (output_file.h).
    QString overwriteWhy;
    if (!rotation.active() && !checkSessionOutput(file, parser.isSet(force), &overwriteWhy)) {
        printErr(QStringLiteral("record: ") + overwriteWhy);
        return kExitUsage;
    }
    double seconds = 0;
    if (!durationOption(kCmd, parser, duration, &seconds))
        return kExitUsage;

    CaptureOptions options;
    options.packets = !parser.isSet(noPackets);
    options.filter = parser.value(filter);
    if (parser.isSet(snap)) {
        bool ok = false;
        options.snapLen = parser.value(snap).toInt(&ok);
        if (!ok || options.snapLen < 0 || options.snapLen > TS_SNAP_MAX)
            return usageError(kCmd,
                              QStringLiteral("--snap: expected 0 to %1 payload bytes, got '%2'")
                                  .arg(TS_SNAP_MAX)
                                  .arg(parser.value(snap)));
    }
    // Owner terms select connections too, so they go with --no-packets; packet terms do not.
    bool packetTerms = parser.isSet(filter);
    if (packetTerms) {
        CaptureOptions withPackets = options;
        withPackets.packets = true;
        QString ignored;
        OwnerTerms owners;
        const auto start = buildStartOptions(withPackets, &ignored, &owners);
        // A filter that does not parse is reported as such below.
        packetTerms =
            start && (!start->ports.empty() || !start->nets.empty() || !start->interfaces.empty() ||
                      (!start->hasOwnerTerms() && owners.isEmpty()));
    }
    if (!options.packets && (packetTerms || options.snapLen > 0))
        return usageError(kCmd, QStringLiteral("--no-packets cannot be combined with %1 (they "
                                               "select packets)")
                                    .arg(packetTerms ? QStringLiteral("--filter's packet terms")
                                                     : QStringLiteral("--snap")));
    options.tcpInfo = !parser.isSet(noTcpInfo);
    if (parser.isSet(sampleInterval)) {
        if (!options.tcpInfo)
            return usageError(kCmd, QStringLiteral("--no-tcpinfo cannot be combined with "
                                                   "--sample-interval (no samples are taken)"));
        // Digits only: "1e3", "-1", " 5" or "1000us" are mistakes, not numbers to guess at.
        const QString text = parser.value(sampleInterval);
        bool ok = !text.isEmpty() && std::all_of(text.cbegin(), text.cend(), [](QChar ch) {
            return ch >= QLatin1Char('0') && ch <= QLatin1Char('9');
        });
        const qulonglong usec = ok ? text.toULongLong(&ok) : 0;
        if (!ok || usec > wire::StartOptions::kMaxSampleIntervalUs)
            return usageError(kCmd, QStringLiteral("--sample-interval: expected 0 (every sample) "
                                                   "to %1 microseconds, got '%2'")
                                        .arg(wire::StartOptions::kMaxSampleIntervalUs)
                                        .arg(text));
        options.sampleIntervalUs = quint32(usec);
    }
    if (parser.isSet(maxStall)) {
        bool ok = false;
        const double seconds = parser.value(maxStall).toDouble(&ok);
        const double maxSeconds = wire::StartOptions::kMaxStallMs / 1000.0;
        if (!ok || !(seconds >= 0.001 && seconds <= maxSeconds))
            return usageError(kCmd, QStringLiteral("--max-stall: expected 0.001 to %1 seconds, "
                                                   "got '%2'")
                                        .arg(maxSeconds)
                                        .arg(parser.value(maxStall)));
        options.maxStallMs = quint32(std::llround(seconds * 1000));
    }
    {
        // Checked here, before root work starts, so a typo is a usage error (exit 2).
        QString why;
        if (!buildStartOptions(options, &why))
            return usageError(kCmd, why);
    }
    std::optional<AlertConfig> alertConfig = AlertConfig();
    if (parser.isSet(noAlerts)) {
        if (parser.isSet(rules))
            return usageError(kCmd, QStringLiteral("--no-alerts cannot be combined with --rules"));
        alertConfig.reset();
    } else if (parser.isSet(rules) && !loadAlertConfig(kCmd, parser.value(rules), &*alertConfig)) {
        return kExitUsage;
    }
    std::optional<TriggerSettings> triggerSettings;
    if (parser.isSet(trigger)) {
        TriggerSettings t;
        t.trigger = parser.value(trigger).trimmed();
        if (!alertConfig)
            return usageError(kCmd,
                              QStringLiteral("--trigger needs the detectors (not --no-alerts)"));
        if (rotation.active())
            return usageError(kCmd, QStringLiteral("--trigger cannot be combined with --rotate "
                                                   "(a triggered capture writes one file)"));
        if (!options.packets)
            return usageError(kCmd, QStringLiteral("--trigger keeps packets around each trigger; "
                                                   "it cannot be combined with --no-packets"));
        const QString kind = t.alertKind();
        if (t.trigger.startsWith(QLatin1String("kind:"))) {
            bool known = std::any_of(builtinDetectors().begin(), builtinDetectors().end(),
                                     [&](const DetectorInfo &d) { return d.kind == kind; }) ||
                         std::any_of(alertConfig->rules().begin(), alertConfig->rules().end(),
                                     [&](const AlertRule &r) { return r.name == kind; });
            if (!known)
                return usageError(kCmd, QStringLiteral("--trigger: no detector or rule named '%1' "
                                                       "(tcpscope watch --list-detectors)")
                                            .arg(kind));
            if (!alertConfig->enabled(kind) &&
                std::any_of(builtinDetectors().begin(), builtinDetectors().end(),
                            [&](const DetectorInfo &d) { return d.kind == kind; }))
                return usageError(kCmd, QStringLiteral("--trigger: the detector '%1' is disabled "
                                                       "in the rules file")
                                            .arg(kind));
        } else if (const auto e = DisplayFilter::check(t.trigger, FilterTarget::Packets)) {
            return usageError(kCmd, QStringLiteral("--trigger: %1").arg(e->message));
        }
        auto seconds = [&](const QCommandLineOption &o, qint64 *ns) {
            if (!parser.isSet(o))
                return true;
            bool ok = false;
            const double v = parser.value(o).toDouble(&ok);
            if (!ok || !(v >= 0) || v > 3600)
                return false;
            *ns = qint64(v * 1e9);
            return true;
        };
        if (!seconds(pre, &t.preNs) || !seconds(post, &t.postNs))
            return usageError(kCmd, QStringLiteral("--pre/--post: expected 0 to 3600 seconds"));
        if (parser.isSet(ringMib)) {
            bool ok = false;
            const int mib = parser.value(ringMib).toInt(&ok);
            if (!ok || mib < 1 || mib > 65536)
                return usageError(kCmd, QStringLiteral("--ring-mib: expected 1 to 65536 MiB, "
                                                       "got '%1'")
                                            .arg(parser.value(ringMib)));
            t.ringBytes = qint64(mib) * 1024 * 1024;
        }
        triggerSettings = t;
    } else if (parser.isSet(pre) || parser.isSet(post) || parser.isSet(ringMib)) {
        return usageError(kCmd, QStringLiteral("--pre, --post and --ring-mib go with --trigger"));
    }

    QString streamPath;
    if (parser.isSet(pcapngOut)) {
        if (parser.values(pcapngOut).size() > 1)
            return usageError(kCmd, QStringLiteral("--pcapng-out: give it once"));
        streamPath = parser.value(pcapngOut);
        if (streamPath.isEmpty())
            return usageError(kCmd, QStringLiteral("--pcapng-out: empty path"));
        if (!options.packets)
            return usageError(kCmd, QStringLiteral("--pcapng-out streams packets; it cannot be "
                                                   "combined with --no-packets"));
        if (triggerSettings)
            return usageError(kCmd, QStringLiteral("--pcapng-out cannot be combined with "
                                                   "--trigger (it streams every packet)"));
        QString why;
        if (!checkOutputPath(streamPath, OutputUse::Stream, &why)) {
            printErr(QStringLiteral("record: --pcapng-out ") + why);
            return kExitUsage;
        }
    }

    if (!hostList.isEmpty()) {
        // Several hosts record one file each, merged at the end: what needs one stream of
        // records (a ring of files, a trigger, a live pcapng, counters to stop at) is refused.
        const char *single = rotation.active()       ? "--rotate"
                             : triggerSettings       ? "--trigger"
                             : !streamPath.isEmpty() ? "--pcapng-out"
                             : !stops.isEmpty()      ? "--stop-after"
                                                     : nullptr;
        if (single)
            return usageError(kCmd, QStringLiteral("%1 records one host: it cannot be combined "
                                                   "with several hosts (--remote more than once, "
                                                   "or with --local)")
                                        .arg(QLatin1String(single)));
    }
    std::unique_ptr<QCoreApplication> ownApp;
    if (!QCoreApplication::instance())
        ownApp = std::make_unique<QCoreApplication>(argc, argv);
    QCoreApplication *app = QCoreApplication::instance();
    if (!hostList.isEmpty()) {
        StopSignals hostSignals;
        if (!hostSignals.install()) {
            printErr(QStringLiteral("record: cannot set up signal handling"));
            return kExitFailure;
        }
        HostsRecording r;
        r.file = file;
        r.quiet = parser.isSet(quiet);
        r.hosts = hostList;
        r.options = options;
        r.alerts = alertConfig;
        r.seconds = seconds;
        return recordHosts(app, hostSignals, r);
    }

    // Opened before anything starts: a FIFO waits here for its reader (Wireshark), and until
    // then a signal ends record with nothing to clean up.
    std::unique_ptr<PcapngStream> stream;
    if (!streamPath.isEmpty()) {
        // A reader that goes away is an error from write() (EPIPE), not a fatal signal.
        std::signal(SIGPIPE, SIG_IGN);
        QString why;
        stream = PcapngStream::open(streamPath, &why);
        if (!stream) {
            printErr(QStringLiteral("record: --pcapng-out ") + why);
            return kExitFailure;
        }
    }
    // With the packets on stdout, record's own messages all go to stderr.
    const auto say = [&stream](const QString &text) {
        if (stream && stream->toStdout()) {
            const QByteArray bytes = text.toLocal8Bit();
            std::fwrite(bytes.constData(), 1, size_t(bytes.size()), stderr);
        } else {
            printOut(text);
        }
    };

    StopSignals stopSignals;
    if (!stopSignals.install()) {
        printErr(QStringLiteral("record: cannot set up signal handling"));
        return kExitFailure;
    }
    LiveCapture capture;
    capture.setRotation(rotation);
    capture.setAlertConfig(alertConfig);
    capture.setTrigger(triggerSettings);
    capture.setRemote(remoteTarget);
    // Whether packets are really captured (a helper without packet support falls back to
    // state changes only). infoReady comes from the ingest thread while start() waits.
    std::mutex infoMutex;
    SessionInfo started;
    QObject::connect(
        &capture, &LiveCapture::infoReady, app,
        [&](const SessionInfo &i) {
            std::lock_guard lock(infoMutex);
            started = i;
        },
        Qt::DirectConnection);
    // The helper's warnings (an interface it could not attach to, ...) as they happen; fwrite
    // of one line is safe from the ingest thread.
    QObject::connect(
        &capture, &LiveCapture::helperMessage, app,
        [](const QString &text, bool warning) {
            if (warning)
                printErr(QStringLiteral("helper: ") + text);
        },
        Qt::DirectConnection);
    // The stream gets each published batch on this thread (queued), connections first, so
    // every packet's owner is known; the ingest thread never waits for the reader.
    QString streamEnd;
    QTimer readerCheck;
    if (stream) {
        QObject::connect(
            &capture, &LiveCapture::connectionsUpdated, app,
            [&](const QVector<Connection> &changed) { stream->noteConnections(changed); });
        QObject::connect(
            &capture, &LiveCapture::packetsAdded, app, [&](const QVector<Packet> &packets) {
                if (!streamEnd.isEmpty() || stream->write(packets, capture.interfaces()))
                    return;
                streamEnd = stream->error();
                app->quit();
            });
        // While no packets flow, a closed FIFO (Wireshark's "stop") is noticed here.
        QObject::connect(&readerCheck, &QTimer::timeout, app, [&] {
            if (streamEnd.isEmpty() && stream->readerGone()) {
                streamEnd = QStringLiteral("%1: the reader closed it").arg(streamPath);
                app->quit();
            }
        });
    }
    QString error;
    if (!capture.start(file, options, &error)) {
        printErr(QStringLiteral("cannot record: ") + error);
        return startFailureExit(capture.lastFailure());
    }
    QElapsedTimer elapsed; // from when the kernel hooks are attached: what --duration means
    elapsed.start();
    bool packetsOn;
    {
        std::lock_guard lock(infoMutex);
        packetsOn = started.packetsCaptured;
        if (stream && !stream->begin(started)) {
            capture.stop();
            printErr(QStringLiteral("record: --pcapng-out ") + stream->error());
            return kExitFailure;
        }
        if (stream)
            readerCheck.start(200);
        for (const QString &probe : std::as_const(started.probes)) {
            if (options.packets && probe.startsWith(QLatin1String("packets=unavailable")))
                printErr(QStringLiteral("warning: recording state changes only, %1").arg(probe));
            if (options.tcpInfo && probe.startsWith(QLatin1String("kernel_metrics=unavailable")))
                printErr(QStringLiteral("warning: recording without the kernel's view (no RTT/"
                                        "cwnd samples, retransmits, resets, drops), %1")
                             .arg(probe));
        }
    }

    // --stop-after: checked a few times a second against the capture's own counters.
    QString stopReason;
    QTimer stopAfterTimer;
    if (!stops.isEmpty()) {
        QObject::connect(&stopAfterTimer, &QTimer::timeout, app, [&] {
            const CaptureStats s = capture.stats();
            for (const StopCondition &c : std::as_const(stops)) {
                if (c.bytes > 0 && s.bytesWritten >= quint64(c.bytes))
                    stopReason = QStringLiteral("%1 bytes written").arg(s.bytesWritten);
                else if (c.durationMs > 0 && elapsed.elapsed() >= c.durationMs)
                    stopReason = QStringLiteral("%1 s recorded").arg(c.durationMs / 1000.0);
                else if (c.connections > 0 && s.connectionsSeen >= quint64(c.connections))
                    stopReason = QStringLiteral("%1 connections seen").arg(s.connectionsSeen);
                if (!stopReason.isEmpty()) {
                    stopAfterTimer.stop();
                    app->quit();
                    return;
                }
            }
        });
        stopAfterTimer.start(100);
    }
    // A progress line only for a person watching a terminal; scripts get just the summary.
    const bool progress = !parser.isSet(quiet) && isatty(STDERR_FILENO);
    QTimer progressTimer;
    if (progress) {
        QObject::connect(&progressTimer, &QTimer::timeout, app, [&] {
            const CaptureStats s = capture.stats();
            std::fprintf(stderr,
                         "\rrecording %.0f s: %llu connections, %llu packets, %llu records "
                         "(%.0f/s), %llu lost   ",
                         elapsed.elapsed() / 1000.0, (unsigned long long)s.connectionsSeen,
                         (unsigned long long)s.packetsReceived,
                         (unsigned long long)s.recordsReceived, s.recordsPerSecond,
                         (unsigned long long)s.lostRecords);
            if (triggerSettings)
                std::fprintf(stderr, "| ring %.1f s (%.0f MiB), %llu windows kept   ",
                             s.triggerRingSpanNs / 1e9, s.triggerRingBytes / 1048576.0,
                             (unsigned long long)s.triggerWindows);
            std::fflush(stderr);
        });
        progressTimer.start(1000);
    }

    // A full trigger ring that holds less than --pre cannot keep the time before a trigger.
    QTimer ringCheck;
    bool ringWarned = false;
    if (triggerSettings) {
        QObject::connect(&ringCheck, &QTimer::timeout, app, [&] {
            const CaptureStats s = capture.stats();
            if (!ringWarned && s.triggerRingBytes >= triggerSettings->ringBytes * 9 / 10 &&
                s.triggerRingSpanNs < triggerSettings->preNs) {
                ringWarned = true;
                printErr(QStringLiteral("record: warning: the trigger ring holds %1 s at this "
                                        "rate, less than --pre %2 s; raise --ring-mib")
                             .arg(s.triggerRingSpanNs / 1e9, 0, 'f', 1)
                             .arg(triggerSettings->preNs / 1e9));
            }
        });
        ringCheck.start(1000);
    }
    const QString failure = runCaptureLoop(app, capture, stopSignals, seconds);
    readerCheck.stop();
    ringCheck.stop();
    progressTimer.stop();
    if (progress)
        std::fprintf(stderr, "\r\033[K");
    capture.stop(); // drains the helper and finalizes the file
    // A failure during stop() (e.g. the final write) is reported by a queued signal; the
    // last packets reach the stream the same way.
    QCoreApplication::processEvents();
    if (stream && !streamEnd.isEmpty())
        printErr(QStringLiteral("record: --pcapng-out stream ended: %1; the capture was stopped "
                                "(%2 packets streamed)")
                     .arg(streamEnd)
                     .arg(stream->packetsWritten()));

    const CaptureStats s = capture.stats();
    // Packet losses are part of "lost"; filtered packets are not losses.
    const QString packets = packetsOn ? QStringLiteral("%1 packets (%2 lost, %3 filtered out)")
                                            .arg(s.packetsReceived)
                                            .arg(s.lostPackets)
                                            .arg(s.packetsFiltered)
                                      : QStringLiteral("no packets");
    const QString kernel = options.tcpInfo
                               ? QStringLiteral(", %1 kernel samples, %2 kernel events, %3 drops")
                                     .arg(s.samplesReceived)
                                     .arg(s.kernelEventsReceived)
                                     .arg(s.dropsReceived)
                               : QString();
    const QStringList files = capture.sessionFiles();
    const QString where = rotation.active()
                              ? QStringLiteral("%1 files (%2 kept: %3 ... %4)")
                                    .arg(s.filesWritten)
                                    .arg(files.size())
                                    .arg(files.value(0), files.value(files.size() - 1))
                              : file;
    if (triggerSettings) {
        say(QStringLiteral("trigger '%1': %2 window%3 kept (%4 s of packets and samples), "
                           "%5 records outside them not kept\n")
                .arg(triggerSettings->trigger)
                .arg(s.triggerWindows)
                .arg(s.triggerWindows == 1 ? QString() : QStringLiteral("s"))
                .arg(s.triggerKeptNs / 1e9, 0, 'f', 1)
                .arg(s.triggerDiscarded));
    }
    if (!stopReason.isEmpty() && !parser.isSet(quiet))
        printErr(QStringLiteral("record: stopped after %1 (--stop-after)").arg(stopReason));
    if (s.lateRecords > 0)
        printErr(QStringLiteral("record: %1 records arrived after their connection was evicted "
                                "from memory; they are stored without a connection")
                     .arg(s.lateRecords));
    if (s.readerDropped > 0)
        printErr(QStringLiteral("record: %1 records were dropped by the helper while tcpscope did "
                                "not read in time; the file marks when (tcpscope info)")
                     .arg(s.readerDropped));
    const QString alerts = alertConfig
                               ? QStringLiteral(", %1 alert%2")
                                     .arg(s.alertsRaised)
                                     .arg(s.alertsRaised == 1 ? QString() : QStringLiteral("s"))
                               : QString();
    const QString streamed =
        stream ? QStringLiteral(", %1 packets streamed as pcapng to %2")
                     .arg(stream->packetsWritten())
                     .arg(stream->toStdout() ? QStringLiteral("stdout") : streamPath)
               : QString();
    say(QStringLiteral("recorded %1 connections, %2%3%4, %5 records, %6 lost in %7 s -> %8\n")
            .arg(s.connectionsSeen)
            .arg(packets)
            .arg(kernel, alerts)
            .arg(s.recordsReceived)
            .arg(s.lostRecords + s.readerDropped)
            .arg(elapsed.elapsed() / 1000.0, 0, 'f', 1)
            .arg(where + streamed));
    if (!failure.isEmpty()) {
        printErr(QStringLiteral("capture failed: %1 (%2 keeps what was recorded until then)")
                     .arg(failure, rotation.active() ? QStringLiteral("the ring") : file));
        return kExitFailure;
    }
    return kExitOk;
}

} // namespace tcpscope::cli
