// SPDX-License-Identifier: GPL-3.0-or-later
#include "peer_channel.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

namespace tcpscope::helper {

namespace {
long long nowMs()
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}
} // namespace

PeerChannel::PeerChannel(int readFd, int writeFd) : m_readFd(readFd), m_writeFd(writeFd)
{
    m_readFlags = fcntl(readFd, F_GETFL);
    if (m_readFlags >= 0)
        fcntl(readFd, F_SETFL, m_readFlags | O_NONBLOCK);
    if (split()) {
        m_writeFlags = fcntl(writeFd, F_GETFL);
        if (m_writeFlags >= 0)
            fcntl(writeFd, F_SETFL, m_writeFlags | O_NONBLOCK);
    }
    struct stat st
    {
    };
    m_writeIsSocket = fstat(writeFd, &st) == 0 && S_ISSOCK(st.st_mode);
}

PeerChannel::~PeerChannel()
{
    // O_NONBLOCK belongs to the open file, which a terminal shares with the shell that
    // started us: give it back as it was.
    if (m_readFlags >= 0)
        fcntl(m_readFd, F_SETFL, m_readFlags);
    if (split() && m_writeFlags >= 0)
        fcntl(m_writeFd, F_SETFL, m_writeFlags);
}

ssize_t PeerChannel::writeSome(const std::uint8_t *data, std::size_t size)
{
    if (m_writeIsSocket)
        return ::send(m_writeFd, data, size, MSG_NOSIGNAL | MSG_DONTWAIT);
    return ::write(m_writeFd, data, size); // O_NONBLOCK; SIGPIPE is ignored (EPIPE instead)
}

bool PeerChannel::send(const std::vector<std::uint8_t> &frame)
{
    if (m_dead)
        return false;
    const long long deadline = nowMs() + kWriteTimeoutMs;
    std::size_t off = 0;
    while (off < frame.size()) {
        const ssize_t n = writeSome(frame.data() + off, frame.size() - off);
        if (n > 0) {
            off += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            const long long left = deadline - nowMs();
            pollfd p{m_writeFd, POLLOUT, 0};
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

bool PeerChannel::queue(std::vector<std::uint8_t> frame, bool force)
{
    if (m_dead)
        return false;
    if (!force && m_queuedBytes + frame.size() > kMaxQueuedBytes)
        return false;
    if (m_queue.empty())
        m_lastProgressMs = nowMs();
    m_queuedBytes += frame.size();
    m_queue.push_back(std::move(frame));
    return true;
}

bool PeerChannel::pump()
{
    while (!m_dead && !m_queue.empty()) {
        const std::vector<std::uint8_t> &front = m_queue.front();
        const ssize_t n = writeSome(front.data() + m_frontWritten, front.size() - m_frontWritten);
        if (n > 0) {
            m_lastProgressMs = nowMs();
            m_frontWritten += std::size_t(n);
            m_queuedBytes -= std::size_t(n);
            if (m_frontWritten == front.size()) {
                m_queue.pop_front();
                m_frontWritten = 0;
            }
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return true;
        m_error = std::string("write to peer failed: ") + std::strerror(errno);
        m_dead = true;
    }
    return !m_dead;
}

long long PeerChannel::stalledMs() const
{
    return m_queue.empty() ? 0 : nowMs() - m_lastProgressMs;
}

bool PeerChannel::drain(int timeoutMs)
{
    const long long deadline = nowMs() + timeoutMs;
    while (pump() && !m_queue.empty()) {
        const long long left = deadline - nowMs();
        pollfd p{m_writeFd, POLLOUT, 0};
        if (left <= 0 || ::poll(&p, 1, int(left)) < 0)
            return false;
    }
    return !m_dead;
}

void PeerChannel::sendError(const wire::ErrorMessage &error)
{
    sendFrameBestEffort(wire::encodeError(error));
}

void PeerChannel::sendTextError(const std::string &text)
{
    sendFrameBestEffort(wire::encodeTextError(text));
}

void PeerChannel::sendFrameBestEffort(std::vector<std::uint8_t> frame)
{
    if (m_dead)
        return;
    if (!m_queue.empty()) {
        // Behind what is queued (a frame may be half written): best effort, never long.
        queue(std::move(frame), true);
        drain(200);
        return;
    }
    // Short frame; if the socket buffer is full the peer is not listening anyway.
    (void)writeSome(frame.data(), frame.size());
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
    const ssize_t n = ::read(m_readFd, buf, sizeof buf);
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
