// SPDX-License-Identifier: GPL-3.0-or-later
// PacketJoiner: packets joined to connections by socket id and 4-tuple, held while their
// connection is not known yet (separate ring buffers), pre-existing connections, unjoined expiry.
#include "packet_joiner.h"
#include "record_builders.h"

#include <QTest>

using namespace tcpscope;
using namespace testrec;

class TestPacketJoiner : public QObject
{
    Q_OBJECT

private slots:
    void conversion();
    void cookieJoinAndCounts();
    void tupleJoinForListenerPackets();
    void heldHandshakeDeliveredFirstInOrder();
    void packetsBeforeTheirStateChange();
    void preExistingConnection();
    void unjoinedAfterGracePeriod();
    void trailingPacketsAfterClose();
    void heldCountCap();
    void flushAllDecidesEverything();
    void interfaces();
    void dualStackSocket();
};

namespace {
constexpr qint64 kOffset = 1'700'000'000'000'000'000;
constexpr quint64 kSec = 1'000'000'000;
const Endpoint kClient{AF_INET, "127.0.0.1", 40000, "127.0.0.1", 8080};
const Endpoint kServer{AF_INET, "127.0.0.1", 8080, "127.0.0.1", 40000};
constexpr __u8 kIn = TS_DIR_INGRESS;
constexpr __u8 kOut = TS_DIR_EGRESS;

QVector<qint64> ids(const QVector<Packet> &ps)
{
    QVector<qint64> out;
    for (const Packet &p : ps)
        out << p.id;
    return out;
}
QVector<qint64> conns(const QVector<Packet> &ps)
{
    QVector<qint64> out;
    for (const Packet &p : ps)
        out << p.connectionId;
    return out;
}
QVector<quint32> seqs(const QVector<Packet> &ps)
{
    QVector<quint32> out;
    for (const Packet &p : ps)
        out << p.seq;
    return out;
}
} // namespace

void TestPacketJoiner::conversion()
{
    ts_packet r = packet(5, 1000, kOut, kClient, TS_TCP_SYN | TS_TCP_ECE | TS_TCP_CWR, 111, 0, 0,
                         64240, SYN_SENT, 3);
    r.opt_len = 4;
    r.options[0] = 2, r.options[1] = 4, r.options[2] = 0x05, r.options[3] = 0xb4;
    r.ip_tos = 0x02;
    r.ip_id = 4242;
    r.gso_segs = 2;
    r.gso_size = 1448;
    r.vlan_tci = 7;
    r.urg_ptr = 9;
    const Packet p = PacketJoiner::toPacket(r, kOffset, {});
    QCOMPARE(p.timeNs, kOffset + 1000);
    QCOMPARE(p.sockId, 5u);
    QCOMPARE(p.ifindex, 3u);
    QCOMPARE(p.direction, PacketDirection::Out);
    QCOMPARE(p.family(), AddressFamily::IPv4);
    QCOMPARE(p.srcPort, quint16(40000));
    QCOMPARE(p.dstPort, quint16(8080));
    QCOMPARE(p.srcAddr.toString(), QStringLiteral("127.0.0.1"));
    QCOMPARE(p.seq, 111u);
    QCOMPARE(p.window, quint16(64240));
    QCOMPARE(p.tcpFlags, quint8(TS_TCP_SYN | TS_TCP_ECE | TS_TCP_CWR));
    QCOMPARE(p.sockState, quint8(SYN_SENT));
    QCOMPARE(p.options.toByteArray(), QByteArray("\x02\x04\x05\xb4", 4));
    QCOMPARE(p.tos, quint8(2));
    QCOMPARE(p.ipId, 4242u);
    QCOMPARE(p.gsoSegs, quint16(2));
    QCOMPARE(p.gsoSize, quint16(1448));
    QCOMPARE(p.vlanTci, quint16(7));
    QCOMPARE(p.urgPtr, quint16(9));
    QCOMPARE(p.ttl, quint8(64));
    QVERIFY(p.payload.isEmpty());
    // A hostile opt_len never reads past the options array; a snapshot is copied.
    r.opt_len = 200;
    const ts_packet_snap s = packetSnap(r, "hello", 5);
    const Packet q = PacketJoiner::toPacket(s.pkt, 0, std::span<const quint8>(s.data, s.snap_len));
    QCOMPARE(q.options.size(), TS_TCP_OPTIONS_MAX);
    QCOMPARE(q.payload, QByteArray("hello"));
    // IPv6
    const Endpoint v6{AF_INET6, "::1", 1, "fe80::2", 2};
    const Packet r6 = PacketJoiner::toPacket(packet(0, 0, kIn, v6, TS_TCP_ACK), 0, {});
    QCOMPARE(r6.family(), AddressFamily::IPv6);
    QCOMPARE(r6.srcAddr.toString(), QStringLiteral("::1"));
    QCOMPARE(r6.dstAddr.toString(), QStringLiteral("fe80::2"));
}

