// SPDX-License-Identifier: GPL-3.0-or-later
// TcpAnalyzer on hand-made packet sequences (Wireshark's rules, as tshark 4.0 applies them): the
// handshake (relative numbers, iRTT, negotiated options, window scaling), bytes in flight, ACK
// RTT, and the retransmission family (retransmission, fast, spurious, out-of-order, lost
// segment), sequence wraparound, GSO super-packets and malformed packets. Window, keep-alive,
// RST and ACKed-unseen rules: test_tcp_analyzer_window.cpp.
#include "tcp_analyzer_fixture.h"

#include <QRandomGenerator>

using namespace tcpscope;
using namespace tcpscope::testana;

class TestTcpAnalyzer : public QObject
{
    Q_OBJECT

private slots:
    void handshakeNegotiation();
    void scalingNeedsBothSides();
    void noScalingOffered();
    void midstreamWithoutHandshake();
    void dataBytesInFlightAndAckRtt();
    void bytesInFlightLessSackedAndFin();
    void retransmissionAfterTimeout();
    void outOfOrderVersusRetransmission();
    void dupAcksAndFastRetransmission();
    void fastRetransmissionNeedsTwoDupAcks();
    void fastRetransmissionNeedsRecentDupAck();
    void spuriousRetransmission();
    void spuriousCheckedBeforeOutOfOrder();
    void sequenceWraparound();
    void gsoSuperPacketIsOneSegment();
    void synRetransmission();
    void malformedDoesNotCorruptState();
    void randomPacketsKeepCountsConsistent();
    void summaryAndProblemClassification();
};

void TestTcpAnalyzer::handshakeNegotiation()
{
    Conn c;
    const Packet syn = c.out(kC, 0, SYN, 0, 64240, kStep, synOptions(1460, 7));
    const Packet synAck = c.in(kS, kC + 1, SYN | ACK, 0, 65160, kStep, synOptions(1400, 9));
    const Packet ack = c.out(kC + 1, kS + 1, ACK, 0, 502);
    EXPECT_FLAGS(syn, 0);
    EXPECT_FLAGS(synAck, 0);
    EXPECT_FLAGS(ack, 0);
    QCOMPARE(syn.relSeq, 0u);
    QCOMPARE(syn.relAck, 0u);
    QCOMPARE(synAck.relSeq, 0u);
    QCOMPARE(synAck.relAck, 1u);
    QCOMPARE(ack.relSeq, 1u);
    QCOMPARE(ack.relAck, 1u);
    // Windows in SYNs are never scaled; afterwards each side's own shift applies.
    QCOMPARE(syn.scaledWindow, 64240);
    QCOMPARE(synAck.scaledWindow, 65160);
    QCOMPARE(ack.scaledWindow, 502 << 7);
    QCOMPARE(synAck.ackRttNs, kStep); // acknowledges the SYN
    QCOMPARE(ack.ackRttNs, kStep);
    QCOMPARE(syn.bytesInFlight, -1); // no payload
    const PacketCounts &k = c.counts();
    QCOMPARE(k.irttNs, 2 * kStep);
    QCOMPARE(k.mssLocal, 1460);
    QCOMPARE(k.mssRemote, 1400);
    QCOMPARE(k.wscaleLocal, 7);
    QCOMPARE(k.wscaleRemote, 9);
    QVERIFY(k.sackPermitted);
    QVERIFY(k.timestamps);
    QCOMPARE(k.packetsOut, 2u);
    QCOMPARE(k.packetsIn, 1u);
    // The server's windows use its shift of 9.
    const Packet data = c.in(kS + 1, kC + 1, ACK | PSH, 10, 300);
    QCOMPARE(data.scaledWindow, qint64(300) << 9);
    QCOMPARE(data.relSeq, 1u);
    QCOMPARE(data.bytesInFlight, 10);
}

void TestTcpAnalyzer::scalingNeedsBothSides()
{
    Conn c;
    c.out(kC, 0, SYN, 0, 64240, kStep, synOptions(1460, 7));
    c.in(kS, kC + 1, SYN | ACK, 0, 65160, kStep, synOptions(1400, -1, false, true));
    const Packet ack = c.out(kC + 1, kS + 1, ACK, 0, 502);
    QCOMPARE(ack.scaledWindow, 502); // offered by us only: off both ways
    const Packet in = c.in(kS + 1, kC + 1, ACK, 0, 600);
    QCOMPARE(in.scaledWindow, 600);
    QCOMPARE(c.counts().wscaleLocal, 7);
    QCOMPARE(c.counts().wscaleRemote, -1);
    QVERIFY(!c.counts().sackPermitted); // the SYN-ACK did not offer it
    QVERIFY(c.counts().timestamps);
}

