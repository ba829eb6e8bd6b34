// SPDX-License-Identifier: GPL-3.0-or-later
// Explicit little-endian writer/reader used by the message codecs. The reader checks every
// length against what is left before touching a byte and remembers the first failure, so codecs
// can read a whole message and check ok() once at the end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace tcpscope::wire::detail {

class ByteWriter
{
public:
    explicit ByteWriter(std::vector<std::uint8_t> &out) : m_out(out) {}
    void u16(std::uint16_t v) { putLe(v, 2); }
    void u32(std::uint32_t v) { putLe(v, 4); }
    void u64(std::uint64_t v) { putLe(v, 8); }
    void bytes(const void *data, std::size_t n);
    // u32 length + bytes; longer strings are truncated to maxLen so the peer never rejects them.
    void string(const std::string &s, std::size_t maxLen);

private:
    void putLe(std::uint64_t v, int n);
    std::vector<std::uint8_t> &m_out;
};

class ByteReader
{
public:
    explicit ByteReader(std::span<const std::uint8_t> in) : m_in(in) {}
    std::uint16_t u16() { return static_cast<std::uint16_t>(getLe(2)); }
    std::uint32_t u32() { return static_cast<std::uint32_t>(getLe(4)); }
    std::uint64_t u64() { return getLe(8); }
    bool bytes(void *out, std::size_t n);
    // u32 length + bytes; fails on length > maxLen or > remaining (checked before allocating).
    std::string string(std::size_t maxLen, const char *what);

    bool ok() const { return m_error.empty(); }
    bool atEnd() const { return m_pos == m_in.size(); }
    std::size_t remaining() const { return m_in.size() - m_pos; }
    void fail(const std::string &why);
    const std::string &error() const { return m_error; }

private:
    std::uint64_t getLe(int n);
    std::span<const std::uint8_t> m_in;
    std::size_t m_pos = 0;
    std::string m_error;
};

} // namespace tcpscope::wire::detail