void TestPacketJoiner::cookieJoinAndCounts()
{
    ConnectionTracker t;
    PacketJoiner j(t);
    j.setClockOffset(kOffset);
    Endpoint bound = kClient;
    bound.lport = 0;
    j.onStateChange(change(1, 1000, CLOSE, SYN_SENT, bound));
    j.onPacket(packet(1, 1100, kOut, kClient, TS_TCP_SYN, 100, 0, 0, 65535, SYN_SENT));
    j.onPacket(packet(1, 1200, kIn, swapped(kClient), TS_TCP_SYN | TS_TCP_ACK, 500, 101, 0, 65535,
                      SYN_SENT));
    j.onStateChange(change(1, 1250, SYN_SENT, ESTABLISHED, kClient));
    j.onPacket(packet(1, 1300, kOut, kClient, TS_TCP_ACK, 101, 501));
    j.onPacket(packet(1, 1400, kOut, kClient, TS_TCP_ACK | TS_TCP_PSH, 101, 501, 10));
    j.onPacket(packet(1, 1500, kIn, swapped(kClient), TS_TCP_ACK, 501, 111));
    j.onPacket(packet(1, 1600, kIn, swapped(kClient), TS_TCP_RST, 501, 0));
    const QVector<Packet> ps = j.takePackets();
    QCOMPARE(ids(ps), (QVector<qint64>{1, 2, 3, 4, 5, 6}));
    QCOMPARE(conns(ps), (QVector<qint64>{1, 1, 1, 1, 1, 1}));
    QCOMPARE(ps[0].timeNs, kOffset + 1100);
    QCOMPARE(ps[3].relSeq, 1u); // analysed: relative to the ISN
    QVERIFY(ps[5].analysis & AnalysisReset);
    const Connection &c = *t.find(1);
    QCOMPARE(c.packets.packetsOut, 3u);
    QCOMPARE(c.packets.packetsIn, 3u);
    QCOMPARE(c.packets.payloadBytesOut, 10u);
    QCOMPARE(c.packets.resets, 1u);
    QVERIFY(c.packets.irttNs > 0);
    const QVector<Connection> changed = t.takeChanged();
    QCOMPARE(changed.size(), 1);
    QCOMPARE(changed[0].packets.packetsOut, 3u);
    QVERIFY(j.takePackets().isEmpty());
    QCOMPARE(j.packetsEmitted(), 6u);
    QCOMPARE(j.packetsUnjoined(), 0u);
}

void TestPacketJoiner::tupleJoinForListenerPackets()
{
    ConnectionTracker t;
    PacketJoiner j(t);
    const Endpoint listening{AF_INET, "0.0.0.0", 8080, "0.0.0.0", 0};
    j.onStateChange(change(6, 50, CLOSE, LISTEN, listening, 200, "server"));
    j.onStateChange(change(7, 100, LISTEN, SYN_RECV, kServer, 200, "server", TS_OWNER_LISTENER));
    j.onStateChange(
        change(7, 200, SYN_RECV, ESTABLISHED, kServer, 200, "server", TS_OWNER_LISTENER));
    // A packet the kernel's lookup tied to no connection socket, with the server's tuple.
    j.onPacket(packet(0, 300, kIn, kClient, TS_TCP_ACK, 1, 1, 0, 65535, 0));
    // Even if a lookup named the listener, the packet belongs to the accepted socket.
    j.onPacket(packet(6, 310, kIn, kClient, TS_TCP_ACK, 2, 1, 0, 65535, LISTEN));
    // The client's view of the same packet (egress, local = src) must not join the server.
    j.onPacket(packet(0, 300, kOut, kClient, TS_TCP_ACK, 1, 1, 0, 65535, 0));
    QCOMPARE(j.packetsHeld(), 1);
    // Ids follow time: nothing at or after the held packet's time is handed out yet.
    QCOMPARE(j.takePackets().size(), 0);
    j.flushAll();
    const QVector<Packet> ps = j.takePackets();
    QCOMPARE(conns(ps), (QVector<qint64>{2, 0, 2}));
}

