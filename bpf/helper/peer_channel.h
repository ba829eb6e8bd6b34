// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "wire.h"

#include <cstdint>
#include <string>
#include <vector>

namespace tcpscope::helper {

// The helper's end of the AF_UNIX stream. Non-blocking underneath: writes wait at most
// kWriteTimeoutMs for a slow reader, so a stuck or dead app can never hang the helper (and keep
// BPF attached) forever. Writes use MSG_NOSIGNAL: a closed peer is an error, not SIGPIPE.
class PeerChannel
{
public:
    static constexpr int kWriteTimeoutMs = 5000;
    enum class ReadResult
    {
        Ok,
        Frame,
        Closed,
        ProtocolError
    };

    explicit PeerChannel(int fd); // does not own fd
    int fd() const { return m_fd; }
    bool dead() const { return m_dead; }

    bool send(const std::vector<std::uint8_t> &frame);
    // Best effort: tell the peer why we are closing; never blocks long.
    void sendError(const std::string &text);
    // Reads what is available and returns the next complete frame if there is one. Closed on
    // EOF or a socket error; ProtocolError (see error()) on a malformed frame.
    ReadResult poll(wire::Frame &frame);
    const std::string &error() const { return m_error; }

private:
    int m_fd;
    bool m_dead = false;
    wire::FrameDecoder m_decoder;
    std::string m_error;
};

} // namespace tcpscope::helper
