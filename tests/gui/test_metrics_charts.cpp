// SPDX-License-Identifier: GPL-3.0-or-later
// The connection detail charts on a recorded-like session (the fixture's kernel samples, events
// and drops written by SessionWriter and read back by SessionReader): every chart has data, the
// rttvar band and the markers exist (a drop's tooltip names its reason), zooming one chart moves
// the others, the crosshair readout shows the nearest sample, two connections overlay as two
// graphs per chart; in the main window, selecting a connection fills the "Kernel metrics" tab
// and says why when there is nothing to draw.
#include "charts/metrics_markers.h"
#include "charts/metrics_widget.h"
#include "main_window.h"
#include "models/connection_table_model.h"
#include "models/kernel_store.h"
#include "session/session_reader.h"
#include "session_fixture.h"
#include "views/connection_detail_view.h"
#include "views/connection_table_view.h"

#include <QLabel>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>

static void initAppResources()
{
    Q_INIT_RESOURCE(tcpscope);
}

using namespace tcpscope;

class TestMetricsCharts : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    QString m_session;
    testing::FixtureFacts m_facts;
    SessionData m_data;
    KernelStore m_store;

    ConnectionMetrics metricsOf(qint64 id) const
    {
        for (const Connection &c : m_data.connections)
            if (c.id == id)
                return buildConnectionMetrics(c, m_store.of(id), m_data.info.startedNs);
        return {};
    }
    static int pointsIn(const QCPGraph *g) { return g->data()->size(); }
    static MetricsMarkerPlottable *markerOf(const MetricsWidget &w, MetricsChart chart,
                                            MetricsMarkerKind kind)
    {
        for (MetricsMarkerPlottable *p : w.markerPlottables(chart))
            if (p->kind() == kind)
                return p;
        return nullptr;
    }
    static QPoint pixelAt(const MetricsWidget &w, MetricsChart chart, double x)
    {
        const QCPAxisRect *r = w.chartRect(chart);
        return QPoint(int(std::lround(r->axis(QCPAxis::atBottom)->coordToPixel(x))),
                      r->rect().center().y());
    }
    static void showSized(QWidget &w)
    {
        // Wide charts: the legend column must not squeeze them (it once did, to 50 px).
        w.resize(1200, 900);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
    }

