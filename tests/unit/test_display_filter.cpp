// SPDX-License-Identifier: GPL-3.0-or-later
// The display-filter language on hand-built packets and connections: a table of expressions with
// the packets / connections each must select, a table of invalid expressions with the exact
// message (column and what was expected), the field list against docs/FILTERS.md, and the
// evaluation rate (printed, not asserted).
#include "export/packet_export.h"
#include "filter/display_filter.h"
#include "filter/fields.h"
#include "model/address.h"
#include "test_addresses.h"

extern "C" {
#include "tcpscope_records.h"
}

#include <QElapsedTimer>
#include <QFile>
#include <QTest>

using namespace tcpscope;

namespace {

constexpr qint64 kOrigin = 1'764'300'000'000'000'000;
constexpr qint64 kMs = 1'000'000;

Connection makeConnection(qint64 id, const char *local, quint16 localPort, const char *remote,
                          quint16 remotePort)
{
    Connection c;
    c.id = id;
    c.localAddr = test::ip(QLatin1String(local));
    c.localPort = localPort;
    c.remoteAddr = test::ip(QLatin1String(remote));
    c.remotePort = remotePort;
    return c;
}

Packet makePacket(qint64 connectionId, int family, const char *src, quint16 srcPort,
                  const char *dst, quint16 dstPort, quint8 flags, qint64 timeNs)
{
    Packet p;
    p.connectionId = connectionId;
    p.srcAddr = IpAddress::parse(AddressFamily(family), QString::fromLatin1(src));
    p.dstAddr = IpAddress::parse(AddressFamily(family), QString::fromLatin1(dst));
    p.srcPort = srcPort;
    p.dstPort = dstPort;
    p.tcpFlags = flags;
    p.timeNs = kOrigin + timeNs;
    p.ifindex = 2;
    return p;
}

} // namespace

class TestDisplayFilter : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void packets_data();
    void packets();
    void connections_data();
    void connections();
    void errors_data();
    void errors();
    void emptyAndInvalid();
    void fieldList();
    void ownerFields();
    void peerFields();
    void evaluationRate();

private:
    QVector<Connection> m_connections;
    QVector<Packet> m_packets;
    FilterContext m_context;
};

