// SPDX-License-Identifier: GPL-3.0-or-later
#include "cli_commands.h"
#include "cli_info_json.h"
#include "cli_info_kernel.h"
#include "export/text_escape.h"

#include <QCommandLineParser>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMap>
#include <QSet>
#include <algorithm>

extern "C" {
#include "tcpscope_records.h"
}

namespace tcpscope::cli {

namespace {

// "12 (ring buffer 0, skipped program runs 12): ..." - the total and where it was lost.
QString lostLine(const SessionInfo &info)
{
    if (info.lostRecords == 0 && info.missedProgramRuns == 0)
        return QStringLiteral("0");
    // A file written by hand (or damaged) may claim more skipped runs than losses in total;
    // show what it says rather than wrap around.
    const quint64 missed = info.missedProgramRuns;
    const quint64 total = std::max(info.lostRecords, missed);
    return QStringLiteral("%1 (ring buffer %2, skipped program runs %3): the kernel dropped "
                          "records, this session is incomplete")
        .arg(total)
        .arg(total - missed)
        .arg(missed);
}

QString milliseconds(qint64 ns)
{
    return QStringLiteral("%1 ms").arg(double(std::max<qint64>(ns, 0)) / 1e6, 0, 'f', 3);
}

// How the records' arrival order compared with their time order (the reorder window).
QString orderLine(const SessionInfo &info)
{
    auto known = [](qint64 v) { return v >= 0 ? QString::number(v) : QStringLiteral("?"); };
    QString text = QStringLiteral("%1 records arrived after newer ones and were put back in time "
                                  "order (largest inversion %2; window %3)")
                       .arg(known(info.recordsReordered), milliseconds(info.maxInversionNs),
                            milliseconds(info.reorderWindowNs));
    if (info.recordsBeyondWindow > 0)
        text += QStringLiteral("; %1 later than the window, processed as they came (up to %2 "
                               "behind; durations derived from them clamped at 0)")
                    .arg(info.recordsBeyondWindow)
                    .arg(milliseconds(info.maxLateNs));
    else
        text += QStringLiteral("; none later than the window");
    if (info.recordsAfterEviction > 0)
        text += QStringLiteral("; %1 arrived after their connection was evicted and are stored "
                               "without one")
                    .arg(info.recordsAfterEviction);
    return text;
}

QString analysisText(const PacketCounts &t)
{
    return QStringLiteral("retransmissions %1 (fast %2, spurious %3), dup ACKs %4, out-of-order "
                          "%5, lost segments %6, zero windows %7, window full %8, keep-alives %9, "
                          "resets %10")
        .arg(t.retransmissions)
        .arg(t.fastRetransmissions)
        .arg(t.spuriousRetransmissions)
        .arg(t.dupAcks)
        .arg(t.outOfOrder)
        .arg(t.lostSegments)
        .arg(t.zeroWindows)
        .arg(t.windowFull)
        .arg(t.keepAlives)
        .arg(t.resets);
}

void packetLines(const SessionInfo &info, const ConnectionTotals &totals, const LineFn &line)
{
    if (!info.packetsCaptured) {
        line("Packets:", QStringLiteral("not captured (--no-packets, packet capture unavailable "
                                        "(see Probes), or a file from before packet capture)"));
        return;
    }
    const PacketCounts &total = totals.packets;
    const qint64 withPackets = totals.withPackets;
    const quint64 joined = total.packetsIn + total.packetsOut;
    line("Packets:", QStringLiteral("%1 received, %2 joined to %3 connections (%4 in, %5 out; "
                                    "payload %6 B in, %7 B out)")
                         .arg(info.packetsReceived)
                         .arg(joined)
                         .arg(withPackets)
                         .arg(total.packetsIn)
                         .arg(total.packetsOut)
                         .arg(total.payloadBytesIn)
                         .arg(total.payloadBytesOut));
    if (totals.localPairs > 0) {
        const PacketCounts &w = totals.wire;
        line("On the wire:",
             QStringLiteral("%1 packets, payload %2 B: %3 connection(s) have both ends on this "
                            "host, and each of their packets was seen by both sockets (sent and "
                            "received); counted once here")
                 .arg(w.packetsIn + w.packetsOut)
                 .arg(w.payloadBytesIn + w.payloadBytesOut)
                 .arg(totals.localPairs));
    }
    line("Lost packets:",
         info.lostPackets == 0
             ? QStringLiteral("0")
             : QStringLiteral("%1: the packet ring buffer was full, packet lists and analysis are "
                              "incomplete")
                   .arg(info.lostPackets));
    line("Filtered out:", QString::number(info.packetsFiltered));
    line("Capture filter:", info.captureFilter.isEmpty() ? QStringLiteral("(none: all TCP packets)")
                                                         : escapeControls(info.captureFilter));
    QStringList ifaces;
    for (const InterfaceInfo &i : info.interfaces)
        ifaces << QStringLiteral("%1 (%2)").arg(escapeControls(i.name), attachText(i.attach));
    line("Interfaces:", ifaces.isEmpty() ? QStringLiteral("-") : ifaces.join(QStringLiteral(", ")));
    // Packet analysis counts each wire packet once; where both ends of a connection are on this
    // host, what the two sockets saw (each of them every packet) follows on its own line.
    line("Analysis:", analysisText(totals.wire));
    if (totals.localPairs > 0)
        line("  both ends:",
             QStringLiteral("%1 (%2 connection(s) with both ends on this host: each socket's view, "
                            "summed)")
                 .arg(analysisText(total))
                 .arg(totals.localPairs));
}

} // namespace

QString attachText(quint8 attach)
{
    switch (attach) {
    case TS_ATTACH_TCX:
        return QStringLiteral("tcx");
    case TS_ATTACH_CLSACT:
        return QStringLiteral("clsact");
    case TS_ATTACH_NONE:
        return QStringLiteral("detached");
    default:
        return QStringLiteral("attach failed");
    }
}

namespace {

// "Alerts: 5 (1 high, 3 medium, 1 low): port_scan 1, ..." and the first alerts, one a line.
template <typename Line>
void alertLines(const SessionInfo &info, const QVector<Alert> &alerts, Line &line)
{
    if (!info.alertsRecorded) {
        line("Alerts:", QStringLiteral("not recorded (the detectors did not run); tcpscope watch "
                                       "-r FILE raises them from the records"));
        return;
    }
    int bySeverity[3] = {0, 0, 0};
    QMap<QString, int> byKind;
    for (const Alert &a : alerts) {
        ++bySeverity[int(a.severity)];
        ++byKind[escapeControls(a.kind)];
    }
    QStringList kinds;
    for (auto it = byKind.cbegin(); it != byKind.cend(); ++it)
        kinds.append(QStringLiteral("%1 %2").arg(it.key()).arg(it.value()));
    QString head = QString::number(alerts.size());
    if (!alerts.isEmpty())
        head += QStringLiteral(" (%1 high, %2 medium, %3 low): %4")
                    .arg(bySeverity[2])
                    .arg(bySeverity[1])
                    .arg(bySeverity[0])
                    .arg(kinds.join(QStringLiteral(", ")));
    constexpr int kShown = 20;
    const QString indent(17, QLatin1Char(' '));
    for (int i = 0; i < alerts.size() && i < kShown; ++i)
        head += QLatin1Char('\n') + indent + escapeControls(alertLine(alerts.at(i)));
    if (alerts.size() > kShown)
        head += QLatin1Char('\n') + indent +
                QStringLiteral("... %1 more (tcpscope info --json lists them all)")
                    .arg(alerts.size() - kShown);
    line("Alerts:", head);
}

} // namespace

int runInfo(const QStringList &args)
{
    QCommandLineParser parser;
    parser.setSingleDashWordOptionMode(QCommandLineParser::ParseAsLongOptions);
    const QCommandLineOption displayFilter({QStringLiteral("Y"), QStringLiteral("display-filter")},
                                           QString(), QStringLiteral("EXPR"));
    parser.addOption(displayFilter);
    parser.addPositionalArgument(QStringLiteral("FILE"), QStringLiteral("session file"));
    const QCommandLineOption json(QStringLiteral("json"),
                                  QStringLiteral("print the summary as one JSON object"));
    parser.addOption(json);
    if (!parser.parse(args))
        return usageError(QStringLiteral("info"), parser.errorText());
    const QStringList files = parser.positionalArguments();
    if (files.size() != 1)
        return usageError(QStringLiteral("info"), files.isEmpty()
                                                      ? QStringLiteral("missing FILE")
                                                      : QStringLiteral("expects exactly one FILE"));
    // A connection filter: the summary then covers the matching connections (and the kernel
    // events and drops joined to them); the capture-wide facts stay as they are.
    DisplayFilter filter;
    if (parser.isSet(displayFilter) &&
        !compileDisplayFilter(QStringLiteral("info"), parser.value(displayFilter),
                              FilterTarget::Connections, &filter))
        return kExitUsage;
    // Summaries only: the packet counts and the per-connection kernel summaries are in the
    // connections table, events and drops are small; never a packet or a sample.
    const auto session = openSession(files.first());
    if (!session)
        return kExitUsage;
    const SessionInfo info = session->info();
    const FilterContext context = filterContextForSession(*session, filter);
    ConnectionTotals totals;
    qint64 allConnections = 0;
    QSet<qint64> matching;
    session->forEachConnection(
        [&](const Connection &c) {
            ++allConnections;
            if (!filter.matches(c, context)) {
                totals.seePeer(c);
                return true;
            }
            totals.add(c);
            if (!filter.isEmpty())
                matching.insert(c.id);
            return true;
        },
        false);
    totals.finish();
    KernelData kernel = info.kernelMetrics ? session->kernelEvents() : KernelData();
    if (!filter.isEmpty()) {
        auto unmatched = [&](const auto &record) {
            return !matching.contains(record.connectionId);
        };
        kernel.events.removeIf(unmatched);
        kernel.drops.removeIf(unmatched);
        kernel.listeners.removeIf(unmatched);
    }
    if (!session->error().isEmpty()) {
        printErr(QStringLiteral("%1: %2").arg(files.first(), session->error()));
        return kExitUsage;
    }
    // The alerts the detectors raised while recording; with -Y those about a matching
    // connection.
    QVector<Alert> alerts = session->alerts();
    if (!session->error().isEmpty()) {
        printErr(QStringLiteral("%1: %2").arg(files.first(), session->error()));
        return kExitUsage;
    }
    if (!filter.isEmpty())
        alerts.removeIf([&](const Alert &a) {
            return std::none_of(a.connections.begin(), a.connections.end(),
                                [&](qint64 id) { return matching.contains(id); });
        });

    if (parser.isSet(json)) {
        QJsonObject o = infoJson(files.first(), *session, info, totals);
        QJsonArray alertList;
        for (const Alert &a : std::as_const(alerts))
            alertList.append(alertToJson(a));
        // null: the detectors did not run while recording (the file says nothing).
        o.insert(QStringLiteral("alerts"),
                 info.alertsRecorded ? QJsonValue(alertList) : QJsonValue(QJsonValue::Null));
        // null: everything was kept (no trigger).
        QJsonValue triggered(QJsonValue::Null);
        if (!info.trigger.isEmpty()) {
            QJsonArray windows;
            for (const KeptWindow &w : info.keptWindows)
                windows.append(QJsonObject{
                    {QStringLiteral("start_ns"), w.startNs},
                    {QStringLiteral("end_ns"), w.endNs},
                    {QStringLiteral("triggers"), QJsonArray::fromStringList(w.triggers)}});
            triggered = QJsonObject{{QStringLiteral("trigger"), info.trigger},
                                    {QStringLiteral("pre_ns"), info.triggerPreNs},
                                    {QStringLiteral("post_ns"), info.triggerPostNs},
                                    {QStringLiteral("ring_bytes"), info.triggerRingBytes},
                                    {QStringLiteral("not_kept"), qint64(info.triggerDiscarded)},
                                    {QStringLiteral("windows"), windows}};
        }
        o.insert(QStringLiteral("triggered"), triggered);
        // With -Y the connection and packet totals cover the matching connections only.
        if (!filter.isEmpty())
            o.insert(QStringLiteral("display_filter"),
                     QJsonObject{{QStringLiteral("expression"), parser.value(displayFilter)},
                                 {QStringLiteral("connections_matching"), totals.count},
                                 {QStringLiteral("connections_total"), allConnections}});
        printOut(QString::fromUtf8(QJsonDocument(o).toJson()));
        return kExitOk;
    }

    const qint64 start = info.startedNs > 0 ? info.startedNs : totals.firstNs;
    const qint64 stop = info.stoppedNs > 0 ? info.stoppedNs : totals.lastNs;
    QString range = QStringLiteral("%1 .. %2").arg(isoTime(start), isoTime(stop));
    if (start > 0 && stop >= start)
        range += QStringLiteral(" (%1 s)").arg(double(stop - start) / 1e9, 0, 'f', 3);
    if (info.stoppedNs <= 0)
        range += QStringLiteral(" - recording did not stop cleanly (killed or still running)");

    // Text from the file (host, kernel, process and reason names, ...) is escaped where it is
    // taken, so a value stays on its line; every line is escaped once more as it is added, so
    // nothing read from the file reaches the terminal as a control sequence.
    QString out;
    auto line = [&out](const char *label, const QString &value) {
        out += QStringLiteral("%1 %2\n")
                   .arg(QLatin1String(label), -16)
                   .arg(escapeControls(value, LineBreaks::Keep));
    };
    line("File:", escapeControls(files.first()));
    line("Format:", QStringLiteral("tcpscope session %1").arg(session->format().text()));
    line("Time range:", range);
    line("Host:", info.hostname.isEmpty() ? QStringLiteral("-") : escapeControls(info.hostname));
    if (!info.remote.isEmpty())
        line("Captured via:",
             QStringLiteral("ssh %1 (remote capture)").arg(escapeControls(info.remote)));
    line("Kernel:",
         info.kernelRelease.isEmpty() ? QStringLiteral("-") : escapeControls(info.kernelRelease));
    // A session of several hosts (tcpscope merge): each one, its clock offset on the session's
    // time axis and how it was found, and its connections.
    const QVector<HostInfo> hosts = session->hosts();
    if (hosts.size() > 1 || info.hosts.size() == 1) {
        for (const HostInfo &h : hosts) {
            QString offset = QStringLiteral("%1%2 ms")
                                 .arg(h.clockOffsetNs >= 0 ? QStringLiteral("+") : QString())
                                 .arg(double(h.clockOffsetNs) / 1e6, 0, 'f', 3);
            offset += h.offsetErrorNs >= 0
                          ? QStringLiteral(" ± %1 ms").arg(double(h.offsetErrorNs) / 1e6, 0, 'f', 3)
                          : QStringLiteral(" ± unknown");
            line(h.id == 0 ? "Hosts:" : "",
                 QStringLiteral("%1: %2, kernel %3, from %4, clock %5 (%6), %7 connections")
                     .arg(h.id)
                     .arg(h.name.isEmpty() ? QStringLiteral("-") : escapeControls(h.name),
                          h.kernel.isEmpty() ? QStringLiteral("-") : escapeControls(h.kernel),
                          h.source.isEmpty() ? QStringLiteral("-") : escapeControls(h.source),
                          offset, offsetMethodName(h.offsetMethod))
                     .arg(totals.byHost.value(h.id)));
        }
    }
    line("Recorded by:",
         QStringLiteral("tcpscope ") + (info.tcpscopeVersion.isEmpty()
                                            ? QStringLiteral("?")
                                            : escapeControls(info.tcpscopeVersion)));
    // The kernel capability report: one hook per line ("name=tp_btf", "name=unavailable (why)").
    QStringList probes;
    for (const QString &p : std::as_const(info.probes))
        probes << escapeControls(p);
    line("Probes:", probes.isEmpty()
                        ? QStringLiteral("-")
                        : probes.join(QStringLiteral("\n") + QString(17, QLatin1Char(' '))));
    line("Records:", QString::number(info.recordsReceived));
    line("Lost records:", lostLine(info));
    if (info.writerDropped > 0)
        line("Not written:", QStringLiteral("%1 records (the disk could not keep up; the session "
                                            "is incomplete)")
                                 .arg(info.writerDropped));
    if (info.readerDropped > 0)
        line("Not read:", QStringLiteral("%1 records (dropped by the helper while tcpscope did "
                                         "not read in time; the session is incomplete)")
                              .arg(info.readerDropped));
    if (info.reorderWindowNs >= 0)
        line("Record order:", orderLine(info));
    // Every stretch with records missing, and why.
    for (const Interruption &i : info.interruptions)
        line("Interrupted:", escapeControls(interruptionText(i)));
    // Damage the file survived: fields shown as unknown, chunks left out.
    if (session->valuesOutOfRange() > 0)
        line("Unknown values:", QStringLiteral("%1 values out of range (read as unknown)")
                                    .arg(session->valuesOutOfRange()));
    if (session->badChunks() > 0)
        line("Damaged chunks:", QStringLiteral("%1 compressed chunks could not be read and are "
                                               "left out")
                                    .arg(session->badChunks()));
    if (!filter.isEmpty())
        line("Display filter:", QStringLiteral("%1 (%2 of %3 connections match; the lines below "
                                               "cover those)")
                                    .arg(filter.text())
                                    .arg(totals.count)
                                    .arg(allConnections));
    line("Connections:",
         QStringLiteral("%1 (%2 open at the end)").arg(totals.count).arg(totals.open));
    line("  by state:", countsLine(totals.byState));
    line("  by close:", countsLine(totals.byReason));
    line("  by role:", countsLine(totals.byRole));
    packetLines(info, totals, line);
    kernelLines(info, totals, kernel, line);
    alertLines(info, alerts, line);
    if (!info.trigger.isEmpty()) {
        double keptNs = 0; // a sum of hostile values must not overflow
        for (const KeptWindow &w : info.keptWindows)
            keptNs += double(w.endNs) - double(w.startNs);
        QString text = QStringLiteral("'%1', %2 s before and %3 s after: %4 window%5 kept (%6 s "
                                      "of packets and kernel samples), %7 records not kept")
                           .arg(escapeControls(info.trigger))
                           .arg(info.triggerPreNs / 1e9)
                           .arg(info.triggerPostNs / 1e9)
                           .arg(info.keptWindows.size())
                           .arg(info.keptWindows.size() == 1 ? QString() : QStringLiteral("s"))
                           .arg(keptNs / 1e9, 0, 'f', 1)
                           .arg(info.triggerDiscarded);
        const QString indent(17, QLatin1Char(' '));
        for (const KeptWindow &w : info.keptWindows)
            text += QLatin1Char('\n') + indent +
                    QStringLiteral("%1 .. %2: %3")
                        .arg(isoTime(w.startNs), isoTime(w.endNs),
                             escapeControls(w.triggers.join(QStringLiteral("; "))));
        line("Triggered:", text);
    }
    printOut(out);
    return kExitOk;
}

} // namespace tcpscope::cli
