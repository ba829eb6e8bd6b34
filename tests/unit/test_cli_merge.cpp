// SPDX-License-Identifier: GPL-3.0-or-later
// `tcpscope merge` as users run it (the real tcpscope binary): help, usage errors and bad
// inputs (one line, exit 2, no output file), a merge of a client host and a server host whose
// clock is 2 s ahead (the offset found on the handshake and printed), an existing output
// refused without --force, and what info, info --json and the connection export then say
// about the hosts.
#include "analysis/tcp_analyzer.h"
#include "session/session_writer.h"
#include "test_addresses.h"

#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>
#include <arpa/inet.h>

extern "C" {
#include "tcpscope_records.h"
}

using namespace tcpscope;

namespace {

constexpr qint64 kT0 = 1'764'300'000'000'000'000;
constexpr qint64 kSkew = 2'000'000'000; // beta's clock - alpha's
constexpr qint64 kOneWay = 100'000;

Packet packet(qint64 t, bool out, bool fromClient, quint8 flags, quint32 seq, quint32 ack)
{
    Packet p;
    p.timeNs = t;
    p.direction = out ? PacketDirection::Out : PacketDirection::In;
    p.srcAddr = test::ip4(10, 1, 0, fromClient ? 1 : 2);
    p.dstAddr = test::ip4(10, 1, 0, fromClient ? 2 : 1);
    p.srcPort = fromClient ? 41000 : 443;
    p.dstPort = fromClient ? 443 : 41000;
    p.seq = seq;
    p.ack = ack;
    p.tcpFlags = flags;
    p.window = 1000;
    return p;
}

// One connection seen from the client (alpha) or the server (beta, clock kSkew ahead).
void writeHost(const QString &path, bool client)
{
    QString error;
    auto writer = SessionWriter::create(path, &error);
    QVERIFY2(writer, qPrintable(error));
    SessionInfo info;
    info.hostname = client ? QStringLiteral("alpha") : QStringLiteral("beta");
    info.kernelRelease = QStringLiteral("6.18.0");
    info.packetsCaptured = true;
    info.startedNs = kT0 + (client ? 0 : kSkew);
    info.stoppedNs = kT0 + 1'000'000'000 + (client ? 0 : kSkew);
    writer->setInfo(info);
    const qint64 clock = client ? 0 : kSkew;
    const qint64 t1 = kT0 + 1000, t2 = t1 + kOneWay, t3 = t2 + 10'000, t4 = t3 + kOneWay;
    Connection c;
    c.id = 1;
    c.localAddr = test::ip(client ? QStringLiteral("10.1.0.1") : QStringLiteral("10.1.0.2"));
    c.remoteAddr = test::ip(client ? QStringLiteral("10.1.0.2") : QStringLiteral("10.1.0.1"));
    c.localPort = client ? 41000 : 443;
    c.remotePort = client ? 443 : 41000;
    c.role = client ? ConnectionRole::Client : ConnectionRole::Server;
    c.state = TcpState::Established;
    c.startNs = (client ? t1 : t4 + kOneWay) + clock;
    StateChange sc;
    sc.timeNs = c.startNs;
    sc.to = client ? TcpState::SynSent : TcpState::Established;
    c.history = {sc};
    QVector<Packet> packets = {
        packet((client ? t1 : t2) + clock, client, true, TS_TCP_SYN, 7, 0),
        packet((client ? t4 : t3) + clock, !client, false, TS_TCP_SYN | TS_TCP_ACK, 900, 8),
    };
    TcpAnalyzer analyzer;
    qint64 id = 0;
    for (Packet &p : packets) {
        p.id = ++id;
        p.connectionId = 1;
        analyzer.analyze(p);
    }
    c.packets = analyzer.counts();
    writer->writeConnection(c);
    writer->writePackets(packets);
    QVERIFY2(writer->close(&error), qPrintable(error));
}

} // namespace

