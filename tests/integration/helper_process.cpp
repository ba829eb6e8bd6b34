// SPDX-License-Identifier: GPL-3.0-or-later
#include "helper_process.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryFile>
#include <QThread>
#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace tcpscope::test {

HelperProcess::~HelperProcess()
{
    closeSocket();
    if (m_pid > 0 && waitExit(0) < 0) {
        ::kill(m_pid, SIGKILL);
        waitExit(5000);
    }
    if (!m_stderrPath.isEmpty())
        QFile::remove(m_stderrPath);
}

bool HelperProcess::start(const QString &helper, const QStringList &args, QString *error,
                          int runAsUid)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        *error = QStringLiteral("socketpair: %1").arg(strerror(errno));
        return false;
    }
    {
        QTemporaryFile tmp(QDir::tempPath() + "/ts_helper_stderr_XXXXXX");
        tmp.setAutoRemove(false);
        tmp.open();
        m_stderrPath = tmp.fileName();
    }
    // Everything the child needs is prepared before fork: only exec-safe calls after it.
    QList<QByteArray> storage = {QFile::encodeName(helper), "--fd", "3"};
    for (const QString &a : args)
        storage.push_back(a.toLocal8Bit());
    std::vector<char *> argv;
    for (QByteArray &s : storage)
        argv.push_back(s.data());
    argv.push_back(nullptr);
    const QByteArray errPath = QFile::encodeName(m_stderrPath);
    const int errFd = ::open(errPath.constData(), O_WRONLY | O_TRUNC | O_CLOEXEC);

    m_pid = fork();
    if (m_pid == 0) {
        if (runAsUid >= 0 &&
            (setgroups(0, nullptr) != 0 || setgid(runAsUid) != 0 || setuid(runAsUid) != 0))
            _exit(120);
        dup2(sv[1], 3); // dup2 clears CLOEXEC on the new descriptor
        if (errFd >= 0)
            dup2(errFd, 2);
        execv(argv[0], argv.data());
        _exit(127);
    }
    ::close(sv[1]);
    if (errFd >= 0)
        ::close(errFd);
    m_fd = sv[0];
    if (m_pid < 0) {
        *error = QStringLiteral("fork: %1").arg(strerror(errno));
        return false;
    }
    return true;
}

bool HelperProcess::send(const std::vector<std::uint8_t> &frame)
{
    return m_fd >= 0 &&
           ::send(m_fd, frame.data(), frame.size(), MSG_NOSIGNAL) == ssize_t(frame.size());
}

void HelperProcess::closeSocket()
{
    if (m_fd >= 0)
        ::close(m_fd);
    m_fd = -1;
}

std::optional<wire::Frame> HelperProcess::readFrame(int timeoutMs, QString *error)
{
    QElapsedTimer timer;
    timer.start();
    for (;;) {
        wire::Frame frame;
        switch (m_decoder.next(frame)) {
        case wire::FrameDecoder::Status::Frame:
            return frame;
        case wire::FrameDecoder::Status::Error:
            *error = QString::fromStdString("malformed frame from helper: " + m_decoder.error());
            return std::nullopt;
        case wire::FrameDecoder::Status::NeedMore:
            break;
        }
        const qint64 left = timeoutMs - timer.elapsed();
        pollfd p{m_fd, POLLIN, 0};
        if (left <= 0 || ::poll(&p, 1, int(left)) <= 0) {
            *error = QStringLiteral("timeout after %1 ms waiting for a frame").arg(timeoutMs);
            return std::nullopt;
        }
        std::uint8_t buf[65536];
        const ssize_t n = ::recv(m_fd, buf, sizeof buf, 0);
        if (n <= 0) {
            *error = QStringLiteral("helper closed the socket; stderr: %1").arg(stderrText());
            return std::nullopt;
        }
        m_decoder.feed({buf, std::size_t(n)});
    }
}

