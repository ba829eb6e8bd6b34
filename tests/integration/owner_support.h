// SPDX-License-Identifier: GPL-3.0-or-later
// Owners for integration tests: commands run to completion, cgroup v2 directories a test makes
// (and removes, deepest first, even when it fails) and processes started inside them.
#pragma once

#include "model/cgroup.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QString>
#include <QStringList>

#include <sys/stat.h>
#include <unistd.h>

namespace tcpscope::test {

// Runs program to its end (30 s at most); true when it exited 0. output: stdout + stderr.
inline bool runCommand(const QString &program, const QStringList &args, QString *output = nullptr)
{
    QProcess p;
    p.start(program, args);
    if (!p.waitForFinished(30000)) {
        p.kill();
        p.waitForFinished(1000);
        return false;
    }
    if (output)
        *output = QString::fromUtf8(p.readAllStandardOutput() + p.readAllStandardError());
    return p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0;
}

// The cgroup v2 mount of this machine ("" when none).
inline QString cgroup2Root()
{
    QFile mountinfo(QStringLiteral("/proc/self/mountinfo"));
    if (!mountinfo.open(QIODevice::ReadOnly))
        return {};
    return cgroup2MountPoint(mountinfo.readAll());
}

// A subtree /tcpscope-test-<pid> below the cgroup2 mount; every directory made through it is
// removed (deepest first) by the destructor, so a failing test leaves nothing behind. Processes
// placed in it must have exited by then (a populated cgroup cannot be removed).
class TestCgroups
{
public:
    explicit TestCgroups(const QString &root)
        : m_root(root), m_base(QStringLiteral("/tcpscope-test-%1").arg(getpid()))
    {
    }
    ~TestCgroups() { removeAll(); }
    TestCgroups(const TestCgroups &) = delete;
    TestCgroups &operator=(const TestCgroups &) = delete;

    // "/tcpscope-test-<pid>": the subtree's path relative to the mount, as a filter names it.
    QString base() const { return m_base; }
    // The directory of rel ("a/b", below base; "" = base itself) on disk.
    QString dir(const QString &rel = {}) const
    {
        return m_root + m_base + (rel.isEmpty() ? QString() : QLatin1Char('/') + rel);
    }
    // Makes rel and its parents below base; false when one cannot be made.
    bool make(const QString &rel = {})
    {
        QString path = m_root + m_base;
        if (!ensure(path))
            return false;
        for (const QString &part : rel.split(QLatin1Char('/'), Qt::SkipEmptyParts)) {
            path += QLatin1Char('/') + part;
            if (!ensure(path))
                return false;
        }
        return true;
    }
    // The cgroup id of rel (its directory's inode), 0 when it does not exist.
    quint64 id(const QString &rel = {}) const
    {
        struct stat st
        {
        };
        return ::stat(QFile::encodeName(dir(rel)).constData(), &st) == 0 ? quint64(st.st_ino) : 0;
    }
    // sh arguments that move the shell into rel and then run command (exec keeps the pid).
    QStringList shellIn(const QString &rel, const QString &command) const
    {
        return {QStringLiteral("-c"),
                QStringLiteral("echo $$ > '%1/cgroup.procs' && %2").arg(dir(rel), command)};
    }
    void removeAll()
    {
        for (auto it = m_made.crbegin(); it != m_made.crend(); ++it)
            QDir().rmdir(*it);
        m_made.clear();
    }

private:
    bool ensure(const QString &path)
    {
        if (QFileInfo::exists(path))
            return true;
        if (!QDir().mkdir(path))
            return false;
        m_made.append(path);
        return true;
    }

    QString m_root, m_base;
    QStringList m_made;
};

} // namespace tcpscope::test
