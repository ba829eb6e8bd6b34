// SPDX-License-Identifier: GPL-3.0-or-later
// `tcpscope merge A B ... -o C [--offset HOST=±MS]... [--force]`: several sessions into one on
// one time axis (core/session/session_merge.h), printing each host's clock offset as it is
// decided.
#include "cli_commands.h"

#include "session/session_merge.h"

#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QFileInfo>

namespace tcpscope::cli {

int runMerge(const QStringList &args)
{
    const QString cmd = QStringLiteral("merge");
    QCommandLineParser parser;
    parser.addPositionalArgument(QStringLiteral("FILE"), QStringLiteral("session files"));
    const QCommandLineOption output({QStringLiteral("o"), QStringLiteral("output")},
                                    QStringLiteral("merged session"), QStringLiteral("FILE"));
    const QCommandLineOption offset(QStringLiteral("offset"),
                                    QStringLiteral("clock offset of a host"),
                                    QStringLiteral("HOST=MS"));
    const QCommandLineOption force(QStringLiteral("force"),
                                   QStringLiteral("replace an existing output"));
    parser.addOptions({output, offset, force});
    if (!parser.parse(args))
        return usageError(cmd, parser.errorText());
    MergeOptions options;
    options.inputs = parser.positionalArguments();
    if (options.inputs.size() < 2)
        return usageError(cmd, QStringLiteral("expects at least two session files"));
    if (!parser.isSet(output))
        return usageError(cmd, QStringLiteral("missing -o FILE"));
    options.output = parser.value(output);
    options.force = parser.isSet(force);
    for (const QString &text : parser.values(offset)) {
        MergeOffset o;
        QString error;
        if (!parseMergeOffset(text, &o, &error))
            return usageError(cmd, error);
        options.offsets.append(o);
    }
    QElapsedTimer timer;
    timer.start();
    MergeReport report;
    QString error;
    const bool ok = mergeSessions(options, &report, &error, nullptr, {},
                                  [](const QString &line) { printOut(line + QLatin1Char('\n')); });
    for (const QString &w : std::as_const(report.warnings))
        printErr(QStringLiteral("warning: ") + w);
    if (!ok) {
        printErr(QStringLiteral("merge: ") + error);
        // An input that is missing or not a session, a bad --offset or a refused output is bad
        // input; anything else (a full disk) a failure.
        const bool badInput = !error.contains(QLatin1String("cannot write")) &&
                              !error.contains(QLatin1String("disk"));
        return badInput ? kExitUsage : kExitFailure;
    }
    const double seconds = std::max(timer.elapsed(), qint64(1)) / 1000.0;
    printOut(QStringLiteral("merged %1 hosts into %2: %3 connections, %4 packets, %5 samples, %6 "
                            "kernel records in %7 s\n")
                 .arg(report.hosts.size())
                 .arg(options.output)
                 .arg(report.connections)
                 .arg(report.packets)
                 .arg(report.samples)
                 .arg(report.kernelRecords)
                 .arg(seconds, 0, 'f', 1));
    return kExitOk;
}

} // namespace tcpscope::cli
