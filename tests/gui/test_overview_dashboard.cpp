// SPDX-License-Identifier: GPL-3.0-or-later
// Overview dashboard, kernel capabilities panel and `--chart overview` export, offscreen, on
// the fixture session written through the real SessionWriter and opened as a Session (the
// overview from its summaries, events and aggregates only).
#include "analysis/overview.h"
#include "charts/chart_export.h"
#include "main_window.h"
#include "models/connection_table_model.h"
#include "session/session.h"
#include "session/session_reader.h"
#include "session_fixture.h"
#include "views/capabilities_panel.h"
#include "views/overview_chart.h"
#include "views/overview_dashboard.h"

#include <QDialog>
#include <QLabel>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>

using namespace tcpscope;

namespace {
int indexOfLabel(const QVector<OverviewBar> &bars, const QString &label)
{
    for (int i = 0; i < bars.size(); ++i)
        if (bars[i].label == label)
            return i;
    return -1;
}

// The pixel in the middle of bar `index` of the chart's first plottable.
QPoint barCenter(OverviewChart *chart, int index)
{
    chart->replot(QCustomPlot::rpImmediateRefresh);
    auto *bars = qobject_cast<QCPBars *>(chart->plottable(0));
    if (!bars)
        return {};
    const auto it = bars->data()->at(index);
    double x = 0, y = 0;
    bars->coordsToPixels(it->key, it->value / 2, x, y);
    return QPointF(x, y).toPoint();
}

QSet<qint64> toSet(const QVector<qint64> &ids)
{
    return QSet<qint64>(ids.cbegin(), ids.cend());
}
} // namespace

