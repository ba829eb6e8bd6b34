// SPDX-License-Identifier: GPL-3.0-or-later
// SeqGraphWidget on a hand-made upload with one loss (session_fixture's lossyTransferPackets):
// what becomes bars, steps and markers, in which relative space; clicking a segment or an ACK
// selects that packet, also after zooming; drag pans without selecting; live appends; and that
// 200k segments are drawn as at most one line per pixel column.
#include "analysis/tcp_analyzer.h"
#include "charts/seq_graph_data.h"
#include "charts/seq_graph_plottable.h"
#include "charts/seq_graph_widget.h"
#include "session_fixture.h"
#include "tcpscope_records.h"
#include "test_addresses.h"

#include <QElapsedTimer>
#include <QProcessEnvironment>
#include <QSignalSpy>
#include <QTest>

using namespace tcpscope;

class TestSeqGraph : public QObject
{
    Q_OBJECT

    static constexpr qint64 kOrigin = 1'795'000'000'000'000'000;
    static constexpr qint64 kMs = 1'000'000;
    static constexpr qint64 kConn = 7;
    static constexpr qint64 kFirstId = 101;

    static Connection connection()
    {
        Connection c;
        c.id = kConn;
        c.comm = QStringLiteral("curl");
        c.pid = 200;
        c.localAddr = test::ip(QStringLiteral("10.0.0.1"));
        c.localPort = 40000;
        c.remoteAddr = test::ip(QStringLiteral("10.0.0.2"));
        c.remotePort = 80;
        return c;
    }
    static QVector<Packet> packets()
    {
        return testing::lossyTransferPackets(kConn, kOrigin + 10 * kMs, kFirstId);
    }
    static qint64 id(int offset) { return kFirstId + offset; }
    static double x(int offset) { return (10 + offset) / 1000.0; }

    static void showGraph(SeqGraphWidget &w)
    {
        w.resize(1000, 640);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        w.setConnection(connection(), packets(), kOrigin);
        w.replot();
    }

    static void wheel(QWidget &w, QPoint pos, int delta, Qt::KeyboardModifiers mods = {})
    {
        QWheelEvent e(pos, w.mapToGlobal(pos), QPoint(), QPoint(0, delta), Qt::NoButton, mods,
                      Qt::NoScrollPhase, false);
        QApplication::sendEvent(&w, &e);
    }

