// SPDX-License-Identifier: GPL-3.0-or-later
#include "byte_io.h"

#include <cstring>

namespace tcpscope::wire::detail {

void ByteWriter::putLe(std::uint64_t v, int n)
{
    for (int i = 0; i < n; ++i)
        m_out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

void ByteWriter::bytes(const void *data, std::size_t n)
{
    const auto *p = static_cast<const std::uint8_t *>(data);
    m_out.insert(m_out.end(), p, p + n);
}

void ByteWriter::string(const std::string &s, std::size_t maxLen)
{
    const std::size_t n = s.size() < maxLen ? s.size() : maxLen;
    u32(static_cast<std::uint32_t>(n));
    bytes(s.data(), n);
}

void ByteReader::fail(const std::string &why)
{
    if (m_error.empty())
        m_error = why + " (at payload offset " + std::to_string(m_pos) + ")";
    m_pos = m_in.size(); // nothing after a failure can succeed
}

std::uint64_t ByteReader::getLe(int n)
{
    if (!ok())
        return 0;
    if (remaining() < static_cast<std::size_t>(n)) {
        fail("payload truncated: need " + std::to_string(n) + " bytes, have " +
             std::to_string(remaining()));
        return 0;
    }
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i)
        v |= static_cast<std::uint64_t>(m_in[m_pos + i]) << (8 * i);
    m_pos += n;
    return v;
}

bool ByteReader::bytes(void *out, std::size_t n)
{
    if (!ok())
        return false;
    if (remaining() < n) {
        fail("payload truncated: need " + std::to_string(n) + " bytes, have " +
             std::to_string(remaining()));
        return false;
    }
    std::memcpy(out, m_in.data() + m_pos, n);
    m_pos += n;
    return true;
}

std::string ByteReader::string(std::size_t maxLen, const char *what)
{
    const std::uint32_t len = u32();
    if (!ok())
        return {};
    if (len > maxLen) {
        fail(std::string(what) + " length " + std::to_string(len) + " exceeds limit " +
             std::to_string(maxLen));
        return {};
    }
    if (len > remaining()) {
        fail(std::string(what) + " length " + std::to_string(len) + " exceeds the " +
             std::to_string(remaining()) + " remaining bytes");
        return {};
    }
    std::string s(reinterpret_cast<const char *>(m_in.data() + m_pos), len);
    m_pos += len;
    return s;
}

} // namespace tcpscope::wire::detail
