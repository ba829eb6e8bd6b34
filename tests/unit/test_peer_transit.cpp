// SPDX-License-Identifier: GPL-3.0-or-later
// One-way delay and loss between the two ends of a connection: a plain exchange between two
// hosts with a clock offset, a segment lost in the network, a retransmission of it, a spurious
// retransmission told from its original by the TCP timestamp, a GSO segment that arrives in
// pieces, GRO'd arrivals, reordering, sends before the other host's capture started, and the
// Session path (written through SessionWriter, paired, matched, the marks of all pairs).
#include "analysis/peer_transit.h"
#include "analysis/peers.h"
#include "export/session_export.h"
#include "filter/display_filter.h"
#include "session/session.h"
#include "session/session_writer.h"
#include "test_addresses.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

extern "C" {
#include "tcpscope_records.h"
}

using namespace tcpscope;

namespace {

constexpr qint64 kUs = 1000;
constexpr quint8 kAck = TS_TCP_ACK;
constexpr quint8 kPshAck = TS_TCP_ACK | TS_TCP_PSH;
constexpr quint32 kIsnA = 0xfffffc00u; // wraps during the exchange
constexpr quint32 kIsnB = 5000;

TransitSegment seg(qint64 id, qint64 timeUs, bool out, quint32 seq, quint32 ack, quint32 len,
                   quint8 flags = kPshAck, qint64 tsVal = -1)
{
    TransitSegment s;
    s.packetId = id;
    s.timeNs = timeUs * kUs;
    s.outgoing = out;
    s.seq = seq;
    s.ack = ack;
    s.flags = flags;
    s.length = len + ((flags & TS_TCP_SYN) ? 1 : 0) + ((flags & TS_TCP_FIN) ? 1 : 0);
    s.window = 500;
    if (tsVal >= 0) {
        s.hasTsVal = true;
        s.tsVal = quint32(tsVal);
    }
    return s;
}

// a sends; b receives delayUs later (b's clock reads offsetUs ahead).
struct Exchange
{
    QVector<TransitSegment> a, b;
    qint64 nextId = 1;
    qint64 offsetUs = 0;
    // A segment from a to b: sent at tUs, received after delayUs (<0: never).
    qint64 aToB(qint64 tUs, qint64 delayUs, quint32 seq, quint32 ack, quint32 len,
                quint8 flags = kPshAck, qint64 ts = -1)
    {
        const qint64 id = nextId++;
        a.append(seg(id, tUs, true, seq, ack, len, flags, ts));
        if (delayUs >= 0)
            b.append(seg(nextId++, tUs + delayUs + offsetUs, false, seq, ack, len, flags, ts));
        return id;
    }
    qint64 bToA(qint64 tUs, qint64 delayUs, quint32 seq, quint32 ack, quint32 len,
                quint8 flags = kAck, qint64 ts = -1)
    {
        const qint64 id = nextId++;
        b.append(seg(id, tUs + offsetUs, true, seq, ack, len, flags, ts));
        if (delayUs >= 0)
            a.append(seg(nextId++, tUs + delayUs, false, seq, ack, len, flags, ts));
        return id;
    }
    void sortByTime()
    {
        auto byTime = [](const TransitSegment &l, const TransitSegment &r) {
            return l.timeNs < r.timeNs;
        };
        std::stable_sort(a.begin(), a.end(), byTime);
        std::stable_sort(b.begin(), b.end(), byTime);
    }
    // The ingress packet of b that received bytes of a's packet sent.
    qint64 receivedAs(qint64 sentId) const
    {
        for (const TransitSegment &s : b)
            if (!s.outgoing && s.packetId == sentId + 1)
                return s.packetId;
        return 0;
    }
};

// A stored packet for a segment (ports of a client 40001 and a server 8080; the TSval as a
// timestamp option).
Packet packetOf(const TransitSegment &s, qint64 connectionId, qint64 t0Ns)
{
    Packet p;
    p.id = s.packetId;
    p.connectionId = connectionId;
    p.timeNs = t0Ns + s.timeNs;
    p.direction = s.outgoing ? PacketDirection::Out : PacketDirection::In;
    p.srcAddr = p.dstAddr = test::ip4(127, 0, 0, 1);
    const bool fromA = (connectionId == 1) == s.outgoing;
    p.srcPort = fromA ? 40001 : 8080;
    p.dstPort = fromA ? 8080 : 40001;
    p.seq = s.seq;
    p.ack = s.ack;
    p.tcpFlags = s.flags;
    p.window = s.window;
    p.payloadLen = s.length - ((s.flags & TS_TCP_SYN) ? 1 : 0) - ((s.flags & TS_TCP_FIN) ? 1 : 0);
    // The timestamp option: NOP NOP kind 8 len 10 TSval TSecr.
    QByteArray options = QByteArray::fromHex("0101080a");
    for (int shift = 24; shift >= 0; shift -= 8)
        options.append(char((s.tsVal >> shift) & 0xff));
    options.append(4, '\0');
    p.options = options;
    p.tcpHdrLen = 32;
    p.ipHdrLen = 20;
    return p;
}

void handshake(Exchange &x, qint64 t0Us)
{
    x.aToB(t0Us, 100, kIsnA, 0, 0, TS_TCP_SYN, 1);
    x.bToA(t0Us + 150, 100, kIsnB, kIsnA + 1, 0, TS_TCP_SYN | TS_TCP_ACK, 9001);
    x.aToB(t0Us + 300, 100, kIsnA + 1, kIsnB + 1, 0, kAck, 2);
}

} // namespace