    // A bulk upload as the sender's TC hook sees it, run through the real TcpAnalyzer: 1448-byte
    // segments every 50 µs, an ACK per two segments 300 µs later (window 2048 << 7), segment
    // `lost` dropped after the hook: dup ACKs with SACK blocks, fast retransmission after the
    // third, then one cumulative ACK. Returns packets in time order with ids 1..
    static QVector<Packet> analyzedBulkTransfer(int segments, int lost)
    {
        constexpr quint32 c = 3'000'000'000u, s = 77'000;
        constexpr qint64 us = 1000;
        const qint64 t0 = kOrigin + 5 * kMs;
        QVector<Packet> raw;
        const auto packet = [&](qint64 t, bool out, quint8 flags, quint32 seq, quint32 ack,
                                quint32 len) -> Packet & {
            Packet p;
            p.connectionId = kConn;
            p.timeNs = t;
            p.direction = out ? PacketDirection::Out : PacketDirection::In;
            p.tcpFlags = flags;
            p.seq = seq;
            p.ack = ack;
            p.payloadLen = len;
            p.window = 2048;
            raw.append(p);
            return raw.last();
        };
        const QByteArray synOptions("\x02\x04\x05\xb4\x04\x02\x01\x03\x03\x07",
                                    10); // MSS, SACK-perm, wscale 7
        packet(t0, true, TS_TCP_SYN, c, 0, 0).options = synOptions;
        packet(t0 + 300 * us, false, TS_TCP_SYN | TS_TCP_ACK, s, c + 1, 0).options = synOptions;
        packet(t0 + 310 * us, true, TS_TCP_ACK, c + 1, s + 1, 0);
        const auto segStart = [&](int i) { return c + 1 + quint32(i) * 1448; };
        const qint64 d0 = t0 + 400 * us;
        int dupAcks = 0;
        qint64 rexmitAt = 0;
        for (int i = 0; i < segments; ++i) {
            const qint64 sent = d0 + i * 50 * us;
            packet(sent, true, TS_TCP_ACK | TS_TCP_PSH, segStart(i), s + 1, 1448);
            if (i % 2 == 0 && i != segments - 1)
                continue;
            const qint64 arrives = sent + 300 * us;
            if (i < lost) {
                packet(arrives, false, TS_TCP_ACK, s + 1, segStart(i + 1), 0);
            } else if (rexmitAt == 0 || arrives < rexmitAt + 300 * us) {
                Packet &dup = packet(arrives, false, TS_TCP_ACK, s + 1, segStart(lost), 0);
                QByteArray sack("\x01\x01\x05\x0a", 4);
                for (quint32 v : {segStart(lost + 1), segStart(i + 1)})
                    for (int shift : {24, 16, 8, 0})
                        sack.append(char((v >> shift) & 0xff));
                dup.options = sack;
                if (++dupAcks == 3)
                    rexmitAt = arrives + 20 * us;
            } else {
                packet(arrives, false, TS_TCP_ACK, s + 1, segStart(i + 1), 0);
            }
        }
        if (rexmitAt) {
            packet(rexmitAt, true, TS_TCP_ACK, segStart(lost), s + 1, 1448);
            packet(rexmitAt + 300 * us, false, TS_TCP_ACK, s + 1, segStart(segments), 0);
        }
        packet(d0 + segments * 50 * us + 400 * us, true, TS_TCP_FIN | TS_TCP_ACK,
               segStart(segments), s + 1, 0);
        std::stable_sort(raw.begin(), raw.end(),
                         [](const Packet &a, const Packet &b) { return a.timeNs < b.timeNs; });
        TcpAnalyzer analyzer;
        for (int i = 0; i < raw.size(); ++i) {
            raw[i].id = i + 1;
            analyzer.analyze(raw[i]);
        }
        return raw;
    }

private slots:
    void analyzerOutputIsDrawnInOneSpace()
    {
        // TcpAnalyzer fills relSeq/relAck/scaledWindow/analysis: the ACK line must sit on
        // the tops of the segments it acknowledges, the retransmission must be the red bar.
        const QVector<Packet> packets = analyzedBulkTransfer(120, 40);
        SeqGraphWidget w;
        w.resize(1400, 800);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        w.setConnection(connection(), packets, kOrigin);
        w.replot();
        const SeqGraphData &data = w.data();
        QCOMPARE(data.dataDirection(), PacketDirection::Out);
        QCOMPARE(data.bars(SeqBarKind::Data).size() + data.bars(SeqBarKind::Retransmission).size() +
                     data.bars(SeqBarKind::Problem).size(),
                 qsizetype(121));
        // The fast retransmission of segment 40 is a red bar (the analyzer may flag more).
        const QVector<SeqBar> &rexmit = data.bars(SeqBarKind::Retransmission);
        QVERIFY(std::any_of(rexmit.cbegin(), rexmit.cend(),
                            [](const SeqBar &b) { return b.y0 == 1.0 + 40 * 1448; }));
        for (const SeqPoint &ack : data.acks())
            QCOMPARE(quint32(ack.y), data.packet(ack.packetId)->relAck);
        QCOMPARE(data.acks().last().y, 1.0 + 120 * 1448);
        QVERIFY(!data.bars(SeqBarKind::Sack).isEmpty());
        QVERIFY(!data.marks(SeqMarkKind::DupAck).isEmpty());
        // Scaled window: 2048 << 7 above the ACK.
        QCOMPARE(data.windows().last().y - data.acks().last().y, double(2048 << 7));
        const QString png =
            QProcessEnvironment::systemEnvironment().value(QStringLiteral("TCPSCOPE_SEQ_PNG"));
        if (!png.isEmpty()) // for looking at it: TCPSCOPE_SEQ_PNG=/tmp/seq.png test_seq_graph
            QVERIFY(w.savePng(png, 1400, 800));
    }

