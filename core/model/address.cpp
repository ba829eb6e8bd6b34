// SPDX-License-Identifier: GPL-3.0-or-later
#include "model/address.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>

namespace tcpscope {

AddressFamily familyFromAf(int af)
{
    return af == AF_INET6 ? AddressFamily::IPv6 : AddressFamily::IPv4;
}

int afFromFamily(AddressFamily family)
{
    return family == AddressFamily::IPv6 ? AF_INET6 : AF_INET;
}

bool familyFromNumber(qint64 number, AddressFamily *out)
{
    if (number != 0 && number != 4 && number != 6)
        return false;
    *out = AddressFamily(number);
    return true;
}

QString familyName(AddressFamily family)
{
    switch (family) {
    case AddressFamily::IPv4:
        return QStringLiteral("IPv4");
    case AddressFamily::IPv6:
        return QStringLiteral("IPv6");
    case AddressFamily::None:
        break;
    }
    return QString();
}

IpAddress IpAddress::parse(AddressFamily family, QStringView text)
{
    if (family == AddressFamily::None || text.isEmpty() || text.size() >= INET6_ADDRSTRLEN)
        return IpAddress();
    char buf[INET6_ADDRSTRLEN] = {};
    for (qsizetype i = 0; i < text.size(); ++i) {
        const char16_t ch = text[i].unicode();
        if (ch == 0 || ch > 0x7f)
            return IpAddress();
        buf[i] = char(ch);
    }
    std::array<quint8, kMaxBytes> bytes{};
    if (inet_pton(afFromFamily(family), buf, bytes.data()) != 1)
        return IpAddress();
    return IpAddress(family, bytes.data());
}

IpAddress IpAddress::parse(QStringView text)
{
    return parse(text.contains(QLatin1Char(':')) ? AddressFamily::IPv6 : AddressFamily::IPv4, text);
}

bool IpAddress::isAny() const
{
    return !isNull() &&
           std::all_of(m_bytes.begin(), m_bytes.end(), [](quint8 b) { return b == 0; });
}

QString IpAddress::toString() const
{
    char buf[INET6_ADDRSTRLEN] = {};
    if (isNull() || !inet_ntop(afFromFamily(m_family), m_bytes.data(), buf, sizeof buf))
        return QString();
    return QString::fromLatin1(buf);
}

QString endpointText(const QString &addr, quint16 port)
{
    if (addr.contains(QLatin1Char(':')))
        return QStringLiteral("[%1]:%2").arg(addr).arg(port);
    return QStringLiteral("%1:%2").arg(addr).arg(port);
}

QString endpointText(const IpAddress &addr, quint16 port)
{
    return endpointText(addr.toString(), port);
}

} // namespace tcpscope
