// SPDX-License-Identifier: GPL-3.0-or-later
// Test support: runs tcpscope-helper the way the app does (socketpair, --fd 3) and speaks the
// wire protocol to it; inspects what the helper holds in the kernel.
#pragma once

#include "wire.h"

#include <QSet>
#include <QString>
#include <QStringList>
#include <optional>
#include <sys/types.h>

namespace tcpscope::test {

class HelperProcess
{
public:
    HelperProcess() = default;
    HelperProcess(const HelperProcess &) = delete;
    HelperProcess &operator=(const HelperProcess &) = delete;
    ~HelperProcess(); // SIGKILLs and reaps a helper that is still running

    // Forks and execs `helper --fd 3 args...`; runAsUid >= 0 drops to that uid first.
    bool start(const QString &helper, const QStringList &args, QString *error, int runAsUid = -1);
    pid_t pid() const { return m_pid; }
    bool send(const std::vector<std::uint8_t> &frame);
    void closeSocket();
    // Next frame within timeoutMs; nullopt on timeout, EOF or a malformed frame (see error).
    std::optional<wire::Frame> readFrame(int timeoutMs, QString *error);
    // Exit status (WEXITSTATUS, or 128+signal) or -1 if still running after timeoutMs.
    int waitExit(int timeoutMs);
    void kill(int signal);
    QString stderrText() const;

private:
    pid_t m_pid = -1;
    int m_fd = -1;
    QString m_stderrPath;
    wire::FrameDecoder m_decoder;
};

// IDs of BPF programs and links held by a process, from /proc/PID/fdinfo.
struct BpfObjects
{
    QSet<quint32> progIds;
    QSet<quint32> linkIds;
};
BpfObjects bpfObjectsOf(pid_t pid);
// Which of the given ids the kernel still has (bpftool -j prog/link show). Empty = all gone.
// bpftoolError is set when bpftool could not be run.
BpfObjects stillLoaded(const BpfObjects &ids, QString *bpftoolError);
// Names of loaded programs starting with "tcpscope" (informational: other users may run one).
QStringList loadedTcpscopePrograms();
// tracefs entries in this process's mount table.
QStringList tracefsMounts();

} // namespace tcpscope::test
