// SPDX-License-Identifier: GPL-3.0-or-later
// TimelineWidget on its own: layout geometry, hit testing and clicks, that 10k connections
// stay interactive, and the packet-analysis markers (retransmission, RST, zero window).
#include "charts/timeline_widget.h"
#include "session_fixture.h"

#include <QElapsedTimer>
#include <QSignalSpy>
#include <QTest>

using namespace tcpscope;

class TestTimelineWidget : public QObject
{
    Q_OBJECT

    static constexpr qint64 kOrigin = 1'795'000'000'000'000'000;
    static constexpr qint64 kMs = 1'000'000;

private slots:
    void layoutSegments()
    {
        QVector<Connection> conns = testing::syntheticConnections(3, kOrigin);
        // Make #2 still open after its handshake: its ESTABLISHED segment runs to the end time.
        conns[1].history.resize(2);
        conns[1].endNs = 0;
        conns[1].state = TcpState::Established;
        const qint64 end = kOrigin + 5000 * kMs;
        const TimelineLayout layout = TimelineLayout::build(conns, kOrigin, end);
        QCOMPARE(layout.rows.size(), 3);
        QCOMPARE(layout.segments.size(), 5 + 2 + 5);
        QCOMPARE(layout.rowOf(2), 1);
        const TimelineRow &open = layout.rows.at(1);
        QVERIFY(open.open);
        QCOMPARE(open.segmentCount, 2);
        const TimelineSegment &last = layout.segments.at(open.firstSegment + 1);
        QCOMPARE(last.state, TcpState::Established);
        QCOMPARE(last.x1, 5.0);
        QCOMPARE(layout.segments.at(0).state, TcpState::SynSent);
        QCOMPARE(layout.segments.at(0).x0, 0.0);
        QVERIFY(qAbs(layout.segments.at(0).x1 - 0.0001) < 1e-12);
        QCOMPARE(layout.byPhase[int(StatePhase::Handshake)].size(), 3);
        QCOMPARE(layout.byPhase[int(StatePhase::Closing)].size(), 4);
        QCOMPARE(layout.byPhase[int(StatePhase::TimeWait)].size(), 2);
        QCOMPARE(layout.maxX, 5.0);
    }

    void clickSelectsBar()
    {
        TimelineWidget w;
        w.resize(900, 500);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        const QVector<Connection> conns = testing::syntheticConnections(5, kOrigin);
        w.setConnections(conns, kOrigin, kOrigin + 300 * kMs);
        w.replot();
        QCOMPARE(w.barCount(), 5);
        QSignalSpy clicked(&w, &TimelineWidget::connectionClicked);
        for (qint64 id : {1, 4}) {
            const QPoint p = w.barCenter(id);
            QVERIFY2(p.x() >= 0, "bar not in view");
            QCOMPARE(w.idAt(p), id);
            QTest::mouseClick(&w, Qt::LeftButton, {}, p);
            QCOMPARE(clicked.count(), 1);
            QCOMPARE(clicked.takeFirst().at(0).toLongLong(), id);
            QCOMPARE(w.selectedId(), id);
        }
        // Empty space (right of every bar) selects nothing.
        const QPoint empty(w.axisRect()->right() - 2, w.barCenter(1).y());
        QCOMPARE(w.idAt(empty), qint64(-1));
        QTest::mouseClick(&w, Qt::LeftButton, {}, empty);
        QCOMPARE(clicked.count(), 0);
    }