    void geometryOfAHandMadeTransfer()
    {
        SeqGraphData data;
        data.reset(SeqGraphData::directionWithMorePayload(packets()), kOrigin);
        for (const Packet &p : packets())
            data.add(p);
        data.finish();
        QCOMPARE(data.dataDirection(), PacketDirection::Out);
        QCOMPARE(data.packetCount(), 14);

        // Four original segments (the client ISN is just below 2^32: no jump at the wrap).
        const QVector<SeqBar> &segs = data.bars(SeqBarKind::Data);
        QCOMPARE(segs.size(), 4);
        for (int i = 0; i < 4; ++i) {
            QCOMPARE(segs[i].packetId, id(3 + i));
            QCOMPARE(segs[i].y0, 1.0 + 1000 * i);
            QCOMPARE(segs[i].y1, 1001.0 + 1000 * i);
            QVERIFY(qAbs(segs[i].x - x(3 + i)) < 1e-9);
        }
        const QVector<SeqBar> &rexmit = data.bars(SeqBarKind::Retransmission);
        QCOMPARE(rexmit.size(), 1);
        QCOMPARE(rexmit[0].packetId, id(10));
        QCOMPARE(rexmit[0].y0, 1001.0);
        QCOMPARE(rexmit[0].y1, 2001.0);
        QVERIFY(data.bars(SeqBarKind::Problem).isEmpty());

        // SACK blocks of the dup ACKs, converted with the data direction's ISN.
        const QVector<SeqBar> &sacks = data.bars(SeqBarKind::Sack);
        QCOMPARE(sacks.size(), 2);
        QCOMPARE(sacks[0].packetId, id(8));
        QCOMPARE(sacks[0].y0, 2001.0);
        QCOMPARE(sacks[0].y1, 3001.0);
        QCOMPARE(sacks[1].packetId, id(9));
        QCOMPARE(sacks[1].y1, 4001.0);

        // ACK steps of the other direction (SYN-ACK, 3 ACKs of 1001, zero window, RST+ACK).
        QVector<double> acks;
        for (const SeqPoint &p : data.acks())
            acks << p.y;
        QCOMPARE(acks, (QVector<double>{1, 1001, 1001, 1001, 4001, 4002}));
        QCOMPARE(data.windows().size(), 6);
        QCOMPARE(data.windows()[0].y, 1.0 + 1000);      // SYN-ACK: unscaled window
        QCOMPARE(data.windows()[1].y, 1001.0 + 128000); // scaled window
        QCOMPARE(data.windows()[4].y, 4001.0);          // zero window: the lines meet

        QCOMPARE(data.marks(SeqMarkKind::Syn).size(), 2);
        QCOMPARE(data.marks(SeqMarkKind::Syn)[0].y, 0.0);
        QCOMPARE(data.marks(SeqMarkKind::Syn)[1].y, 1.0);
        QCOMPARE(data.marks(SeqMarkKind::Fin).size(), 1);
        QCOMPARE(data.marks(SeqMarkKind::Fin)[0].y, 4001.0);
        QCOMPARE(data.marks(SeqMarkKind::Rst).size(), 1);
        QCOMPARE(data.marks(SeqMarkKind::Rst)[0].packetId, id(13));
        QCOMPARE(data.marks(SeqMarkKind::DupAck).size(), 2);
        QCOMPARE(data.marks(SeqMarkKind::ZeroWindow).size(), 1);
        QCOMPARE(data.marks(SeqMarkKind::ZeroWindow)[0].packetId, id(11));
        // A pure ACK of the data direction draws nothing.
        QVERIFY(!data.placeOf(id(2)));
    }

    void otherDirectionAsData()
    {
        SeqGraphData data;
        data.reset(PacketDirection::In, kOrigin);
        for (const Packet &p : packets())
            data.add(p);
        data.finish();
        // The server sent no payload: no bars, ACKs of the client's (relAck 1) in its space.
        QVERIFY(data.bars(SeqBarKind::Data).isEmpty());
        QVERIFY(!data.acks().isEmpty());
        for (const SeqPoint &p : data.acks())
            QCOMPARE(p.y, 1.0);
    }

