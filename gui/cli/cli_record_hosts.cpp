// SPDX-License-Identifier: GPL-3.0-or-later
// `tcpscope record` of several hosts into one session (--remote DEST more than once, or with
// --local): one LiveCapture per host, each into its own part file in a directory made next to
// the output; at the end the parts are merged (core/session/session_merge.h) into FILE and
// removed. Every remote capture converts its records to this machine's clock as it records
// (ClockSync, "recorded" in the hosts table) and the local one is on it already, so the parts
// share one time axis without any alignment. If record is killed, the part files stay behind
// and `tcpscope merge` puts them together by hand.
#include "cli_record_hosts.h"
#include "cli_capture_loop.h"
#include "cli_commands.h"

#include "capture/live_capture.h"
#include "output_file.h"
#include "session/session_merge.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QTemporaryDir>

namespace tcpscope::cli {

namespace {

const QString kCmd = QStringLiteral("record");

// "this host" or "DEST", for messages.
QString hostLabel(const std::optional<RemoteTarget> &host)
{
    return host ? QStringLiteral("'%1'").arg(host->destination) : QStringLiteral("this host");
}

} // namespace

int recordHosts(QCoreApplication *app, const StopSignals &stopSignals, const HostsRecording &r)
{
    // The parts live beside the output (same file system: the merge writes there anyway),
    // in a directory only this process made.
    const QFileInfo out(r.file);
    QTemporaryDir parts(
        out.absoluteDir().filePath(QStringLiteral(".%1.parts-XXXXXX").arg(out.fileName())));
    if (!parts.isValid()) {
        printErr(QStringLiteral("record: cannot make a directory for the hosts' parts beside "
                                "%1: %2")
                     .arg(r.file, parts.errorString()));
        return kExitFailure;
    }
    QVector<HostCaptures::Host> hosts;
    QStringList partFiles;
    for (qsizetype i = 0; i < r.hosts.size(); ++i) {
        const std::optional<RemoteTarget> &host = r.hosts[i];
        partFiles << parts.filePath(host ? QStringLiteral("remote-%1.tcpscope").arg(i)
                                         : QStringLiteral("local.tcpscope"));
        hosts.append({host, hostLabel(host), partFiles.last()});
    }
    HostCaptures captures;
    if (const int exit =
            captures.start(app, hosts, r.options, r.alerts, QStringLiteral("cannot record on"));
        exit != kExitOk)
        return exit;
    const QString failure = captures.run(app, stopSignals, r.seconds);
    if (!failure.isEmpty())
        printErr(QStringLiteral("record: %1; merging what each host recorded").arg(failure));

    quint64 connections = 0, packets = 0, records = 0, lost = 0;
    const std::vector<CaptureStats> stats = captures.stats();
    for (qsizetype i = 0; i < r.hosts.size(); ++i) {
        const CaptureStats &s = stats[size_t(i)];
        connections += s.connectionsSeen;
        packets += s.packetsReceived;
        records += s.recordsReceived;
        lost += s.lostRecords;
        if (!r.quiet)
            printErr(QStringLiteral("record: %1: %2 connections, %3 packets, %4 records, %5 "
                                    "lost")
                         .arg(hostLabel(r.hosts[i]))
                         .arg(s.connectionsSeen)
                         .arg(s.packetsReceived)
                         .arg(s.recordsReceived)
                         .arg(s.lostRecords));
    }
    MergeOptions merge;
    merge.inputs = partFiles;
    merge.output = r.file;
    // record already decided that FILE may be replaced (an earlier session, or --force);
    // the merge replaces it whole or not at all, and never through a link or a device.
    merge.force = true;
    MergeReport report;
    QString error;
    if (!mergeSessions(merge, &report, &error, nullptr, {}, [&](const QString &line) {
            if (!r.quiet)
                printErr(QStringLiteral("record: ") + line);
        })) {
        parts.setAutoRemove(false);
        printErr(QStringLiteral("record: cannot put the hosts together: %1; their parts are "
                                "kept in %2 (tcpscope merge)")
                     .arg(error, parts.path()));
        return kExitFailure;
    }
    for (const QString &w : std::as_const(report.warnings))
        printErr(QStringLiteral("record: warning: ") + w);
    printOut(QStringLiteral("recorded %1 hosts: %2 connections, %3 packets, %4 records, %5 lost "
                            "-> %6\n")
                 .arg(r.hosts.size())
                 .arg(connections)
                 .arg(packets)
                 .arg(records)
                 .arg(lost)
                 .arg(r.file));
    return failure.isEmpty() ? kExitOk : kExitFailure;
}

} // namespace tcpscope::cli
