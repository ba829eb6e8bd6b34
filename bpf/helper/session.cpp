// SPDX-License-Identifier: GPL-3.0-or-later
#include "session.h"

#include "owner_maps.h"
extern "C" {
#include "tcpscope_owner_maps.h"
}

#include "privileges.h"
#include "proc_scan.h"
#include "reason_names.h"
#include "resource_limits.h"
#include "ring_wakeup.h"
#include "signals.h"
#include "tracefs.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cstdio>
#include <ctime>
#include <memory>
#include <poll.h>
#include <sys/utsname.h>
#include <system_error>
#include <thread>
#include <unistd.h>

namespace tcpscope::helper {

namespace {
constexpr int kFlushIntervalMs = 50;
constexpr int kStartTimeoutMs = 10000;
constexpr int kStatsIntervalMs = 1000;
constexpr std::size_t kFlushBytes = 256 * 1024;

std::uint64_t clockNs(clockid_t id)
{
    timespec ts{};
    clock_gettime(id, &ts);
    return std::uint64_t(ts.tv_sec) * 1000000000ull + std::uint64_t(ts.tv_nsec);
}
long long nowMs()
{
    return static_cast<long long>(clockNs(CLOCK_MONOTONIC) / 1000000ull);
}

struct RingBufferDeleter
{
    void operator()(ring_buffer *rb) const { ring_buffer__free(rb); }
};
} // namespace

Session::Session(int readFd, int writeFd, const Options &options, Tracefs &tracefs, int signalFd)
    : m_options(options), m_tracefs(tracefs), m_signalFd(signalFd), m_peer(readFd, writeFd)
{
}

void Session::note(const std::string &text) const
{
    std::fprintf(stderr, "tcpscope-helper: %s\n", text.c_str());
}

void Session::fail(wire::ErrorCode code, const std::string &primary, const std::string &secondary)
{
    note(secondary.empty() ? primary : primary + ": " + secondary);
    m_peer.sendError(code, primary, secondary);
}

void Session::log(wire::LogMessage::Level level, const std::string &text)
{
    note(text); // stderr too, for people running the helper by hand
    // Nothing but Hello may come first (an older app must see the version before anything it
    // cannot read): what happens earlier waits for it. A flood (an interface storm) is capped.
    if (m_logsSent >= kMaxLogFrames)
        return;
    if (++m_logsSent == kMaxLogFrames) {
        level = wire::LogMessage::Level::Warning;
        const std::string more = "further helper messages only on its stderr";
        m_helloSent ? (void)m_peer.queue(wire::encodeLog({level, text + "; " + more}), true)
                    : m_pendingLogs.push_back({level, text + "; " + more});
        return;
    }
    if (m_helloSent)
        m_peer.queue(wire::encodeLog({level, text}), true);
    else
        m_pendingLogs.push_back({level, text});
}

int Session::onSample(void *ctx, void *data, std::size_t size)
{
    auto *self = static_cast<Session *>(ctx);
    if (!self->m_batcher.add({static_cast<const std::uint8_t *>(data), size}))
        ++self->m_badSamples; // cannot happen with our own program; counted, not forwarded
    return 0;
}

int Session::run(bool &signalled)
{
    std::string why;
    // With --stdio there is no socket peer to ask: main() checked what stdin and stdout are.
    if (!m_options.stdio && !peerAllowed(m_peer.readFd(), why)) {
        fail(wire::ErrorCode::Permission, "refusing client", why);
        return kExitOk;
    }
    // Every program is CO-RE: without the kernel's BTF nothing loads. Say so plainly instead of
    // a libbpf error about relocations.
    if (access(kKernelBtf, R_OK) != 0) {
        why = std::string("this kernel has no BTF type information (") + kKernelBtf +
              " is missing): tcpscope needs a kernel built with CONFIG_DEBUG_INFO_BTF=y, as "
              "Debian's own kernels are";
        fail(wire::ErrorCode::KernelUnsupported, why);
        return kExitUnavailable;
    }
    if (!m_loader.load(m_options.forceTracepoint, m_options.ringbufKib * 1024u, m_tracefs, why)) {
        fail(wire::ErrorCode::KernelUnsupported, "cannot load BPF", why);
        return kExitUnavailable;
    }

    // The packet and tcpinfo objects decide by lifecycle's owner filter maps.
    m_packets.setOwnerMaps(m_loader.ownerMaps());
    m_tcpinfo.setOwnerMaps(m_loader.ownerMaps());

    wire::Hello hello;
    hello.monotonicNs = clockNs(CLOCK_MONOTONIC); // back to back: one conversion pair
    hello.realtimeNs = clockNs(CLOCK_REALTIME);
    utsname uts{};
    if (uname(&uts) == 0)
        hello.kernelRelease = uts.release;
    char host[256] = {};
    if (gethostname(host, sizeof host - 1) == 0)
        hello.hostname = host;
    hello.probes.push_back(m_loader.report());
    // The packet programs are loaded up front so Hello can say how they would attach; they are
    // attached only if Start asks for packets. tcpinfo hooks are probed one by one (tp_btf,
    // else tracepoint, else unavailable); a kernel without any of them still captures
    // lifecycle and packets. Once lifecycle's maps exist the two objects share nothing (each
    // has its own libbpf object, maps and error text; only tcpinfo may mount tracefs), and the
    // kernel's verifier takes most of the helper's start-up, so they load side by side.
    const bool lifecycleClassic = m_loader.report().status == "tracepoint";
    auto loadTcpinfo = [this, lifecycleClassic] {
        m_tcpinfo.load(m_options.forceTracepoint, m_options.tcpinfoRingbufKib * 1024u,
                       lifecycleClassic ? m_loader.ptrIdsFd() : -1, m_tracefs, m_tcpinfoLoadError);
    };
    std::thread tcpinfoThread;
    try {
        tcpinfoThread = std::thread(loadTcpinfo);
    } catch (const std::system_error &) {
        loadTcpinfo(); // no thread to be had: one after the other
    }
    m_packetsLoaded = m_packets.load(m_options.forceClsact, m_options.packetRingbufKib * 1024u,
                                     m_packetsLoadError);
    if (tcpinfoThread.joinable())
        tcpinfoThread.join();
    if (m_packetsLoaded)
        hello.probes.push_back(m_packets.report());
    else
        hello.probes.push_back({"tc-packets", "unavailable", m_packetsLoadError});
    for (const wire::ProbeReport &r : m_tcpinfo.reports())
        hello.probes.push_back(r);
    if (m_listeners.open(m_listenersError))
        hello.probes.push_back({"listener_poll", "sock_diag", ""});
    else
        hello.probes.push_back({"listener_poll", "unavailable", m_listenersError});
    if (m_options.verbose)
        for (const wire::ProbeReport &r : m_tcpinfo.reports())
            note("probe " + r.name + " " + r.status + (r.detail.empty() ? "" : ": ") + r.detail);
    if (m_options.verbose)
        note("probe " + m_loader.report().status + (m_loader.report().detail.empty() ? "" : ": ") +
             m_loader.report().detail);
    if (!m_peer.send(wire::encodeHello(hello))) {
        note(m_peer.error());
        return kExitOk;
    }
    m_helloSent = true;
    // This host's cgroups and namespaces: the app resolves the filter's paths and names here.
    if (!m_peer.send(wire::encodeHostOwners(hostOwners()))) {
        note(m_peer.error());
        return kExitOk;
    }
    for (const wire::LogMessage &pending : m_pendingLogs)
        m_peer.queue(wire::encodeLog(pending), true);
    m_pendingLogs.clear();

    switch (waitForStart(signalled)) {
    case Wait::Start:
        break;
    case Wait::Stop:
        return kExitOk;
    case Wait::Error:
        return kExitOk;
    }

    if (!checkStartLimits(m_start, why)) {
        fail(wire::ErrorCode::Limits, "refusing Start", why);
        return kExitUsage;
    }
    // Owner terms: a pid must exist here (the app cannot see this host's processes), then the
    // filter goes into the maps before anything is attached.
    std::size_t pidIndex = 0;
    if (const std::uint32_t pid = missingPid(m_start, &pidIndex)) {
        const std::string why = "pid " + std::to_string(pid) + " does not exist";
        note("refusing Start: " + why);
        m_peer.sendError(
            {wire::ErrorCode::BadFilter, "the capture filter is invalid", why,
             wire::FilterPosition{wire::FilterPosition::List::Pids, std::uint16_t(pidIndex)}});
        return kExitUsage;
    }
    if (!writeOwnerFilter(m_loader.ownerMaps(), m_start, m_loader.report().status == "tracepoint",
                          why)) {
        fail(wire::ErrorCode::Internal, "cannot set the owner filter", why);
        return kExitOsError;
    }
    // Seed listeners that predate us before attaching, so their children are attributed.
    const int seeded = seedListenersMap(m_loader.listenersFd(), scanListeners());
    if (m_options.verbose)
        note("seeded " + std::to_string(seeded) + " pre-existing listener(s) from /proc");
    // That scan of other users' /proc/PID/fd was the only use of CAP_SYS_PTRACE.
    if (dropsPrivileges() && !dropCapability(kCapSysPtrace, why)) {
        fail(wire::ErrorCode::Internal, "cannot drop CAP_SYS_PTRACE", why);
        return kExitOsError;
    }
    if (!m_loader.attach(why)) {
        fail(wire::ErrorCode::KernelUnsupported, "cannot attach the socket state hook", why);
        return kExitUnavailable;
    }
    if ((m_start.flags & wire::StartOptions::kPackets) && !startPackets())
        return kExitUnavailable;
    if ((m_start.flags & wire::StartOptions::kTcpInfo) && !startTcpInfo())
        return kExitUnavailable;
    return stream(signalled);
}

Session::Wait Session::waitForStart(bool &signalled)
{
    // A client that connects and never says Start must not hold the helper (and, in --listen
    // mode, its only client slot) forever.
    const long long deadline = nowMs() + kStartTimeoutMs;
    for (;;) {
        pollfd fds[2] = {{m_peer.readFd(), POLLIN, 0}, {m_signalFd, POLLIN, 0}};
        const long long left = deadline - nowMs();
        const int n = left > 0 ? ::poll(fds, 2, int(left)) : 0;
        if (n < 0)
            continue; // EINTR
        if (n == 0) {
            const std::string why =
                "no Start from the client within " + std::to_string(kStartTimeoutMs / 1000) + " s";
            fail(wire::ErrorCode::Protocol, why);
            return Wait::Error;
        }
        if (fds[1].revents && readSignal(m_signalFd)) {
            signalled = true;
            return Wait::Stop;
        }
        wire::Frame frame;
        for (;;) {
            const auto r = m_peer.poll(frame);
            if (r == PeerChannel::ReadResult::Ok)
                break;
            if (r == PeerChannel::ReadResult::Closed) {
                note(m_peer.error() + " before Start");
                return Wait::Stop;
            }
            if (r == PeerChannel::ReadResult::ProtocolError) {
                fail(wire::ErrorCode::Protocol, "protocol error", m_peer.error());
                return Wait::Error;
            }
            std::string err;
            if (frame.type == wire::MessageType::Stop)
                return Wait::Stop;
            if (frame.type == wire::MessageType::ClockProbe) {
                if (!answerClockProbe(frame, err)) {
                    fail(wire::ErrorCode::Protocol, "protocol error", err);
                    return Wait::Error;
                }
                continue;
            }
            if (frame.type == wire::MessageType::Start) {
                wire::ErrorMessage refusal;
                if (auto start = wire::decodeStart(frame.payload, err, &refusal)) {
                    m_start = std::move(*start);
                    return Wait::Start;
                }
                if (refusal.code == wire::ErrorCode::Unspecified) {
                    // A client of another protocol version: plain text, which it can read.
                    note(err);
                    m_peer.sendTextError("tcpscope-helper: " + err);
                    return Wait::Error;
                }
                note(err);
                m_peer.sendError(refusal); // with the filter position, if any
                return Wait::Error;
            }
            fail(wire::ErrorCode::Protocol, "protocol error",
                 "expected Start, got " + wire::messageTypeName(uint16_t(frame.type)));
            return Wait::Error;
        }
    }
}

void Session::addInterfaceRecord(std::uint32_t ifindex, const std::string &name,
                                 std::uint8_t attach)
{
    ts_interface rec{};
    rec.hdr.type = TS_REC_INTERFACE;
    rec.hdr.size = sizeof rec;
    rec.hdr.ts_ns = clockNs(CLOCK_MONOTONIC);
    rec.ifindex = ifindex;
    rec.attach = attach;
    std::snprintf(rec.name, sizeof rec.name, "%s", name.c_str());
    m_batcher.add({reinterpret_cast<const std::uint8_t *>(&rec), sizeof rec});
    if (m_options.verbose)
        note("interface " + name + " (" + std::to_string(ifindex) + "): attach " +
             std::to_string(attach));
}

bool Session::startPackets()
{
    std::string why;
    const bool ok =
        m_packetsLoaded && m_packets.configure(m_start, why) &&
        m_packets.attachAll(
            [this](std::uint32_t index, const std::string &name, std::uint8_t attach) {
                addInterfaceRecord(index, name, attach);
            },
            [this](const std::string &text) { log(wire::LogMessage::Level::Warning, text); }, why);
    if (!ok)
        fail(wire::ErrorCode::PacketsUnavailable, "cannot capture packets",
             m_packetsLoaded ? why : m_packetsLoadError);
    return ok;
}

bool Session::startTcpInfo()
{
    m_tcpinfoOn = true;
    // Names first, so the app can name every reason before the first record that uses one.
    std::string why;
    const std::vector<ts_reason_name> names = kernelReasonNames(why);
    for (const ts_reason_name &rec : names)
        m_batcher.add({reinterpret_cast<const std::uint8_t *>(&rec), sizeof rec});
    if (!why.empty())
        log(wire::LogMessage::Level::Warning, why);
    if (m_options.verbose)
        note(std::to_string(names.size()) + " reason names from kernel BTF");
    if (!m_tcpinfo.loaded()) {
        // Hello already said why each hook is unavailable (the app records it); the listener
        // poll may still run.
        log(wire::LogMessage::Level::Info, "tcpinfo hooks unavailable: " + m_tcpinfoLoadError);
        return true;
    }
    if (!m_tcpinfo.configure(m_start.sampleIntervalUs, why) || !m_tcpinfo.attach(why)) {
        fail(wire::ErrorCode::TcpInfoUnavailable, "cannot start tcpinfo", why);
        return false;
    }
    return true;
}

void Session::pollListeners()
{
    if (!m_tcpinfoOn || !m_listeners.isOpen() ||
        nowMs() - m_lastListenerPollMs < m_listeners.intervalMs())
        return;
    m_lastListenerPollMs = nowMs();
    const int verdicts = m_start.hasOwnerTerms() ? m_loader.ownerMaps().verdict : -1;
    for (const ts_listener_sample &rec : m_listeners.poll()) {
        // With an owner filter, only listeners the kernel side decided to keep (lifecycle saw
        // their listen() or a packet reached them): the rest belong to other owners.
        std::uint8_t verdict = 0;
        if (verdicts >= 0 && (bpf_map_lookup_elem(verdicts, &rec.sock_id, &verdict) != 0 ||
                              verdict != TS_VERDICT_KEEP))
            continue;
        m_batcher.add({reinterpret_cast<const std::uint8_t *>(&rec), sizeof rec});
    }
}

bool Session::flush(bool force)
{
    const bool due = force || m_batcher.hasSealedFrame() ||
                     m_batcher.payloadBytes() >= kFlushBytes ||
                     nowMs() - m_lastFlushMs >= kFlushIntervalMs;
    if (!due)
        return m_peer.pump();
    m_lastFlushMs = nowMs();
    while (!m_batcher.empty()) {
        const std::size_t before = m_batcher.count();
        std::vector<std::uint8_t> frame = m_batcher.takeFrame();
        const std::size_t records = before - m_batcher.count();
        // The app is not reading and the send queue is full: drop this frame's records, count
        // them (Stats.readerDropped) and keep reading the kernel.
        if (m_peer.queue(std::move(frame))) {
            m_recordsSent += records;
            m_dropping = false;
        } else if (!m_peer.dead()) {
            m_readerDropped += records;
            if (!m_dropping)
                note("the app is not reading: dropping records (" +
                     std::to_string(m_peer.stalledMs()) + " ms without progress)");
            m_dropping = true;
        }
    }
    return m_peer.pump();
}

bool Session::sendStats()
{
    wire::Stats stats;
    stats.monotonicNs = clockNs(CLOCK_MONOTONIC);
    stats.recordsSent = m_recordsSent;
    m_loader.readLost(stats.lostPerCpu);
    // tcpinfo reserve failures count as ring buffer losses of the same kind (no separate field).
    if (m_tcpinfoOn)
        m_tcpinfo.addLost(stats.lostPerCpu);
    // The counter only grows; if a read fails, resend the last value rather than a smaller one.
    std::uint64_t missed = 0, tcpinfoMissed = 0;
    const bool tcpinfoRead =
        !m_tcpinfoOn || !m_tcpinfo.loaded() || m_tcpinfo.readMissedRuns(tcpinfoMissed);
    if (m_loader.readMissedRuns(missed) && tcpinfoRead)
        m_missedRuns = missed + tcpinfoMissed;
    else if (!m_missedRunsReadFailed) {
        m_missedRunsReadFailed = true;
        log(wire::LogMessage::Level::Warning,
            "cannot read recursion_misses of the BPF programs; skipped runs may be undercounted");
    }
    stats.missedRuns = m_missedRuns;
    if (m_start.flags & wire::StartOptions::kPackets)
        m_packets.readCounters(stats.packetLostPerCpu, stats.packetsFiltered);
    stats.readerDropped = m_readerDropped;
    // Always queued, also past the queue's budget: a few hundred bytes a second, and they tell
    // the app what was dropped while it did not read.
    return m_peer.queue(wire::encodeStats(stats), true) && m_peer.pump();
}

bool Session::answerClockProbe(const wire::Frame &probe, std::string &err)
{
    const auto id = wire::decodeClockProbe(probe.payload, err);
    if (!id)
        return false;
    wire::ClockReply reply;
    reply.id = *id;
    reply.realtimeNs = clockNs(CLOCK_REALTIME);
    reply.monotonicNs = clockNs(CLOCK_MONOTONIC);
    if (m_peer.queue(wire::encodeClockReply(reply), true) && m_peer.pump())
        return true;
    err = m_peer.error();
    return false;
}

int Session::stream(bool &signalled)
{
    std::unique_ptr<ring_buffer, RingBufferDeleter> rb(
        ring_buffer__new(m_loader.eventsFd(), &Session::onSample, this, nullptr));
    if (!rb) {
        fail(wire::ErrorCode::Internal, "cannot create ring buffer reader");
        return kExitOsError;
    }
    if ((m_start.flags & wire::StartOptions::kPackets) &&
        ring_buffer__add(rb.get(), m_packets.eventsFd(), &Session::onSample, this) != 0) {
        fail(wire::ErrorCode::Internal, "cannot read the packet ring buffer");
        return kExitOsError;
    }
    if (m_tcpinfoOn && m_tcpinfo.loaded() &&
        ring_buffer__add(rb.get(), m_tcpinfo.eventsFd(), &Session::onSample, this) != 0) {
        fail(wire::ErrorCode::Internal, "cannot read the tcpinfo ring buffer");
        return kExitOsError;
    }
    // Everything is loaded, attached and mapped. What is left needs only CAP_NET_ADMIN and
    // CAP_BPF: tcx links / clsact filters for interfaces that appear later and the clsact
    // clean-up at the end (rtnetlink, CAP_NET_ADMIN), and bpf() calls on the objects we hold
    // (link create, map reads, program info; kernels before 6.5 refuse every bpf() command
    // without CAP_BPF when unprivileged BPF is disabled). CAP_PERFMON only served loading and
    // attaching the tracing programs, root's other capabilities nothing at all.
    if (dropsPrivileges()) {
        std::string why;
        if (!keepOnlyCapabilities({kCapBpf, kCapNetAdmin}, why)) {
            fail(wire::ErrorCode::Internal, "cannot drop privileges", why);
            return kExitOsError;
        }
        if (m_options.verbose) {
            char mask[32];
            std::snprintf(mask, sizeof mask, "%016llx", effectiveCapabilities());
            note(std::string("privileges dropped; effective capabilities ") + mask);
        }
    }
    m_lastFlushMs = nowMs();
    long long lastStats = nowMs();
    if (!sendStats()) // an immediate zero so the app knows streaming started
        return kExitOk;
    std::string reason;
    for (;;) {
        const short outEvents = m_peer.queuedBytes() ? POLLOUT : 0;
        // poll() skips negative descriptors: the netlink socket may be absent, and a peer on one
        // socket needs no separate write entry. A write descriptor of its own is always polled
        // (for POLLERR, even with nothing queued): a pipe whose reader went away says so only
        // there, while stdin may stay open.
        pollfd fds[5] = {{m_peer.readFd(), short(POLLIN | (m_peer.split() ? 0 : outEvents)), 0},
                         {ring_buffer__epoll_fd(rb.get()), POLLIN, 0},
                         {m_signalFd, POLLIN, 0},
                         {m_packets.netlinkFd(), POLLIN, 0},
                         {m_peer.split() ? m_peer.writeFd() : -1, outEvents, 0}};
        // Records do not wake us (see ring_wakeup.h) until a ring is half full: consume on a
        // timer.
        ::poll(fds, 5, kRingPollMs);
        if (fds[4].revents & (POLLERR | POLLHUP | POLLNVAL)) {
            m_peer.markClosed("the client closed its end of the output");
            break;
        }
        if (fds[3].revents)
            m_packets.handleNetlink();
        if (fds[2].revents && readSignal(m_signalFd)) {
            signalled = true;
            reason = "signal received";
            break;
        }
        ring_buffer__consume(rb.get());
        pollListeners();
        if (!flush(false))
            break;
        if (nowMs() - lastStats >= kStatsIntervalMs) {
            lastStats = nowMs();
            if (!sendStats())
                break;
        }
        if (m_peer.stalledMs() > static_cast<long long>(m_start.maxStallMs)) {
            reason = "the app read nothing for " + std::to_string(m_start.maxStallMs) +
                     " ms (maximum stall); " + std::to_string(m_readerDropped) + " records dropped";
            m_peer.sendError(wire::ErrorCode::PeerStalled,
                             "the app read nothing for " + std::to_string(m_start.maxStallMs) +
                                 " ms (maximum stall)",
                             std::to_string(m_readerDropped) + " records dropped");
            break;
        }
        if (!(fds[0].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        wire::Frame frame;
        const auto r = m_peer.poll(frame);
        if (r == PeerChannel::ReadResult::Closed)
            break;
        if (r == PeerChannel::ReadResult::ProtocolError) {
            reason = m_peer.error();
            m_peer.sendError(wire::ErrorCode::Protocol, "protocol error", m_peer.error());
            break;
        }
        if (r == PeerChannel::ReadResult::Frame) {
            std::string err;
            if (frame.type == wire::MessageType::Stop && wire::decodeStop(frame.payload, err)) {
                reason = "Stop received";
                break;
            }
            if (frame.type == wire::MessageType::ClockProbe && err.empty() &&
                answerClockProbe(frame, err))
                continue;
            if (err.empty())
                err = "unexpected " + wire::messageTypeName(uint16_t(frame.type)) +
                      " while streaming";
            reason = "protocol error: " + err;
            m_peer.sendError(wire::ErrorCode::Protocol, "protocol error", err);
            break;
        }
    }
    if (!m_peer.dead()) {
        // Drain what the kernel already produced so a Stop loses nothing, then final stats.
        ring_buffer__consume(rb.get());
        if (flush(true) && sendStats())
            m_peer.drain(PeerChannel::kWriteTimeoutMs);
    }
    note("stopping: " + (reason.empty() ? m_peer.error() : reason));
    return kExitOk;
}

} // namespace tcpscope::helper
