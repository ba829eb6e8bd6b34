// SPDX-License-Identifier: GPL-3.0-or-later
// TcpAnalyzer on hand-made packet sequences, second half: window update vs dup ACK, zero window
// probe and its ACK, window full, dup ACK numbering, keep-alive and its ACK, RST, ACKed unseen
// segment; and a real loopback capture with loss against tshark's verdict on every packet.
// Every packet's flags are compared exactly.
#include "tcp_analyzer_fixture.h"
#include "tcp_analyzer_real_capture.h"

using namespace tcpscope;
using namespace tcpscope::testana;

class TestTcpAnalyzerWindow : public QObject
{
    Q_OBJECT

private slots:
    void windowUpdateVersusDupAck();
    void zeroWindowProbeAndAck();
    void realLoopbackCaptureMatchesTshark();
    void linuxZeroWindowProbeLooksLikeKeepAlive();
    void windowScaleAbove14CountsAs14();
    void windowFull();
    void windowFullAgainstSynAckWindow();
    void dupAckNumberingSurvivesWindowUpdate();
    void keepAliveAndAck();
    void resetFlag();
    void ackedUnseenSegment();
    void ackedUnseenQuietUntilOwnAckMoves();
};

void TestTcpAnalyzerWindow::windowUpdateVersusDupAck()
{
    Conn c;
    c.handshake();
    c.out(kC + 1, kS + 1, ACK, 1000, 502);
    const Packet a = c.in(kS + 1, kC + 1001, ACK, 0, 100);
    const Packet wu = c.in(kS + 1, kC + 1001, ACK, 0, 200); // same seq/ack, new window
    const Packet dup = c.in(kS + 1, kC + 1001, ACK, 0, 200);
    EXPECT_FLAGS(a, 0);
    EXPECT_FLAGS(wu, AnalysisWindowUpdate);
    EXPECT_FLAGS(dup, AnalysisDuplicateAck);
    QCOMPARE(dup.dupAckNum, 1u);
    QCOMPARE(wu.scaledWindow, 200 << 7);
    QCOMPARE(c.counts().windowUpdates, 1u);
    QCOMPARE(c.counts().dupAcks, 1u);
}

void TestTcpAnalyzerWindow::zeroWindowProbeAndAck()
{
    Conn c;
    c.handshake();
    c.out(kC + 1, kS + 1, ACK, 1000, 502);
    const Packet zw = c.in(kS + 1, kC + 1001, ACK, 0, 0);
    const Packet probe = c.out(kC + 1001, kS + 1, ACK, 1, 502, 200'000'000);
    const Packet probeAck = c.in(kS + 1, kC + 1001, ACK, 0, 0);
    const Packet probe2 = c.out(kC + 1001, kS + 1, ACK, 1, 502, 400'000'000);
    const Packet probeAck2 = c.in(kS + 1, kC + 1001, ACK, 0, 0);
    const Packet open = c.in(kS + 1, kC + 1001, ACK, 0, 300);
    const Packet data = c.out(kC + 1001, kS + 1, ACK, 1000, 502);
    EXPECT_FLAGS(zw, AnalysisZeroWindow);
    EXPECT_FLAGS(probe, AnalysisZeroWindowProbe);
    EXPECT_FLAGS(probeAck, AnalysisZeroWindow | AnalysisZeroWindowProbeAck);
    EXPECT_FLAGS(probe2, AnalysisZeroWindowProbe);
    EXPECT_FLAGS(probeAck2, AnalysisZeroWindow | AnalysisZeroWindowProbeAck);
    EXPECT_FLAGS(open, AnalysisWindowUpdate);
    EXPECT_FLAGS(data, 0); // probes did not advance the expected sequence number
    QCOMPARE(data.relSeq, 1001u);
    const PacketCounts &k = c.counts();
    QCOMPARE(k.zeroWindows, 3u);
    QCOMPARE(k.zeroWindowProbes, 2u);
    QCOMPARE(k.retransmissions, 0u);
    QCOMPARE(k.dupAcks, 0u);
}

