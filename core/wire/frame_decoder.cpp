// SPDX-License-Identifier: GPL-3.0-or-later
#include "wire.h"

namespace tcpscope::wire {

namespace {
std::uint32_t loadLe32(const std::uint8_t *p)
{
    return std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 | std::uint32_t(p[2]) << 16 |
           std::uint32_t(p[3]) << 24;
}
bool knownType(std::uint16_t t)
{
    return t >= static_cast<std::uint16_t>(MessageType::Hello) &&
           t <= static_cast<std::uint16_t>(MessageType::ClockReply);
}
} // namespace

void FrameDecoder::feed(std::span<const std::uint8_t> bytes)
{
    if (!m_error.empty())
        return; // poisoned: do not keep buffering for a connection that must close
    // Drop consumed bytes before growing so the buffer stays around one frame in size.
    if (m_offset > 0 && (m_offset == m_buffer.size() || m_offset >= 64 * 1024)) {
        m_buffer.erase(m_buffer.begin(), m_buffer.begin() + static_cast<std::ptrdiff_t>(m_offset));
        m_offset = 0;
    }
    m_buffer.insert(m_buffer.end(), bytes.begin(), bytes.end());
}

FrameDecoder::Status FrameDecoder::next(Frame &out)
{
    if (!m_error.empty())
        return Status::Error;
    if (buffered() < kHeaderSize)
        return Status::NeedMore;
    const std::uint8_t *h = m_buffer.data() + m_offset;
    const std::uint32_t length = loadLe32(h);
    const std::uint16_t type = detail::loadLe16(h + 4);
    const std::uint16_t flags = detail::loadLe16(h + 6);
    // Header checks happen as soon as the 8 header bytes are here, before waiting for (or
    // allocating) the payload, so a bogus length can never make us buffer gigabytes.
    if (length > kMaxPayload) {
        m_error = "frame length " + std::to_string(length) + " exceeds the maximum " +
                  std::to_string(kMaxPayload);
        return Status::Error;
    }
    if (!knownType(type)) {
        m_error = "unknown message type " + std::to_string(type);
        return Status::Error;
    }
    if (flags != 0) {
        m_error = "non-zero frame flags " + std::to_string(flags) + " on " + messageTypeName(type);
        return Status::Error;
    }
    if (buffered() < kHeaderSize + length)
        return Status::NeedMore;
    const auto begin = m_buffer.begin() + static_cast<std::ptrdiff_t>(m_offset + kHeaderSize);
    out.type = static_cast<MessageType>(type);
    out.payload.assign(begin, begin + length);
    m_offset += kHeaderSize + length;
    return Status::Frame;
}

} // namespace tcpscope::wire
