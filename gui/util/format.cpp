// SPDX-License-Identifier: GPL-3.0-or-later
#include "util/format.h"

#include "model/address.h"

#include <QDateTime>
#include <QLocale>

namespace tcpscope::fmt {

QString wallTime(qint64 wallNs)
{
    return QDateTime::fromMSecsSinceEpoch(wallNs / 1'000'000)
        .toString(QStringLiteral("hh:mm:ss.zzz"));
}

QString wallDateTime(qint64 wallNs)
{
    return QDateTime::fromMSecsSinceEpoch(wallNs / 1'000'000)
        .toString(QStringLiteral("yyyy-MM-dd hh:mm:ss.zzz"));
}

QString durationMs(double ms)
{
    if (ms < 0)
        return QString();
    if (ms < 1.0)
        return QStringLiteral("%1 µs").arg(ms * 1000.0, 0, 'f', 0);
    if (ms < 100.0)
        return QStringLiteral("%1 ms").arg(ms, 0, 'f', ms < 10.0 ? 2 : 1);
    if (ms < 1000.0)
        return QStringLiteral("%1 ms").arg(ms, 0, 'f', 0);
    const double s = ms / 1000.0;
    if (s < 120.0)
        return QStringLiteral("%1 s").arg(s, 0, 'f', s < 10.0 ? 2 : 1);
    const qint64 whole = qint64(s);
    if (whole < 3600)
        return QStringLiteral("%1 min %2 s").arg(whole / 60).arg(whole % 60);
    return QStringLiteral("%1 h %2 min").arg(whole / 3600).arg((whole % 3600) / 60);
}

QString bytes(quint64 n)
{
    if (n < 1024)
        return QStringLiteral("%1 B").arg(n);
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB"};
    double v = double(n) / 1024.0;
    int u = 0;
    while (v >= 1024.0 && u < 3) {
        v /= 1024.0;
        ++u;
    }
    return QStringLiteral("%1 %2").arg(v, 0, 'f', v < 10.0 ? 2 : 1).arg(QLatin1String(units[u]));
}

QString connectionLabel(const Connection &c)
{
    const QString who = c.comm.isEmpty() ? QStringLiteral("?") : c.comm;
    if (c.role == ConnectionRole::Listener || c.state == TcpState::Listen)
        return QStringLiteral("%1 listen :%2").arg(who).arg(c.localPort);
    return QStringLiteral("%1:%2→%3")
        .arg(who)
        .arg(c.localPort)
        .arg(endpointText(c.remoteAddr, c.remotePort));
}

} // namespace tcpscope::fmt