void TestDisplayFilter::initTestCase()
{
    // 1: a client on eth0 to a web server: closed with FIN, kernel numbers known.
    Connection c1 = makeConnection(1, "10.1.2.3", 40000, "93.184.216.34", 443);
    c1.pid = 100;
    c1.comm = QStringLiteral("curl");
    c1.role = ConnectionRole::Client;
    c1.state = TcpState::Close;
    c1.closeReason = CloseReason::Fin;
    c1.startNs = kOrigin;
    c1.endNs = kOrigin + 1000 * kMs;
    c1.handshakeNs = 2 * kMs;
    c1.haveCloseStats = true;
    c1.bytesSent = 5000;
    c1.bytesReceived = 100000;
    c1.srttUs = 12000;
    c1.kernel.srttUsMin = 9000;
    c1.kernel.srttUsMax = 15000;
    c1.kernel.cwndMax = 40;
    c1.kernel.retransmits = 1;
    // 2: a loopback server reset by its peer; the kernel dropped one of its packets.
    Connection c2 = makeConnection(2, "127.0.0.1", 8080, "127.0.0.1", 50000);
    c2.pid = 200;
    c2.comm = QStringLiteral("nginx");
    c2.role = ConnectionRole::Server;
    c2.state = TcpState::Close;
    c2.closeReason = CloseReason::Reset;
    c2.startNs = kOrigin + 1000 * kMs;
    c2.endNs = c2.startNs + 3000 * kMs;
    c2.haveCloseStats = true;
    c2.srttUs = 50;
    // 3: an IPv6 client still open at the end of the session.
    Connection c3 = makeConnection(3, "::1", 9000, "fe80::1", 22);
    c3.pid = 300;
    c3.comm = QStringLiteral("ssh");
    c3.role = ConnectionRole::Client;
    c3.state = TcpState::Established;
    c3.startNs = kOrigin + 1900 * kMs;
    m_connections = {c1, c2, c3};
    for (const Connection &c : m_connections)
        m_context.addConnection(c);

    KernelData kernel;
    DropEvent drop;
    drop.connectionId = 2;
    drop.reasonName = QStringLiteral("TCP_CSUM");
    kernel.drops.append(drop);
    drop.connectionId = 0; // not joined: belongs to no connection
    drop.reasonName = QStringLiteral("NO_SOCKET");
    kernel.drops.append(drop);
    KernelEvent rst;
    rst.connectionId = 2;
    rst.kind = KernelEventKind::ResetSent;
    rst.reasonName = QStringLiteral("NOT_SPECIFIED");
    kernel.events.append(rst);
    m_context.addKernelEvents(kernel);
    m_context.setInterfaces({{1, QStringLiteral("lo"), 1}, {2, QStringLiteral("eth0"), 1}});
    m_context.originNs = kOrigin;
    m_context.sessionEndNs = kOrigin + 10'000 * kMs;

    const quint8 SYN = TS_TCP_SYN, ACK = TS_TCP_ACK, PSH = TS_TCP_PSH, RST = TS_TCP_RST;
    // P0..P4: connection 1.
    Packet p = makePacket(1, 4, "10.1.2.3", 40000, "93.184.216.34", 443, SYN, 0);
    p.direction = PacketDirection::Out;
    p.window = 64240;
    p.scaledWindow = 64240;
    m_packets.append(p);
    p = makePacket(1, 4, "93.184.216.34", 443, "10.1.2.3", 40000, SYN | ACK, 1 * kMs);
    p.relAck = 1;
    p.window = 65535;
    p.scaledWindow = 65535;
    m_packets.append(p);
    p = makePacket(1, 4, "10.1.2.3", 40000, "93.184.216.34", 443, ACK, 2 * kMs);
    p.direction = PacketDirection::Out;
    p.relSeq = p.relAck = 1;
    p.window = 502;
    p.scaledWindow = 502 << 7;
    m_packets.append(p);
    p = makePacket(1, 4, "10.1.2.3", 40000, "93.184.216.34", 443, PSH | ACK, 500 * kMs);
    p.direction = PacketDirection::Out;
    p.relSeq = p.relAck = 1;
    p.payloadLen = 1448;
    p.analysis = AnalysisRetransmission;
    p.bytesInFlight = 1448;
    p.window = 502;
    p.scaledWindow = 502 << 7;
    m_packets.append(p);
    p = makePacket(1, 4, "93.184.216.34", 443, "10.1.2.3", 40000, ACK, 600 * kMs);
    p.relSeq = 1;
    p.relAck = 1449;
    p.analysis = AnalysisDuplicateAck;
    p.dupAckNum = 2;
    p.ackRttNs = 12 * kMs;
    p.window = 1000;
    m_packets.append(p);
    // P5: connection 2 on lo, a RST with a zero window (scale unknown).
    p = makePacket(2, 4, "127.0.0.1", 50000, "127.0.0.1", 8080, RST, 1500 * kMs);
    p.ifindex = 1;
    m_packets.append(p);
    // P6: connection 3 (IPv6), data into a zero window.
    p = makePacket(3, 6, "::1", 9000, "fe80::1", 22, ACK, 2000 * kMs);
    p.direction = PacketDirection::Out;
    p.relSeq = 101;
    p.relAck = 1;
    p.payloadLen = 100;
    p.analysis = AnalysisZeroWindow | AnalysisWindowFull;
    m_packets.append(p);
    // P7: a SYN joined to no connection.
    p = makePacket(0, 4, "10.9.9.9", 1234, "10.1.2.3", 80, SYN, 3000 * kMs);
    p.window = 1024;
    m_packets.append(p);
}

