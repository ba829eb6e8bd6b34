// SPDX-License-Identifier: GPL-3.0-or-later
// Socket I/O shared by the scripted stand-ins for tcpscope-helper (fake_helper,
// fake_packet_helper, the GUI tests' fake_remote_helper): they talk the real wire protocol on
// fd 3 (a remote helper's stand-in: stdin and stdout, fd 0) and exit with a distinct status on
// anything unexpected, which the test reports.
#pragma once

#include "wire.h"

#include <cstdio>
#include <cstdlib>
#include <span>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace fakehelper {

using namespace tcpscope::wire;

// The app's socket: fd 3 as a local helper gets it; a stand-in for `ssh … --stdio` sets 0.
inline int kFd = 3;

inline void sendBytes(const std::vector<std::uint8_t> &bytes)
{
    std::size_t off = 0;
    while (off < bytes.size()) {
        const ssize_t n = send(kFd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
        if (n <= 0)
            std::exit(4);
        off += std::size_t(n);
    }
}

// Blocks until one frame of the wanted type arrives; exits on EOF or anything else.
inline Frame expect(FrameDecoder &decoder, MessageType wanted)
{
    Frame frame;
    for (;;) {
        const auto st = decoder.next(frame);
        if (st == FrameDecoder::Status::Frame) {
            if (frame.type != wanted) {
                std::fprintf(stderr, "fake_helper: unexpected %s\n",
                             messageTypeName(std::uint16_t(frame.type)).c_str());
                std::exit(5);
            }
            return frame;
        }
        if (st == FrameDecoder::Status::Error)
            std::exit(6);
        std::uint8_t buf[4096];
        const ssize_t n = recv(kFd, buf, sizeof buf, 0);
        if (n <= 0)
            std::exit(n == 0 ? 0 : 7);
        decoder.feed(std::span<const std::uint8_t>(buf, std::size_t(n)));
    }
}

// Appends one raw record, as the ring buffer would hand it to the real helper.
template <typename T> void add(RecordBatcher &b, const T &rec)
{
    b.add(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t *>(&rec), sizeof rec));
}

} // namespace fakehelper