class TestPeerTransit : public QObject
{
    Q_OBJECT
private slots:
    void twoHostsWithClockOffset()
    {
        Exchange x;
        x.offsetUs = 5000; // host b's clock is 5 ms ahead: delays read 5 ms more
        handshake(x, 0);
        const qint64 d1 = x.aToB(1000, 120, kIsnA + 1, kIsnB + 1, 1000, kPshAck, 3);
        const qint64 ack = x.bToA(1200, 80, kIsnB + 1, kIsnA + 1001, 0, kAck, 9002);
        x.sortByTime();
        TransitOptions o;
        o.sameHost = false;
        const PeerTransit t = matchPeerTransit(1, x.a, 2, x.b, o);
        QCOMPARE(t.mark(d1).delayNs, (5000 + 120) * kUs);
        QCOMPARE(t.mark(d1).peerPacketId, d1 + 1);
        QCOMPARE(t.mark(d1 + 1).delayNs, (5000 + 120) * kUs);
        QCOMPARE(t.mark(d1 + 1).peerPacketId, d1);
        QCOMPARE(t.mark(ack).delayNs, (80 - 5000) * kUs);
        QCOMPARE(t.outbound.sent, 3u);
        QCOMPARE(t.outbound.received, 3u);
        QCOMPARE(t.outbound.lost, 0u);
        QCOMPARE(t.outbound.minNs, 5100 * kUs);
        QCOMPARE(t.outbound.maxNs, 5120 * kUs);
        QCOMPARE(t.outbound.medianNs, 5100 * kUs);
        QCOMPARE(t.inbound.sent, 2u);
        QCOMPARE(t.inbound.received, 2u);
        QCOMPARE(t.inbound.minNs, -4920 * kUs);
        QCOMPARE(&t.sentBy(2), &t.inbound);
    }

    void lostSegmentAndItsRetransmission()
    {
        Exchange x;
        handshake(x, 0);
        const quint32 s = kIsnA + 1;
        const qint64 ok1 = x.aToB(1000, 50, s, kIsnB + 1, 1000, kPshAck, 10);
        const qint64 lost = x.aToB(1010, -1, s + 1000, kIsnB + 1, 1000, kPshAck, 10);
        const qint64 ok3 = x.aToB(1020, 50, s + 2000, kIsnB + 1, 1000, kPshAck, 10);
        // The retransmission: same bytes, a new TSval.
        const qint64 resent = x.aToB(1300, 60, s + 1000, kIsnB + 1, 1000, kPshAck, 13);
        // The last segment is not received before the capture ends: nothing said about it.
        const qint64 tail = x.aToB(1400, -1, s + 3000, kIsnB + 1, 1000, kPshAck, 14);
        x.sortByTime();
        const PeerTransit t = matchPeerTransit(1, x.a, 2, x.b);
        QVERIFY(t.mark(ok1).matched());
        QVERIFY(t.mark(ok3).matched());
        QVERIFY(!t.mark(lost).matched());
        QVERIFY(t.mark(lost).lost);
        QCOMPARE(t.mark(resent).delayNs, 60 * kUs);
        QCOMPARE(t.mark(resent + 1).peerPacketId, resent);
        QVERIFY(!t.mark(tail).lost);
        QVERIFY(!t.mark(tail).matched());
        QCOMPARE(t.outbound.lost, 1u);
        QCOMPARE(t.outbound.sent, 7u);
        QCOMPARE(t.outbound.received, 5u);
    }