void TestTcpAnalyzer::noScalingOffered()
{
    Conn c;
    c.out(kC, 0, SYN, 0, 64240, kStep, synOptions(1460, -1));
    // A SYN-ACK with the option answering a SYN without it does not turn scaling on.
    c.in(kS, kC + 1, SYN | ACK, 0, 65160, kStep, synOptions(1400, 5));
    const Packet ack = c.out(kC + 1, kS + 1, ACK, 0, 502);
    const Packet in = c.in(kS + 1, kC + 1, ACK, 0, 600);
    QCOMPARE(ack.scaledWindow, 502);
    QCOMPARE(in.scaledWindow, 600);
    QCOMPARE(c.counts().wscaleLocal, -1);
    QCOMPARE(c.counts().wscaleRemote, 5);
}

void TestTcpAnalyzer::midstreamWithoutHandshake()
{
    Conn c;
    const Packet a = c.out(70000, 90000, ACK | PSH, 100, 1000);
    const Packet b = c.in(90000, 70100, ACK, 0, 2000);
    const Packet d = c.out(70100, 90000, ACK | PSH, 50, 1000);
    EXPECT_FLAGS(a, 0);
    EXPECT_FLAGS(b, 0);
    EXPECT_FLAGS(d, 0);
    // Without SYNs the first seq seen counts as 1 (Wireshark), the ack base is the first ack - 1.
    QCOMPARE(a.relSeq, 1u);
    QCOMPARE(a.relAck, 1u);
    QCOMPARE(b.relSeq, 1u);
    QCOMPARE(b.relAck, 101u);
    QCOMPARE(d.relSeq, 101u);
    QCOMPARE(a.scaledWindow, -1); // scale unknown without the handshake
    QCOMPARE(b.scaledWindow, -1);
    QCOMPARE(b.ackRttNs, kStep);
    QCOMPARE(c.counts().irttNs, -1);
    QCOMPARE(c.counts().mssLocal, -1);
}

