// SPDX-License-Identifier: GPL-3.0-or-later
#include "analysis/peers.h"

#include "session/session.h"

#include <algorithm>
#include <limits>

namespace tcpscope {

namespace {

// An endpoint as bytes that compare the same way for the same address however it is spelled:
// lower case, and an IPv4-mapped IPv6 address (a dual-stack socket's ::ffff:127.0.0.1) as the
// IPv4 address the other end, an IPv4 socket, has.
QByteArray endpointKey(const QString &addr, quint16 port)
{
    QByteArray key = addr.toLatin1().toLower();
    if (key.startsWith("::ffff:") && key.contains('.'))
        key.remove(0, 7);
    key += '|';
    key += QByteArray::number(port);
    return key;
}

qint64 endOf(qint64 endNs)
{
    return endNs == 0 ? std::numeric_limits<qint64>::max() : endNs;
}

} // namespace

void PeerPairer::add(const Connection &c)
{
    if (c.role == ConnectionRole::Listener || c.remotePort == 0 || c.localPort == 0 ||
        c.remoteAddr.isEmpty())
        return;
    const QByteArray local = endpointKey(c.localAddr, c.localPort);
    const QByteArray remote = endpointKey(c.remoteAddr, c.remotePort);
    if (local == remote)
        return; // a socket connected to itself (simultaneous open on one port) has no peer
    const bool forward = local < remote;
    const QByteArray key = forward ? local + '>' + remote : remote + '>' + local;
    m_buckets[key].append(End{c.id, c.startNs, c.endNs, forward});
}

QHash<qint64, qint64> PeerPairer::pairs() const
{
    QHash<qint64, qint64> peers;
    struct Candidate
    {
        qint64 distance;
        qint64 a, b;
    };
    QVector<Candidate> candidates;
    for (auto it = m_buckets.cbegin(); it != m_buckets.cend(); ++it) {
        const QVector<End> &ends = *it;
        if (ends.size() < 2)
            continue;
        candidates.clear();
        for (const End &x : ends) {
            if (!x.forward)
                continue;
            for (const End &y : ends) {
                if (y.forward)
                    continue;
                const bool overlap = x.startNs <= endOf(y.endNs) && y.startNs <= endOf(x.endNs);
                if (overlap)
                    candidates.append({qAbs(x.startNs - y.startNs), x.id, y.id});
            }
        }
        std::sort(candidates.begin(), candidates.end(), [](const Candidate &l, const Candidate &r) {
            return l.distance != r.distance ? l.distance < r.distance : l.a < r.a;
        });
        for (const Candidate &cand : std::as_const(candidates)) {
            if (peers.contains(cand.a) || peers.contains(cand.b))
                continue;
            peers.insert(cand.a, cand.b);
            peers.insert(cand.b, cand.a);
        }
    }
    return peers;
}

QHash<qint64, qint64> sessionPeers(const Session &session, const std::atomic<bool> *cancel)
{
    PeerPairer pairer;
    session.forEachConnection(
        [&](const Connection &c) {
            pairer.add(c);
            return !(cancel && cancel->load(std::memory_order_relaxed));
        },
        false);
    return pairer.pairs();
}

} // namespace tcpscope
