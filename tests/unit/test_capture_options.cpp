// SPDX-License-Identifier: GPL-3.0-or-later
// The --filter language of capture_options.h, translated into the helper's StartOptions.
#include "capture/capture_options.h"

#include <QTest>
#include <arpa/inet.h>

using namespace tcpscope;

class TestCaptureOptions : public QObject
{
    Q_OBJECT

private slots:
    void emptyFilterCapturesEverything();
    void portsHostsNetsIfaces();
    void sameKindIsAlternative();
    void connectors();
    void snapLength();
    void noPackets();
    void tcpInfoAndInterval();
    void errors_data();
    void errors();
    void limits();
    void ownerTerms();
    void ownerTermErrors_data();
    void ownerTermErrors();
    void ownersResolvedOnTheCapturingHost();
};

namespace {

std::optional<wire::StartOptions> build(const QString &filter, int snap = 0, bool packets = true,
                                        QString *error = nullptr)
{
    CaptureOptions o;
    o.filter = filter;
    o.snapLen = snap;
    o.packets = packets;
    QString err;
    auto s = buildStartOptions(o, error ? error : &err);
    return s;
}

wire::NetFilter net(int family, const char *addr, int len)
{
    wire::NetFilter f;
    f.family = quint8(family);
    f.prefixLen = quint8(len);
    inet_pton(family == 4 ? AF_INET : AF_INET6, addr, f.addr.data());
    return f;
}

} // namespace

void TestCaptureOptions::emptyFilterCapturesEverything()
{
    for (const QString &f : {QString(), QStringLiteral("   ")}) {
        const auto s = build(f);
        QVERIFY(s);
        // The kernel's view (tcpinfo) is on by default, at the default sample interval.
        QCOMPARE(s->flags, wire::StartOptions::kPackets | wire::StartOptions::kTcpInfo);
        QCOMPARE(s->sampleIntervalUs, wire::StartOptions::kDefaultSampleIntervalUs);
        QCOMPARE(s->snapLen, 0);
        QVERIFY(s->ports.empty());
        QVERIFY(s->nets.empty());
        QVERIFY(s->interfaces.empty());
    }
}

void TestCaptureOptions::portsHostsNetsIfaces()
{
    const auto s = build(QStringLiteral(
        "port 80,443 host 10.1.2.3 net 192.168.0.0/16 net fd00::/8 host ::1 iface lo,eth0"));
    QVERIFY(s);
    QCOMPARE(s->ports, (std::vector<std::uint16_t>{80, 443}));
    const std::vector<wire::NetFilter> nets = {net(4, "10.1.2.3", 32), net(4, "192.168.0.0", 16),
                                               net(6, "fd00::", 8), net(6, "::1", 128)};
    QCOMPARE(s->nets, nets);
    QCOMPARE(s->interfaces, (std::vector<std::string>{"lo", "eth0"}));
    // Keywords are case-insensitive; commas may have spaces around them; duplicates collapse.
    const auto t = build(QStringLiteral("PORT 80 , 443 port 80"));
    QVERIFY(t);
    QCOMPARE(t->ports, (std::vector<std::uint16_t>{80, 443}));
    // net 0.0.0.0/0 is a valid (if pointless) prefix.
    QVERIFY(build(QStringLiteral("net 0.0.0.0/0")));
}

void TestCaptureOptions::sameKindIsAlternative()
{
    const auto s = build(QStringLiteral("port 80 port 443 net 10.0.0.0/8"));
    QVERIFY(s);
    QCOMPARE(s->ports, (std::vector<std::uint16_t>{80, 443}));
    QCOMPARE(s->nets, (std::vector<wire::NetFilter>{net(4, "10.0.0.0", 8)}));
}