void TestTcpAnalyzerWindow::realLoopbackCaptureMatchesTshark()
{
    // 97 packets of a real Linux loopback transfer (GSO super-packets, SACK, timestamps) with
    // induced loss: every packet's flags, dup ACK number, bytes in flight, relative numbers and
    // window must be what tshark 4.0.17 reported for the same packets.
    TcpAnalyzer a;
    PacketCounts expected;
    int n = 0;
    for (const CapturedPacket &c : kLoopbackLossCapture) {
        Packet p;
        p.id = ++n;
        p.timeNs = 1'700'000'000'000'000'000 + c.timeNs;
        p.direction = c.out ? PacketDirection::Out : PacketDirection::In;
        p.seq = c.seq;
        p.ack = c.ack;
        p.tcpFlags = c.flags;
        p.payloadLen = c.payload;
        p.window = c.window;
        p.options = QByteArray::fromHex(c.optionsHex);
        a.analyze(p);
        EXPECT_FLAGS(p, c.expectedFlags);
        QCOMPARE(p.dupAckNum, c.dupAckNum);
        QCOMPARE(p.bytesInFlight, c.bytesInFlight);
        QCOMPARE(p.relSeq, c.relSeq);
        QCOMPARE(p.relAck, c.relAck);
        QCOMPARE(p.scaledWindow, c.scaledWindow);
        if (c.expectedFlags & AnalysisRetransmission)
            ++expected.retransmissions;
        if (c.expectedFlags & AnalysisDuplicateAck)
            ++expected.dupAcks;
    }
    QCOMPARE(n, 97);
    QCOMPARE(a.counts().retransmissions, expected.retransmissions);
    QCOMPARE(a.counts().dupAcks, expected.dupAcks);
    // 4 including the 2 fast ones, as `tshark -Y tcp.analysis.retransmission` counts.
    QCOMPARE(a.counts().retransmissions, 4u);
    QCOMPARE(a.counts().fastRetransmissions, 2u);
    QCOMPARE(a.counts().dupAcks, 4u);
    QCOMPARE(a.counts().outOfOrder, 2u);
    QVERIFY(a.counts().irttNs > 0);
}

void TestTcpAnalyzerWindow::linuxZeroWindowProbeLooksLikeKeepAlive()
{
    // Linux probes a zero window with an empty segment one byte back (tcp_xmit_probe_skb), which
    // is a keep-alive by the rules, in Wireshark too; the zero-window reply is no dup ACK.
    Conn c;
    c.handshake();
    c.out(kC + 1, kS + 1, ACK, 100, 502);
    EXPECT_FLAGS(c.in(kS + 1, kC + 101, ACK, 0, 0), AnalysisZeroWindow);
    EXPECT_FLAGS(c.out(kC + 100, kS + 1, ACK, 0, 502, 200'000'000), AnalysisKeepAlive);
    EXPECT_FLAGS(c.in(kS + 1, kC + 101, ACK, 0, 0), AnalysisZeroWindow);
    QCOMPARE(c.counts().zeroWindowProbes, 0u);
    QCOMPARE(c.counts().keepAlives, 1u);
}

void TestTcpAnalyzerWindow::windowScaleAbove14CountsAs14()
{
    Conn c;
    c.out(kC, 0, SYN, 0, 64240, kStep, synOptions(1460, 15));
    c.in(kS, kC + 1, SYN | ACK, 0, 65160, kStep, synOptions(1400, 15));
    QCOMPARE(c.out(kC + 1, kS + 1, ACK, 0, 502).scaledWindow, qint64(502) << 14);
    QCOMPARE(c.counts().wscaleLocal, 15); // as offered on the wire
}

void TestTcpAnalyzerWindow::windowFull()
{
    Conn c;
    c.handshake();                                      // shift 7 both ways
    const Packet wu = c.in(kS + 1, kC + 1, ACK, 0, 10); // 10 << 7 = 1280 bytes
    EXPECT_FLAGS(wu, AnalysisWindowUpdate);
    EXPECT_FLAGS(c.out(kC + 1, kS + 1, ACK, 1000, 502), 0);
    const Packet full = c.out(kC + 1001, kS + 1, ACK, 280, 502);
    EXPECT_FLAGS(full, AnalysisWindowFull);
    QCOMPARE(full.bytesInFlight, 1280);
    QCOMPARE(c.counts().windowFull, 1u);
    // Without scaling the raw window is the limit.
    Conn u;
    u.handshake(-1, -1);
    u.in(kS + 1, kC + 1, ACK, 0, 500);
    EXPECT_FLAGS(u.out(kC + 1, kS + 1, ACK, 500, 502), AnalysisWindowFull);
    // Without the handshake the scale is unknown: never window full.
    Conn m;
    m.in(9000, 100, ACK, 0, 500);
    EXPECT_FLAGS(m.out(100, 9000, ACK, 500, 502), 0);
}

