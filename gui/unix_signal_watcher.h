// SPDX-License-Identifier: GPL-3.0-or-later
// Turns SIGINT/SIGTERM/SIGHUP into a Qt signal (self-pipe trick), so `kill` or Ctrl-C in the
// launching terminal closes the window normally: a running capture is stopped and its session
// file finalized instead of being left half-written.
#pragma once

#include <QObject>

class QSocketNotifier;

namespace tcpscope {

class UnixSignalWatcher : public QObject
{
    Q_OBJECT
public:
    explicit UnixSignalWatcher(QObject *parent = nullptr);
    ~UnixSignalWatcher() override;

signals:
    void terminationRequested(int signalNumber);

private:
    void onReadable();

    int m_fds[2] = {-1, -1};               // socketpair: [0] written by the handler, [1] read here
    QSocketNotifier *m_notifier = nullptr; // child
};

} // namespace tcpscope
