// SPDX-License-Identifier: GPL-3.0-or-later
#include "models/packet_scan_job.h"

#include "models/background_thread.h"

#include <QThread>

namespace tcpscope {

struct PacketScanJob::Run
{
    std::atomic<bool> cancel{false};
    PacketScanResult result;
    std::unique_ptr<QThread> thread;
};

PacketScanJob::PacketScanJob(QObject *parent) : QObject(parent) {}

PacketScanJob::~PacketScanJob()
{
    for (const auto &run : std::as_const(m_running))
        run->cancel = true;
    for (const auto &run : std::as_const(m_running))
        run->thread->wait(); // ends at its next packet
}

void PacketScanJob::start(const QString &sessionPath, const QVector<qint64> &connections,
                          std::function<bool(const Packet &)> keep, qint64 cap,
                          std::function<void(const Session &)> prepare)
{
    cancel();
    auto run = std::make_shared<Run>();
    Run *raw = run.get();
    run->thread.reset(QThread::create(
        [raw, sessionPath, connections, keep = std::move(keep), cap, prepare = std::move(prepare)] {
            raw->result = scanPackets(sessionPath, connections, keep, cap, raw->cancel, prepare);
            releaseFreedMemory();
        }));
    // The job owns its runs (m_running); the connection holds only a weak reference, so a
    // joined thread and its connection go away with the Run.
    const std::weak_ptr<Run> weak = run;
    connect(
        run->thread.get(), &QThread::finished, this,
        [this, weak] {
            if (const std::shared_ptr<Run> done = weak.lock())
                onThreadFinished(done);
        },
        Qt::QueuedConnection);
    m_running.append(run);
    m_current = run;
    run->thread->start(QThread::LowPriority);
}

void PacketScanJob::cancel()
{
    if (!m_current)
        return;
    m_current->cancel = true;
    m_current.reset();
}

void PacketScanJob::onThreadFinished(const std::shared_ptr<Run> &run)
{
    run->thread->wait();
    m_running.removeOne(run);
    if (run != m_current)
        return; // replaced or cancelled
    m_current.reset();
    emit finished(run->result);
}

} // namespace tcpscope
