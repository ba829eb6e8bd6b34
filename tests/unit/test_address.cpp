// SPDX-License-Identifier: GPL-3.0-or-later
// IpAddress, the one address type of the model: parsing and printing in either family, the
// bytes an address keeps (IPv4's unused 12 are always zero), equality and hashing, and text
// that is not an address.
#include "model/address.h"
#include "pipeline/tuple_key.h"

#include <QSet>
#include <QTest>

#include <sys/socket.h>

using namespace tcpscope;

class TestAddress : public QObject
{
    Q_OBJECT

private slots:
    void roundTrip_data();
    void roundTrip();
    void notAnAddress_data();
    void notAnAddress();
    void ipv4KeepsOnlyFourBytes();
    void equalityAndHash();
    void wildcardAndNull();
    void families();
    void endpoints();
    void tupleKeyFromAddresses();
};

void TestAddress::roundTrip_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<int>("family");
    QTest::addColumn<QString>("printed"); // inet_ntop's form
    QTest::newRow("v4") << "192.0.2.7" << 4 << "192.0.2.7";
    QTest::newRow("v4 any") << "0.0.0.0" << 4 << "0.0.0.0";
    QTest::newRow("v4 broadcast") << "255.255.255.255" << 4 << "255.255.255.255";
    QTest::newRow("v6 loopback") << "::1" << 6 << "::1";
    QTest::newRow("v6 long form") << "2001:0db8:0000:0000:0000:0000:0000:0010" << 6
                                  << "2001:db8::10";
    QTest::newRow("v6 upper case") << "FE80::1:2" << 6 << "fe80::1:2";
    QTest::newRow("v4-mapped") << "::ffff:10.0.0.1" << 6 << "::ffff:10.0.0.1";
}

void TestAddress::roundTrip()
{
    QFETCH(QString, text);
    QFETCH(int, family);
    QFETCH(QString, printed);
    const IpAddress a = IpAddress::parse(text);
    QVERIFY(!a.isNull());
    QCOMPARE(int(a.family()), family);
    QCOMPARE(a.size(), family == 6 ? 16 : 4);
    QCOMPARE(a.isV6(), family == 6);
    QCOMPARE(a.toString(), printed);
    QCOMPARE(IpAddress::parse(a.toString()), a);
    // The same text in the family it is: the same address; in the other: none.
    QCOMPARE(IpAddress::parse(a.family(), text), a);
    const AddressFamily other = family == 6 ? AddressFamily::IPv4 : AddressFamily::IPv6;
    QVERIFY(IpAddress::parse(other, text).isNull());
}

void TestAddress::notAnAddress_data()
{
    QTest::addColumn<QString>("text");
    QTest::newRow("empty") << QString();
    QTest::newRow("word") << QStringLiteral("localhost");
    QTest::newRow("v4 octet too big") << QStringLiteral("10.0.0.256");
    QTest::newRow("v4 short") << QStringLiteral("10.0.1");
    QTest::newRow("v4 with port") << QStringLiteral("10.0.0.1:80");
    QTest::newRow("v6 bracketed") << QStringLiteral("[::1]");
    QTest::newRow("v6 two gaps") << QStringLiteral("1::2::3");
    QTest::newRow("v6 prefix") << QStringLiteral("2001:db8::/32");
    QTest::newRow("space") << QStringLiteral(" 10.0.0.1");
    QTest::newRow("embedded nul") << QStringLiteral("10.0.0.1") + QChar(0) + QStringLiteral("x");
    QTest::newRow("non-ascii digit") << QStringLiteral("10.0.0.\u0661");
    QTest::newRow("very long") << QString(200, QLatin1Char('1'));
}

void TestAddress::notAnAddress()
{
    QFETCH(QString, text);
    const IpAddress a = IpAddress::parse(text);
    QVERIFY(a.isNull());
    QCOMPARE(a.family(), AddressFamily::None);
    QCOMPARE(a.size(), 0);
    QVERIFY(a.toString().isEmpty());
    QCOMPARE(a, IpAddress());
    QVERIFY(IpAddress::parse(AddressFamily::IPv4, text).isNull());
    QVERIFY(IpAddress::parse(AddressFamily::IPv6, text).isNull());
    QVERIFY(IpAddress::parse(AddressFamily::None, QStringLiteral("10.0.0.1")).isNull());
}

// A kernel record's 16-byte address field holds an IPv4 address in its first 4 bytes and
// whatever was in the ring buffer slot after them: the address keeps only the 4.
void TestAddress::ipv4KeepsOnlyFourBytes()
{
    const quint8 dirty[16] = {10, 0, 0, 1, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8};
    const quint8 clean[16] = {10, 0, 0, 1};
    const IpAddress a(AddressFamily::IPv4, dirty);
    const IpAddress b(AddressFamily::IPv4, clean);
    QCOMPARE(a, b);
    QCOMPARE(qHash(a), qHash(b));
    for (int i = 4; i < IpAddress::kMaxBytes; ++i)
        QCOMPARE(a.bytes()[size_t(i)], quint8(0));
    QCOMPARE(a.toString(), QStringLiteral("10.0.0.1"));
    // No family: no address, whatever the bytes.
    QVERIFY(IpAddress(AddressFamily::None, dirty).isNull());
}