void TestPacketJoiner::heldHandshakeDeliveredFirstInOrder()
{
    ConnectionTracker t;
    PacketJoiner j(t);
    // Server side: SYN to the listener (sock 0), SYN-ACK and final ACK on the request socket.
    j.onPacket(packet(0, 100, kIn, kClient, TS_TCP_SYN, 1000, 0, 0, 65535, 0));
    j.onPacket(packet(55, 110, kOut, kServer, TS_TCP_SYN | TS_TCP_ACK, 9000, 1001, 0, 65535,
                      NEW_SYN_RECV));
    j.onPacket(packet(55, 120, kIn, kClient, TS_TCP_ACK, 1001, 9001, 0, 65535, NEW_SYN_RECV));
    QVERIFY(j.takePackets().isEmpty());
    QCOMPARE(j.packetsHeld(), 3);
    // Another tuple's packets are decided meanwhile, but get their ids only after the older
    // held handshake is decided: ids follow time.
    j.onStateChange(change(1, 125, CLOSE, SYN_SENT, kClient));
    j.onPacket(packet(1, 126, kOut, kClient, TS_TCP_ACK, 1001, 9001));
    QVERIFY(j.takePackets().isEmpty());
    // The accepted socket appears: its handshake comes first, in order, then its own packets.
    j.onStateChange(change(8, 130, LISTEN, SYN_RECV, kServer, 200, "server", TS_OWNER_LISTENER));
    j.onPacket(packet(8, 140, kIn, kClient, TS_TCP_ACK | TS_TCP_PSH, 1001, 9001, 5));
    const QVector<Packet> ps = j.takePackets();
    QCOMPARE(seqs(ps), (QVector<quint32>{1000, 9000, 1001, 1001, 1001}));
    QCOMPARE(ids(ps), (QVector<qint64>{1, 2, 3, 4, 5}));
    QCOMPARE(conns(ps), (QVector<qint64>{2, 2, 2, 1, 2}));
    QCOMPARE(t.find(2)->pid, 200u);
    QCOMPARE(t.find(2)->packets.packetsIn, 3u);
    QCOMPARE(t.find(2)->packets.packetsOut, 1u);
    QCOMPARE(j.packetsHeld(), 0);
}

void TestPacketJoiner::packetsBeforeTheirStateChange()
{
    ConnectionTracker t;
    PacketJoiner j(t);
    // The packet ring buffer won the race: the SYN arrives before CLOSE->SYN_SENT.
    j.onPacket(packet(3, 100, kOut, kClient, TS_TCP_SYN, 100, 0, 0, 65535, SYN_SENT));
    QVERIFY(j.takePackets().isEmpty());
    Endpoint bound = kClient;
    bound.lport = 0; // no tuple yet: nothing to drain by
    j.onStateChange(change(3, 90, CLOSE, SYN_SENT, bound));
    QVERIFY(j.takePackets().isEmpty());
    // The SYN-ACK joins by cookie and the held SYN goes first.
    j.onPacket(
        packet(3, 200, kIn, swapped(kClient), TS_TCP_SYN | TS_TCP_ACK, 700, 101, 0, 65535, 2));
    QVector<Packet> ps = j.takePackets();
    QCOMPARE(seqs(ps), (QVector<quint32>{100, 700}));
    QCOMPARE(conns(ps), (QVector<qint64>{1, 1}));

    // Same race with a state change that carries the tuple: drained by it.
    j.onPacket(packet(4, 300, kOut, Endpoint{AF_INET, "127.0.0.1", 40001, "127.0.0.1", 8080},
                      TS_TCP_SYN, 5, 0, 0, 65535, SYN_SENT));
    j.onStateChange(
        change(4, 290, CLOSE, SYN_SENT, Endpoint{AF_INET, "127.0.0.1", 40001, "127.0.0.1", 8080}));
    ps = j.takePackets();
    QCOMPARE(ps.size(), 1);
    QCOMPARE(ps[0].connectionId, qint64(2));
    QCOMPARE(t.size(), 2);
}

