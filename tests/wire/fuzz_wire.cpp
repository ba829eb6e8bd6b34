// SPDX-License-Identifier: GPL-3.0-or-later
// libFuzzer target: arbitrary bytes through the frame decoder and every payload decoder.
// Build with -DTCPSCOPE_FUZZ=ON using clang; run: build/bin/fuzz_wire -max_total_time=60
#include "wire.h"

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
            break;
        case MessageType::Start:
            (void)decodeStart(f.payload, err);
            break;
        case MessageType::Stop:
            (void)decodeStop(f.payload, err);
            break;
        case MessageType::Stats:
            (void)decodeStats(f.payload, err);
            break;
        case MessageType::Error:
            (void)decodeError(f.payload, err);
            break;
        case MessageType::Records: {
            std::size_t skipped = 0;
            forEachRecord(
                f.payload, [](const Record &r) { (void)r.header.ts_ns; }, err, &skipped);
            break;
        }
        }
    }
    // Raw bytes as a Records payload too: that is the path with the most length arithmetic.
    forEachRecord(
        {data, size}, [](const Record &) {}, err);
    return 0;
}
