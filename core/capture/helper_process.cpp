// SPDX-License-Identifier: GPL-3.0-or-later
#include "capture/helper_process.h"

#include <QFile>
#include <QFileInfo>
#include <QThread>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <vector>

namespace tcpscope {

namespace {
constexpr qsizetype kStderrKeep = 16 * 1024;

QString errnoText(const char *what)
{
    return QStringLiteral("%1: %2").arg(QLatin1String(what),
                                        QString::fromLocal8Bit(strerror(errno)));
}
} // namespace

HelperProcess::~HelperProcess()
{
    terminate(0);
}

bool HelperProcess::spawn(const QString &program, const QStringList &args,
                          const SpawnOptions &options, QString *error)
{
    const QFileInfo fi(program);
    if (!fi.exists() || !fi.isExecutable()) {
        *error = QStringLiteral("helper not found or not executable: %1 (set TCPSCOPE_HELPER)")
                     .arg(program);
        return false;
    }
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
        *error = errnoText("socketpair");
        return false;
    }
    UniqueFd ours(pair[0]), theirs(pair[1]);
    int pipeFds[2];
    if (pipe2(pipeFds, O_CLOEXEC) != 0) {
        *error = errnoText("pipe");
        return false;
    }
    UniqueFd errRead(pipeFds[0]), errWrite(pipeFds[1]);

    // Everything the child needs is prepared before fork: after it only async-signal-safe calls.
    const QByteArray path = QFile::encodeName(fi.absoluteFilePath());
    std::vector<QByteArray> argStore;
    argStore.reserve(std::size_t(args.size()) + 1);
    argStore.push_back(path);
    for (const QString &a : args)
        argStore.push_back(a.toLocal8Bit());
    std::vector<char *> argv;
    argv.reserve(argStore.size() + 1);
    for (QByteArray &a : argStore)
        argv.push_back(a.data());
    argv.push_back(nullptr);

    const pid_t pid = fork();
    if (pid < 0) {
        *error = errnoText("fork");
        return false;
    }
    if (pid == 0) {
        if (options.ownProcessGroup)
            setpgid(0, 0);
        if (options.ignoreInterrupts) {
            struct sigaction ignore
            {
            };
            ignore.sa_handler = SIG_IGN;
            sigaction(SIGINT, &ignore, nullptr);
            sigaction(SIGQUIT, &ignore, nullptr);
        }
        // dup2 clears CLOEXEC on the new descriptor; dup2 onto itself keeps it: clear it
        // explicitly.
        auto place = [](int from, int to) {
            if (from == to)
                fcntl(to, F_SETFD, 0);
            else
                dup2(from, to);
        };
        dup2(errWrite.get(), 2);
        if (options.peerOnStdio) {
            place(theirs.get(), 0);
            place(theirs.get(), 1);
        } else {
            const int devNull = open("/dev/null", O_RDONLY);
            if (devNull >= 0)
                dup2(devNull, 0);
            place(theirs.get(), 3);
        }
        execv(argv[0], argv.data());
        const char msg[] = "tcpscope-helper: exec failed\n";
        [[maybe_unused]] auto n = write(2, msg, sizeof msg - 1);
        _exit(127);
    }
    m_pid = pid;
    m_status = 0;
    m_reaped = false;
    m_stderrTail.clear();
    m_socket = std::move(ours);
    fcntl(errRead.get(), F_SETFL, O_NONBLOCK);
    m_stderr = std::move(errRead);
    return true;
}

bool HelperProcess::drainStderr()
{
    if (!m_stderr.valid())
        return false;
    char buf[4096];
    for (;;) {
        const ssize_t n = read(m_stderr.get(), buf, sizeof buf);
        if (n > 0) {
            m_stderrTail.append(buf, n);
            if (m_stderrTail.size() > kStderrKeep)
                m_stderrTail.remove(0, m_stderrTail.size() - kStderrKeep);
            continue;
        }
        if (n == 0) {
            m_stderr.reset();
            return false;
        }
        if (errno == EINTR)
            continue;
        return errno == EAGAIN || errno == EWOULDBLOCK;
    }
}

QString HelperProcess::lastStderrLine() const
{
    const QList<QByteArray> lines = m_stderrTail.split('\n');
    for (auto it = lines.crbegin(); it != lines.crend(); ++it) {
        const QByteArray line = it->trimmed();
        if (!line.isEmpty())
            return QString::fromLocal8Bit(line);
    }
    return QString();
}

bool HelperProcess::tryReap()
{
    if (m_pid <= 0)
        return m_reaped;
    int status = 0;
    const pid_t pid = m_pid;
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD)) {
        m_status = status;
        m_reaped = true;
        m_pid = -1;
        return true;
    }
    return false;
}

void HelperProcess::terminate(int graceMs)
{
    auto waitFor = [this](int ms) {
        for (int waited = 0; waited <= ms; waited += 10) {
            if (tryReap())
                return true;
            QThread::msleep(10);
        }
        return false;
    };
    if (m_pid > 0 && !waitFor(graceMs)) {
        kill(m_pid, SIGTERM);
        if (!waitFor(1000)) {
            kill(m_pid, SIGKILL);
            int status = 0;
            waitpid(m_pid, &status, 0);
            m_status = status;
            m_reaped = true;
            m_pid = -1;
        }
    }
    drainStderr();
    m_socket.reset();
}

void HelperProcess::sendSignal(int sig)
{
    if (const pid_t pid = m_pid; pid > 0)
        kill(pid, sig);
}

QString HelperProcess::exitDescription() const
{
    if (!m_reaped)
        return QString();
    if (WIFEXITED(m_status))
        return QStringLiteral("exited with status %1").arg(WEXITSTATUS(m_status));
    if (WIFSIGNALED(m_status))
        return QStringLiteral("killed by signal %1").arg(WTERMSIG(m_status));
    return QStringLiteral("ended (status 0x%1)").arg(m_status, 0, 16);
}

} // namespace tcpscope
