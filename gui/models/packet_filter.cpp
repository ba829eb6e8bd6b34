// SPDX-License-Identifier: GPL-3.0-or-later
#include "models/packet_filter.h"

#include "session/session.h"
#include "util/packet_format.h"

#include <algorithm>

namespace tcpscope {

bool PacketQuickFilter::accepts(const Packet &p) const
{
    if (problemsOnly && !analysisIsProblem(p.analysis) && !pfmt::isMalformed(p))
        return false;
    if (words.isEmpty())
        return true;
    const QString hay = QStringLiteral("%1 %2 %3 %4 %5 len=%6 conn=%7")
                            .arg(p.id)
                            .arg(p.isOutgoing() ? QStringLiteral("out") : QStringLiteral("in"),
                                 pfmt::flagsText(p.tcpFlags), pfmt::analysisText(p),
                                 pfmt::source(p) + QLatin1Char(' ') + pfmt::destination(p))
                            .arg(p.payloadLen)
                            .arg(p.connectionId)
                            .toLower();
    return std::all_of(words.cbegin(), words.cend(),
                       [&](const QString &w) { return hay.contains(w); });
}

PacketScanResult scanPackets(const QString &path, const QVector<qint64> &connections,
                             const std::function<bool(const Packet &)> &keep, qint64 cap,
                             const std::atomic<bool> &cancel)
{
    PacketScanResult result;
    const std::unique_ptr<Session> session = Session::open(path, &result.error, &cancel);
    if (!session) {
        result.cancelled = cancel.load();
        return result;
    }
    auto visit = [&](const Packet &p) {
        if (cancel.load(std::memory_order_relaxed)) {
            result.cancelled = true;
            return false;
        }
        ++result.scanned;
        if (!keep(p))
            return true;
        if (result.matches.size() >= cap) {
            result.truncated = true;
            return false;
        }
        result.matches.append(p);
        return true;
    };
    if (connections.isEmpty()) {
        session->forEachPacket(-1, visit);
    } else {
        for (qint64 id : connections) {
            session->forEachPacket(id, visit);
            if (result.cancelled || result.truncated)
                break;
        }
    }
    return result;
}

} // namespace tcpscope