void TestDisplayFilter::packets_data()
{
    QTest::addColumn<QString>("expression");
    QTest::addColumn<QList<int>>("expected"); // indexes into m_packets

    const QList<int> conn1 = {0, 1, 2, 3, 4};
    struct Row
    {
        const char *expression;
        QList<int> expected;
    };
    const Row rows[] = {
        {"", {0, 1, 2, 3, 4, 5, 6, 7}},
        {"ip.addr == 10.1.2.3", {0, 1, 2, 3, 4, 7}},
        {"ip.addr == 10.0.0.0/8", {0, 1, 2, 3, 4, 7}},
        {"ip.addr == 10.9.0.0/16", {7}},
        // Wireshark 4: '!=' means no end is X; packets without IPv4 have no ip.addr at all.
        {"ip.addr != 10.1.2.3", {5, 6}},
        {"!(ip.addr == 10.1.2.3)", {5, 6}},
        {"ip.src == 10.1.2.3", {0, 2, 3}},
        {"ip.dst == 10.1.2.3", {1, 4, 7}},
        {"ip.addr in {127.0.0.1 10.9.9.9}", {5, 7}},
        {"ipv6.addr == ::1", {6}},
        {"ipv6.addr == fe80::/10", {6}},
        {"ipv6.dst == fe80::1 && ipv6.src == ::1", {6}},
        {"tcp.port == 443", conn1},
        {"tcp.port != 443", {5, 6, 7}},
        {"tcp.port in {80 8080}", {5, 7}},
        {"tcp.port in {80, 8080}", {5, 7}},
        {"tcp.port in {1..1000}", {0, 1, 2, 3, 4, 6, 7}},
        {"tcp.port not in {1..1000}", {5}},
        {"tcp.srcport == 443", {1, 4}},
        {"tcp.dstport eq 8080", {5}},
        {"tcp.flags.syn", {0, 1, 7}},
        {"tcp.flags.syn == 1 && tcp.flags.ack == 0", {0, 7}},
        {"tcp.flags.syn == true and not tcp.flags.ack", {0, 7}},
        {"tcp.flags == 0x12", {1}},
        {"tcp.flags == 18", {1}},
        {"tcp.flags.reset", {5}},
        {"tcp.flags.push", {3}},
        {"tcp.analysis.retransmission", {3}},
        {"tcp.analysis.duplicate_ack", {4}},
        {"tcp.analysis.duplicate_ack_num == 2", {4}},
        {"tcp.analysis.zero_window", {6}},
        {"tcp.analysis.window_full", {6}},
        {"tcp.analysis.flags", {3, 4, 6}},
        {"!tcp.analysis.retransmission && tcp.len > 0", {6}},
        {"tcp.len >= 1KiB", {3}},
        {"tcp.len > 1.4kB", {3}},
        {"tcp.len == 1448B", {3}},
        {"tcp.window_size == 64256", {2, 3}},
        {"tcp.window_size_value == 502", {2, 3}},
        // Scale unknown: the header value, as Wireshark.
        {"tcp.window_size == 0", {5, 6}},
        {"tcp.window_size > 64240", {1, 2, 3}},
        {"tcp.seq == 1 and tcp.len > 0", {3}},
        // tcp.ack exists only with ACK set: the SYN's relAck 0 is no value.
        {"tcp.ack == 0", {}},
        {"tcp.ack == 1", {1, 2, 3, 6}},
        {"tcp.ack", {1, 2, 3, 4, 6}},
        {"tcp.analysis.ack_rtt > 10ms", {4}},
        {"tcp.analysis.ack_rtt > 0.01", {4}},
        {"tcp.analysis.ack_rtt < 12001us", {4}},
        {"tcp.analysis.ack_rtt", {4}},
        {"tcp.analysis.bytes_in_flight == 1448", {3}},
        {"frame.time_relative >= 0.5 && frame.time_relative < 1.5s", {3, 4}},
        {"frame.time_relative in {0..2ms}", {0, 1, 2}},
        {"frame.time_relative > 2999999999ns", {7}},
        {"iface.name == \"lo\"", {5}},
        {"iface.name == eth0", {0, 1, 2, 3, 4, 6, 7}},
        {"packet.direction == out", {0, 2, 3, 6}},
        // Connection fields test the packet's connection; a packet without one has none.
        {"proc.name == \"curl\"", conn1},
        {"proc.name contains \"gin\"", {5}},
        {"proc.name matches \"^NG\"", {5}},
        {"proc.name matches \"(?-i)^NG\"", {}},
        {"proc.name", {0, 1, 2, 3, 4, 5, 6}},
        {"proc.pid == 200", {5}},
        {"conn.id == 3", {6}},
        {"conn.id", {0, 1, 2, 3, 4, 5, 6}},
        {"not conn.id", {7}},
        {"conn.state == ESTABLISHED", {6}},
        {"conn.state == established", {6}},
        {"conn.state != CLOSE", {6, 7}},
        {"conn.close_reason == \"rst\"", {5}},
        {"conn.role == server", {5}},
        {"conn.role in {client server}", {0, 1, 2, 3, 4, 5, 6}},
        {"conn.role contains \"serv\"", {5}},
        // Connection 3 is open: its duration runs to the end of the session (8.1 s).
        {"conn.duration > 2s", {5, 6}},
        {"conn.duration > 8.2", {}},
        {"conn.handshake_time < 5ms", conn1},
        {"conn.bytes_received > 64KiB", conn1},
        {"conn.bytes_sent", {0, 1, 2, 3, 4, 5}},
        {"conn.local_addr == ::1", {6}},
        {"conn.remote_addr == 93.184.216.0/24", conn1},
        {"conn.remote_port == 443", conn1},
        {"kernel.srtt > 10ms", conn1},
        {"kernel.srtt < 100us", {5}},
        {"kernel.srtt_max >= 15ms and kernel.srtt_min < 10ms", conn1},
        {"kernel.cwnd >= 40", conn1},
        {"kernel.retransmits > 0", conn1},
        {"drop.reason == \"TCP_CSUM\"", {5}},
        {"drop.reason", {5}},
        {"drop.reason != \"TCP_CSUM\"", {0, 1, 2, 3, 4, 6, 7}},
        {"rst.reason == NOT_SPECIFIED", {5}},
        {"(tcp.port == 443 || tcp.port == 22) and not tcp.flags.syn", {2, 3, 4, 6}},
        {"tcp.port == 443 or tcp.port == 22 and tcp.len > 0", {0, 1, 2, 3, 4, 6}},
        {"not not tcp.flags.syn", {0, 1, 7}},
    };
    for (const Row &r : rows)
        QTest::newRow(r.expression) << QString::fromUtf8(r.expression) << r.expected;
}

