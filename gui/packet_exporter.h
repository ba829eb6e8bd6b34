// SPDX-License-Identifier: GPL-3.0-or-later
// File ▸ Export Packets (pcapng): writePcapng on a worker thread. The packets are handed over
// as an implicitly shared QVector (no copy unless the live capture appends meanwhile).
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
    bool start(SessionData session, const QString &path, const QVector<qint64> &connectionIds);

signals:
    // count = packets written, or -1 with error.
    void finished(const QString &path, qint64 count, const QString &error);

private:
    std::unique_ptr<QThread> m_thread;
};

} // namespace tcpscope