    void tenThousandConnectionsStayResponsive()
    {
        TimelineWidget w;
        w.resize(1200, 700);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        const QVector<Connection> conns = testing::syntheticConnections(10'000, kOrigin);
        QElapsedTimer timer;
        timer.start();
        w.setConnections(conns, kOrigin, kOrigin + 31'000 * kMs);
        const qint64 buildMs = timer.restart();
        w.fitAll(true); // every row in view: the worst case for drawing
        w.replot();
        const qint64 replotAllMs = timer.restart();
        w.fitAll(false);
        w.replot();
        const qint64 replotScreenMs = timer.elapsed();
        qInfo("10k connections: build %lld ms, replot all rows %lld ms, replot one screen %lld ms",
              buildMs, replotAllMs, replotScreenMs);
        QCOMPARE(w.barCount(), 10'000);
        QCOMPARE(w.segmentCount(), 50'000);
        // Generous bounds (slow CI machines, sanitizers) that still catch per-item plotting.
        QVERIFY2(buildMs < 2000, "building the layout is too slow");
        QVERIFY2(replotAllMs < 2000, "drawing all rows is too slow");
        QVERIFY2(replotScreenMs < 500, "drawing one screen of rows is too slow");
        const QPoint p = w.barCenter(3);
        QVERIFY(p.x() >= 0);
        QCOMPARE(w.idAt(p), qint64(3));
    }

    void analysisMarkersOnBars()
    {
        TimelineWidget w;
        w.resize(900, 500);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        w.setConnections(testing::syntheticConnections(5, kOrigin), kOrigin, kOrigin + 300 * kMs);
        // Connection 2 starts at 3 ms; its upload has a retransmission (+10), a zero window
        // (+11) and an RST (+13), 1 ms apart.
        const QVector<Packet> packets = testing::lossyTransferPackets(2, kOrigin + 13 * kMs, 1);
        QVector<Packet> unjoined = packets.mid(13, 1);
        unjoined[0].id = 500;
        unjoined[0].connectionId = 0; // not joined to a connection: no marker
        w.addAnalysisMarkers(packets + unjoined);
        w.addAnalysisMarkers(packets); // the same packets again (live refresh) add nothing
        const TimelineMarkers &m = w.analysisMarkers();
        QCOMPARE(m.count(), 3);
        const struct
        {
            TimelineMarkerKind kind;
            int offset;
            const char *name;
            QRgb colour;
        } expected[] = {
            {TimelineMarkerKind::Retransmission, 10, "Retransmission", qRgb(0xd6, 0x27, 0x28)},
            {TimelineMarkerKind::ZeroWindow, 11, "Zero window", qRgb(0xff, 0xd4, 0x00)},
            {TimelineMarkerKind::Reset, 13, "RST", qRgb(0xa4, 0x00, 0x00)},
        };
        w.xAxis->setRange(0.018, 0.032); // zoomed in: the three glyphs lie apart
        w.replot();
        const QImage image = w.grab().toImage();
        QStringList legendNames;
        for (int i = 0; i < w.legend->itemCount(); ++i)
            if (auto *item = qobject_cast<QCPPlottableLegendItem *>(w.legend->item(i)))
                legendNames << item->plottable()->name();
        for (const auto &e : expected) {
            const QVector<TimelineMarker> &list = m.of(2, e.kind);
            QCOMPARE(list.size(), 1);
            const Packet &p = packets.at(e.offset);
            QCOMPARE(list[0].packetId, p.id);
            QCOMPARE(list[0].timeNs, p.timeNs);
            QVERIFY(m.of(1, e.kind).isEmpty());
            QCOMPARE(w.drawnMarkerGlyphs(e.kind), 1);
            // Drawn where the packet's time is on connection 2's bar, named on hover.
            const QPoint at = w.markerPixel(2, e.kind, p.timeNs);
            QVERIFY2(at.x() >= 0, e.name);
            QVERIFY(qAbs(at.x() - w.xAxis->coordToPixel((p.timeNs - kOrigin) / 1e9)) <= 1.0);
            QCOMPARE(w.idAt(at), qint64(2));
            QVERIFY2(w.toolTipAt(at).contains(QLatin1String(e.name)), qPrintable(w.toolTipAt(at)));
            const QPoint dpr = (QPointF(at) * image.devicePixelRatio()).toPoint();
            QCOMPARE(QColor(image.pixel(dpr)).name(), QColor(e.colour).name());
            QVERIFY2(legendNames.contains(QLatin1String(e.name)), e.name);
        }
        // Far from the markers the tooltip names only the connection and state.
        const QPoint plain(int(w.xAxis->coordToPixel(0.030)), w.barCenter(2).y());
        QVERIFY(!w.toolTipAt(plain).isEmpty());
        QVERIFY(!w.toolTipAt(plain).contains(QLatin1String("Retransmission")));

        w.clearAnalysisMarkers();
        w.replot();
        QCOMPARE(m.count(), 0);
        QCOMPARE(w.drawnMarkerGlyphs(TimelineMarkerKind::Retransmission), 0);
        for (int i = 0; i < w.legend->itemCount(); ++i)
            if (auto *item = qobject_cast<QCPPlottableLegendItem *>(w.legend->item(i)))
                QVERIFY(item->plottable()->name() != QLatin1String("RST"));
    }

    void manyMarkersAreAggregatedPerPixel()
    {
        TimelineWidget w;
        w.resize(1000, 400);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        w.setConnections(testing::syntheticConnections(3, kOrigin), kOrigin, kOrigin + 300 * kMs);
        QVector<Packet> packets;
        for (int i = 0; i < 100'000; ++i) {
            Packet p;
            p.id = i + 1;
            p.connectionId = 1 + i % 3;
            p.timeNs = kOrigin + 1 * kMs + qint64(i) * 2000; // 200 ms of retransmissions
            p.analysis = AnalysisRetransmission;
            packets.append(p);
        }
        QElapsedTimer timer;
        timer.start();
        w.addAnalysisMarkers(packets);
        w.replot();
        qInfo("100k retransmission markers: add + replot %lld ms", timer.elapsed());
        QCOMPARE(w.analysisMarkers().count(), 100'000);
        const int glyphs = w.drawnMarkerGlyphs(TimelineMarkerKind::Retransmission);
        QVERIFY(glyphs > 0);
        QVERIFY2(glyphs <= 3 * (w.axisRect()->width() + 1), qPrintable(QString::number(glyphs)));
        // The tooltip still counts every marker under the cursor.
        const QPoint at = w.markerPixel(1, TimelineMarkerKind::Retransmission, kOrigin + 100 * kMs);
        QVERIFY(w.toolTipAt(at).contains(QLatin1String("Retransmission")));
    }
};

QTEST_MAIN(TestTimelineWidget)
#include "test_timeline_widget.moc"