    void spuriousRetransmissionToldByTimestamp()
    {
        // The original is slow (900 µs), the retransmission is sent at 500 µs and arrives at
        // 560 µs: the original's arrival (900 µs) is later than the retransmission's send, but
        // its TSval names the original.
        Exchange x;
        const quint32 s = kIsnA + 1;
        const qint64 orig = x.aToB(0, 900, s, kIsnB + 1, 500, kPshAck, 100);
        const qint64 resent = x.aToB(500, 60, s, kIsnB + 1, 500, kPshAck, 105);
        x.sortByTime();
        const PeerTransit t = matchPeerTransit(1, x.a, 2, x.b);
        QCOMPARE(t.mark(orig).delayNs, 900 * kUs);
        QCOMPARE(t.mark(orig + 1).peerPacketId, orig);
        QCOMPARE(t.mark(resent).delayNs, 60 * kUs);
        QCOMPARE(t.mark(resent + 1).peerPacketId, resent);
        QCOMPARE(t.outbound.lost, 0u);

        // Across hosts (1 s clock slack), a resend within the same timestamp tick: the copy
        // received before the resend was sent is the original's.
        Exchange y;
        const qint64 first = y.aToB(0, 100, s, kIsnB + 1, 500, kPshAck, 100);
        const qint64 again = y.aToB(300, 100, s, kIsnB + 1, 500, kPshAck, 100);
        y.sortByTime();
        TransitOptions o;
        o.sameHost = false;
        const PeerTransit u = matchPeerTransit(1, y.a, 2, y.b, o);
        QCOMPARE(u.mark(first + 1).peerPacketId, first);
        QCOMPARE(u.mark(first).delayNs, 100 * kUs);
        QCOMPARE(u.mark(again + 1).peerPacketId, again);
        QCOMPARE(u.mark(again).delayNs, 100 * kUs);
    }

    void gsoSegmentArrivesInPieces()
    {
        // One 3000-byte GSO segment sent (one egress record), three 1000-byte packets received
        // at 100, 110 and 120 µs; then three sent segments received as one GRO'd packet.
        const quint32 s = kIsnA + 1;
        QVector<TransitSegment> a = {
            seg(1, 0, true, s, kIsnB + 1, 3000, kPshAck, 7),
            seg(5, 1000, true, s + 3000, kIsnB + 1, 1000, kAck, 8),
            seg(6, 1001, true, s + 4000, kIsnB + 1, 1000, kAck, 8),
            seg(7, 1002, true, s + 5000, kIsnB + 1, 1000, kPshAck, 8),
        };
        QVector<TransitSegment> b = {
            seg(2, 100, false, s, kIsnB + 1, 1000, kAck, 7),
            seg(3, 110, false, s + 1000, kIsnB + 1, 1000, kAck, 7),
            seg(4, 120, false, s + 2000, kIsnB + 1, 1000, kPshAck, 7),
            seg(8, 1200, false, s + 3000, kIsnB + 1, 3000, kPshAck, 8),
        };
        const PeerTransit t = matchPeerTransit(1, a, 2, b);
        QCOMPARE(t.mark(1).delayNs, 120 * kUs); // the whole segment had arrived then
        QCOMPARE(t.mark(1).peerPacketId, 4);
        QCOMPARE(t.mark(2).delayNs, 100 * kUs);
        QCOMPARE(t.mark(3).delayNs, 110 * kUs);
        QCOMPARE(t.mark(3).peerPacketId, 1);
        QCOMPARE(t.mark(5).delayNs, 200 * kUs);
        QCOMPARE(t.mark(7).delayNs, 198 * kUs);
        QCOMPARE(t.mark(8).delayNs, 198 * kUs); // to the last-sent segment it holds
        QCOMPARE(t.mark(8).peerPacketId, 7);
        QCOMPARE(t.outbound.received, 4u);
        QCOMPARE(t.outbound.delays, 4u);
        QCOMPARE(t.outbound.lost, 0u);
    }

