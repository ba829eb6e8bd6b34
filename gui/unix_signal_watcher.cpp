// SPDX-License-Identifier: GPL-3.0-or-later
#include "unix_signal_watcher.h"

#include <QSocketNotifier>

#include <csignal>
#include <sys/socket.h>
#include <unistd.h>

namespace tcpscope {

namespace {
int g_writeFd = -1; // only one watcher per process; async-signal-safe access from the handler

void handler(int sig)
{
    const unsigned char byte = static_cast<unsigned char>(sig);
    if (g_writeFd >= 0) {
        const ssize_t n = ::write(g_writeFd, &byte, 1); // a full pipe already has a pending wake-up
        (void)n;
    }
}
} // namespace

UnixSignalWatcher::UnixSignalWatcher(QObject *parent) : QObject(parent)
{
    if (g_writeFd >= 0 ||
        ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, m_fds) != 0)
        return; // no watcher: signals keep their default action
    g_writeFd = m_fds[0];
    m_notifier = new QSocketNotifier(m_fds[1], QSocketNotifier::Read, this);
    connect(m_notifier, &QSocketNotifier::activated, this, &UnixSignalWatcher::onReadable);
    struct sigaction sa = {};
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    for (int sig : {SIGINT, SIGTERM, SIGHUP})
        ::sigaction(sig, &sa, nullptr);
}

UnixSignalWatcher::~UnixSignalWatcher()
{
    if (m_fds[0] < 0)
        return;
    struct sigaction sa = {};
    sa.sa_handler = SIG_DFL;
    for (int sig : {SIGINT, SIGTERM, SIGHUP})
        ::sigaction(sig, &sa, nullptr);
    g_writeFd = -1;
    delete m_notifier; // before its fd goes away
    m_notifier = nullptr;
    ::close(m_fds[0]);
    ::close(m_fds[1]);
}

void UnixSignalWatcher::onReadable()
{
    unsigned char byte = 0;
    while (::read(m_fds[1], &byte, 1) == 1)
        emit terminationRequested(byte);
}

} // namespace tcpscope
