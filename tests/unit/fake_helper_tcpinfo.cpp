// SPDX-License-Identifier: GPL-3.0-or-later
// Test double for tcpscope-helper with the kernel's view: speaks the wire protocol on
// fd 3, checks that Start asks for tcpinfo with the test's sample interval, then sends reason
// names, tcpinfo samples/events/drops and listener samples interleaved with lifecycle records
// in the orders two ring buffers can produce (a SYN-ACK resend and a refused connect's drop
// before their connections' state changes). FAKE_HELPER_MODE=unavailable reports every tcpinfo
// probe unavailable and sends lifecycle records only; =refuse answers a Start with tcpinfo by an
// Error TcpInfoUnavailable (a helper whose tcpinfo programs cannot attach); =refuse-other by an
// Error of another code whose text still mentions tcpinfo (no fallback). No Qt, no BPF.
#include "fake_helper_io.h"
#include "record_builders.h"
#include "wire.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

using namespace tcpscope::wire;
using namespace testrec;
using namespace fakehelper;

namespace {

void flush(RecordBatcher &b)
{
    while (!b.empty())
        sendBytes(b.takeFrame());
}

constexpr std::uint64_t kMs = 1'000'000;

} // namespace

int main(int argc, char **argv)
{
    if (argc != 3 || std::string(argv[1]) != "--fd" || std::string(argv[2]) != "3")
        return 2;
    const char *env = std::getenv("FAKE_HELPER_MODE");
    // refuse: Error on a Start with kTcpInfo (then, started again without it, lifecycle only).
    const bool refuseOther = env && std::string(env) == "refuse-other";
    const bool refuse = refuseOther || (env && std::string(env) == "refuse");
    const bool unavailable = refuse || (env && std::string(env) == "unavailable");
    Hello hello;
    hello.monotonicNs = 1'000;
    hello.realtimeNs = 1'700'000'000'000'000'000;
    hello.kernelRelease = "6.18.0-fake";
    hello.hostname = "fakehost";
    hello.probes = {{"inet_sock_set_state", "tp_btf", ""}, {"tc_packets", "tcx", ""}};
    for (const char *probe : {"tcp_probe", "tcp_retransmit_skb", "kfree_skb"})
        hello.probes.push_back(unavailable && !refuse ? ProbeReport{probe, "unavailable", "no BTF"}
                                                      : ProbeReport{probe, "tp_btf", ""});
    sendBytes(encodeHello(hello));
    sendBytes(encodeHostOwners({})); // protocol 6: the host's owners before Start
    FrameDecoder decoder;
    const Frame start = expect(decoder, MessageType::Start);
    std::string err;
    const auto options = decodeStart(start.payload, err);
    if (refuse && options && (options->flags & StartOptions::kTcpInfo)) {
        // As the real helper does when its tcpinfo programs cannot attach.
        std::fprintf(stderr, "tcpscope-helper: cannot start tcpinfo: attach failed\n");
        sendBytes(encodeError({refuseOther ? ErrorCode::Internal : ErrorCode::TcpInfoUnavailable,
                               "cannot start tcpinfo",
                               "attach failed",
                               {}}));
        return 1;
    }
    if (!options || options->sampleIntervalUs != 500 ||
        bool(options->flags & StartOptions::kTcpInfo) == refuse) {
        sendBytes(
            encodeError({ErrorCode::Unspecified, "fake: Start without tcpinfo at 500 us", "", {}}));
        return 8;
    }
    Stats stats;
    stats.monotonicNs = 2'000;
    sendBytes(encodeStats(stats)); // attached

    const Endpoint listen{AF_INET, "0.0.0.0", 8080, "0.0.0.0", 0};
    const Endpoint client{AF_INET, "127.0.0.1", 40000, "127.0.0.1", 8080};
    const Endpoint server = swapped(client);
    const Endpoint refused{AF_INET, "127.0.0.1", 41000, "127.0.0.1", 9};
    RecordBatcher b;
    if (!unavailable) {
        add(b, reasonName(TS_REASONS_SKB_DROP, 3, "NO_SOCKET"));
        add(b, reasonName(TS_REASONS_SK_RST, 0, "NOT_SPECIFIED"));
    }
    add(b, change(50, 1 * kMs, CLOSE, LISTEN, listen, 77, "fakeserver"));
    add(b, change(60, 2 * kMs, CLOSE, SYN_SENT, client, 88, "fakeclient"));
    if (!unavailable) {
        // The tcpinfo ring buffer is ahead: a SYN-ACK resend (names the listener) and the
        // refused connect's SYN drop come before the sockets they belong to.
        add(b, tcpEvent(50, 3 * kMs, TS_EV_SYNACK_RETRANSMIT, server, 1, 0, TS_TCP_SYN | TS_TCP_ACK,
                        TS_REASON_NONE, NEW_SYN_RECV));
        add(b, drop(0, 4 * kMs, refused, 3, TS_TCP_SYN));
        add(b, listenerSample(50, 4 * kMs, AF_INET, "0.0.0.0", 8080, 1, 128, 0));
    }
    flush(b);
    add(b, change(70, 5 * kMs, LISTEN, SYN_RECV, server, 77, "fakeserver", TS_OWNER_LISTENER));
    add(b, change(70, 5 * kMs, SYN_RECV, ESTABLISHED, server, 77, "fakeserver", TS_OWNER_LISTENER));
    add(b, change(60, 6 * kMs, SYN_SENT, ESTABLISHED, client, 88, "fakeclient"));
    add(b, change(80, 3 * kMs, CLOSE, SYN_SENT, refused, 88, "fakeclient"));
    add(b, change(80, 7 * kMs, SYN_SENT, CLOSE, refused, 88, "fakeclient"));
    if (!unavailable) {
        add(b, tcpSample(60, 8 * kMs, client, 120, 10));
        add(b, tcpSample(60, 9 * kMs, client, 90, 14));
        add(b, tcpSample(70, 9 * kMs, server, 100, 10));
        add(b, tcpEvent(60, 10 * kMs, TS_EV_RETRANSMIT, client, 2));
        add(b, tcpEvent(0, 11 * kMs, TS_EV_RST_SENT, swapped(refused), 1, 0, 0, 0, 0));
        add(b,
            tcpEvent(80, 11 * kMs, TS_EV_RST_RECEIVED, refused, 1, 0, 0, TS_REASON_NONE, SYN_SENT));
        add(b, listenerSample(50, 12 * kMs, AF_INET, "0.0.0.0", 8080, 0, 128, 3));
    }
    flush(b);
    stats.monotonicNs = 1000 * kMs; // past the app's reorder window: the records go out
    stats.recordsSent = unavailable ? 7 : 19;
    sendBytes(encodeStats(stats));
    expect(decoder, MessageType::Stop);
    sendBytes(encodeStats(stats));
    return 0;
}
