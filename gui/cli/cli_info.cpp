// SPDX-License-Identifier: GPL-3.0-or-later
#include "cli_commands.h"

#include <QCommandLineParser>
#include <QMap>
#include <algorithm>

namespace tcpscope::cli {

namespace {

// "CLOSE 39, ESTABLISHED 2" sorted by count, then name.
QString countsLine(const QMap<QString, int> &counts)
{
    QList<QPair<QString, int>> items;
    for (auto it = counts.cbegin(); it != counts.cend(); ++it)
        items.append({it.key(), it.value()});
    std::sort(items.begin(), items.end(), [](const auto &a, const auto &b) {
        return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    QStringList parts;
    for (const auto &[name, n] : items)
        parts << QStringLiteral("%1 %2").arg(name).arg(n);
    return parts.isEmpty() ? QStringLiteral("-") : parts.join(QStringLiteral(", "));
}

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

} // namespace

int runInfo(const QStringList &args)
{
    QCommandLineParser parser;
    parser.addPositionalArgument(QStringLiteral("FILE"), QStringLiteral("session file"));
    if (!parser.parse(args))
        return usageError(QStringLiteral("info"), parser.errorText());
    const QStringList files = parser.positionalArguments();
    if (files.size() != 1)
        return usageError(QStringLiteral("info"), files.isEmpty()
                                                      ? QStringLiteral("missing FILE")
                                                      : QStringLiteral("expects exactly one FILE"));
    const auto session = loadSession(files.first());
    if (!session)
        return kExitUsage;

    const SessionInfo &info = session->info;
    QMap<QString, int> byState, byReason, byRole;
    int open = 0;
    qint64 first = 0, last = 0;
    for (const Connection &c : session->connections) {
        ++byState[tcpStateName(c.state)];
        ++byReason[closeReasonName(c.closeReason)];
        ++byRole[connectionRoleName(c.role)];
        open += c.isOpen() ? 1 : 0;
        if (c.startNs > 0 && (first == 0 || c.startNs < first))
            first = c.startNs;
        last = std::max({last, c.startNs, c.endNs});
    }
    const qint64 start = info.startedNs > 0 ? info.startedNs : first;
    const qint64 stop = info.stoppedNs > 0 ? info.stoppedNs : last;
    QString range = QStringLiteral("%1 .. %2").arg(isoTime(start), isoTime(stop));
    if (start > 0 && stop >= start)
        range += QStringLiteral(" (%1 s)").arg(double(stop - start) / 1e9, 0, 'f', 3);
    if (info.stoppedNs <= 0)
        range += QStringLiteral(" - recording did not stop cleanly (killed or still running)");

    QString out;
    auto line = [&out](const char *label, const QString &value) {
        out += QStringLiteral("%1 %2\n").arg(QLatin1String(label), -16).arg(value);
    };
    line("File:", files.first());
    line("Time range:", range);
    line("Host:", info.hostname.isEmpty() ? QStringLiteral("-") : info.hostname);
    line("Kernel:", info.kernelRelease.isEmpty() ? QStringLiteral("-") : info.kernelRelease);
    line("Recorded by:",
         QStringLiteral("tcpscope ") +
             (info.tcpscopeVersion.isEmpty() ? QStringLiteral("?") : info.tcpscopeVersion));
    line("Probes:",
         info.probes.isEmpty() ? QStringLiteral("-") : info.probes.join(QStringLiteral("; ")));
    line("Records:", QString::number(info.recordsReceived));
    line("Lost records:", lostLine(info));
    line("Connections:",
         QStringLiteral("%1 (%2 open at the end)").arg(session->connections.size()).arg(open));
    line("  by state:", countsLine(byState));
    line("  by close:", countsLine(byReason));
    line("  by role:", countsLine(byRole));
    printOut(out);
    return kExitOk;
}

} // namespace tcpscope::cli