void TestDisplayFilter::packets()
{
    QFETCH(QString, expression);
    QFETCH(QList<int>, expected);
    FilterError error;
    const DisplayFilter filter = DisplayFilter::compile(expression, FilterTarget::Packets, &error);
    QVERIFY2(filter.isValid(), qPrintable(error.message));
    QList<int> got;
    for (int i = 0; i < m_packets.size(); ++i) {
        if (filter.matches(m_packets[i], m_context))
            got << i;
    }
    QCOMPARE(got, expected);
}

void TestDisplayFilter::connections_data()
{
    QTest::addColumn<QString>("expression");
    QTest::addColumn<QList<qint64>>("expected"); // connection ids
    struct Row
    {
        const char *expression;
        QList<qint64> expected;
    };
    const Row rows[] = {
        {"", {1, 2, 3}},
        {"ip.addr == 127.0.0.1", {2}},
        {"ip.addr != 127.0.0.1", {1, 3}},
        {"ip.addr == 10.0.0.0/8 && tcp.port == 443", {1}},
        {"ipv6.addr == fe80::1", {3}},
        {"tcp.port == 443", {1}},
        {"tcp.port in {22 8080}", {2, 3}},
        {"proc.name == \"nginx\"", {2}},
        {"conn.close_reason == \"rst\"", {2}},
        {"conn.state != CLOSE", {3}},
        {"kernel.srtt > 10ms", {1}},
        {"conn.duration > 2s", {2, 3}},
        {"drop.reason == \"TCP_CSUM\"", {2}},
        {"drop.reason == \"NO_SOCKET\"", {}},
        {"rst.reason", {2}},
        {"conn.id in {1 3}", {1, 3}},
        {"conn.bytes_sent >= 5kB", {1}},
        {"proc.pid == 200", {2}},
        {"conn.role == \"client\" && conn.remote_port == 443", {1}},
        {"conn.local_port == 40000", {1}},
        {"conn.remote_addr == 93.184.216.34", {1}},
        {"conn.handshake_time > 1ms", {1}},
        {"conn.duration > 2s && proc.name != \"nginx\"", {3}},
    };
    for (const Row &r : rows)
        QTest::newRow(r.expression) << QString::fromUtf8(r.expression) << r.expected;
}

void TestDisplayFilter::connections()
{
    QFETCH(QString, expression);
    QFETCH(QList<qint64>, expected);
    FilterError error;
    const DisplayFilter filter =
        DisplayFilter::compile(expression, FilterTarget::Connections, &error);
    QVERIFY2(filter.isValid(), qPrintable(error.message));
    QList<qint64> got;
    for (const Connection &c : m_connections) {
        if (filter.matches(c, m_context))
            got << c.id;
    }
    QCOMPARE(got, expected);
    // A filter that says it reads only some identity and lifetime columns gives the same answer
    // on connections that hold those columns alone (as Session::forEachConnection reads them).
    const ConnectionFields fields = filter.connectionFields();
    const bool readsMore = expression.contains(QLatin1String("kernel.")) ||
                           expression.contains(QLatin1String("bytes_sent")) ||
                           expression.contains(QLatin1String("drop.reason")) ||
                           expression.contains(QLatin1String("rst.reason"));
    QCOMPARE(fields.isAll(), readsMore);
    if (fields.isAll())
        return;
    int columnsRead = 0;
    got.clear();
    for (const Connection &full : m_connections) {
        Connection c;
        columnsRead = 0;
        for (const ConnectionColumn &col : connectionColumns()) {
            if (fields.has(col)) {
                QVERIFY(col.assign(c, col.value(full)));
                ++columnsRead;
            }
        }
        if (filter.matches(c, m_context))
            got << c.id;
    }
    QCOMPARE(got, expected);
    // No more than the lifetime columns, and fewer for a filter on one or two fields.
    QVERIFY(columnsRead <= 15);
    if (expression == QLatin1String("proc.pid == 200"))
        QCOMPARE(columnsRead, 2); // id, pid
}

