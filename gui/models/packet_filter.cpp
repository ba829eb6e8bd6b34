// SPDX-License-Identifier: GPL-3.0-or-later
#include "models/packet_filter.h"

#include "analysis/peers.h"
#include "export/pcapng_writer.h"
#include "export/session_export.h"
#include "session/session.h"
#include "util/packet_format.h"

#include <algorithm>

namespace tcpscope {

bool PacketQuickFilter::accepts(const Packet &p) const
{
    if (invalid)
        return false;
    if (problemsOnly && !analysisIsProblem(p.analysis) && !pfmt::isMalformed(p))
        return false;
    if (hasExpression() && !(context && expression.matches(p, *context)))
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

std::shared_ptr<const FilterContext> packetFilterContext(const Session &session,
                                                         const DisplayFilter &filter,
                                                         const QVector<qint64> &connections)
{
    if (connections.isEmpty())
        return std::make_shared<const FilterContext>(filterContextForSession(session, filter));
    auto context = std::make_shared<FilterContext>();
    const SessionInfo info = session.info();
    context->setInterfaces(info.interfaces);
    if (filter.needsConnections())
        for (const Connection &c : session.connections(connections))
            context->addConnection(c);
    if (filter.needsKernelEvents() && info.kernelMetrics)
        for (qint64 id : connections)
            context->addKernelEvents(session.kernelData(id, false));
    if (filter.needsSessionEnd())
        context->sessionEndNs = sessionEndNs(session);
    if (filter.needsPeers() || filter.needsPeerTransit()) {
        const QHash<qint64, qint64> peers = sessionPeers(session);
        context->setPeers(peers);
        if (filter.needsPeerTransit()) {
            // The packets listed are those of these connections: their pairs only.
            QHash<qint64, PeerTransitMark> marks;
            for (qint64 id : connections)
                if (const qint64 peer = peers.value(id, 0); peer > 0)
                    marks.insert(sessionPeerTransit(session, id, peer).marks);
            context->setTransitMarks(marks);
        }
    }
    if (filter.needsOrigin()) {
        // frame.time_relative counts from the first packet of the whole-session pcapng export,
        // as filterContextForSession does.
        const QSet<quint32> loopback = loopbackInterfaces(info);
        session.forEachPacket(-1, [&](const Packet &p) {
            if (isLoopbackEgressCopy(p, loopback))
                return true;
            context->originNs = p.timeNs;
            return false;
        });
    }
    return context;
}

PacketScanResult scanPackets(const QString &path, const QVector<qint64> &connections,
                             const std::function<bool(const Packet &)> &keep, qint64 cap,
                             const std::atomic<bool> &cancel,
                             const std::function<void(const Session &)> &prepare)
{
    PacketScanResult result;
    const std::unique_ptr<Session> session = Session::open(path, &result.error, &cancel);
    if (!session) {
        result.cancelled = cancel.load();
        return result;
    }
    if (prepare)
        prepare(*session);
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
