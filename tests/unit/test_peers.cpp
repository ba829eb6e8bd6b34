// SPDX-License-Identifier: GPL-3.0-or-later
// Pairing the two local sockets of one connection: reversed 4-tuple and overlapping lifetimes,
// a reused tuple pairs with its own generation, listeners and unrelated connections have no
// peer, an IPv4-mapped address pairs with the IPv4 socket, the nearest start wins a tie.
#include "analysis/peers.h"

#include <QTest>

using namespace tcpscope;

namespace {

constexpr qint64 kMs = 1'000'000;

Connection conn(qint64 id, const char *local, quint16 lport, const char *remote, quint16 rport,
                qint64 startMs, qint64 endMs, ConnectionRole role = ConnectionRole::Client,
                int family = 4)
{
    Connection c;
    c.id = id;
    c.family = family;
    c.localAddr = QLatin1String(local);
    c.localPort = lport;
    c.remoteAddr = QLatin1String(remote);
    c.remotePort = rport;
    c.startNs = startMs * kMs;
    c.endNs = endMs * kMs;
    c.role = role;
    return c;
}

QHash<qint64, qint64> pair(const QVector<Connection> &connections)
{
    PeerPairer pairer;
    for (const Connection &c : connections)
        pairer.add(c);
    return pairer.pairs();
}

} // namespace

class TestPeers : public QObject
{
    Q_OBJECT
private slots:
    void loopbackClientAndServer()
    {
        const auto peers = pair({
            conn(1, "0.0.0.0", 8080, "0.0.0.0", 0, 0, 0, ConnectionRole::Listener),
            conn(2, "127.0.0.1", 40001, "127.0.0.1", 8080, 100, 200),
            conn(3, "127.0.0.1", 8080, "127.0.0.1", 40001, 101, 201, ConnectionRole::Server),
            conn(4, "10.0.0.1", 50100, "10.0.0.2", 5432, 100, 200), // the peer is elsewhere
        });
        QCOMPARE(peers.value(2), 3);
        QCOMPARE(peers.value(3), 2);
        QVERIFY(!peers.contains(1));
        QVERIFY(!peers.contains(4));
        QCOMPARE(peers.size(), 2);
    }

    void reusedTuplePairsWithItsGeneration()
    {
        // The same ports twice, one after the other: lifetimes decide.
        const auto peers = pair({
            conn(1, "127.0.0.1", 40001, "127.0.0.1", 8080, 100, 200),
            conn(2, "127.0.0.1", 8080, "127.0.0.1", 40001, 101, 199, ConnectionRole::Server),
            conn(3, "127.0.0.1", 40001, "127.0.0.1", 8080, 300, 400),
            conn(4, "127.0.0.1", 8080, "127.0.0.1", 40001, 301, 0, ConnectionRole::Server),
        });
        QCOMPARE(peers.value(1), 2);
        QCOMPARE(peers.value(3), 4);
        QCOMPARE(peers.value(4), 3);
    }

    void noOverlapNoPeer()
    {
        const auto peers = pair({
            conn(1, "127.0.0.1", 40001, "127.0.0.1", 8080, 100, 200),
            conn(2, "127.0.0.1", 8080, "127.0.0.1", 40001, 300, 400, ConnectionRole::Server),
            conn(3, "127.0.0.1", 40002, "127.0.0.1", 8080, 100, 200),
            conn(4, "127.0.0.1", 8081, "127.0.0.1", 40002, 100, 200), // another port
        });
        QVERIFY(peers.isEmpty());
    }

    void openConnectionsOverlap()
    {
        const auto peers = pair({
            conn(1, "127.0.0.1", 40001, "127.0.0.1", 8080, 100, 0),
            conn(2, "127.0.0.1", 8080, "127.0.0.1", 40001, 900, 0, ConnectionRole::Server),
        });
        QCOMPARE(peers.value(1), 2);
    }

    void nearestStartWins()
    {
        // Two sockets on the tuple overlap the client (a record of a reuse arrived late): the
        // one that started within the handshake is the peer, the other stays alone.
        const auto peers = pair({
            conn(1, "127.0.0.1", 40001, "127.0.0.1", 8080, 100, 500),
            conn(2, "127.0.0.1", 8080, "127.0.0.1", 40001, 50, 120, ConnectionRole::Server),
            conn(3, "127.0.0.1", 8080, "127.0.0.1", 40001, 101, 500, ConnectionRole::Server),
        });
        QCOMPARE(peers.value(1), 3);
        QCOMPARE(peers.value(3), 1);
        QVERIFY(!peers.contains(2));
    }

    void mappedAddressPairsWithIpv4()
    {
        const auto peers = pair({
            conn(1, "::ffff:127.0.0.1", 5000, "::FFFF:127.0.0.1", 6000, 100, 200,
                 ConnectionRole::Client, 6),
            conn(2, "127.0.0.1", 6000, "127.0.0.1", 5000, 100, 200, ConnectionRole::Server),
            conn(3, "::1", 7000, "::1", 7001, 100, 200, ConnectionRole::Client, 6),
            conn(4, "::1", 7001, "::1", 7000, 100, 200, ConnectionRole::Server, 6),
        });
        QCOMPARE(peers.value(1), 2);
        QCOMPARE(peers.value(3), 4);
    }

    void selfConnectedSocketHasNoPeer()
    {
        const auto peers = pair({conn(1, "127.0.0.1", 5000, "127.0.0.1", 5000, 100, 200)});
        QVERIFY(peers.isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestPeers)
#include "test_peers.moc"
