// SPDX-License-Identifier: GPL-3.0-or-later
// The tcpscope-helper child: spawned with its end of a socketpair as fd 3 and its stderr on a
// pipe (its one-line failure reasons become our error text), in its own process group so a
// terminal's Ctrl-C reaches only us and we can stop it cleanly. Reaped in terminate().
// For a remote capture the child is ssh instead, with the socketpair's end as its stdin and
// stdout (see capture/remote_transport.h).
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

    struct SpawnOptions
    {
        // The child's end of the socketpair as its stdin and stdout (ssh) instead of fd 3 with
        // stdin on /dev/null (the local helper's --fd 3).
        bool peerOnStdio = false;
        // A process group of its own, so a terminal's Ctrl-C reaches only us. Off for an ssh that
        // may ask for a password on the terminal: a background group could not read it.
        bool ownProcessGroup = true;
        // SIGINT and SIGQUIT ignored in the child (ssh leaves an ignored signal ignored): Ctrl-C
        // on a shared terminal stops the capture through us instead of killing the transport.
        bool ignoreInterrupts = false;
    };
    // False + reason when the executable is missing or fork/socketpair fail.
    bool spawn(const QString &program, const QStringList &args, QString *error)
    {
        return spawn(program, args, SpawnOptions{}, error);
    }
    bool spawn(const QString &program, const QStringList &args, const SpawnOptions &options,
               QString *error);

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
