// SPDX-License-Identifier: GPL-3.0-or-later
// TCP option parsing on crafted bytes: every kind we interpret, unknown kinds, and hostile
// lengths (the parser must stop, say where, and keep what came before).
#include "analysis/tcp_options.h"
#include "model/packet.h"

#include <QRandomGenerator>
#include <QTest>

#include <cstring>
#include <memory>

using namespace tcpscope;

class TestTcpOptions : public QObject
{
    Q_OBJECT

private slots:
    void emptyInput();
    void linuxSynOptions();
    void sackBlocks_data();
    void sackBlocks();
    void unknownKindsByNumber();
    void nopPaddingOnly();
    void eolStopsEarly();
    void hostileLengths_data();
    void hostileLengths();
    void neverReadsPastLen();
    void randomBytesStayInBounds();
    void optionNames();
    void valueTexts();
    void packetOptionBytes();
};

namespace {

QByteArray bytes(std::initializer_list<int> list)
{
    QByteArray out;
    for (int b : list)
        out.append(static_cast<char>(b));
    return out;
}

QVector<quint8> kinds(const TcpOptions &o)
{
    QVector<quint8> out;
    for (const TcpOption &opt : o.all)
        out.append(opt.kind);
    return out;
}

} // namespace

void TestTcpOptions::emptyInput()
{
    const TcpOptions o = parseTcpOptions(QByteArray());
    QVERIFY(o.error.isEmpty());
    QVERIFY(o.all.isEmpty());
    QVERIFY(!o.mss);
    const TcpOptions n = parseTcpOptions(nullptr, 12); // no data pointer: nothing to read
    QVERIFY(n.all.isEmpty());
    QVERIFY(n.error.isEmpty());
}

void TestTcpOptions::linuxSynOptions()
{
    // What Linux puts in a SYN: MSS, SACK permitted, timestamps, NOP, window scale.
    const QByteArray raw =
        bytes({2, 4, 0xff, 0xd7, 4, 2, 8, 10, 0x12, 0x34, 0x56, 0x78, 0, 0, 0, 0, 1, 3, 3, 7});
    const TcpOptions o = parseTcpOptions(raw);
    QCOMPARE(o.error, QString());
    QCOMPARE(o.mss, std::optional<quint16>(65495));
    QCOMPARE(o.windowScale, std::optional<quint8>(7));
    QVERIFY(o.sackPermitted);
    QCOMPARE(o.tsVal, std::optional<quint32>(0x12345678));
    QCOMPARE(o.tsEcr, std::optional<quint32>(0));
    QVERIFY(o.sackBlocks.isEmpty());
    QVERIFY(o.unknownKinds.isEmpty());
    QCOMPARE(kinds(o), (QVector<quint8>{2, 4, 8, 1, 3}));
    QCOMPARE(o.all[0].length, quint8(4));
    QCOMPARE(o.all[0].value, bytes({0xff, 0xd7}));
    QCOMPARE(o.all[1].length, quint8(2));
    QVERIFY(o.all[1].value.isEmpty());
    QCOMPARE(o.all[3].length, quint8(1)); // NOP has no length byte
    QCOMPARE(o.all[4].value, bytes({7}));
}

void TestTcpOptions::sackBlocks_data()
{
    QTest::addColumn<int>("blocks");
    for (int n = 1; n <= 4; ++n)
        QTest::addRow("%d block(s)", n) << n;
}

void TestTcpOptions::sackBlocks()
{
    QFETCH(int, blocks);
    QByteArray raw = bytes({1, 1, 5, 2 + 8 * blocks});
    QVector<SackBlock> expected;
    for (int i = 0; i < blocks; ++i) {
        const quint32 left = 0xfffff000u + quint32(i) * 0x1000; // wraps past 2^32 at i >= 1
        const quint32 right = left + 0x800;
        expected.append({left, right});
        for (quint32 v : {left, right})
            raw +=
                bytes({int(v >> 24), int((v >> 16) & 0xff), int((v >> 8) & 0xff), int(v & 0xff)});
    }
    const TcpOptions o = parseTcpOptions(raw);
    QCOMPARE(o.error, QString());
    QCOMPARE(o.sackBlocks, expected);
    QCOMPARE(kinds(o), (QVector<quint8>{1, 1, 5}));
    QCOMPARE(o.all[2].value.size(), 8 * blocks);
}

