// SPDX-License-Identifier: GPL-3.0-or-later
#include "peer_channel.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>

namespace tcpscope::helper {

namespace {
long long nowMs()
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}
} // namespace

PeerChannel::PeerChannel(int fd) : m_fd(fd)
{
    const int flags = fcntl(fd, F_GETFL);
    if (flags >= 0)
        fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

bool PeerChannel::send(const std::vector<std::uint8_t> &frame)
{
    if (m_dead)
        return false;
    const long long deadline = nowMs() + kWriteTimeoutMs;
    std::size_t off = 0;
    while (off < frame.size()) {
        const ssize_t n = ::send(m_fd, frame.data() + off, frame.size() - off, MSG_NOSIGNAL);
        if (n > 0) {
            off += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            const long long left = deadline - nowMs();
            pollfd p{m_fd, POLLOUT, 0};
            if (left > 0 && ::poll(&p, 1, static_cast<int>(left)) >= 0)
                continue;
            m_error = "peer did not read for " + std::to_string(kWriteTimeoutMs) + " ms";
        } else {
            m_error = std::string("write to peer failed: ") + std::strerror(errno);
        }
        m_dead = true;
        return false;
    }
    return true;
}

void PeerChannel::sendError(const std::string &text)
{
    if (m_dead)
        return;
    // Short frame; if the socket buffer is full the peer is not listening anyway.
    const std::vector<std::uint8_t> frame = wire::encodeError(text);
    (void)::send(m_fd, frame.data(), frame.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

PeerChannel::ReadResult PeerChannel::poll(wire::Frame &frame)
{
    // Hand out frames already buffered before reading more.
    auto next = [&]() -> ReadResult {
        switch (m_decoder.next(frame)) {
        case wire::FrameDecoder::Status::Frame:
            return ReadResult::Frame;
        case wire::FrameDecoder::Status::Error:
            m_error = "malformed frame from peer: " + m_decoder.error();
            return ReadResult::ProtocolError;
        case wire::FrameDecoder::Status::NeedMore:
            return ReadResult::Ok;
        }
        return ReadResult::Ok;
    };
    if (ReadResult r = next(); r != ReadResult::Ok)
        return r;
    if (m_dead)
        return ReadResult::Closed;
    std::uint8_t buf[16384];
    const ssize_t n = ::recv(m_fd, buf, sizeof buf, 0);
    if (n == 0) {
        m_error = "peer hung up";
        m_dead = true;
        return ReadResult::Closed;
    }
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return ReadResult::Ok;
        m_error = std::string("read from peer failed: ") + std::strerror(errno);
        m_dead = true;
        return ReadResult::Closed;
    }
    m_decoder.feed({buf, static_cast<std::size_t>(n)});
    return next();
}

} // namespace tcpscope::helper