void TestAddress::equalityAndHash()
{
    // 0.0.0.0 and :: have the same (zero) bytes but are different addresses.
    const IpAddress v4 = IpAddress::any(AddressFamily::IPv4);
    const IpAddress v6 = IpAddress::any(AddressFamily::IPv6);
    QVERIFY(!(v4 == v6));
    QVERIFY(!(v4 == IpAddress()));
    // ::ffff:10.0.0.1 is not 10.0.0.1 as an address (a tuple key maps it: see below).
    QVERIFY(!(IpAddress::parse(u"::ffff:10.0.0.1") == IpAddress::parse(u"10.0.0.1")));
    QSet<IpAddress> set;
    for (const char *t : {"10.0.0.1", "10.0.0.1", "10.0.0.2", "::1", "::1", "0.0.0.0", "::"})
        set.insert(IpAddress::parse(QString::fromLatin1(t)));
    set.insert(IpAddress());
    QCOMPARE(set.size(), 6);
    QVERIFY(set.contains(IpAddress::parse(u"10.0.0.2")));
    QVERIFY(!set.contains(IpAddress::parse(u"10.0.0.3")));
}

void TestAddress::wildcardAndNull()
{
    QVERIFY(IpAddress::any(AddressFamily::IPv4).isAny());
    QCOMPARE(IpAddress::any(AddressFamily::IPv4).toString(), QStringLiteral("0.0.0.0"));
    QVERIFY(IpAddress::any(AddressFamily::IPv6).isAny());
    QCOMPARE(IpAddress::any(AddressFamily::IPv6).toString(), QStringLiteral("::"));
    QVERIFY(IpAddress::any(AddressFamily::None).isNull());
    QVERIFY(!IpAddress().isAny());
    QVERIFY(!IpAddress::parse(u"0.0.0.1").isAny());
}

void TestAddress::families()
{
    QCOMPARE(familyFromAf(AF_INET), AddressFamily::IPv4);
    QCOMPARE(familyFromAf(AF_INET6), AddressFamily::IPv6);
    QCOMPARE(afFromFamily(AddressFamily::IPv6), AF_INET6);
    QCOMPARE(afFromFamily(AddressFamily::IPv4), AF_INET);
    AddressFamily f = AddressFamily::IPv6;
    QVERIFY(familyFromNumber(4, &f));
    QCOMPARE(f, AddressFamily::IPv4);
    QVERIFY(familyFromNumber(0, &f));
    QCOMPARE(f, AddressFamily::None);
    for (qint64 bad : {-1, 1, 5, 10, 260}) {
        f = AddressFamily::IPv6;
        QVERIFY(!familyFromNumber(bad, &f));
        QCOMPARE(f, AddressFamily::IPv6); // left as it was
    }
    QCOMPARE(familyName(AddressFamily::IPv4), QStringLiteral("IPv4"));
    QCOMPARE(familyName(AddressFamily::IPv6), QStringLiteral("IPv6"));
    QVERIFY(familyName(AddressFamily::None).isEmpty());
}

void TestAddress::endpoints()
{
    QCOMPARE(endpointText(IpAddress::parse(u"10.0.0.1"), 80), QStringLiteral("10.0.0.1:80"));
    QCOMPARE(endpointText(IpAddress::parse(u"::1"), 443), QStringLiteral("[::1]:443"));
    QCOMPARE(endpointText(IpAddress::parse(u"::ffff:10.0.0.1"), 1),
             QStringLiteral("[::ffff:10.0.0.1]:1"));
}

// The joiners key a socket by its two addresses; a dual-stack socket's v4-mapped pair is the
// IPv4 pair on the wire.
void TestAddress::tupleKeyFromAddresses()
{
    const TupleKey v4 =
        TupleKey::tuple(IpAddress::parse(u"10.0.0.1"), 1000, IpAddress::parse(u"10.0.0.2"), 80);
    const TupleKey mapped = TupleKey::tuple(IpAddress::parse(u"::ffff:10.0.0.1"), 1000,
                                            IpAddress::parse(u"::ffff:10.0.0.2"), 80);
    QCOMPARE(mapped, v4);
    QCOMPARE(qHash(mapped), qHash(v4));
    QCOMPARE(v4.family, AddressFamily::IPv4);
    const TupleKey v6 =
        TupleKey::tuple(IpAddress::parse(u"::1"), 1000, IpAddress::parse(u"::1"), 80);
    QCOMPARE(v6.family, AddressFamily::IPv6);
    QVERIFY(!(v6 == v4));
}

QTEST_GUILESS_MAIN(TestAddress)
#include "test_address.moc"
