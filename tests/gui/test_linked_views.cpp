// SPDX-License-Identifier: GPL-3.0-or-later
// Selection linked across the main window's views on a real session file: a click on the kernel
// charts selects the nearest packet, the selected packet marks its time on the kernel charts and
// the timeline, a packet of another connection moves the table's current row (keeping the
// selection), double-clicking a Peer cell goes to the peer, the current connection is
// highlighted in the overview and its notes are selected; Add Annotation… in the charts',
// the Endpoints table's, the Annotations tree's and the packet details' menus.
#include "charts/metrics_widget.h"
#include "charts/timeline_widget.h"
#include "main_window.h"
#include "models/connection_table_model.h"
#include "session/session_reader.h"
#include "session/session_writer.h"
#include "session_fixture.h"
#include "views/annotations_view.h"
#include "views/connection_detail_view.h"
#include "views/connection_table_view.h"
#include "views/context_menus.h"
#include "views/endpoints_view.h"
#include "views/overview_chart.h"
#include "views/overview_dashboard.h"
#include "views/packet_details_view.h"
#include "views/packet_inspector.h"
#include "views/packets_panel.h"

#include <QApplication>
#include <QInputDialog>
#include <QItemSelectionModel>
#include <QLabel>
#include <QMenu>
#include <QPlainTextEdit>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeWidget>

#include <algorithm>
#include <cmath>

using namespace tcpscope;

namespace {
constexpr qint64 kMs = 1'000'000;
} // namespace