class TestCliMerge : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void help();
    void usageErrors_data();
    void usageErrors();
    void mergeAndInfo();

private:
    struct Result
    {
        int code = -1;
        QString out, err;
    };
    Result run(const QStringList &args);
    QString file(const char *name) const { return m_dir.filePath(QLatin1String(name)); }

    QString m_bin;
    QTemporaryDir m_dir;
};

TestCliMerge::Result TestCliMerge::run(const QStringList &args)
{
    QProcess p;
    p.start(m_bin, args);
    Result r;
    if (!p.waitForFinished(30000))
        return r;
    r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = QString::fromUtf8(p.readAllStandardOutput());
    r.err = QString::fromUtf8(p.readAllStandardError());
    return r;
}

void TestCliMerge::initTestCase()
{
    m_bin = qEnvironmentVariable("TCPSCOPE_BIN");
    QVERIFY2(QFileInfo(m_bin).isExecutable(), "TCPSCOPE_BIN must name the tcpscope binary");
    QVERIFY(m_dir.isValid());
    writeHost(file("alpha.tcpscope"), true);
    writeHost(file("beta.tcpscope"), false);
}

void TestCliMerge::help()
{
    const Result a = run({QStringLiteral("help"), QStringLiteral("merge")});
    const Result b = run({QStringLiteral("merge"), QStringLiteral("--help")});
    QCOMPARE(a.code, 0);
    QCOMPARE(a.out, b.out);
    QVERIFY(a.out.startsWith(QLatin1String("Usage: tcpscope merge")));
    QVERIFY(run({QStringLiteral("--help")}).out.contains(QLatin1String("  merge ")));
}

void TestCliMerge::usageErrors_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("message");
    const QString a = file("alpha.tcpscope"), b = file("beta.tcpscope"), o = file("out.tcpscope");
    QTest::newRow("one input") << QStringList{QStringLiteral("merge"), a, QStringLiteral("-o"), o}
                               << "expects at least two session files";
    QTest::newRow("no -o") << QStringList{QStringLiteral("merge"), a, b} << "missing -o FILE";
    QTest::newRow("bad offset")
        << QStringList{QStringLiteral("merge"), a, b,
                       QStringLiteral("-o"),    o, QStringLiteral("--offset"),
                       QStringLiteral("beta+5")}
        << "expected HOST=±MS";
    QTest::newRow("unknown host")
        << QStringList{QStringLiteral("merge"),  a, b,
                       QStringLiteral("-o"),     o, QStringLiteral("--offset"),
                       QStringLiteral("gamma=5")}
        << "--offset gamma: no input host or file of that name";
    QTest::newRow("missing input")
        << QStringList{QStringLiteral("merge"), a, file("nope.tcpscope"), QStringLiteral("-o"), o}
        << "nope.tcpscope: no such file";
    QTest::newRow("not a session")
        << QStringList{QStringLiteral("merge"), a, m_bin, QStringLiteral("-o"), o}
        << "not a tcpscope session";
}

void TestCliMerge::usageErrors()
{
    QFETCH(QStringList, args);
    QFETCH(QString, message);
    const Result r = run(args);
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains(message), qPrintable(r.err));
    // The reason on one line (a usage error adds the hint to --help on a second).
    QVERIFY2(r.err.split(QLatin1Char('\n')).first().contains(message), qPrintable(r.err));
    QVERIFY(r.err.count(QLatin1Char('\n')) <= 2);
    QVERIFY(!QFile::exists(file("out.tcpscope")));
}

