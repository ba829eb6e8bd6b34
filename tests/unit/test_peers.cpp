// SPDX-License-Identifier: GPL-3.0-or-later
// Pairing the two ends of one connection: reversed 4-tuple and overlapping lifetimes, a reused
// tuple pairs with its own generation, listeners and unrelated connections have no peer, an
// IPv4-mapped address pairs with the IPv4 socket, the nearest start wins a tie; ends on two
// hosts (clock slack), ISNs separating reuses of a tuple whose lifetimes overlap, and a NAT'd
// tuple paired by its ISNs.
#include "analysis/peers.h"
#include "test_addresses.h"

#include <QTest>

using namespace tcpscope;

namespace {

constexpr qint64 kMs = 1'000'000;

Connection conn(qint64 id, const char *local, quint16 lport, const char *remote, quint16 rport,
                qint64 startMs, qint64 endMs, ConnectionRole role = ConnectionRole::Client)
{
    Connection c;
    c.id = id;
    c.localAddr = test::ip(QLatin1String(local));
    c.localPort = lport;
    c.remoteAddr = test::ip(QLatin1String(remote));
    c.remotePort = rport;
    c.startNs = startMs * kMs;
    c.endNs = endMs * kMs;
    c.role = role;
    return c;
}

Connection withIsn(Connection c, qint64 isnLocal, qint64 isnRemote, qint32 hostId = 0)
{
    c.packets.isnLocal = isnLocal;
    c.packets.isnRemote = isnRemote;
    c.hostId = hostId;
    return c;
}

QHash<qint64, qint64> pair(const QVector<Connection> &connections,
                           qint64 slackNs = PeerPairer::kDefaultClockSlackNs)
{
    PeerPairer pairer;
    pairer.setClockSlack(slackNs);
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
                 ConnectionRole::Client),
            conn(2, "127.0.0.1", 6000, "127.0.0.1", 5000, 100, 200, ConnectionRole::Server),
            conn(3, "::1", 7000, "::1", 7001, 100, 200, ConnectionRole::Client),
            conn(4, "::1", 7001, "::1", 7000, 100, 200, ConnectionRole::Server),
        });
        QCOMPARE(peers.value(1), 2);
        QCOMPARE(peers.value(3), 4);
    }

    void endsOnTwoHosts()
    {
        // The client on host 0, the server on host 1: same tuple reversed. The server's clock
        // is 300 ms behind, so its lifetime ends before the client's starts on the session's
        // axis: the clock slack still pairs them; without slack they do not overlap.
        QVector<Connection> cs = {
            withIsn(conn(1, "10.0.0.1", 40001, "10.0.0.2", 443, 1000, 1200), 100, 900, 0),
            withIsn(conn(2, "10.0.0.2", 443, "10.0.0.1", 40001, 700, 900, ConnectionRole::Server),
                    900, 100, 1),
        };
        QCOMPARE(pair(cs).value(1), 2);
        QVERIFY(pair(cs, 0).isEmpty());
        // On one host the clock is shared: no slack.
        cs[1].hostId = 0;
        QVERIFY(pair(cs).isEmpty());
        QVERIFY(PeerPairer::mayPair(cs[0], withIsn(cs[1], 900, 100, 1)));
        // Hosts whose clock errors are known (a merge's alignment): their sum is the slack,
        // here 0.2 ms, too little for a 100 ms gap; one unknown error: the default slack.
        cs[1].hostId = 1;
        HostInfo h0, h1;
        h0.id = 0;
        h0.offsetErrorNs = 0;
        h1.id = 1;
        h1.offsetErrorNs = 200'000;
        PeerPairer pairer;
        pairer.setHosts({h0, h1});
        QCOMPARE(pairer.slackBetween(0, 1), 200'000);
        QCOMPARE(pairer.slackBetween(1, 1), 0);
        QCOMPARE(pairer.slackBetween(0, 2), PeerPairer::kDefaultClockSlackNs);
        for (const Connection &c : cs)
            pairer.add(c);
        QVERIFY(pairer.pairs().isEmpty());
        h1.offsetErrorNs = 150'000'000;
        pairer.setHosts({h0, h1});
        QCOMPARE(pairer.pairs().value(1), 2);
    }

    void isnsSeparateTupleReuse()
    {
        // Two generations of one tuple whose lifetimes overlap (the first's end was not seen):
        // the ISNs say which server socket belongs to which client, although the nearest start
        // would pair the wrong ones.
        const auto peers = pair({
            withIsn(conn(1, "127.0.0.1", 40001, "127.0.0.1", 8080, 100, 0), 1000, 2000),
            withIsn(conn(2, "127.0.0.1", 8080, "127.0.0.1", 40001, 300, 0, ConnectionRole::Server),
                    2000, 1000),
            withIsn(conn(3, "127.0.0.1", 40001, "127.0.0.1", 8080, 301, 0), 5000, 6000),
            withIsn(conn(4, "127.0.0.1", 8080, "127.0.0.1", 40001, 302, 0, ConnectionRole::Server),
                    6000, 5000),
        });
        QCOMPARE(peers.value(1), 2);
        QCOMPARE(peers.value(3), 4);
        QCOMPARE(peers.size(), 4);
    }

    void mismatchedIsnsNeverPair()
    {
        // Same tuple, overlapping lifetimes, but the ISNs differ: not the same connection.
        const auto peers = pair({
            withIsn(conn(1, "127.0.0.1", 40001, "127.0.0.1", 8080, 100, 200), 1000, 2000),
            withIsn(
                conn(2, "127.0.0.1", 8080, "127.0.0.1", 40001, 100, 200, ConnectionRole::Server),
                2001, 1000),
            // Only one side's ISN known: compared where known, matches.
            withIsn(conn(3, "127.0.0.1", 40002, "127.0.0.1", 8080, 100, 200), 7000, -1),
            withIsn(
                conn(4, "127.0.0.1", 8080, "127.0.0.1", 40002, 100, 200, ConnectionRole::Server),
                -1, 7000),
        });
        QVERIFY(!peers.contains(1));
        QCOMPARE(peers.value(3), 4);
    }

    void natPairsByIsns()
    {
        // The client 192.168.1.5:40001 goes out through SNAT as 203.0.113.7:61000 to the server
        // 198.51.100.9:443; the server sees 203.0.113.7:61000. Tuples differ, the server's port
        // is kept, the ISNs match crosswise.
        const auto peers = pair({
            withIsn(conn(1, "192.168.1.5", 40001, "198.51.100.9", 443, 100, 200), 11, 22, 0),
            withIsn(conn(2, "198.51.100.9", 443, "203.0.113.7", 61000, 101, 201,
                         ConnectionRole::Server),
                    22, 11, 1),
            // Same ISNs by chance but no port in common: not NAT of one connection.
            withIsn(conn(3, "10.1.1.1", 5000, "10.2.2.2", 6000, 100, 200), 33, 44, 0),
            withIsn(conn(4, "10.3.3.3", 7000, "10.4.4.4", 8000, 100, 200, ConnectionRole::Server),
                    44, 33, 1),
            // Matching ISNs and ports but lifetimes far apart: no.
            withIsn(conn(5, "10.1.1.1", 5001, "10.2.2.2", 443, 100, 200), 55, 66, 0),
            withIsn(
                conn(6, "10.2.2.2", 443, "10.9.9.9", 5002, 90'000, 90'100, ConnectionRole::Server),
                66, 55, 1),
        });
        QCOMPARE(peers.value(1), 2);
        QCOMPARE(peers.value(2), 1);
        QVERIFY(!peers.contains(3));
        QVERIFY(!peers.contains(5));
        // Without ISNs a NAT'd pair cannot be told: no peer.
        QVERIFY(!PeerPairer::mayPair(
            conn(1, "192.168.1.5", 40001, "198.51.100.9", 443, 100, 200),
            conn(2, "198.51.100.9", 443, "203.0.113.7", 61000, 101, 201, ConnectionRole::Server)));
    }

    void selfConnectedSocketHasNoPeer()
    {
        const auto peers = pair({conn(1, "127.0.0.1", 5000, "127.0.0.1", 5000, 100, 200)});
        QVERIFY(peers.isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestPeers)
#include "test_peers.moc"