void TestTcpAnalyzerWindow::windowFullAgainstSynAckWindow()
{
    // The window in the SYN-ACK is not scaled, so the first flight fills exactly 65160 bytes.
    Conn c;
    c.handshake();
    EXPECT_FLAGS(c.out(kC + 1, kS + 1, ACK, 1000, 502), 0);
    const Packet full = c.out(kC + 1001, kS + 1, ACK, 65160 - 1000, 502);
    EXPECT_FLAGS(full, AnalysisWindowFull);
    QCOMPARE(full.bytesInFlight, 65160);
}

void TestTcpAnalyzerWindow::dupAckNumberingSurvivesWindowUpdate()
{
    // Only a new ACK number restarts the count; a window update in between does not.
    Conn c;
    c.handshake();
    c.out(kC + 1, kS + 1, ACK, 1000, 502);
    c.in(kS + 1, kC + 1001, ACK, 0, 509);
    EXPECT_FLAGS(c.in(kS + 1, kC + 1001, ACK, 0, 509), AnalysisDuplicateAck);
    EXPECT_FLAGS(c.in(kS + 1, kC + 1001, ACK, 0, 600), AnalysisWindowUpdate);
    const Packet dup = c.in(kS + 1, kC + 1001, ACK, 0, 600);
    EXPECT_FLAGS(dup, AnalysisDuplicateAck);
    QCOMPARE(dup.dupAckNum, 2u);
}

