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

// One client from Hello to the end: checks the peer, loads BPF, sends Hello, waits for Start,
// seeds listeners from /proc, attaches, streams Records and Stats until Stop, hang-up, a
// malformed frame or a signal. Everything BPF is released when run() returns.
class Session
{
public:
    Session(int peerFd, const Options &options, Tracefs &tracefs, int signalFd);
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
    bool startPackets();
    bool startTcpInfo();
    void pollListeners();
    void addInterfaceRecord(std::uint32_t ifindex, const std::string &name, std::uint8_t attach);
    void note(const std::string &text) const;
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
    std::uint64_t m_badSamples = 0;
    std::uint64_t m_missedRuns = 0; // last recursion_misses sum read from the kernel
    bool m_missedRunsReadFailed = false;
    long long m_lastFlushMs = 0;
};

} // namespace tcpscope::helper
