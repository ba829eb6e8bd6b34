// SPDX-License-Identifier: GPL-3.0-or-later
// The Alerts tab on session files: the alerts a recording stored (rows, colours, the status
// bar's count, the timeline's and the overview's marks), activating one (the connection filter
// becomes its evidence, the first evidence connection current, the timeline goes to its time),
// its context menu (filter, copy, annotation), the tab in a saved view, the alerts of a file
// recorded without detectors computed from its records, and the high-severity notification
// falling back to the status bar where no notification service is on a session bus.
#include "alert_notifier.h"
#include "capture_controller.h"
#include "charts/timeline_widget.h"
#include "detect/alert_engine.h"
#include "dialogs/capture_options_dialog.h"
#include "main_window.h"
#include "models/alert_table_model.h"
#include "models/connection_table_model.h"
#include "session/session_writer.h"
#include "test_addresses.h"
#include "util/alert_style.h"
#include "util/packet_format.h"
#include "views/alerts_view.h"
#include "views/annotations_view.h"
#include "views/connection_table_view.h"
#include "views/overview_chart.h"
#include "views/overview_dashboard.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QHelpEvent>
#include <QInputDialog>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QScopeGuard>
#include <QSignalSpy>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QToolButton>
#include <QToolTip>

using namespace tcpscope;

namespace {

constexpr qint64 kMs = 1'000'000;
constexpr qint64 kS = 1'000'000'000;
constexpr qint64 kT0 = 1'800'000'000 * kS;

// A client connection to remote:port refused at t (SYN answered by RST): 25 of them to distinct
// ports within a second are a port scan.
Connection refused(qint64 id, quint16 port, qint64 t)
{
    Connection c;
    c.id = id;
    c.localAddr = test::ip(QStringLiteral("10.0.0.1"));
    c.localPort = quint16(40000 + id);
    c.remoteAddr = test::ip(QStringLiteral("192.0.2.9"));
    c.remotePort = port;
    c.role = ConnectionRole::Client;
    c.comm = QStringLiteral("nmap");
    c.pid = 100;
    c.startNs = t;
    c.history.append({t, TcpState::Close, TcpState::SynSent, 0, {}});
    c.history.append({t + kMs, TcpState::SynSent, TcpState::Close, 0, {}});
    c.state = TcpState::Close;
    c.endNs = t + kMs;
    c.closeReason = CloseReason::Refused;
    return c;
}

QVector<Connection> scan()
{
    QVector<Connection> cs;
    for (int i = 1; i <= 25; ++i)
        cs.append(refused(i, quint16(1000 + i), kT0 + kS + i * 10 * kMs));
    return cs;
}

bool writeSession(const QString &path, bool alertsRecorded, const QVector<Alert> &alerts,
                  QString *error)
{
    auto writer = SessionWriter::create(path, error);
    if (!writer)
        return false;
    SessionInfo info;
    info.alertsRecorded = alertsRecorded;
    info.startedNs = kT0;
    info.stoppedNs = kT0 + 10 * kS;
    writer->setInfo(info);
    for (const Connection &c : scan())
        writer->writeConnection(c);
    if (alertsRecorded)
        writer->writeAlerts(alerts);
    return writer->close(error);
}

} // namespace

