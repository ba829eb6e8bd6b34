// SPDX-License-Identifier: GPL-3.0-or-later
// Internal to LiveCapture: its private state, shared by live_capture.cpp (start/stop, owner
// thread) and live_capture_ingest.cpp (the ingest thread: frames, records, publishing).
#pragma once

#include "capture/helper_process.h"
#include "capture/live_capture.h"
#include "connection_tracker.h"
#include "kernel_joiner.h"
#include "packet_joiner.h"
#include "session/session_writer.h"
#include "wire.h"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <sys/socket.h>
#include <thread>
#include <time.h>

namespace tcpscope {

namespace live_detail {

constexpr auto kPublishInterval = std::chrono::milliseconds(250); // ~4 Hz to the UI
constexpr auto kMetaInterval = std::chrono::seconds(1);           // counters into the file
constexpr int kHelloTimeoutMs = 15000;   // loading and attaching BPF takes a moment
constexpr int kStopGraceMs = 3000;       // without progress
constexpr int kStopBacklogMaxMs = 30000; // with progress

inline qint64 realtimeNs()
{
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return qint64(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

inline bool sendAll(int fd, const std::vector<std::uint8_t> &bytes)
{
    std::size_t off = 0;
    while (off < bytes.size()) {
        // MSG_NOSIGNAL: a helper that already died must not take us down with SIGPIPE.
        const ssize_t n = send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        off += std::size_t(n);
    }
    return true;
}

inline QString fromStd(const std::string &s)
{
    return QString::fromStdString(s);
}

} // namespace live_detail

struct LiveCapture::Private
{
    LiveCapture *q = nullptr;
    QString sessionPath;
    std::unique_ptr<SessionWriter> writer;
    HelperProcess helper;
    std::thread ingest;
    bool running = false; // start() succeeded and stop() not yet called (owner thread only)

    std::mutex mutex; // guards the fields below, shared with the ingest thread
    std::condition_variable cond;
    bool helloSeen = false;
    bool streaming = false; // the helper's first Stats: its hooks are attached
    bool ingestDone = false;
    QString failure; // why the stream ended abnormally; empty on a clean end
    SessionInfo info;
    CaptureStats lastStats;
    std::atomic<bool> stopSent{false};
    std::atomic<quint64> bytesIn{0}; // stop() watches it to tell a backlog from a hang

    wire::StartOptions startOptions; // built from CaptureOptions before the helper starts
    QStringList fallbackNotes;       // probe lines: why something asked for is off (fallback)

    // Ingest-thread state.
    ConnectionTracker tracker;
    PacketJoiner joiner{tracker};
    KernelJoiner kernel{tracker, joiner};
    qint64 offsetNs = 0;
    quint64 packetRecords = 0;
    quint64 lostPackets = 0;     // packet ring buffer losses (part of lost)
    quint64 packetsFiltered = 0; // left out by the kernel-side filter
    quint64 samples = 0;         // tcp_probe sample records
    quint64 kernelEvents = 0;    // retransmit/RST/congestion-state records
    quint64 drops = 0;           // kfree_skb drop records
    quint64 records = 0;
    quint64 lost = 0;   // ring buffer losses + missed program runs
    quint64 missed = 0; // missed program runs alone

    void runIngest();
    bool isHelloSeen()
    {
        std::lock_guard lock(mutex);
        return helloSeen;
    }
    bool waitIngestDone(int ms)
    {
        std::unique_lock lock(mutex);
        return cond.wait_for(lock, std::chrono::milliseconds(ms), [this] { return ingestDone; });
    }
    bool handleFrame(const wire::Frame &frame, QString *error);
    void handleRecord(const wire::Record &r);
    // Counters of the ingest thread into info (caller holds mutex).
    void fillCounters(SessionInfo &si) const;
    void publish(bool force);
    // Drops closed connections whose grace period is over (and the joiners' state for them).
    void evict();
    QString helperFailureText(const QString &fallback);

    std::chrono::steady_clock::time_point lastPublish{};
    std::chrono::steady_clock::time_point lastMeta{};
    quint64 recordsAtLastPublish = 0;
};

} // namespace tcpscope
