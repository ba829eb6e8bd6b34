// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "wire.h"

#include <cstdint>
#include <deque>
#include <string>
#include <sys/types.h>
#include <vector>

namespace tcpscope::helper {

// The helper's end of the connection to its client: one AF_UNIX stream socket (--fd, --listen),
// or two descriptors, one read and one written (--stdio: stdin and stdout, which a remote
// shell's server may give as two pipes). Non-blocking underneath: send() waits at most
// kWriteTimeoutMs for a slow reader, so a stuck or dead app can never hang the helper (and keep
// BPF attached) forever. While streaming, frames go through a bounded queue instead (queue() +
// pump()): the helper keeps reading the kernel while the app does not read, and what does not
// fit is refused so the caller can drop and count it. Socket writes use MSG_NOSIGNAL and the
// helper ignores SIGPIPE: a closed peer (EPIPE) is an error, not a signal.
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

    explicit PeerChannel(int fd) : PeerChannel(fd, fd) {} // does not own fd
    // Reads readFd, writes writeFd (may be the same descriptor); owns neither. Their file
    // status flags are restored when the channel goes away (stdin/stdout may be a terminal).
    PeerChannel(int readFd, int writeFd);
    ~PeerChannel();
    PeerChannel(const PeerChannel &) = delete;
    PeerChannel &operator=(const PeerChannel &) = delete;
    int readFd() const { return m_readFd; }
    int writeFd() const { return m_writeFd; }
    bool split() const { return m_readFd != m_writeFd; }
    bool dead() const { return m_dead; }
    // The client is gone although nothing failed yet (poll() reported an error or hang-up on
    // the write descriptor, e.g. the reader of a pipe went away).
    void markClosed(const std::string &why)
    {
        m_error = why;
        m_dead = true;
    }

    static constexpr std::size_t kMaxQueuedBytes = 32u << 20;

    // Blocking (up to kWriteTimeoutMs) write of one frame; for the handshake, before streaming.
    bool send(const std::vector<std::uint8_t> &frame);
    // Appends a frame to the send queue. False (frame not queued) when it would take the queue
    // past kMaxQueuedBytes, unless force (small control frames such as Stats), or when the peer
    // is dead.
    bool queue(std::vector<std::uint8_t> frame, bool force = false);
    // Writes what the socket takes now without blocking; false once the peer is dead.
    bool pump();
    std::size_t queuedBytes() const { return m_queuedBytes; }
    // How long the queue has waited without the socket taking a byte; 0 when it is empty.
    long long stalledMs() const;
    // End of a capture: writes everything queued, waiting at most timeoutMs.
    bool drain(int timeoutMs);
    // Best effort: tell the peer why we are closing; never blocks long. The code is what the app
    // decides by; the text is what it shows.
    void sendError(const wire::ErrorMessage &error);
    void sendError(wire::ErrorCode code, std::string primary, std::string secondary = {})
    {
        sendError(wire::ErrorMessage{code, std::move(primary), std::move(secondary), {}});
    }
    // The refusal of a peer of another protocol version: plain text, the frame it can read.
    void sendTextError(const std::string &text);
    // Reads what is available and returns the next complete frame if there is one. Closed on
    // EOF or a socket error; ProtocolError (see error()) on a malformed frame.
    ReadResult poll(wire::Frame &frame);
    const std::string &error() const { return m_error; }

private:
    void sendFrameBestEffort(std::vector<std::uint8_t> frame);
    // One non-blocking write of what the descriptor takes (send() on a socket, write() else).
    ssize_t writeSome(const std::uint8_t *data, std::size_t size);
    int m_readFd;
    int m_writeFd;
    bool m_writeIsSocket = false;
    int m_readFlags = -1, m_writeFlags = -1; // as found, restored by the destructor
    bool m_dead = false;
    wire::FrameDecoder m_decoder;
    std::string m_error;
    std::deque<std::vector<std::uint8_t>> m_queue;
    std::size_t m_frontWritten = 0; // bytes of m_queue.front() already written
    std::size_t m_queuedBytes = 0;
    long long m_lastProgressMs = 0; // when the socket last took a byte (or the queue filled)
};

} // namespace tcpscope::helper
