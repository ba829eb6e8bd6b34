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

QTEST_GUILESS_MAIN(TestCaptureOptions)
#include "test_capture_options.moc"