void TestDisplayFilter::errors_data()
{
    QTest::addColumn<bool>("connections");
    QTest::addColumn<QString>("expression");
    QTest::addColumn<int>("column");
    QTest::addColumn<QString>("message");
    struct Row
    {
        bool connections;
        const char *expression;
        int column;
        const char *message;
    };
    const Row rows[] = {
        {false, "tcp.prot == 80", 1, "unknown field 'tcp.prot' at 1; did you mean tcp.port?"},
        {false, "tcp.port == 80 && tcp.analysis.retransmision", 19,
         "unknown field 'tcp.analysis.retransmision' at 19; did you mean "
         "tcp.analysis.retransmission?"},
        {false, "foo", 1, "unknown field 'foo' at 1"},
        {false, "ip.addr == abc", 12,
         "'abc' at 12 is not an IPv4 address (CIDR allowed, e.g. 10.0.0.0/8) for ip.addr"},
        {false, "ip.addr == 10.0.0.0/33", 12,
         "'10.0.0.0/33' at 12 is not an IPv4 address (CIDR allowed, e.g. 10.0.0.0/8) for "
         "ip.addr"},
        {false, "ipv6.addr == 10.0.0.1", 14,
         "'10.0.0.1' at 14 is not an IPv6 address (CIDR allowed, e.g. fe80::/10) for ipv6.addr"},
        {false, "tcp.port == 80 and", 19,
         "expected a field name at 19, found the end of the expression"},
        {false, "tcp.port = 80", 10, "unexpected character '=' at 10 (use '==' to compare)"},
        {false, "tcp.port == 80 & tcp.len > 0", 16,
         "unexpected character '&' at 16 (use '&&' or 'and')"},
        {false, "(tcp.port == 80", 16,
         "expected ')' at 16 to close the '(' at 1, found the end of the expression"},
        {false, "tcp.port == 80)", 15, "unmatched ')' at 15"},
        {false, ")", 1, "expected a field name at 1, found ')'"},
        {false, "tcp.port 80", 10,
         "expected an operator (==, !=, <, <=, >, >=, contains, matches, in), 'and', 'or' or "
         "the end at 10, found '80'"},
        {false, "tcp.port == 80 tcp.len", 16,
         "expected 'and', 'or' or the end at 16, found 'tcp.len'"},
        {false, "tcp.port ==", 12,
         "expected a value after '==' at 12, found the end of the expression"},
        {false, "tcp.port == abc", 13, "'abc' at 13 is not a number for tcp.port"},
        {false, "tcp.analysis.retransmission == 1", 29,
         "tcp.analysis.retransmission is a flag and takes no '==' (at 29): use it on its own, "
         "e.g. 'tcp.analysis.retransmission' or 'not tcp.analysis.retransmission'"},
        {false, "proc.name < 3", 11,
         "'<' at 11 does not apply to proc.name (string): use ==, != or in"},
        {false, "ip.addr > 10.0.0.1", 9,
         "'>' at 9 does not apply to ip.addr (IPv4 address): use ==, != or in"},
        {false, "tcp.len contains 5", 9,
         "'contains' at 9 applies to strings, not to tcp.len (bytes)"},
        {false, "kernel.srtt > 10xs", 15,
         "'10xs' at 15 is not a time (e.g. 10ms, 1.5s, 250us; a bare number means seconds) for "
         "kernel.srtt"},
        {false, "tcp.len > 10 parsecs", 14,
         "expected 'and', 'or' or the end at 14, found 'parsecs'"},
        {false, "tcp.flags.syn == 2", 18,
         "'2' at 18 is not a boolean (1, 0, true or false) for tcp.flags.syn"},
        {false, "conn.close_reason == closed", 22,
         "'closed' at 22 is not one of open, fin, rst, refused, timeout, aborted, "
         "listener-closed for conn.close_reason"},
        {false, "proc.name == \"abc", 14,
         "unterminated string starting at 14: expected a closing '\"'"},
        {false, "proc.name matches \"(\"", 19,
         "invalid regular expression at 19: missing closing parenthesis"},
        {false, "tcp.port in {80 ..}", 19, "expected a value after '..' at 19, found '}'"},
        {false, "tcp.port in {}", 13, "empty set at 13"},
        {false, "tcp.port in 80", 13, "expected '{' at 13 to start the set, found '80'"},
        {false, "tcp.port in {80 90..85}", 19,
         "empty range at 19: the upper bound is below the lower one"},
        {false, "ip.addr in {10.0.0.1..10.0.0.5}", 21,
         "a range at 21 needs a number, time or size field; ip.addr is IPv4 address"},
        {false, "tcp.port == 80 and or", 20, "expected a field name at 20, found 'or'"},
        {true, "tcp.len > 0", 1,
         "tcp.len at 1 is a packet field; a connection filter takes connection fields only "
         "(ip.addr, ipv6.addr, tcp.port, proc.*, conn.*, kernel.*, drop.reason, rst.reason)"},
        {true, "proc.name == x && tcp.analysis.retransmission", 19,
         "tcp.analysis.retransmission at 19 is a packet field; a connection filter takes "
         "connection fields only (ip.addr, ipv6.addr, tcp.port, proc.*, conn.*, kernel.*, "
         "drop.reason, rst.reason)"},
    };
    for (const Row &r : rows)
        QTest::newRow(r.expression) << r.connections << QString::fromUtf8(r.expression) << r.column
                                    << QString::fromUtf8(r.message);
}

