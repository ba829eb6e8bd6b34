// SPDX-License-Identifier: GPL-3.0-or-later
// A stand-in for `ssh DEST tcpscope-helper --stdio` in the GUI tests ($TCPSCOPE_SSH names it;
// it ignores ssh's arguments): speaks the real wire protocol on its stdin/stdout (the app's
// socket) as a remote helper on host "fakeremote" would, answering the app's clock probes with
// this machine's clocks, sending one connection after Start and final counters after Stop.
// No Qt, no BPF.
#include "fake_helper_io.h"

#include <arpa/inet.h>
#include <cstring>
#include <ctime>
#include <string>

using namespace tcpscope::wire;
using namespace fakehelper;

namespace {

std::uint64_t clockNs(clockid_t id)
{
    timespec ts{};
    clock_gettime(id, &ts);
    return std::uint64_t(ts.tv_sec) * 1'000'000'000ULL + std::uint64_t(ts.tv_nsec);
}

ts_state_change change(std::uint64_t sock, std::uint64_t ts, std::uint8_t from, std::uint8_t to)
{
    ts_state_change r{};
    r.hdr.type = TS_REC_STATE_CHANGE;
    r.hdr.size = sizeof r;
    r.hdr.ts_ns = ts;
    r.sock_id = sock;
    r.pid = 5151;
    r.ctx_pid = 5151;
    r.family = AF_INET;
    r.sport = 41000;
    r.dport = 5432;
    r.oldstate = from;
    r.newstate = to;
    r.owner_source = TS_OWNER_CURRENT;
    inet_pton(AF_INET, "10.0.0.2", r.saddr);
    inet_pton(AF_INET, "10.0.0.3", r.daddr);
    std::strcpy(r.comm, "remoteclient");
    std::strcpy(r.ctx_comm, "remoteclient");
    return r;
}

// A connection opened and established just now, left open.
void sendConnection(std::uint64_t sock)
{
    const std::uint64_t now = clockNs(CLOCK_MONOTONIC);
    RecordBatcher b;
    add(b, change(sock, now - 2'000'000, 7, 2));
    add(b, change(sock, now - 1'000'000, 2, 1));
    while (!b.empty())
        sendBytes(b.takeFrame());
}

void sendStats(std::uint64_t records)
{
    Stats stats;
    stats.monotonicNs = clockNs(CLOCK_MONOTONIC);
    stats.recordsSent = records;
    stats.lostPerCpu = {0};
    sendBytes(encodeStats(stats));
}

} // namespace

int main()
{
    kFd = 0; // the socket is stdin and stdout
    Hello hello;
    hello.monotonicNs = clockNs(CLOCK_MONOTONIC);
    hello.realtimeNs = clockNs(CLOCK_REALTIME);
    hello.kernelRelease = "6.18.0-fakeremote";
    hello.hostname = "fakeremote";
    hello.probes = {{"inet_sock_set_state", "tp_btf", ""}};
    sendBytes(encodeHello(hello));
    sendBytes(encodeHostOwners({}));
    FrameDecoder decoder;
    bool started = false;
    for (;;) {
        Frame frame;
        const auto st = decoder.next(frame);
        if (st == FrameDecoder::Status::Error)
            return 6;
        if (st == FrameDecoder::Status::NeedMore) {
            std::uint8_t buf[4096];
            const ssize_t n = recv(kFd, buf, sizeof buf, 0);
            if (n <= 0)
                return n == 0 ? 0 : 7;
            decoder.feed(std::span<const std::uint8_t>(buf, std::size_t(n)));
            continue;
        }
        std::string error;
        switch (frame.type) {
        case MessageType::ClockProbe: {
            const auto id = decodeClockProbe(frame.payload, error);
            if (!id)
                return 8;
            sendBytes(encodeClockReply({*id, clockNs(CLOCK_REALTIME), clockNs(CLOCK_MONOTONIC)}));
            break;
        }
        case MessageType::Start:
            started = true;
            sendConnection(500);
            sendStats(2);
            break;
        case MessageType::Stop:
            if (!started)
                return 9;
            sendStats(2);
            return 0;
        default:
            std::fprintf(stderr, "fake_remote_helper: unexpected %s\n",
                         messageTypeName(std::uint16_t(frame.type)).c_str());
            return 5;
        }
    }
}
