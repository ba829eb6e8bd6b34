// SPDX-License-Identifier: GPL-3.0-or-later
// The expressions "Apply as Filter" builds from a connection's column: every column's filter
// field exists and applies to connections, the expression for a value selects that connection
// and not one with another value, unknown values become "!field", several columns are joined
// with &&, and the ways of combining a selection with the current filter.
#include "filter/display_filter.h"
#include "filter/fields.h"
#include "filter/filter_expression.h"
#include "model/connection_columns.h"
#include "test_addresses.h"

#include <QTest>

using namespace tcpscope;

namespace {

Connection curlClient()
{
    Connection c;
    c.id = 17;
    c.pid = 200;
    c.comm = QStringLiteral("cu\"rl");
    c.localAddr = test::ip(QStringLiteral("2001:db8::10"));
    c.localPort = 50000;
    c.remoteAddr = test::ip(QStringLiteral("2001:db8::1"));
    c.remotePort = 443;
    c.role = ConnectionRole::Client;
    c.state = TcpState::Established;
    c.closeReason = CloseReason::Open;
    c.startNs = 1'000'000'000;
    c.handshakeNs = 1'500'000;
    c.haveCloseStats = true;
    c.bytesSent = 4096;
    c.bytesReceived = 1234;
    c.srttUs = 250;
    c.kernel.srttUsMin = 120;
    c.kernel.srttUsMax = 900;
    c.kernel.cwndMax = 42;
    c.kernel.retransmits = 3;
    return c;
}

QString columnFilter(const char *name, const Connection &c)
{
    return connectionColumnFilter(connectionColumn(name), c);
}

bool selects(const QString &expr, const Connection &c)
{
    FilterError error;
    const DisplayFilter f = DisplayFilter::compile(expr, FilterTarget::Connections, &error);
    if (!f.isValid())
        qWarning("%s: %s", qPrintable(expr), qPrintable(error.message));
    return f.isValid() && f.matches(c, FilterContext());
}

} // namespace

class TestFilterExpression : public QObject
{
    Q_OBJECT
private slots:
    void everyFilterFieldIsAConnectionField()
    {
        int mapped = 0;
        for (const ConnectionColumn &column : connectionColumns()) {
            if (!column.filterField)
                continue;
            ++mapped;
            const filter::FieldInfo *field = filter::findField(QLatin1String(column.filterField));
            QVERIFY2(field && field->connections, column.filterField);
        }
        QCOMPARE(mapped, 18);
    }

    void expressionPerColumn_data()
    {
        QTest::addColumn<QString>("column");
        QTest::addColumn<QString>("expected");
        QTest::newRow("id") << "id"
                            << "conn.id == 17";
        QTest::newRow("pid") << "pid"
                             << "proc.pid == 200";
        QTest::newRow("comm") << "comm"
                              << "proc.name == \"cu\\\"rl\"";
        QTest::newRow("family") << "family"
                                << "ipv6.addr";
        QTest::newRow("local_addr") << "local_addr"
                                    << "conn.local_addr == 2001:db8::10";
        QTest::newRow("local_port") << "local_port"
                                    << "conn.local_port == 50000";
        QTest::newRow("remote_addr") << "remote_addr"
                                     << "conn.remote_addr == 2001:db8::1";
        QTest::newRow("remote_port") << "remote_port"
                                     << "conn.remote_port == 443";
        QTest::newRow("role") << "role"
                              << "conn.role == client";
        QTest::newRow("state") << "state"
                               << "conn.state == ESTABLISHED";
        QTest::newRow("close_reason") << "close_reason"
                                      << "conn.close_reason == open";
        QTest::newRow("handshake") << "handshake_ns"
                                   << "conn.handshake_time == 1500000ns";
        QTest::newRow("bytes_sent") << "bytes_sent"
                                    << "conn.bytes_sent == 4096";
        QTest::newRow("bytes_received") << "bytes_received"
                                        << "conn.bytes_received == 1234";
        QTest::newRow("srtt") << "srtt_us"
                              << "kernel.srtt == 250us";
        QTest::newRow("srtt_min") << "srtt_us_min"
                                  << "kernel.srtt_min == 120us";
        QTest::newRow("srtt_max") << "srtt_us_max"
                                  << "kernel.srtt_max == 900us";
        QTest::newRow("cwnd") << "cwnd_max"
                              << "kernel.cwnd == 42";
        QTest::newRow("kernel_retransmits") << "kernel_retransmits"
                                            << "kernel.retransmits == 3";
        // No field: the start time, the summary's packet counts.
        QTest::newRow("start") << "start_ns"
                               << "";
        QTest::newRow("packets_in") << "packets_in"
                                    << "";
    }

    void expressionPerColumn()
    {
        QFETCH(QString, column);
        QFETCH(QString, expected);
        const Connection c = curlClient();
        const QString expr = columnFilter(column.toLatin1().constData(), c);
        QCOMPARE(expr, expected);
        if (expected.isEmpty())
            return;
        QVERIFY(selects(expr, c));
        // The value matters: a connection that differs in every value is not selected.
        Connection other;
        other.id = 99;
        other.pid = 300;
        other.comm = QStringLiteral("wget");
        other.localAddr = test::ip(QStringLiteral("10.0.0.1"));
        other.localPort = 1;
        other.remoteAddr = test::ip(QStringLiteral("10.0.0.2"));
        other.remotePort = 2;
        other.role = ConnectionRole::Server;
        other.state = TcpState::Close;
        other.closeReason = CloseReason::Fin;
        other.handshakeNs = 7;
        other.haveCloseStats = true;
        other.bytesSent = 1;
        other.bytesReceived = 2;
        other.srttUs = 3;
        other.kernel.srttUsMin = 1;
        other.kernel.srttUsMax = 5;
        other.kernel.cwndMax = 10;
        other.kernel.retransmits = 0;
        QVERIFY2(!selects(expr, other), qPrintable(expr));
    }

