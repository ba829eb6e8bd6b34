// SPDX-License-Identifier: GPL-3.0-or-later
// Test double for tcpscope-helper: speaks the real wire protocol on fd 3 and follows a script
// chosen by FAKE_HELPER_MODE (normal, noprivs, exit77, v4, garbage, die, ignorestop). No Qt, no
// BPF.
#include "fake_helper_io.h"
#include "wire.h"

#include <arpa/inet.h>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

using namespace tcpscope::wire;
using namespace fakehelper;

namespace {

ts_state_change change(std::uint64_t sock, std::uint64_t ts, std::uint8_t from, std::uint8_t to)
{
    ts_state_change r{};
    r.hdr.type = TS_REC_STATE_CHANGE;
    r.hdr.size = sizeof r;
    r.hdr.ts_ns = ts;
    r.sock_id = sock;
    r.pid = 4242;
    r.ctx_pid = 4242;
    r.family = AF_INET;
    r.sport = 40000;
    r.dport = 8080;
    r.oldstate = from;
    r.newstate = to;
    r.owner_source = TS_OWNER_CURRENT;
    inet_pton(AF_INET, "127.0.0.1", r.saddr);
    inet_pton(AF_INET, "127.0.0.1", r.daddr);
    std::strcpy(r.comm, "fakeclient");
    std::strcpy(r.ctx_comm, "fakeclient");
    return r;
}

// One full client connection (sock) and a second one left open (sock + 1).
void sendConnections(std::uint64_t sock)
{
    RecordBatcher b;
    add(b, change(sock, 1'000'000, 7, 2));
    add(b, change(sock, 1'050'000, 2, 1));
    add(b, change(sock, 3'000'000, 1, 4));
    add(b, change(sock, 3'100'000, 4, 5));
    add(b, change(sock, 3'200'000, 5, 7));
    ts_close_stats s{};
    s.hdr.type = TS_REC_CLOSE_STATS;
    s.hdr.size = sizeof s;
    s.hdr.ts_ns = 3'200'000;
    s.sock_id = sock;
    s.bytes_acked = 1000;
    s.bytes_received = 2000;
    s.oldstate = 5;
    add(b, s);
    add(b, change(sock + 1, 4'000'000, 7, 2));
    while (!b.empty())
        sendBytes(b.takeFrame());
}

} // namespace

int main(int argc, char **argv)
{
    if (argc != 3 || std::string(argv[1]) != "--fd" || std::string(argv[2]) != "3") {
        std::fprintf(stderr, "fake_helper: usage: fake_helper --fd 3\n");
        return 2;
    }
    const char *env = std::getenv("FAKE_HELPER_MODE");
    const std::string mode = env ? env : "normal";
    if (mode == "noprivs") {
        // The typed Error decides, whatever the exit status (here deliberately not 77).
        std::fprintf(stderr, "tcpscope-helper: needs root (said on stderr too)\n");
        sendBytes(encodeError({ErrorCode::Permission,
                               "needs root or CAP_BPF+CAP_PERFMON+CAP_NET_ADMIN",
                               "try: setcap",
                               {}}));
        return 1;
    }
    if (mode == "exit77") {
        // Dies before its socket is usable (nothing sent): only the exit status says why.
        std::fprintf(stderr, "tcpscope-helper: needs root or CAP_BPF+CAP_PERFMON+CAP_NET_ADMIN\n");
        return 77;
    }
    if (mode == "ignorestop")
        std::signal(SIGTERM, SIG_IGN);

    Hello hello;
    hello.monotonicNs = 1'000;
    hello.realtimeNs = 1'700'000'000'000'000'000;
    hello.kernelRelease = "6.18.0-fake";
    hello.hostname = "fakehost";
    hello.probes = {{"inet_sock_set_state", "tp_btf", ""}};
    if (mode == "v4") {
        hello.protocolVersion = 4; // an older helper
        sendBytes(encodeHello(hello));
        FrameDecoder decoder;
        expect(decoder, MessageType::Start); // the app must refuse, never send Start
        return 9;
    }
    sendBytes(encodeHello(hello));
    sendBytes(encodeHostOwners({})); // protocol 6: the host's owners before Start
    FrameDecoder decoder;
    expect(decoder, MessageType::Start);
    sendConnections(100);
    Stats stats;
    // The helper's clock has moved on past the records: the app's reorder window releases them.
    stats.monotonicNs = 1'000'000'000;
    stats.recordsSent = 7;
    stats.lostPerCpu = {2, 3};
    stats.missedRuns = 4; // the kernel skipped 4 runs of our program (recursion_misses)
    sendBytes(encodeStats(stats));

    if (mode == "garbage") {
        const std::vector<std::uint8_t> bad = {4, 0, 0, 0, 99, 0, 0, 0, 1, 2, 3, 4};
        sendBytes(bad);
        pause(); // the app must not wait for us: it stops us with a signal
        return 0;
    }
    if (mode == "die") {
        std::fprintf(stderr, "fake_helper: dying on purpose\n");
        return 3;
    }
    if (mode == "ignorestop") {
        for (;;)
            pause();
    }
    expect(decoder, MessageType::Stop);
    sendConnections(200); // records still in flight at Stop are delivered before EOF
    // Final counters, as the real helper sends them: the cumulative values grew meanwhile.
    stats.recordsSent = 14;
    stats.missedRuns = 6;
    sendBytes(encodeStats(stats));
    return 0;
}
