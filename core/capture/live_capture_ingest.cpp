// SPDX-License-Identifier: GPL-3.0-or-later
// LiveCapture's ingest thread: decodes the helper's frames, routes lifecycle, packet and
// interface records through RecordPipeline (time order, tracker, joiners), and publishes
// (file + signals).
#include "capture/live_capture_private.h"

#include <QMetaMethod>

#include <algorithm>
#include <poll.h>

#ifndef TCPSCOPE_VERSION
#define TCPSCOPE_VERSION "unknown"
#endif

namespace tcpscope {

using namespace live_detail;

namespace {

// Hello's probe report names the tcpinfo.bpf.c hooks by tracepoint; when the helper reports
// some and every one of them is unavailable, the kernel's view cannot be captured.
bool allTcpInfoUnavailable(const std::vector<wire::ProbeReport> &probes)
{
    static const char *const kTcpInfoProbes[] = {
        "tcp_probe",      "tcp_retransmit_skb", "tcp_retransmit_synack",
        "tcp_send_reset", "tcp_receive_reset",  "tcp_cong_state_set",
        "kfree_skb",
    };
    int seen = 0;
    for (const wire::ProbeReport &p : probes) {
        const bool tcpInfo = p.name.rfind("tcpinfo", 0) == 0 ||
                             std::any_of(std::begin(kTcpInfoProbes), std::end(kTcpInfoProbes),
                                         [&](const char *n) { return p.name == n; });
        if (!tcpInfo)
            continue;
        ++seen;
        if (p.status != "unavailable")
            return false;
    }
    return seen > 0;
}

} // namespace

void LiveCapture::Private::fillCounters(SessionInfo &si) const
{
    // What arrived while this file was the current one (all of the capture without rotation).
    si.recordsReceived = records - base.records;
    si.lostRecords = lost - base.lost;
    si.missedProgramRuns = missed - base.missed;
    si.packetsReceived = packetRecords - base.packetRecords;
    si.lostPackets = lostPackets - base.lostPackets;
    si.packetsFiltered = packetsFiltered - base.packetsFiltered;
    si.samplesReceived = samples - base.samples;
    si.kernelEventsReceived = kernelEvents - base.kernelEvents;
    si.dropsReceived = drops - base.drops;
    si.readerDropped = readerDropped - base.readerDropped;
    // Record order is a property of the whole recording so far (with --rotate as well).
    const ReorderWindow &window = pipeline.window();
    si.reorderWindowNs = qint64(window.windowNs());
    si.recordsReordered = qint64(window.inversions());
    si.maxInversionNs = qint64(window.maxInversionNs());
    si.recordsBeyondWindow = qint64(window.late());
    si.maxLateNs = qint64(window.maxLateNs());
    si.recordsAfterEviction = qint64(pipeline.evictedLateRecords());
    if (trigger) {
        si.keptWindows = trigger->windows();
        si.triggerDiscarded = trigger->discarded();
    }
}

void LiveCapture::Private::noteReaderDrops(quint64 fromNs, quint64 toNs, quint64 records)
{
    static const QString reason =
        QStringLiteral("tcpscope did not read in time (stopped, swapping or too slow): the helper "
                       "dropped the records that did not fit its queue");
    const qint64 from = qint64(fromNs) + offsetNs, to = qint64(toNs) + offsetNs;
    std::lock_guard lock(mutex);
    // Drops in consecutive Stats intervals are one stall.
    if (!info.interruptions.isEmpty() && info.interruptions.last().reason == reason &&
        info.interruptions.last().endNs == from) {
        info.interruptions.last().endNs = to;
        info.interruptions.last().recordsLost += qint64(records);
        return;
    }
    info.interruptions.append({from, to, qint64(records), reason});
}

void LiveCapture::Private::noteAbnormalEnd(const QString &why)
{
    const qint64 wall = realtimeNs();
    std::lock_guard lock(mutex);
    // Until the end: nothing after this was captured; how much that was is not known.
    info.interruptions.append({wall, 0, -1, QStringLiteral("the capture ended early: ") + why});
}

void LiveCapture::Private::publish(bool force)
{
    const auto now = std::chrono::steady_clock::now();
    if (!force && now - lastPublish < kPublishInterval)
        return;
    const double seconds = std::chrono::duration<double>(now - lastPublish).count();
    // Packets and kernel records first through their joiners: delivering them changes their
    // connections' counts and summaries (or founds connections for sockets predating us).
    QVector<Packet> packets = pipeline.takePackets();
    KernelData kernelData = pipeline.takeKernelData();
    QVector<Connection> changed = pipeline.takeChanged();
    for (const Connection &c : std::as_const(changed))
        writer->writeConnection(c);
    if (owners)
        writer->writeOwnerNames(owners->newNames(changed));
    else if (!remoteNames.isEmpty())
        writer->writeOwnerNames(newRemoteNames(changed));
    // The alert engine looks at the batch before the writer takes it: unless someone watches
    // packetsAdded, the packets then go to the writer's thread as they are, not copied when
    // that thread moves them into its buffers.
    QVector<Alert> raised;
    if (alerts) {
        alerts->addBatch(changed, packets, kernelData);
        // Stalls are measured up to the helper's clock (its last Stats), less what may still
        // be in the reorder window: record time, not this machine's wall clock, which may step.
        if (lastStatsNs > 0)
            alerts->advanceTo(qint64(lastStatsNs) + offsetNs -
                              qint64(pipeline.window().windowNs()) - 500'000'000);
        raised = alerts->takeAlerts();
    }
    const bool packetsWatched =
        q->isSignalConnected(QMetaMethod::fromSignal(&LiveCapture::packetsAdded));
    if (trigger) {
        // Packets and samples wait in the trigger ring; events, drops and listener samples
        // (few, and what explains an incident) are always written.
        trigger->add(packets, kernelData.samples);
        KernelData always = kernelData;
        always.samples.clear();
        if (!always.isEmpty())
            writer->writeKernelData(always);
    } else {
        if (packetsWatched)
            writer->writePackets(packets);
        else
            writer->writePackets(std::move(packets));
        if (!kernelData.isEmpty())
            writer->writeKernelData(kernelData);
    }
    if (alerts)
        writer->writeAlerts(raised);
    if (trigger) {
        bool opened = false;
        // A repeat that throttling kept off the screen still keeps its window.
        const QVector<Alert> repeats = alerts->takeSuppressed();
        for (const QVector<Alert> *list :
             {static_cast<const QVector<Alert> *>(&raised), &repeats}) {
            for (const Alert &a : *list) {
                if (trigger->isTrigger(a))
                    opened = trigger->trigger(a) || opened;
            }
        }
        KernelData due;
        QVector<Packet> duePackets;
        trigger->take(&duePackets, &due.samples);
        writer->writePackets(std::move(duePackets));
        if (!due.isEmpty())
            writer->writeKernelData(due);
        if (opened) {
            std::lock_guard lock(mutex);
            info.keptWindows = trigger->windows();
            writer->setInfo(info); // the file says which trigger keeps what as soon as it does
        }
    }
    const QVector<qint64> evicted = pipeline.evict();
    if (alerts)
        alerts->forgetConnections(evicted);
    writer->forgetConnections(evicted);
    if (!force && !maybeRotate(now))
        return; // rotateError ends the ingest loop; the current file is finalized there
    const bool interfacesChanged = pipeline.packets().takeInterfacesChanged();
    if (force || interfacesChanged || now - lastMeta >= kMetaInterval) {
        std::lock_guard lock(mutex);
        fillCounters(info);
        info.interfaces = pipeline.packets().interfaces();
        writer->setInfo(info);
        lastMeta = now;
    }
    CaptureStats stats;
    stats.recordsReceived = records;
    stats.lostRecords = lost;
    stats.missedProgramRuns = missed;
    const ConnectionTracker &tracker = pipeline.tracker();
    stats.connectionsSeen = tracker.seen();
    stats.connectionsHeld = quint64(tracker.size());
    stats.connectionsEvicted = tracker.evicted();
    stats.connectionsEvictedEarly = tracker.evictedEarly();
    stats.lateRecords = pipeline.evictedLateRecords();
    const ReorderWindow &window = pipeline.window();
    stats.recordsReordered = window.inversions();
    stats.maxInversionNs = window.maxInversionNs();
    stats.recordsBeyondWindow = window.late();
    stats.maxBeyondWindowNs = window.maxLateNs();
    stats.reorderWindowNs = window.windowNs();
    stats.filesWritten = ring ? quint64(ring->created()) : 1;
    if (alerts) {
        stats.alertsRaised = alerts->alertsRaised();
        stats.alertsSuppressed = alerts->alertsSuppressed();
    }
    if (trigger) {
        stats.triggerWindows = quint64(trigger->windows().size());
        for (const KeptWindow &w : trigger->windows())
            stats.triggerKeptNs += w.endNs - w.startNs;
        stats.triggerRingBytes = trigger->bytesHeld();
        stats.triggerRingSpanNs = trigger->spanHeldNs();
        stats.triggerDiscarded = trigger->discarded();
    }
    stats.bytesWritten = quint64(closedBytes + currentFileBytes());
    stats.packetsReceived = packetRecords;
    stats.lostPackets = lostPackets;
    stats.packetsFiltered = packetsFiltered;
    stats.samplesReceived = samples;
    stats.kernelEventsReceived = kernelEvents;
    stats.dropsReceived = drops;
    stats.readerDropped = readerDropped;
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
    if (!kernelData.isEmpty())
        emit q->kernelDataAdded(kernelData); // likewise
    if (!raised.isEmpty())
        emit q->alertsRaised(raised);
    emit q->statsUpdated(stats);
}

void LiveCapture::Private::handleRecord(const wire::Record &r)
{
    // Counted on arrival; interpreted once the reorder window releases it in time order.
    ++records;
    switch (r.type) {
    case TS_REC_PACKET:
    case TS_REC_PACKET_SNAP:
        ++packetRecords;
        break;
    case TS_REC_TCP_SAMPLE:
        ++samples;
        break;
    case TS_REC_TCP_EVENT:
        ++kernelEvents;
        break;
    case TS_REC_DROP:
        ++drops;
        break;
    default:
        break;
    }
    pipeline.push(r);
}

OwnerNames LiveCapture::Private::newRemoteNames(const QVector<Connection> &connections)
{
    OwnerNames out;
    for (const Connection &c : connections) {
        if (c.cgroupId != 0 && !remoteNamedCgroups.contains(c.cgroupId)) {
            remoteNamedCgroups.insert(c.cgroupId);
            if (const auto it = remoteNames.cgroupPaths.constFind(c.cgroupId);
                it != remoteNames.cgroupPaths.cend())
                out.cgroupPaths.insert(c.cgroupId, *it);
        }
        if (c.netnsIno != 0 && !remoteNamedNetns.contains(c.netnsIno)) {
            remoteNamedNetns.insert(c.netnsIno);
            if (const auto it = remoteNames.netnsNames.constFind(c.netnsIno);
                it != remoteNames.netnsNames.cend())
                out.netnsNames.insert(c.netnsIno, *it);
        }
    }
    return out;
}

bool LiveCapture::Private::sendStart(QString *error)
{
    if (!sendAll(helper.socketFd(), wire::encodeStart(startOptions))) {
        *error = QStringLiteral("cannot send Start to tcpscope-helper");
        return false;
    }
    startSent = true;
    return true;
}

bool LiveCapture::Private::sendClockProbe(QString *error)
{
    if (sendAll(helper.socketFd(), wire::encodeClockProbe(clock.probeSent(realtimeNs()))))
        return true;
    *error = helperName() + QStringLiteral(": cannot send a clock probe");
    return false;
}

void LiveCapture::Private::noteClock()
{
    std::lock_guard lock(mutex);
    if (info.hosts.isEmpty()) {
        HostInfo h;
        h.name = info.hostname;
        h.kernel = info.kernelRelease;
        h.probes = info.probes;
        h.source = info.remote;
        h.offsetMethod = OffsetMethod::Recorded;
        info.hosts.append(h);
    }
    // What was added to the remote host's times: our clock minus its clock.
    info.hosts[0].clockOffsetNs = -clock.offsetNs();
    info.hosts[0].offsetErrorNs = clock.errorNs();
    writer->setInfo(info);
}

bool LiveCapture::Private::handleFrame(const wire::Frame &frame, QString *error)
{
    std::string err;
    const std::span<const std::uint8_t> payload(frame.payload);
    const bool hello = isHelloSeen();
    // A helper that fails before its Hello still says why (typed, or as text from an older one).
    if (!hello && frame.type != wire::MessageType::Hello &&
        frame.type != wire::MessageType::Error && frame.type != wire::MessageType::TextError) {
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
        // A helper of another version: the refusal says which versions, without "protocol error".
        if (const std::string mismatch = wire::checkPeerVersions(payload, wire::Peer::Helper);
            !mismatch.empty()) {
            *error = fromStd(mismatch);
            return false;
        }
        const auto h = wire::decodeHello(payload, err);
        if (!h) {
            *error = QStringLiteral("protocol error: ") + fromStd(err);
            return false;
        }
        offsetNs = qint64(h->realtimeNs) - qint64(h->monotonicNs);
        pipeline.setClockOffset(offsetNs);
        SessionInfo si;
        si.kernelRelease = fromStd(h->kernelRelease);
        si.hostname = fromStd(h->hostname);
        // A remote helper that could not name its host: the name it was reached by.
        if (si.hostname.isEmpty() && remote)
            si.hostname = remote->destination;
        si.tcpscopeVersion = QStringLiteral(TCPSCOPE_VERSION);
        for (const wire::ProbeReport &p : h->probes) {
            QString line = fromStd(p.name) + QLatin1Char('=') + fromStd(p.status);
            if (!p.detail.empty())
                line += QStringLiteral(" (") + fromStd(p.detail) + QLatin1Char(')');
            si.probes << line;
        }
        si.probes << fallbackNotes;
        si.packetsCaptured = (startOptions.flags & wire::StartOptions::kPackets) != 0;
        si.kernelMetrics = (startOptions.flags & wire::StartOptions::kTcpInfo) != 0;
        si.sampleIntervalUs = startOptions.sampleIntervalUs;
        if (si.kernelMetrics && allTcpInfoUnavailable(h->probes)) {
            // The helper still captures lifecycle (and packets); the session says why the
            // kernel's view is missing instead of looking like a quiet network.
            si.kernelMetrics = false;
            si.probes << QStringLiteral("kernel_metrics=unavailable (every tcpinfo probe is "
                                        "unavailable on this kernel)");
        }
        {
            std::lock_guard lock(mutex);
            si.captureFilter = info.captureFilter; // set by start()
            si.remote = info.remote;
            si.alertsRecorded = info.alertsRecorded; // likewise
            si.trigger = info.trigger;
            si.triggerPreNs = info.triggerPreNs;
            si.triggerPostNs = info.triggerPostNs;
            si.triggerRingBytes = info.triggerRingBytes;
        }
        // started_ns is set by the first Stats, when the hooks are really attached. Start
        // follows the helper's HostOwners report.
        writer->setInfo(si);
        {
            std::lock_guard lock(mutex);
            info = si;
            helloSeen = true;
        }
        return true;
    }
    case wire::MessageType::HostOwners: {
        if (hostOwnersSeen) {
            *error = QStringLiteral("protocol error: second HostOwners");
            return false;
        }
        const auto report = wire::decodeHostOwners(payload, err);
        if (!report) {
            *error = QStringLiteral("protocol error: ") + fromStd(err);
            return false;
        }
        hostOwnersSeen = true;
        // The filter's paths and names become the capturing host's ids here, on every kind of
        // capture: the helper's host is the one whose cgroups and namespaces count.
        if (!resolveOwnerTerms(ownerTerms, *report, remote ? remote->destination : QString(),
                               &startOptions, error)) {
            std::lock_guard lock(mutex);
            badFilter = true;
            return false;
        }
        if (remote) {
            for (const wire::HostOwners::Cgroup &c : report->cgroups)
                remoteNames.cgroupPaths.insert(c.id, fromStd(c.path));
            for (const wire::HostOwners::Netns &n : report->netns)
                remoteNames.netnsNames.insert(n.inode, fromStd(n.name));
        }
        // A remote helper's clock is measured first (its records are converted with it).
        return remote ? sendClockProbe(error) : sendStart(error);
    }
    case wire::MessageType::ClockReply: {
        const qint64 receivedNs = realtimeNs();
        const auto reply = wire::decodeClockReply(payload, err);
        if (!reply) {
            *error = QStringLiteral("protocol error: ") + fromStd(err);
            return false;
        }
        if (!clock.replyReceived(reply->id, qint64(reply->realtimeNs), receivedNs))
            return true; // a stale or useless answer: nothing learnt
        if (startSent) {
            noteClock(); // a refresh: the error bound may grow
            return true;
        }
        if (!clock.started())
            return sendClockProbe(error);
        // Records from here on are put on this machine's clock: the helper's monotonic time
        // to its wall time (Hello), then its wall time to ours.
        offsetNs -= clock.offsetNs();
        pipeline.setClockOffset(offsetNs);
        noteClock();
        return sendStart(error);
    }
    case wire::MessageType::Records: {
        const bool ok = wire::forEachRecord(
            payload, [this](const wire::Record &r) { handleRecord(r); }, err);
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
        if (s->readerDropped > readerDropped) {
            noteReaderDrops(lastStatsNs ? lastStatsNs : s->monotonicNs, s->monotonicNs,
                            s->readerDropped - readerDropped);
            readerDropped = s->readerDropped;
        }
        lastStatsNs = s->monotonicNs;
        if (remote && clock.refreshDue(realtimeNs()) && !sendClockProbe(error))
            return false;
        // Stats keep record time going when traffic is quiet: the reorder window releases
        // what is old enough, and held packets wait in that time.
        pipeline.advanceTo(s->monotonicNs);
        bool first = false;
        SessionInfo started;
        {
            std::lock_guard lock(mutex);
            if (!streaming) {
                // The helper attaches after Start and then reports at once: from here on every
                // state change is seen, so this is when the capture really started.
                first = true;
                info.startedNs = qint64(s->monotonicNs) + offsetNs;
                writer->setInfo(info);
                started = info;
            }
        }
        if (first) {
            // infoReady before start() may return: a receiver connected directly (record) has
            // the facts of the capture once start() says it runs.
            emit q->infoReady(started);
            {
                std::lock_guard lock(mutex);
                streaming = true;
            }
            cond.notify_all();
        }
        return true;
    }
    case wire::MessageType::Error: {
        const auto e = wire::decodeError(payload, err);
        if (!e) {
            *error = QStringLiteral("protocol error: ") + fromStd(err);
            return false;
        }
        *error = helperName() + QStringLiteral(": ") + fromStd(e->text());
        std::lock_guard lock(mutex);
        helperError = *e;
        return false;
    }
    case wire::MessageType::TextError: {
        // An older helper's reason (already prefixed "tcpscope-helper: "), shown as it is; with
        // no code, start() decides nothing from it beyond the exit status.
        const auto text = wire::decodeTextError(payload, err);
        *error = text ? fromStd(*text) : QStringLiteral("protocol error: ") + fromStd(err);
        return false;
    }
    case wire::MessageType::Log: {
        const auto log = wire::decodeLog(payload, err);
        if (!log) {
            *error = QStringLiteral("protocol error: ") + fromStd(err);
            return false;
        }
        const bool warning = log->level == wire::LogMessage::Level::Warning;
        const QString text = fromStd(log->text);
        {
            // Recorded with the capture: the session's probe notes say what the helper could not
            // do. Bounded, like the helper's own count of Log frames.
            std::lock_guard lock(mutex);
            if (warning && helperNotes < kMaxHelperNotes) {
                ++helperNotes;
                info.probes << QStringLiteral("helper=warning (%1)").arg(text); // meta within 1 s
            }
        }
        emit q->helperMessage(text, warning);
        return true;
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
    // One frame for the whole run: its payload keeps its capacity from frame to frame.
    wire::Frame frame;
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
        if (!rotateError.isEmpty()) {
            error = rotateError;
            break;
        }
        // A full disk (or any write error) ends the capture at once: what is committed stays
        // a consistent file, and capturing on would only lose everything after it.
        if (writer) {
            if (const QString why = writer->writeError(); !why.isEmpty()) {
                error = why;
                break;
            }
        }
    }
    // Whatever arrived before the end is kept: the file stays valid up to this point. Packets
    // still waiting for their connection are decided now (joined, own connection or unjoined).
    // The window goes out a slice at a time, each written before the next: at the end of a
    // storm it holds a few hundred thousand records, which in one batch were one more copy of
    // everything at once.
    while (writer && isHelloSeen() && pipeline.flushStep(kFinalFlushStepNs))
        publish(true);
    pipeline.flushAll();
    if (!error.isEmpty() && isStreaming())
        noteAbnormalEnd(error);
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
