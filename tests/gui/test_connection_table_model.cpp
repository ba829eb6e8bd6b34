// SPDX-License-Identifier: GPL-3.0-or-later
// ConnectionTableModel + ConnectionFilterModel: model invariants (QAbstractItemModelTester),
// incremental upserts with minimal change signals, raw sort values, the text filter.
#include "models/connection_filter_model.h"
#include "models/connection_table_model.h"
#include "session_fixture.h"

#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTest>

using namespace tcpscope;

class TestConnectionTableModel : public QObject
{
    Q_OBJECT

    static constexpr qint64 kOrigin = 1'795'000'000'000'000'000;

    static QString cell(const QAbstractItemModel &m, int row, int col)
    {
        return m.index(row, col).data().toString();
    }

private slots:
    void testerOnLiveUpdates()
    {
        ConnectionTableModel model;
        ConnectionFilterModel proxy;
        proxy.setSourceModel(&model);
        QAbstractItemModelTester t1(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QAbstractItemModelTester t2(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
        proxy.sort(ConnectionTableModel::ColDuration, Qt::DescendingOrder);
        proxy.setFilterText(QStringLiteral("worker1"));

        QVector<Connection> all = testing::syntheticConnections(200, kOrigin);
        model.setConnections(all.mid(0, 50));
        QCOMPARE(model.rowCount(), 50);
        model.upsert(all.mid(40, 100)); // 10 updates + 90 inserts
        QCOMPARE(model.rowCount(), 140);
        model.setReferenceTimeNs(kOrigin + 1'000'000'000);
        proxy.setFilterText(QString());
        QCOMPARE(proxy.rowCount(), 140);
        model.clear();
        QCOMPARE(proxy.rowCount(), 0);
    }

    void upsertSignalsAreMinimal()
    {
        ConnectionTableModel model;
        QVector<Connection> all = testing::syntheticConnections(10, kOrigin);
        model.setConnections(all);
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
        QSignalSpy reset(&model, &QAbstractItemModel::modelReset);

        Connection c3 = all.at(2), c4 = all.at(3), c9 = all.at(8);
        c3.comm = QStringLiteral("renamed");
        Connection fresh1 = testing::syntheticConnections(12, kOrigin).at(10);
        Connection fresh2 = testing::syntheticConnections(12, kOrigin).at(11);
        model.upsert({c4, fresh1, c3, c9, fresh2});

        QCOMPARE(reset.count(), 0);
        QCOMPARE(inserted.count(), 1);               // both new rows in one insertion
        QCOMPARE(inserted.at(0).at(1).toInt(), 10);
        QCOMPARE(inserted.at(0).at(2).toInt(), 11);
        QCOMPARE(changed.count(), 2);                // rows 2..3 as one run, row 8 alone
        QCOMPARE(changed.at(0).at(0).toModelIndex().row(), 2);
        QCOMPARE(changed.at(0).at(1).toModelIndex().row(), 3);
        QCOMPARE(changed.at(1).at(0).toModelIndex().row(), 8);
        QCOMPARE(cell(model, 2, ConnectionTableModel::ColProcess), QStringLiteral("renamed"));
        QCOMPARE(model.rowForId(12), 11);
    }

    void columnsAndSortValues()
    {
        ConnectionTableModel model;
        Connection c = testing::syntheticConnections(1, kOrigin).first();
        c.localAddr = QStringLiteral("2001:db8::10");
        c.family = 6;
        c.haveCloseStats = true;
        c.bytesSent = 3 * 1024 * 1024;
        c.bytesReceived = 512;
        c.retransmits = 2;
        c.srttUs = 1500;
        Connection open = testing::syntheticConnections(2, kOrigin).at(1);
        open.endNs = 0;
        open.state = TcpState::Established;
        open.closeReason = CloseReason::Open;
        open.history.resize(2);
        model.setConnections({c, open});

        QCOMPARE(model.columnCount(), int(ConnectionTableModel::ColumnCount));
        QCOMPARE(model.headerData(ConnectionTableModel::ColSrtt, Qt::Horizontal).toString(), QStringLiteral("SRTT"));
        QCOMPARE(cell(model, 0, ConnectionTableModel::ColFamily), QStringLiteral("IPv6"));
        QCOMPARE(cell(model, 0, ConnectionTableModel::ColLocal), QStringLiteral("[2001:db8::10]:30000"));
        QCOMPARE(cell(model, 0, ConnectionTableModel::ColRemote), QStringLiteral("10.2.0.1:443"));
        QCOMPARE(cell(model, 0, ConnectionTableModel::ColSent), QStringLiteral("3.00 MiB"));
        QCOMPARE(cell(model, 0, ConnectionTableModel::ColReceived), QStringLiteral("512 B"));
        QCOMPARE(cell(model, 0, ConnectionTableModel::ColDuration), QStringLiteral("260 ms"));
        QCOMPARE(cell(model, 0, ConnectionTableModel::ColHandshake), QStringLiteral("100 µs"));
        QCOMPARE(cell(model, 0, ConnectionTableModel::ColSrtt), QStringLiteral("1.50 ms"));
        QCOMPARE(cell(model, 0, ConnectionTableModel::ColCloseReason), QStringLiteral("fin"));
        QCOMPARE(cell(model, 0, ConnectionTableModel::ColStates),
                 QStringLiteral("SYN_SENT>ESTABLISHED>FIN_WAIT1>FIN_WAIT2>TIME_WAIT>CLOSE"));
        const QDateTime start = QDateTime::fromMSecsSinceEpoch(kOrigin / 1'000'000);
        QCOMPARE(cell(model, 0, ConnectionTableModel::ColStart), start.toString(QStringLiteral("hh:mm:ss.zzz")));

        auto sortValue = [&](int row, int col) { return model.index(row, col).data(ConnectionTableModel::SortRole); };
        QCOMPARE(sortValue(0, ConnectionTableModel::ColSent).toLongLong(), qint64(3 * 1024 * 1024));
        QCOMPARE(sortValue(0, ConnectionTableModel::ColDuration).toDouble(), 260.0);
        QCOMPARE(sortValue(1, ConnectionTableModel::ColSent).toLongLong(), qint64(-1)); // no stats yet
        QCOMPARE(model.index(1, 0).data(ConnectionTableModel::ConnectionIdRole).toLongLong(), qint64(2));
        QVERIFY(!model.index(0, ConnectionTableModel::ColStates).data(Qt::ToolTipRole).toString().isEmpty());

        // An open connection's duration follows the reference clock.
        QVERIFY(cell(model, 1, ConnectionTableModel::ColDuration).isEmpty());
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        model.setReferenceTimeNs(open.startNs + 2'000'000'000);
        QCOMPARE(changed.count(), 1);
        QCOMPARE(changed.at(0).at(0).toModelIndex().column(), int(ConnectionTableModel::ColDuration));
        QCOMPARE(cell(model, 1, ConnectionTableModel::ColDuration), QStringLiteral("2.00 s"));
    }

    void numericSortIsNotLexical()
    {
        ConnectionTableModel model;
        QVector<Connection> conns = testing::syntheticConnections(3, kOrigin);
        conns[0].haveCloseStats = conns[1].haveCloseStats = conns[2].haveCloseStats = true;
        conns[0].bytesSent = 900;
        conns[1].bytesSent = 10'000;
        conns[2].bytesSent = 20;
        model.setConnections(conns);
        ConnectionFilterModel proxy;
        proxy.setSourceModel(&model);
        proxy.sort(ConnectionTableModel::ColSent, Qt::AscendingOrder);
        QCOMPARE(cell(proxy, 0, ConnectionTableModel::ColId), QStringLiteral("3"));
        QCOMPARE(cell(proxy, 1, ConnectionTableModel::ColId), QStringLiteral("1"));
        QCOMPARE(cell(proxy, 2, ConnectionTableModel::ColId), QStringLiteral("2"));
    }

    void filterAcrossColumns()
    {
        ConnectionTableModel model;
        model.setConnections(testing::syntheticConnections(100, kOrigin));
        ConnectionFilterModel proxy;
        proxy.setSourceModel(&model);
        QAbstractItemModelTester tester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);

        proxy.setFilterText(QStringLiteral("WORKER7"));                // process, case-insensitive
        QCOMPARE(proxy.rowCount(), 2);                                  // worker7 (x2: i=7,57)
        proxy.setFilterText(QStringLiteral("worker7 10.1.0.57"));      // AND across columns
        QCOMPARE(proxy.rowCount(), 1);
        QCOMPARE(cell(proxy, 0, ConnectionTableModel::ColId), QStringLiteral("58"));
        proxy.setFilterText(QStringLiteral("time_wait"));               // the States column
        QCOMPARE(proxy.rowCount(), 100);
        proxy.setFilterText(QStringLiteral("refused"));
        QCOMPARE(proxy.rowCount(), 0);
        proxy.setFilterText(QStringLiteral("  "));
        QCOMPARE(proxy.rowCount(), 100);
    }
};

QTEST_MAIN(TestConnectionTableModel)
#include "test_connection_table_model.moc"