    void unknownValuesAreAbsentFields()
    {
        Connection c = curlClient();
        c.pid = 0;
        c.handshakeNs = -1;
        c.haveCloseStats = false; // bytes and srtt are known only from the close statistics
        c.kernel.cwndMax = 0;
        QCOMPARE(columnFilter("pid", c), QStringLiteral("!proc.pid"));
        QCOMPARE(columnFilter("handshake_ns", c), QStringLiteral("!conn.handshake_time"));
        QCOMPARE(columnFilter("bytes_sent", c), QStringLiteral("!conn.bytes_sent"));
        QCOMPARE(columnFilter("srtt_us", c), QStringLiteral("!kernel.srtt"));
        QCOMPARE(columnFilter("cwnd_max", c), QStringLiteral("!kernel.cwnd"));
        for (const char *name : {"pid", "handshake_ns", "bytes_sent", "srtt_us", "cwnd_max"})
            QVERIFY2(selects(columnFilter(name, c), c), name);
        QVERIFY(!selects(columnFilter("pid", c), curlClient()));
    }

    void ipv4AndSeveralColumns()
    {
        Connection c = curlClient();
        c.localAddr = test::ip(QStringLiteral("127.0.0.1"));
        c.localPort = 40001;
        QCOMPARE(columnFilter("family", c), QStringLiteral("ip.addr"));
        const QString local = connectionColumnsFilter(
            {QStringLiteral("local_addr"), QStringLiteral("local_port")}, c);
        QCOMPARE(local, QStringLiteral("conn.local_addr == 127.0.0.1 && conn.local_port == 40001"));
        QVERIFY(selects(local, c));
        Connection samePortOtherAddr = c;
        samePortOtherAddr.localAddr = test::ip(QStringLiteral("127.0.0.2"));
        QVERIFY(!selects(local, samePortOtherAddr));
        QCOMPARE(
            connectionColumnsFilter({QStringLiteral("local_addr"), QStringLiteral("start_ns")}, c),
            QString());
    }

    void combine_data()
    {
        QTest::addColumn<QString>("current");
        QTest::addColumn<QString>("selected");
        QTest::addColumn<int>("how");
        QTest::addColumn<QString>("expected");
        const QString port = QStringLiteral("conn.remote_port == 443");
        QTest::newRow("selected") << "proc.pid == 1" << port << int(FilterCombine::Selected)
                                  << port;
        QTest::newRow("not") << "x" << port << int(FilterCombine::NotSelected)
                             << "!(conn.remote_port == 443)";
        QTest::newRow("not bare field")
            << ""
            << "ip.addr" << int(FilterCombine::NotSelected) << "!ip.addr";
        QTest::newRow("and empty") << "  " << port << int(FilterCombine::And) << port;
        QTest::newRow("and") << "proc.name == \"curl\"" << port << int(FilterCombine::And)
                             << "proc.name == \"curl\" && conn.remote_port == 443";
        QTest::newRow("and after or")
            << "conn.id == 1 || conn.id == 2" << port << int(FilterCombine::And)
            << "(conn.id == 1 || conn.id == 2) && conn.remote_port == 443";
        QTest::newRow("and after word or")
            << "conn.id == 1 or conn.id == 2" << port << int(FilterCombine::And)
            << "(conn.id == 1 or conn.id == 2) && conn.remote_port == 443";
        QTest::newRow("or in parens stays")
            << "(conn.id == 1 || conn.id == 2)" << port << int(FilterCombine::And)
            << "(conn.id == 1 || conn.id == 2) && conn.remote_port == 443";
        QTest::newRow("or") << "conn.id == 1 && conn.id == 2" << port << int(FilterCombine::Or)
                            << "conn.id == 1 && conn.id == 2 || conn.remote_port == 443";
        QTest::newRow("and not") << "conn.id == 1" << port << int(FilterCombine::AndNot)
                                 << "conn.id == 1 && !(conn.remote_port == 443)";
        QTest::newRow("or not") << "conn.id == 1" << port << int(FilterCombine::OrNot)
                                << "conn.id == 1 || !(conn.remote_port == 443)";
        QTest::newRow("and not empty")
            << "" << port << int(FilterCombine::AndNot) << "!(conn.remote_port == 443)";
    }

    void combine()
    {
        QFETCH(QString, current);
        QFETCH(QString, selected);
        QFETCH(int, how);
        QFETCH(QString, expected);
        const QString result = combineFilters(current, selected, FilterCombine(how));
        QCOMPARE(result, expected);
        QVERIFY2(!DisplayFilter::check(result, FilterTarget::Connections) ||
                     current.trimmed() == QLatin1String("x"),
                 qPrintable(result));
    }

    void combinedFilterMeansWhatItSays()
    {
        // (A || B) && C must not become A || (B && C).
        Connection one = curlClient();
        one.id = 1;
        one.remotePort = 80;
        const QString f =
            combineFilters(QStringLiteral("conn.id == 1 || conn.id == 2"),
                           QStringLiteral("conn.remote_port == 443"), FilterCombine::And);
        QVERIFY(!selects(f, one));
        one.remotePort = 443;
        QVERIFY(selects(f, one));
    }
};

QTEST_GUILESS_MAIN(TestFilterExpression)
#include "test_filter_expression.moc"