void TestPacketJoiner::preExistingConnection()
{
    ConnectionTracker t;
    PacketJoiner j(t);
    j.setClockOffset(kOffset);
    j.onPacket(packet(9, 1 * kSec, kIn, swapped(kClient), TS_TCP_ACK | TS_TCP_PSH, 10, 20, 100));
    j.onPacket(packet(9, 1 * kSec + 10, kOut, kClient, TS_TCP_ACK, 20, 110));
    j.advanceTo(2 * kSec); // within the grace period
    QVERIFY(j.takePackets().isEmpty());
    QCOMPARE(t.size(), 0);
    j.advanceTo(3 * kSec + 10);
    QVector<Packet> ps = j.takePackets();
    QCOMPARE(conns(ps), (QVector<qint64>{1, 1}));
    QCOMPARE(t.size(), 1);
    const Connection c = *t.find(1);
    QCOMPARE(c.sockId, 9u);
    QCOMPARE(c.pid, 0u);
    QCOMPARE(c.role, ConnectionRole::Unknown);
    QCOMPARE(c.state, TcpState::Established);
    QCOMPARE(c.localAddr.toString(), QStringLiteral("127.0.0.1"));
    QCOMPARE(c.localPort, quint16(40000));
    QCOMPARE(c.remotePort, quint16(8080));
    QCOMPARE(c.family(), AddressFamily::IPv4);
    QCOMPARE(c.startNs, kOffset + qint64(kSec));
    QVERIFY(c.isOpen());
    QCOMPARE(c.packets.packetsIn, 1u);
    QCOMPARE(c.packets.payloadBytesIn, 100u);
    // From now on its packets join at once, and its state changes continue it.
    j.onPacket(packet(9, 4 * kSec, kOut, kClient, TS_TCP_FIN | TS_TCP_ACK, 20, 110));
    QCOMPARE(j.takePackets().constFirst().connectionId, qint64(1));
    j.onStateChange(change(9, 4 * kSec, ESTABLISHED, FIN_WAIT1, kClient, 0));
    QCOMPARE(t.size(), 1);
    QCOMPARE(t.find(1)->state, TcpState::FinWait1);
}

void TestPacketJoiner::unjoinedAfterGracePeriod()
{
    ConnectionTracker t;
    PacketJoiner j(t);
    // A SYN to a closed port and the RST answering it: no socket, never a connection.
    const Endpoint closedPort{AF_INET, "127.0.0.1", 40100, "127.0.0.1", 9};
    j.onPacket(packet(0, 1 * kSec, kOut, closedPort, TS_TCP_SYN, 1, 0, 0, 65535, 0));
    j.onPacket(
        packet(0, 1 * kSec + 5, kOut, swapped(closedPort), TS_TCP_RST | TS_TCP_ACK, 0, 2, 0, 0, 0));
    j.advanceTo(2 * kSec);
    QVERIFY(j.takePackets().isEmpty());
    // Record time moves on through other records, not only through advanceTo().
    j.onStateChange(change(1, 3 * kSec + 10, CLOSE, SYN_SENT, kClient));
    const QVector<Packet> ps = j.takePackets();
    QCOMPARE(conns(ps), (QVector<qint64>{0, 0}));
    QCOMPARE(ids(ps), (QVector<qint64>{1, 2}));
    QVERIFY(ps[1].analysis & AnalysisReset);
    QCOMPARE(j.packetsUnjoined(), 2u);
    QCOMPARE(t.size(), 1); // no connection was made up for them
}

void TestPacketJoiner::trailingPacketsAfterClose()
{
    ConnectionTracker t;
    PacketJoiner j(t);
    j.onStateChange(change(1, 1 * kSec, CLOSE, SYN_SENT, kClient));
    j.onStateChange(change(1, 1 * kSec, SYN_SENT, ESTABLISHED, kClient));
    j.onStateChange(change(1, 2 * kSec, ESTABLISHED, FIN_WAIT1, kClient));
    j.onStateChange(change(1, 2 * kSec, FIN_WAIT1, FIN_WAIT2, kClient));
    j.onStateChange(change(1, 2 * kSec, FIN_WAIT2, CLOSE, kClient));
    // The last ACK is sent by the TIME_WAIT mini socket (another id): tuple join.
    j.onPacket(packet(77, 2 * kSec + 5, kOut, kClient, TS_TCP_ACK, 10, 20, 0, 65535, TIME_WAIT));
    // A late packet with the closed socket's own id.
    j.onPacket(packet(1, 2 * kSec + 6, kIn, swapped(kClient), TS_TCP_ACK, 20, 10));
    QCOMPARE(conns(j.takePackets()), (QVector<qint64>{1, 1}));
    // A new SYN on the same tuple is the start of something else, not a trailing packet.
    j.onPacket(packet(0, 3 * kSec, kOut, kClient, TS_TCP_SYN, 5000, 0, 0, 65535, 0));
    QVERIFY(j.takePackets().isEmpty());
    j.onStateChange(change(2, 3 * kSec, CLOSE, SYN_SENT, kClient));
    const QVector<Packet> ps = j.takePackets();
    QCOMPARE(conns(ps), (QVector<qint64>{2}));
}

