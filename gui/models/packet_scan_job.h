// SPDX-License-Identifier: GPL-3.0-or-later
// Runs scanPackets on a worker thread, one scan at a time from the owner's point of view: a new
// start() or cancel() makes the running scan stop at its next packet and its result is dropped.
// finished() comes on the owner's thread. Destroying the job stops and joins its threads.
#pragma once

#include "models/packet_filter.h"

#include <QObject>

#include <memory>

namespace tcpscope {

class PacketScanJob : public QObject
{
    Q_OBJECT
public:
    explicit PacketScanJob(QObject *parent = nullptr);
    ~PacketScanJob() override;

    // prepare (may be empty) runs on the worker's session before the scan.
    void start(const QString &sessionPath, const QVector<qint64> &connections,
               std::function<bool(const Packet &)> keep, qint64 cap,
               std::function<void(const Session &)> prepare = {});
    void cancel();
    bool isRunning() const { return m_current != nullptr; }

signals:
    void finished(const tcpscope::PacketScanResult &result);

private:
    struct Run;
    void onThreadFinished(const std::shared_ptr<Run> &run);

    std::shared_ptr<Run> m_current;
    QVector<std::shared_ptr<Run>> m_running; // every run whose thread has not been joined
};

} // namespace tcpscope
