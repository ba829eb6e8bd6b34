// SPDX-License-Identifier: GPL-3.0-or-later
#include "capture/remote_transport.h"

#include <QFileInfo>
#include <QStandardPaths>
#include <fcntl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

namespace tcpscope {

namespace {
// The remote helper's exit codes that mean something here (bpf/helper/options.h), and the
// shell's for a command it could not find or not execute.
constexpr int kExitHelperUsage = 64;
constexpr int kExitCannotExecute = 126;
constexpr int kExitNotFound = 127;
constexpr int kExitSshError = 255; // ssh's own failures (connection, authentication, ...)

QString quoted(const QString &text)
{
    return QLatin1Char('\'') + text + QLatin1Char('\'');
}

QString helperDescription(const RemoteTarget &target)
{
    if (!target.helperPath.isEmpty())
        return quoted(target.helperPath);
    return QStringLiteral("neither %1 nor tcpscope-helper on the PATH")
        .arg(QLatin1String(kRemoteHelperPath));
}

// Words as a POSIX shell splits them, without expanding anything: blanks separate, '...' is
// literal, "..." keeps blanks (\ escapes " \ $ ` inside), \ escapes the next character
// elsewhere. nullopt on an unterminated quote or a trailing backslash.
std::optional<QStringList> shellWords(const QString &text)
{
    QStringList words;
    QString word;
    bool inWord = false;
    for (qsizetype i = 0; i < text.size(); ++i) {
        const QChar c = text[i];
        if (c == QLatin1Char(' ') || c == QLatin1Char('\t') || c == QLatin1Char('\n')) {
            if (inWord)
                words << word;
            word.clear();
            inWord = false;
            continue;
        }
        inWord = true;
        if (c == QLatin1Char('\'')) {
            const qsizetype end = text.indexOf(QLatin1Char('\''), i + 1);
            if (end < 0)
                return std::nullopt;
            word += text.mid(i + 1, end - i - 1);
            i = end;
        } else if (c == QLatin1Char('"')) {
            for (++i;; ++i) {
                if (i >= text.size())
                    return std::nullopt;
                if (text[i] == QLatin1Char('"'))
                    break;
                if (text[i] == QLatin1Char('\\') && i + 1 < text.size() &&
                    QStringLiteral("\"\\$`").contains(text[i + 1]))
                    ++i;
                word += text[i];
            }
        } else if (c == QLatin1Char('\\')) {
            if (++i >= text.size())
                return std::nullopt;
            word += text[i];
        } else {
            word += c;
        }
    }
    if (inWord)
        words << word;
    return words;
}

QString withLine(const QString &text, const QString &line)
{
    return line.isEmpty() ? text : text + QStringLiteral(": ") + line;
}
} // namespace

QString shellQuote(const QString &word)
{
    QString out = word;
    out.replace(QLatin1Char('\''), QLatin1String("'\\''"));
    return quoted(out);
}

QString remoteHelperCommand(const QString &helperPath)
{
    // The package's helper when it is there (executable or not: a user outside the group
    // tcpscope must learn that, not that some other helper is missing), else the PATH's.
    const QString script =
        helperPath.isEmpty()
            ? QStringLiteral("h=%1; if [ -e \"$h\" ]; then exec \"$h\" --stdio; fi; "
                             "exec tcpscope-helper --stdio")
                  .arg(shellQuote(QLatin1String(kRemoteHelperPath)))
            : QStringLiteral("exec %1 --stdio").arg(shellQuote(helperPath));
    return QStringLiteral("sh -c ") + shellQuote(script);
}

std::optional<QStringList> sshCommand(const RemoteTarget &target, bool interactive, QString *error)
{
    const QString custom = qEnvironmentVariable("TCPSCOPE_SSH").trimmed();
    const std::optional<QStringList> split =
        custom.isEmpty() ? QStringList{QStringLiteral("ssh")} : shellWords(custom);
    if (!split || split->isEmpty()) {
        *error = QStringLiteral("TCPSCOPE_SSH: cannot split '%1' into words (an unterminated "
                                "quote?)")
                     .arg(custom);
        return std::nullopt;
    }
    QStringList words = *split;
    const QString program = words.first().contains(QLatin1Char('/'))
                                ? words.first()
                                : QStandardPaths::findExecutable(words.first());
    if (program.isEmpty() || !QFileInfo(program).isExecutable()) {
        *error = QStringLiteral("ssh not found: %1 (install openssh-client%2)")
                     .arg(words.first(),
                          custom.isEmpty() ? QString() : QStringLiteral(" or fix TCPSCOPE_SSH"));
        return std::nullopt;
    }
    words.first() = program;
    // Options given in TCPSCOPE_SSH come first, and ssh keeps the first value it sees of an
    // option: the user can override every one of these.
    words << QStringLiteral("-T") << QStringLiteral("-x") << QStringLiteral("-a")
          << QStringLiteral("-o") << QStringLiteral("ClearAllForwardings=yes")
          << QStringLiteral("-o") << QStringLiteral("ServerAliveInterval=15")
          << QStringLiteral("-o") << QStringLiteral("ServerAliveCountMax=4");
    if (!interactive)
        words << QStringLiteral("-o") << QStringLiteral("BatchMode=yes");
    // `--`: a destination that starts with '-' is a host name, never an option.
    words << QStringLiteral("--") << target.destination << remoteHelperCommand(target.helperPath);
    return words;
}

bool terminalForPrompts()
{
    const int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return false;
    const bool foreground = tcgetpgrp(fd) == getpgrp();
    close(fd);
    return foreground;
}

QString remoteStartFailure(const RemoteTarget &target, int waitStatus, const QString &stderrLine,
                           CaptureFailure *failure)
{
    const QString dest = quoted(target.destination);
    *failure = CaptureFailure::Other;
    if (WIFSIGNALED(waitStatus))
        return withLine(
            QStringLiteral("ssh to %1 was killed by signal %2").arg(dest).arg(WTERMSIG(waitStatus)),
            stderrLine);
    if (!WIFEXITED(waitStatus))
        return withLine(QStringLiteral("ssh to %1 failed").arg(dest), stderrLine);
    switch (WEXITSTATUS(waitStatus)) {
    case kExitSshError:
        if (stderrLine.contains(QLatin1String("Permission denied")) ||
            stderrLine.contains(QLatin1String("Too many authentication failures")))
            return withLine(QStringLiteral("ssh authentication to %1 failed").arg(dest),
                            stderrLine);
        if (stderrLine.contains(QLatin1String("Host key verification failed")))
            return withLine(QStringLiteral("ssh could not verify the host key of %1 (connect "
                                           "once with ssh to accept it)")
                                .arg(dest),
                            stderrLine);
        return withLine(QStringLiteral("ssh could not connect to %1").arg(dest), stderrLine);
    case kExitNotFound:
        return withLine(QStringLiteral("remote helper not found on %1: %2 (install "
                                       "tcpscope-helper there, or name it with --remote-helper)")
                            .arg(dest, helperDescription(target)),
                        stderrLine);
    case kExitCannotExecute:
        *failure = CaptureFailure::Permission;
        return withLine(QStringLiteral("the remote helper on %1 may not be run by the SSH user "
                                       "(on %1, the user must be root or in the group tcpscope)")
                            .arg(dest),
                        stderrLine);
    case kExitHelperUsage:
        return withLine(QStringLiteral("the tcpscope-helper on %1 refused its command line (is "
                                       "it older than --stdio?)")
                            .arg(dest),
                        stderrLine);
    case kHelperExitNoPermission:
        *failure = CaptureFailure::Permission;
        return withLine(QStringLiteral("on %1, tcpscope-helper may not capture").arg(dest),
                        stderrLine);
    case kHelperExitUnavailable:
        *failure = CaptureFailure::Kernel;
        return withLine(
            QStringLiteral("on %1, the kernel cannot run tcpscope's programs").arg(dest),
            stderrLine);
    default:
        return withLine(QStringLiteral("the remote helper on %1 exited with status %2 before "
                                       "it answered")
                            .arg(dest)
                            .arg(WEXITSTATUS(waitStatus)),
                        stderrLine);
    }
}

QString remoteLostText(const RemoteTarget &target, std::optional<int> waitStatus,
                       const QString &stderrLine)
{
    const QString dest = quoted(target.destination);
    if (waitStatus && WIFEXITED(*waitStatus) && WEXITSTATUS(*waitStatus) != kExitSshError)
        return withLine(QStringLiteral("the remote helper on %1 ended (status %2)")
                            .arg(dest)
                            .arg(WEXITSTATUS(*waitStatus)),
                        stderrLine);
    return withLine(QStringLiteral("the remote connection to %1 was lost").arg(dest), stderrLine);
}

} // namespace tcpscope
