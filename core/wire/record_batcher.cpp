// SPDX-License-Identifier: GPL-3.0-or-later
#include "wire.h"

#include <cstring>

namespace tcpscope::wire {

bool RecordBatcher::add(std::span<const std::uint8_t> record)
{
    if (record.size() < sizeof(ts_record_header) || record.size() > kMaxPayload ||
        record.size() > 0xffff)
        return false;
    const std::uint16_t size = detail::loadLe16(record.data() + 2);
    if (size != record.size())
        return false; // the app walks records by this field; a mismatch would desync it
    if (m_payload.size() + record.size() > kMaxPayload) {
        m_sealed.push_back({encodeFrame(MessageType::Records, m_payload), m_openCount});
        m_payload.clear();
        m_openCount = 0;
    }
    m_payload.insert(m_payload.end(), record.begin(), record.end());
    ++m_openCount;
    ++m_count;
    return true;
}

std::vector<std::uint8_t> RecordBatcher::takeFrame()
{
    if (!m_sealed.empty()) {
        Sealed s = std::move(m_sealed.front());
        m_sealed.erase(m_sealed.begin());
        m_count -= s.count;
        return std::move(s.frame);
    }
    if (m_openCount == 0)
        return {};
    std::vector<std::uint8_t> frame = encodeFrame(MessageType::Records, m_payload);
    m_payload.clear();
    m_count -= m_openCount;
    m_openCount = 0;
    return frame;
}

} // namespace tcpscope::wire
