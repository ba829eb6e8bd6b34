// SPDX-License-Identifier: GPL-3.0-or-later
#include "capture/live_capture.h"

#include "capture/helper_process.h"
#include "connection_tracker.h"
#include "packet_joiner.h"
#include "session/session_writer.h"
#include "wire.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <mutex>
#include <poll.h>
#include <sys/socket.h>
#include <thread>
#include <time.h>

#ifndef TCPSCOPE_VERSION
#define TCPSCOPE_VERSION "unknown"
#endif

namespace tcpscope {

namespace {

constexpr auto kPublishInterval = std::chrono::milliseconds(250); // ~4 Hz to the UI
constexpr auto kMetaInterval = std::chrono::seconds(1);           // counters into the file
constexpr int kHelloTimeoutMs = 15000;   // loading and attaching BPF takes a moment
constexpr int kStopGraceMs = 3000;       // without progress
constexpr int kStopBacklogMaxMs = 30000; // with progress

qint64 realtimeNs()
{
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return qint64(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

bool sendAll(int fd, const std::vector<std::uint8_t> &bytes)
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

QString fromStd(const std::string &s)
{
    return QString::fromStdString(s);
}

} // namespace

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
    QString packetNote;              // why packets are off although asked for (fallback)

    // Ingest-thread state.
    ConnectionTracker tracker;
    PacketJoiner joiner{tracker};
    qint64 offsetNs = 0;
    quint64 packetRecords = 0;
    quint64 lostPackets = 0;     // packet ring buffer losses (part of lost)
    quint64 packetsFiltered = 0; // left out by the kernel-side filter
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
    void publish(bool force);
    QString helperFailureText(const QString &fallback);

    std::chrono::steady_clock::time_point lastPublish{};
    std::chrono::steady_clock::time_point lastMeta{};
    quint64 recordsAtLastPublish = 0;
};

LiveCapture::LiveCapture(QObject *parent) : QObject(parent), d(std::make_unique<Private>())
{
    d->q = this;
    qRegisterMetaType<tcpscope::Connection>();
    qRegisterMetaType<QVector<tcpscope::Connection>>();
    qRegisterMetaType<tcpscope::SessionInfo>();
    qRegisterMetaType<tcpscope::CaptureStats>();
    qRegisterMetaType<tcpscope::Packet>();
    qRegisterMetaType<QVector<tcpscope::Packet>>();
}

LiveCapture::~LiveCapture()
{
    stop();
}

QString LiveCapture::helperPath()
{
    const QByteArray env = qgetenv("TCPSCOPE_HELPER");
    if (!env.isEmpty())
        return QString::fromLocal8Bit(env);
    QString dir = QCoreApplication::instance() ? QCoreApplication::applicationDirPath()
                                               : QFileInfo(QStringLiteral("/proc/self/exe"))
                                                     .canonicalFilePath()
                                                     .section(QLatin1Char('/'), 0, -2);
    return QDir(dir).filePath(QStringLiteral("tcpscope-helper"));
}

bool LiveCapture::isRunning() const
{
    return d->running;
}

QString LiveCapture::sessionPath() const
{
    return d->sessionPath;
}

CaptureStats LiveCapture::stats() const
{
    std::lock_guard lock(d->mutex);
    return d->lastStats;
}

QString LiveCapture::Private::helperFailureText(const QString &fallback)
{
    // The helper explains itself on stderr (e.g. missing privileges); prefer its words.
    // Give a dying helper a moment so its exit status can be part of the reason.
    for (int i = 0; i < 50 && !helper.tryReap(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    helper.drainStderr();
    const QString line = helper.lastStderrLine();
    const QString exit = helper.exitDescription();
    if (line.isEmpty())
        return exit.isEmpty() ? fallback : QStringLiteral("tcpscope-helper %1").arg(exit);
    // A signal is news the helper could not tell itself (e.g. the OOM killer's SIGKILL).
    return exit.startsWith(QLatin1String("killed")) ? QStringLiteral("%1 (%2)").arg(line, exit)
                                                    : line;
}

bool LiveCapture::start(const QString &sessionPath, const CaptureOptions &options, QString *error)
{
    QString err;
    if (startOnce(sessionPath, options, QString(), &err))
        return true;
    // A helper that cannot capture packets (one built before packet capture, or whose kernel
    // side refuses the options) rejects the Start frame. When the user asked for nothing
    // packet-specific, a lifecycle-only capture is better than none: it says so in the probe
    // report and in SessionInfo.packetsCaptured. An explicit --filter/--snap fails instead.
    const bool defaults =
        options.packets && options.filter.trimmed().isEmpty() && options.snapLen == 0;
    if (defaults && err.contains(QLatin1String("Start:"))) {
        CaptureOptions lifecycle = options;
        lifecycle.packets = false;
        QString retryErr;
        if (startOnce(sessionPath, lifecycle, err, &retryErr))
            return true;
    }
    if (error)
        *error = err;
    return false;
}

bool LiveCapture::startOnce(const QString &sessionPath, const CaptureOptions &options,
                            const QString &packetNote, QString *error)
{
    auto fail = [error](const QString &why) {
        if (error)
            *error = why;
        return false;
    };
    if (d->running)
        return fail(QStringLiteral("a capture is already running"));
    stop(); // clean up leftovers of a capture that failed on its own

    QString err;
    // A bad filter is the user's typo: say so before touching files or starting the helper.
    const std::optional<wire::StartOptions> startOptions = buildStartOptions(options, &err);
    if (!startOptions)
        return fail(err);
    d = std::make_unique<Private>();
    d->q = this;
    d->startOptions = *startOptions;
    d->packetNote = packetNote;
    // The file first: an unwritable path should fail before a privileged helper is started.
    d->writer = SessionWriter::create(sessionPath, &err);
    if (!d->writer)
        return fail(err);
    d->sessionPath = sessionPath;
    d->info.packetsCaptured = options.packets;
    d->info.captureFilter = options.packets ? options.filter.simplified() : QString();
    if (!d->helper.spawn(helperPath(), {QStringLiteral("--fd"), QStringLiteral("3")}, &err)) {
        d->writer->close();
        d->writer.reset();
        QFile::remove(sessionPath);
        return fail(err);
    }
    d->ingest = std::thread([p = d.get()] { p->runIngest(); });

    std::unique_lock lock(d->mutex);
    const bool ready = d->cond.wait_for(lock, std::chrono::milliseconds(kHelloTimeoutMs),
                                        [this] { return d->streaming || d->ingestDone; });
    const bool ok = ready && d->streaming;
    QString reason = d->failure;
    lock.unlock();
    if (ok) {
        d->running = true;
        return true;
    }
    // No Hello: let the helper finish saying why, then clean up completely.
    shutdown(d->helper.socketFd(), SHUT_RDWR);
    if (d->ingest.joinable())
        d->ingest.join();
    d->helper.terminate(ready ? 1000 : 0);
    if (!ready)
        reason = QStringLiteral("tcpscope-helper did not answer within %1 s")
                     .arg(kHelloTimeoutMs / 1000);
    reason = d->helperFailureText(reason);
    d->writer->close();
    d->writer.reset();
    QFile::remove(sessionPath);
    return fail(reason.isEmpty() ? QStringLiteral("tcpscope-helper failed to start") : reason);
}

void LiveCapture::stop()
{
    if (!d->ingest.joinable() && !d->writer)
        return;
    const bool wasRunning = d->running;
    d->running = false;
    if (d->ingest.joinable()) {
        d->stopSent = true;
        sendAll(d->helper.socketFd(), wire::encodeStop());
        // The helper flushes what it has, then closes: wait for that EOF while data still
        // flows (a backlog after heavy churn takes a while to ingest), bounded; then insist.
        quint64 before = d->bytesIn;
        bool done = d->waitIngestDone(kStopGraceMs);
        for (int extra = 0;
             !done && d->bytesIn != before && extra < kStopBacklogMaxMs / kStopGraceMs; ++extra) {
            before = d->bytesIn;
            done = d->waitIngestDone(kStopGraceMs);
        }
        if (!done) {
            d->helper.sendSignal(SIGTERM);
            if (!d->waitIngestDone(1000)) {
                d->helper.sendSignal(SIGKILL);
                if (!d->waitIngestDone(1000))
                    shutdown(d->helper.socketFd(), SHUT_RDWR);
            }
        }
        d->ingest.join();
    }
    d->helper.terminate(1000);
    if (d->writer) {
        std::lock_guard lock(d->mutex);
        d->info.stoppedNs = realtimeNs();
        d->info.recordsReceived = d->records;
        d->info.lostRecords = d->lost;
        d->info.missedProgramRuns = d->missed;
        d->info.packetsReceived = d->packetRecords;
        d->info.lostPackets = d->lostPackets;
        d->info.packetsFiltered = d->packetsFiltered;
        d->writer->setInfo(d->info);
    }
    QString err;
    if (d->writer && !d->writer->close(&err))
        emit failed(err);
    d->writer.reset();
    if (wasRunning)
        emit stopped();
}

void LiveCapture::Private::publish(bool force)
{
    const auto now = std::chrono::steady_clock::now();
    if (!force && now - lastPublish < kPublishInterval)
        return;
    const double seconds = std::chrono::duration<double>(now - lastPublish).count();
    // Packets first through the joiner: delivering them changes their connections' counts.
    QVector<Packet> packets = joiner.takePackets();
    QVector<Connection> changed = tracker.takeChanged();
    for (const Connection &c : std::as_const(changed))
        writer->writeConnection(c);
    writer->writePackets(packets);
    const bool interfacesChanged = joiner.takeInterfacesChanged();
    if (force || interfacesChanged || now - lastMeta >= kMetaInterval) {
        std::lock_guard lock(mutex);
        info.recordsReceived = records;
        info.lostRecords = lost;
        info.missedProgramRuns = missed;
        info.packetsReceived = packetRecords;
        info.lostPackets = lostPackets;
        info.packetsFiltered = packetsFiltered;
        info.interfaces = joiner.interfaces();
        writer->setInfo(info);
        lastMeta = now;
    }
    CaptureStats stats;
    stats.recordsReceived = records;
    stats.lostRecords = lost;
    stats.missedProgramRuns = missed;
    stats.connectionsSeen = quint64(tracker.size());
    stats.packetsReceived = packetRecords;
    stats.lostPackets = lostPackets;
    stats.packetsFiltered = packetsFiltered;
    stats.recordsPerSecond = seconds > 0 && lastPublish.time_since_epoch().count() != 0
                                 ? double(records - recordsAtLastPublish) / seconds
                                 : 0.0;
    recordsAtLastPublish = records;
    lastPublish = now;
    {
        std::lock_guard lock(mutex);
        lastStats = stats;
    }
    // Emitted from the ingest thread: receivers in other threads get queued copies.
    if (!changed.isEmpty())
        emit q->connectionsUpdated(changed);
    if (!packets.isEmpty())
        emit q->packetsAdded(packets); // after their connections, so every id exists
    emit q->statsUpdated(stats);
}

bool LiveCapture::Private::handleFrame(const wire::Frame &frame, QString *error)
{
    std::string err;
    const std::span<const std::uint8_t> payload(frame.payload);
    const bool hello = isHelloSeen();
    if (!hello && frame.type != wire::MessageType::Hello &&
        frame.type != wire::MessageType::Error) {
        *error = QStringLiteral("protocol error: %1 before Hello")
                     .arg(fromStd(wire::messageTypeName(quint16(frame.type))));
        return false;
    }
    switch (frame.type) {
    case wire::MessageType::Hello: {
        if (hello) {
            *error = QStringLiteral("protocol error: second Hello");
            return false;
        }
        const auto h = wire::decodeHello(payload, err);
        if (!h) {
            *error = QStringLiteral("protocol error: ") + fromStd(err);
            return false;
        }
        offsetNs = qint64(h->realtimeNs) - qint64(h->monotonicNs);
        joiner.setClockOffset(offsetNs); // and the tracker's
        SessionInfo si;
        si.kernelRelease = fromStd(h->kernelRelease);
        si.hostname = fromStd(h->hostname);
        si.tcpscopeVersion = QStringLiteral(TCPSCOPE_VERSION);
        for (const wire::ProbeReport &p : h->probes) {
            QString line = fromStd(p.name) + QLatin1Char('=') + fromStd(p.status);
            if (!p.detail.empty())
                line += QStringLiteral(" (") + fromStd(p.detail) + QLatin1Char(')');
            si.probes << line;
        }
        if (!packetNote.isEmpty())
            si.probes << QStringLiteral("packets=unavailable (%1)").arg(packetNote);
        si.packetsCaptured = (startOptions.flags & wire::StartOptions::kPackets) != 0;
        {
            std::lock_guard lock(mutex);
            si.captureFilter = info.captureFilter; // set by start()
        }
        // started_ns is set by the first Stats, when the hooks are really attached.
        writer->setInfo(si);
        if (!sendAll(helper.socketFd(), wire::encodeStart(startOptions))) {
            *error = QStringLiteral("cannot send Start to tcpscope-helper");
            return false;
        }
        {
            std::lock_guard lock(mutex);
            info = si;
            helloSeen = true;
        }
        return true;
    }
    case wire::MessageType::Records: {
        const bool ok = wire::forEachRecord(
            payload,
            [this](const wire::Record &r) {
                ++records;
                if (r.type == TS_REC_STATE_CHANGE) {
                    joiner.onStateChange(r.stateChange);
                } else if (r.type == TS_REC_CLOSE_STATS) {
                    joiner.onCloseStats(r.closeStats);
                } else if (const ts_packet *p = r.asPacket()) {
                    ++packetRecords;
                    std::span<const quint8> snap;
                    if (r.type == TS_REC_PACKET_SNAP)
                        snap = std::span<const quint8>(
                            r.packetSnap.data,
                            std::min<std::size_t>(r.packetSnap.snap_len, TS_SNAP_MAX));
                    joiner.onPacket(*p, snap);
                } else if (r.type == TS_REC_INTERFACE) {
                    joiner.onInterface(r.interface);
                }
            },
            err);
        if (!ok)
            *error = QStringLiteral("protocol error: ") + fromStd(err);
        return ok;
    }
    case wire::MessageType::Stats: {
        const auto s = wire::decodeStats(payload, err);
        if (!s) {
            *error = QStringLiteral("protocol error: ") + fromStd(err);
            return false;
        }
        // A run the kernel skipped is a loss as much as a full ring buffer: both are counted.
        missed = s->missedRuns;
        lost = s->lostTotal() + s->missedRuns;
        lostPackets = s->packetLostTotal();
        packetsFiltered = s->packetsFiltered;
        // Held packets wait in record time; Stats keep that clock going when traffic is quiet.
        joiner.advanceTo(s->monotonicNs);
        bool first = false;
        {
            std::lock_guard lock(mutex);
            if (!streaming) {
                // The helper attaches after Start and then reports at once: from here on every
                // state change is seen, so this is when the capture really started.
                streaming = first = true;
                info.startedNs = qint64(s->monotonicNs) + offsetNs;
                writer->setInfo(info);
            }
        }
        if (first) {
            cond.notify_all();
            emit q->infoReady(info);
        }
        return true;
    }
    case wire::MessageType::Error: {
        const auto text = wire::decodeError(payload, err);
        *error = text ? QStringLiteral("tcpscope-helper: ") + fromStd(*text)
                      : QStringLiteral("protocol error: ") + fromStd(err);
        return false;
    }
    default:
        *error = QStringLiteral("protocol error: unexpected %1 from tcpscope-helper")
                     .arg(fromStd(wire::messageTypeName(quint16(frame.type))));
        return false;
    }
}

void LiveCapture::Private::runIngest()
{
    wire::FrameDecoder decoder;
    std::vector<std::uint8_t> buf(256 * 1024);
    QString error;
    bool stderrOpen = true;
    for (;;) {
        pollfd fds[2] = {{helper.socketFd(), POLLIN, 0}, {helper.stderrFd(), POLLIN, 0}};
        const int nfds = stderrOpen ? 2 : 1;
        const int rc = poll(fds, nfds, int(kPublishInterval.count()));
        if (rc < 0 && errno != EINTR) {
            error = QStringLiteral("poll: ") + QString::fromLocal8Bit(strerror(errno));
            break;
        }
        if (stderrOpen && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)))
            stderrOpen = helper.drainStderr();
        if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            const ssize_t n = recv(helper.socketFd(), buf.data(), buf.size(), 0);
            if (n < 0 && (errno == EINTR || errno == EAGAIN))
                continue;
            if (n <= 0) {
                if (!stopSent)
                    error =
                        helperFailureText(QStringLiteral("tcpscope-helper closed the connection"));
                break;
            }
            bytesIn += quint64(n);
            decoder.feed(std::span<const std::uint8_t>(buf.data(), std::size_t(n)));
            wire::Frame frame;
            wire::FrameDecoder::Status st;
            bool bad = false;
            while ((st = decoder.next(frame)) == wire::FrameDecoder::Status::Frame) {
                if (!handleFrame(frame, &error)) {
                    bad = true;
                    break;
                }
            }
            if (!bad && st == wire::FrameDecoder::Status::Error) {
                error = QStringLiteral("protocol error: ") + fromStd(decoder.error());
                bad = true;
            }
            if (bad)
                break;
        }
        if (writer && isHelloSeen())
            publish(false);
    }
    // Whatever arrived before the end is kept: the file stays valid up to this point. Packets
    // still waiting for their connection are decided now (joined, own connection or unjoined).
    joiner.flushAll();
    if (writer)
        publish(true);
    if (!error.isEmpty()) {
        // A broken stream means the helper cannot be trusted to stop by itself.
        shutdown(helper.socketFd(), SHUT_RDWR);
    }
    bool wasReady;
    {
        std::lock_guard lock(mutex);
        failure = error;
        ingestDone = true;
        wasReady = streaming;
    }
    cond.notify_all();
    if (!error.isEmpty() && wasReady) {
        emit q->failed(error);
        // Finalize on the owner's thread (reap the helper, close the file, emit stopped()) even
        // if the owner only listens for failed(); a no-op if the owner already called stop().
        QMetaObject::invokeMethod(
            q, [q = q] { q->stop(); }, Qt::QueuedConnection);
    }
}

} // namespace tcpscope