    void reorderingAndNoTimestamps()
    {
        // Without timestamps; segment 2 overtaken by 3. Pure ACKs matched whole.
        Exchange x;
        const quint32 s = kIsnA + 1;
        const qint64 p1 = x.aToB(0, 100, s, kIsnB + 1, 100);
        const qint64 p2 = x.aToB(10, 300, s + 100, kIsnB + 1, 100);
        const qint64 p3 = x.aToB(20, 100, s + 200, kIsnB + 1, 100);
        const qint64 a1 = x.bToA(105, 50, kIsnB + 1, s + 100, 0);
        const qint64 a2 = x.bToA(125, 50, kIsnB + 1, s + 100, 0); // dup ACK, same fields
        const qint64 a3 = x.bToA(315, -1, kIsnB + 1, s + 300, 0); // lost? nothing later: no
        x.sortByTime();
        const PeerTransit t = matchPeerTransit(1, x.a, 2, x.b);
        QCOMPARE(t.mark(p1).delayNs, 100 * kUs);
        QCOMPARE(t.mark(p2).delayNs, 300 * kUs);
        QCOMPARE(t.mark(p3).delayNs, 100 * kUs);
        QCOMPARE(t.mark(a1).delayNs, 50 * kUs);
        QCOMPARE(t.mark(a2).delayNs, 50 * kUs);
        QCOMPARE(t.mark(a2 + 1).peerPacketId, a2);
        QVERIFY(!t.mark(a3).lost);
        QCOMPARE(t.outbound.medianNs, 100 * kUs);
        QCOMPARE(t.outbound.maxNs, 300 * kUs);
        QCOMPARE(t.inbound.lost, 0u);
    }

    void sendsBeforeTheOtherCaptureStartedAreNotJudged()
    {
        // Across hosts, b's capture starts at 10 s: a's segment at 1 s was not seen by b and is
        // not called lost; a segment at 12 s missing while a later one arrived is.
        Exchange x;
        const quint32 s = kIsnA + 1;
        x.a.append(seg(100, 1'000'000, true, s, kIsnB + 1, 100));
        x.nextId = 200;
        const qint64 first = x.aToB(10'000'000, 100, s + 100, kIsnB + 1, 100);
        const qint64 gone = x.aToB(12'000'000, -1, s + 200, kIsnB + 1, 100);
        x.aToB(13'000'000, 100, s + 300, kIsnB + 1, 100);
        x.sortByTime();
        TransitOptions o;
        o.sameHost = false;
        const PeerTransit t = matchPeerTransit(1, x.a, 2, x.b, o);
        QVERIFY(!t.mark(100).lost);
        QVERIFY(t.mark(first).matched());
        QVERIFY(t.mark(gone).lost);
        QCOMPARE(t.outbound.lost, 1u);
        // On one host (one capture) the early one is lost too.
        const PeerTransit same = matchPeerTransit(1, x.a, 2, x.b);
        QVERIFY(same.mark(100).lost);
    }