void TestCaptureOptions::connectors()
{
    QVERIFY(build(QStringLiteral("port 80 or port 443 and host 10.0.0.1 or host 10.0.0.2")));
    QVERIFY(build(QStringLiteral("port 80 and iface lo")));
    QString err;
    QVERIFY(!build(QStringLiteral("port 80 and port 443"), 0, true, &err));
    QVERIFY2(err.contains(QLatin1String("'and'")) && err.contains(QLatin1String("port")),
             qPrintable(err));
    QVERIFY(!build(QStringLiteral("port 80 or host 10.0.0.1"), 0, true, &err));
    QVERIFY2(err.contains(QLatin1String("'or'")) && err.contains(QLatin1String("host")),
             qPrintable(err));
}

void TestCaptureOptions::snapLength()
{
    auto s = build(QString(), 96);
    QVERIFY(s);
    QCOMPARE(s->flags, wire::StartOptions::kPackets | wire::StartOptions::kPayload |
                           wire::StartOptions::kTcpInfo);
    QCOMPARE(s->snapLen, 96);
    s = build(QString(), 256);
    QVERIFY(s);
    QCOMPARE(s->snapLen, 256);
    QString err;
    QVERIFY(!build(QString(), 257, true, &err));
    QVERIFY2(err.contains(QLatin1String("257")), qPrintable(err));
    QVERIFY(!build(QString(), -1, true, &err));
}

void TestCaptureOptions::noPackets()
{
    const auto s = build(QStringLiteral("port 80"), 0, false);
    QVERIFY(s);
    QCOMPARE(s->flags, wire::StartOptions::kTcpInfo); // packets off, the kernel's view still on
    QVERIFY(s->ports.empty());
    // A typo is still a typo without packets.
    QVERIFY(!build(QStringLiteral("prot 80"), 0, false));
}

void TestCaptureOptions::tcpInfoAndInterval()
{
    CaptureOptions o;
    o.tcpInfo = false;
    QString err;
    auto s = buildStartOptions(o, &err);
    QVERIFY2(s, qPrintable(err));
    QCOMPARE(s->flags, wire::StartOptions::kPackets);
    o.packets = false;
    s = buildStartOptions(o, &err);
    QVERIFY(s);
    QCOMPARE(s->flags, 0u); // lifecycle only

    o = CaptureOptions{};
    o.sampleIntervalUs = 0; // every sample
    s = buildStartOptions(o, &err);
    QVERIFY(s);
    QCOMPARE(s->sampleIntervalUs, 0u);
    QVERIFY(s->flags & wire::StartOptions::kTcpInfo);
    o.sampleIntervalUs = wire::StartOptions::kMaxSampleIntervalUs;
    s = buildStartOptions(o, &err);
    QVERIFY(s);
    QCOMPARE(s->sampleIntervalUs, wire::StartOptions::kMaxSampleIntervalUs);
    // The StartOptions built here survive the wire as they are.
    const auto frame = wire::encodeStart(*s);
    std::string wireErr;
    const auto back =
        wire::decodeStart(std::span<const std::uint8_t>(frame).subspan(wire::kHeaderSize), wireErr);
    QVERIFY2(back, wireErr.c_str());
    QCOMPARE(*back, *s);

    o.sampleIntervalUs = wire::StartOptions::kMaxSampleIntervalUs + 1;
    s = buildStartOptions(o, &err);
    QVERIFY(!s);
    QVERIFY2(err.startsWith(QLatin1String("invalid sample interval 10000001 us")), qPrintable(err));
    QVERIFY2(err.contains(QLatin1String("10000000")), qPrintable(err));
}

