// SPDX-License-Identifier: GPL-3.0-or-later
// ConnectionTableModel over a Session: model invariants (QAbstractItemModelTester) while the
// file grows (live refresh), cell texts, sorting and the text filter done by the Session query;
// the column list (viewColumns) and what the model does with each column agree.
#include "filter/display_filter.h"
#include "models/cell_filters.h"
#include "models/connection_table_model.h"
#include "session/session.h"
#include "session/session_writer.h"
#include "session_fixture.h"
#include "test_addresses.h"

#include <QAbstractItemModelTester>
#include <QRandomGenerator>
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
                                       std::unique_ptr<SessionWriter> *keepOpen = nullptr,
                                       const OwnerNames &owners = {})
    {
        const QString path = m_dir.filePath(QStringLiteral("s%1.tcpscope").arg(++m_files));
        QString error;
        std::unique_ptr<SessionWriter> writer = SessionWriter::create(path, &error);
        if (!writer)
            qFatal("%s", qPrintable(error));
        writer->writeOwnerNames(owners);
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
        model.sort(ConnectionTableModel::column("start"), Qt::DescendingOrder);
        model.setSession(session);
        QCOMPARE(model.rowCount(), 50);
        QCOMPARE(model.idAt(0), qint64(50)); // latest start first

        // Rows the user holds on to keep their identity when the session grows.
        QPersistentModelIndex held = model.index(10, ConnectionTableModel::column("id"));
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
        c.localAddr = test::ip(QStringLiteral("2001:db8::10"));
        c.remoteAddr = test::ip(QStringLiteral("2001:db8::1"));
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

        QCOMPARE(model.columnCount(), int(ConnectionTableModel::viewColumns().size()));
        QCOMPARE(model.headerData(ConnectionTableModel::column("srtt"), Qt::Horizontal).toString(),
                 QStringLiteral("SRTT"));
        QCOMPARE(cell(model, 0, ConnectionTableModel::column("family")), QStringLiteral("IPv6"));
        QCOMPARE(cell(model, 0, ConnectionTableModel::column("local")),
                 QStringLiteral("[2001:db8::10]:30000"));
        QCOMPARE(cell(model, 0, ConnectionTableModel::column("remote")),
                 QStringLiteral("[2001:db8::1]:443"));
        QCOMPARE(cell(model, 0, ConnectionTableModel::column("sent")), QStringLiteral("3.00 MiB"));
        QCOMPARE(cell(model, 0, ConnectionTableModel::column("received")), QStringLiteral("512 B"));
        QCOMPARE(cell(model, 0, ConnectionTableModel::column("duration")),
                 QStringLiteral("260 ms"));
        QCOMPARE(cell(model, 0, ConnectionTableModel::column("handshake")),
                 QStringLiteral("100 µs"));
        QCOMPARE(cell(model, 0, ConnectionTableModel::column("srtt")), QStringLiteral("1.50 ms"));
        QCOMPARE(cell(model, 0, ConnectionTableModel::column("close_reason")),
                 QStringLiteral("fin"));
        QCOMPARE(cell(model, 0, ConnectionTableModel::column("states")),
                 QStringLiteral("SYN_SENT>ESTABLISHED>FIN_WAIT1>FIN_WAIT2>TIME_WAIT>CLOSE"));
        const QDateTime start = QDateTime::fromMSecsSinceEpoch(kOrigin / 1'000'000);
        QCOMPARE(cell(model, 0, ConnectionTableModel::column("start")),
                 start.toString(QStringLiteral("hh:mm:ss.zzz")));

        QCOMPARE(model.index(1, 0).data(ConnectionTableModel::ConnectionIdRole).toLongLong(),
                 qint64(2));
        QVERIFY(!model.index(0, ConnectionTableModel::column("states"))
                     .data(Qt::ToolTipRole)
                     .toString()
                     .isEmpty());

        // An open connection's duration follows the reference clock.
        QVERIFY(cell(model, 1, ConnectionTableModel::column("duration")).isEmpty());
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        model.setReferenceTimeNs(open.startNs + 2'000'000'000);
        QCOMPARE(changed.count(), 1);
        QCOMPARE(changed.at(0).at(0).toModelIndex().column(),
                 ConnectionTableModel::column("duration"));
        QCOMPARE(cell(model, 1, ConnectionTableModel::column("duration")),
                 QStringLiteral("2.00 s"));
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
        model.sort(ConnectionTableModel::column("sent"), Qt::AscendingOrder);
        QCOMPARE(cell(model, 0, ConnectionTableModel::column("id")), QStringLiteral("3"));
        QCOMPARE(cell(model, 1, ConnectionTableModel::column("id")), QStringLiteral("1"));
        QCOMPARE(cell(model, 2, ConnectionTableModel::column("id")), QStringLiteral("2"));
        model.sort(ConnectionTableModel::column("sent"), Qt::DescendingOrder);
        QCOMPARE(cell(model, 0, ConnectionTableModel::column("id")), QStringLiteral("2"));
    }

    // Every column of viewColumns() is what the model shows, sorts by and filters on: its
    // header, tip and alignment; a sortable column orders the rows by the stored column it
    // names; the cell's "Apply as Filter" expression selects the row, through the model's
    // filter, for every column whose stored columns all have a filter field.
    void viewColumnsAgreeWithTheModel()
    {
        const QVector<ConnectionTableModel::ViewColumn> &columns =
            ConnectionTableModel::viewColumns();
        QSet<QByteArray> keys;
        for (int i = 0; i < columns.size(); ++i) {
            const ConnectionTableModel::ViewColumn &vc = columns.at(i);
            QVERIFY(vc.key && vc.header && vc.tip && vc.display);
            QVERIFY2(!keys.contains(vc.key), vc.key);
            keys.insert(vc.key);
            QCOMPARE(ConnectionTableModel::column(vc.key), i);
            QVERIFY2(!vc.sorts || !vc.stored.isEmpty(), vc.key);
            QCOMPARE(ConnectionTableModel::sqlSortColumn(i),
                     vc.sorts ? QString::fromLatin1(vc.stored.first()->name) : QString());
            QStringList names;
            for (const ConnectionColumn *stored : vc.stored)
                names << QLatin1String(stored->name);
            QCOMPARE(ConnectionTableModel::filterColumns(i), names);
        }

        // Connections whose stored values differ in every column and in different orders.
        QRandomGenerator random(7);
        QVector<Connection> conns = testing::syntheticConnections(12, kOrigin);
        const TcpState states[] = {TcpState::Established, TcpState::Close, TcpState::SynSent,
                                   TcpState::TimeWait, TcpState::CloseWait};
        const CloseReason reasons[] = {CloseReason::Fin, CloseReason::Reset, CloseReason::Open,
                                       CloseReason::Refused, CloseReason::Timeout};
        const ConnectionRole roles[] = {ConnectionRole::Client, ConnectionRole::Server,
                                        ConnectionRole::Listener};
        for (Connection &c : conns) {
            auto r = [&random](int n) { return int(random.bounded(n)); };
            c.pid = quint32(100 + r(5000));
            c.comm = QStringLiteral("proc%1").arg(r(1000));
            c.role = roles[r(3)];
            const bool v6 = r(2);
            c.localAddr = test::ip(v6 ? QStringLiteral("2001:db8::%1").arg(r(200), 0, 16)
                                      : QStringLiteral("10.0.%1.%2").arg(r(250)).arg(r(250)));
            c.localPort = quint16(1 + r(65000));
            c.remoteAddr = test::ip(v6 ? QStringLiteral("2001:db8:1::%1").arg(r(200), 0, 16)
                                       : QStringLiteral("192.168.%1.%2").arg(r(250)).arg(r(250)));
            c.remotePort = quint16(1 + r(65000));
            c.state = states[r(5)];
            c.closeReason = reasons[r(5)];
            c.startNs = kOrigin + qint64(r(1'000'000)) * 1000;
            c.endNs = r(4) ? c.startNs + qint64(1 + r(10'000)) * 1'000'000 : 0;
            c.handshakeNs = r(5) ? qint64(r(1'000'000)) : -1;
            c.haveCloseStats = r(4) != 0;
            c.bytesSent = quint64(r(1'000'000));
            c.bytesReceived = quint64(r(1'000'000));
            c.retransmits = quint32(r(20));
            c.srttUs = quint32(r(100'000));
            c.kernel.samples = quint32(r(50));
            c.kernel.srttUsMin = quint32(r(50'000));
            c.kernel.srttUsMax = c.kernel.srttUsMin + quint32(r(50'000));
            c.kernel.cwndMax = quint32(r(100));
            c.kernel.retransmits = quint32(r(10));
            c.kernel.resetsSent = quint32(r(3));
            c.kernel.resetsReceived = quint32(r(3));
            c.kernel.drops = quint32(r(10));
            c.history.resize(1 + r(c.history.size()));
            c.cgroupId = 10 + quint64(r(4));
        }
        OwnerNames owners;
        for (quint64 id = 10; id < 14; ++id)
            owners.cgroupPaths.insert(id, QStringLiteral("/system.slice/unit%1.service").arg(id));
        ConnectionTableModel model;
        model.setSession(sessionOf(conns, nullptr, owners));
        QCOMPARE(model.rowCount(), int(conns.size()));
        QCOMPARE(model.columnCount(), int(columns.size()));

        // SQLite's order of stored values: NULL, then integers, then text (bytes of UTF-8).
        auto compare = [](const ColumnValue &a, const ColumnValue &b) {
            if (a.kind != b.kind)
                return int(a.kind) - int(b.kind);
            if (a.kind == ColumnValue::Integer)
                return a.integer < b.integer ? -1 : a.integer > b.integer ? 1 : 0;
            return qstrcmp(a.text.toUtf8(), b.text.toUtf8());
        };
        for (int i = 0; i < columns.size(); ++i) {
            const ConnectionTableModel::ViewColumn &vc = columns.at(i);
            QCOMPARE(model.headerData(i, Qt::Horizontal).toString(), QString::fromUtf8(vc.header));
            const QString tip = model.headerData(i, Qt::Horizontal, Qt::ToolTipRole).toString();
            QVERIFY2(tip.startsWith(QString::fromUtf8(vc.tip)), vc.key);
            QCOMPARE(tip.endsWith(QLatin1String(" (not sortable)")), !vc.sorts);
            const auto align = Qt::Alignment(model.index(0, i).data(Qt::TextAlignmentRole).toInt());
            QCOMPARE(bool(align & Qt::AlignRight), vc.numeric);

            QSignalSpy notice(&model, &ConnectionTableModel::notice);
            for (const Qt::SortOrder order : {Qt::AscendingOrder, Qt::DescendingOrder}) {
                model.sort(ConnectionTableModel::column("id"), Qt::AscendingOrder);
                model.sort(i, order);
                if (!vc.sorts) {
                    QCOMPARE(model.sortColumn(), ConnectionTableModel::column("id"));
                    continue;
                }
                QCOMPARE(model.sortColumn(), i);
                QCOMPARE(model.rowCount(), int(conns.size()));
                int distinct = 0;
                for (int row = 1; row < model.rowCount(); ++row) {
                    const int cmp = compare(vc.stored.first()->value(model.connectionAt(row - 1)),
                                            vc.stored.first()->value(model.connectionAt(row)));
                    QVERIFY2(order == Qt::AscendingOrder ? cmp <= 0 : cmp >= 0,
                             qPrintable(QStringLiteral("%1: rows %2 and %3 out of order")
                                            .arg(QLatin1String(vc.key))
                                            .arg(row - 1)
                                            .arg(row)));
                    distinct += cmp != 0;
                }
                QVERIFY2(distinct > 0, vc.key); // the rows did have an order to follow
            }
            QCOMPARE(notice.count(), vc.sorts ? 0 : 2);
        }

        model.sort(ConnectionTableModel::column("id"), Qt::AscendingOrder);
        QVector<Connection> rows;
        for (int row = 0; row < model.rowCount(); ++row)
            rows.append(model.connectionAt(row));

        // Each stored column a column names is one its cells show: another row's value of it
        // put into a row changes the row's text, unless the column reads the same on every row
        // of this session (Host: one host). Stored columns the reader derives (states) are
        // not set from a value.
        for (int i = 0; i < columns.size(); ++i) {
            const ConnectionTableModel::ViewColumn &vc = columns.at(i);
            auto text = [&](const Connection &c) { return vc.display(model, c).toString(); };
            bool constant = true;
            for (const Connection &c : std::as_const(rows))
                constant &= text(c) == text(rows.first());
            for (const ConnectionColumn *stored : vc.stored) {
                if (constant || !stored->read())
                    continue;
                bool shown = false;
                for (const Connection &c : std::as_const(rows)) {
                    for (const Connection &other : std::as_const(rows)) {
                        Connection changed = c;
                        if (compare(stored->value(other), stored->value(c)) != 0 &&
                            stored->assign(changed, stored->value(other)) &&
                            text(changed) != text(c))
                            shown = true;
                    }
                }
                QVERIFY2(shown,
                         qPrintable(QStringLiteral("%1 does not show %2")
                                        .arg(QLatin1String(vc.key), QLatin1String(stored->name))));
            }
        }

        // Apply as Filter: the expression of each cell selects its row in the model.
        for (int i = 0; i < columns.size(); ++i) {
            const ConnectionTableModel::ViewColumn &vc = columns.at(i);
            bool filterable = !vc.stored.isEmpty();
            for (const ConnectionColumn *stored : vc.stored)
                filterable &= stored->filterField || qstrcmp(stored->name, "family") == 0;
            for (const Connection &c : std::as_const(rows)) {
                const QString expr = connectionCellFilter(c, i);
                QCOMPARE(expr.isEmpty(), !filterable);
                if (expr.isEmpty())
                    continue;
                model.setFilterText(expr);
                QVERIFY2(
                    model.rowForId(c.id) >= 0,
                    qPrintable(
                        QStringLiteral("%1 does not select connection %2").arg(expr).arg(c.id)));
            }
            model.setFilterText({});
        }
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
        QCOMPARE(cell(proxy, 0, ConnectionTableModel::column("id")), QStringLiteral("58"));
        proxy.setFilterText(QStringLiteral("close")); // the state
        QCOMPARE(proxy.rowCount(), 100);
        proxy.setFilterText(QStringLiteral("refused"));
        QCOMPARE(proxy.rowCount(), 0);
        proxy.setFilterText(QStringLiteral("  "));
        QCOMPARE(proxy.rowCount(), 100);
    }

    void wordIndexReadAhead()
    {
        // A session too large to read on the GUI thread unasked: the filter text is read on a
        // worker when the session is shown and handed to it, so the first word only searches
        // memory; a word typed before that reads the text itself and finds the same rows.
        const int n = int(ConnectionTableModel::kSyncPassRows) + 1;
        const std::shared_ptr<Session> session =
            sessionOf(testing::syntheticConnections(n, kOrigin));
        QVERIFY(session);
        QVERIFY(!session->hasWordIndex());
        {
            ConnectionTableModel model;
            model.setSession(session);
            QTRY_VERIFY_WITH_TIMEOUT(session->hasWordIndex(), 30000);
            model.setFilterText(QStringLiteral("worker7 10.1.0.57"));
            QCOMPARE(model.rowCount(), 1);
            QCOMPARE(model.idAt(0), qint64(58));
        }
        const std::shared_ptr<Session> again = Session::open(session->path(), nullptr);
        QVERIFY(again);
        ConnectionTableModel model;
        model.setSession(again);
        model.setFilterText(QStringLiteral("worker7 10.1.0.57"));
        QVERIFY(again->hasWordIndex());
        QCOMPARE(model.rowCount(), 1);
        QCOMPARE(model.idAt(0), qint64(58));
    }
};

QTEST_MAIN(TestConnectionTableModel)
#include "test_connection_table_model.moc"
