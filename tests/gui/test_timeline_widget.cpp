// SPDX-License-Identifier: GPL-3.0-or-later
// TimelineWidget on its own: layout geometry, hit testing and clicks, and that 10k connections
// stay interactive.
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
};

QTEST_MAIN(TestTimelineWidget)
#include "test_timeline_widget.moc"
