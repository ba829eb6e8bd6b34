// SPDX-License-Identifier: GPL-3.0-or-later
// Internal to the CLI: one function per subcommand plus shared output helpers.
#pragma once

#include "capture/remote_transport.h"
#include "detect/alert_rules.h"
#include "filter/display_filter.h"
#include "session/session.h"

#include <QCommandLineParser>
#include <QString>
#include <QStringList>
#include <QVector>
#include <memory>
#include <optional>

namespace tcpscope::cli {

enum ExitCode
{
    kExitOk = 0,
    kExitFailure = 1,
    kExitUsage = 2,
    kExitUnavailable = 69, // EX_UNAVAILABLE: the kernel cannot run tcpscope's programs (no BTF)
    kExitNoPermission = 77 // EX_NOPERM: may not run the helper, or the helper lacks privileges
};

// args[0] is "tcpscope COMMAND" (for messages), the rest the command's own arguments.
int runRecord(const QStringList &args, int argc, char **argv);
int runWatch(const QStringList &args, int argc, char **argv);
int runInfo(const QStringList &args);
int runExport(const QStringList &args, int argc, char **argv);
int runRecover(const QStringList &args);
int runMerge(const QStringList &args);

// Help texts, printed by `tcpscope help [COMMAND]` and `COMMAND --help`.
QString mainHelp();
QString commandHelp(const QString &command); // empty for an unknown command

void printOut(const QString &text); // stdout, text as is
void printErr(const QString &text); // stderr, "tcpscope: " + text + newline
// "tcpscope COMMAND: <message>" + hint to --help, returns kExitUsage.
int usageError(const QString &command, const QString &message);

// Opens a session (its summaries only; queries read the rest) or prints
// "tcpscope: FILE: reason".
std::unique_ptr<Session> openSession(const QString &path);

// Compiles the -Y expression for target into *filter. On error prints one line,
// "tcpscope: COMMAND: -Y: <what, with the column>", and returns false (the caller exits with
// kExitUsage).
bool compileDisplayFilter(const QString &command, const QString &text, FilterTarget target,
                          DisplayFilter *filter);

// --duration SECONDS (decimals, above 0, at most a year) into *seconds when given; false after
// printing the usage error (the caller exits with kExitUsage).
bool durationOption(const QString &command, const QCommandLineParser &parser,
                    const QCommandLineOption &option, double *seconds);

// The hosts of `--remote DEST` (repeatable), `--remote-helper PATH` and `--local`: this machine
// (nullopt) alone unless --remote names others, and with them when --local is given too. False
// after printing the usage error (an empty or repeated destination, --local or --remote-helper
// without --remote, more than one or an empty helper path; the caller exits with kExitUsage).
bool hostOptions(const QString &command, const QCommandLineParser &parser,
                 const QCommandLineOption &remote, const QCommandLineOption &remoteHelper,
                 const QCommandLineOption &local, QVector<std::optional<RemoteTarget>> *hosts);

// Reads a rules file (detect/alert_rules.h) into *config, or prints
// "tcpscope: COMMAND: FILE: line L, column C: ..." and returns false (exit kExitUsage).
bool loadAlertConfig(const QString &command, const QString &path, AlertConfig *config);

// "2026-11-28T02:50:01.123Z" for wall ns since the epoch.
QString isoTime(qint64 wallNs);

} // namespace tcpscope::cli