    void sequenceWrapIsUnwrapped()
    {
        // A transfer longer than 4 GiB: relative numbers wrap, the graph keeps rising.
        SeqGraphData data;
        data.reset(PacketDirection::Out, kOrigin);
        quint64 rel = 1;
        qint64 pid = 1;
        for (int i = 0; i < 6; ++i, rel += 1'000'000'000ull) {
            Packet p;
            p.id = pid++;
            p.connectionId = kConn;
            p.timeNs = kOrigin + i * kMs;
            p.direction = PacketDirection::Out;
            p.tcpFlags = TS_TCP_ACK;
            p.seq = quint32(12345 + rel);
            p.relSeq = quint32(rel);
            p.payloadLen = 1000;
            data.add(p);
        }
        data.finish();
        const QVector<SeqBar> &segs = data.bars(SeqBarKind::Data);
        QCOMPARE(segs.size(), 6);
        QCOMPARE(segs.last().y0, 5'000'000'001.0);
    }

    void widgetShowsGraphsAndLegend()
    {
        SeqGraphWidget w;
        showGraph(w);
        QCOMPARE(w.connectionId(), kConn);
        QCOMPARE(w.dataDirection(), PacketDirection::Out);
        // ACK, window and the five marker graphs are QCPGraphs; their points are the data's.
        int ackGraphs = 0;
        for (int i = 0; i < w.graphCount(); ++i) {
            QCPGraph *g = w.graph(i);
            if (g->name() == QLatin1String("ACK")) {
                ++ackGraphs;
                QCOMPARE(g->dataCount(), 6);
            }
        }
        QCOMPARE(ackGraphs, 1);
        QStringList legendNames;
        for (int i = 0; i < w.legend->itemCount(); ++i)
            if (auto *item = qobject_cast<QCPPlottableLegendItem *>(w.legend->item(i)))
                legendNames << item->plottable()->name();
        for (const char *name : {"Data segment", "Retransmission", "SACK block", "ACK", "SYN",
                                 "FIN", "RST", "Duplicate ACK", "Zero window"})
            QVERIFY2(legendNames.contains(QLatin1String(name)), name);
        // Nothing this connection lacks.
        QVERIFY(!legendNames.contains(seqBarLabel(SeqBarKind::Problem)));
        // Everything fits: the first SYN and the RST are in view.
        QVERIFY(w.xAxis->range().contains(x(0)) && w.xAxis->range().contains(x(13)));
        QVERIFY(w.yAxis->range().contains(0) && w.yAxis->range().contains(4002));
    }

    void clickSelectsPacket()
    {
        SeqGraphWidget w;
        showGraph(w);
        QSignalSpy clicked(&w, &SeqGraphWidget::packetClicked);
        // The retransmitted segment: the middle of its bar, by the axes' own pixel mapping.
        const QPoint rexmit =
            QPointF(w.xAxis->coordToPixel(x(10)), w.yAxis->coordToPixel(1501)).toPoint();
        QCOMPARE(w.pixelOf(id(10)), rexmit);
        QTest::mouseClick(&w, Qt::LeftButton, {}, rexmit);
        QCOMPARE(clicked.count(), 1);
        QCOMPARE(clicked.takeFirst().at(0).toLongLong(), id(10));
        QCOMPARE(w.selectedPacket(), id(10));
        QVERIFY(w.toolTipAt(rexmit).contains(QStringLiteral("Packet %1").arg(id(10))));
        QVERIFY(w.toolTipAt(rexmit).contains(QStringLiteral("1001–2001")));

        // Near (3 px off) an ACK point: the zero-window ACK.
        const QPoint ack(int(w.xAxis->coordToPixel(x(11))) + 3, int(w.yAxis->coordToPixel(4001)));
        QTest::mouseClick(&w, Qt::LeftButton, {}, ack);
        QCOMPARE(clicked.count(), 1);
        QCOMPARE(clicked.takeFirst().at(0).toLongLong(), id(11));

        // Empty space (top left: before any data, far above it) selects nothing.
        const QPoint empty(int(w.xAxis->coordToPixel(x(0))) + 2, w.axisRect()->top() + 5);
        QCOMPARE(w.packetAt(empty), qint64(0));
        QTest::mouseClick(&w, Qt::LeftButton, {}, empty);
        QCOMPARE(clicked.count(), 0);

        w.selectPacket(id(5));
        QCOMPARE(w.selectedPacket(), id(5));
        w.selectPacket(0);
        QCOMPARE(w.selectedPacket(), qint64(0));
    }

    void zoomPanAndFit()
    {
        SeqGraphWidget w;
        showGraph(w);
        QSignalSpy clicked(&w, &SeqGraphWidget::packetClicked);
        const QCPRange fitX = w.xAxis->range(), fitY = w.yAxis->range();

        // Wheel zoom in on segment +5: both axes shrink around the cursor.
        const QPoint at = w.pixelOf(id(5));
        wheel(w, at, 120 * 3);
        w.replot();
        QVERIFY(w.xAxis->range().size() < fitX.size() * 0.9);
        QVERIFY(w.yAxis->range().size() < fitY.size() * 0.9);
        QVERIFY(w.xAxis->range().contains(x(5)));
        // Ctrl+wheel zooms time only.
        const QCPRange beforeCtrlY = w.yAxis->range();
        const double beforeCtrlX = w.xAxis->range().size();
        wheel(w, w.pixelOf(id(5)), 120, Qt::ControlModifier);
        w.replot();
        QCOMPARE(w.yAxis->range(), beforeCtrlY);
        QVERIFY(w.xAxis->range().size() < beforeCtrlX);

        // Clicking still hits by pixel after the zoom.
        const QPoint seg = w.pixelOf(id(5));
        QVERIFY(seg.x() >= 0);
        QTest::mouseClick(&w, Qt::LeftButton, {}, seg);
        QCOMPARE(clicked.count(), 1);
        QCOMPARE(clicked.takeFirst().at(0).toLongLong(), id(5));

        // A drag pans and selects nothing.
        const QCPRange beforePan = w.xAxis->range();
        const QPoint from = w.axisRect()->center();
        QMouseEvent press(QEvent::MouseButtonPress, from, w.mapToGlobal(from), Qt::LeftButton,
                          Qt::LeftButton, {});
        QApplication::sendEvent(&w, &press);
        const QPoint to = from + QPoint(120, 0);
        QMouseEvent move(QEvent::MouseMove, to, w.mapToGlobal(to), Qt::NoButton, Qt::LeftButton,
                         {});
        QApplication::sendEvent(&w, &move);
        QMouseEvent release(QEvent::MouseButtonRelease, to, w.mapToGlobal(to), Qt::LeftButton,
                            Qt::NoButton, {});
        QApplication::sendEvent(&w, &release);
        QVERIFY(w.xAxis->range().lower < beforePan.lower);
        QCOMPARE(clicked.count(), 0);

        // Live packets do not move a view the user zoomed.
        const QCPRange userX = w.xAxis->range();
        QVector<Packet> more = testing::lossyTransferPackets(kConn, kOrigin + 500 * kMs, 1001);
        w.appendPackets(more);
        QCOMPARE(w.xAxis->range(), userX);

        // Double click fits everything again (now up to the appended packets).
        QTest::mouseDClick(&w, Qt::LeftButton, {}, w.axisRect()->center());
        QVERIFY(w.xAxis->range().contains(x(0)));
        QVERIFY(w.xAxis->range().contains(0.500 + 0.013));
    }

    void appendMatchesOneShotBuild()
    {
        const QVector<Packet> all = packets();
        SeqGraphWidget live;
        live.setConnection(connection(), all.mid(0, 7), kOrigin);
        Packet foreign = all.at(8);
        foreign.id = 999;
        foreign.connectionId = kConn + 1; // another connection: ignored
        live.appendPackets(all.mid(7) + QVector<Packet>{foreign});
        live.appendPackets(all.mid(10)); // duplicates are ignored too
        SeqGraphWidget once;
        once.setConnection(connection(), all, kOrigin);
        QCOMPARE(live.data().packetCount(), once.data().packetCount());
        for (int k = 0; k < kSeqBarKindCount; ++k)
            QCOMPARE(live.data().bars(SeqBarKind(k)).size(),
                     once.data().bars(SeqBarKind(k)).size());
        QCOMPARE(live.data().acks().size(), once.data().acks().size());
        QVERIFY(!live.data().packet(999));
    }

    void switchDirection()
    {
        SeqGraphWidget w;
        showGraph(w);
        w.setDataDirection(PacketDirection::In);
        QCOMPARE(w.dataDirection(), PacketDirection::In);
        QVERIFY(w.data().bars(SeqBarKind::Data).isEmpty());
        w.setDataDirection(PacketDirection::Out);
        QCOMPARE(w.data().bars(SeqBarKind::Data).size(), 4);
        w.clear();
        QCOMPARE(w.connectionId(), qint64(0));
        QCOMPARE(w.data().packetCount(), 0);
    }

    void twoHundredThousandSegments()
    {
        // 200k segments + 100k ACKs: drawing aggregates to about one line per pixel column.
        QVector<Packet> big;
        big.reserve(300'000);
        qint64 pid = 1;
        for (int i = 0; i < 200'000; ++i) {
            Packet p;
            p.id = pid++;
            p.connectionId = kConn;
            p.timeNs = kOrigin + i * 10'000; // 10 µs apart: 2 s
            p.direction = PacketDirection::Out;
            p.tcpFlags = TS_TCP_ACK;
            p.seq = 1 + quint32(i) * 1448;
            p.relSeq = p.seq;
            p.payloadLen = 1448;
            if (i % 1000 == 999)
                p.analysis = AnalysisRetransmission;
            big.append(p);
            if (i % 2 == 1) {
                Packet a;
                a.id = pid++;
                a.connectionId = kConn;
                a.timeNs = p.timeNs + 5000;
                a.direction = PacketDirection::In;
                a.tcpFlags = TS_TCP_ACK;
                a.ack = p.seq + 1448;
                a.relAck = a.ack;
                a.window = 512;
                a.scaledWindow = 512 << 7;
                big.append(a);
            }
        }
        SeqGraphWidget w;
        w.resize(1200, 700);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QElapsedTimer timer;
        timer.start();
        w.setConnection(connection(), big, kOrigin);
        const qint64 buildMs = timer.restart();
        w.replot();
        const qint64 replotMs = timer.elapsed();
        qInfo("200k segments + 100k ACKs: build %lld ms, replot %lld ms", buildMs, replotMs);
        QCOMPARE(w.data().bars(SeqBarKind::Data).size() +
                     w.data().bars(SeqBarKind::Retransmission).size(),
                 200'000);
        SeqBarsPlottable *data = nullptr;
        for (int i = 0; i < w.plottableCount(); ++i)
            if (auto *p = qobject_cast<SeqBarsPlottable *>(w.plottable(i));
                p && p->kind() == SeqBarKind::Data)
                data = p;
        QVERIFY(data);
        QVERIFY(data->lastDrawnLines() > 0);
        QVERIFY2(data->lastDrawnLines() <= w.axisRect()->width() + 2,
                 qPrintable(QStringLiteral("%1 lines for %2 px")
                                .arg(data->lastDrawnLines())
                                .arg(w.axisRect()->width())));
        // Zoomed far in, segments are individual I-bars again and still clickable.
        w.xAxis->setRange(1.0, 1.0002);
        w.yAxis->setRange(1448.0 * 99'990, 1448.0 * 100'025);
        w.replot();
        QVERIFY(data->lastDrawnLines() > 0);
        const qint64 target =
            w.packetAt(QPoint(int(w.xAxis->coordToPixel(1.0001)),
                              int(w.yAxis->coordToPixel(1448.0 * 100'010 + 700))));
        QVERIFY(target > 0);
        QVERIFY(w.data().packet(target));
    }
};

QTEST_MAIN(TestSeqGraph)
#include "test_seq_graph.moc"