void TestTcpOptions::unknownKindsByNumber()
{
    const QByteArray raw = bytes({30, 4,  0x00, 0x81, // MPTCP MP_CAPABLE-ish
                                  34, 10, 1,    2,    3,    4,    5, 6, 7, 8, // TFO cookie
                                  28, 4,  0x80, 0x05,                         // UTO 5 minutes
                                  29, 6,  1,    2,    0xaa, 0xbb,             // TCP-AO
                                  19, 6,  0xde, 0xad, 0xbe, 0xef,             // MD5 (short here)
                                  99, 2});                                    // unassigned, empty
    const TcpOptions o = parseTcpOptions(raw);
    QCOMPARE(o.error, QString());
    QCOMPARE(o.unknownKinds, (QVector<quint8>{30, 34, 28, 29, 19, 99}));
    QCOMPARE(kinds(o), (QVector<quint8>{30, 34, 28, 29, 19, 99}));
    QCOMPARE(o.all[1].value, bytes({1, 2, 3, 4, 5, 6, 7, 8}));
    QCOMPARE(o.all[5].length, quint8(2));
    QVERIFY(o.all[5].value.isEmpty());
    QVERIFY(!o.mss && !o.windowScale && !o.tsVal && !o.sackPermitted);
}

void TestTcpOptions::nopPaddingOnly()
{
    const TcpOptions o = parseTcpOptions(bytes({1, 1, 1, 1}));
    QCOMPARE(o.error, QString());
    QCOMPARE(kinds(o), (QVector<quint8>{1, 1, 1, 1}));
}

void TestTcpOptions::eolStopsEarly()
{
    // After EOL only padding may follow; junk there is ignored, not an error.
    const TcpOptions o = parseTcpOptions(bytes({2, 4, 5, 0xb4, 0, 3, 0, 0xff}));
    QCOMPARE(o.error, QString());
    QCOMPARE(o.mss, std::optional<quint16>(1460));
    QCOMPARE(kinds(o), (QVector<quint8>{2, 0}));
    QCOMPARE(o.all[1].length, quint8(1));
}

void TestTcpOptions::hostileLengths_data()
{
    QTest::addColumn<QByteArray>("raw");
    QTest::addColumn<QVector<quint8>>("validKinds"); // what must survive before the bad option
    QTest::addColumn<QString>("errorPart");

    const QByteArray mss = bytes({2, 4, 5, 0xb4});
    QTest::newRow("length 0") << (mss + bytes({8, 0, 1, 2})) << QVector<quint8>{2}
                              << QStringLiteral("Timestamps (kind 8) at offset 4: length 0 < 2");
    QTest::newRow("length 1") << (mss + bytes({30, 1, 0})) << QVector<quint8>{2}
                              << QStringLiteral("(kind 30) at offset 4: length 1 < 2");
    QTest::newRow("length byte missing") << (mss + bytes({1, 3})) << QVector<quint8>{2, 1}
                                         << QStringLiteral("(kind 3) at offset 5: length byte");
    QTest::newRow("past the end") << (mss + bytes({8, 10, 1, 2, 3})) << QVector<quint8>{2}
                                  << QStringLiteral("offset 4: length 10 runs past the end");
    QTest::newRow("unknown past the end") << bytes({1, 34, 18, 0}) << QVector<quint8>{1}
                                          << QStringLiteral("TFO (kind 34) at offset 1");
    QTest::newRow("MSS != 4") << bytes({1, 2, 3, 5, 0}) << QVector<quint8>{1}
                              << QStringLiteral("MSS (kind 2) at offset 1: length 3, expected 4");
    QTest::newRow("WS != 3") << (mss + bytes({3, 4, 7, 0})) << QVector<quint8>{2}
                             << QStringLiteral(
                                    "Window scale (kind 3) at offset 4: length 4, expected 3");
    QTest::newRow("SACKP != 2") << bytes({4, 3, 0}) << QVector<quint8>{}
                                << QStringLiteral(
                                       "SACK permitted (kind 4) at offset 0: length 3, expected 2");
    QTest::newRow("TS != 10") << (mss + bytes({8, 6, 1, 2, 3, 4})) << QVector<quint8>{2}
                              << QStringLiteral("length 6, expected 10");
    QTest::newRow("SACK no blocks")
        << (mss + bytes({5, 2})) << QVector<quint8>{2}
        << QStringLiteral("SACK (kind 5) at offset 4: length 2, expected 2 + 8");
    QTest::newRow("SACK half block") << bytes({1, 1, 5, 6, 0, 0, 0, 1}) << QVector<quint8>{1, 1}
                                     << QStringLiteral("length 6, expected 2 + 8");
    QTest::newRow("SACK 5 blocks") << (bytes({5, 42}) + QByteArray(40, '\0')) << QVector<quint8>{}
                                   << QStringLiteral("length 42");
}

