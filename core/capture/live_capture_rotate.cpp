// SPDX-License-Identifier: GPL-3.0-or-later
// LiveCapture's ring of session files: the ingest thread switches to a new SessionWriter when
// the current file is due, carries the connections it still holds into the new file, and hands
// the previous writer to a closer thread (final commit, checkpoint, deleting files beyond
// --keep) so ingest never waits on the disk.
#include "capture/live_capture_private.h"

#include <QDateTime>
#include <QFileInfo>

namespace tcpscope {

using namespace live_detail;

qint64 LiveCapture::Private::currentFileBytes() const
{
    // While recording (WAL) committed batches sit in the -wal file until a checkpoint: both
    // are the file's size on disk.
    return QFileInfo(sessionPath).size() + QFileInfo(sessionPath + QStringLiteral("-wal")).size();
}

QString LiveCapture::Private::joinCloser()
{
    if (closer.joinable())
        closer.join();
    std::lock_guard lock(closerMutex);
    QString error;
    std::swap(error, closerError);
    return error;
}

bool LiveCapture::Private::maybeRotate(std::chrono::steady_clock::time_point now)
{
    if (!ring || !writer)
        return true;
    const RotationLimits &limits = ring->limits();
    const bool byTime = limits.maxDurationMs > 0 &&
                        now - fileStarted >= std::chrono::milliseconds(limits.maxDurationMs);
    const bool bySize = limits.maxBytes > 0 && currentFileBytes() >= limits.maxBytes;
    if (!byTime && !bySize)
        return true;
    fileStarted = now;
    return rotate();
}

bool LiveCapture::Private::rotate()
{
    // The previous file is normally long finished; if finishing it failed, stop here rather
    // than keep recording into a ring that loses files.
    if (const QString error = joinCloser(); !error.isEmpty()) {
        rotateError = error;
        return false;
    }
    QString err;
    const std::optional<QString> next = ring->nextPath(QDateTime::currentDateTime(), &err);
    std::unique_ptr<SessionWriter> fresh = next ? SessionWriter::create(*next, &err) : nullptr;
    if (!fresh) {
        rotateError = QStringLiteral("cannot start the next session file: ") + err;
        return false;
    }
    const qint64 nowNs = realtimeNs();
    const QString oldPath = sessionPath;
    SessionInfo finished, started;
    QStringList expired;
    {
        std::lock_guard lock(mutex);
        info.stoppedNs = nowNs;
        fillCounters(info);
        info.interfaces = pipeline.packets().interfaces();
        finished = info;
        base = CounterBase{records,         lost,    missed,       packetRecords, lostPackets,
                           packetsFiltered, samples, kernelEvents, drops,         readerDropped};
        info.interruptions.clear(); // each file lists those within its own time range
        info.startedNs = nowNs;
        info.stoppedNs = 0;
        fillCounters(info);
        started = info;
        sessionPath = *next;
        ring->added(*next);
        expired = ring->takeExpired();
        files = ring->files();
    }
    // The connections still held (open, or closed within their grace period) are carried as
    // their current rows, so the packets, samples and events this file gets for them join.
    fresh->setInfo(started);
    for (const Connection &c : pipeline.tracker().all())
        fresh->writeConnection(c);
    std::unique_ptr<SessionWriter> old = std::move(writer);
    writer = std::move(fresh);
    old->setInfo(finished);
    closer = std::thread([this, old = std::move(old), oldPath, expired]() mutable {
        QString error;
        if (!old->close(&error))
            error = oldPath + QStringLiteral(": ") + error;
        old.reset();
        closedBytes += QFileInfo(oldPath).size();
        for (const QString &path : std::as_const(expired)) {
            QString why;
            if (!removeRingFile(path, &why) && error.isEmpty())
                error = why;
        }
        std::lock_guard lock(closerMutex);
        closerError = error;
    });
    return true;
}

} // namespace tcpscope
