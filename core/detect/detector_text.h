// SPDX-License-Identifier: GPL-3.0-or-later
// How the detectors and the custom rules word an alert's summary: a duration and a
// connection, the same way everywhere. Internal to core/detect.
#pragma once

#include "model/address.h"
#include "model/connection.h"

#include <QString>

namespace tcpscope::detail {

// "conn 7 (10.0.0.1:40000 → 192.0.2.1:443, curl)"
inline QString connectionLabel(const Connection &c)
{
    QString s =
        QStringLiteral("conn %1 (%2 → %3")
            .arg(c.id)
            .arg(endpointText(c.localAddr, c.localPort), endpointText(c.remoteAddr, c.remotePort));
    if (!c.comm.isEmpty())
        s += QStringLiteral(", %1").arg(c.comm);
    return s + QLatin1Char(')');
}

// "1.5 s", "12 ms", "0.4 ms"
inline QString durationText(qint64 ns)
{
    if (ns >= 1'000'000'000)
        return QStringLiteral("%1 s").arg(double(ns) / 1e9, 0, 'f', ns >= 10'000'000'000 ? 0 : 1);
    return QStringLiteral("%1 ms").arg(double(ns) / 1e6, 0, 'f', ns >= 10'000'000 ? 0 : 1);
}

} // namespace tcpscope::detail
