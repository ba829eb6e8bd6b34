// SPDX-License-Identifier: GPL-3.0-or-later
#include "analysis/peers.h"

#include "model/address.h"
#include "session/session.h"

#include <algorithm>
#include <limits>

namespace tcpscope {

namespace {

// The 16 bytes of an address (IPv4 as its IPv4-mapped IPv6 form); false for no address.
bool endpointBytes(const IpAddress &addr, std::array<quint8, 16> *out)
{
    if (addr.isV6()) {
        *out = addr.bytes();
        return true;
    }
    out->fill(0);
    (*out)[10] = (*out)[11] = 0xff;
    std::copy_n(addr.data(), 4, out->data() + 12);
    return !addr.isNull();
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
        c.remoteAddr.isNull())
        return;
    Endpoint local, remote;
    local.port = c.localPort;
    remote.port = c.remotePort;
    if (!endpointBytes(c.localAddr, &local.addr) || !endpointBytes(c.remoteAddr, &remote.addr))
        return; // no address to pair by
    if (local == remote)
        return; // a socket connected to itself (simultaneous open on one port) has no peer
    const bool forward = local < remote;
    m_ends.push_back(End{forward ? TupleKey{local, remote} : TupleKey{remote, local}, c.id,
                         c.startNs, c.endNs, c.packets.isnLocal, c.packets.isnRemote, c.hostId,
                         c.localPort, c.remotePort, forward});
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
    // Runs of equal keys in a sorted copy of (key, index into m_ends): one group each.
    auto groups = [this](auto keyOf, auto use, auto each) {
        using Key = decltype(keyOf(m_ends.front()));
        std::vector<std::pair<Key, quint32>> keyed;
        keyed.reserve(m_ends.size());
        for (quint32 i = 0; i < m_ends.size(); ++i)
            if (use(m_ends[i]))
                keyed.emplace_back(keyOf(m_ends[i]), i);
        std::sort(keyed.begin(), keyed.end());
        std::vector<const End *> group;
        for (size_t from = 0; from < keyed.size();) {
            size_t to = from + 1;
            while (to < keyed.size() && keyed[to].first == keyed[from].first)
                ++to;
            if (to - from >= 2) {
                group.clear();
                for (size_t k = from; k < to; ++k)
                    group.push_back(&m_ends[keyed[k].second]);
                each(group);
            }
            from = to;
        }
    };
    // (a): reversed tuples. An ISN known on both sides must match crosswise.
    groups([](const End &e) { return e.tuple; }, [](const End &) { return true; },
           [&](const std::vector<const End *> &ends) {
               for (const End *x : ends) {
                   if (!x->forward)
                       continue;
                   for (const End *y : ends) {
                       if (y->forward || !overlap(*x, *y))
                           continue;
                       const bool knownLR = x->isnLocal >= 0 && y->isnRemote >= 0;
                       const bool knownRL = x->isnRemote >= 0 && y->isnLocal >= 0;
                       if ((knownLR && x->isnLocal != y->isnRemote) ||
                           (knownRL && x->isnRemote != y->isnLocal))
                           continue;
                       const int rank = knownLR && knownRL ? 0 : 1;
                       candidates.append({rank, qAbs(x->startNs - y->startNs), x->id, y->id});
                   }
               }
           });
    // (b): NAT. Tuples differ, both ISNs match crosswise, one end kept its port.
    groups(
        [](const End &e) {
            return std::pair{std::min(e.isnLocal, e.isnRemote), std::max(e.isnLocal, e.isnRemote)};
        },
        [](const End &e) { return e.isnLocal >= 0 && e.isnRemote >= 0; },
        [&](const std::vector<const End *> &ends) {
            for (size_t i = 0; i < ends.size(); ++i) {
                for (size_t j = i + 1; j < ends.size(); ++j) {
                    const End &x = *ends[i];
                    const End &y = *ends[j];
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
        });
    std::sort(candidates.begin(), candidates.end(), [](const Candidate &l, const Candidate &r) {
        if (l.rank != r.rank)
            return l.rank < r.rank;
        if (l.distance != r.distance)
            return l.distance < r.distance;
        return l.a != r.a ? l.a < r.a : l.b < r.b;
    });
    QHash<qint64, qint64> peers;
    peers.reserve(candidates.size() * 2);
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
