// SPDX-License-Identifier: GPL-3.0-or-later
// Short ways to write an address in a test: ip("10.0.0.1"), ip("::1"), ip4(127, 0, 0, 1).
#pragma once

#include "model/address.h"

#include <QString>

namespace tcpscope::test {

// The address in text, either family; no address when it is not one.
inline IpAddress ip(const QString &text)
{
    return IpAddress::parse(text);
}

inline IpAddress ip4(quint8 a, quint8 b, quint8 c, quint8 d)
{
    const quint8 bytes[4] = {a, b, c, d};
    return IpAddress(AddressFamily::IPv4, bytes);
}

} // namespace tcpscope::test
