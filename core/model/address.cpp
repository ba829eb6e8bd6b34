// SPDX-License-Identifier: GPL-3.0-or-later
#include "model/address.h"

#include <arpa/inet.h>
#include <sys/socket.h>

namespace tcpscope {

int familyFromAf(int af)
{
    return af == AF_INET6 ? 6 : 4;
}

int afFromFamily(int family)
{
    return family == 6 ? AF_INET6 : AF_INET;
}

QString addressText(int family, const quint8 *addr)
{
    char buf[INET6_ADDRSTRLEN] = {};
    if (!inet_ntop(afFromFamily(family), addr, buf, sizeof buf))
        return QString();
    return QString::fromLatin1(buf);
}

QString addressText(int family, const std::array<quint8, 16> &addr)
{
    return addressText(family, addr.data());
}

bool parseAddress(int family, const QString &text, quint8 *addr)
{
    return inet_pton(afFromFamily(family), text.toLatin1().constData(), addr) == 1;
}

QString endpointText(const QString &addr, quint16 port)
{
    if (addr.contains(QLatin1Char(':')))
        return QStringLiteral("[%1]:%2").arg(addr).arg(port);
    return QStringLiteral("%1:%2").arg(addr).arg(port);
}

} // namespace tcpscope
