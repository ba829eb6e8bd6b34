// SPDX-License-Identifier: GPL-3.0-or-later
// Point-and-click exploration in the main window, driven with mouse and key events on real
// session files: the connection and packet filter boxes (invalid expression → red with the
// message and column, valid → rows filtered, completion, history, saved buttons), right-click
// menus (Apply/Prepare as Filter on a cell, Copy, Go to Peer, Show Packets / Kernel Metrics),
// the Peer column and the details tree's Apply as Filter.
#include "charts/timeline_widget.h"
#include "main_window.h"
#include "models/connection_table_model.h"
#include "models/endpoint_table_model.h"
#include "models/packet_table_model.h"
#include "session/session_writer.h"
#include "session_fixture.h"
#include "tcpscope_records.h"
#include "test_addresses.h"
#include "views/annotations_view.h"
#include "views/connection_detail_view.h"
#include "views/connection_table_view.h"
#include "views/context_menus.h"
#include "views/endpoints_view.h"
#include "views/filter_bar.h"
#include "views/packet_details_view.h"
#include "views/packet_inspector.h"
#include "views/packets_panel.h"

#include <QAbstractItemView>
#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QCompleter>
#include <QHeaderView>
#include <QInputDialog>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QStatusBar>
#include <QTabBar>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QToolButton>
#include <QTreeWidget>
#include <unistd.h>

using namespace tcpscope;
using Col = ConnectionTableModel;

namespace {

constexpr qint64 kStart = 1'700'000'000'000'000'000;

QSet<qint64> shownIds(const MainWindow &w)
{
    const auto &ids = w.connectionModel()->ids();
    return QSet<qint64>(ids.cbegin(), ids.cend());
}

// Right-clicks the point in the view's viewport and triggers the menu action named action
// (an objectName in views/context_menus.cpp). False when no menu opened or the action is
// missing or disabled.
bool rightClick(QWidget *viewport, QPoint pos, const QString &action)
{
    QTest::mouseClick(viewport, Qt::RightButton, {}, pos);
    auto *menu = qobject_cast<QMenu *>(QApplication::activePopupWidget());
    if (!menu) {
        // Platforms that open context menus on press only: send the event they would.
        QContextMenuEvent event(QContextMenuEvent::Mouse, pos, viewport->mapToGlobal(pos));
        QApplication::sendEvent(viewport, &event);
        menu = qobject_cast<QMenu *>(QApplication::activePopupWidget());
    }
    if (!menu)
        return false;
    auto *a = menu->findChild<QAction *>(action);
    const bool ok = a && a->isEnabled();
    menu->close();
    if (ok)
        a->trigger();
    return ok;
}

QPoint cellCenter(QAbstractItemView *view, int row, int column)
{
    view->scrollTo(view->model()->index(row, column));
    return view->visualRect(view->model()->index(row, column)).center();
}

} // namespace

class TestFilterGui : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    QString m_fixture; // six connections (tests/gui/session_fixture.h), 2 and 3 a loopback pair
    QString m_packets; // a loopback pair with a lossy transfer each way
    QVector<Packet> m_packetList;

    void open(MainWindow &w, const QString &path)
    {
        w.setInteractiveErrors(false);
        w.resize(1600, 1000);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QVERIFY(w.openSession(path));
    }

    int rowOf(const MainWindow &w, qint64 id) { return w.connectionModel()->rowForId(id); }

