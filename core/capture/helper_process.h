// SPDX-License-Identifier: GPL-3.0-or-later
// The tcpscope-helper child: spawned with its end of a socketpair as fd 3 and its stderr on a
// pipe (its one-line failure reasons become our error text), in its own process group so a
// terminal's Ctrl-C reaches only us and we can stop it cleanly. Reaped in terminate().
#pragma once

#include "unique_fd.h"

#include <QString>
#include <QStringList>
#include <atomic>
#include <sys/types.h>

namespace tcpscope {

class HelperProcess
{
public:
    HelperProcess() = default;
    HelperProcess(const HelperProcess &) = delete;
    HelperProcess &operator=(const HelperProcess &) = delete;
    ~HelperProcess(); // terminate(0)

    // False + reason when the executable is missing or fork/socketpair fail.
    bool spawn(const QString &program, const QStringList &args, QString *error);

    int socketFd() const { return m_socket.get(); }
    int stderrFd() const { return m_stderr.get(); }
    pid_t pid() const { return m_pid; }
    bool running() const { return m_pid > 0; }

    // Reads what is available on the stderr pipe into the kept tail (non-blocking).
    // Returns false once the pipe reached EOF.
    bool drainStderr();
    // Last non-empty line the helper wrote to stderr.
    QString lastStderrLine() const;

    // Non-blocking reap; true if it has exited (status then available).
    bool tryReap();
    // Waits up to graceMs for a voluntary exit, then SIGTERM (1 s), then SIGKILL; always reaps.
    // Only when no other thread uses this object any more.
    void terminate(int graceMs);
    // Signals the helper (no-op once reaped). Safe while another thread reads its socket.
    void sendSignal(int sig);
    // "exited with status 1", "killed by signal 9"; empty while running.
    QString exitDescription() const;
    int exitStatus() const { return m_status; }

private:
    std::atomic<pid_t> m_pid{-1}; // read by sendSignal() from another thread
    int m_status = 0;
    bool m_reaped = false;
    UniqueFd m_socket;
    UniqueFd m_stderr;
    QByteArray m_stderrTail;
};

} // namespace tcpscope