private slots:
    void initTestCase()
    {
        initAppResources();
        QVERIFY(m_dir.isValid());
        m_session = m_dir.filePath(QStringLiteral("fixture.tcpscope"));
        QString error;
        QVERIFY2(testing::writeFixtureSession(m_session, &m_facts, &error), qPrintable(error));
        auto data = SessionReader::read(m_session, &error);
        QVERIFY2(data, qPrintable(error));
        m_data = *data;
        QCOMPARE(m_data.kernel.samples.size(), m_facts.samples2 + m_facts.samples6);
        QCOMPARE(m_data.kernel.drops.size(), m_facts.drops);
        m_store.setData(m_data.kernel);
        QCOMPARE(m_store.of(testing::kFixtureTransferId).samples.size(), m_facts.samples2);
        QCOMPARE(m_store.of(testing::kFixtureResetId).samples.size(), m_facts.samples6);
        QCOMPARE(m_store.of(0).drops.size(), 1); // NO_SOCKET is the session's, not a connection's
    }

    void storeAppendsLiveBatchesInTimeOrder()
    {
        KernelStore store;
        QSignalSpy changed(&store, &KernelStore::changed);
        KernelData a, b;
        for (int i = 0; i < 4; ++i) {
            TcpSample s;
            s.connectionId = 7;
            s.timeNs = 1000 + i * 10;
            (i % 2 ? b : a).samples.append(s); // b interleaves with a
        }
        store.append(a);
        store.append(b);
        QCOMPARE(changed.count(), 2);
        const auto &s = store.of(7).samples;
        QCOMPARE(s.size(), 4);
        for (int i = 1; i < s.size(); ++i)
            QVERIFY(s[i - 1].timeNs <= s[i].timeNs);
        store.setSampleCap(5);
        store.append(a);
        QCOMPARE(store.sampleCount(), 5);
        QCOMPARE(store.droppedSamples(), quint64(1));
    }

    void everyChartHasDataBandAndMarkers()
    {
        MetricsWidget w;
        showSized(w);
        const ConnectionMetrics m = metricsOf(testing::kFixtureTransferId);
        QCOMPARE(m.samples.size(), m_facts.samples2);
        w.setConnections({m});
        w.replot();
        for (MetricsChart chart : MetricsWidget::allCharts()) {
            QVERIFY2(w.chartRect(chart), qPrintable(metricsChartName(chart)));
            int points = 0;
            for (QCPGraph *g : w.dataGraphs(chart))
                points += pointsIn(g);
            QVERIFY2(points > 0, qPrintable(metricsChartName(chart)));
            // Every chart has every marker kind that occurred.
            QCOMPARE(markerOf(w, chart, MetricsMarkerKind::Drop)->markerCount(), 1);
            QCOMPARE(markerOf(w, chart, MetricsMarkerKind::Retransmit)->markerCount(), 1);
            QCOMPARE(markerOf(w, chart, MetricsMarkerKind::CongestionState)->markerCount(), 2);
            QCOMPARE(markerOf(w, chart, MetricsMarkerKind::StateChange)->markerCount(),
                     int(m.connection.history.size()));
            QVERIFY(markerOf(w, chart, MetricsMarkerKind::Drop)->drawnGlyphs() == 1);
        }
        // The band: a filled channel between srtt-rttvar and srtt+rttvar.
        const auto rtt = w.dataGraphs(MetricsChart::Rtt);
        const auto band = std::find_if(
            rtt.cbegin(), rtt.cend(), [](QCPGraph *g) { return g->channelFillGraph() != nullptr; });
        QVERIFY(band != rtt.cend());
        QVERIFY((*band)->brush().style() != Qt::NoBrush);
        QCOMPARE(pointsIn(*band), m_facts.samples2);
        // Units: srtt tops out at 1.4 ms + rttvar -> the axis says ms; windows 128 KiB -> KiB.
        QVERIFY(w.chartRect(MetricsChart::Rtt)->axis(QCPAxis::atLeft)->label() ==
                    QStringLiteral("µs") ||
                w.chartRect(MetricsChart::Rtt)->axis(QCPAxis::atLeft)->label() ==
                    QStringLiteral("ms"));
        QVERIFY(w.chartRect(MetricsChart::Windows)
                    ->axis(QCPAxis::atLeft)
                    ->label()
                    .contains(QStringLiteral("KiB")));
        QVERIFY(w.chartRect(MetricsChart::Throughput)
                    ->axis(QCPAxis::atLeft)
                    ->label()
                    .contains(QStringLiteral("Mbit/s")));
        // ssthresh is a gap while infinite (slow start), a value after the loss.
        QVERIFY(std::isnan(m.ssthresh.y.first()));
        QCOMPARE(m.ssthresh.y.last(), 20.0);
        // Throughput: 64 KiB per 10 ms sample = 52.4 Mbit/s.
        QVERIFY(!m.ackedRate.isEmpty());
        QVERIFY(std::abs(m.ackedRate.y.last() - 65536.0 * 8 / 0.01) < 1);

        // Hovering the drop names its reason; the retransmit its seq and segments.
        const MetricsMarker *drop = nullptr, *rtx = nullptr;
        for (const MetricsMarker &mk : m.markers) {
            if (mk.kind == MetricsMarkerKind::Drop)
                drop = &mk;
            if (mk.kind == MetricsMarkerKind::Retransmit)
                rtx = &mk;
        }
        QVERIFY(drop && rtx);
        for (MetricsChart chart : MetricsWidget::allCharts()) {
            const QString tip = w.markerToolTipAt(pixelAt(w, chart, drop->x));
            QVERIFY2(tip.contains(QStringLiteral("TCP_OLD_DATA")), qPrintable(tip));
        }
        const QString rtxTip = w.markerToolTipAt(pixelAt(w, MetricsChart::Cwnd, rtx->x));
        QVERIFY2(rtxTip.contains(QStringLiteral("retransmit seq 1000, 2 segments")),
                 qPrintable(rtxTip));
        QVERIFY(w.markerToolTipAt(pixelAt(w, MetricsChart::Cwnd, 0.45)).isEmpty()); // nothing there
    }

    void zoomingOneChartMovesAllAndRefitsValues()
    {
        MetricsWidget w;
        showSized(w);
        w.setConnections({metricsOf(testing::kFixtureTransferId)});
        QCPAxis *cwndY = w.chartRect(MetricsChart::Cwnd)->axis(QCPAxis::atLeft);
        const double fullTop = cwndY->range().upper;
        QCPAxis *cwndX = w.chartRect(MetricsChart::Cwnd)->axis(QCPAxis::atBottom);
        cwndX->setRange(0.10, 0.15); // what a wheel zoom/drag on the cwnd chart does
        for (MetricsChart chart : MetricsWidget::allCharts()) {
            const QCPRange r = w.chartRect(chart)->axis(QCPAxis::atBottom)->range();
            QCOMPARE(r.lower, 0.10);
            QCOMPARE(r.upper, 0.15);
        }
        // Slow start until 0.15 s: cwnd at most 10 + 2*4 = 18 there, the full view goes to 49.
        QVERIFY2(cwndY->range().upper < fullTop,
                 qPrintable(QStringLiteral("%1 vs %2").arg(cwndY->range().upper).arg(fullTop)));
        // And from another chart back.
        w.chartRect(MetricsChart::Throughput)->axis(QCPAxis::atBottom)->setRange(0.2, 0.4);
        QCOMPARE(cwndX->range().lower, 0.2);
        QCOMPARE(w.chartRect(MetricsChart::Rtt)->axis(QCPAxis::atBottom)->range().upper, 0.4);
        // Double-click fits again.
        w.fitAll();
        QVERIFY(cwndX->range().lower < 0.101 && cwndX->range().upper > 0.59);
    }

    void crosshairReadsTheNearestSample()
    {
        MetricsWidget w;
        showSized(w);
        w.setConnections({metricsOf(testing::kFixtureTransferId)});
        w.replot();
        QVERIFY(w.chartRect(MetricsChart::Windows)->width() > 800);
        QSignalSpy moved(&w, &MetricsWidget::crosshairMoved);
        // Samples at 0.201 and 0.211 s: 0.2045 is nearest to 0.201 (sample 10: srtt 450 µs,
        // rttvar 120 µs, cwnd 30).
        const QPoint pos = pixelAt(w, MetricsChart::Windows, 0.2045);
        QMouseEvent move(QEvent::MouseMove, pos, w.mapToGlobal(pos), Qt::NoButton, Qt::NoButton,
                         Qt::NoModifier);
        QApplication::sendEvent(&w, &move);
        QVERIFY(w.crosshairVisible());
        QVERIFY(moved.count() >= 1);
        const QString readout = moved.last().at(1).toString();
        QVERIFY2(readout.contains(QStringLiteral("srtt 450 µs ± 120 µs")), qPrintable(readout));
        QVERIFY2(readout.contains(QStringLiteral("cwnd 30, ssthresh ∞")), qPrintable(readout));
        QVERIFY2(readout.contains(QStringLiteral("snd_wnd 64.0 KiB")) ||
                     readout.contains(QStringLiteral("snd_wnd 64 KiB")),
                 qPrintable(readout));
        QVERIFY2(readout.startsWith(QStringLiteral("[0.2010 s]")), qPrintable(readout));
        // The same line runs through every chart.
        for (MetricsChart chart : MetricsWidget::allCharts()) {
            bool found = false;
            for (int i = 0; i < w.itemCount(); ++i) {
                auto *line = qobject_cast<QCPItemStraightLine *>(w.item(i));
                if (line && line->visible() && line->clipAxisRect() == w.chartRect(chart))
                    found = std::abs(line->point1->coords().x() - 0.2045) < 1e-3;
            }
            QVERIFY2(found, qPrintable(metricsChartName(chart)));
        }
        // After the loss: ssthresh 20 and Recovery.
        QVERIFY(w.readoutAt(0.311).contains(QStringLiteral("ssthresh 20")));
        QVERIFY(w.readoutAt(0.311).contains(QStringLiteral("Recovery")));
        QEvent leave(QEvent::Leave);
        QApplication::sendEvent(&w, &leave);
        QVERIFY(!w.crosshairVisible());
    }

    void overlayOfTwoConnections()
    {
        MetricsWidget w;
        showSized(w);
        const ConnectionMetrics a = metricsOf(testing::kFixtureTransferId),
                                b = metricsOf(testing::kFixtureResetId);
        w.setConnections({a, b});
        w.replot();
        QStringList legend;
        for (int i = 0; i < w.topLegend()->itemCount(); ++i)
            if (auto *item = qobject_cast<QCPPlottableLegendItem *>(w.topLegend()->item(i)))
                legend << item->plottable()->name();
        QVERIFY2(legend.contains(QStringLiteral("200 curl 127.0.0.1:40001→127.0.0.1:8080")),
                 qPrintable(legend.join('|')));
        QVERIFY2(legend.contains(QStringLiteral("400 python3 10.0.0.1:50100→10.0.0.2:5432")),
                 qPrintable(legend.join('|')));
        for (MetricsChart chart : MetricsWidget::allCharts()) {
            // The main (solid) series of each connection, in its own colour.
            QSet<QRgb> colours;
            int solid = 0;
            for (QCPGraph *g : w.dataGraphs(chart)) {
                if (pointsIn(g) > 0 && g->pen().style() == Qt::SolidLine) {
                    ++solid;
                    colours.insert(g->pen().color().rgb());
                }
            }
            QCOMPARE(solid, 2);
            QCOMPARE(colours.size(), 2);
        }
        // Markers of both: the RST received of #6 and the drop of #2, tagged with their id.
        QVERIFY(w.markerToolTipAt(pixelAt(w, MetricsChart::Rtt, 2.4))
                    .contains(QStringLiteral("#6 RST received")));
        QVERIFY(w.readoutAt(2.0).contains(QStringLiteral("#6 ")));
        QVERIFY(w.readoutAt(2.0).contains(QStringLiteral("#2 ")));
    }

    void mainWindowDetailFollowsSelection()
    {
        MainWindow w;
        w.setInteractiveErrors(false);
        showSized(w);
        QVERIFY(w.openSession(m_session));
        w.showKernelMetrics();
        QCOMPARE(w.lowerTabs()->currentWidget(), w.detailView());
        ConnectionDetailView *detail = w.detailView();
        QVERIFY(!detail->showsCharts());
        QVERIFY(detail->emptyText().contains(QStringLiteral("Select a connection")));

        QVERIFY(w.tableView()->selectConnection(testing::kFixtureTransferId));
        QVERIFY(detail->showsCharts());
        QCOMPARE(detail->metrics()->connections().size(), 1);
        int points = 0;
        for (QCPGraph *g : detail->metrics()->dataGraphs(MetricsChart::Cwnd))
            points += pointsIn(g);
        QVERIFY(points >= m_facts.samples2);
        const QString header = detail->headerLabel()->text();
        QVERIFY2(header.contains(QStringLiteral("Handshake")) &&
                     header.contains(QStringLiteral("Termination")),
                 qPrintable(header));
        QVERIFY2(header.contains(QStringLiteral("local closed first")), qPrintable(header));
        QVERIFY2(header.contains(QStringLiteral("1 kernel drops")), qPrintable(header));

        // A listener and a connection without samples explain themselves.
        QVERIFY(w.tableView()->selectConnection(1));
        QVERIFY(!detail->showsCharts());
        QVERIFY2(detail->emptyText().contains(QStringLiteral("listening socket")),
                 qPrintable(detail->emptyText()));
        QVERIFY(w.tableView()->selectConnection(3));
        QVERIFY2(detail->emptyText().contains(QStringLiteral("No kernel samples")),
                 qPrintable(detail->emptyText()));

        // Ctrl-selecting a second connection overlays it.
        QVERIFY(w.tableView()->selectConnection(testing::kFixtureTransferId));
        const QAbstractItemModel *m = w.tableView()->model();
        for (int r = 0; r < m->rowCount(); ++r)
            if (m->index(r, 0).data(ConnectionTableModel::ConnectionIdRole).toLongLong() ==
                testing::kFixtureResetId)
                w.tableView()->selectionModel()->select(
                    m->index(r, 0), QItemSelectionModel::Select | QItemSelectionModel::Rows);
        QCOMPARE(detail->metrics()->connections().size(), 2);
        QVERIFY(detail->headerLabel()->text().contains(QStringLiteral("Overlay of 2 connections")));
    }
};

QTEST_MAIN(TestMetricsCharts)
#include "test_metrics_charts.moc"
