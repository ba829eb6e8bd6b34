// SPDX-License-Identifier: GPL-3.0-or-later
// Test double for tcpscope-helper with packet capture: speaks the wire protocol on fd 3 and sends
// interface, packet (with a payload snapshot) and lifecycle records in the order the two kernel
// ring buffers can produce them (an accepted connection's handshake packets before its first
// state change), then Stats with packet losses and filtered counts, and a Log warning for an
// interface it could not attach to. FAKE_HELPER_MODE=nopackets answers a Start with packets by an
// Error PacketsUnavailable and streams lifecycle only when started again without; =textpackets
// answers it by an Error without a code whose text says "packets" (no fallback). No Qt, no BPF.
#include "fake_helper_io.h"
#include "record_builders.h"
#include "wire.h"

#include <cstdio>
#include <cstdlib>
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

} // namespace

int main(int argc, char **argv)
{
    if (argc != 3 || std::string(argv[1]) != "--fd" || std::string(argv[2]) != "3")
        return 2;
    Hello hello;
    hello.monotonicNs = 1'000;
    hello.realtimeNs = 1'700'000'000'000'000'000;
    hello.kernelRelease = "6.18.0-fake";
    hello.hostname = "fakehost";
    hello.probes = {{"inet_sock_set_state", "tp_btf", ""}, {"tc_packets", "tcx", ""}};
    sendBytes(encodeHello(hello));
    sendBytes(encodeHostOwners({})); // protocol 6: the host's owners before Start
    FrameDecoder decoder;
    const Frame start = expect(decoder, MessageType::Start);
    const char *env = std::getenv("FAKE_HELPER_MODE");
    const std::string mode = env ? env : "normal";
    std::string err;
    const auto options = decodeStart(start.payload, err);
    if (!options)
        return 8;
    if (mode == "nopackets" || mode == "textpackets") {
        if (options->flags & StartOptions::kPackets) {
            sendBytes(encodeError(
                {mode == "nopackets" ? ErrorCode::PacketsUnavailable : ErrorCode::Unspecified,
                 "cannot capture packets",
                 "could not attach to any network interface",
                 {}}));
            return 1;
        }
        Stats stats;
        stats.monotonicNs = 2'000;
        sendBytes(encodeStats(stats)); // attached, lifecycle only
        expect(decoder, MessageType::Stop);
        sendBytes(encodeStats(stats));
        return 0;
    }
    // A non-fatal event, as the real helper reports an interface it could not attach to.
    sendBytes(encodeLog({LogMessage::Level::Warning, "cannot attach to eth9: No such device"}));
    sendBytes(encodeLog({LogMessage::Level::Info, "tcpinfo hooks unavailable: fake"}));
    Stats stats;
    stats.monotonicNs = 2'000;
    sendBytes(encodeStats(stats)); // attached

    const Endpoint server{AF_INET, "127.0.0.1", 8080, "127.0.0.1", 40000};
    const Endpoint client = swapped(server);
    RecordBatcher b;
    add(b, interface(1, "lo", TS_ATTACH_TCX, 3'000));
    // The packet ring buffer is ahead: the server's handshake before its socket's first change.
    add(b, packet(0, 10'000, TS_DIR_INGRESS, client, TS_TCP_SYN, 100, 0, 0, 65495, 0));
    add(b, packet(9, 11'000, TS_DIR_EGRESS, server, TS_TCP_SYN | TS_TCP_ACK, 500, 101, 0, 65483,
                  NEW_SYN_RECV));
    add(b, packet(9, 12'000, TS_DIR_INGRESS, client, TS_TCP_ACK, 101, 501, 0, 512, NEW_SYN_RECV));
    // A RST from a closed port: no socket, never a connection.
    add(b, packet(0, 13'000, TS_DIR_EGRESS, Endpoint{AF_INET, "127.0.0.1", 9, "127.0.0.1", 50000},
                  TS_TCP_RST | TS_TCP_ACK, 0, 1, 0, 0, 0));
    flush(b);
    add(b, change(7, 12'500, LISTEN, SYN_RECV, server, 77, "fakeserver", TS_OWNER_LISTENER));
    add(b, change(7, 12'600, SYN_RECV, ESTABLISHED, server, 77, "fakeserver", TS_OWNER_LISTENER));
    const char request[] = "GET / HTTP/1.1\r\n";
    add(b, packetSnap(packet(7, 14'000, TS_DIR_INGRESS, client, TS_TCP_ACK | TS_TCP_PSH, 101, 501,
                             sizeof request - 1, 512),
                      request, sizeof request - 1));
    flush(b);
    stats.monotonicNs = 1'000'000'000; // past the app's reorder window: the records go out
    stats.recordsSent = 8;
    stats.lostPerCpu = {0, 0};
    stats.packetLostPerCpu = {1, 2};
    stats.packetsFiltered = 5;
    sendBytes(encodeStats(stats));
    expect(decoder, MessageType::Stop);
    sendBytes(encodeStats(stats));
    return 0;
}