    void twoHostsBehindNatFromASession()
    {
        // A merged session: the client on host 0 (192.168.1.5:40001 -> 198.51.100.9:443), the
        // server on host 1 seeing the client's NAT address 203.0.113.7:61000, its clock 300 µs
        // ahead after alignment (error bound 500 µs). A second server socket on host 1 with
        // another NAT port and other ISNs is not the peer. Pairing by ISNs, then transit.
        QTemporaryDir dir;
        const QString file = dir.filePath(QStringLiteral("h.tcpscope"));
        QString error;
        auto writer = SessionWriter::create(file, &error);
        QVERIFY2(writer, qPrintable(error));
        constexpr qint64 kT0 = 1'800'000'000'000'000'000;
        SessionInfo info;
        info.startedNs = kT0;
        info.stoppedNs = kT0 + 1'000'000'000;
        info.packetsCaptured = true;
        HostInfo h0, h1;
        h0.id = 0;
        h0.name = QStringLiteral("laptop");
        h0.offsetErrorNs = 0;
        h1.id = 1;
        h1.name = QStringLiteral("web1");
        h1.offsetErrorNs = 500'000;
        h1.offsetMethod = OffsetMethod::Handshakes;
        info.hosts = {h0, h1};
        writer->setInfo(info);
        auto conn = [&](qint64 id, qint32 host, const char *local, quint16 lport,
                        const char *remote, quint16 rport, ConnectionRole role, qint64 isnLocal,
                        qint64 isnRemote) {
            Connection c;
            c.id = id;
            c.hostId = host;
            c.localAddr = test::ip(QLatin1String(local));
            c.remoteAddr = test::ip(QLatin1String(remote));
            c.localPort = lport;
            c.remotePort = rport;
            c.role = role;
            c.startNs = kT0;
            c.endNs = kT0 + 5'000'000;
            c.state = TcpState::Close;
            c.history = {{kT0, TcpState::Close, TcpState::SynSent, 0, QString()}};
            c.packets.isnLocal = isnLocal;
            c.packets.isnRemote = isnRemote;
            writer->writeConnection(c);
        };
        conn(1, 0, "192.168.1.5", 40001, "198.51.100.9", 443, ConnectionRole::Client, kIsnA, kIsnB);
        conn(2, 1, "198.51.100.9", 443, "203.0.113.7", 61001, ConnectionRole::Server, 777, 888);
        conn(3, 1, "198.51.100.9", 443, "203.0.113.7", 61000, ConnectionRole::Server, kIsnB, kIsnA);
        Exchange x;
        x.offsetUs = 300;
        x.nextId = 1;
        handshake(x, 0);
        const quint32 s = kIsnA + 1;
        const qint64 d1 = x.aToB(1000, 40, s, kIsnB + 1, 1448, kPshAck, 3);
        const qint64 lost = x.aToB(1001, -1, s + 1448, kIsnB + 1, 1448, kPshAck, 3);
        x.aToB(1002, 40, s + 2896, kIsnB + 1, 1448, kPshAck, 3);
        const qint64 resent = x.aToB(1250, 45, s + 1448, kIsnB + 1, 1448, kPshAck, 4);
        x.bToA(1400, 40, kIsnB + 1, s + 4344, 0, kAck, 9005);
        x.sortByTime();
        QVector<Packet> packets;
        for (const TransitSegment &seg : x.a)
            packets.append(packetOf(seg, 1, kT0));
        for (const TransitSegment &seg : x.b)
            packets.append(packetOf(seg, 3, kT0));
        std::sort(packets.begin(), packets.end(),
                  [](const Packet &l, const Packet &r) { return l.id < r.id; });
        writer->writePackets(packets);
        QVERIFY(writer->close(&error));
        auto session = Session::open(file, &error);
        QVERIFY2(session, qPrintable(error));
        QCOMPARE(session->connection(3)->hostId, 1);
        QCOMPARE(session->connection(3)->packets.isnRemote, qint64(kIsnA));

        const auto peers = sessionPeers(*session);
        QCOMPARE(peers.value(1), 3);
        QVERIFY(!peers.contains(2));
        QCOMPARE(sessionClockSlack(*session, 0, 1), 500'000);
        const PeerTransit t = sessionPeerTransit(*session, 1, 3);
        QCOMPARE(t.mark(d1).delayNs, (300 + 40) * kUs);
        QVERIFY(t.mark(lost).lost);
        QCOMPARE(t.mark(resent).delayNs, (300 + 45) * kUs);
        QCOMPARE(t.outbound.lost, 1u);
        QCOMPARE(t.outbound.sent, 6u);
        QCOMPARE(t.inbound.minNs, (40 - 300) * kUs); // the clock difference left
        // The display filter fields from the session.
        FilterError ferror;
        const DisplayFilter lostFilter =
            DisplayFilter::compile(QStringLiteral("peer.lost"), FilterTarget::Packets, &ferror);
        QVERIFY2(lostFilter.isValid(), qPrintable(ferror.message));
        const FilterContext context = filterContextForSession(*session, lostFilter);
        QList<qint64> matched;
        session->forEachPacket(-1, [&](const Packet &p) {
            if (lostFilter.matches(p, context))
                matched.append(p.id);
            return true;
        });
        QCOMPARE(matched, QList<qint64>{lost});
        const DisplayFilter peerFilter =
            DisplayFilter::compile(QStringLiteral("conn.peer == 3"), FilterTarget::Connections);
        const FilterContext connContext = filterContextForSession(*session, peerFilter);
        QVERIFY(peerFilter.matches(*session->connection(1), connContext));
        QVERIFY(!peerFilter.matches(*session->connection(2), connContext));
    }

    void fromASession()
    {
        // Two ends written through the SessionWriter (loopback-like, one host), a third
        // unrelated connection; the pair is found and matched from the file.
        QTemporaryDir dir;
        const QString file = dir.filePath(QStringLiteral("t.tcpscope"));
        QString error;
        auto writer = SessionWriter::create(file, &error);
        QVERIFY2(writer, qPrintable(error));
        constexpr qint64 kT0 = 1'800'000'000'000'000'000;
        SessionInfo info;
        info.startedNs = kT0;
        info.stoppedNs = kT0 + 1'000'000'000;
        info.packetsCaptured = true;
        writer->setInfo(info);
        auto conn = [&](qint64 id, quint16 lport, quint16 rport, ConnectionRole role) {
            Connection c;
            c.id = id;
            c.localAddr = c.remoteAddr = test::ip(QStringLiteral("127.0.0.1"));
            c.localPort = lport;
            c.remotePort = rport;
            c.role = role;
            c.startNs = kT0;
            c.state = TcpState::Established;
            c.history = {{kT0, TcpState::Close, TcpState::SynSent, 0, QString()}};
            writer->writeConnection(c);
        };
        conn(1, 40001, 8080, ConnectionRole::Client);
        conn(2, 8080, 40001, ConnectionRole::Server);
        conn(3, 40002, 9090, ConnectionRole::Client);
        Exchange x;
        handshake(x, 0);
        const qint64 lost = x.aToB(1000, -1, kIsnA + 1, kIsnB + 1, 100, kPshAck, 3);
        const qint64 resent = x.aToB(1300, 7, kIsnA + 1, kIsnB + 1, 100, kPshAck, 4);
        x.sortByTime();
        QVector<Packet> packets;
        auto toPacket = [&](const TransitSegment &s, qint64 connectionId) {
            return packetOf(s, connectionId, kT0);
        };
        for (const TransitSegment &s : x.a)
            packets.append(toPacket(s, 1));
        for (const TransitSegment &s : x.b)
            packets.append(toPacket(s, 2));
        std::sort(packets.begin(), packets.end(),
                  [](const Packet &l, const Packet &r) { return l.id < r.id; });
        writer->writePackets(packets);
        QVERIFY(writer->close(&error));
        auto session = Session::open(file, &error);
        QVERIFY2(session, qPrintable(error));

        QCOMPARE(sessionPeers(*session).value(1), 2);
        const PeerTransit t = sessionPeerTransit(*session, 1, 2);
        QCOMPARE(t.peerId, 2);
        QVERIFY(t.mark(lost).lost);
        QCOMPARE(t.mark(resent).delayNs, 7 * kUs);
        QCOMPARE(t.outbound.lost, 1u);
        QCOMPARE(t.inbound.received, 1u);
        const auto marks = sessionTransitMarks(*session);
        QVERIFY(marks.value(lost).lost);
        QCOMPARE(marks.value(resent + 1).delayNs, 7 * kUs);
        QCOMPARE(marks.size(), t.marks.size());
        // An unpaired connection gives nothing; cancel gives an empty result.
        const PeerTransit unrelated = sessionPeerTransit(*session, 3, 1);
        QCOMPARE(unrelated.outbound.received, 0u);
        QCOMPARE(unrelated.inbound.received, 0u);
        // The packet export's columns.
        const QString csv = dir.filePath(QStringLiteral("p.csv"));
        PacketExportResult result;
        QVERIFY2(exportPackets(*session, csv, 0, &result, &error), qPrintable(error));
        QFile f(csv);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QList<QByteArray> lines = f.readAll().split('\n');
        const QList<QByteArray> header = lines[0].trimmed().split(',');
        const int delayCol = int(header.indexOf("peer_delay_ns"));
        const int lostCol = int(header.indexOf("peer_lost"));
        QVERIFY(delayCol > 0 && lostCol > 0);
        int checked = 0;
        for (const QByteArray &line : lines.mid(1)) {
            const QList<QByteArray> cols = line.trimmed().split(',');
            if (cols.size() != header.size())
                continue;
            const qint64 id = cols[0].toLongLong();
            if (id == lost) {
                QCOMPARE(cols[delayCol], QByteArray());
                QCOMPARE(cols[lostCol], QByteArray("1"));
                ++checked;
            } else if (id == resent || id == resent + 1) {
                QCOMPARE(cols[delayCol], QByteArray::number(7 * kUs));
                QCOMPARE(cols[lostCol], QByteArray("0"));
                ++checked;
            }
        }
        QCOMPARE(checked, 3);
        std::atomic<bool> cancel{true};
        const PeerTransit c = sessionPeerTransit(*session, 1, 2, &cancel);
        QVERIFY(c.cancelled);
        QVERIFY(c.marks.isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestPeerTransit)
#include "test_peer_transit.moc"
