// SPDX-License-Identifier: GPL-3.0-or-later
// TCP option parsing (RFC 9293 + extensions). The kernel side copies the raw option bytes; this
// is the one place they are interpreted, so it is written for hostile input: never reads past
// `len`, stops at the first bogus length and says why.
#pragma once

#include "model/packet.h"

#include <cstddef>
#include <cstdint>

namespace tcpscope {

TcpOptions parseTcpOptions(const std::uint8_t *data, std::size_t len);
inline TcpOptions parseTcpOptions(const QByteArray &bytes)
{
    return parseTcpOptions(reinterpret_cast<const std::uint8_t *>(bytes.constData()),
                           static_cast<std::size_t>(bytes.size()));
}
inline TcpOptions parseTcpOptions(const TcpOptionBytes &bytes)
{
    return parseTcpOptions(bytes.bytes(), static_cast<std::size_t>(bytes.size()));
}
// "MSS", "Window scale", "SACK permitted", "SACK", "Timestamps", "EOL", "NOP", "TFO",
// "MPTCP", ... or "Unknown (kind N)".
QString tcpOptionName(quint8 kind);
// One-line rendering of an option's value for the details pane, e.g. "1460", "7 (x128)",
// "TSval 123 TSecr 456", "1000-2000 3000-4000".
QString tcpOptionValueText(const TcpOption &option);

} // namespace tcpscope