void TestCliMerge::mergeAndInfo()
{
    const QString out = file("both.tcpscope");
    Result r = run({QStringLiteral("merge"), file("alpha.tcpscope"), file("beta.tcpscope"),
                    QStringLiteral("-o"), out});
    QCOMPARE(r.code, 0);
    QVERIFY2(r.out.contains(QString::fromUtf8("host 0 alpha (alpha.tcpscope): +0.000 ms")),
             qPrintable(r.out));
    // Symmetric paths: the skew exactly, ± half the round trip less the turnaround.
    QVERIFY2(r.out.contains(QString::fromUtf8(
                 "host 1 beta (beta.tcpscope): -2000.000 ms ± 0.100 ms (handshakes, 1 pairs)")),
             qPrintable(r.out));
    QVERIFY2(r.out.contains(QString::fromUtf8("merged 2 hosts into")), qPrintable(r.out));
    QVERIFY(r.err.isEmpty());

    // An existing output: refused without --force, replaced with it.
    r = run({QStringLiteral("merge"), file("alpha.tcpscope"), file("beta.tcpscope"),
             QStringLiteral("-o"), out});
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains(QString::fromUtf8("exists; --force replaces it")), qPrintable(r.err));
    r = run({QStringLiteral("merge"), file("alpha.tcpscope"), file("beta.tcpscope"),
             QStringLiteral("-o"), out, QStringLiteral("--force"), QStringLiteral("--offset"),
             QStringLiteral("beta=-2000.5")});
    QCOMPARE(r.code, 0);
    QVERIFY2(r.out.contains(QString::fromUtf8("host 1 beta (beta.tcpscope): -2000.500 ms ± unknown "
                                              "(user)")),
             qPrintable(r.out));

    r = run({QStringLiteral("info"), out});
    QCOMPARE(r.code, 0);
    QVERIFY2(
        r.out.contains(QString::fromUtf8("Hosts:           0: alpha, kernel 6.18.0, from "
                                         "alpha.tcpscope, clock +0.000 ms ± 0.000 ms (none), 1 "
                                         "connections")),
        qPrintable(r.out));
    QVERIFY2(r.out.contains(QString::fromUtf8("1: beta, kernel 6.18.0, from beta.tcpscope, clock "
                                              "-2000.500 ms ± unknown (user), 1 connections")),
             qPrintable(r.out));
    r = run({QStringLiteral("info"), QStringLiteral("--json"), out});
    QCOMPARE(r.code, 0);
    const QJsonArray hosts =
        QJsonDocument::fromJson(r.out.toUtf8()).object().value(QLatin1String("hosts")).toArray();
    QCOMPARE(hosts.size(), 2);
    const QJsonObject beta = hosts[1].toObject();
    QCOMPARE(beta.value(QLatin1String("name")).toString(), QStringLiteral("beta"));
    QCOMPARE(beta.value(QLatin1String("clock_offset_ns")).toInteger(), -2'000'500'000);
    QVERIFY(beta.value(QLatin1String("offset_error_ns")).isNull());
    QCOMPARE(beta.value(QLatin1String("offset_method")).toString(), QStringLiteral("user"));
    QCOMPARE(beta.value(QLatin1String("connections")).toInteger(), 1);
    // A one-host session lists its one host too.
    r = run({QStringLiteral("info"), QStringLiteral("--json"), file("alpha.tcpscope")});
    QCOMPARE(QJsonDocument::fromJson(r.out.toUtf8())
                 .object()
                 .value(QLatin1String("hosts"))
                 .toArray()
                 .size(),
             1);

    // The connection export names each row's host; the display filter selects by it.
    const QString csv = file("both.csv");
    r = run({QStringLiteral("export"), out, QStringLiteral("--connections"), csv,
             QStringLiteral("-Y"), QStringLiteral("host.name == beta")});
    QCOMPARE(r.code, 0);
    QFile f(csv);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QList<QByteArray> lines = f.readAll().trimmed().split('\n');
    QCOMPARE(lines.size(), 2);
    const qsizetype col = lines[0].split(',').indexOf("host");
    QCOMPARE(lines[1].split(',').value(col), QByteArray("beta"));
    QCOMPARE(lines[1].split(',').value(0), QByteArray("2"));
}

QTEST_GUILESS_MAIN(TestCliMerge)
#include "test_cli_merge.moc"
