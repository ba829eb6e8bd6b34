// SPDX-License-Identifier: GPL-3.0-or-later
// Helpers shared by kernel_joiner.cpp and kernel_joiner_records.cpp. Private to those two
// files (not installed, not included elsewhere) so both convert families and addresses the
// same way instead of keeping two copies in step.
#pragma once

#include <QString>
#include <QtGlobal>

#include <arpa/inet.h>
#include <sys/socket.h>

namespace tcpscope::kernel_joiner_detail {

inline int familyOf(quint16 af)
{
    return af == AF_INET6 ? 6 : 4;
}

inline QString addressText(int family, const quint8 *addr)
{
    char buf[INET6_ADDRSTRLEN] = {};
    if (!inet_ntop(family == 6 ? AF_INET6 : AF_INET, addr, buf, sizeof buf))
        return QString();
    return QString::fromLatin1(buf);
}

} // namespace tcpscope::kernel_joiner_detail
