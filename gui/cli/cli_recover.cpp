// SPDX-License-Identifier: GPL-3.0-or-later
// `tcpscope recover FILE`: finishes what an interrupted writer left beside a session (a hot
// -journal, a -wal without its -shm), then proves the file opens.
#include "cli_commands.h"

#include "session/session_store.h"

#include <QCommandLineParser>
#include <QFileInfo>

namespace tcpscope::cli {

int runRecover(const QStringList &args)
{
    const QString cmd = QStringLiteral("recover");
    QCommandLineParser parser;
    parser.addPositionalArgument(QStringLiteral("FILE"), QStringLiteral("session file"));
    if (!parser.parse(args))
        return usageError(cmd, parser.errorText());
    const QStringList files = parser.positionalArguments();
    if (files.size() != 1)
        return usageError(cmd, files.isEmpty() ? QStringLiteral("missing FILE")
                                               : QStringLiteral("expects exactly one FILE"));
    const QString &file = files.first();
    QString error;
    if (!recoverSession(file, &error)) {
        printErr(QStringLiteral("%1: %2").arg(file, error));
        // A missing file or one that is not a session is bad input; a failed repair is not.
        const bool badInput =
            !QFileInfo(file).isFile() || error.startsWith(QLatin1String("not a tcpscope session"));
        return badInput ? kExitUsage : kExitFailure;
    }
    const auto session = openSession(file);
    if (!session)
        return kExitFailure;
    printOut(QStringLiteral("recovered %1: it opens (%2 connections); 'tcpscope info %1' shows "
                            "what it holds\n")
                 .arg(file)
                 .arg(session->connectionCount()));
    return kExitOk;
}

} // namespace tcpscope::cli