void TestTcpAnalyzer::dataBytesInFlightAndAckRtt()
{
    Conn c;
    c.handshake();
    const Packet d1 = c.out(kC + 1, kS + 1, ACK, 1000, 502);
    const Packet d2 = c.out(kC + 1001, kS + 1, ACK | PSH, 1000, 502);
    const Packet a1 = c.in(kS + 1, kC + 1001, ACK, 0, 509, 50'000);
    const Packet d3 = c.out(kC + 2001, kS + 1, ACK, 1000, 502);
    const Packet a2 = c.in(kS + 1, kC + 3001, ACK, 0, 509); // acks d2 and d3 (partly cumulative)
    for (const Packet &p : {d1, d2, a1, d3, a2})
        EXPECT_FLAGS(p, 0);
    QCOMPARE(d1.bytesInFlight, 1000);
    QCOMPARE(d2.bytesInFlight, 2000);
    QCOMPARE(a1.bytesInFlight, -1); // only data segments carry it
    QCOMPARE(d3.bytesInFlight, 2000);
    QCOMPARE(a1.ackRttNs, kStep + 50'000); // d1 sent 150 µs before
    QCOMPARE(a2.ackRttNs, kStep);          // exact match with d3's end
    QCOMPARE(d2.relSeq, 1001u);
    QCOMPARE(a2.relAck, 3001u);
    QCOMPARE(c.counts().payloadBytesOut, 3000u);
    QCOMPARE(c.counts().payloadBytesIn, 0u);
    QCOMPARE(c.counts().retransmissions, 0u);
}

void TestTcpAnalyzer::bytesInFlightLessSackedAndFin()
{
    auto sack = [](std::initializer_list<std::pair<quint32, quint32>> blocks) {
        QByteArray o = QByteArray::fromHex("0101");
        o += char(5);
        o += char(2 + 8 * blocks.size());
        for (const auto &[l, r] : blocks)
            for (quint32 v : {l, r})
                for (int shift = 24; shift >= 0; shift -= 8)
                    o += char((v >> shift) & 0xff);
        return o;
    };
    Conn c;
    c.handshake();
    for (quint32 i = 0; i < 8; ++i)
        c.out(kC + 1 + i * 1000, kS + 1, ACK, 1000, 502);
    // The other side's last packet SACKs 1000 bytes: they are not in flight.
    c.in(kS + 1, kC + 1001, ACK, 0, 509, kStep, sack({{kC + 2001, kC + 3001}}));
    QCOMPARE(c.out(kC + 8001, kS + 1, ACK, 1000, 502).bytesInFlight, 8000 - 1000);
    // Its next packet has no SACK option: nothing is subtracted any more.
    EXPECT_FLAGS(c.in(kS + 1, kC + 1001, ACK, 0, 509), AnalysisDuplicateAck);
    QCOMPARE(c.out(kC + 9001, kS + 1, ACK, 1000, 502).bytesInFlight, 9000);
    // Only the first three blocks count (as in Wireshark).
    c.in(kS + 1, kC + 1001, ACK, 0, 509, kStep,
         sack({{kC + 2001, kC + 3001},
               {kC + 4001, kC + 5001},
               {kC + 6001, kC + 7001},
               {kC + 7001, kC + 7501}}));
    QCOMPARE(c.out(kC + 10001, kS + 1, ACK, 1000, 502).bytesInFlight, 10000 - 3000);
    // A FIN's sequence byte is not data in flight.
    Conn f;
    f.handshake();
    f.out(kC + 1, kS + 1, ACK, 100, 502);
    QCOMPARE(f.out(kC + 101, kS + 1, FIN | ACK, 100, 502).bytesInFlight, 200);
}

void TestTcpAnalyzer::retransmissionAfterTimeout()
{
    Conn c;
    c.handshake();
    c.out(kC + 1, kS + 1, ACK, 1000, 502);
    c.out(kC + 1001, kS + 1, ACK, 1000, 502);
    const Packet rto = c.out(kC + 1, kS + 1, ACK, 1000, 502, 300'000'000);
    EXPECT_FLAGS(rto, AnalysisRetransmission);
    QCOMPARE(rto.relSeq, 1u);
    const Packet ack = c.in(kS + 1, kC + 2001, ACK, 0, 509);
    EXPECT_FLAGS(ack, 0);
    QCOMPARE(c.counts().retransmissions, 1u);
    QCOMPARE(c.counts().fastRetransmissions, 0u);
    QCOMPARE(c.counts().outOfOrder, 0u);
}

void TestTcpAnalyzer::outOfOrderVersusRetransmission()
{
    // Received data (In) with a hole: the late segment is out-of-order when it arrives within
    // the handshake RTT (200 µs here) of the highest segment, a retransmission when later.
    Conn c;
    c.handshake();
    const Packet s1 = c.in(kS + 1, kC + 1, ACK, 100, 509);
    const Packet s3 = c.in(kS + 201, kC + 1, ACK, 100, 509);
    const Packet s2 = c.in(kS + 101, kC + 1, ACK, 100, 509, 50'000);
    EXPECT_FLAGS(s1, 0);
    EXPECT_FLAGS(s3, AnalysisPreviousSegmentNotCaptured);
    EXPECT_FLAGS(s2, AnalysisOutOfOrder);
    const Packet s5 = c.in(kS + 401, kC + 1, ACK, 100, 509);
    const Packet s4 = c.in(kS + 301, kC + 1, ACK, 100, 509, 1'000'000);
    EXPECT_FLAGS(s5, AnalysisPreviousSegmentNotCaptured);
    EXPECT_FLAGS(s4, AnalysisRetransmission);
    // Without a known iRTT the threshold is 3 ms.
    Conn m;
    m.in(100, 1, ACK, 100, 509);
    m.in(300, 1, ACK, 100, 509);
    EXPECT_FLAGS(m.in(200, 1, ACK, 100, 509, 2'000'000), AnalysisOutOfOrder);
    m.in(500, 1, ACK, 100, 509);
    EXPECT_FLAGS(m.in(400, 1, ACK, 100, 509, 4'000'000), AnalysisRetransmission);
    QCOMPARE(m.counts().outOfOrder, 1u);
    QCOMPARE(m.counts().lostSegments, 2u);
    QCOMPARE(m.counts().retransmissions, 1u);
    QCOMPARE(c.counts().outOfOrder, 1u);
    QCOMPARE(c.counts().lostSegments, 2u);
}

void TestTcpAnalyzer::dupAcksAndFastRetransmission()
{
    Conn c;
    c.handshake();
    for (quint32 i = 0; i < 5; ++i)
        c.out(kC + 1 + i * 1000, kS + 1, ACK, 1000, 502, 10'000);
    const Packet a = c.in(kS + 1, kC + 1001, ACK, 0, 509); // segment 2 lost
    const Packet d1 = c.in(kS + 1, kC + 1001, ACK, 0, 509, 10'000);
    const Packet d2 = c.in(kS + 1, kC + 1001, ACK, 0, 509, 10'000);
    const Packet d3 = c.in(kS + 1, kC + 1001, ACK, 0, 509, 10'000);
    EXPECT_FLAGS(a, 0);
    EXPECT_FLAGS(d1, AnalysisDuplicateAck);
    EXPECT_FLAGS(d2, AnalysisDuplicateAck);
    EXPECT_FLAGS(d3, AnalysisDuplicateAck);
    QCOMPARE(d1.dupAckNum, 1u);
    QCOMPARE(d2.dupAckNum, 2u);
    QCOMPARE(d3.dupAckNum, 3u);
    QCOMPARE(analysisSummary(d2.analysis, d2.dupAckNum), QStringLiteral("Dup ACK #2"));
    const Packet fr = c.out(kC + 1001, kS + 1, ACK, 1000, 502, 1'000'000);
    EXPECT_FLAGS(fr, AnalysisRetransmission | AnalysisFastRetransmission);
    QCOMPARE(analysisSummary(fr.analysis, 0), QStringLiteral("Fast retransmission"));
    // The ACK moves on: numbering starts again at #1.
    const Packet up = c.in(kS + 1, kC + 5001, ACK, 0, 509);
    const Packet n1 = c.in(kS + 1, kC + 5001, ACK, 0, 509);
    EXPECT_FLAGS(up, 0);
    EXPECT_FLAGS(n1, AnalysisDuplicateAck);
    QCOMPARE(n1.dupAckNum, 1u);
    QCOMPARE(up.dupAckNum, 0u);
    const PacketCounts &k = c.counts();
    QCOMPARE(k.dupAcks, 4u);
    QCOMPARE(k.retransmissions, 1u);
    QCOMPARE(k.fastRetransmissions, 1u);
}

void TestTcpAnalyzer::fastRetransmissionNeedsTwoDupAcks()
{
    Conn c;
    c.handshake();
    c.out(kC + 1, kS + 1, ACK, 1000, 502);
    c.out(kC + 1001, kS + 1, ACK, 1000, 502);
    c.in(kS + 1, kC + 1001, ACK, 0, 509);
    EXPECT_FLAGS(c.in(kS + 1, kC + 1001, ACK, 0, 509), AnalysisDuplicateAck);
    const Packet r = c.out(kC + 1001, kS + 1, ACK, 1000, 502, 1'000'000);
    EXPECT_FLAGS(r, AnalysisRetransmission);
}

void TestTcpAnalyzer::fastRetransmissionNeedsRecentDupAck()
{
    Conn c;
    c.handshake();
    c.out(kC + 1, kS + 1, ACK, 1000, 502);
    c.out(kC + 1001, kS + 1, ACK, 1000, 502);
    c.in(kS + 1, kC + 1001, ACK, 0, 509);
    c.in(kS + 1, kC + 1001, ACK, 0, 509);
    c.in(kS + 1, kC + 1001, ACK, 0, 509);
    // 20 ms or more after the last duplicate ACK it is an ordinary retransmission.
    EXPECT_FLAGS(c.out(kC + 1001, kS + 1, ACK, 1000, 502, 20'000'000), AnalysisRetransmission);
    QCOMPARE(c.counts().fastRetransmissions, 0u);
}

void TestTcpAnalyzer::spuriousRetransmission()
{
    Conn c;
    c.handshake();
    c.out(kC + 1, kS + 1, ACK, 1000, 502);
    c.in(kS + 1, kC + 1001, ACK, 0, 509);
    const Packet s = c.out(kC + 1, kS + 1, ACK, 1000, 502, 300'000'000);
    EXPECT_FLAGS(s, AnalysisRetransmission | AnalysisSpuriousRetransmission);
    QCOMPARE(analysisSummary(s.analysis, 0), QStringLiteral("Spurious retransmission"));
    // Data only partly acknowledged is an ordinary retransmission.
    c.out(kC + 1001, kS + 1, ACK, 1000, 502);
    c.in(kS + 1, kC + 1501, ACK, 0, 509);
    EXPECT_FLAGS(c.out(kC + 1001, kS + 1, ACK, 1000, 502, 300'000'000), AnalysisRetransmission);
    QCOMPARE(c.counts().retransmissions, 2u);
    QCOMPARE(c.counts().spuriousRetransmissions, 1u);
}

void TestTcpAnalyzer::spuriousCheckedBeforeOutOfOrder()
{
    // A resend of acknowledged data within the out-of-order threshold is spurious, not OOO.
    Conn c;
    c.handshake();
    c.out(kC + 1, kS + 1, ACK, 1000, 502, 10'000);
    c.out(kC + 1001, kS + 1, ACK, 1000, 502, 10'000);
    c.in(kS + 1, kC + 2001, ACK, 0, 509, 10'000);
    EXPECT_FLAGS(c.out(kC + 1, kS + 1, ACK, 1000, 502, 10'000),
                 AnalysisRetransmission | AnalysisSpuriousRetransmission);
    // A SYN resent 1 ms later is a retransmission: the SYN's sequence byte counts.
    Conn s;
    s.out(kC, 0, SYN, 0, 64240, kStep, synOptions(1460, 7));
    EXPECT_FLAGS(s.out(kC, 0, SYN, 0, 64240, 1'000'000, synOptions(1460, 7)),
                 AnalysisRetransmission);
    // The last segment resent at once ends at the expected sequence number: retransmission.
    Conn l;
    l.handshake();
    l.out(kC + 1, kS + 1, ACK, 100, 502);
    EXPECT_FLAGS(l.out(kC + 1, kS + 1, ACK, 100, 502, 10'000), AnalysisRetransmission);
}

void TestTcpAnalyzer::sequenceWraparound()
{
    Conn c;
    const quint32 isn = 0xfffffc00u; // 1024 bytes before the wrap
    c.out(isn, 0, SYN, 0, 64240, kStep, synOptions(1460, 7));
    c.in(kS, isn + 1, SYN | ACK, 0, 65160, kStep, synOptions(1400, 7));
    c.out(isn + 1, kS + 1, ACK, 0, 502);
    const Packet d1 = c.out(isn + 1, kS + 1, ACK, 1000, 502);
    const Packet d2 = c.out(isn + 1001, kS + 1, ACK, 1000, 502); // crosses 2^32
    const Packet d3 = c.out(isn + 2001, kS + 1, ACK, 1000, 502); // 0x000003d1
    EXPECT_FLAGS(d1, 0);
    EXPECT_FLAGS(d2, 0);
    EXPECT_FLAGS(d3, 0);
    QCOMPARE(d3.seq, 0x3d1u);
    QCOMPARE(d3.relSeq, 2001u);
    QCOMPARE(d3.bytesInFlight, 3000);
    const Packet a = c.in(kS + 1, isn + 2001, ACK, 0, 509);
    EXPECT_FLAGS(a, 0);
    QCOMPARE(a.relAck, 2001u);
    QCOMPARE(a.ackRttNs, 2 * kStep);
    const Packet r = c.out(isn + 2001, kS + 1, ACK, 1000, 502, 300'000'000);
    EXPECT_FLAGS(r, AnalysisRetransmission);
    const Packet s = c.out(isn + 1001, kS + 1, ACK, 1000, 502, 300'000'000);
    EXPECT_FLAGS(s, AnalysisRetransmission | AnalysisSpuriousRetransmission);
    EXPECT_FLAGS(c.out(isn + 3001, kS + 1, ACK, 1000, 502), 0);
    EXPECT_FLAGS(c.out(isn + 5001, kS + 1, ACK, 10, 502), AnalysisPreviousSegmentNotCaptured);
}

void TestTcpAnalyzer::gsoSuperPacketIsOneSegment()
{
    // Loopback carries TSO/GSO super-packets; tcpdump on lo sees the same, so one segment.
    Conn c;
    c.handshake();
    Packet big;
    big.direction = PacketDirection::Out;
    big.id = 100;
    big.timeNs = c.now + kStep;
    big.seq = kC + 1;
    big.ack = kS + 1;
    big.tcpFlags = ACK | PSH;
    big.payloadLen = 65483;
    big.gsoSegs = 45;
    big.gsoSize = 1448;
    big.window = 502;
    c.analyzer.analyze(big);
    c.now = big.timeNs;
    EXPECT_FLAGS(big, 0);
    QCOMPARE(big.bytesInFlight, 65483);
    const Packet part = c.in(kS + 1, kC + 1 + 1448 * 10, ACK, 0, 509);
    EXPECT_FLAGS(part, 0);
    QCOMPARE(part.ackRttNs, -1); // a partial ACK ends no segment
    const Packet next = c.out(kC + 1 + 65483, kS + 1, ACK, 1000, 502);
    EXPECT_FLAGS(next, 0);
    QCOMPARE(next.bytesInFlight, 65483 - 14480 + 1000);
    const Packet all = c.in(kS + 1, kC + 1 + 65483, ACK, 0, 509);
    QCOMPARE(all.ackRttNs, 3 * kStep); // from the super-packet's own time
    QCOMPARE(c.counts().payloadBytesOut, 66483u);
}

void TestTcpAnalyzer::synRetransmission()
{
    Conn c;
    const Packet syn = c.out(kC, 0, SYN, 0, 64240, kStep, synOptions(1460, 7));
    const Packet again = c.out(kC, 0, SYN, 0, 64240, 1'000'000'000, synOptions(1460, 7));
    const Packet synAck = c.in(kS, kC + 1, SYN | ACK, 0, 65160, kStep, synOptions(1400, 7));
    const Packet ack = c.out(kC + 1, kS + 1, ACK, 0, 502);
    EXPECT_FLAGS(syn, 0);
    EXPECT_FLAGS(again, AnalysisRetransmission);
    EXPECT_FLAGS(synAck, 0);
    EXPECT_FLAGS(ack, 0);
    QCOMPARE(c.counts().irttNs, 2 * kStep); // from the most recent SYN
    // A FIN sent twice: the second is a retransmission.
    c.out(kC + 1, kS + 1, FIN | ACK, 0, 502);
    EXPECT_FLAGS(c.out(kC + 1, kS + 1, FIN | ACK, 0, 502, 300'000'000), AnalysisRetransmission);
}

void TestTcpAnalyzer::malformedDoesNotCorruptState()
{
    Conn c;
    c.handshake();
    c.out(kC + 1, kS + 1, ACK, 100, 502);
    Packet bad;
    bad.direction = PacketDirection::Out;
    bad.timeNs = c.now + kStep;
    bad.parseStatus = TS_PARSE_TRUNC_TCP;
    bad.seq = 0xdeadbeef; // garbage that would otherwise look like a huge gap
    bad.ack = 0x12345678;
    bad.tcpFlags = RST | SYN;
    bad.payloadLen = 1400;
    bad.options = QByteArray::fromHex("030307");
    c.analyzer.analyze(bad);
    c.now = bad.timeNs;
    QCOMPARE(bad.analysis, quint32(AnalysisMalformed));
    QCOMPARE(bad.relSeq, 0u);
    QCOMPARE(bad.bytesInFlight, -1);
    QCOMPARE(bad.scaledWindow, -1);
    QCOMPARE(analysisSummary(bad.analysis, 0), QStringLiteral("Malformed"));
    // The stream goes on as if the bogus packet had not been there.
    EXPECT_FLAGS(c.out(kC + 101, kS + 1, ACK, 100, 502), 0);
    EXPECT_FLAGS(c.in(kS + 1, kC + 201, ACK, 0, 509), 0);
    const PacketCounts &k = c.counts();
    QCOMPARE(k.packetsOut, 5u); // counted as a packet, nothing else
    QCOMPARE(k.payloadBytesOut, 200u);
    QCOMPARE(k.resets, 0u);
    QCOMPARE(k.lostSegments, 0u);
    QCOMPARE(k.wscaleLocal, 7);
}

void TestTcpAnalyzer::randomPacketsKeepCountsConsistent()
{
    // Hostile or nonsensical sequences (random flags, numbers near the current ones and far
    // away, bogus options, parse failures, times going backwards) must not crash and the counts
    // must stay consistent with the per-packet flags.
    QRandomGenerator rng(7);
    for (int conn = 0; conn < 50; ++conn) {
        TcpAnalyzer a;
        quint32 base[2] = {rng.generate(), rng.generate()};
        quint64 retrans = 0, dups = 0, malformed = 0, packets = 0;
        qint64 t = 1'000'000'000;
        for (int i = 0; i < 2000; ++i) {
            Packet p;
            p.id = i + 1;
            const int dir = int(rng.bounded(2u));
            p.direction = dir ? PacketDirection::Out : PacketDirection::In;
            t += qint64(rng.bounded(2'000'000u)) - 200'000;
            p.timeNs = t;
            p.seq = base[dir] + (rng.bounded(4u) == 0 ? rng.generate() : rng.bounded(20000u));
            p.ack = base[1 - dir] + rng.bounded(20000u);
            p.tcpFlags = quint8(rng.bounded(8u) == 0 ? rng.bounded(256u) : ACK);
            p.payloadLen = rng.bounded(3u) == 0 ? 0 : rng.bounded(70000u);
            p.window = quint16(rng.bounded(4u) == 0 ? 0 : rng.bounded(65536u));
            p.parseStatus = quint8(rng.bounded(20u) == 0 ? 1 + rng.bounded(8u) : 0);
            QByteArray opts(int(rng.bounded(41u)), Qt::Uninitialized);
            for (char &c : opts)
                c = char(rng.bounded(256u));
            p.options = opts;
            a.analyze(p);
            ++packets;
            if (p.analysis & AnalysisRetransmission)
                ++retrans;
            if (p.analysis & AnalysisDuplicateAck) {
                ++dups;
                QVERIFY(p.dupAckNum >= 1);
            }
            if (p.parseStatus != 0) {
                ++malformed;
                QCOMPARE(p.analysis, quint32(AnalysisMalformed));
            }
            if (p.analysis & (AnalysisFastRetransmission | AnalysisSpuriousRetransmission))
                QVERIFY(p.analysis & AnalysisRetransmission);
            QVERIFY(p.bytesInFlight < 2'000'000'000);
        }
        const PacketCounts &k = a.counts();
        QCOMPARE(k.packetsIn + k.packetsOut, packets);
        QCOMPARE(quint64(k.retransmissions), retrans);
        QCOMPARE(quint64(k.dupAcks), dups);
        QVERIFY(k.retransmissions >= k.fastRetransmissions + k.spuriousRetransmissions);
        QVERIFY(malformed > 0);
    }
}

void TestTcpAnalyzer::summaryAndProblemClassification()
{
    QCOMPARE(analysisSummary(0, 0), QString());
    QCOMPARE(analysisSummary(AnalysisRetransmission, 0), QStringLiteral("Retransmission"));
    QCOMPARE(analysisSummary(AnalysisDuplicateAck, 3), QStringLiteral("Dup ACK #3"));
    QCOMPARE(analysisSummary(AnalysisZeroWindow | AnalysisZeroWindowProbeAck, 0),
             QStringLiteral("Zero window probe ACK, Zero window"));
    QCOMPARE(analysisSummary(AnalysisPreviousSegmentNotCaptured | AnalysisWindowFull, 0),
             QStringLiteral("Previous segment not captured, Window full"));
    QCOMPARE(analysisFlagName(AnalysisDuplicateAck), QStringLiteral("Dup ACK"));
    QCOMPARE(analysisFlagName(AnalysisKeepAliveAck), QStringLiteral("Keep-alive ACK"));
    QCOMPARE(analysisFlagName(AnalysisAckedUnseenSegment), QStringLiteral("ACKed unseen segment"));
    QCOMPARE(analysisFlagName(AnalysisReset), QStringLiteral("RST"));
    for (quint32 problem :
         {AnalysisRetransmission, AnalysisDuplicateAck, AnalysisOutOfOrder,
          AnalysisPreviousSegmentNotCaptured, AnalysisZeroWindow, AnalysisWindowFull, AnalysisReset,
          AnalysisMalformed, AnalysisAckedUnseenSegment})
        QVERIFY2(analysisIsProblem(problem), qPrintable(analysisSummary(problem, 0)));
    for (quint32 note : {AnalysisWindowUpdate, AnalysisKeepAlive, AnalysisKeepAliveAck,
                         AnalysisZeroWindowProbe, AnalysisZeroWindowProbeAck})
        QVERIFY2(!analysisIsProblem(note), qPrintable(analysisSummary(note, 0)));
    QVERIFY(!analysisIsProblem(0));
}

QTEST_APPLESS_MAIN(TestTcpAnalyzer)
#include "test_tcp_analyzer.moc"
