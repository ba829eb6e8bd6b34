// SPDX-License-Identifier: GPL-3.0-or-later
// The main window over a large generated session (bench_session_gen: tens of thousands of
// connections, a few hundred thousand packets): the views page through the Session. Orders and
// counts are checked against SQL on the file, packets and kernel data against a Session of its
// own.
#include "charts/metrics_widget.h"
#include "charts/seq_graph_data.h"
#include "charts/seq_graph_widget.h"
#include "charts/timeline_widget.h"
#include "main_window.h"
#include "models/connection_table_model.h"
#include "models/packet_table_model.h"
#include "models/session_job.h"
#include "session/session.h"
#include "views/connection_detail_view.h"
#include "views/connection_table_view.h"
#include "views/packet_inspector.h"
#include "views/packets_panel.h"

#include <QAbstractItemModelTester>
#include <QCheckBox>
#include <QFile>
#include <QProcess>
#include <QSignalSpy>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>

#include <cerrno>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

using namespace tcpscope;

namespace {

// Ids of one SQL query's first column.
QVector<qint64> sqlIds(const QString &path, const QString &sql)
{
    QVector<qint64> out;
    sqlite3 *db = nullptr;
    if (sqlite3_open_v2(path.toUtf8().constData(), &db, SQLITE_OPEN_READONLY, nullptr) !=
        SQLITE_OK) {
        sqlite3_close(db);
        return out;
    }
    sqlite3_stmt *s = nullptr;
    if (sqlite3_prepare_v2(db, sql.toUtf8().constData(), -1, &s, nullptr) == SQLITE_OK)
        while (sqlite3_step(s) == SQLITE_ROW)
            out.append(sqlite3_column_int64(s, 0));
    sqlite3_finalize(s);
    sqlite3_close(db);
    return out;
}

qint64 sqlValue(const QString &path, const QString &sql)
{
    return sqlIds(path, sql).value(0, -1);
}

} // namespace