void TestDisplayFilter::errors()
{
    QFETCH(bool, connections);
    QFETCH(QString, expression);
    QFETCH(int, column);
    QFETCH(QString, message);
    const FilterTarget target = connections ? FilterTarget::Connections : FilterTarget::Packets;
    FilterError error;
    const DisplayFilter filter = DisplayFilter::compile(expression, target, &error);
    QVERIFY(!filter.isValid());
    QCOMPARE(error.message, message);
    QCOMPARE(error.column, column);
    // The validation entry point says the same; an invalid filter matches nothing.
    const auto checked = DisplayFilter::check(expression, target);
    QVERIFY(checked);
    QCOMPARE(checked->message, message);
    for (const Packet &p : m_packets)
        QVERIFY(!filter.matches(p, m_context));
}

void TestDisplayFilter::emptyAndInvalid()
{
    const DisplayFilter blank =
        DisplayFilter::compile(QStringLiteral("   "), FilterTarget::Packets);
    QVERIFY(blank.isValid() && blank.isEmpty());
    // The empty filter selects everything, whatever it was compiled for.
    QVERIFY(blank.matches(m_connections[0], m_context));
    QVERIFY(DisplayFilter().matches(m_connections[0], m_context));
    QVERIFY(DisplayFilter().matches(m_packets[0], m_context));
    QVERIFY(!DisplayFilter::check(QStringLiteral("tcp.port == 80"), FilterTarget::Packets));
    // What the context must hold follows from the fields used.
    const DisplayFilter f = DisplayFilter::compile(
        QStringLiteral("proc.name == x || drop.reason || iface.name == lo || "
                       "frame.time_relative > 1 || conn.duration > 1"),
        FilterTarget::Packets);
    QVERIFY(f.needsConnections() && f.needsKernelEvents() && f.needsInterfaces() &&
            f.needsOrigin() && f.needsSessionEnd());
    const DisplayFilter header = DisplayFilter::compile(
        QStringLiteral("ip.addr == 10.0.0.1 && tcp.port == 80 && conn.id == 3"),
        FilterTarget::Packets);
    QVERIFY(!header.needsConnections() && !header.needsKernelEvents() && !header.needsOrigin());
}

