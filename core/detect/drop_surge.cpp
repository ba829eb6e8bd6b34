// SPDX-License-Identifier: GPL-3.0-or-later
#include "detect/drop_surge.h"

#include "tcpscope_records.h"

namespace tcpscope::detail {

void DropSurge::onDrop(const DropEvent &d)
{
    if (!m_ctx.on("drop_surge") || d.reasonName.isEmpty() ||
        m_ctx.config().ignoredDrops().contains(d.reasonName))
        return;
    const bool syn = (d.tcpFlags & TS_TCP_SYN) && !(d.tcpFlags & TS_TCP_ACK);
    // SYNs to a closed port are port_scan's evidence, not a surge of their own.
    if (syn && d.reasonName == QLatin1String("NO_SOCKET"))
        return;
    // A full accept or SYN queue is syn_flood's evidence.
    if (d.reasonName == QLatin1String("TCP_LISTEN_OVERFLOW") ||
        d.reasonName == QLatin1String("TCP_REQQFULLDROP"))
        return;
    m_ctx.countAndRaise(m_drops, "drop_surge", "drop_surge.window", "drop_surge.min_drops",
                        d.reasonName, QString(), {d.timeNs, d.connectionId, 0},
                        [&](int n, const QString &span) {
                            return QStringLiteral("the kernel dropped %1 TCP packets for %2 in %3")
                                .arg(n)
                                .arg(d.reasonName, span);
                        });
}

} // namespace tcpscope::detail
