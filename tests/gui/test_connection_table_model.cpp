// SPDX-License-Identifier: GPL-3.0-or-later
// ConnectionTableModel over a Session: model invariants (QAbstractItemModelTester) while the
// file grows (live refresh), cell texts, sorting and the text filter done by the Session query.
#include "models/connection_table_model.h"
#include "session/session.h"
#include "session/session_writer.h"
#include "session_fixture.h"

#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTemporaryDir>
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

    QTemporaryDir m_dir;
    int m_files = 0;

    // A session file holding these connections, written by the real writer.
    std::shared_ptr<Session> sessionOf(const QVector<Connection> &connections,
                                       std::unique_ptr<SessionWriter> *keepOpen = nullptr)
    {
        const QString path = m_dir.filePath(QStringLiteral("s%1.tcpscope").arg(++m_files));
        QString error;
        std::unique_ptr<SessionWriter> writer = SessionWriter::create(path, &error);
        if (!writer)
            qFatal("%s", qPrintable(error));
        for (const Connection &c : connections)
            writer->writeConnection(c);
        writer->flush();
        if (keepOpen)
            *keepOpen = std::move(writer);
        else
            writer->close();
        return std::shared_ptr<Session>(Session::open(path, &error));
    }

private slots:
    void testerOnLiveRefresh()
    {
        QVector<Connection> all = testing::syntheticConnections(200, kOrigin);
        std::unique_ptr<SessionWriter> writer;
        std::shared_ptr<Session> session = sessionOf(all.mid(0, 50), &writer);
        QVERIFY(session);
        ConnectionTableModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.sort(ConnectionTableModel::ColStart, Qt::DescendingOrder);
        model.setSession(session);
        QCOMPARE(model.rowCount(), 50);
        QCOMPARE(model.idAt(0), qint64(50)); // latest start first

        // Rows the user holds on to keep their identity when the session grows.
        QPersistentModelIndex held = model.index(10, ConnectionTableModel::ColId);
        const qint64 heldId = held.data().toLongLong();
        QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
        QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
        for (const Connection &c : all.mid(40, 100)) // 10 updates + 90 new
            writer->writeConnection(c);
        QVERIFY(writer->flush());
        QVERIFY(session->refresh());
        model.refresh();
        QCOMPARE(model.rowCount(), 140);
        QCOMPARE(reset.count(), 0);
        QCOMPARE(inserted.count(), 1);
        QVERIFY(held.isValid());
        QCOMPARE(held.data().toLongLong(), heldId);
        QCOMPARE(model.idAt(0), qint64(140));
        model.setFilterText(QStringLiteral("worker1"));
        model.setReferenceTimeNs(kOrigin + 1'000'000'000);
        model.setFilterText(QString());
        QCOMPARE(model.rowCount(), 140);
        model.setSession(nullptr);
        QCOMPARE(model.rowCount(), 0);
    }

    void columnsAndSortValues()
    {
        ConnectionTableModel model;
        Connection c = testing::syntheticConnections(1, kOrigin).first();
        c.localAddr = QStringLiteral("2001:db8::10");
        c.remoteAddr = QStringLiteral("2001:db8::1");
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
        model.setSession(sessionOf({c, open}));

        QCOMPARE(model.columnCount(), int(ConnectionTableModel::ColumnCount));
        QCOMPARE(model.headerData(ConnectionTableModel::ColSrtt, Qt::Horizontal).toString(),
                 QStringLiteral("SRTT"));
        QCOMPARE(cell(model, 0, ConnectionTableModel::ColFamily), QStringLiteral("IPv6"));
        QCOMPARE(cell(model, 0, ConnectionTableModel::ColLocal),
                 QStringLiteral("[2001:db8::10]:30000"));
        QCOMPARE(cell(model, 0, ConnectionTableModel::ColRemote),
                 QStringLiteral("[2001:db8::1]:443"));
        QCOMPARE(cell(model, 0, ConnectionTableModel::ColSent), QStringLiteral("3.00 MiB"));
        QCOMPARE(cell(model, 0, ConnectionTableModel::ColReceived), QStringLiteral("512 B"));
        QCOMPARE(cell(model, 0, ConnectionTableModel::ColDuration), QStringLiteral("260 ms"));
        QCOMPARE(cell(model, 0, ConnectionTableModel::ColHandshake), QStringLiteral("100 µs"));
        QCOMPARE(cell(model, 0, ConnectionTableModel::ColSrtt), QStringLiteral("1.50 ms"));
        QCOMPARE(cell(model, 0, ConnectionTableModel::ColCloseReason), QStringLiteral("fin"));
        QCOMPARE(cell(model, 0, ConnectionTableModel::ColStates),
                 QStringLiteral("SYN_SENT>ESTABLISHED>FIN_WAIT1>FIN_WAIT2>TIME_WAIT>CLOSE"));
        const QDateTime start = QDateTime::fromMSecsSinceEpoch(kOrigin / 1'000'000);
        QCOMPARE(cell(model, 0, ConnectionTableModel::ColStart),
                 start.toString(QStringLiteral("hh:mm:ss.zzz")));

        QCOMPARE(model.index(1, 0).data(ConnectionTableModel::ConnectionIdRole).toLongLong(),
                 qint64(2));
        QVERIFY(!model.index(0, ConnectionTableModel::ColStates)
                     .data(Qt::ToolTipRole)
                     .toString()
                     .isEmpty());

        // An open connection's duration follows the reference clock.
        QVERIFY(cell(model, 1, ConnectionTableModel::ColDuration).isEmpty());
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        model.setReferenceTimeNs(open.startNs + 2'000'000'000);
        QCOMPARE(changed.count(), 1);
        QCOMPARE(changed.at(0).at(0).toModelIndex().column(),
                 int(ConnectionTableModel::ColDuration));
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
        model.setSession(sessionOf(conns));
        model.sort(ConnectionTableModel::ColSent, Qt::AscendingOrder);
        QCOMPARE(cell(model, 0, ConnectionTableModel::ColId), QStringLiteral("3"));
        QCOMPARE(cell(model, 1, ConnectionTableModel::ColId), QStringLiteral("1"));
        QCOMPARE(cell(model, 2, ConnectionTableModel::ColId), QStringLiteral("2"));
        model.sort(ConnectionTableModel::ColSent, Qt::DescendingOrder);
        QCOMPARE(cell(model, 0, ConnectionTableModel::ColId), QStringLiteral("2"));
    }

    void filterAcrossColumns()
    {
        ConnectionTableModel model;
        model.setSession(sessionOf(testing::syntheticConnections(100, kOrigin)));
        ConnectionTableModel &proxy = model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);

        proxy.setFilterText(QStringLiteral("WORKER7"));           // process, case-insensitive
        QCOMPARE(proxy.rowCount(), 2);                            // worker7 (x2: i=7,57)
        proxy.setFilterText(QStringLiteral("worker7 10.1.0.57")); // AND across columns
        QCOMPARE(proxy.rowCount(), 1);
        QCOMPARE(cell(proxy, 0, ConnectionTableModel::ColId), QStringLiteral("58"));
        proxy.setFilterText(QStringLiteral("close")); // the state
        QCOMPARE(proxy.rowCount(), 100);
        proxy.setFilterText(QStringLiteral("refused"));
        QCOMPARE(proxy.rowCount(), 0);
        proxy.setFilterText(QStringLiteral("  "));
        QCOMPARE(proxy.rowCount(), 100);
    }
};

QTEST_MAIN(TestConnectionTableModel)
#include "test_connection_table_model.moc"
