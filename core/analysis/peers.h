// SPDX-License-Identifier: GPL-3.0-or-later
// The two local sockets of one TCP connection. When both ends run on this machine (loopback,
// containers over veth) tcpscope sees each end as its own connection: the client's
// 127.0.0.1:40001 → 127.0.0.1:8080 and the server's 127.0.0.1:8080 → 127.0.0.1:40001. Two
// connections are peers when one's 4-tuple is the other's reversed and their lifetimes overlap;
// a 4-tuple reused later (a new connection on the same ports) does not overlap the old one.
// When several candidates overlap, the pairs whose first state changes are closest are taken
// first (the server's socket starts within a round trip of the client's SYN), each connection
// in at most one pair.
//
// The connection summaries carry no initial sequence numbers, so those are not compared; the
// lifetime test is what separates reuses of a tuple.
#pragma once

#include "model/connection.h"

#include <QByteArray>
#include <QHash>
#include <QVector>

#include <atomic>

namespace tcpscope {

class Session;

class PeerPairer
{
public:
    // Listeners (and connections without a remote end) have no peer and are ignored.
    void add(const Connection &c);
    // Every pair, both ways: peers[a] == b and peers[b] == a.
    QHash<qint64, qint64> pairs() const;

private:
    struct End
    {
        qint64 id;
        qint64 startNs;
        qint64 endNs; // 0: open
        bool forward; // the tuple as stored is the canonical direction
    };
    // Both directions of a tuple share one key (the smaller endpoint first), so the sockets that
    // may pair are in one bucket. ~40 bytes a connection, no strings kept.
    QHash<QByteArray, QVector<End>> m_buckets;
};

// The pairs of a session: one pass over the connection summaries (no histories, no packets).
// cancel (may be null) is polled; a cancelled pass returns what it has.
QHash<qint64, qint64> sessionPeers(const Session &session,
                                   const std::atomic<bool> *cancel = nullptr);

} // namespace tcpscope