void TestDisplayFilter::fieldList()
{
    QSet<QString> names;
    for (const filter::FieldInfo &f : filter::fields()) {
        QVERIFY2(!names.contains(f.name), qPrintable(f.name));
        names.insert(f.name);
        QVERIFY2(!f.description.isEmpty(), qPrintable(f.name));
        QCOMPARE(filter::findField(f.name), &f);
    }
    // Every analysis flag Wireshark has a field for, under the export's name for it.
    for (quint32 bit = 1; bit <= kAnalysisFlagsAll; bit <<= 1) {
        if (bit == AnalysisReset || bit == AnalysisMalformed)
            continue;
        QVERIFY2(names.contains(QStringLiteral("tcp.analysis.") + analysisFlagNames(bit)),
                 qPrintable(analysisFlagNames(bit)));
    }
    // docs/FILTERS.md documents every field (a table row starting with the name).
    QFile doc(QStringLiteral(TCPSCOPE_SOURCE_DIR "/docs/FILTERS.md"));
    QVERIFY2(doc.open(QIODevice::ReadOnly), "docs/FILTERS.md missing");
    const QString text = QString::fromUtf8(doc.readAll());
    for (const QString &name : std::as_const(names))
        QVERIFY2(text.contains(QStringLiteral("| `%1` |").arg(name)),
                 qPrintable(QStringLiteral("%1 is not documented in docs/FILTERS.md").arg(name)));
}

void TestDisplayFilter::peerFields()
{
    // Connections 1 and 2 are the two ends of one connection, 3 has no peer. Packet 10 was
    // received after 250 µs as packet 11; 12 was lost; 13 is unmatched.
    FilterContext context;
    for (const Connection &c : std::as_const(m_connections))
        context.addConnection(c);
    context.setPeers({{1, 2}, {2, 1}});
    PeerTransitMark received;
    received.delayNs = 250'000;
    received.peerPacketId = 11;
    PeerTransitMark lost;
    lost.lost = true;
    PeerTransitMark receiver = received;
    receiver.peerPacketId = 10;
    context.setTransitMarks({{10, received}, {11, receiver}, {12, lost}});
    QVector<Packet> packets;
    for (qint64 id : {10, 11, 12, 13}) {
        Packet p = m_packets[0];
        p.id = id;
        p.connectionId = id == 13 ? 3 : 1;
        packets.append(p);
    }
    auto packetIds = [&](const char *text) {
        FilterError error;
        const DisplayFilter f =
            DisplayFilter::compile(QLatin1String(text), FilterTarget::Packets, &error);
        [&] { QVERIFY2(f.isValid(), qPrintable(error.message)); }();
        QList<qint64> ids;
        for (const Packet &p : std::as_const(packets))
            if (f.matches(p, context))
                ids.append(p.id);
        return ids;
    };
    QCOMPARE(packetIds("peer.delay > 200us"), (QList<qint64>{10, 11}));
    QCOMPARE(packetIds("peer.delay < 200us"), (QList<qint64>{}));
    QCOMPARE(packetIds("peer.delay"), (QList<qint64>{10, 11}));
    QCOMPARE(packetIds("peer.lost"), (QList<qint64>{12}));
    QCOMPARE(packetIds("!peer.lost && !peer.delay"), (QList<qint64>{13}));
    QCOMPARE(packetIds("conn.peer == 2"), (QList<qint64>{10, 11, 12}));
    const DisplayFilter pf =
        DisplayFilter::compile(QStringLiteral("peer.lost"), FilterTarget::Packets);
    QVERIFY(pf.needsPeerTransit());
    QVERIFY(!pf.needsPeers());
    QVERIFY(!pf.needsConnections());

    const DisplayFilter cf =
        DisplayFilter::compile(QStringLiteral("conn.peer"), FilterTarget::Connections);
    QVERIFY(cf.needsPeers());
    QVERIFY(cf.matches(m_connections[0], context));
    QVERIFY(cf.matches(m_connections[1], context));
    QVERIFY(!cf.matches(m_connections[2], context));
    // peer.delay is a packet field.
    QVERIFY(DisplayFilter::check(QStringLiteral("peer.delay > 1ms"), FilterTarget::Connections));
}