void TestCaptureOptions::errors_data()
{
    QTest::addColumn<QString>("filter");
    QTest::addColumn<QString>("token"); // must be named in the message
    QTest::newRow("unknown word") << "prot 80"
                                  << "'prot'";
    QTest::newRow("port 0") << "port 0"
                            << "'0'";
    QTest::newRow("port too big") << "port 65536"
                                  << "'65536'";
    QTest::newRow("port not a number") << "port http"
                                       << "'http'";
    QTest::newRow("empty list item") << "port 80,,443"
                                     << "''";
    QTest::newRow("port without value") << "port"
                                        << "'port'";
    QTest::newRow("bad host") << "host 10.0.0.256"
                              << "'10.0.0.256'";
    QTest::newRow("host with prefix") << "host 10.0.0.0/8"
                                      << "'10.0.0.0/8'";
    QTest::newRow("net without len") << "net 10.0.0.0"
                                     << "'10.0.0.0'";
    QTest::newRow("net len too big") << "net 10.0.0.0/33"
                                     << "'33'";
    QTest::newRow("net6 len too big") << "net fd00::/129"
                                      << "'129'";
    QTest::newRow("net host bits") << "net 10.1.0.0/8"
                                   << "'10.1.0.0/8'";
    QTest::newRow("bad iface") << "iface a/b"
                               << "'a/b'";
    QTest::newRow("iface too long") << "iface abcdefghijklmnop"
                                    << "'abcdefghijklmnop'";
    QTest::newRow("leading and") << "and port 80"
                                 << "'and'";
    QTest::newRow("trailing or") << "port 80 or"
                                 << "'or'";
    QTest::newRow("double connector") << "port 80 and or host ::1"
                                      << "'or'";
}

void TestCaptureOptions::errors()
{
    QFETCH(QString, filter);
    QFETCH(QString, token);
    QString err;
    QVERIFY(!build(filter, 0, true, &err));
    QVERIFY2(err.startsWith(QLatin1String("invalid filter: ")), qPrintable(err));
    QVERIFY2(err.contains(token), qPrintable(err));
    QVERIFY2(!err.contains(QLatin1Char('\n')), qPrintable(err));
}

void TestCaptureOptions::limits()
{
    QStringList ports;
    for (int p = 1; p <= int(wire::kMaxFilterPorts); ++p)
        ports << QString::number(p);
    QVERIFY(build(QStringLiteral("port ") + ports.join(QLatin1Char(','))));
    ports << QStringLiteral("9999");
    QString err;
    QVERIFY(!build(QStringLiteral("port ") + ports.join(QLatin1Char(',')), 0, true, &err));
    QVERIFY2(err.contains(QLatin1String("'9999'")), qPrintable(err));
}

void TestCaptureOptions::ownerTerms()
{
    CaptureOptions o;
    o.filter = QStringLiteral("cgroup /system.slice//nginx.service/ or cgroup /kubepods.slice "
                              "and netns blue,4026532001 and pid 12, 34 pid 12 "
                              "and comm nginx proc.name \"php-fpm\" and port 443");
    QString err;
    OwnerTerms terms;
    const auto s = buildStartOptions(o, &err, &terms);
    QVERIFY2(s, qPrintable(err));
    // Paths normalized, names kept for resolution; numbers go straight into Start.
    QCOMPARE(terms.cgroupPaths, QStringList({QStringLiteral("/system.slice/nginx.service"),
                                             QStringLiteral("/kubepods.slice")}));
    QCOMPARE(terms.netnsNames, QStringList{QStringLiteral("blue")});
    QCOMPARE(s->netnsInodes, (std::vector<std::uint32_t>{4026532001u}));
    QCOMPARE(s->pids, (std::vector<std::uint32_t>{12, 34}));
    QCOMPARE(s->comms, (std::vector<std::string>{"nginx", "php-fpm"}));
    QCOMPARE(s->ports, (std::vector<std::uint16_t>{443}));
    QVERIFY(s->cgroupIds.empty()); // only after resolution
    QVERIFY(s->hasOwnerTerms());
    // Owner terms stay without packets (they select state changes and samples too).
    o.packets = false;
    const auto lifecycle = buildStartOptions(o, &err, &terms);
    QVERIFY(lifecycle);
    QVERIFY(lifecycle->ports.empty());
    QCOMPARE(lifecycle->pids.size(), std::size_t(2));
    // A syntax check alone needs no place for the terms.
    QVERIFY(buildStartOptions(o, &err));
}

