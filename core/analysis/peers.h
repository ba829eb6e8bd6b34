// SPDX-License-Identifier: GPL-3.0-or-later
// The two ends of one TCP connection. tcpscope sees each end as its own connection: on one
// machine (loopback, containers over veth) the client's 127.0.0.1:40001 → 127.0.0.1:8080 and
// the server's 127.0.0.1:8080 → 127.0.0.1:40001; in a session merged from several hosts
// (Connection::hostId) the client on one host and the server on another, possibly behind NAT.
// One rule pairs them everywhere (the Peer column, Go to Peer, merged views, the one-way delay
// analysis of analysis/peer_transit.h):
//
//  (a) Same connection seen from both sides: A's local end is B's remote end and vice versa
//      (an IPv4-mapped IPv6 address counts as the IPv4 address). When initial sequence numbers
//      (PacketCounts::isnLocal/isnRemote, from the captured SYN and SYN-ACK) are known, they
//      must match crosswise: A.isnLocal == B.isnRemote and A.isnRemote == B.isnLocal. A pair of
//      ISNs known on both ends and different rules the pair out (a reuse of the tuple); ISNs
//      separate reuses of a tuple more reliably than lifetimes.
//  (b) Behind NAT the tuples differ: both ISNs are known on both ends and match crosswise, and
//      the ports are consistent with NAT: at least one end kept its port (A's remote port is
//      B's local port, or A's local port is B's remote port). Addresses are not compared (NAT
//      rewrites them).
//
// In both cases the lifetimes (first state change .. close, open = until the end) must
// overlap. Ends on different hosts carry different clocks, so their lifetimes are compared
// with a slack: the sum of the two hosts' clock offset errors when both are known
// (HostInfo::offsetErrorNs, from the merge's alignment), else PeerPairer::setClockSlack (1 s by
// default). Ends on the same host share a clock and are compared exactly.
//
// When several candidates qualify, pairs confirmed by ISNs come first, then the pairs whose
// first state changes are closest (the server's socket starts within a round trip of the
// client's SYN); each connection is in at most one pair.
#pragma once

#include "model/connection.h"
#include "model/host.h"

#include <QHash>
#include <QVector>

#include <array>
#include <atomic>
#include <tuple>
#include <vector>

namespace tcpscope {

class Session;

class PeerPairer
{
public:
    static constexpr qint64 kDefaultClockSlackNs = 1'000'000'000;

    // Lifetimes of ends on different hosts may be this far apart and still overlap.
    void setClockSlack(qint64 ns) { m_slackNs = ns < 0 ? 0 : ns; }
    qint64 clockSlack() const { return m_slackNs; }
    // The hosts' clock offset errors (Session::hosts): pairs across two hosts whose errors are
    // both known are compared with their sum instead.
    void setHosts(const QVector<HostInfo> &hosts);
    // The slack between ends on hosts a and b: 0 on one host.
    qint64 slackBetween(qint32 a, qint32 b) const;

    // Listeners (and connections without a remote end) have no peer and are ignored.
    void add(const Connection &c);
    // Every pair, both ways: peers[a] == b and peers[b] == a.
    QHash<qint64, qint64> pairs() const;

    // The rule for one pair, without the competition between candidates: true when a and b
    // may be the two ends of one connection (used by tests and by callers that check a pair).
    static bool mayPair(const Connection &a, const Connection &b,
                        qint64 clockSlackNs = kDefaultClockSlackNs);

private:
    // An endpoint that compares equal for the same address however it was written: 16 bytes,
    // an IPv4 address in its IPv4-mapped IPv6 form (so a dual-stack socket's ::ffff:127.0.0.1
    // is the IPv4 socket's 127.0.0.1), and the port.
    struct Endpoint
    {
        std::array<quint8, 16> addr{};
        quint16 port = 0;
        bool operator==(const Endpoint &) const = default;
        bool operator<(const Endpoint &o) const
        {
            return std::tie(addr, port) < std::tie(o.addr, o.port);
        }
    };
    // Both directions of a tuple share one key (the smaller endpoint first), so the sockets
    // that may pair by (a) have equal keys.
    struct TupleKey
    {
        Endpoint lo, hi;
        bool operator==(const TupleKey &) const = default;
        bool operator<(const TupleKey &o) const { return std::tie(lo, hi) < std::tie(o.lo, o.hi); }
    };
    struct End
    {
        TupleKey tuple;
        qint64 id;
        qint64 startNs;
        qint64 endNs; // 0: open
        qint64 isnLocal, isnRemote;
        qint32 hostId;
        quint16 localPort, remotePort;
        bool forward; // the tuple as stored is the canonical direction
    };
    bool overlap(const End &x, const End &y) const;

    // Every end that may have a peer, in the order added; pairs() groups them by tuple and, for
    // the ends with both ISNs known (the candidates of (b)), by their ISN pair. Flat, fixed-size
    // records (~80 bytes a connection, no strings, no per-tuple allocation): a session of
    // hundreds of thousands of connections pairs in one sort.
    std::vector<End> m_ends;
    qint64 m_slackNs = kDefaultClockSlackNs;
    QHash<qint32, qint64> m_hostErrors; // known offset errors by host id
};

// The clock slack between two hosts of a session (PeerPairer::slackBetween with its hosts).
qint64 sessionClockSlack(const Session &session, qint32 hostA, qint32 hostB);

// The pairs of a session: one pass over the connection summaries (no histories, no packets).
// cancel (may be null) is polled; a cancelled pass returns what it has.
QHash<qint64, qint64> sessionPeers(const Session &session,
                                   const std::atomic<bool> *cancel = nullptr);

} // namespace tcpscope