void TestDisplayFilter::ownerFields()
{
    // Connections in a docker container, a Kubernetes pod, a systemd service, and one whose
    // cgroup the capture could not name; namespaces named by ip netns or not.
    const QString id = QStringLiteral("ab") + QString(62, QLatin1Char('0'));
    OwnerNames names;
    names.cgroupPaths.insert(10, QStringLiteral("/system.slice/docker-%1.scope").arg(id));
    names.cgroupPaths.insert(11, QStringLiteral("/kubepods.slice/kubepods-burstable.slice/"
                                                "kubepods-burstable-pod0f6b1c5e_8a1d_4c7e_9d6b_"
                                                "2a3f4b5c6d7e.slice/cri-containerd-%1.scope")
                                     .arg(id));
    names.cgroupPaths.insert(12, QStringLiteral("/system.slice/nginx.service"));
    names.netnsNames.insert(4026532000, QStringLiteral("blue"));
    FilterContext context;
    context.setOwnerNames(names);
    QVector<Connection> conns(4);
    for (int i = 0; i < 4; ++i) {
        conns[i].id = i + 1;
        conns[i].cgroupId = 10 + quint64(i);
        conns[i].netnsIno = i == 0 ? 4026532000u : 4026531840u;
    }
    auto matching2 = [&](const QString &text) {
        const DisplayFilter f = DisplayFilter::compile(text, FilterTarget::Connections);
        QVector<qint64> ids;
        for (const Connection &c : conns)
            if (f.isValid() && f.matches(c, context))
                ids.append(c.id);
        return ids;
    };
    auto matching = [&](const QString &text) {
        FilterError error;
        const DisplayFilter f = DisplayFilter::compile(text, FilterTarget::Connections, &error);
        if (!f.isValid())
            qFatal("%s: %s", qPrintable(text), qPrintable(error.message));
        [&] { QVERIFY(f.needsOwnerNames()); }();
        QVector<qint64> ids;
        for (const Connection &c : conns)
            if (f.matches(c, context))
                ids.append(c.id);
        return ids;
    };
    QCOMPARE(matching(QStringLiteral("container.id == %1").arg(id)), (QVector<qint64>{1, 2}));
    QCOMPARE(matching(QStringLiteral("container.id")), (QVector<qint64>{1, 2}));
    QCOMPARE(matching(QStringLiteral("k8s.pod_uid == \"0f6b1c5e-8a1d-4c7e-9d6b-2a3f4b5c6d7e\"")),
             QVector<qint64>{2});
    QCOMPARE(matching(QStringLiteral("systemd.unit == \"nginx.service\"")), QVector<qint64>{3});
    QCOMPARE(matching(QStringLiteral("cgroup.path contains \"system.slice\"")),
             (QVector<qint64>{1, 3}));
    QCOMPARE(matching(QStringLiteral("cgroup.path")), (QVector<qint64>{1, 2, 3}));
    QCOMPARE(matching(QStringLiteral("!cgroup.path")), QVector<qint64>{4});
    QCOMPARE(matching(QStringLiteral("netns == blue")), QVector<qint64>{1});
    QCOMPARE(matching(QStringLiteral("netns == \"4026531840\"")), (QVector<qint64>{2, 3, 4}));
    context.hostName = QStringLiteral("web1");
    QCOMPARE(matching2(QStringLiteral("host.name == web1")), (QVector<qint64>{1, 2, 3, 4}));
    QCOMPARE(matching2(QStringLiteral("host.name contains \"db\"")), QVector<qint64>{});
    // A packet filter on an owner field reads the packet's connection.
    const DisplayFilter pf = DisplayFilter::compile(
        QStringLiteral("systemd.unit == \"nginx.service\""), FilterTarget::Packets);
    QVERIFY(pf.needsConnections() && pf.needsOwnerNames());
}

void TestDisplayFilter::evaluationRate()
{
    // Rate of evaluation alone, on the packets above repeated: a header-only filter and one that
    // reads the packet's connection. Printed for the record, never asserted.
    const struct
    {
        const char *name;
        const char *expression;
    } cases[] = {
        {"header", "ip.addr == 10.0.0.0/8 && tcp.port in {80 443} && !tcp.flags.syn"},
        {"analysis", "tcp.analysis.retransmission || tcp.analysis.duplicate_ack || tcp.len > 1000"},
        {"connection", "proc.name == \"curl\" && kernel.srtt > 10ms || conn.state == ESTABLISHED"},
    };
    constexpr int kRounds = 250'000;
    for (const auto &c : cases) {
        const DisplayFilter f =
            DisplayFilter::compile(QString::fromUtf8(c.expression), FilterTarget::Packets);
        QVERIFY(f.isValid());
        qint64 matched = 0;
        QElapsedTimer timer;
        timer.start();
        for (int r = 0; r < kRounds; ++r) {
            for (const Packet &p : std::as_const(m_packets))
                matched += f.matches(p, m_context) ? 1 : 0;
        }
        const double seconds = double(timer.nsecsElapsed()) / 1e9;
        const double evaluated = double(kRounds) * double(m_packets.size());
        qInfo("%s filter: %.1f M packets/s (%lld of %.0f matched)", c.name,
              evaluated / seconds / 1e6, matched, evaluated);
        QVERIFY(matched > 0);
    }
}

QTEST_GUILESS_MAIN(TestDisplayFilter)
#include "test_display_filter.moc"