void TestPacketJoiner::heldCountCap()
{
    ConnectionTracker t;
    PacketJoiner j(t);
    PacketJoiner::Limits limits;
    limits.maxHeldPerTuple = 3;
    limits.maxHeld = 4;
    j.setLimits(limits);
    const Endpoint flood{AF_INET, "127.0.0.1", 1, "127.0.0.1", 9};
    j.onPacket(packet(0, 1, kIn, flood, TS_TCP_SYN, 1, 0, 0, 65535, 0));
    j.onPacket(packet(0, 2, kIn, flood, TS_TCP_SYN, 2, 0, 0, 65535, 0));
    QCOMPARE(j.packetsHeld(), 2);
    j.onPacket(packet(0, 3, kIn, flood, TS_TCP_SYN, 3, 0, 0, 65535, 0));
    QCOMPARE(j.packetsHeld(), 0); // the tuple's cap decided the group at once
    QCOMPARE(j.takePackets().size(), 3);
    // The total cap: oldest groups give up first.
    for (quint16 port = 10; port < 15; ++port)
        j.onPacket(packet(0, port, kIn, Endpoint{AF_INET, "127.0.0.1", port, "127.0.0.1", 9},
                          TS_TCP_SYN, port, 0, 0, 65535, 0));
    QVERIFY(j.packetsHeld() <= 4);
    const QVector<Packet> ps = j.takePackets();
    QVERIFY(!ps.isEmpty());
    QCOMPARE(ps.constFirst().srcPort, quint16(10));
    QCOMPARE(j.packetsUnjoined(), quint64(3 + ps.size()));
}

void TestPacketJoiner::flushAllDecidesEverything()
{
    ConnectionTracker t;
    PacketJoiner j(t);
    j.onPacket(packet(0, 1, kIn, kClient, TS_TCP_SYN, 1, 0, 0, 65535, 0));
    j.onPacket(packet(12, 2, kOut, Endpoint{AF_INET, "10.0.0.1", 22, "10.0.0.2", 5555}, TS_TCP_ACK,
                      1, 1, 0, 65535, ESTABLISHED));
    j.flushAll();
    const QVector<Packet> ps = j.takePackets();
    QCOMPARE(ps.size(), 2);
    QCOMPARE(ps[0].connectionId, qint64(0));
    QCOMPARE(ps[1].connectionId, qint64(1)); // an established socket: pre-existing connection
    QCOMPARE(t.find(1)->localPort, quint16(22));
    QCOMPARE(j.packetsHeld(), 0);
}

void TestPacketJoiner::interfaces()
{
    ConnectionTracker t;
    PacketJoiner j(t);
    QVERIFY(!j.takeInterfacesChanged());
    j.onInterface(interface(1, "lo"));
    j.onInterface(interface(2, "eth0", TS_ATTACH_CLSACT));
    QVERIFY(j.takeInterfacesChanged());
    j.onInterface(interface(1, "lo"));
    QVERIFY(!j.takeInterfacesChanged());
    j.onInterface(interface(2, "eth0", TS_ATTACH_NONE)); // gone
    QVERIFY(j.takeInterfacesChanged());
    QCOMPARE(j.interfaces().size(), 2);
    QCOMPARE(j.interfaces()[0].name, QStringLiteral("lo"));
    QCOMPARE(j.interfaces()[1].attach, quint8(TS_ATTACH_NONE));
    ts_interface bad = interface(3, "x", 200);
    j.onInterface(bad);
    QCOMPARE(j.interfaces()[2].attach, quint8(TS_ATTACH_FAILED)); // out of range: not trusted
}

void TestPacketJoiner::dualStackSocket()
{
    ConnectionTracker t;
    PacketJoiner j(t);
    // An AF_INET6 socket talking to an IPv4 peer: its lifecycle says ::ffff:a.b.c.d, the wire
    // IPv4.
    const Endpoint mapped{AF_INET6, "::ffff:127.0.0.1", 8080, "::ffff:127.0.0.1", 40000};
    j.onStateChange(change(4, 10, LISTEN, SYN_RECV, mapped, 200, "server", TS_OWNER_LISTENER));
    j.onPacket(packet(0, 20, kIn, kClient, TS_TCP_ACK, 1, 1, 0, 65535, 0));
    QCOMPARE(conns(j.takePackets()), (QVector<qint64>{1}));
}

QTEST_GUILESS_MAIN(TestPacketJoiner)
#include "test_packet_joiner.moc"
