// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "lifecycle_loader.h"
#include "listener_poll.h"
#include "options.h"
#include "packet_loader.h"
#include "peer_channel.h"
#include "tcpinfo_loader.h"

#include <cstdint>
#include <string>

struct ring_buffer;

namespace tcpscope::helper {

class Tracefs;

inline constexpr const char *kKernelBtf = "/sys/kernel/btf/vmlinux";

// One client from Hello to the end: checks the peer, loads BPF, sends Hello, waits for Start,
// seeds listeners from /proc, attaches, streams Records and Stats until Stop, hang-up, a
// malformed frame or a signal. Everything BPF is released when run() returns.
class Session
{
public:
    // The client on one socket (--fd, --listen) ...
    Session(int peerFd, const Options &options, Tracefs &tracefs, int signalFd)
        : Session(peerFd, peerFd, options, tracefs, signalFd)
    {
    }
    // ... or on a descriptor read and another written (--stdio).
    Session(int readFd, int writeFd, const Options &options, Tracefs &tracefs, int signalFd);
    // Returns an exit code from options.h. signalled is set if SIGTERM/SIGINT/SIGHUP arrived.
    int run(bool &signalled);

private:
    enum class Wait
    {
        Start,
        Stop,
        Error
    };
    Wait waitForStart(bool &signalled);
    int stream(bool &signalled);
    bool flush(bool force);
    bool sendStats();
    // Answers a ClockProbe with the clocks read now (queued after what is already queued, past
    // the queue's budget like Stats); false with err on a malformed probe or a dead peer.
    bool answerClockProbe(const wire::Frame &probe, std::string &err);
    bool startPackets();
    bool startTcpInfo();
    void pollListeners();
    void addInterfaceRecord(std::uint32_t ifindex, const std::string &name, std::uint8_t attach);
    void note(const std::string &text) const;
    // A fatal reason: on stderr and as a typed Error to the app.
    void fail(wire::ErrorCode code, const std::string &primary, const std::string &secondary = {});
    // A non-fatal event: on stderr and as a Log frame to the app (held until Hello is sent).
    void log(wire::LogMessage::Level level, const std::string &text);
    // One session per process (--fd, the app's mode): capabilities are dropped once attached.
    // A --listen server loads the programs again for each client and keeps them.
    bool dropsPrivileges() const { return m_options.listenPath.empty(); }
    static int onSample(void *ctx, void *data, std::size_t size);

    const Options &m_options;
    Tracefs &m_tracefs;
    int m_signalFd;
    PeerChannel m_peer;
    LifecycleLoader m_loader;
    PacketLoader m_packets;
    bool m_packetsLoaded = false;
    std::string m_packetsLoadError;
    TcpInfoLoader m_tcpinfo;
    std::string m_tcpinfoLoadError;
    ListenerPoll m_listeners;
    std::string m_listenersError;
    long long m_lastListenerPollMs = 0;
    bool m_tcpinfoOn = false; // Start asked for kTcpInfo
    wire::StartOptions m_start;
    wire::RecordBatcher m_batcher;
    std::uint64_t m_recordsSent = 0;
    std::uint64_t m_readerDropped = 0; // records dropped while the app did not read
    bool m_dropping = false;           // in a run of such drops (logged once per run)
    std::uint64_t m_badSamples = 0;
    std::uint64_t m_missedRuns = 0; // last recursion_misses sum read from the kernel
    bool m_missedRunsReadFailed = false;
    long long m_lastFlushMs = 0;
    static constexpr int kMaxLogFrames = 64;
    bool m_helloSent = false;
    int m_logsSent = 0;
    std::vector<wire::LogMessage> m_pendingLogs; // logged before Hello
};

} // namespace tcpscope::helper
