// SPDX-License-Identifier: GPL-3.0-or-later
// Internal to LiveCapture: its private state, shared by live_capture.cpp (start/stop, owner
// thread) and live_capture_ingest.cpp (the ingest thread: frames, records, publishing).
#pragma once

#include "capture/capture_options.h"
#include "capture/clock_sync.h"
#include "capture/helper_process.h"
#include "capture/live_capture.h"
#include "detect/alert_engine.h"
#include "model/cgroup.h"
#include "pipeline/record_pipeline.h"
#include "session/session_writer.h"
#include "wire.h"

#include <QSet>
#include <QStringList>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <sys/socket.h>
#include <thread>
#include <time.h>

namespace tcpscope {

namespace live_detail {

constexpr auto kPublishInterval = std::chrono::milliseconds(250); // ~4 Hz to the UI
// At the end of a capture the reorder window is written in slices of this much record time.
constexpr quint64 kFinalFlushStepNs = 50'000'000;
constexpr auto kMetaInterval = std::chrono::seconds(1); // counters into the file
constexpr int kHelloTimeoutMs = 15000;                  // loading and attaching BPF takes a moment
// Through ssh: connecting and logging in first; longer when ssh may ask the user a question.
constexpr int kRemoteHelloTimeoutMs = 60000;
constexpr int kRemotePromptHelloTimeoutMs = 300000;
constexpr int kStopGraceMs = 3000;       // without progress
constexpr int kStopBacklogMaxMs = 30000; // with progress
constexpr int kMaxHelperNotes = 32;      // helper warnings recorded in the probe notes

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

// Counter values at the start of the current session file: each file's meta counts what
// arrived while it was the current one.
struct CounterBase
{
    quint64 records = 0, lost = 0, missed = 0, packetRecords = 0, lostPackets = 0,
            packetsFiltered = 0, samples = 0, kernelEvents = 0, drops = 0, readerDropped = 0;
};

struct LiveCapture::Private
{
    LiveCapture *q = nullptr;
    // The current file: written by the ingest thread at a rotation, read by the owner (mutex).
    QString sessionPath;
    // Owned by the ingest thread while it runs (a rotation replaces it), else by the owner.
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
    std::optional<wire::ErrorMessage> helperError; // the helper's typed Error, if it sent one
    int helperNotes = 0; // helper warnings recorded in info.probes (capped)
    SessionInfo info;
    CaptureStats lastStats;
    std::atomic<bool> stopSent{false};
    std::atomic<quint64> bytesIn{0}; // stop() watches it to tell a backlog from a hang
    QStringList files;               // this recording's files still on disk, oldest first

    // Rotation (ingest thread; the owner only after the ingest thread ended).
    std::optional<SessionRing> ring;
    std::chrono::steady_clock::time_point fileStarted{};
    std::atomic<qint64> closedBytes{0}; // final size of the files finished before the current one
    std::thread closer; // finishes the previous file (close + deleting expired files)
    std::mutex closerMutex;
    QString closerError; // guarded by closerMutex
    QString rotateError; // set by a failed rotation: the ingest loop ends with it
    CounterBase base;

    wire::StartOptions startOptions; // built from CaptureOptions before the helper starts
    // The filter's cgroup paths and netns names, resolved against the helper's HostOwners
    // (which comes right after Hello) before Start is sent.
    OwnerTerms ownerTerms;
    bool hostOwnersSeen = false;
    bool badFilter = false; // the report did not have a path or name of the filter
    // A remote capture's owner names, from the remote helper's HostOwners (the local
    // OwnerNamer cannot read that host's /sys/fs/cgroup); ids named once each.
    OwnerNames remoteNames;
    QSet<quint64> remoteNamedCgroups, remoteNamedNetns;
    std::optional<RemoteTarget> remote; // the helper runs there, through ssh
    // A remote capture: the remote clock against this machine's (ClockProbe burst after
    // HostOwners, before Start; then every 10 s). Its records are converted to this machine's
    // clock, so sessions of several hosts recorded from here share one time axis.
    ClockSync clock;
    bool startSent = false;
    // A remote start's failure kind, decided from ssh's exit status by helperFailureText().
    CaptureFailure remoteFailure = CaptureFailure::Other;
    QStringList fallbackNotes; // probe lines: why something asked for is off (fallback)

    // Ingest-thread state.
    RecordPipeline pipeline;             // reorder window -> tracker -> joiners -> analysis
    std::unique_ptr<AlertEngine> alerts; // the detectors, when on
    // Names the cgroup ids and network namespaces of connections on this machine (not for a
    // remote capture: these ids are the remote host's).
    std::unique_ptr<OwnerNamer> owners;
    std::unique_ptr<TriggerRing> trigger; // triggered capture, when on
    qint64 offsetNs = 0;
    quint64 packetRecords = 0;
    quint64 lostPackets = 0;     // packet ring buffer losses (part of lost)
    quint64 packetsFiltered = 0; // left out by the kernel-side filter
    quint64 samples = 0;         // tcp_probe sample records
    quint64 kernelEvents = 0;    // retransmit/RST/congestion-state records
    quint64 drops = 0;           // kfree_skb drop records
    quint64 records = 0;
    quint64 lost = 0;          // ring buffer losses + missed program runs
    quint64 missed = 0;        // missed program runs alone
    quint64 readerDropped = 0; // dropped by the helper while we did not read (its Stats)
    quint64 lastStatsNs = 0;   // monotonic time of the previous Stats

    ~Private()
    {
        if (closer.joinable())
            closer.join();
    }
    void runIngest();
    // Interruptions (info.interruptions, under mutex): records the helper dropped between two
    // Stats, and the end of a capture that did not stop cleanly.
    void noteReaderDrops(quint64 fromNs, quint64 toNs, quint64 records);
    void noteAbnormalEnd(const QString &why);
    bool isHelloSeen()
    {
        std::lock_guard lock(mutex);
        return helloSeen;
    }
    bool isStreaming()
    {
        std::lock_guard lock(mutex);
        return streaming;
    }
    bool waitIngestDone(int ms)
    {
        std::unique_lock lock(mutex);
        return cond.wait_for(lock, std::chrono::milliseconds(ms), [this] { return ingestDone; });
    }
    bool handleFrame(const wire::Frame &frame, QString *error);
    bool sendStart(QString *error);
    bool sendClockProbe(QString *error);
    // The remote host's clock offset and its error bound into the session's hosts row.
    void noteClock();
    // The names of a remote capture's ids not named yet, from the remote HostOwners.
    OwnerNames newRemoteNames(const QVector<Connection> &connections);
    void handleRecord(const wire::Record &r);
    // Counters of the ingest thread into info (caller holds mutex).
    void fillCounters(SessionInfo &si) const;
    void publish(bool force);
    // Starts the next ring file when the current one is due (size or time); false + reason
    // in rotateError when the next file cannot be created or the previous one not finished.
    bool maybeRotate(std::chrono::steady_clock::time_point now);
    bool rotate();
    qint64 currentFileBytes() const;
    // Joins the closer thread; its error, if any.
    QString joinCloser();
    // Why the helper (or, remote, the ssh connection) ended without a reason in the stream:
    // its stderr's last line and its exit status. Reaps it if it exits within half a second.
    QString helperFailureText(const QString &fallback);
    // "tcpscope-helper", or "tcpscope-helper on 'DEST'" for a remote capture.
    QString helperName() const;

    std::chrono::steady_clock::time_point lastPublish{};
    std::chrono::steady_clock::time_point lastMeta{};
    quint64 recordsAtLastPublish = 0;
};

} // namespace tcpscope