int HelperProcess::waitExit(int timeoutMs)
{
    if (m_pid <= 0)
        return -1;
    QElapsedTimer timer;
    timer.start();
    for (;;) {
        int status = 0;
        const pid_t r = waitpid(m_pid, &status, WNOHANG);
        if (r == m_pid) {
            m_pid = -1;
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        if (timer.elapsed() >= timeoutMs)
            return -1;
        QThread::msleep(10);
    }
}

void HelperProcess::kill(int signal)
{
    if (m_pid > 0)
        ::kill(m_pid, signal);
}

QString HelperProcess::stderrText() const
{
    QFile f(m_stderrPath);
    return f.open(QIODevice::ReadOnly) ? QString::fromLocal8Bit(f.readAll()).trimmed() : QString();
}

BpfObjects bpfObjectsOf(pid_t pid)
{
    BpfObjects out;
    const QString dir = QStringLiteral("/proc/%1/fdinfo").arg(pid);
    for (const QString &fd : QDir(dir).entryList(QDir::Files)) {
        QFile f(dir + "/" + fd);
        if (!f.open(QIODevice::ReadOnly))
            continue;
        const QList<QByteArray> lines = f.readAll().split('\n');
        bool isLink = false;
        quint32 prog = 0, link = 0;
        for (const QByteArray &line : lines) {
            if (line.startsWith("link_id:")) {
                isLink = true;
                link = line.mid(8).trimmed().toUInt();
            } else if (line.startsWith("prog_id:")) {
                prog = line.mid(8).trimmed().toUInt();
            }
        }
        if (isLink)
            out.linkIds.insert(link);
        else if (prog) // a program fd (maps have no prog_id line)
            out.progIds.insert(prog);
    }
    return out;
}

static QJsonArray bpftoolJson(const QStringList &args, QString *error)
{
    const QString bpftool = QStandardPaths::findExecutable(
        "bpftool", {"/usr/sbin", "/sbin", "/usr/local/sbin", "/usr/bin"});
    if (bpftool.isEmpty()) {
        *error = "bpftool not found";
        return {};
    }
    QProcess p;
    p.start(bpftool, QStringList{"-j"} + args);
    if (!p.waitForFinished(10000) || p.exitCode() != 0) {
        *error = "bpftool " + args.join(' ') + " failed: " + p.readAllStandardError();
        return {};
    }
    return QJsonDocument::fromJson(p.readAllStandardOutput()).array();
}

BpfObjects stillLoaded(const BpfObjects &ids, QString *bpftoolError)
{
    BpfObjects left;
    for (const auto &v : bpftoolJson({"prog", "show"}, bpftoolError)) {
        const quint32 id = v.toObject().value("id").toInteger();
        if (ids.progIds.contains(id))
            left.progIds.insert(id);
    }
    for (const auto &v : bpftoolJson({"link", "show"}, bpftoolError)) {
        const QJsonObject o = v.toObject();
        const quint32 id = o.value("id").toInteger();
        if (ids.linkIds.contains(id) || ids.progIds.contains(o.value("prog_id").toInteger()))
            left.linkIds.insert(id);
    }
    return left;
}

QStringList loadedTcpscopePrograms()
{
    QString error;
    QStringList names;
    for (const auto &v : bpftoolJson({"prog", "show"}, &error)) {
        const QString name = v.toObject().value("name").toString();
        if (name.startsWith("tcpscope"))
            names
                << QStringLiteral("%1(id %2)").arg(name).arg(v.toObject().value("id").toInteger());
    }
    return names;
}

QStringList tracefsMounts()
{
    QFile f("/proc/self/mountinfo");
    QStringList out;
    if (!f.open(QIODevice::ReadOnly))
        return out;
    for (const QByteArray &line : f.readAll().split('\n'))
        if (line.contains(" - tracefs "))
            out << QString::fromLocal8Bit(line);
    return out;
}

} // namespace tcpscope::test