void TestTcpOptions::hostileLengths()
{
    QFETCH(QByteArray, raw);
    QFETCH(QVector<quint8>, validKinds);
    QFETCH(QString, errorPart);
    const TcpOptions o = parseTcpOptions(raw);
    QVERIFY2(o.error.contains(errorPart), qPrintable(o.error));
    QVERIFY(!o.error.contains(QLatin1Char('\n')));
    QCOMPARE(kinds(o), validKinds);
    if (validKinds.contains(2))
        QCOMPARE(o.mss, std::optional<quint16>(1460)); // options before the bad one stay valid
    else
        QVERIFY(!o.mss);
    QVERIFY(!o.tsVal);
    QVERIFY(!o.windowScale);
    QVERIFY(o.sackBlocks.isEmpty());
}

void TestTcpOptions::neverReadsPastLen()
{
    // A heap buffer exactly `len` long (so a sanitizer or valgrind would catch an over-read);
    // the bytes that would follow form a valid option, which must not be seen.
    const QByteArray full = bytes({1, 2, 4, 5, 0xb4});
    for (std::size_t len = 0; len < std::size_t(full.size()); ++len) {
        auto buf = std::make_unique<std::uint8_t[]>(len ? len : 1);
        std::memcpy(buf.get(), full.constData(), len);
        const TcpOptions o = parseTcpOptions(buf.get(), len);
        QVERIFY(!o.mss);
        if (len >= 2)
            QVERIFY2(o.error.contains(QStringLiteral("offset 1")), qPrintable(o.error));
        else
            QVERIFY(o.error.isEmpty());
    }
    QCOMPARE(parseTcpOptions(full).mss, std::optional<quint16>(1460));
}

void TestTcpOptions::randomBytesStayInBounds()
{
    // Deterministic random option areas (biased towards known kinds and small lengths): what is
    // reported never adds up to more than the input, and an error always stops the parse.
    QRandomGenerator rng(3);
    for (int round = 0; round < 20000; ++round) {
        const int len = int(rng.bounded(41));
        QByteArray raw(len, Qt::Uninitialized);
        for (int i = 0; i < len; ++i) {
            const quint32 r = rng.bounded(10u);
            raw[i] = char(r < 4 ? rng.bounded(9u) : r < 7 ? rng.bounded(12u) : rng.bounded(256u));
        }
        const TcpOptions o = parseTcpOptions(raw);
        int consumed = 0;
        for (const TcpOption &opt : o.all) {
            consumed += opt.kind <= 1 ? 1 : opt.length;
            QCOMPARE(opt.value.size(), opt.kind <= 1 ? 0 : opt.length - 2);
        }
        QVERIFY2(consumed <= len, raw.toHex().constData());
        QVERIFY(o.sackBlocks.size() <= 4 * o.all.size());
        if (!o.error.isEmpty()) {
            QVERIFY(o.error.contains(QStringLiteral("offset ")));
            QVERIFY(consumed < len);
        }
    }
}