class TestLinkedViews : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    QString m_session;
    qint64 m_originNs = 0;
    QVector<Packet> m_packets; // as written: connections 2 and 3, interleaved in time

    std::unique_ptr<MainWindow> openWindow()
    {
        auto w = std::make_unique<MainWindow>();
        w->setInteractiveErrors(false);
        w->resize(1400, 900);
        w->show();
        if (!QTest::qWaitForWindowExposed(w.get()) || !w->openSession(m_session))
            return nullptr;
        return w;
    }

    // The written packet of connection `connection` nearest to `seconds` since the origin.
    qint64 nearestPacket(qint64 connection, double seconds) const
    {
        qint64 best = 0;
        double bestDistance = 1e18;
        for (const Packet &p : m_packets) {
            const double d = std::abs(double(p.timeNs - m_originNs) / 1e9 - seconds);
            if (p.connectionId == connection && d < bestDistance) {
                best = p.id;
                bestDistance = d;
            }
        }
        return best;
    }

    const Packet *packet(qint64 id) const
    {
        for (const Packet &p : m_packets)
            if (p.id == id)
                return &p;
        return nullptr;
    }

    // Selects these connections in the table, the first one current.
    static void selectConnections(MainWindow &w, const QVector<qint64> &ids)
    {
        w.tableView()->selectConnection(ids.first());
        const ConnectionTableModel *model = w.connectionModel();
        for (qint64 id : ids.mid(1)) {
            const int row = model->rowForId(id);
            w.tableView()->selectionModel()->select(
                model->index(row, 0), QItemSelectionModel::Select | QItemSelectionModel::Rows);
        }
        QCoreApplication::processEvents();
    }

    // The kernel metrics tab with connection 2's charts on screen.
    static MetricsWidget *showMetrics(MainWindow &w)
    {
        w.showKernelMetrics();
        if (!QTest::qWaitFor([&] { return w.detailView()->showsCharts(); }, 3000))
            return nullptr;
        QCoreApplication::processEvents();
        return w.detailView()->metrics();
    }

    // Widget pixel of `seconds` in the middle of the RTT chart.
    static QPoint pixelAt(MetricsWidget *metrics, double seconds)
    {
        const QCPAxisRect *rect = metrics->chartRect(MetricsChart::Rtt);
        return QPoint(int(std::lround(rect->axis(QCPAxis::atBottom)->coordToPixel(seconds))),
                      rect->rect().center().y());
    }

    // Right-clicks widget at pos (through the window, as a real click) and returns the menu.
    static QMenu *rightClick(QWidget *widget, QPoint pos)
    {
        QWidget *top = widget->window();
        QTest::mouseClick(top->windowHandle(), Qt::RightButton, Qt::NoModifier,
                          widget->mapTo(top, pos));
        QMenu *menu = nullptr;
        if (!QTest::qWaitFor(
                [&] { return (menu = qobject_cast<QMenu *>(QApplication::activePopupWidget())); },
                2000))
            return nullptr;
        return menu;
    }

    static QAction *menuAction(QMenu *menu, const QString &name)
    {
        for (QAction *a : menu->actions())
            if (a->objectName() == name)
                return a;
        return nullptr;
    }

    // Triggers the action, answers the annotation dialog with text and returns what the dialog
    // started with.
    static QString annotateWith(MainWindow &w, QAction *action, const QString &text)
    {
        if (auto *menu = qobject_cast<QMenu *>(action->parent()))
            menu->close();
        action->trigger();
        QInputDialog *dialog = nullptr;
        for (auto *d : w.findChildren<QInputDialog *>(QStringLiteral("annotationDialog")))
            if (d->isVisible())
                dialog = d;
        if (!dialog)
            return QStringLiteral("<no dialog>");
        QString initial = dialog->textValue();
        // What the user types continues a text the dialog starts with.
        if (auto *edit = dialog->findChild<QPlainTextEdit *>();
            !initial.isEmpty() && (!edit || edit->textCursor().hasSelection() ||
                                   edit->textCursor().position() != initial.size()))
            return QStringLiteral("<text selected or cursor not at its end>");
        dialog->setTextValue(text);
        dialog->accept();
        QCoreApplication::processEvents();
        return initial;
    }

    static bool near(qint64 ns, double seconds, qint64 originNs)
    {
        return std::abs(double(ns - originNs) / 1e9 - seconds) < 1e-6;
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        const QString plain = m_dir.filePath(QStringLiteral("plain.tcpscope"));
        QString error;
        testing::FixtureFacts facts;
        QVERIFY2(testing::writeFixtureSession(plain, &facts, &error), qPrintable(error));
        m_originNs = facts.startedNs;
        auto data = SessionReader::read(plain, &error);
        QVERIFY2(data, qPrintable(error));
        data->info.packetsCaptured = true;
        // Connection 2 (the client, kernel samples 101..591 ms) every 30 ms from 101 ms, its
        // peer 3 every 30 ms from 116 ms; ids in time order, as the writer numbers them.
        QVector<Packet> client = testing::lossyTransferPackets(2, 0, 1);
        QVector<Packet> server = testing::lossyTransferPackets(3, 0, 1);
        for (int i = 0; i < client.size(); ++i)
            client[i].timeNs = m_originNs + (101 + 30 * i) * kMs;
        for (int i = 0; i < server.size(); ++i)
            server[i].timeNs = m_originNs + (116 + 30 * i) * kMs;
        m_packets = client + server;
        std::sort(m_packets.begin(), m_packets.end(),
                  [](const Packet &a, const Packet &b) { return a.timeNs < b.timeNs; });
        for (int i = 0; i < m_packets.size(); ++i)
            m_packets[i].id = i + 1;
        data->packets = m_packets;
        m_session = m_dir.filePath(QStringLiteral("session.tcpscope"));
        auto writer = SessionWriter::create(m_session, &error);
        QVERIFY2(writer, qPrintable(error));
        writer->setInfo(data->info);
        for (const Connection &c : data->connections)
            writer->writeConnection(c);
        writer->writePackets(data->packets);
        writer->writeKernelData(data->kernel);
        QVERIFY2(writer->close(&error), qPrintable(error));
    }

    // A click on a kernel chart selects the current connection's packet nearest the clicked
    // time in the packet list; a drag (pan) selects nothing.
    void kernelChartClickSelectsNearestPacket()
    {
        auto w = openWindow();
        QVERIFY(w);
        selectConnections(*w, {2});
        MetricsWidget *metrics = showMetrics(*w);
        QVERIFY(metrics);
        PacketsPanel *panel = w->inspector()->packetsPanel();
        QCOMPARE(panel->currentPacketId(), qint64(0));

        const qint64 expected = nearestPacket(2, 0.262);
        QVERIFY(expected > 0);
        QTest::mouseClick(metrics, Qt::LeftButton, Qt::NoModifier, pixelAt(metrics, 0.262));
        QCOMPARE(panel->currentPacketId(), expected);

        // Press here, release 40 px to the right: a pan, not a click.
        const QPoint from = pixelAt(metrics, 0.45);
        QTest::mousePress(metrics, Qt::LeftButton, Qt::NoModifier, from);
        QTest::mouseRelease(metrics, Qt::LeftButton, Qt::NoModifier, from + QPoint(40, 0));
        QCOMPARE(panel->currentPacketId(), expected);

        // After the last packet (491 ms): the last one.
        QTest::mouseClick(metrics, Qt::LeftButton, Qt::NoModifier, pixelAt(metrics, 0.58));
        QCOMPARE(panel->currentPacketId(), nearestPacket(2, 10));
    }

    // The packet selected in the list puts the kernel charts' crosshair and a line on the
    // timeline at its time; no packet, no mark.
    void selectedPacketMarksItsTime()
    {
        auto w = openWindow();
        QVERIFY(w);
        selectConnections(*w, {2});
        MetricsWidget *metrics = showMetrics(*w);
        QVERIFY(metrics);
        QVERIFY(!metrics->crosshairVisible());
        QCOMPARE(w->timeline()->packetTime(), qint64(0));

        const qint64 id = nearestPacket(2, 0.4);
        const Packet *p = packet(id);
        QVERIFY(p);
        QVERIFY(w->inspector()->packetsPanel()->selectPacket(id));
        QCOMPARE(w->timeline()->packetTime(), p->timeNs);
        QVERIFY(metrics->crosshairVisible());
        QVERIFY(metrics->crosshairX().has_value());
        QVERIFY(std::abs(*metrics->crosshairX() - double(p->timeNs - m_originNs) / 1e9) < 1e-9);

        // Another connection selected: the list is reset, the marks go.
        selectConnections(*w, {6});
        QCOMPARE(w->inspector()->packetsPanel()->currentPacketId(), qint64(0));
        QCOMPARE(w->timeline()->packetTime(), qint64(0));
        QVERIFY(!metrics->markedTime().has_value());
    }

    // Connections 2 and 3 selected, 3 current: choosing a packet of 2 in the list makes 2 the
    // table's current row, the selection stays, the timeline and kernel charts follow.
    void packetOfAnotherConnectionMovesTheCurrentRow()
    {
        auto w = openWindow();
        QVERIFY(w);
        selectConnections(*w, {3, 2});
        w->tableView()->selectionModel()->setCurrentIndex(
            w->connectionModel()->index(w->connectionModel()->rowForId(3), 0),
            QItemSelectionModel::NoUpdate);
        QCOMPARE(w->tableView()->currentConnectionId(), qint64(3));
        QVector<qint64> selected = w->tableView()->selectedConnectionIds();
        std::sort(selected.begin(), selected.end());
        QCOMPARE(selected, (QVector<qint64>{2, 3}));
        MetricsWidget *metrics = showMetrics(*w);
        QVERIFY(metrics);

        const qint64 id = nearestPacket(2, 0.3);
        QVERIFY(w->inspector()->packetsPanel()->selectPacket(id));
        QCOMPARE(w->tableView()->currentConnectionId(), qint64(2));
        selected = w->tableView()->selectedConnectionIds();
        std::sort(selected.begin(), selected.end());
        QCOMPARE(selected, (QVector<qint64>{2, 3}));
        QCOMPARE(w->timeline()->selectedId(), qint64(2));
        QCOMPARE(w->inspector()->packetsPanel()->currentPacketId(), id);
        QVERIFY(!metrics->connections().isEmpty());
        QCOMPARE(metrics->connections().first().connection.id, qint64(2));
        // The details above the charts are the current connection's (curl's, not nginx's).
        QVERIFY(w->detailView()->headerLabel()->text().contains(QStringLiteral("curl")));

        // And back: a packet of 3.
        const qint64 other = nearestPacket(3, 0.3);
        QVERIFY(w->inspector()->packetsPanel()->selectPacket(other));
        QCOMPARE(w->tableView()->currentConnectionId(), qint64(3));
        QCOMPARE(w->tableView()->selectedConnectionIds().size(), 2);
        QCOMPARE(w->timeline()->selectedId(), qint64(3));
        QVERIFY(w->detailView()->headerLabel()->text().contains(QStringLiteral("nginx")));
    }

    // Kernel charts' menu: a note on the connection they show and on their visible time (their
    // own zoom, not the timeline's); the timeline's menu on a bar: a note on that connection;
    // an overview time chart's menu: a note on its visible time.
    void chartMenusAnnotateConnectionsAndTime()
    {
        auto w = openWindow();
        QVERIFY(w);
        selectConnections(*w, {2});
        MetricsWidget *metrics = showMetrics(*w);
        QVERIFY(metrics);
        metrics->setTimeRange(QCPRange(0.2, 0.3));
        metrics->replot();
        const QPoint inRtt = metrics->chartRect(MetricsChart::Rtt)->rect().center();
        QMenu *menu = rightClick(metrics, inRtt);
        QVERIFY(menu);
        QAction *onConnection = menuAction(menu, QStringLiteral("addConnectionAnnotation"));
        QVERIFY(onConnection && onConnection->isEnabled());
        QVERIFY2(onConnection->text().contains(QStringLiteral("Connection 2")),
                 qPrintable(onConnection->text()));
        annotateWith(*w, onConnection, QStringLiteral("cwnd halves here"));
        QCOMPARE(w->annotations().size(), 1);
        QCOMPARE(w->annotations().last().connectionId, qint64(2));
        QCOMPARE(w->annotations().last().packetId, qint64(0));

        menu = rightClick(metrics, inRtt);
        QVERIFY(menu);
        QAction *onTime = menuAction(menu, QStringLiteral("addAnnotation"));
        QVERIFY(onTime && onTime->isEnabled());
        annotateWith(*w, onTime, QStringLiteral("recovery"));
        QCOMPARE(w->annotations().size(), 2);
        const Annotation range = w->annotations().last();
        QCOMPARE(range.connectionId, qint64(0));
        QVERIFY2(near(range.startNs, 0.2, m_originNs) && near(range.endNs, 0.3, m_originNs),
                 qPrintable(QStringLiteral("%1..%2").arg(range.startNs).arg(range.endNs)));

        // The timeline, on connection 6's bar.
        TimelineWidget *timeline = w->timeline();
        const QPoint bar = timeline->barCenter(6);
        QVERIFY(bar.x() >= 0);
        menu = rightClick(timeline, bar);
        QVERIFY(menu);
        QAction *onBar = menuAction(menu, QStringLiteral("addConnectionAnnotation"));
        QVERIFY(onBar);
        QVERIFY(onBar->text().contains(QStringLiteral("Connection 6")));
        QVERIFY(menuAction(menu, QStringLiteral("addAnnotation"))); // the visible time, as before
        annotateWith(*w, onBar, QStringLiteral("reset by the database"));
        QCOMPARE(w->annotations().size(), 3);
        QCOMPARE(w->annotations().last().connectionId, qint64(6));

        // An overview time chart.
        w->lowerTabs()->setCurrentWidget(w->overview());
        OverviewChart *opened = w->overview()->chart(QStringLiteral("connections"));
        QVERIFY(QTest::qWaitFor([&] { return opened->isVisible() && opened->plottableCount() > 0; },
                                5000));
        QCoreApplication::processEvents();
        const QCPRange shown = opened->xAxis->range();
        menu = rightClick(opened, opened->axisRect()->rect().center());
        QVERIFY(menu);
        QAction *overviewNote = menuAction(menu, QStringLiteral("addAnnotation"));
        QVERIFY(overviewNote && overviewNote->isEnabled());
        annotateWith(*w, overviewNote, QStringLiteral("the whole run"));
        QCOMPARE(w->annotations().size(), 4);
        const qint64 shift = w->overview()->overview().originNs - m_originNs;
        QVERIFY(std::abs(w->annotations().last().startNs -
                         (m_originNs + shift + qint64(shown.lower * 1e9))) < 1000);
        QVERIFY(std::abs(w->annotations().last().endNs -
                         (m_originNs + shift + qint64(shown.upper * 1e9))) < 1000);
    }

    // Double-clicking the Peer cell of connection 2 selects its peer, 3.
    void doubleClickOnPeerGoesToThePeer()
    {
        auto w = openWindow();
        QVERIFY(w);
        ConnectionTableView *table = w->tableView();
        const int row = w->connectionModel()->rowForId(2);
        const QModelIndex peerCell =
            w->connectionModel()->index(row, ConnectionTableModel::column("peer"));
        QCOMPARE(peerCell.data().toLongLong(), qint64(3));
        table->scrollTo(peerCell);
        const QPoint at = table->visualRect(peerCell).center();
        QTest::mouseClick(table->viewport(), Qt::LeftButton, Qt::NoModifier, at);
        QCOMPARE(table->currentConnectionId(), qint64(2));
        QTest::mouseDClick(table->viewport(), Qt::LeftButton, Qt::NoModifier, at);
        QCOMPARE(table->currentConnectionId(), qint64(3));
        QCOMPARE(table->selectedConnectionIds(), (QVector<qint64>{3}));

        // Another column's double-click does not move.
        const QModelIndex idCell = w->connectionModel()->index(w->connectionModel()->rowForId(3),
                                                               ConnectionTableModel::column("id"));
        QTest::mouseDClick(table->viewport(), Qt::LeftButton, Qt::NoModifier,
                           table->visualRect(idCell).center());
        QCOMPARE(table->currentConnectionId(), qint64(3));
    }

    // Add Annotation… in the Endpoints table (visible time, naming the endpoint), the
    // Annotations tree (visible time, also on empty space) and the packet details (its packet).
    void tableAndTreeMenusAddAnnotations()
    {
        auto w = openWindow();
        QVERIFY(w);
        const QCPRange visible = w->timeline()->xAxis->range();

        w->lowerTabs()->setCurrentWidget(w->endpoints());
        EndpointsView *endpoints = w->endpoints();
        QVERIFY(QTest::qWaitFor([&] { return endpoints->view()->model()->rowCount() > 0; }, 5000));
        const Endpoint *e = endpoints->endpointAt(0);
        QVERIFY(e);
        const QString filter = e->filter;
        std::unique_ptr<QMenu> endpointMenu(w->contextMenus()->endpointMenu(
            endpoints->view()->model()->index(0, 0), endpoints->view()));
        QVERIFY(endpointMenu);
        QAction *note = menuAction(endpointMenu.get(), QStringLiteral("addAnnotation"));
        QVERIFY(note);
        const QString initial = annotateWith(*w, note, filter + QStringLiteral(": slow replies"));
        QVERIFY2(initial.startsWith(filter), qPrintable(initial));
        QCOMPARE(w->annotations().size(), 1);
        QCOMPARE(w->annotations().last().connectionId, qint64(0));
        // The timeline shows a margin before the start: the note starts with the session.
        QVERIFY(near(w->annotations().last().startNs, std::max(0.0, visible.lower), m_originNs));
        QVERIFY(near(w->annotations().last().endNs, visible.upper, m_originNs));

        // The Annotations tree: on its note and on the empty space below it.
        w->lowerTabs()->setCurrentWidget(w->annotationsView());
        QTreeWidget *tree = w->annotationsView()->tree();
        QCOMPARE(tree->topLevelItemCount(), 1);
        std::unique_ptr<QMenu> onItem(w->annotationsView()->contextMenu(
            tree->visualItemRect(tree->topLevelItem(0)).center()));
        QVERIFY(menuAction(onItem.get(), QStringLiteral("goTo")));
        QVERIFY(menuAction(onItem.get(), QStringLiteral("addAnnotation")));
        std::unique_ptr<QMenu> onEmpty(
            w->annotationsView()->contextMenu(QPoint(10, tree->viewport()->height() - 5)));
        QVERIFY(!menuAction(onEmpty.get(), QStringLiteral("goTo")));
        note = menuAction(onEmpty.get(), QStringLiteral("addAnnotation"));
        QVERIFY(note);
        annotateWith(*w, note, QStringLiteral("quiet period"));
        QCOMPARE(w->annotations().size(), 2);
        QCOMPARE(w->annotations().last().connectionId, qint64(0));
        QVERIFY(w->annotations().last().endNs > w->annotations().last().startNs);

        // The packet details tree: a note on the packet it shows.
        selectConnections(*w, {2});
        const qint64 id = nearestPacket(2, 0.2);
        QVERIFY(w->inspector()->packetsPanel()->selectPacket(id));
        PacketDetailsView *details = w->inspector()->detailsView();
        QCOMPARE(details->packetId(), id);
        std::unique_ptr<QMenu> detailsMenu(
            w->contextMenus()->detailsMenu(details->topLevelItem(0), details));
        QVERIFY(detailsMenu);
        note = menuAction(detailsMenu.get(), QStringLiteral("addAnnotation"));
        QVERIFY(note);
        annotateWith(*w, note, QStringLiteral("the lost segment"));
        QCOMPARE(w->annotations().size(), 3);
        QCOMPARE(w->annotations().last().packetId, id);
        QCOMPARE(w->annotations().last().connectionId, qint64(2));
        QCOMPARE(w->annotations().last().startNs, packet(id)->timeNs);
    }

    // The current connection is highlighted in the overview charts that count it (its bin of
    // "opened", the bins it was active in); its notes are selected in the Annotations tab.
    void currentConnectionIsHighlightedAndItsNotesSelected()
    {
        auto w = openWindow();
        QVERIFY(w);
        QSignalSpy ready(w->overview(), &OverviewDashboard::overviewReady);
        w->lowerTabs()->setCurrentWidget(w->overview());
        QVERIFY(ready.count() > 0 || ready.wait(5000));
        QCoreApplication::processEvents();
        const Overview &ov = w->overview()->overview();
        auto binOf = [](const QVector<OverviewBar> &bars, qint64 id) {
            for (int i = 0; i < bars.size(); ++i)
                if (bars[i].ids.contains(id))
                    return i;
            return -1;
        };
        OverviewChart *connections = w->overview()->chart(QStringLiteral("connections"));
        OverviewChart *active = w->overview()->chart(QStringLiteral("active"));
        QVERIFY(connections->highlighted(0).isEmpty());

        selectConnections(*w, {6});
        const int opened6 = binOf(ov.opened, 6);
        QVERIFY(opened6 >= 0);
        QCOMPARE(connections->highlighted(0), (QVector<int>{opened6}));
        QCOMPARE(connections->highlighted(1), (QVector<int>{binOf(ov.closed, 6)}));
        QVector<int> activeBins;
        for (const Overview::Span &span : ov.spans)
            if (span.id == 6)
                for (int b = span.firstBin; b <= span.lastBin; ++b)
                    activeBins << b;
        QVERIFY(!activeBins.isEmpty());
        QCOMPARE(active->highlighted(0), activeBins);

        // Selected while the overview is hidden: shown when it is shown again.
        w->lowerTabs()->setCurrentWidget(w->inspector());
        selectConnections(*w, {2});
        w->lowerTabs()->setCurrentWidget(w->overview());
        QCoreApplication::processEvents();
        QCOMPARE(connections->highlighted(0), (QVector<int>{binOf(ov.opened, 2)}));

        // Notes: one on 2, one on 6, one on a time range.
        Annotation a;
        a.text = QStringLiteral("on 2");
        a.connectionId = 2;
        w->addAnnotation(a);
        a.text = QStringLiteral("on 6");
        a.connectionId = 6;
        w->addAnnotation(a);
        a.text = QStringLiteral("range");
        a.connectionId = 0;
        a.startNs = m_originNs;
        a.endNs = m_originNs + 1'000'000'000;
        w->addAnnotation(a);
        QCOMPARE(w->annotationsView()->selectedIndexes(), (QVector<int>{0}));
        selectConnections(*w, {6});
        QCOMPARE(w->annotationsView()->selectedIndexes(), (QVector<int>{1}));
        selectConnections(*w, {6, 2});
        QCOMPARE(w->annotationsView()->selectedIndexes(), (QVector<int>{0, 1}));
        selectConnections(*w, {4});
        QVERIFY(w->annotationsView()->selectedIndexes().isEmpty());

        // A click on a bar filters the table (no current row then): the clicked bar stays
        // selected, it is not cleared like a highlight.
        const int bin = binOf(ov.opened, 6);
        auto *bars = qobject_cast<QCPBars *>(connections->plottable(0));
        QVERIFY(bars);
        const QPointF center =
            bars->coordsToPixels((bin + 0.5) * ov.binSeconds, ov.opened.at(bin).value / 2);
        QTest::mouseClick(connections, Qt::LeftButton, Qt::NoModifier, center.toPoint());
        QVERIFY(
            QTest::qWaitFor([&] { return w->connectionModel()->hasConnectionIdFilter(); }, 3000));
        QCoreApplication::processEvents();
        QCOMPARE(w->tableView()->currentConnectionId(), qint64(-1));
        QCOMPARE(connections->highlighted(0), (QVector<int>{bin}));
    }
};

QTEST_MAIN(TestLinkedViews)
#include "test_linked_views.moc"
