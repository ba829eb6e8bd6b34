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

qint64 saturatingAdd(qint64 a, qint64 b)
{
    return a > std::numeric_limits<qint64>::max() - b ? std::numeric_limits<qint64>::max() : a + b;
}

} // namespace

void PeerPairer::setHosts(const QVector<HostInfo> &hosts)
{
    m_hostErrors.clear();
    for (const HostInfo &h : hosts)
        if (h.offsetErrorNs >= 0)
            m_hostErrors.insert(h.id, h.offsetErrorNs);
}

qint64 PeerPairer::slackBetween(qint32 a, qint32 b) const
{
    if (a == b)
        return 0;
    const qint64 ea = m_hostErrors.value(a, -1);
    const qint64 eb = m_hostErrors.value(b, -1);
    return ea < 0 || eb < 0 ? m_slackNs : saturatingAdd(ea, eb);
}

bool PeerPairer::overlap(const End &x, const End &y) const
{
    const qint64 slack = slackBetween(x.hostId, y.hostId);
    return x.startNs <= saturatingAdd(endOf(y.endNs), slack) &&
           y.startNs <= saturatingAdd(endOf(x.endNs), slack);
}

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
    const End end{
        c.id,        c.startNs,    c.endNs, c.packets.isnLocal, c.packets.isnRemote, c.hostId,
        c.localPort, c.remotePort, forward};
    m_buckets[key].append(end);
    if (end.isnLocal >= 0 && end.isnRemote >= 0)
        m_byIsn[qMakePair(qMin(end.isnLocal, end.isnRemote), qMax(end.isnLocal, end.isnRemote))]
            .append(end);
}

QHash<qint64, qint64> PeerPairer::pairs() const
{
    struct Candidate
    {
        int rank; // 0: confirmed by both ISNs, 1: tuple and lifetime only
        qint64 distance;
        qint64 a, b;
    };
    QVector<Candidate> candidates;
    // (a): reversed tuples. An ISN known on both sides must match crosswise.
    for (auto it = m_buckets.cbegin(); it != m_buckets.cend(); ++it) {
        const QVector<End> &ends = *it;
        if (ends.size() < 2)
            continue;
        for (const End &x : ends) {
            if (!x.forward)
                continue;
            for (const End &y : ends) {
                if (y.forward || !overlap(x, y))
                    continue;
                const bool knownLR = x.isnLocal >= 0 && y.isnRemote >= 0;
                const bool knownRL = x.isnRemote >= 0 && y.isnLocal >= 0;
                if ((knownLR && x.isnLocal != y.isnRemote) ||
                    (knownRL && x.isnRemote != y.isnLocal))
                    continue;
                const int rank = knownLR && knownRL ? 0 : 1;
                candidates.append({rank, qAbs(x.startNs - y.startNs), x.id, y.id});
            }
        }
    }
    // (b): NAT. Tuples differ, both ISNs match crosswise, one end kept its port.
    for (auto it = m_byIsn.cbegin(); it != m_byIsn.cend(); ++it) {
        const QVector<End> &ends = *it;
        for (int i = 0; i < ends.size(); ++i) {
            for (int j = i + 1; j < ends.size(); ++j) {
                const End &x = ends[i];
                const End &y = ends[j];
                if (x.isnLocal != y.isnRemote || x.isnRemote != y.isnLocal)
                    continue;
                if (x.remotePort != y.localPort && x.localPort != y.remotePort)
                    continue;
                if (!overlap(x, y))
                    continue;
                candidates.append(
                    {0, qAbs(x.startNs - y.startNs), qMin(x.id, y.id), qMax(x.id, y.id)});
            }
        }
    }
    std::sort(candidates.begin(), candidates.end(), [](const Candidate &l, const Candidate &r) {
        if (l.rank != r.rank)
            return l.rank < r.rank;
        if (l.distance != r.distance)
            return l.distance < r.distance;
        return l.a != r.a ? l.a < r.a : l.b < r.b;
    });
    QHash<qint64, qint64> peers;
    for (const Candidate &cand : std::as_const(candidates)) {
        if (peers.contains(cand.a) || peers.contains(cand.b))
            continue;
        peers.insert(cand.a, cand.b);
        peers.insert(cand.b, cand.a);
    }
    return peers;
}

bool PeerPairer::mayPair(const Connection &a, const Connection &b, qint64 clockSlackNs)
{
    if (a.id == b.id)
        return false;
    PeerPairer pairer;
    pairer.setClockSlack(clockSlackNs);
    pairer.add(a);
    pairer.add(b);
    return pairer.pairs().value(a.id, 0) == b.id;
}

qint64 sessionClockSlack(const Session &session, qint32 hostA, qint32 hostB)
{
    if (hostA == hostB)
        return 0;
    PeerPairer pairer;
    pairer.setHosts(session.hosts());
    return pairer.slackBetween(hostA, hostB);
}

QHash<qint64, qint64> sessionPeers(const Session &session, const std::atomic<bool> *cancel)
{
    PeerPairer pairer;
    pairer.setHosts(session.hosts());
    session.forEachConnection(
        [&](const Connection &c) {
            pairer.add(c);
            return !(cancel && cancel->load(std::memory_order_relaxed));
        },
        false);
    return pairer.pairs();
}

} // namespace tcpscope