void TestTcpAnalyzerWindow::keepAliveAndAck()
{
    Conn c;
    c.handshake();
    c.out(kC + 1, kS + 1, ACK, 100, 502);
    c.in(kS + 1, kC + 101, ACK, 0, 509);
    const Packet ka = c.out(kC + 100, kS + 1, ACK, 0, 502, 7'200'000'000);
    const Packet kaAck = c.in(kS + 1, kC + 101, ACK, 0, 509);
    EXPECT_FLAGS(ka, AnalysisKeepAlive);
    EXPECT_FLAGS(kaAck, AnalysisKeepAliveAck); // not a dup ACK
    QCOMPARE(kaAck.dupAckNum, 0u);
    // The one-byte variant (garbage byte) is a keep-alive, not a retransmission.
    const Packet ka1 = c.out(kC + 100, kS + 1, ACK, 1, 502, 7'200'000'000);
    EXPECT_FLAGS(ka1, AnalysisKeepAlive);
    EXPECT_FLAGS(c.in(kS + 1, kC + 101, ACK, 0, 509), AnalysisKeepAliveAck);
    // Still answering a keep-alive while our last packet was one (Wireshark looks only at the
    // other side's last packet) ...
    EXPECT_FLAGS(c.in(kS + 1, kC + 101, ACK, 0, 509), AnalysisKeepAliveAck);
    // ... but after new data that is not acknowledged, the same repeat is a dup ACK.
    EXPECT_FLAGS(c.out(kC + 101, kS + 1, ACK, 10, 502), 0);
    const Packet dup = c.in(kS + 1, kC + 101, ACK, 0, 509);
    EXPECT_FLAGS(dup, AnalysisDuplicateAck);
    QCOMPARE(dup.dupAckNum, 1u);
    QCOMPARE(c.counts().keepAlives, 2u);
    QCOMPARE(c.counts().retransmissions, 0u);
    QCOMPARE(c.counts().dupAcks, 1u);
}

void TestTcpAnalyzerWindow::resetFlag()
{
    Conn c;
    c.handshake();
    c.out(kC + 1, kS + 1, ACK, 100, 502);
    // An RST beyond the expected sequence is not "previous segment not captured".
    const Packet rst = c.in(kS + 50, kC + 101, RST | ACK, 0, 0);
    EXPECT_FLAGS(rst, AnalysisReset); // and a zero window in an RST is not a zero window
    QCOMPARE(c.counts().resets, 1u);
    QCOMPARE(c.counts().zeroWindows, 0u);
    QCOMPARE(c.counts().lostSegments, 0u);
    QVERIFY(analysisIsProblem(rst.analysis));
}

void TestTcpAnalyzerWindow::ackedUnseenSegment()
{
    Conn c;
    c.handshake();
    c.out(kC + 1, kS + 1, ACK, 100, 502);
    // The server acks 1000 bytes we never saw leave (capture gap on our side).
    const Packet a = c.in(kS + 1, kC + 1101, ACK, 0, 509);
    EXPECT_FLAGS(a, AnalysisAckedUnseenSegment);
    // Reported once: the same ACK again is only a dup ACK.
    EXPECT_FLAGS(c.in(kS + 1, kC + 1101, ACK, 0, 509), AnalysisDuplicateAck);
    // Our next segment continues after the gap.
    EXPECT_FLAGS(c.out(kC + 1101, kS + 1, ACK, 100, 502), AnalysisPreviousSegmentNotCaptured);
    // The first ACK past the gap is flagged once more (the contiguous data seen ended before
    // the gap), after which the limit has caught up. All as tshark 4.0 reports it.
    EXPECT_FLAGS(c.in(kS + 1, kC + 1201, ACK, 0, 509), AnalysisAckedUnseenSegment);
    EXPECT_FLAGS(c.out(kC + 1201, kS + 1, ACK, 100, 502), 0);
    EXPECT_FLAGS(c.in(kS + 1, kC + 1301, ACK, 0, 509), 0);
    QCOMPARE(c.counts().lostSegments, 1u);
}

void TestTcpAnalyzerWindow::ackedUnseenQuietUntilOwnAckMoves()
{
    // The other side keeps acknowledging past a gap while we send nothing: one report only.
    Conn c;
    c.handshake();
    c.out(kC + 1, kS + 1, ACK, 100, 502);
    EXPECT_FLAGS(c.in(kS + 1, kC + 1101, ACK, 0, 509), AnalysisAckedUnseenSegment);
    EXPECT_FLAGS(c.in(kS + 1, kC + 1101, ACK, 0, 509), AnalysisDuplicateAck);
    EXPECT_FLAGS(c.in(kS + 1, kC + 1201, ACK, 0, 509), 0);
    EXPECT_FLAGS(c.in(kS + 1, kC + 1301, ACK, 0, 509), 0);

    // Once our own ACK moves, a further unseen ACK is reported again.
    Conn m;
    m.handshake();
    m.out(kC + 1, kS + 1, ACK, 100, 502);
    EXPECT_FLAGS(m.in(kS + 1, kC + 1101, ACK, 10, 509), AnalysisAckedUnseenSegment);
    EXPECT_FLAGS(m.in(kS + 11, kC + 1101, ACK, 0, 509), AnalysisDuplicateAck);
    EXPECT_FLAGS(m.out(kC + 101, kS + 11, ACK, 0, 502), 0);
    EXPECT_FLAGS(m.in(kS + 11, kC + 1201, ACK, 0, 509), AnalysisAckedUnseenSegment);

    // A window update with the same ACK does not re-arm it.
    Conn w;
    w.handshake();
    w.out(kC + 1, kS + 1, ACK, 100, 502);
    EXPECT_FLAGS(w.in(kS + 1, kC + 1101, ACK, 0, 509), AnalysisAckedUnseenSegment);
    EXPECT_FLAGS(w.out(kC + 101, kS + 1, ACK, 0, 600), AnalysisWindowUpdate);
    EXPECT_FLAGS(w.in(kS + 1, kC + 1201, ACK, 0, 509), 0);

    // Our dup ACKs after the report count from #1 again.
    Conn d;
    d.handshake();
    d.out(kC + 1, kS + 1, ACK, 100, 502);
    d.in(kS + 1, kC + 1101, ACK, 0, 509);
    for (quint32 n = 1; n <= 3; ++n) {
        const Packet dup = d.out(kC + 101, kS + 1, ACK, 0, 502);
        EXPECT_FLAGS(dup, AnalysisDuplicateAck);
        QCOMPARE(dup.dupAckNum, n);
    }

    // tshark quirk kept for agreement: the parked counter counts as ">= 2 dup ACKs", so their
    // retransmission of what we last acknowledged is a fast retransmission.
    Conn q;
    q.handshake();
    q.out(kC + 1, kS + 1, ACK, 100, 502);
    EXPECT_FLAGS(q.in(kS + 1, kC + 1101, ACK, 100, 509), AnalysisAckedUnseenSegment);
    EXPECT_FLAGS(q.in(kS + 1, kC + 1101, ACK, 100, 509, 1'000),
                 AnalysisRetransmission | AnalysisFastRetransmission);
}

QTEST_APPLESS_MAIN(TestTcpAnalyzerWindow)
#include "test_tcp_analyzer_window.moc"