private slots:
    void initTestCase()
    {
        QSettings().clear();
        QVERIFY(m_dir.isValid());
        m_fixture = m_dir.filePath(QStringLiteral("fixture.tcpscope"));
        testing::FixtureFacts facts;
        QString error;
        QVERIFY2(testing::writeFixtureSession(m_fixture, &facts, &error), qPrintable(error));

        m_packets = m_dir.filePath(QStringLiteral("packets.tcpscope"));
        auto writer = SessionWriter::create(m_packets, &error);
        QVERIFY2(writer, qPrintable(error));
        SessionInfo info;
        info.startedNs = kStart;
        info.packetsCaptured = true;
        writer->setInfo(info);
        for (qint64 id : {1, 2}) {
            Connection c;
            c.id = id;
            c.pid = id == 1 ? 200 : 100;
            c.comm = id == 1 ? QStringLiteral("curl") : QStringLiteral("nginx");
            c.localAddr = c.remoteAddr = test::ip(QStringLiteral("127.0.0.1"));
            c.localPort = id == 1 ? 40001 : 8080;
            c.remotePort = id == 1 ? 8080 : 40001;
            c.role = id == 1 ? ConnectionRole::Client : ConnectionRole::Server;
            c.state = TcpState::Established;
            c.startNs = kStart + id;
            writer->writeConnection(c);
        }
        m_packetList = testing::lossyTransferPackets(1, kStart, 1);
        m_packetList += testing::lossyTransferPackets(2, kStart + 100'000'000, 101);
        writer->writePackets(m_packetList);
        writer->flush();
        writer->close();
    }

    void invalidExpressionIsRedWithTheMessage()
    {
        MainWindow w;
        open(w, m_fixture);
        QLineEdit *edit = w.filterEdit();
        edit->setFocus();
        QTest::keyClicks(edit, QStringLiteral("tcp.prot == 80"));
        QCOMPARE(w.filterBar()->parsed().kind, ParsedFilter::Invalid);
        const QColor base = edit->palette().color(QPalette::Base);
        QVERIFY2(base.red() > 0xf0 && base.green() < 0xc0, qPrintable(base.name()));
        QVERIFY2(
            edit->toolTip().contains(QStringLiteral("unknown field &#x27;tcp.prot&#x27; at 1")) ||
                edit->toolTip().contains(QStringLiteral("unknown field 'tcp.prot' at 1")),
            qPrintable(edit->toolTip()));
        QVERIFY2(edit->toolTip().contains(QStringLiteral("did you mean tcp.port")),
                 qPrintable(edit->toolTip()));
        QVERIFY2(w.statusBar()->currentMessage().startsWith(QStringLiteral("Invalid filter: ")),
                 qPrintable(w.statusBar()->currentMessage()));
        // Not applied, with Enter neither: all rows stay.
        QTest::keyClick(edit, Qt::Key_Return);
        QTest::qWait(FilterBar::kTypingDelayMs + 100);
        QCOMPARE(w.connectionModel()->rowCount(), 6);
        // A packet field in the connection filter says so.
        edit->clear();
        QTest::keyClicks(edit, QStringLiteral("tcp.len > 0"));
        QCOMPARE(w.filterBar()->parsed().kind, ParsedFilter::Invalid);
        QVERIFY2(w.filterBar()->message().contains(QStringLiteral("packet field")),
                 qPrintable(w.filterBar()->message()));
        QCOMPARE(w.connectionModel()->rowCount(), 6);
    }

    void validExpressionFiltersTheTable()
    {
        MainWindow w;
        open(w, m_fixture);
        QLineEdit *edit = w.filterEdit();
        edit->setFocus();
        QTest::keyClicks(edit, QStringLiteral("proc.name == \"curl\""));
        QCOMPARE(w.filterBar()->parsed().kind, ParsedFilter::Expression);
        const QColor base = edit->palette().color(QPalette::Base);
        QVERIFY2(base.green() > 0xf0 && base.red() < 0xc0, qPrintable(base.name()));
        QTest::keyClick(edit, Qt::Key_Return);
        QCOMPARE(shownIds(w), (QSet<qint64>{2, 4}));
        QCOMPARE(w.timeline()->barCount(), 2);
        QCOMPARE(w.filterBar()->history().value(0), QStringLiteral("proc.name == \"curl\""));
        // Connection fields: states, roles, close reasons, ports, address ranges.
        const QList<QPair<QString, QSet<qint64>>> cases = {
            {QStringLiteral("conn.close_reason == refused"), {4}},
            {QStringLiteral("conn.role == listener || conn.state == ESTABLISHED"), {1, 5}},
            {QStringLiteral("ip.addr == 10.0.0.0/8"), {6}},
            {QStringLiteral("tcp.port == 8080 && !(proc.name == \"nginx\")"), {2}},
            {QStringLiteral("ipv6.addr"), {5}},
        };
        for (const auto &[text, ids] : cases) {
            edit->selectAll();
            QTest::keyClicks(edit, text);
            QTest::keyClick(edit, Qt::Key_Return);
            QVERIFY2(shownIds(w) == ids, qPrintable(text));
        }
        // Typing alone applies after a pause.
        edit->selectAll();
        QTest::keyClicks(edit, QStringLiteral("conn.id <= 2"));
        QTRY_COMPARE(shownIds(w), (QSet<qint64>{1, 2}));
        // The clear button shows everything again.
        edit->clear();
        QCOMPARE(w.connectionModel()->rowCount(), 6);
    }

    void completesFieldNames()
    {
        MainWindow w;
        open(w, m_fixture);
        QLineEdit *edit = w.filterEdit();
        edit->setFocus();
        QTest::keyClicks(edit, QStringLiteral("conn.id == 2 && proc.na"));
        QCompleter *completer = w.filterBar()->completer();
        QTRY_VERIFY(completer->popup()->isVisible());
        QCOMPARE(completer->currentCompletion(), QStringLiteral("proc.name"));
        // It stays open through the pause in typing that applies a filter.
        QTest::qWait(FilterBar::kTypingDelayMs + 100);
        QVERIFY(completer->popup()->isVisible());
        // Only connection fields in the connection filter.
        completer->setCompletionPrefix(QStringLiteral("tcp."));
        QCOMPARE(completer->currentCompletion(), QStringLiteral("tcp.port"));
        QCOMPARE(completer->completionCount(), 1);
        completer->setCompletionPrefix(QStringLiteral("proc.na"));
        QTest::keyClick(completer->popup(), Qt::Key_Down);
        QTest::keyClick(completer->popup(), Qt::Key_Return);
        QCOMPARE(edit->text(), QStringLiteral("conn.id == 2 && proc.name"));
        QVERIFY(!completer->popup()->isVisible());
    }

    void historyAndSavedButtonsPersist()
    {
        QSettings().remove(QStringLiteral("filters"));
        {
            MainWindow w;
            open(w, m_fixture);
            w.filterBar()->applyText(QStringLiteral("conn.id == 1"));
            w.filterBar()->applyText(QStringLiteral("conn.id == 2"));
            w.filterBar()->applyText(QStringLiteral("conn.id == 1"));
            QCOMPARE(w.filterBar()->history(),
                     (QStringList{QStringLiteral("conn.id == 1"), QStringLiteral("conn.id == 2")}));
            w.filterBar()->addSavedFilter(QStringLiteral("refused"),
                                          QStringLiteral("conn.close_reason == refused"));
        }
        MainWindow w;
        open(w, m_fixture);
        QCOMPARE(w.filterBar()->history().size(), 2);
        QCOMPARE(w.filterBar()->savedButtons().size(), 1);
        QToolButton *button = w.filterBar()->savedButtons().first();
        QCOMPARE(button->text(), QStringLiteral("refused"));
        QTest::mouseClick(button, Qt::LeftButton);
        QCOMPARE(w.filterEdit()->text(), QStringLiteral("conn.close_reason == refused"));
        QCOMPARE(shownIds(w), (QSet<qint64>{4}));
        // The packet box keeps its own.
        QCOMPARE(w.inspector()->packetsPanel()->filterBar()->savedButtons().size(), 0);
        w.filterBar()->removeSavedFilter(0);
        QCOMPARE(w.filterBar()->savedFilters().size(), 0);
    }

    void rightClickAppliesACellAsFilter()
    {
        MainWindow w;
        open(w, m_fixture);
        ConnectionTableView *table = w.tableView();
        QVERIFY(rightClick(table->viewport(),
                           cellCenter(table, rowOf(w, 2), Col::column("process")),
                           QStringLiteral("applySelected")));
        QCOMPARE(w.filterEdit()->text(), QStringLiteral("proc.name == \"curl\""));
        QCOMPARE(shownIds(w), (QSet<qint64>{2, 4}));
        // …and Selected on the remote end of connection 2.
        QVERIFY(rightClick(table->viewport(), cellCenter(table, rowOf(w, 2), Col::column("remote")),
                           QStringLiteral("applyAndSelected")));
        QCOMPARE(w.filterEdit()->text(),
                 QStringLiteral("proc.name == \"curl\" && conn.remote_addr == 127.0.0.1 && "
                                "conn.remote_port == 8080"));
        QCOMPARE(shownIds(w), (QSet<qint64>{2}));
        // Not Selected on its state; …or Selected brings another back.
        QVERIFY(rightClick(table->viewport(), cellCenter(table, rowOf(w, 2), Col::column("state")),
                           QStringLiteral("applyNotSelected")));
        QCOMPARE(w.filterEdit()->text(), QStringLiteral("!(conn.state == CLOSE)"));
        QCOMPARE(shownIds(w), (QSet<qint64>{1, 5}));
        QVERIFY(rightClick(table->viewport(), cellCenter(table, rowOf(w, 5), Col::column("family")),
                           QStringLiteral("applyAndNotSelected")));
        QCOMPARE(w.filterEdit()->text(), QStringLiteral("!(conn.state == CLOSE) && !ipv6.addr"));
        QCOMPARE(shownIds(w), (QSet<qint64>{1}));
        // Prepare puts it in the box only.
        QVERIFY(rightClick(table->viewport(), cellCenter(table, rowOf(w, 1), Col::column("pid")),
                           QStringLiteral("prepareOrSelected")));
        QCOMPARE(w.filterEdit()->text(),
                 QStringLiteral("!(conn.state == CLOSE) && !ipv6.addr || proc.pid == 100"));
        QCOMPARE(shownIds(w), (QSet<qint64>{1}));
        QTest::keyClick(w.filterEdit(), Qt::Key_Return);
        QCOMPARE(shownIds(w), (QSet<qint64>{1, 3}));
        // A column without a filter field offers no filter.
        QVERIFY(!rightClick(table->viewport(), cellCenter(table, rowOf(w, 1), Col::column("start")),
                            QStringLiteral("applySelected")));
    }

    void peerColumnAndGoToPeer()
    {
        MainWindow w;
        open(w, m_fixture);
        QTRY_VERIFY(w.connectionModel()->peersReady());
        auto peerCell = [&](qint64 id) {
            return w.connectionModel()->index(rowOf(w, id), Col::column("peer")).data().toString();
        };
        QCOMPARE(peerCell(2), QStringLiteral("3"));
        QCOMPARE(peerCell(3), QStringLiteral("2"));
        QCOMPARE(peerCell(1), QString()); // the listener
        QCOMPARE(peerCell(4), QString()); // refused: nobody answered
        QCOMPARE(peerCell(6), QString()); // the other end is another machine
        ConnectionTableView *table = w.tableView();
        QVERIFY(rightClick(table->viewport(),
                           cellCenter(table, rowOf(w, 2), Col::column("process")),
                           QStringLiteral("goToPeer")));
        QCOMPARE(table->currentConnectionId(), 3);
        QCOMPARE(table->selectedConnectionIds(), (QVector<qint64>{3}));
        QVERIFY(rightClick(table->viewport(), cellCenter(table, rowOf(w, 3), Col::column("local")),
                           QStringLiteral("goToPeer")));
        QCOMPARE(table->currentConnectionId(), 2);
        QVERIFY(!rightClick(table->viewport(), cellCenter(table, rowOf(w, 6), Col::column("local")),
                            QStringLiteral("goToPeer")));
        // Hidden by the filter: the status bar says so.
        w.setFilterText(QStringLiteral("proc.name == \"curl\""));
        QVERIFY(!w.contextMenus()->goToPeer(2));
        QVERIFY2(w.statusBar()->currentMessage().contains(QStringLiteral("hidden by the filter")),
                 qPrintable(w.statusBar()->currentMessage()));
    }

    void rowActionsSwitchTabs()
    {
        MainWindow w;
        open(w, m_fixture);
        ConnectionTableView *table = w.tableView();
        QVERIFY(rightClick(table->viewport(), cellCenter(table, rowOf(w, 6), Col::column("id")),
                           QStringLiteral("kernelMetrics")));
        QCOMPARE(table->currentConnectionId(), 6);
        QCOMPARE(w.lowerTabs()->currentWidget(), static_cast<QWidget *>(w.detailView()));
        QVERIFY(rightClick(table->viewport(), cellCenter(table, rowOf(w, 2), Col::column("id")),
                           QStringLiteral("sequenceGraph")));
        QCOMPARE(table->currentConnectionId(), 2);
        QCOMPARE(w.lowerTabs()->currentWidget(), static_cast<QWidget *>(w.inspector()));
        QCOMPARE(w.inspector()->tabs()->currentIndex(), 1);
        QVERIFY(rightClick(table->viewport(), cellCenter(table, rowOf(w, 4), Col::column("id")),
                           QStringLiteral("showPackets")));
        QCOMPARE(table->currentConnectionId(), 4);
        QCOMPARE(w.inspector()->tabs()->currentIndex(), 0);
    }

    void copyPutsTextOnTheClipboard()
    {
        MainWindow w;
        open(w, m_fixture);
        ConnectionTableView *table = w.tableView();
        const QPoint process = cellCenter(table, rowOf(w, 2), Col::column("process"));
        QVERIFY(rightClick(table->viewport(), process, QStringLiteral("copyValue")));
        QCOMPARE(QApplication::clipboard()->text(), QStringLiteral("curl"));
        QVERIFY(rightClick(table->viewport(), process, QStringLiteral("copyFilter")));
        QCOMPARE(QApplication::clipboard()->text(), QStringLiteral("proc.name == \"curl\""));
        QVERIFY(rightClick(table->viewport(), process, QStringLiteral("copyRow")));
        const QStringList row = QApplication::clipboard()->text().split(QLatin1Char('\t'));
        QCOMPARE(row.value(Col::column("id")), QStringLiteral("2"));
        QCOMPARE(row.value(Col::column("process")), QStringLiteral("curl"));
        QCOMPARE(row.value(Col::column("local")), QStringLiteral("127.0.0.1:40001"));
        QCOMPARE(row.value(Col::column("peer")), QStringLiteral("3"));
        QVERIFY(rightClick(table->viewport(), process, QStringLiteral("copyCsv")));
        const QStringList csv = QApplication::clipboard()->text().split(QLatin1Char('\n'));
        QCOMPARE(csv.size(), 2);
        QVERIFY2(csv[0].startsWith(QStringLiteral("\"ID\",\"Process\",\"PID\"")),
                 qPrintable(csv[0]));
        QVERIFY2(csv[1].startsWith(QStringLiteral("\"2\",\"curl\",\"200\"")), qPrintable(csv[1]));
    }

    void packetFilterAndItsMenus()
    {
        MainWindow w;
        open(w, m_packets);
        PacketsPanel *panel = w.inspector()->packetsPanel();
        PacketTableModel *model = panel->model();
        QTRY_COMPARE(model->rowCount(), int(m_packetList.size()));
        auto count = [&](auto pred) {
            return int(std::count_if(m_packetList.cbegin(), m_packetList.cend(), pred));
        };
        QLineEdit *edit = panel->filterEdit();
        edit->setFocus();
        QTest::keyClicks(edit, QStringLiteral("tcp.analysis.retransmission"));
        QTest::keyClick(edit, Qt::Key_Return);
        const int retrans =
            count([](const Packet &p) { return (p.analysis & AnalysisRetransmission) != 0; });
        QVERIFY(retrans > 0);
        QCOMPARE(model->rowCount(), retrans);
        edit->selectAll();
        QTest::keyClicks(edit, QStringLiteral("tcp.len > 0 && proc.name == \"nginx\""));
        QTest::keyClick(edit, Qt::Key_Return);
        QCOMPARE(model->rowCount(),
                 count([](const Packet &p) { return p.payloadLen > 0 && p.connectionId == 2; }));
        // Invalid: red, the list keeps the last filter.
        edit->selectAll();
        QTest::keyClicks(edit, QStringLiteral("tcp.len >"));
        QCOMPARE(panel->filterBar()->parsed().kind, ParsedFilter::Invalid);
        QVERIFY2(w.statusBar()->currentMessage().contains(QStringLiteral("at 10")),
                 qPrintable(w.statusBar()->currentMessage()));
        edit->clear();
        QCOMPARE(model->rowCount(), int(m_packetList.size()));

        // Right-click the Flags cell of the first SYN: Apply as Filter selects the SYNs.
        QTableView *view = panel->view();
        QVERIFY(rightClick(view->viewport(), cellCenter(view, 0, PacketTableModel::ColFlags),
                           QStringLiteral("applySelected")));
        QCOMPARE(edit->text(), QStringLiteral("tcp.flags == 0x02"));
        QCOMPARE(model->rowCount(),
                 count([](const Packet &p) { return p.tcpFlags == TS_TCP_SYN; }));
        // The details tree of the selected packet: Source port → tcp.srcport.
        view->selectionModel()->setCurrentIndex(
            model->index(0, 0), QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
        PacketDetailsView *details = w.inspector()->detailsView();
        QTRY_VERIFY(details->packetId() > 0);
        QTreeWidgetItem *srcPort = nullptr;
        for (QTreeWidgetItem *item : details->findItems(QStringLiteral("Source port: "),
                                                        Qt::MatchStartsWith | Qt::MatchRecursive))
            srcPort = item;
        QVERIFY(srcPort);
        details->expandAll();
        details->scrollToItem(srcPort);
        const QPoint at = details->visualItemRect(srcPort).center();
        const QString port = srcPort->text(0).section(QLatin1Char(' '), -1);
        QVERIFY(rightClick(details->viewport(), at, QStringLiteral("copyValue")));
        QCOMPARE(QApplication::clipboard()->text(), port);
        // Applying refilters the list, which replaces the tree.
        QVERIFY(rightClick(details->viewport(), at, QStringLiteral("applyAndSelected")));
        QCOMPARE(edit->text(), QStringLiteral("tcp.flags == 0x02 && tcp.srcport == %1").arg(port));
        QCOMPARE(model->rowCount(), count([&](const Packet &p) {
                     return p.tcpFlags == TS_TCP_SYN && QString::number(p.srcPort) == port;
                 }));
        QVERIFY(model->rowCount() > 0);
    }

    // The Endpoints tab: rows are the session's groups; double-click and the context menu
    // filter the connection table on a row's connections; "Limit to display filter" groups only
    // what the table shows; the search box narrows the rows.
    void endpointsFilterTheTable()
    {
        MainWindow w;
        open(w, m_fixture);
        EndpointsView *ep = w.endpoints();
        w.lowerTabs()->setCurrentWidget(ep);
        ep->setGrouping(EndpointGrouping::Process);
        ep->recomputeNow();
        const EndpointTable expected = computeEndpoints(*w.session(), EndpointGrouping::Process);
        QCOMPARE(ep->model()->rowCount(), int(expected.rows.size()));
        QVERIFY(expected.rows.size() >= 2);
        auto rowOfKey = [ep](const QString &key) {
            for (int row = 0; row < ep->proxy()->rowCount(); ++row)
                if (ep->endpointAt(row)->key == key)
                    return row;
            return -1;
        };
        const int curl = rowOfKey(QStringLiteral("curl"));
        QVERIFY(curl >= 0);
        QCOMPARE(ep->endpointAt(curl)->connections, qint64(2));

        // A double-click is a press and release, then the second press (QTest sends only that).
        const QPoint cell = cellCenter(ep->view(), curl, EndpointTableModel::ColKey);
        QTest::mouseClick(ep->view()->viewport(), Qt::LeftButton, {}, cell);
        QTest::mouseDClick(ep->view()->viewport(), Qt::LeftButton, {}, cell);
        QCOMPARE(w.filterEdit()->text(), QStringLiteral("proc.name == \"curl\""));
        QCOMPARE(shownIds(w), (QSet<qint64>{2, 4}));

        // Limited to the display filter: only curl's group is left.
        ep->limitToFilter()->setChecked(true);
        ep->recomputeNow();
        QCOMPARE(ep->model()->rowCount(), 1);
        QCOMPARE(ep->endpointAt(0)->key, QStringLiteral("curl"));
        ep->limitToFilter()->setChecked(false);
        ep->recomputeNow();
        QCOMPARE(ep->model()->rowCount(), int(expected.rows.size()));

        // Right-click ▸ Apply as Filter ▸ Not Selected on curl's row.
        QVERIFY(rightClick(ep->view()->viewport(),
                           cellCenter(ep->view(), rowOfKey(QStringLiteral("curl")),
                                      EndpointTableModel::ColConnections),
                           QStringLiteral("applyNotSelected")));
        QCOMPARE(w.filterEdit()->text(), QStringLiteral("!(proc.name == \"curl\")"));
        QVERIFY(!shownIds(w).contains(2) && !shownIds(w).contains(4));
        QCOMPARE(qint64(shownIds(w).size()), w.connectionModel()->totalCount() - 2);

        // Ports: a server socket is grouped by the port it serves.
        ep->setGrouping(EndpointGrouping::Port);
        ep->recomputeNow();
        const EndpointTable ports = computeEndpoints(*w.session(), EndpointGrouping::Port);
        QCOMPARE(ep->model()->rowCount(), int(ports.rows.size()));
        QVERIFY(!ep->view()->isColumnHidden(EndpointTableModel::ColSide));
        // The search box keeps the rows whose key contains the text.
        const QString key = ports.rows.first().key;
        QTest::keyClicks(ep->search(), key);
        QVERIFY(ep->proxy()->rowCount() >= 1);
        for (int row = 0; row < ep->proxy()->rowCount(); ++row)
            QVERIFY(ep->endpointAt(row)->key.contains(key));
        QVERIFY(ep->summary()->text().contains(QLatin1String("shown")));
    }

    // A session replaced while its endpoints are grouped: that table is dropped, never shown.
    void endpointsOfAReplacedSessionAreDropped()
    {
        EndpointsView ep;
        ep.setVisible(true); // show(EndpointTable) hides QWidget::show
        QVERIFY(QTest::qWaitForWindowExposed(&ep));
        QString error;
        std::shared_ptr<const Session> session = Session::open(m_fixture, &error);
        QVERIFY2(session, qPrintable(error));
        QSignalSpy computed(&ep, &EndpointsView::computed);
        ep.setSession(session); // visible: grouped on the worker at once
        ep.setSession(nullptr);
        QVERIFY(!computed.wait(1000));
        QCOMPARE(ep.model()->rowCount(), 0);
        ep.setSession(session);
        ep.recomputeNow();
        QCOMPARE(ep.model()->rowCount(),
                 int(computeEndpoints(*session, ep.grouping()).rows.size()));
        QVERIFY(ep.model()->rowCount() > 0);
    }

    // File ▸ Save View keeps the filters, selection, tabs, sort and zoom in the file; reopening
    // shows the same. Save As carries the view into the copy.
    void savedViewReopensTheSame()
    {
        const QString file = m_dir.filePath(QStringLiteral("view.tcpscope"));
        QFile::remove(file);
        QVERIFY(QFile::copy(m_fixture, file));
        QVERIFY(QFile::setPermissions(file, QFile::ReadOwner | QFile::WriteOwner));
        const QString copy = m_dir.filePath(QStringLiteral("view-copy.tcpscope"));
        QFile::remove(copy);
        QCPRange zoom;
        {
            MainWindow w;
            open(w, file);
            w.filterBar()->applyText(QStringLiteral("proc.name == \"curl\""));
            QCOMPARE(shownIds(w), (QSet<qint64>{2, 4}));
            w.tableView()->sortByColumn(Col::column("pid"), Qt::DescendingOrder);
            QVERIFY(w.tableView()->selectConnection(4));
            w.lowerTabs()->setCurrentWidget(w.endpoints());
            w.endpoints()->setGrouping(EndpointGrouping::Port);
            w.inspector()->packetsPanel()->filterBar()->applyText(QStringLiteral("tcp.len > 0"));
            w.timeline()->xAxis->setRange(0.25, 1.5);
            zoom = w.timeline()->xAxis->range();
            QVERIFY(w.saveView());
            QVERIFY(w.saveSessionAs(copy));
            // Unchanged since the save: closing asks nothing (and closes).
        }
        for (const QString &path : {file, copy}) {
            MainWindow w;
            open(w, path);
            QCOMPARE(w.filterEdit()->text(), QStringLiteral("proc.name == \"curl\""));
            QCOMPARE(shownIds(w), (QSet<qint64>{2, 4}));
            QCOMPARE(w.tableView()->currentConnectionId(), qint64(4));
            QCOMPARE(w.tableView()->horizontalHeader()->sortIndicatorSection(), Col::column("pid"));
            QCOMPARE(w.tableView()->horizontalHeader()->sortIndicatorOrder(), Qt::DescendingOrder);
            QCOMPARE(w.connectionModel()->idAt(0), qint64(4)); // pid 103 before pid 101
            QCOMPARE(w.lowerTabs()->currentWidget(), static_cast<QWidget *>(w.endpoints()));
            QCOMPARE(w.endpoints()->grouping(), EndpointGrouping::Port);
            QCOMPARE(w.inspector()->packetsPanel()->filterBar()->edit()->text(),
                     QStringLiteral("tcp.len > 0"));
            QCOMPARE(w.timeline()->xAxis->range().lower, zoom.lower);
            QCOMPARE(w.timeline()->xAxis->range().upper, zoom.upper);
        }
        // A file that cannot keep it (read-only) says why and stays as it was.
        QVERIFY(QFile::setPermissions(file, QFile::ReadOwner));
        MainWindow w;
        open(w, file);
        QSignalSpy errors(&w, &MainWindow::errorOccurred);
        QVERIFY(!w.saveView());
        QCOMPARE(errors.size(), 1);
        QVERIFY2(errors.first().first().toString().contains(QLatin1String("not writable")),
                 qPrintable(errors.first().first().toString()));
    }

    // Notes: right-click ▸ Add Annotation… on a connection and on a packet, a note on the visible
    // time; listed, marked on the timeline, kept by Save View, back on reopen; Go To, Delete.
    void annotationsAreKeptAndShown()
    {
        const QString file = m_dir.filePath(QStringLiteral("notes.tcpscope"));
        QFile::remove(file);
        QVERIFY(QFile::copy(m_packets, file));
        QVERIFY(QFile::setPermissions(file, QFile::ReadOwner | QFile::WriteOwner));
        auto answer = [](MainWindow &w, const QString &text) {
            // The open one (an answered dialog lingers until its deferred delete).
            QInputDialog *dialog = nullptr;
            for (auto *d : w.findChildren<QInputDialog *>(QStringLiteral("annotationDialog")))
                if (d->isVisible())
                    dialog = d;
            QVERIFY(dialog);
            dialog->setTextValue(text);
            dialog->accept();
        };
        {
            MainWindow w;
            open(w, file);
            ConnectionTableView *table = w.tableView();
            const qint64 id = w.connectionModel()->idAt(0);
            QVERIFY(rightClick(table->viewport(),
                               cellCenter(table, rowOf(w, id), Col::column("process")),
                               QStringLiteral("addAnnotation")));
            answer(w, QStringLiteral("the stall starts here"));
            QCOMPARE(w.annotations().size(), 1);
            QCOMPARE(w.annotations().first().connectionId, id);
            QVERIFY(w.annotations().first().startNs > 0);
            QVERIFY(!w.annotations().first().author.isEmpty());

            // On a packet of that connection (the packet list shows the selected one's).
            QVERIFY(table->selectConnection(id));
            PacketsPanel *panel = w.inspector()->packetsPanel();
            QTRY_VERIFY(panel->model()->rowCount() > 1);
            const qint64 packetId = panel->model()->packetAt(1).id;
            QVERIFY(rightClick(panel->view()->viewport(), cellCenter(panel->view(), 1, 0),
                               QStringLiteral("addAnnotation")));
            answer(w, QStringLiteral("retransmitted\nsecond line"));
            QCOMPARE(w.annotations().size(), 2);
            QCOMPARE(w.annotations().at(1).packetId, packetId);
            QCOMPARE(w.annotations().at(1).connectionId, id);

            // On the visible time range, from the Annotations tab.
            w.lowerTabs()->setCurrentWidget(w.annotationsView());
            w.timeline()->xAxis->setRange(0.5, 2.5);
            w.annotationsView()->addRangeButton()->click();
            answer(w, QStringLiteral("deploy"));
            QCOMPARE(w.annotations().size(), 3);
            QVERIFY(w.annotations().at(2).endNs > w.annotations().at(2).startNs);
            QCOMPARE(w.annotationsView()->tree()->topLevelItemCount(), 3);
            QVERIFY(w.timeline()->annotationMarkCount() >= 3 * 2); // line + label each, a band
            // An empty note is no note.
            w.annotationsView()->addRangeButton()->click();
            answer(w, QStringLiteral("   "));
            QCOMPARE(w.annotations().size(), 3);
            QVERIFY(w.saveView());
        }
        MainWindow w;
        open(w, file);
        QCOMPARE(w.annotations().size(), 3);
        QCOMPARE(w.annotations().at(0).text, QStringLiteral("the stall starts here"));
        QCOMPARE(w.annotations().at(1).text, QStringLiteral("retransmitted\nsecond line"));
        QCOMPARE(w.annotationsView()->tree()->topLevelItemCount(), 3);
        QVERIFY(w.timeline()->annotationMarkCount() >= 6);
        QCOMPARE(w.lowerTabs()->currentWidget(), static_cast<QWidget *>(w.annotationsView()));
        // Go To: the packet's connection and the packet.
        w.goToAnnotation(1);
        QCOMPARE(w.tableView()->currentConnectionId(), w.annotations().at(1).connectionId);
        QTRY_COMPARE(w.inspector()->packetsPanel()->currentPacketId(),
                     w.annotations().at(1).packetId);
        // Go To on the range zooms the timeline to it.
        w.goToAnnotation(2);
        const Annotation &range = w.annotations().at(2);
        QVERIFY(qAbs(w.timeline()->xAxis->range().lower -
                     double(range.startNs - w.timeline()->originNs()) / 1e9) < 1e-6);
        w.removeAnnotation(0);
        QCOMPARE(w.annotations().size(), 2);
        QCOMPARE(w.annotationsView()->tree()->topLevelItemCount(), 2);
    }
};

QTEST_MAIN(TestFilterGui)
#include "test_filter_gui.moc"
