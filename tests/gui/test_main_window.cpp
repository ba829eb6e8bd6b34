// SPDX-License-Identifier: GPL-3.0-or-later
// The main window on a real session file: table contents, timeline bars, click-to-select in
// both directions, the word filter, Save As, the lost-records indicator and bad files.
#include "charts/timeline_widget.h"
#include "main_window.h"
#include "models/connection_table_model.h"
#include "session/session_writer.h"
#include "session_fixture.h"
#include "views/connection_table_view.h"

#include <QFile>
#include <QIcon>
#include <QImage>
#include <QLabel>
#include <QLineEdit>
#include <QSettings>
#include <QSignalSpy>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>

// Q_INIT_RESOURCE must be used outside any namespace.
static void initAppResources()
{
    Q_INIT_RESOURCE(tcpscope);
}

using namespace tcpscope;
using Col = ConnectionTableModel;

class TestMainWindow : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    QString m_session;
    testing::FixtureFacts m_facts;

    static int proxyRowOfId(const MainWindow &w, qint64 id)
    {
        const QAbstractItemModel *m = w.connectionModel();
        for (int r = 0; r < m->rowCount(); ++r)
            if (m->index(r, 0).data(Col::ConnectionIdRole).toLongLong() == id)
                return r;
        return -1;
    }
    static QString cell(const MainWindow &w, qint64 id, int col)
    {
        return w.connectionModel()->index(proxyRowOfId(w, id), col).data().toString();
    }
    static qint64 selectedId(const MainWindow &w)
    {
        const QModelIndexList rows = w.tableView()->selectionModel()->selectedRows();
        return rows.size() == 1 ? rows.first().data(Col::ConnectionIdRole).toLongLong() : -1;
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_session = m_dir.filePath(QStringLiteral("fixture.tcpscope"));
        QString error;
        QVERIFY2(testing::writeFixtureSession(m_session, &m_facts, &error), qPrintable(error));
    }

    void opensSessionIntoTableAndTimeline()
    {
        MainWindow w;
        w.setInteractiveErrors(false);
        w.resize(1400, 900);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QSignalSpy opened(&w, &MainWindow::sessionOpened);
        QVERIFY(w.openSession(m_session));
        QCOMPARE(opened.count(), 1);
        QVERIFY(w.windowTitle().contains(QStringLiteral("fixture.tcpscope")));

        QCOMPARE(w.tableView()->model()->rowCount(), m_facts.connections);
        QCOMPARE(w.connectionModel()->rowCount(), 6);
        // Client side of the loopback request.
        QCOMPARE(cell(w, 2, Col::column("process")), QStringLiteral("curl"));
        QCOMPARE(cell(w, 2, Col::column("pid")), QStringLiteral("200"));
        QCOMPARE(cell(w, 2, Col::column("role")), QStringLiteral("client"));
        QCOMPARE(cell(w, 2, Col::column("local")), QStringLiteral("127.0.0.1:40001"));
        QCOMPARE(cell(w, 2, Col::column("remote")), QStringLiteral("127.0.0.1:8080"));
        QCOMPARE(cell(w, 2, Col::column("close_reason")), QStringLiteral("fin"));
        QCOMPARE(cell(w, 2, Col::column("sent")), QStringLiteral("4.00 KiB"));
        QCOMPARE(cell(w, 2, Col::column("retrans")), QStringLiteral("1"));
        QCOMPARE(cell(w, 2, Col::column("states")),
                 QStringLiteral("SYN_SENT>ESTABLISHED>FIN_WAIT1>FIN_WAIT2>TIME_WAIT>CLOSE"));
        QCOMPARE(cell(w, 2, Col::column("duration")), QStringLiteral("800 ms"));
        // The accepted socket belongs to the server.
        QCOMPARE(cell(w, 3, Col::column("process")), QStringLiteral("nginx"));
        QCOMPARE(cell(w, 3, Col::column("role")), QStringLiteral("server"));
        QCOMPARE(cell(w, 1, Col::column("role")), QStringLiteral("listener"));
        QCOMPARE(cell(w, 1, Col::column("state")), QStringLiteral("LISTEN"));
        QCOMPARE(cell(w, 4, Col::column("close_reason")), QStringLiteral("refused"));
        QCOMPARE(cell(w, 5, Col::column("family")), QStringLiteral("IPv6"));
        QCOMPARE(cell(w, 5, Col::column("remote")), QStringLiteral("[2001:db8::1]:443"));
        QCOMPARE(cell(w, 5, Col::column("close_reason")), QStringLiteral("open"));
        QCOMPARE(cell(w, 6, Col::column("close_reason")), QStringLiteral("rst"));

        TimelineWidget *tl = w.timeline();
        QCOMPARE(tl->barCount(), m_facts.connections);
        QCOMPARE(tl->segmentCount(), m_facts.segments);
        // Open connections extend to the end of the session.
        const TimelineRow &listener = tl->layout().rows.at(tl->layout().rowOf(1));
        QCOMPARE(listener.x1, double(m_facts.stoppedNs - m_facts.startedNs) / 1e9);

        // Lost records are shown, and stand out.
        QCOMPARE(w.lostLabel()->text(), QStringLiteral("3 records lost"));
        QVERIFY(w.lostLabel()->styleSheet().contains(QStringLiteral("background")));
    }

    void clickingBarSelectsRowAndBack()
    {
        MainWindow w;
        w.setInteractiveErrors(false);
        w.resize(1400, 900);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QVERIFY(w.openSession(m_session));
        TimelineWidget *tl = w.timeline();
        tl->replot(); // lay out axes so pixel positions are final

        // The refused connection is a sub-millisecond sliver in a 3 s session: still clickable.
        for (qint64 id : {qint64(4), qint64(5), qint64(2)}) {
            const QPoint p = tl->barCenter(id);
            QVERIFY2(p.x() >= 0, qPrintable(QStringLiteral("bar %1 not visible").arg(id)));
            // Independently of barCenter: the pixel maps back to this bar's row and time span.
            const TimelineRow &row = tl->layout().rows.at(tl->layout().rowOf(id));
            QCOMPARE(qRound(tl->yAxis->pixelToCoord(p.y())), tl->layout().rowOf(id));
            QVERIFY(tl->xAxis->pixelToCoord(p.x()) >= row.x0 - 0.01 &&
                    tl->xAxis->pixelToCoord(p.x()) <= row.x1 + 0.01);
            QTest::mouseClick(tl, Qt::LeftButton, {}, p);
            QCOMPARE(selectedId(w), id);
            QCOMPARE(tl->selectedId(), id);
        }

        // Hovering names the connection, the state under the cursor and its time range.
        const QString tip = tl->toolTipAt(tl->barCenter(5));
        QVERIFY2(tip.contains(QStringLiteral("wget")) &&
                     tip.contains(QStringLiteral("[2001:db8::1]:443")),
                 qPrintable(tip));
        QVERIFY2(tip.contains(QStringLiteral("ESTABLISHED")) &&
                     tip.contains(QStringLiteral("still open")),
                 qPrintable(tip));
        QVERIFY(tl->toolTipAt(QPoint(tl->axisRect()->right() - 1, tl->axisRect()->top() + 1))
                    .isEmpty());

        // Selecting a table row highlights its bar.
        const int row = proxyRowOfId(w, 6);
        w.tableView()->selectRow(row);
        QCOMPARE(tl->selectedId(), qint64(6));
        // For looking at the window without a display: TCPSCOPE_GUI_SNAPSHOT_DIR=/some/dir.
        if (const QString dir = qEnvironmentVariable("TCPSCOPE_GUI_SNAPSHOT_DIR"); !dir.isEmpty()) {
            QTest::qWait(200); // queued replot and status bar re-layout
            QVERIFY(w.grab().save(dir + QStringLiteral("/main_window_selected.png")));
        }

        // Sorting the table reorders the timeline rows the same way.
        w.tableView()->sortByColumn(Col::column("id"), Qt::DescendingOrder);
        QTRY_COMPARE(tl->layout().rowOf(6), 0);
        QCOMPARE(tl->layout().rowOf(1), 5);
    }

    void filterNarrowsTableAndTimeline()
    {
        MainWindow w;
        w.setInteractiveErrors(false);
        w.show();
        QVERIFY(w.openSession(m_session));
        // Plain words are no expression: they keep the word match (applied after a pause in
        // typing), and the box says so.
        QTest::keyClicks(w.filterEdit(), QStringLiteral("CURL"));
        QTRY_COMPARE(w.tableView()->model()->rowCount(), 2);
        QCOMPARE(w.timeline()->barCount(), 2);
        QVERIFY2(w.filterEdit()->toolTip().contains(QStringLiteral("Not a filter expression")),
                 qPrintable(w.filterEdit()->toolTip()));
        w.setFilterText(QStringLiteral("curl 8080"));
        QCOMPARE(w.filterEdit()->text(), QStringLiteral("curl 8080"));
        QCOMPARE(w.tableView()->model()->rowCount(), 1);
        QCOMPARE(cell(w, 2, Col::column("local")), QStringLiteral("127.0.0.1:40001"));
        // The Session's text condition covers addresses (not the Family column's "IPv6").
        w.setFilterText(QStringLiteral("2001:db8::10"));
        QCOMPARE(w.tableView()->model()->rowCount(), 1);
        QCOMPARE(w.timeline()->barCount(), 1);
        w.setFilterText(QStringLiteral("no-such-thing"));
        QCOMPARE(w.tableView()->model()->rowCount(), 0);
        QCOMPARE(w.timeline()->barCount(), 0);
        w.filterEdit()->clear();
        QCOMPARE(w.tableView()->model()->rowCount(), 6);
        QCOMPARE(w.timeline()->barCount(), 6);
    }

    // The overview dashboard's filter: a set of ids with a label; table, timeline and counts
    // follow it, it combines with the text filter, the toolbar chip shows it and clears it.
    void connectionIdFilterNarrowsTableAndTimeline()
    {
        MainWindow w;
        w.setInteractiveErrors(false);
        w.resize(1400, 900);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QVERIFY(w.openSession(m_session));
        QVERIFY(!w.idFilterAction()->isVisible() || w.idFilterAction()->text().isEmpty());
        w.setConnectionIdFilter({2, 4, 6}, QStringLiteral("resets 00:00:01"));
        QCoreApplication::processEvents();
        QCOMPARE(w.tableView()->model()->rowCount(), 3);
        QCOMPARE(w.timeline()->barCount(), 3);
        QVERIFY(proxyRowOfId(w, 3) < 0 && proxyRowOfId(w, 2) >= 0 && proxyRowOfId(w, 6) >= 0);
        QVERIFY2(w.idFilterAction()->text().contains(QStringLiteral("resets 00:00:01")),
                 qPrintable(w.idFilterAction()->text()));
        QVERIFY(w.connectionModel()->hasConnectionIdFilter());
        // Both filters apply.
        w.setFilterText(QStringLiteral("curl"));
        QCOMPARE(w.tableView()->model()->rowCount(), 2); // 2 and 4
        QCOMPARE(w.timeline()->barCount(), 2);
        w.setFilterText(QString());
        // The chip clears it.
        w.idFilterAction()->trigger();
        QCoreApplication::processEvents();
        QVERIFY(!w.connectionModel()->hasConnectionIdFilter());
        QCOMPARE(w.tableView()->model()->rowCount(), m_facts.connections);
        QCOMPARE(w.timeline()->barCount(), m_facts.connections);
        // An empty set is "no filter".
        w.setConnectionIdFilter({5}, QStringLiteral("x"));
        QCOMPARE(w.tableView()->model()->rowCount(), 1);
        w.setConnectionIdFilter({}, QStringLiteral("ignored"));
        QCOMPARE(w.tableView()->model()->rowCount(), m_facts.connections);
    }

    void kernelColumns()
    {
        MainWindow w;
        w.setInteractiveErrors(false);
        QVERIFY(w.openSession(m_session));
        QCOMPARE(cell(w, 2, Col::column("srtt_min")), QStringLiteral("200 µs"));
        QCOMPARE(cell(w, 2, Col::column("cwnd_max")), QStringLiteral("49"));
        QCOMPARE(cell(w, 2, Col::column("kernel_retrans")), QStringLiteral("2"));
        QCOMPARE(cell(w, 2, Col::column("drops")), QStringLiteral("1"));
        QCOMPARE(cell(w, 6, Col::column("resets")), QStringLiteral("0↑ 1↓"));
        QCOMPARE(cell(w, 3, Col::column("drops")), QString()); // nothing happened: blank, not 0
        // Sorting by drops puts the connection with a drop first when descending.
        w.tableView()->sortByColumn(Col::column("drops"), Qt::DescendingOrder);
        QCOMPARE(w.tableView()->model()->index(0, 0).data(Col::ConnectionIdRole).toLongLong(),
                 qint64(2));
    }

    void saveAsWritesAReadableCopy()
    {
        MainWindow w;
        w.setInteractiveErrors(false);
        QVERIFY(w.openSession(m_session));
        const QString copy = m_dir.filePath(QStringLiteral("copy.tcpscope"));
        QVERIFY(w.saveSessionAs(copy));
        MainWindow w2;
        w2.setInteractiveErrors(false);
        QVERIFY(w2.openSession(copy));
        QCOMPARE(w2.connectionModel()->rowCount(), 6);

        QSignalSpy errors(&w, &MainWindow::errorOccurred);
        QVERIFY(!w.saveSessionAs(m_dir.filePath(QStringLiteral("no/such/dir/x.tcpscope"))));
        QCOMPARE(errors.count(), 1);
    }

    void interruptedCaptureStandsOut()
    {
        // A capture that was cut short says so in the status bar even with nothing counted lost,
        // and the tooltip says when and why.
        const QString file = m_dir.filePath(QStringLiteral("interrupted.tcpscope"));
        QString error;
        auto writer = SessionWriter::create(file, &error);
        QVERIFY2(writer, qPrintable(error));
        SessionInfo info;
        info.startedNs = 1'700'000'000'000'000'000;
        info.stoppedNs = info.startedNs + 5'000'000'000;
        Interruption gap;
        gap.startNs = info.startedNs + 1'000'000'000;
        gap.endNs = info.startedNs + 3'000'000'000;
        gap.reason = QStringLiteral("tcpscope did not read for 2000 ms");
        info.interruptions = {gap};
        writer->setInfo(info);
        Connection c;
        c.id = 1;
        c.startNs = info.startedNs;
        writer->writeConnection(c);
        QVERIFY2(writer->close(&error), qPrintable(error));

        MainWindow w;
        w.setInteractiveErrors(false);
        QVERIFY(w.openSession(file));
        QCOMPARE(w.lostLabel()->text(), QStringLiteral("0 records lost · interrupted"));
        QVERIFY(w.lostLabel()->styleSheet().contains(QStringLiteral("background")));
        QVERIFY2(w.lostLabel()->toolTip().contains(gap.reason),
                 qPrintable(w.lostLabel()->toolTip()));
        QVERIFY2(w.lostLabel()->toolTip().contains(QStringLiteral("(2.0 s)")),
                 qPrintable(w.lostLabel()->toolTip()));
    }

    void badFilesReportErrorsAndKeepTheCurrentSession_data()
    {
        QTest::addColumn<QByteArray>("content");
        QTest::addColumn<bool>("truncateFixture");
        QTest::newRow("not sqlite") << QByteArray("this is not a tcpscope session\n") << false;
        QTest::newRow("empty") << QByteArray() << false;
        QTest::newRow("truncated") << QByteArray() << true;
        QTest::newRow("sqlite header, garbage after")
            << (QByteArray("SQLite format 3", 16) + QByteArray(4080, '\xa5')) << false;
    }

    void badFilesReportErrorsAndKeepTheCurrentSession()
    {
        QFETCH(QByteArray, content);
        QFETCH(bool, truncateFixture);
        if (truncateFixture) {
            QFile good(m_session);
            QVERIFY(good.open(QIODevice::ReadOnly));
            content = good.readAll().left(int(good.size() / 2));
        }
        const QString bad = m_dir.filePath(QStringLiteral("bad.tcpscope"));
        QFile f(bad);
        QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
        f.write(content);
        f.close();

        MainWindow w;
        w.setInteractiveErrors(false);
        QVERIFY(w.openSession(m_session));
        QSignalSpy errors(&w, &MainWindow::errorOccurred);
        QVERIFY(!w.openSession(bad));
        QCOMPARE(errors.count(), 1);
        const QString message = errors.first().first().toString();
        QVERIFY2(message.contains(QStringLiteral("bad.tcpscope")), qPrintable(message));
        QVERIFY2(message.section(QLatin1Char('\n'), 1).trimmed().size() > 5,
                 qPrintable(message)); // has a reason
        QCOMPARE(w.connectionModel()->rowCount(), 6);
        QCOMPARE(w.sessionPath(), QFileInfo(m_session).absoluteFilePath());
    }

    void captureStartFailureShowsTheHelpersReason()
    {
        // A stand-in helper that refuses the way the real one does without privileges.
        const QString fake = m_dir.filePath(QStringLiteral("fake-helper.sh"));
        QFile script(fake);
        QVERIFY(script.open(QIODevice::WriteOnly));
        script.write("#!/bin/sh\necho 'tcpscope-helper: needs root or "
                     "CAP_BPF+CAP_PERFMON+CAP_NET_ADMIN' >&2\nexit 1\n");
        script.close();
        QVERIFY(script.setPermissions(QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner));
        qputenv("TCPSCOPE_HELPER", fake.toLocal8Bit());

        MainWindow w;
        w.setInteractiveErrors(false);
        QSignalSpy errors(&w, &MainWindow::errorOccurred);
        w.startCapture();
        QVERIFY(!w.isCapturing());
        QCOMPARE(errors.count(), 1);
        const QString message = errors.first().first().toString();
        QVERIFY2(message.contains(QStringLiteral("CAP_BPF")), qPrintable(message));

        qputenv("TCPSCOPE_HELPER", m_dir.filePath(QStringLiteral("no-such-helper")).toLocal8Bit());
        w.startCapture();
        QVERIFY(!w.isCapturing());
        QCOMPARE(errors.count(), 2);
        QVERIFY2(errors.at(1).first().toString().contains(QStringLiteral("no-such-helper")),
                 qPrintable(errors.at(1).first().toString()));
        qunsetenv("TCPSCOPE_HELPER");
    }

    void recentFilesKeepTheLastEight()
    {
        QSettings().remove(QStringLiteral("recentFiles"));
        MainWindow w;
        w.setInteractiveErrors(false);
        QStringList opened;
        for (int i = 0; i < 10; ++i) {
            const QString copy = m_dir.filePath(QStringLiteral("recent-%1.tcpscope").arg(i));
            QFile::remove(copy);
            QVERIFY(QFile::copy(m_session, copy));
            QVERIFY(w.openSession(copy));
            opened.prepend(QFileInfo(copy).absoluteFilePath());
        }
        QVERIFY(
            w.openSession(m_dir.filePath(QStringLiteral("recent-5.tcpscope")))); // moves to the top
        const QStringList recent = QSettings().value(QStringLiteral("recentFiles")).toStringList();
        QCOMPARE(recent.size(), 8);
        QCOMPARE(recent.first(),
                 QFileInfo(m_dir.filePath(QStringLiteral("recent-5.tcpscope"))).absoluteFilePath());
        QCOMPARE(recent.at(1), opened.at(0));
        QVERIFY(!recent.contains(opened.at(9))); // the oldest fell off
        QCOMPARE(recent.count(recent.first()), 1);
    }

    void appIconIsBuiltIn()
    {
        initAppResources();
        QVERIFY(QFile::exists(QStringLiteral(":/icons/tcpscope.svg")));
        const QIcon icon(QStringLiteral(":/icons/tcpscope.svg"));
        const QImage image = icon.pixmap(64, 64).toImage();
        QVERIFY(!image.isNull());
        QCOMPARE(image.size(), QSize(64, 64));
        QVERIFY(image.pixelColor(32, 32).alpha() > 0); // really rendered (SVG support present)
    }

    void opensInTheBackground()
    {
        MainWindow w;
        w.setInteractiveErrors(false);
        QSignalSpy opened(&w, &MainWindow::sessionOpened);
        QSignalSpy errors(&w, &MainWindow::errorOccurred);
        w.openSessionInBackground(m_session);
        QVERIFY(opened.wait(10000));
        QCOMPARE(w.connectionModel()->rowCount(), 6);
        QCOMPARE(w.timeline()->barCount(), 6);
        w.openSessionInBackground(m_dir.filePath(QStringLiteral("missing.tcpscope")));
        QVERIFY(errors.wait(10000));
        QCOMPARE(w.connectionModel()->rowCount(), 6);
        QCOMPARE(opened.count(), 1);
    }

    void missingFileReportsError()
    {
        MainWindow w;
        w.setInteractiveErrors(false);
        QSignalSpy errors(&w, &MainWindow::errorOccurred);
        QVERIFY(!w.openSession(m_dir.filePath(QStringLiteral("does-not-exist.tcpscope"))));
        QCOMPARE(errors.count(), 1);
    }
};

QTEST_MAIN(TestMainWindow)
#include "test_main_window.moc"
