// SPDX-License-Identifier: GPL-3.0-or-later
// libFuzzer target: arbitrary bytes through the frame decoder and every payload decoder.
// Build with -DTCPSCOPE_FUZZ=ON using clang; run: build/bin/fuzz_wire -max_total_time=60
#include "wire.h"

#include <cstring>

namespace {
// Reads the member the type selects, the way consumers do (reason names are not trusted to be
// NUL-terminated), so a union/size mismatch shows up under ASan/UBSan.
volatile std::uint64_t g_sink;
void touch(const tcpscope::wire::Record &r)
{
    std::uint64_t v = r.header.ts_ns;
    switch (r.type) {
    case TS_REC_TCP_SAMPLE:
        v += r.tcpSample.srtt_us + r.tcpSample.daddr[15];
        break;
    case TS_REC_TCP_EVENT:
        v += r.tcpEvent.segs + r.tcpEvent.daddr[15];
        break;
    case TS_REC_DROP:
        v += r.drop.reason + r.drop.daddr[15];
        break;
    case TS_REC_LISTENER:
        v += r.listener.drops + r.listener.addr[15];
        break;
    case TS_REC_REASON_NAME:
        v += strnlen(r.reasonName.name, sizeof r.reasonName.name);
        break;
    default:
        if (const ts_packet *p = r.asPacket())
            v += p->options[TS_TCP_OPTIONS_MAX - 1];
        break;
    }
    g_sink = v;
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    using namespace tcpscope::wire;
    FrameDecoder d;
    // Feed in two pieces to exercise the incremental path as well.
    d.feed({data, size / 2});
    d.feed({data + size / 2, size - size / 2});
    Frame f;
    std::string err;
    while (d.next(f) == FrameDecoder::Status::Frame) {
        switch (f.type) {
        case MessageType::Hello:
            (void)decodeHello(f.payload, err);
            (void)checkPeerVersions(f.payload, Peer::Helper);
            break;
        case MessageType::Start: {
            ErrorMessage refusal;
            (void)decodeStart(f.payload, err, &refusal);
            (void)checkPeerVersions(f.payload, Peer::App);
            break;
        }
        case MessageType::Stop:
            (void)decodeStop(f.payload, err);
            break;
        case MessageType::Stats:
            (void)decodeStats(f.payload, err);
            break;
        case MessageType::TextError:
            (void)decodeTextError(f.payload, err);
            break;
        case MessageType::Error: {
            ErrorMessage e;
            if (auto m = decodeError(f.payload, err))
                e = *m;
            (void)errorCodeName(e.code);
            (void)e.text();
            break;
        }
        case MessageType::Log:
            (void)decodeLog(f.payload, err);
            break;
        case MessageType::HostOwners:
            if (auto o = decodeHostOwners(f.payload, err)) { // a decoded report encodes to itself
                const std::vector<std::uint8_t> again = encodeHostOwners(*o);
                if (decodeHostOwners(std::span(again).subspan(kHeaderSize), err) != o)
                    __builtin_trap();
            }
            break;
        case MessageType::ClockProbe:
            (void)decodeClockProbe(f.payload, err);
            break;
        case MessageType::ClockReply:
            if (auto c = decodeClockReply(f.payload, err)) { // a decoded reply encodes to itself
                const std::vector<std::uint8_t> again = encodeClockReply(*c);
                if (decodeClockReply(std::span(again).subspan(kHeaderSize), err) != c)
                    __builtin_trap();
            }
            break;
        case MessageType::Records: {
            std::size_t skipped = 0;
            forEachRecord(f.payload, touch, err, &skipped);
            break;
        }
        }
    }
    // Raw bytes as a Records payload too: that is the path with the most length arithmetic.
    forEachRecord({data, size}, touch, err);
    return 0;
}