class TestAlertsPanel : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    QVector<Alert> m_alerts; // as stored: port scan (medium), SYN flood (high), a rule (low)

    static void open(MainWindow &w, const QString &path)
    {
        w.setInteractiveErrors(false);
        w.resize(1400, 900);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QVERIFY(w.openSession(path));
        QTRY_VERIFY(!w.alertsView()->isComputing());
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        // No session bus: the notifier must fall back to the status bar.
        qputenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/tcpscope-test-bus");
        AlertEngine engine;
        engine.addBatch(scan(), {}, {});
        m_alerts = engine.takeAlerts();
        QCOMPARE(m_alerts.size(), 1);
        QCOMPARE(m_alerts.first().kind, QStringLiteral("port_scan"));
        Alert flood;
        flood.timeNs = kT0 + 4 * kS;
        flood.kind = QStringLiteral("syn_flood");
        flood.severity = AlertSeverity::High;
        flood.subject = QStringLiteral("10.0.0.1:8080");
        flood.summary = QStringLiteral("SYN flood on 10.0.0.1:8080: 400 SYNs");
        flood.connections = {7, 3};
        flood.suppressed = 12;
        Alert rule;
        rule.timeNs = kT0 + 6 * kS;
        rule.kind = QStringLiteral("slow_db");
        rule.custom = true;
        rule.severity = AlertSeverity::Low;
        rule.subject = QStringLiteral("conn 9");
        rule.summary = QStringLiteral("conn.remote_port == 5432 matched conn 9");
        rule.connections = {9};
        m_alerts << flood << rule;
    }

    void storedAlertsFillThePanelAndTheMarks()
    {
        const QString path = m_dir.filePath(QStringLiteral("stored.tcpscope"));
        QString error;
        QVERIFY2(writeSession(path, true, m_alerts, &error), qPrintable(error));
        MainWindow w;
        open(w, path);
        AlertsView *v = w.alertsView();
        QCOMPARE(v->alerts().size(), 3);
        QCOMPARE(v->highCount(), 1);
        QVERIFY(v->note()->text().contains(QStringLiteral("while recording")));
        QAbstractItemModel *m = v->view()->model();
        QCOMPARE(m->rowCount(), 3);
        // Sorted by time: the scan at 1.0x s, the flood at 4 s, the rule at 6 s.
        QCOMPARE(m->index(0, AlertTableModel::ColKind).data().toString(),
                 QStringLiteral("port_scan"));
        QCOMPARE(m->index(0, AlertTableModel::ColTime).data().toString(),
                 pfmt::relativeTime(m_alerts.first().timeNs, kT0));
        QVERIFY(m->index(0, AlertTableModel::ColTime)
                    .data()
                    .toString()
                    .startsWith(QStringLiteral("1.")));
        QCOMPARE(m->index(1, AlertTableModel::ColTime).data().toString(),
                 QStringLiteral("4.000000"));
        QCOMPARE(m->index(1, AlertTableModel::ColSeverity).data().toString(),
                 QStringLiteral("high"));
        QCOMPARE(m->index(1, AlertTableModel::ColSeverity)
                     .data(Qt::ForegroundRole)
                     .value<QBrush>()
                     .color(),
                 alertSeverityColor(AlertSeverity::High));
        QCOMPARE(m->index(1, AlertTableModel::ColSuppressed).data().toString(),
                 QStringLiteral("12"));
        QCOMPARE(m->index(1, AlertTableModel::ColSubject).data().toString(),
                 QStringLiteral("10.0.0.1:8080"));
        QVERIFY(!m->index(1, AlertTableModel::ColTime).data(Qt::ToolTipRole).toString().isEmpty());
        QCOMPARE(m->index(2, AlertTableModel::ColKind).data().toString(),
                 QStringLiteral("slow_db (rule)"));
        QCOMPARE(m->index(2, AlertTableModel::ColSeverity).data().toString(),
                 QStringLiteral("low"));
        // Sortable: by severity, highest first.
        v->view()->sortByColumn(AlertTableModel::ColSeverity, Qt::DescendingOrder);
        QCOMPARE(m->index(0, AlertTableModel::ColKind).data().toString(),
                 QStringLiteral("syn_flood"));
        v->view()->sortByColumn(AlertTableModel::ColTime, Qt::AscendingOrder);

        // The status bar counts them; a click opens the tab.
        QCOMPARE(w.alertButton()->text(), QStringLiteral("3 alerts (1 high)"));
        w.lowerTabs()->setCurrentIndex(0);
        QTest::mouseClick(w.alertButton(), Qt::LeftButton);
        QCOMPARE(w.lowerTabs()->currentWidget(), v);

        // Marks on the timeline, each named by hovering it.
        TimelineWidget *tl = w.timeline();
        QCOMPARE(tl->alertMarkCount(), 3);
        tl->xAxis->setRange(0, 10); // the fit covers the connections (1.0–1.3 s)
        tl->replot();
        const QPoint mark = tl->alertMarkPixel(m_alerts.at(1).timeNs);
        QVERIFY(mark.x() >= 0);
        QVERIFY(tl->alertToolTipAt(mark).contains(QStringLiteral("SYN flood on 10.0.0.1:8080")));
        QVERIFY(tl->alertToolTipAt(mark + QPoint(0, -200)).isEmpty()); // only the bottom strip

        // And on the overview's time charts once it is computed.
        QSignalSpy ready(w.overview(), &OverviewDashboard::overviewReady);
        w.lowerTabs()->setCurrentWidget(w.overview());
        QVERIFY(ready.count() > 0 || ready.wait(10000));
        QCOMPARE(w.overview()->chart(QStringLiteral("connections"))->timeMarkCount(), 3);
        QCOMPARE(w.overview()->chart(QStringLiteral("active"))->timeMarkCount(), 3);
        QCOMPARE(w.overview()->chart(QStringLiteral("rtt"))->timeMarkCount(), 0); // not time
        // Hovering a mark's triangle names the alert.
        OverviewChart *chart = w.overview()->chart(QStringLiteral("connections"));
        chart->replot();
        const double x = double(m_alerts.at(1).timeNs - kT0) / 1e9;
        chart->xAxis->setRange(0, 10);
        chart->replot();
        const QPoint at(int(chart->xAxis->coordToPixel(x)), chart->axisRect()->rect().bottom() - 4);
        QHelpEvent help(QEvent::ToolTip, at, chart->mapToGlobal(at));
        QVERIFY(QCoreApplication::sendEvent(chart, &help));
        QTRY_VERIFY(QToolTip::isVisible());
        QVERIFY2(QToolTip::text().contains(m_alerts.at(1).summary), qPrintable(QToolTip::text()));
        QToolTip::hideText();
    }

    void activatingAnAlertShowsItsEvidence()
    {
        const QString path = m_dir.filePath(QStringLiteral("evidence.tcpscope"));
        QString error;
        QVERIFY2(writeSession(path, true, m_alerts, &error), qPrintable(error));
        MainWindow w;
        open(w, path);
        AlertsView *v = w.alertsView();
        w.lowerTabs()->setCurrentWidget(v);
        QCOMPARE(w.connectionModel()->rowCount(), 25);
        const Alert &scan = m_alerts.first();
        QVERIFY(scan.connections.size() >= 20);

        // Double-click the port scan's row.
        const int row = v->viewRowOf(0);
        QCOMPARE(v->alertAt(row)->kind, QStringLiteral("port_scan"));
        const QRect cell =
            v->view()->visualRect(v->view()->model()->index(row, AlertTableModel::ColSummary));
        // A double-click is a press and release, then the second press (QTest sends only that).
        QTest::mouseClick(v->view()->viewport(), Qt::LeftButton, {}, cell.center());
        QTest::mouseDClick(v->view()->viewport(), Qt::LeftButton, {}, cell.center());
        QCOMPARE(w.filterEdit()->text(), scan.connectionFilter());
        QCOMPARE(w.connectionModel()->rowCount(), scan.connections.size());
        QCOMPARE(w.tableView()->currentConnectionId(), scan.connections.first());
        QCOMPARE(w.timeline()->selectedId(), scan.connections.first());
        const double t = double(scan.timeNs - kT0) / 1e9;
        QVERIFY(w.timeline()->xAxis->range().contains(t));
        QCOMPARE(w.lowerTabs()->currentWidget(), v); // the list stays in view

        // The flood's evidence: the current connection is its first one, in table order.
        const int floodRow = v->viewRowOf(1);
        emit v->view()->activated(v->view()->model()->index(floodRow, 0));
        QCOMPARE(w.filterEdit()->text(), QStringLiteral("conn.id in {7, 3}"));
        QCOMPARE(w.connectionModel()->rowCount(), 2);
        QCOMPARE(w.tableView()->currentConnectionId(), 7);
        QVERIFY(w.timeline()->xAxis->range().contains(4.0));

        // Enter on the current row does the same.
        v->view()->setFocus();
        v->view()->setCurrentIndex(v->view()->model()->index(v->viewRowOf(2), 0));
        QTest::keyClick(v->view(), Qt::Key_Return);
        QCOMPARE(w.filterEdit()->text(), QStringLiteral("conn.id in {9}"));

        // Context menu: Apply Evidence as Filter, Copy ▸ Line / JSON, Add Annotation….
        w.setFilterText(QString());
        QCOMPARE(w.connectionModel()->rowCount(), 25);
        std::unique_ptr<QMenu> menu(v->contextMenu(v->viewRowOf(2)));
        QVERIFY(menu);
        menu->findChild<QAction *>(QStringLiteral("applyEvidence"))->trigger();
        QCOMPARE(w.filterEdit()->text(), QStringLiteral("conn.id in {9}"));
        QCOMPARE(w.connectionModel()->rowCount(), 1);
        menu->findChild<QAction *>(QStringLiteral("copyLine"))->trigger();
        QCOMPARE(QApplication::clipboard()->text(), alertLine(m_alerts.at(2)));
        menu->findChild<QAction *>(QStringLiteral("copyJson"))->trigger();
        QVERIFY(QApplication::clipboard()->text().contains(QStringLiteral("\"kind\":\"slow_db\"")));
        const int notes = int(w.annotations().size());
        menu->findChild<QAction *>(QStringLiteral("annotateAlert"))->trigger();
        auto *dialog = w.findChild<QInputDialog *>(QStringLiteral("annotationDialog"));
        QVERIFY(dialog);
        QCOMPARE(dialog->textValue(), m_alerts.at(2).summary);
        dialog->accept();
        QCOMPARE(w.annotations().size(), notes + 1);
        QCOMPARE(w.annotations().last().startNs, m_alerts.at(2).timeNs);
        QCOMPARE(w.annotations().last().text, m_alerts.at(2).summary);

        // The tab is part of a saved view.
        QCOMPARE(w.currentView().value(QStringLiteral("lower_tab")), QStringLiteral("alerts"));
        w.lowerTabs()->setCurrentIndex(0);
        w.applyView({{QStringLiteral("lower_tab"), QStringLiteral("alerts")}});
        QCOMPARE(w.lowerTabs()->currentWidget(), v);
    }

    void evidenceInALargeSessionIsSelectedOnceFiltered()
    {
        // Above ConnectionTableModel::kSyncPassRows the filter runs on a worker: the current
        // connection is chosen once the table shows the evidence.
        const QString path = m_dir.filePath(QStringLiteral("large.tcpscope"));
        QString error;
        {
            auto writer = SessionWriter::create(path, &error);
            QVERIFY2(writer, qPrintable(error));
            SessionInfo info;
            info.alertsRecorded = true;
            info.startedNs = kT0;
            info.stoppedNs = kT0 + 10 * kS;
            writer->setInfo(info);
            const qint64 n = ConnectionTableModel::kSyncPassRows + 500;
            for (qint64 id = 1; id <= n; ++id)
                writer->writeConnection(
                    refused(id, quint16(1000 + id % 60000), kT0 + kS + id * 1000));
            Alert a = m_alerts.at(1);
            a.connections = {n - 3, 17};
            writer->writeAlerts({a});
            QVERIFY2(writer->close(&error), qPrintable(error));
        }
        MainWindow w;
        open(w, path);
        AlertsView *v = w.alertsView();
        QCOMPARE(v->alerts().size(), 1);
        const Alert a = v->alerts().first();
        QSignalSpy filtering(w.connectionModel(), &ConnectionTableModel::filteringChanged);
        emit v->view()->activated(v->view()->model()->index(0, 0));
        QCOMPARE(w.filterEdit()->text(), a.connectionFilter());
        QVERIFY(filtering.count() > 0); // it went to the worker
        QTRY_COMPARE_WITH_TIMEOUT(w.connectionModel()->rowCount(), 2, 20000);
        QTRY_COMPARE(w.tableView()->currentConnectionId(), a.connections.first());
        QVERIFY(w.timeline()->xAxis->range().contains(double(a.timeNs - kT0) / 1e9));
    }

    void alertsOfAFileWithoutDetectorsAreComputed()
    {
        const QString path = m_dir.filePath(QStringLiteral("computed.tcpscope"));
        QString error;
        QVERIFY2(writeSession(path, false, {}, &error), qPrintable(error));
        MainWindow w;
        w.setInteractiveErrors(false);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QVERIFY(w.openSession(path));
        AlertsView *v = w.alertsView();
        QTRY_VERIFY_WITH_TIMEOUT(!v->isComputing(), 20000);
        QCOMPARE(v->alerts().size(), 1);
        QCOMPARE(v->alerts().first().kind, QStringLiteral("port_scan"));
        QCOMPARE(v->alerts().first().connections, m_alerts.first().connections);
        QVERIFY2(v->note()->text().contains(
                     QStringLiteral(
                         "computed from the records (the detectors did not run while recording)"),
                     Qt::CaseInsensitive),
                 qPrintable(v->note()->text()));
        QCOMPARE(w.alertButton()->text(), QStringLiteral("1 alert"));
        QCOMPARE(w.timeline()->alertMarkCount(), 1);
    }

    void highAlertsWithoutANotificationServiceGoToTheStatusBar()
    {
        QVERIFY(!AlertNotifier::desktopServiceAvailable());
        AlertNotifier notifier;
        notifier.setInterval(300);
        QSignalSpy status(&notifier, &AlertNotifier::statusMessage);
        Alert a = m_alerts.at(1);
        QCOMPARE(notifier.notify(a), AlertNotifier::Delivery::StatusBar);
        QCOMPARE(status.count(), 1);
        QVERIFY(status.first().first().toString().contains(a.summary));
        // Throttled: the next ones wait and are told together when the interval ends.
        QCOMPARE(notifier.notify(a), AlertNotifier::Delivery::Throttled);
        QCOMPARE(notifier.notify(a), AlertNotifier::Delivery::Throttled);
        QCOMPARE(status.count(), 1);
        QTRY_COMPARE(status.count(), 2);
        QVERIFY(status.last().first().toString().contains(QStringLiteral("2 more")));
        QCOMPARE(notifier.desktopNotifications(), 0u);

        // The window appends a capture's alerts only while it captures.
        MainWindow w;
        w.setInteractiveErrors(false);
        emit w.captureController()->alertsRaised({a});
        QCOMPARE(w.alertsView()->alerts().size(), 0);
    }

    void liveAlertsAreAppendedAndHighOnesTold()
    {
#ifndef FAKE_HELPER
        QSKIP("the fake helper is not part of this build");
#else
        // A capture through a stand-in helper (the real wire protocol, no BPF); the alerts its
        // detectors would raise are given to the window as LiveCapture gives them.
        qputenv("TCPSCOPE_HELPER", FAKE_HELPER);
        MainWindow w;
        w.setInteractiveErrors(false);
        w.resize(1400, 900);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        w.startCapture();
        qunsetenv("TCPSCOPE_HELPER");
        QVERIFY(w.isCapturing());
        AlertsView *v = w.alertsView();
        QCOMPARE(v->alerts().size(), 0);
        QVERIFY(v->note()->text().contains(QStringLiteral("Capturing")));
        QCOMPARE(w.alertButton()->text(), QStringLiteral("No alerts"));
        w.alertNotifier()->setInterval(60000);
        emit w.captureController()->alertsRaised({m_alerts.at(0), m_alerts.at(1)});
        QCOMPARE(v->alerts().size(), 2);
        QCOMPARE(w.alertButton()->text(), QStringLiteral("2 alerts (1 high)"));
        QCOMPARE(w.timeline()->alertMarkCount(), 2);
        // No notification service (no session bus here): the status bar tells.
        QVERIFY2(w.statusBar()->currentMessage().contains(m_alerts.at(1).summary),
                 qPrintable(w.statusBar()->currentMessage()));
        // The session on the file being recorded is opened and refreshed: the rows stay.
        QTest::qWait(800);
        QVERIFY(w.session());
        emit w.captureController()->alertsRaised({m_alerts.at(2)});
        QCOMPARE(v->alerts().size(), 3);
        w.stopCapture();
        QVERIFY(!w.isCapturing());
        // Stopped: the file's own alerts (the stand-in's records raise none).
        QCOMPARE(v->alerts().size(), w.session() ? w.session()->alerts().size() : 0);
#endif
    }

    void triggeredCaptureShowsItsRing()
    {
#ifndef FAKE_HELPER
        QSKIP("the fake helper is not part of this build");
#else
        // A triggered capture says in the status bar what its trigger is and how much time its
        // ring holds, from the capture's own counters.
        qputenv("TCPSCOPE_HELPER", FAKE_HELPER);
        // The trigger as Capture ▸ Options remembers it (QSettings live in the test's own
        // XDG_CONFIG_HOME); removed again at the end.
        CaptureTriggerChoice choice;
        choice.enabled = true;
        choice.settings.trigger = QStringLiteral("kind:syn_flood");
        choice.settings.preNs = 3'000'000'000;
        CaptureOptionsDialog::saveTrigger(choice);
        const auto forget = qScopeGuard([] { CaptureOptionsDialog::saveTrigger({}); });
        MainWindow w;
        w.setInteractiveErrors(false);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        w.startCapture();
        qunsetenv("TCPSCOPE_HELPER");
        QVERIFY(w.isCapturing());
        auto *state = w.findChild<QLabel *>(QStringLiteral("captureState"));
        QVERIFY(state);
        // Read at the first stats update (the stand-in helper's stream ends soon after).
        QString text, tip;
        const auto conn = connect(w.captureController(), &CaptureController::statsUpdated, &w, [&] {
            if (text.isEmpty()) {
                text = state->text();
                tip = state->toolTip();
            }
        });
        QTRY_VERIFY(!text.isEmpty());
        disconnect(conn);
        QVERIFY2(text.contains(QStringLiteral("(trigger kind:syn_flood) · ring ")),
                 qPrintable(text));
        QVERIFY2(text.contains(QStringLiteral("0 window(s) kept")), qPrintable(text));
        QVERIFY2(tip.contains(QStringLiteral("128 MiB ring")), qPrintable(tip));
        w.stopCapture();
#endif
    }
};

QTEST_MAIN(TestAlertsPanel)
#include "test_alerts_panel.moc"