void TestCaptureOptions::ownerTermErrors_data()
{
    QTest::addColumn<QString>("filter");
    QTest::addColumn<QString>("message");
    QTest::newRow("relative cgroup") << "cgroup system.slice"
                                     << "'system.slice' is not a cgroup path";
    QTest::newRow("dotdot cgroup") << "cgroup /a/../b"
                                   << "'/a/../b' is not a cgroup path";
    QTest::newRow("netns slash") << "netns a/b"
                                 << "'a/b' is not a network namespace name";
    QTest::newRow("netns zero") << "netns 0"
                                << "'0' is not a network namespace inode";
    QTest::newRow("pid zero") << "pid 0"
                              << "'0' is not a process id";
    QTest::newRow("pid word") << "pid nginx"
                              << "'nginx' is not a process id";
    QTest::newRow("pid huge") << "pid 4194305"
                              << "'4194305' is not a process id";
    QTest::newRow("comm long") << "comm 0123456789abcdef"
                               << "'0123456789abcdef' is not a process name";
    QTest::newRow("or across kinds") << "pid 1 or cgroup /a"
                                     << "'or' between 'pid' and 'cgroup'";
    QTest::newRow("and same kind") << "comm a and comm b"
                                   << "'and' between two 'comm' terms";
    QTest::newRow("no value") << "cgroup"
                              << "'cgroup' needs a value";
}

void TestCaptureOptions::ownerTermErrors()
{
    QFETCH(QString, filter);
    QFETCH(QString, message);
    QString err;
    QVERIFY(!build(filter, 0, true, &err));
    QVERIFY2(err.startsWith(QLatin1String("invalid filter: ")), qPrintable(err));
    QVERIFY2(err.contains(message), qPrintable(err));
}

void TestCaptureOptions::ownersResolvedOnTheCapturingHost()
{
    wire::HostOwners report;
    report.cgroups = {{1, "/"}, {40, "/system.slice"}, {41, "/system.slice/nginx.service"}};
    report.netns = {{4026532005u, "blue"}};
    OwnerTerms terms;
    terms.cgroupPaths = {QStringLiteral("/system.slice/nginx.service"), QStringLiteral("/")};
    terms.netnsNames = {QStringLiteral("blue")};
    wire::StartOptions start;
    start.netnsInodes = {4026532005u}; // given as a number too: kept once
    QString err;
    QVERIFY2(resolveOwnerTerms(terms, report, QStringLiteral("db1"), &start, &err),
             qPrintable(err));
    QCOMPARE(start.cgroupIds, (std::vector<std::uint64_t>{41, 1}));
    QCOMPARE(start.netnsInodes, (std::vector<std::uint32_t>{4026532005u}));
    // Unknown path / name: one line naming the term and the host.
    terms = {};
    terms.cgroupPaths = {QStringLiteral("/system.slice/x.service")};
    QVERIFY(!resolveOwnerTerms(terms, report, QStringLiteral("db1"), &start, &err));
    QCOMPARE(err, QStringLiteral("invalid filter: cgroup '/system.slice/x.service' does not exist "
                                 "on db1"));
    report.flags = wire::HostOwners::kCgroupsTruncated;
    QVERIFY(!resolveOwnerTerms(terms, report, QString(), &start, &err));
    QVERIFY2(err.contains(QLatin1String("not among the first 3 cgroups")), qPrintable(err));
    report.flags = wire::HostOwners::kNoCgroup2;
    QVERIFY(!resolveOwnerTerms(terms, report, QString(), &start, &err));
    QVERIFY2(err.contains(QLatin1String("no cgroup v2 hierarchy")), qPrintable(err));
    terms = {};
    terms.netnsNames = {QStringLiteral("red")};
    QVERIFY(!resolveOwnerTerms(terms, report, QString(), &start, &err));
    QCOMPARE(err, QStringLiteral("invalid filter: netns 'red' does not exist (ip netns lists none "
                                 "by that name)"));
    QVERIFY(!err.contains(QLatin1Char('\n')));
}

QTEST_GUILESS_MAIN(TestCaptureOptions)
#include "test_capture_options.moc"
