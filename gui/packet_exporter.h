// SPDX-License-Identifier: GPL-3.0-or-later
// File ▸ Export Packets (pcapng): writePcapng on a worker thread, which reads what it writes
// from its own Session handle on the file (the GUI holds no packets to hand over). The pcapng
// writer takes the packets in memory: a whole-session export of a very large session needs
// that memory on the worker for the time of the export.
#pragma once

#include "session/session_reader.h"

#include <QObject>
#include <QThread>

#include <memory>

namespace tcpscope {

class PacketExporter : public QObject
{
    Q_OBJECT
public:
    explicit PacketExporter(QObject *parent = nullptr);
    ~PacketExporter() override; // waits for a write in flight (it cannot be interrupted)

    bool isRunning() const { return m_thread != nullptr; }
    // connectionIds empty = all packets. False when an export is already running.
    bool start(const QString &sessionPath, const QString &path,
               const QVector<qint64> &connectionIds);

signals:
    // count = packets written, or -1 with error.
    void finished(const QString &path, qint64 count, const QString &error);

private:
    std::unique_ptr<QThread> m_thread;
};

} // namespace tcpscope