void TestTcpOptions::optionNames()
{
    QCOMPARE(tcpOptionName(0), QStringLiteral("EOL"));
    QCOMPARE(tcpOptionName(1), QStringLiteral("NOP"));
    QCOMPARE(tcpOptionName(2), QStringLiteral("MSS"));
    QCOMPARE(tcpOptionName(3), QStringLiteral("Window scale"));
    QCOMPARE(tcpOptionName(4), QStringLiteral("SACK permitted"));
    QCOMPARE(tcpOptionName(5), QStringLiteral("SACK"));
    QCOMPARE(tcpOptionName(8), QStringLiteral("Timestamps"));
    QCOMPARE(tcpOptionName(19), QStringLiteral("MD5 signature"));
    QCOMPARE(tcpOptionName(28), QStringLiteral("User timeout"));
    QCOMPARE(tcpOptionName(29), QStringLiteral("TCP-AO"));
    QCOMPARE(tcpOptionName(30), QStringLiteral("MPTCP"));
    QCOMPARE(tcpOptionName(34), QStringLiteral("TFO"));
    QCOMPARE(tcpOptionName(99), QStringLiteral("Unknown (kind 99)"));
}

void TestTcpOptions::valueTexts()
{
    const TcpOptions o = parseTcpOptions(
        bytes({2, 4,  5, 0xb4, 3, 3,   7, 4, 2, 8,   10, 0, 0,  0,   123, 0, 0,  1,  200,
               5, 18, 0, 0,    3, 232, 0, 0, 7, 208, 0,  0, 11, 184, 0,   0, 15, 160}));
    QCOMPARE(o.error, QString());
    QCOMPARE(o.all.size(), 5);
    QCOMPARE(tcpOptionValueText(o.all[0]), QStringLiteral("1460"));
    QCOMPARE(tcpOptionValueText(o.all[1]), QStringLiteral("7 (x128)"));
    QCOMPARE(tcpOptionValueText(o.all[2]), QString());
    QCOMPARE(tcpOptionValueText(o.all[3]), QStringLiteral("TSval 123 TSecr 456"));
    QCOMPARE(tcpOptionValueText(o.all[4]), QStringLiteral("1000-2000 3000-4000"));
    QCOMPARE(tcpOptionValueText(TcpOption{1, 1, {}}), QString());
    QCOMPARE(tcpOptionValueText(TcpOption{28, 4, bytes({0x80, 5})}), QStringLiteral("5 min"));
    QCOMPARE(tcpOptionValueText(TcpOption{34, 2, {}}), QStringLiteral("cookie request"));
    QCOMPARE(tcpOptionValueText(TcpOption{34, 6, bytes({0xca, 0xfe, 1, 2})}),
             QStringLiteral("cookie cafe0102"));
    QCOMPARE(tcpOptionValueText(TcpOption{30, 4, bytes({0, 0x81})}), QStringLiteral("0x0081"));
}

// A packet keeps its option bytes inline: at most 40, longer input cut, no input = none.
void TestTcpOptions::packetOptionBytes()
{
    const TcpOptionBytes none;
    QVERIFY(none.isEmpty());
    QCOMPARE(none.toByteArray(), QByteArray());
    QVERIFY(TcpOptionBytes(nullptr, 12).isEmpty());
    QVERIFY(TcpOptionBytes("\x01", -3).isEmpty());

    const QByteArray syn =
        bytes({2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 123, 0, 0, 0, 0, 1, 3, 3, 7});
    const TcpOptionBytes b = syn;
    QCOMPARE(b.size(), syn.size());
    QCOMPARE(b.toByteArray(), syn);
    QCOMPARE(QByteArray(b.cbegin(), int(b.cend() - b.cbegin())), syn);
    QCOMPARE(int(b[3]), int(char(0xb4)));
    QCOMPARE(parseTcpOptions(b).mss, std::optional<quint16>(1460));
    QVERIFY(b == TcpOptionBytes(syn.constData(), syn.size()));
    QVERIFY(!(b == TcpOptionBytes(syn.constData(), syn.size() - 1)));
    QVERIFY(!(b == TcpOptionBytes(syn.left(19) + char(8))));

    const QByteArray tooLong(64, char(1));
    const TcpOptionBytes cut = tooLong;
    QCOMPARE(cut.size(), TcpOptionBytes::kMax);
    QCOMPARE(cut.toByteArray(), tooLong.left(40));
    TcpOptionBytes cleared = b;
    cleared.clear();
    QVERIFY(cleared.isEmpty());
    QVERIFY(cleared == none);
}

QTEST_APPLESS_MAIN(TestTcpOptions)
#include "test_tcp_options.moc"
