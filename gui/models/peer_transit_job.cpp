// SPDX-License-Identifier: GPL-3.0-or-later
#include "models/peer_transit_job.h"

#include "analysis/peers.h"
#include "session/session.h"

namespace tcpscope {

PeerTransitJob::PeerTransitJob(QObject *parent)
    : QObject(parent), m_job(new SessionJob(this, SessionJob::Priority::Background))
{
}

void PeerTransitJob::start(const QString &sessionPath, const QVector<qint64> &connections)
{
    auto result = std::make_shared<PeerTransitResult>();
    m_job->start(
        sessionPath,
        [result, connections](const Session &session, const std::atomic<bool> &cancel) {
            result->peers = sessionPeers(session, &cancel);
            QVector<qint64> ids = connections;
            if (ids.isEmpty()) {
                if (session.packetCount() > kMaxAllPackets) {
                    result->tooLarge = true;
                    return;
                }
                for (auto it = result->peers.cbegin(); it != result->peers.cend(); ++it)
                    if (it.key() < it.value())
                        ids.append(it.key());
            }
            QSet<qint64> done;
            for (qint64 id : std::as_const(ids)) {
                const qint64 peer = result->peers.value(id, 0);
                if (peer <= 0 || done.contains(id))
                    continue;
                if (cancel.load(std::memory_order_relaxed))
                    return;
                PeerTransit t = sessionPeerTransit(session, id, peer, &cancel);
                if (t.cancelled)
                    return;
                done.insert(id);
                done.insert(peer);
                result->marks.insert(t.marks);
                t.marks.clear();
                result->transits.insert(id, t);
                // The same pair seen from the peer: the directions swap.
                PeerTransit mirrored = t;
                std::swap(mirrored.connectionId, mirrored.peerId);
                std::swap(mirrored.outbound, mirrored.inbound);
                result->transits.insert(peer, mirrored);
            }
            if (!session.error().isEmpty())
                result->error = session.error();
        },
        [this, result](const QString &error) {
            if (!error.isEmpty())
                result->error = error;
            emit finished(result);
        });
}

} // namespace tcpscope