class TestOverviewDashboard : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_path = m_dir.filePath(QStringLiteral("fixture.tcpscope"));
        QString error;
        QVERIFY2(testing::writeFixtureSession(m_path, &m_facts, &error), qPrintable(error));
        auto data = SessionReader::read(m_path, &error);
        QVERIFY2(data, qPrintable(error));
        m_session = *data;
        QVERIFY(!m_session.kernel.drops.isEmpty());
        m_file = Session::open(m_path, &error);
        QVERIFY2(m_file, qPrintable(error));
    }

    // setSession: the overview is computed on a worker thread from the Session alone and
    // equals the one computed directly; a new session replaces it, nullptr clears it.
    void setSessionComputesOnAWorker()
    {
        OverviewDashboard dashboard;
        dashboard.resize(1300, 820);
        dashboard.show();
        QVERIFY(QTest::qWaitForWindowExposed(&dashboard));
        QSignalSpy ready(&dashboard, &OverviewDashboard::overviewReady);
        QString error;
        std::shared_ptr<const Session> session = Session::open(m_path, &error);
        QVERIFY2(session, qPrintable(error));
        dashboard.setSession(session);
        QVERIFY(ready.wait(10000));
        const Overview direct = overview();
        QCOMPARE(dashboard.overview().connectionCount, direct.connectionCount);
        QCOMPARE(dashboard.overview().sampleCount, direct.sampleCount);
        QCOMPARE(dashboard.overview().retransmitTotal, direct.retransmitTotal);
        QCOMPARE(dashboard.overview().dropTotal, direct.dropTotal);
        QCOMPARE(dashboard.overview().dropsByReason.size(), direct.dropsByReason.size());
        QVERIFY(dashboard.overview().connectionCount > 0);
        dashboard.sessionChanged(); // a live session grew: recomputed (throttled) again
        QVERIFY(ready.wait(10000));
        dashboard.setSession(nullptr);
        QCOMPARE(dashboard.overview().connectionCount, 0);
    }

    // A session replaced (or cleared) while its overview is computed: that overview is dropped,
    // never shown, and the new session's is computed at once.
    void replacedSessionDropsItsOverview()
    {
        OverviewDashboard dashboard;
        dashboard.resize(1300, 820);
        dashboard.show();
        QVERIFY(QTest::qWaitForWindowExposed(&dashboard));
        QSignalSpy ready(&dashboard, &OverviewDashboard::overviewReady);
        QString error;
        std::shared_ptr<const Session> session = Session::open(m_path, &error);
        QVERIFY2(session, qPrintable(error));
        dashboard.setSession(session);
        dashboard.setSession(nullptr);
        QVERIFY(!ready.wait(1000));
        QCOMPARE(dashboard.overview().connectionCount, 0);
        dashboard.setSession(session);
        dashboard.setSession(session); // the same again: one overview, of it
        QVERIFY(ready.wait(10000));
        QCOMPARE(dashboard.overview().connectionCount, overview().connectionCount);
    }

    void everyChartHasData()
    {
        OverviewDashboard dashboard;
        dashboard.resize(1300, 820);
        dashboard.setOverview(overview());
        dashboard.show();
        QVERIFY(QTest::qWaitForWindowExposed(&dashboard));
        // The fixture has each kind of thing: opened/closed connections, a retransmit, resets,
        // handshakes, RTT samples, drops, bytes and retransmits per process and remote.
        for (const QString &name : OverviewDashboard::chartNames()) {
            OverviewChart *chart = dashboard.chart(name);
            QVERIFY2(chart, qPrintable(name));
            QVERIFY2(chart->plottableCount() > 0, qPrintable(name));
            double maxValue = 0;
            for (int p = 0; p < chart->plottableCount(); ++p) {
                bool found = false;
                const QCPRange r = chart->plottable(p)->getValueRange(found);
                if (found)
                    maxValue = std::max(maxValue, r.upper);
            }
            QVERIFY2(maxValue > 0, qPrintable(QStringLiteral("chart %1 has no data").arg(name)));
        }
        QVERIFY(dashboard.header()->text().contains(
            QStringLiteral("%1 kernel samples").arg(m_facts.samples2 + m_facts.samples6)));
    }

    void clickOnDropsBarEmitsItsIds()
    {
        OverviewDashboard dashboard;
        dashboard.resize(1300, 820);
        const Overview ov = overview();
        dashboard.setOverview(ov);
        dashboard.show();
        QVERIFY(QTest::qWaitForWindowExposed(&dashboard));
        QSignalSpy spy(&dashboard, &OverviewDashboard::filterRequested);
        OverviewChart *drops = dashboard.chart(QStringLiteral("drops"));
        const int oldData = indexOfLabel(ov.dropsByReason, QStringLiteral("TCP_OLD_DATA"));
        QVERIFY(oldData >= 0);
        QTest::mouseClick(drops, Qt::LeftButton, {}, barCenter(drops, oldData));
        QCOMPARE(spy.count(), 1);
        QCOMPARE(spy.at(0).at(0).value<QSet<qint64>>(), QSet<qint64>{testing::kFixtureTransferId});
        QVERIFY(spy.at(0).at(1).toString().contains(QStringLiteral("TCP_OLD_DATA")));
        // NO_SOCKET was not joined to any connection: nothing to filter to, no signal.
        const int noSocket = indexOfLabel(ov.dropsByReason, QStringLiteral("NO_SOCKET"));
        QVERIFY(noSocket >= 0);
        QVERIFY(ov.dropsByReason[noSocket].ids.isEmpty());
        QTest::mouseClick(drops, Qt::LeftButton, {}, barCenter(drops, noSocket));
        QCOMPARE(spy.count(), 1);
        // A time bar: the retransmit's second.
        OverviewChart *retrans = dashboard.chart(QStringLiteral("retransmits"));
        int bin = -1;
        for (int i = 0; i < ov.retransmits.size(); ++i)
            if (ov.retransmits[i].value > 0)
                bin = i;
        QVERIFY(bin >= 0);
        QVERIFY(retrans->activate(0, bin));
        QCOMPARE(spy.count(), 2);
        QCOMPARE(spy.at(1).at(0).value<QSet<qint64>>(), toSet(ov.retransmits[bin].ids));
    }

    void clickFiltersTheMainWindowTable()
    {
        MainWindow window;
        window.setInteractiveErrors(false);
        window.resize(1500, 1000);
        QVERIFY(window.openSession(m_path));
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        // The window hands the dashboard its Session; the overview is computed on a worker.
        QSignalSpy ready(window.overview(), &OverviewDashboard::overviewReady);
        window.lowerTabs()->setCurrentWidget(window.overview());
        window.overview()->recomputeNow();
        QTRY_VERIFY_WITH_TIMEOUT(ready.count() > 0, 10000);
        const Overview &ov = window.overview()->overview();
        QCOMPARE(ov.connectionCount,
                 m_facts.connections - 1); // the listener is not a connection here
        const int curl = indexOfLabel(ov.topProcessesByBytes, QStringLiteral("curl"));
        QVERIFY(curl >= 0);
        const QSet<qint64> expected = toSet(ov.topProcessesByBytes[curl].ids);
        QVERIFY(!expected.isEmpty());
        OverviewChart *procs = window.overview()->chart(QStringLiteral("procBytes"));
        QTest::mouseClick(procs, Qt::LeftButton, {}, barCenter(procs, curl));
        ConnectionTableModel *proxy = window.connectionModel();
        QVERIFY(proxy->hasConnectionIdFilter());
        QCOMPARE(proxy->rowCount(), int(expected.size()));
        for (int row = 0; row < proxy->rowCount(); ++row) {
            const Connection c = proxy->connectionAt(row);
            QVERIFY(expected.contains(c.id));
            QCOMPARE(c.comm, QStringLiteral("curl"));
        }
        QVERIFY(proxy->connectionIdFilterLabel().contains(QStringLiteral("curl")));
        // The drops bar does the same through the window.
        const int oldData = indexOfLabel(ov.dropsByReason, QStringLiteral("TCP_OLD_DATA"));
        OverviewChart *drops = window.overview()->chart(QStringLiteral("drops"));
        QTest::mouseClick(drops, Qt::LeftButton, {}, barCenter(drops, oldData));
        QCOMPARE(proxy->rowCount(), 1);
        QCOMPARE(proxy->connectionAt(0).id, testing::kFixtureTransferId);
        // For looking at it (not part of the check): TCPSCOPE_SHOT_DIR=/dir saves the window,
        // optionally with another session (TCPSCOPE_SHOT_SESSION) shown unfiltered.
        const QString shotDir = qEnvironmentVariable("TCPSCOPE_SHOT_DIR");
        if (!shotDir.isEmpty()) {
            QTest::qWait(200); // queued replots of the charts not clicked
            window.grab().save(shotDir + QStringLiteral("/window_fixture_filtered.png"));
            const QString other = qEnvironmentVariable("TCPSCOPE_SHOT_SESSION");
            if (!other.isEmpty() && window.openSession(other)) {
                window.lowerTabs()->setCurrentWidget(window.overview());
                window.overview()->recomputeNow();
                QTest::qWait(200);
                window.grab().save(shotDir + QStringLiteral("/window_recording.png"));
                QDialog *caps = showCapabilitiesDialog(
                    &window,
                    [&] {
                        SessionInfo i;
                        auto d = SessionReader::read(other, nullptr, {false, 0, false, false});
                        return d ? d->info : i;
                    }(),
                    false);
                QTest::qWait(200);
                caps->grab().save(shotDir + QStringLiteral("/capabilities.png"));
                caps->close();
            }
        }
    }

    void capabilitiesPanelListsProbesWithReasons()
    {
        QCOMPARE(
            parseProbe(QStringLiteral(
                           "tcp_probe=tracepoint (tp_btf load failed: Invalid argument (EINVAL))"))
                .detail,
            QStringLiteral("tp_btf load failed: Invalid argument (EINVAL)"));
        SessionInfo info;
        info.kernelRelease = QStringLiteral("6.18.0-test");
        info.hostname = QStringLiteral("box");
        info.probes = QStringList{
            QStringLiteral("inet_sock_set_state=tp_btf"),
            QStringLiteral("tcp_probe=tracepoint (tp_btf load failed: Invalid argument (EINVAL))"),
            QStringLiteral("tcp_cong_state_set=unavailable (tracepoint not found in this kernel)"),
            QStringLiteral("tc-packets=clsact (tcx needs Linux 6.6)")};
        CapabilitiesPanel panel;
        panel.setSessionInfo(info, false);
        QTableWidget *t = panel.table();
        QCOMPARE(t->rowCount(), 4);
        QCOMPARE(t->item(0, 0)->text(), QStringLiteral("inet_sock_set_state"));
        QCOMPARE(t->item(0, 1)->text(), QStringLiteral("tp_btf"));
        QCOMPARE(t->item(1, 1)->text(), QStringLiteral("tracepoint"));
        QCOMPARE(t->item(1, 3)->text(),
                 QStringLiteral("tp_btf load failed: Invalid argument (EINVAL)"));
        QCOMPARE(t->item(2, 1)->text(), QStringLiteral("unavailable"));
        QCOMPARE(t->item(2, 3)->text(), QStringLiteral("tracepoint not found in this kernel"));
        QCOMPARE(t->item(3, 1)->text(), QStringLiteral("clsact"));
        // Three colours: preferred, fallback, unavailable.
        const QColor ok = t->item(0, 1)->background().color(),
                     fallback = t->item(1, 1)->background().color(),
                     missing = t->item(2, 1)->background().color();
        QVERIFY(ok != fallback && fallback != missing && ok != missing);
        QCOMPARE(t->item(3, 1)->background().color(), fallback);
        QVERIFY(panel.summary()->text().contains(
            QStringLiteral("1 preferred, 2 fallback, 1 unavailable")));
        // The fixture file's own report (what the session recorded) is listed too.
        panel.setSessionInfo(m_session.info, false);
        QCOMPARE(panel.table()->rowCount(), int(m_session.info.probes.size()));
    }

    void overviewExportExactSize_data()
    {
        QTest::addColumn<QString>("suffix");
        QTest::addColumn<QSize>("size");
        QTest::newRow("png") << QStringLiteral("png") << QSize(1300, 820);
        QTest::newRow("pdf") << QStringLiteral("pdf") << QSize(1200, 900);
        if (chartExportFormats().contains(QStringLiteral("svg")))
            QTest::newRow("svg") << QStringLiteral("svg") << QSize(1000, 700);
    }

    void overviewExportExactSize()
    {
        QFETCH(QString, suffix);
        QFETCH(QSize, size);
        QVERIFY(exportableCharts().contains(QStringLiteral("overview")));
        QVERIFY(!chartNeedsConnection(QStringLiteral("overview")));
        const QString out = m_dir.filePath(QStringLiteral("overview.") + suffix);
        QString error;
        QVERIFY2(exportChart(*m_file, QStringLiteral("overview"), out, size, &error),
                 qPrintable(error));
        QFile f(out);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray bytes = f.readAll();
        if (suffix == QLatin1String("png")) {
            const QImage img = QImage::fromData(bytes);
            QCOMPARE(img.size(), size);
            // The drops bars' colour is there: charts were painted, not just the background.
            int dropPixels = 0;
            for (int y = 0; y < img.height(); y += 2)
                for (int x = 0; x < img.width(); x += 2)
                    dropPixels += img.pixelColor(x, y) == QColor(0xad, 0x14, 0x57);
            QVERIFY2(dropPixels > 20, qPrintable(QString::number(dropPixels)));
        } else if (suffix == QLatin1String("pdf")) {
            QVERIFY(bytes.startsWith("%PDF-"));
            const QRegularExpressionMatch box =
                QRegularExpression(QStringLiteral("/MediaBox \\[0 0 ([0-9.]+) ([0-9.]+)\\]"))
                    .match(QString::fromLatin1(bytes));
            QVERIFY2(box.hasMatch(), "no MediaBox");
            QVERIFY2(qAbs(box.captured(1).toDouble() - size.width()) < 1 &&
                         qAbs(box.captured(2).toDouble() - size.height()) < 1,
                     qPrintable(box.captured(0)));
        } else {
            QVERIFY(bytes.contains("<svg"));
            QVERIFY(bytes.contains(QStringLiteral("viewBox=\"0 0 %1 %2\"")
                                       .arg(size.width())
                                       .arg(size.height())
                                       .toLatin1()));
            QVERIFY(bytes.contains("TCP_OLD_DATA")); // the reason names are text, not pixels
        }
    }

private:
    Overview overview() const { return computeOverview(*m_file); }

    QTemporaryDir m_dir;
    QString m_path;
    testing::FixtureFacts m_facts;
    SessionData m_session; // for the main window and the capabilities panel
    std::unique_ptr<Session> m_file;
};

QTEST_MAIN(TestOverviewDashboard)
#include "test_overview_dashboard.moc"