class TestSessionViews : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    QString m_path;
    std::unique_ptr<MainWindow> m_window;

    MainWindow &w() { return *m_window; }

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_path = m_dir.filePath(QStringLiteral("big.tcpscope"));
        QProcess gen;
        gen.start(QStringLiteral(BENCH_SESSION_GEN),
                  {QStringLiteral("-o"), m_path, QStringLiteral("--connections"),
                   QStringLiteral("20000"), QStringLiteral("--bulk"), QStringLiteral("3"),
                   QStringLiteral("--bulk-packets"), QStringLiteral("40000"),
                   QStringLiteral("--minutes"), QStringLiteral("2")});
        QVERIFY(gen.waitForFinished(600'000));
        QVERIFY2(gen.exitCode() == 0, gen.readAllStandardError().constData());

        m_window = std::make_unique<MainWindow>();
        w().setInteractiveErrors(false);
        w().resize(1400, 900);
        w().show();
        QSignalSpy opened(&w(), &MainWindow::sessionOpened);
        w().openSessionInBackground(m_path);
        QVERIFY(w().isOpening());
        QVERIFY(opened.wait(30'000));
        QVERIFY(w().session());
    }

    // A pass nobody waits for (alerts, the Peer column) runs below the GUI thread and the
    // passes a user waits for; those run at the process's own priority.
    void backgroundJobsYield()
    {
        errno = 0;
        const int base = getpriority(PRIO_PROCESS, 0);
        QCOMPARE(errno, 0);
        if (base >= 10)
            QSKIP("the test runs at nice >= 10 already: nothing to lower");
        auto niceOf = [this](SessionJob::Priority priority) {
            SessionJob job(nullptr, priority);
            int nice = -100;
            qint64 connections = 0;
            bool done = false;
            job.start(
                m_path,
                [&](const Session &session, const std::atomic<bool> &) {
                    nice = getpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)));
                    connections = session.connectionCount();
                },
                [&](const QString &error) {
                    QVERIFY2(error.isEmpty(), qPrintable(error));
                    done = true;
                });
            if (!QTest::qWaitFor([&] { return done; }, 30'000))
                return -100;
            return connections > 0 ? nice : -100;
        };
        QCOMPARE(niceOf(SessionJob::Priority::Background), 10);
        QCOMPARE(niceOf(SessionJob::Priority::Normal), base);
        QCOMPARE(getpriority(PRIO_PROCESS, 0), base); // the GUI thread is left as it was
    }

    void rowsAreTheSessionsConnections()
    {
        ConnectionTableModel *model = w().connectionModel();
        const qint64 count = sqlValue(m_path, QStringLiteral("SELECT count(*) FROM connections"));
        QVERIFY(count >= 20000);
        QCOMPARE(model->rowCount(), int(count));
        QCOMPARE(model->totalCount(), count);
        QCOMPARE(model->ids(),
                 sqlIds(m_path, QStringLiteral("SELECT id FROM connections ORDER BY id")));
    }

    void sortsLikeSql_data()
    {
        QTest::addColumn<int>("column");
        QTest::addColumn<bool>("descending");
        QTest::newRow("process asc") << ConnectionTableModel::column("process") << false;
        QTest::newRow("start desc") << ConnectionTableModel::column("start") << true;
        QTest::newRow("sent desc") << ConnectionTableModel::column("sent") << true;
        QTest::newRow("remote asc") << ConnectionTableModel::column("remote") << false;
        QTest::newRow("srtt max desc") << ConnectionTableModel::column("srtt_max") << true;
        QTest::newRow("close reason asc") << ConnectionTableModel::column("close_reason") << false;
    }

    void sortsLikeSql()
    {
        QFETCH(int, column);
        QFETCH(bool, descending);
        ConnectionTableModel *model = w().connectionModel();
        w().tableView()->sortByColumn(column,
                                      descending ? Qt::DescendingOrder : Qt::AscendingOrder);
        const QString sqlColumn = ConnectionTableModel::sqlSortColumn(column);
        const QString dir = descending ? QStringLiteral("DESC") : QStringLiteral("ASC");
        const QVector<qint64> expected = sqlIds(
            m_path,
            QStringLiteral("SELECT id FROM connections ORDER BY %1 %2, id %2").arg(sqlColumn, dir));
        QCOMPARE(model->ids(), expected);
        // The last row's cells come from its page, fetched when scrolled to.
        const int last = model->rowCount() - 1;
        w().tableView()->scrollToBottom();
        QCOMPARE(model->index(last, ConnectionTableModel::column("id")).data().toLongLong(),
                 expected.last());
        const std::optional<Connection> c = w().session()->connection(expected.last());
        QVERIFY(c);
        QCOMPARE(model->index(last, ConnectionTableModel::column("process")).data().toString(),
                 c->comm);
    }

    void unsortableColumnKeepsTheOrder()
    {
        ConnectionTableModel *model = w().connectionModel();
        w().tableView()->sortByColumn(ConnectionTableModel::column("id"), Qt::AscendingOrder);
        const QVector<qint64> before = model->ids();
        QSignalSpy notice(model, &ConnectionTableModel::notice);
        model->sort(ConnectionTableModel::column("duration"), Qt::DescendingOrder);
        QCOMPARE(notice.count(), 1);
        QCOMPARE(model->ids(), before);
    }

    void modelTesterOverSortAndFilter()
    {
        ConnectionTableModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setSession(w().session());
        model.sort(ConnectionTableModel::column("start"), Qt::DescendingOrder);
        model.setFilterText(QStringLiteral("curl"));
        model.setConnectionIdFilter({1, 2, 3, 5000}, QStringLiteral("bar"));
        model.clearConnectionIdFilter();
        model.setFilterText(QString());
        QCOMPARE(model.rowCount(), int(model.totalCount()));
    }

    void filterLikeSql()
    {
        ConnectionTableModel *model = w().connectionModel();
        w().tableView()->sortByColumn(ConnectionTableModel::column("id"), Qt::AscendingOrder);
        const qint64 some = model->idAt(model->rowCount() / 2);
        const QString comm = model->connectionAt(model->rowForId(some)).comm;
        w().setFilterText(comm);
        const QVector<qint64> expected = sqlIds(
            m_path,
            QStringLiteral(
                "SELECT id FROM connections WHERE comm LIKE '%%1%' OR role LIKE '%%1%' OR state "
                "LIKE '%%1%' "
                "OR close_reason LIKE '%%1%' OR local_addr LIKE '%%1%' OR remote_addr LIKE '%%1%' "
                "OR CAST(pid AS TEXT) LIKE '%%1%' OR CAST(local_port AS TEXT) LIKE '%%1%' "
                "OR CAST(remote_port AS TEXT) LIKE '%%1%' ORDER BY id")
                .arg(comm));
        QVERIFY(!expected.isEmpty());
        QCOMPARE(model->ids(), expected);
        QVERIFY(model->rowForId(some) >= 0);
        // The id filter narrows further; both must accept a row.
        model->setConnectionIdFilter({some, expected.first()}, QStringLiteral("two"));
        QCOMPARE(model->rowCount(), some == expected.first() ? 1 : 2);
        model->clearConnectionIdFilter();
        // The in-memory filter against SQL's LIKE: ASCII case folding, numbers as their decimal
        // text, every word required, wildcard characters taken literally.
        const QStringList mustMatch = {comm.toUpper(), QStringLiteral("4"),
                                       comm.left(3) + QStringLiteral(" 4")};
        for (const QString &text : mustMatch + QStringList{QStringLiteral("%"), QStringLiteral("_"),
                                                           QStringLiteral("Est fin")}) {
            QString where = QStringLiteral("1");
            for (QString word : text.split(QLatin1Char(' '), Qt::SkipEmptyParts)) {
                word.replace(QLatin1Char('%'), QLatin1String("\\%"))
                    .replace(QLatin1Char('_'), QLatin1String("\\_"));
                QStringList any;
                for (const char *col : {"comm", "pid", "local_addr", "remote_addr", "local_port",
                                        "remote_port", "role", "state", "close_reason"})
                    any << QStringLiteral("CAST(%1 AS TEXT) LIKE '%%2%' ESCAPE '\\'")
                               .arg(QLatin1String(col), word);
                where +=
                    QStringLiteral(" AND (") + any.join(QLatin1String(" OR ")) + QLatin1Char(')');
            }
            const QVector<qint64> want = sqlIds(
                m_path,
                QStringLiteral("SELECT id FROM connections WHERE %1 ORDER BY id").arg(where));
            // sqlIds answers nothing on an SQL error: the words that do match prove the SQL ran.
            if (mustMatch.contains(text))
                QVERIFY2(!want.isEmpty(), qPrintable(text));
            w().setFilterText(text);
            QCOMPARE(model->ids(), want);
        }
        w().setFilterText(QString());
        QCOMPARE(model->rowCount(), int(model->totalCount()));
    }

    void timelineHoldsABoundedWindow()
    {
        w().tableView()->sortByColumn(ConnectionTableModel::column("id"), Qt::AscendingOrder);
        w().tableView()->scrollToBottom();
        QTRY_VERIFY(w().timeline()->barCount() > 0);
        QVERIFY(w().timeline()->barCount() <= 300);
        // It follows the table: the last connection is among the bars.
        const qint64 lastId = w().connectionModel()->idAt(w().connectionModel()->rowCount() - 1);
        QTRY_VERIFY(w().timeline()->layout().rowOf(lastId) >= 0);
    }

    void allPacketsScrollToTheLast()
    {
        w().tableView()->clearSelection();
        PacketsPanel *panel = w().inspector()->packetsPanel();
        PacketTableModel *model = panel->model();
        // Format 4 keeps packets in compressed chunks: counts and id ranges are plain columns.
        const qint64 count =
            sqlValue(m_path, QStringLiteral("SELECT sum(count) FROM packet_chunks"));
        QVERIFY(count > 150000);
        QCOMPARE(model->rowCount(), int(count));
        panel->view()->scrollToBottom();
        const qint64 lastId =
            sqlValue(m_path, QStringLiteral("SELECT max(last_id) FROM packet_chunks"));
        QCOMPARE(model->packetAt(model->rowCount() - 1).id, lastId);
        QCOMPARE(model->index(model->rowCount() - 1, PacketTableModel::ColNo).data().toLongLong(),
                 lastId);
        QCOMPARE(model->rowOfPacket(lastId), model->rowCount() - 1);
    }

    void problemsOnlyOverAllPacketsRunsOnAWorker()
    {
        w().tableView()->clearSelection();
        PacketsPanel *panel = w().inspector()->packetsPanel();
        PacketTableModel *model = panel->model();
        QSignalSpy scanning(model, &PacketTableModel::scanningChanged);
        panel->problemsOnlyBox()->setChecked(true);
        QVERIFY(model->isScanning()); // more than kMemoryRows packets: not on the GUI thread
        QTRY_VERIFY_WITH_TIMEOUT(!model->isScanning(), 60'000);
        qint64 problems = 0;
        w().session()->forEachPacket(-1, [&](const Packet &p) {
            problems += analysisIsProblem(p.analysis) || p.parseStatus != 0 ? 1 : 0;
            return true;
        });
        QVERIFY(problems > 0);
        QCOMPARE(qint64(model->rowCount()), std::min(problems, PacketTableModel::kMaxMatches));
        for (int row = 0; row < std::min(model->rowCount(), 50); ++row)
            QVERIFY(analysisIsProblem(model->packetAt(row).analysis) ||
                    model->packetAt(row).parseStatus != 0);
        panel->problemsOnlyBox()->setChecked(false);
        QCOMPARE(model->rowCount(), int(model->unfilteredCount()));
    }

    void oneConnectionsPacketsGraphAndKernelCharts()
    {
        const std::shared_ptr<const Session> session = w().session();
        ConnectionQuery q;
        q.sortColumn = QStringLiteral("kernel_samples");
        q.descending = true;
        const qint64 id = session->connectionIds(q).value(0);
        QVERIFY(id > 0);
        w().tableView()->sortByColumn(ConnectionTableModel::column("id"), Qt::AscendingOrder);
        QVERIFY(w().tableView()->selectConnection(id));

        // Packets: the connection's, in capture order, as the file has them.
        PacketTableModel *packets = w().inspector()->packetsPanel()->model();
        // Its packet ids from the whole session's stream (another path through the chunks than
        // the per-connection read the views use), checked against the chunk index's count.
        QVector<qint64> sqlPacketIds;
        session->forEachPacket(-1, [&](const Packet &p) {
            if (p.connectionId == id)
                sqlPacketIds.append(p.id);
            return true;
        });
        QCOMPARE(qint64(sqlPacketIds.size()),
                 sqlValue(m_path, QStringLiteral("SELECT sum(count) FROM packet_chunks WHERE "
                                                 "connection_id = %1")
                                      .arg(id)));
        QVERIFY(sqlPacketIds.size() > 1000);
        QCOMPARE(packets->rowCount(), int(sqlPacketIds.size()));
        const QVector<Packet> expected = session->packets(id);
        for (int row : {0, 1, packets->rowCount() / 2, packets->rowCount() - 1}) {
            QCOMPARE(packets->packetAt(row).id, sqlPacketIds.at(row));
            QCOMPARE(packets->packetAt(row).seq, expected.at(row).seq);
            QCOMPARE(packets->packetAt(row).analysis, expected.at(row).analysis);
        }
        QCOMPARE(packets->rowOfPacket(sqlPacketIds.at(777)), 777);

        // Sequence graph: all of that connection's packets.
        w().lowerTabs()->setCurrentWidget(w().inspector());
        w().inspector()->showSequenceGraph();
        QCOMPARE(w().inspector()->seqGraph()->connectionId(), id);
        QCOMPARE(w().inspector()->seqGraph()->data().packetCount(), int(expected.size()));

        // Kernel charts: the connection's samples.
        w().showKernelMetrics();
        w().detailView()->rebuildNow();
        QVERIFY(w().detailView()->showsCharts());
        const qint64 samples = sqlValue(
            m_path, QStringLiteral("SELECT sum(count) FROM sample_chunks WHERE connection_id = %1")
                        .arg(id));
        QVERIFY(samples > 0);
        QCOMPARE(w().detailView()->metrics()->connections().size(), 1);
        QCOMPARE(w().detailView()->metrics()->connections().first().connection.id, id);
        QCOMPARE(qint64(w().detailView()->metrics()->connections().first().samples.size()),
                 samples);
    }

    // A file whose packet ids have gaps (a recorder killed before it wrote some chunks, a full
    // disk): every row of the all-packets list is the packet at that position in id order,
    // down to the last, reached without reading the pages before it.
    void allPacketsWithGapsScroll()
    {
        const QString gaps = m_dir.filePath(QStringLiteral("gaps.tcpscope"));
        QVERIFY(QFile::copy(m_path, gaps));
        sqlite3 *db = nullptr;
        QCOMPARE(sqlite3_open(QFile::encodeName(gaps).constData(), &db), SQLITE_OK);
        QCOMPARE(sqlite3_exec(db, "DELETE FROM packet_chunks WHERE id % 10 = 3", nullptr, nullptr,
                              nullptr),
                 SQLITE_OK);
        sqlite3_close(db);

        QSignalSpy opened(&w(), &MainWindow::sessionOpened);
        w().openSessionInBackground(gaps);
        QVERIFY(opened.wait(30'000));
        QCOMPARE(w().session()->path(), gaps);
        w().tableView()->clearSelection();
        PacketTableModel *model = w().inspector()->packetsPanel()->model();
        QVector<qint64> ids;
        w().session()->forEachPacket(-1, [&ids](const Packet &p) {
            ids.append(p.id);
            return true;
        });
        QVERIFY(ids.size() > 100000);
        QVERIFY(ids.constLast() - ids.constFirst() + 1 > ids.size()); // there are gaps
        QCOMPARE(model->rowCount(), int(ids.size()));
        // The last row first (nothing read before it), then rows all over the list.
        w().inspector()->packetsPanel()->view()->scrollToBottom();
        QCOMPARE(model->packetAt(model->rowCount() - 1).id, ids.constLast());
        for (qint64 row = ids.size() - 2; row >= 0; row -= 4999) {
            QCOMPARE(model->packetAt(int(row)).id, ids.at(row));
            QCOMPARE(model->rowOfPacket(ids.at(row)), int(row));
        }
    }
};

QTEST_MAIN(TestSessionViews)
#include "test_session_views.moc"
