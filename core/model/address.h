// SPDX-License-Identifier: GPL-3.0-or-later
// Address families and the textual form of an address, in one place for every component.
//
// Family convention: the model (Connection, Packet, DropEvent, ListenerSample) and the session
// file say 4 or 6. Kernel records carry AF_INET/AF_INET6; they are turned into 4/6 with
// familyFromAf() where they enter the model, and back with afFromFamily() only where a socket
// API (inet_ntop/inet_pton) needs it. Anything that is not 6 counts as 4.
#pragma once

#include <QString>
#include <QtGlobal>

#include <array>

namespace tcpscope {

// AF_INET6 -> 6, anything else -> 4.
int familyFromAf(int af);
// 6 -> AF_INET6, anything else -> AF_INET.
int afFromFamily(int family);

// inet_ntop's text for the first 4 (family 4) or all 16 (family 6) bytes of addr; an empty
// string when inet_ntop fails.
QString addressText(int family, const quint8 *addr);
QString addressText(int family, const std::array<quint8, 16> &addr);

// "1.2.3.4:80", "[::1]:80": an address (as addressText gives it) and a port, IPv6 in brackets.
QString endpointText(const QString &addr, quint16 port);

// The inverse: parses text into the first 4 or 16 bytes of addr (the rest is left as it is).
// False when text is not an address of that family.
bool parseAddress(int family, const QString &text, quint8 *addr);

} // namespace tcpscope
