// SPDX-License-Identifier: GPL-3.0-or-later
// tcpscope against the ecosystem, on the real kernel with real loopback traffic:
//  * `tcpscope record` + `tcpscope export --packets`: tshark reads the pcapng without complaint
//    and sees, packet by packet, the session's ports, seq/ack, flags and window, with the
//    process comment (IPv4 and IPv6);
//  * induced loss (nftables statistical drop) captured at once by tcpscope and by tcpdump: the
//    retransmission and duplicate-ACK counts of tshark's analysis of the tcpdump file equal
//    tcpscope's own counts for the client and the server connection;
//  * `export --chart seq` renders a PNG of the requested size.
// Needs root, tshark, tcpdump and nft (packaging/deps.sh --with-test-tools); skips loudly without.
#include "session/session_reader.h"

#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <csignal>
#include <unistd.h>

using namespace tcpscope;

namespace {

struct Run
{
    int exitCode = -1;
    QString out, err;
};

Run run(const QString &program, const QStringList &args, int timeoutMs = 120000)
{
    QProcess p;
    p.start(program, args);
    Run r;
    if (!p.waitForStarted() || !p.waitForFinished(timeoutMs)) {
        r.err = QStringLiteral("%1 did not finish: %2").arg(program, p.errorString());
        return r;
    }
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = QString::fromLocal8Bit(p.readAllStandardOutput());
    r.err = QString::fromLocal8Bit(p.readAllStandardError());
    return r;
}

// tshark complains on stderr about files it cannot read; as root it also warns that it runs as
// root, which says nothing about the file.
QString tsharkComplaints(const QString &stderrText)
{
    QStringList lines;
    for (const QString &l : stderrText.split(QLatin1Char('\n'), Qt::SkipEmptyParts)) {
        if (!l.startsWith(QLatin1String("Running as user \"root\"")))
            lines << l;
    }
    return lines.join(QLatin1Char('\n'));
}

// The loss rule lives in its own table, removed when this goes out of scope (also when a check
// fails half way) and before the test starts, in case an earlier run was killed.
class NftLoss
{
public:
    static constexpr const char *kTable = "tcpscope_tshark_test";
    static void remove() { run(QStringLiteral("nft"), {"delete", "table", "inet", kTable}); }
    bool install(quint16 sport, int percent)
    {
        remove();
        m_installed = true;
        const QString rule = QStringLiteral("add table inet %1\n"
                                            "add chain inet %1 in { type filter hook input "
                                            "priority 0; }\n"
                                            "add rule inet %1 in tcp sport %2 numgen random mod "
                                            "100 < %3 drop\n")
                                 .arg(QLatin1String(kTable))
                                 .arg(sport)
                                 .arg(percent);
        QProcess p;
        p.start(QStringLiteral("nft"), {QStringLiteral("-f"), QStringLiteral("-")});
        p.waitForStarted();
        p.write(rule.toUtf8());
        p.closeWriteChannel();
        p.waitForFinished();
        if (p.exitCode() != 0)
            qWarning() << "nft:" << p.readAllStandardError();
        return p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0;
    }
    ~NftLoss()
    {
        if (m_installed)
            remove();
    }

private:
    bool m_installed = false;
};

const Connection *findConn(const SessionData &s, quint16 localPort, quint16 remotePort)
{
    for (const Connection &c : s.connections) {
        if (c.localPort == localPort && c.remotePort == remotePort)
            return &c;
    }
    return nullptr;
}

quint16 readPort(QProcess &p)
{
    if (!p.canReadLine() && !p.waitForReadyRead(10000))
        return 0;
    const QByteArray line = p.readLine().trimmed();
    return line.startsWith("port ") ? quint16(line.mid(5).toUInt()) : 0;
}

} // namespace

class TestTsharkExport : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void exportReadsBackInTshark();
    void lossAnalysisAgreesWithTshark();

private:
    void startRecorder(QProcess &rec, const QString &file, const QString &filter);
    bool waitUntilLive(QProcess &rec, const QString &file);
    void stopRecorder(QProcess &rec);
    int tsharkCount(const QString &pcap, const QString &filter);
    QStringList tsharkFields(const QString &pcap, const QString &filter, const QStringList &fields);

    QString m_tcpscope, m_helper, m_traffic;
    QTemporaryDir m_dir;
};

void TestTsharkExport::initTestCase()
{
    if (geteuid() != 0)
        QSKIP("NOT ROOT: tcpscope record loads BPF programs and nft/tcpdump need root; run as "
              "root for this test");
    for (const char *tool : {"tshark", "tcpdump", "nft"}) {
        if (QStandardPaths::findExecutable(QString::fromLatin1(tool)).isEmpty())
            QSKIP(qPrintable(QStringLiteral("MISSING TOOL %1: install the test tools with "
                                            "packaging/deps.sh --with-test-tools")
                                 .arg(QLatin1String(tool))));
    }
    m_tcpscope = qEnvironmentVariable("TCPSCOPE_BIN");
    m_helper = qEnvironmentVariable("TCPSCOPE_HELPER");
    m_traffic = qEnvironmentVariable("TS_TRAFFIC");
    QVERIFY2(QFileInfo(m_tcpscope).isExecutable(), "TCPSCOPE_BIN not set: run through ctest");
    QVERIFY2(QFileInfo(m_helper).isExecutable(), "TCPSCOPE_HELPER not set: run through ctest");
    QVERIFY2(QFileInfo(m_traffic).isExecutable(), "TS_TRAFFIC not set: run through ctest");
    QVERIFY(m_dir.isValid());
    NftLoss::remove(); // a table left by a killed earlier run
}

void TestTsharkExport::startRecorder(QProcess &rec, const QString &file, const QString &filter)
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("TCPSCOPE_HELPER"), m_helper);
    rec.setProcessEnvironment(env);
    rec.start(m_tcpscope, {QStringLiteral("record"), QStringLiteral("-o"), file,
                           QStringLiteral("--filter"), filter});
    QVERIFY(rec.waitForStarted());
}

bool TestTsharkExport::waitUntilLive(QProcess &rec, const QString &file)
{
    QElapsedTimer timer;
    timer.start();
    while (timer.elapsed() < 20000) {
        if (rec.state() == QProcess::NotRunning) {
            qWarning().noquote() << "tcpscope record exited:" << rec.readAllStandardError();
            return false;
        }
        QString error;
        ReadOptions none;
        none.packets = false;
        const auto data = SessionReader::read(file, &error, none);
        if (data && data->info.startedNs > 0)
            return true;
        QTest::qWait(100);
    }
    return false;
}

void TestTsharkExport::stopRecorder(QProcess &rec)
{
    // The last packets (FIN, final ACK) are in the ring buffer by now; give the helper a moment
    // to forward them before asking the recorder to stop (it drains what arrived).
    QTest::qWait(500);
    ::kill(pid_t(rec.processId()), SIGINT);
    QVERIFY(rec.waitForFinished(30000));
    QVERIFY2(rec.exitStatus() == QProcess::NormalExit && rec.exitCode() == 0,
             rec.readAllStandardError().constData());
}

int TestTsharkExport::tsharkCount(const QString &pcap, const QString &filter)
{
    const Run r = run(QStringLiteral("tshark"),
                      {QStringLiteral("-n"), QStringLiteral("-r"), pcap, QStringLiteral("-Y"),
                       filter, QStringLiteral("-T"), QStringLiteral("fields"), QStringLiteral("-e"),
                       QStringLiteral("frame.number")});
    if (r.exitCode != 0) {
        qWarning() << "tshark failed:" << r.err;
        return -1;
    }
    return int(r.out.split(QLatin1Char('\n'), Qt::SkipEmptyParts).size());
}

QStringList TestTsharkExport::tsharkFields(const QString &pcap, const QString &filter,
                                           const QStringList &fields)
{
    QStringList args = {
        QStringLiteral("-n"),         QStringLiteral("-r"),     pcap,
        QStringLiteral("-T"),         QStringLiteral("fields"), QStringLiteral("-E"),
        QStringLiteral("separator=|")};
    if (!filter.isEmpty())
        args << QStringLiteral("-Y") << filter;
    for (const QString &f : fields)
        args << QStringLiteral("-e") << f;
    const Run r = run(QStringLiteral("tshark"), args);
    if (r.exitCode != 0)
        qWarning() << "tshark failed:" << r.err;
    return r.out.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
}

void TestTsharkExport::exportReadsBackInTshark()
{
    // Both exchanges use one server port each; the filter keeps other loopback traffic (other
    // tests on this machine) out of the session.
    struct Flow
    {
        int family;
        QProcess server, client;
        quint16 serverPort = 0, clientPort = 0;
    };
    Flow flows[2];
    flows[0].family = 4;
    flows[1].family = 6;
    QStringList ports;
    for (Flow &f : flows) {
        f.server.start(m_traffic, {QStringLiteral("server"), QString::number(f.family),
                                   QStringLiteral("300000"), QStringLiteral("20000")});
        QVERIFY(f.server.waitForStarted());
        f.serverPort = readPort(f.server);
        QVERIFY(f.serverPort);
        ports << QString::number(f.serverPort);
    }
    const QString file = m_dir.filePath(QStringLiteral("export.tcpscope"));
    QProcess rec;
    startRecorder(rec, file, QStringLiteral("port ") + ports.join(QLatin1Char(',')));
    QVERIFY2(waitUntilLive(rec, file),
             "tcpscope record did not become live (see its message above)");
    for (Flow &f : flows) {
        f.client.start(m_traffic, {QStringLiteral("client"), QString::number(f.family),
                                   QString::number(f.serverPort), QStringLiteral("20000"),
                                   QStringLiteral("300000")});
        QVERIFY(f.client.waitForStarted());
        f.clientPort = readPort(f.client);
        QVERIFY(f.client.waitForFinished(20000) && f.client.exitCode() == 0);
        QVERIFY(f.server.waitForFinished(20000) && f.server.exitCode() == 0);
    }
    stopRecorder(rec);

    QString error;
    const auto session = SessionReader::read(file, &error);
    QVERIFY2(session, qPrintable(error));
    QVERIFY(session->info.packetsCaptured);
    QCOMPARE(session->info.lostPackets, quint64(0));

    for (Flow &f : flows) {
        const Connection *client = findConn(*session, f.clientPort, f.serverPort);
        QVERIFY2(client,
                 qPrintable(QStringLiteral("no client connection for IPv%1").arg(f.family)));
        QVector<Packet> packets;
        for (const Packet &p : session->packets) {
            if (p.connectionId == client->id)
                packets.append(p);
        }
        QVERIFY(packets.size() >= 6); // handshake, data, ACKs, FINs

        const QString pcap = m_dir.filePath(QStringLiteral("client%1.pcapng").arg(f.family));
        const Run ex =
            run(m_tcpscope, {QStringLiteral("export"), file, QStringLiteral("--packets"), pcap,
                             QStringLiteral("--connection"), QString::number(client->id)});
        QVERIFY2(ex.exitCode == 0, qPrintable(ex.err));
        QVERIFY2(ex.out.startsWith(QStringLiteral("wrote %1 packets").arg(packets.size())),
                 qPrintable(ex.out));

        // tshark reads the whole file without a complaint and finds nothing malformed.
        const Run all =
            run(QStringLiteral("tshark"), {QStringLiteral("-n"), QStringLiteral("-r"), pcap});
        QCOMPARE(all.exitCode, 0);
        QVERIFY2(tsharkComplaints(all.err).isEmpty(), qPrintable(all.err));
        QCOMPARE(tsharkCount(pcap, QStringLiteral("_ws.malformed || _ws.expert.severity == error")),
                 0);

        // Field by field, in order.
        const QString ipSrc = f.family == 4 ? QStringLiteral("ip.src") : QStringLiteral("ipv6.src");
        const QStringList rows =
            tsharkFields(pcap, QString(),
                         {ipSrc, QStringLiteral("tcp.srcport"), QStringLiteral("tcp.dstport"),
                          QStringLiteral("tcp.seq_raw"), QStringLiteral("tcp.ack_raw"),
                          QStringLiteral("tcp.flags"), QStringLiteral("tcp.window_size_value"),
                          QStringLiteral("tcp.len"), QStringLiteral("frame.comment")});
        QCOMPARE(rows.size(), packets.size());
        for (int i = 0; i < rows.size(); ++i) {
            const Packet &p = packets[i];
            const QStringList c = rows[i].split(QLatin1Char('|'));
            QCOMPARE(c.size(), 9);
            const QString where =
                QStringLiteral("IPv%1 packet %2: %3").arg(f.family).arg(i).arg(rows[i]);
            QVERIFY2(c[1].toUInt() == p.srcPort && c[2].toUInt() == p.dstPort, qPrintable(where));
            QVERIFY2(c[3].toUInt() == p.seq, qPrintable(where));
            QVERIFY2(c[4].toUInt() == p.ack, qPrintable(where));
            bool ok = false;
            QVERIFY2(c[5].toUInt(&ok, 16) == p.tcpFlags && ok, qPrintable(where));
            QVERIFY2(c[6].toUInt() == p.window, qPrintable(where));
            QVERIFY2(c[7].toUInt() == p.payloadLen, qPrintable(where));
            QVERIFY2(c[8].startsWith(QStringLiteral("pid=%1 comm=ts_client conn=%2 ")
                                         .arg(client->pid)
                                         .arg(client->id)),
                     qPrintable(where));
            QVERIFY2(
                c[8].contains(p.isOutgoing() ? QLatin1String("dir=out") : QLatin1String("dir=in")),
                qPrintable(where));
        }
        QVERIFY(client->pid == quint32(f.client.processId()));

        // The whole-session export shows each loopback packet once: this flow's packets there
        // are exactly the client socket's view.
        const QString whole = m_dir.filePath(QStringLiteral("whole%1.pcapng").arg(f.family));
        const Run ew =
            run(m_tcpscope, {QStringLiteral("export"), file, QStringLiteral("--packets"), whole});
        QVERIFY2(ew.exitCode == 0, qPrintable(ew.err));
        QCOMPARE(tsharkCount(whole, QStringLiteral("tcp.port == %1 && tcp.port == %2")
                                        .arg(f.clientPort)
                                        .arg(f.serverPort)),
                 int(packets.size()));
    }

    // The sequence graph of a connection as an image of the requested size (PNG IHDR).
    const Connection *client = findConn(*session, flows[0].clientPort, flows[0].serverPort);
    const QString png = m_dir.filePath(QStringLiteral("seq.png"));
    const Run chart = run(m_tcpscope, {QStringLiteral("export"), file, QStringLiteral("--chart"),
                                       QStringLiteral("seq"), QStringLiteral("--connection"),
                                       QString::number(client->id), QStringLiteral("-o"), png,
                                       QStringLiteral("--size"), QStringLiteral("800x600")});
    QVERIFY2(chart.exitCode == 0, qPrintable(chart.err));
    QFile img(png);
    QVERIFY(img.open(QIODevice::ReadOnly));
    const QByteArray head = img.read(24);
    QCOMPARE(head.left(8), QByteArray("\x89PNG\r\n\x1a\n", 8));
    auto be32 = [&](int at) {
        return (quint32(quint8(head[at])) << 24) | (quint32(quint8(head[at + 1])) << 16) |
               (quint32(quint8(head[at + 2])) << 8) | quint8(head[at + 3]);
    };
    QCOMPARE(be32(16), 800u);
    QCOMPARE(be32(20), 600u);

    // Clear errors: an unknown connection id.
    const Run unknown =
        run(m_tcpscope, {QStringLiteral("export"), file, QStringLiteral("--packets"),
                         m_dir.filePath(QStringLiteral("x.pcapng")), QStringLiteral("--connection"),
                         QStringLiteral("999999")});
    QCOMPARE(unknown.exitCode, 2);
    QVERIFY2(unknown.err.contains(QLatin1String("no connection with id 999999")),
             qPrintable(unknown.err));
    QVERIFY(!QFileInfo::exists(m_dir.filePath(QStringLiteral("x.pcapng"))));
}

void TestTsharkExport::lossAnalysisAgreesWithTshark()
{
    // The server sends a few MB to the client; 5 % of everything the server's port sends is
    // dropped at the input hook, i.e. after TC ingress and after tcpdump's tap on lo: both
    // tcpscope and tcpdump see every packet, including those then dropped.
    constexpr int kServerSends = 8 * 1000 * 1000;
    QProcess server, client;
    server.start(m_traffic, {QStringLiteral("server"), QStringLiteral("4"),
                             QString::number(kServerSends), QStringLiteral("1000")});
    QVERIFY(server.waitForStarted());
    const quint16 serverPort = readPort(server);
    QVERIFY(serverPort);

    const QString file = m_dir.filePath(QStringLiteral("loss.tcpscope"));
    const QString pcap = m_dir.filePath(QStringLiteral("loss.pcap"));
    QProcess rec;
    startRecorder(rec, file, QStringLiteral("port %1").arg(serverPort));
    QVERIFY2(waitUntilLive(rec, file),
             "tcpscope record did not become live (see its message above)");

    QProcess tcpdump;
    tcpdump.start(QStringLiteral("tcpdump"),
                  {QStringLiteral("-i"), QStringLiteral("lo"), QStringLiteral("-s"),
                   QStringLiteral("96"), QStringLiteral("--immediate-mode"), QStringLiteral("-U"),
                   QStringLiteral("-n"), QStringLiteral("-w"), pcap,
                   QStringLiteral("tcp port %1").arg(serverPort)});
    QVERIFY(tcpdump.waitForStarted());
    // tcpdump says "listening on lo" once its capture is open.
    QElapsedTimer t;
    t.start();
    QByteArray dumpErr;
    while (!dumpErr.contains("listening on") && t.elapsed() < 10000) {
        tcpdump.waitForReadyRead(200);
        dumpErr += tcpdump.readAllStandardError();
    }
    QVERIFY2(dumpErr.contains("listening on"), dumpErr.constData());

    quint16 clientPort = 0;
    {
        NftLoss loss;
        QVERIFY(loss.install(serverPort, 5));
        client.start(m_traffic,
                     {QStringLiteral("client"), QStringLiteral("4"), QString::number(serverPort),
                      QStringLiteral("1000"), QString::number(kServerSends)});
        QVERIFY(client.waitForStarted());
        clientPort = readPort(client);
        QVERIFY(clientPort);
        QVERIFY(client.waitForFinished(120000) && client.exitCode() == 0);
        QVERIFY(server.waitForFinished(120000) && server.exitCode() == 0);
    } // loss rule removed here, whatever happened above

    stopRecorder(rec);
    ::kill(pid_t(tcpdump.processId()), SIGINT);
    QVERIFY(tcpdump.waitForFinished(10000));
    dumpErr += tcpdump.readAllStandardError();
    QVERIFY2(dumpErr.contains("\n0 packets dropped by kernel"), dumpErr.constData());

    QString error;
    const auto session = SessionReader::read(file, &error);
    QVERIFY2(session, qPrintable(error));
    QCOMPARE(session->info.lostPackets, quint64(0));
    const Connection *cli = findConn(*session, clientPort, serverPort);
    const Connection *srv = findConn(*session, serverPort, clientPort);
    QVERIFY(cli && srv);

    const QString stream =
        QStringLiteral("tcp.port == %1 && tcp.port == %2").arg(clientPort).arg(serverPort);
    const int dumpPackets = tsharkCount(pcap, stream);
    const int dumpRetrans =
        tsharkCount(pcap, stream + QStringLiteral(" && tcp.analysis.retransmission"));
    const int dumpDupAcks =
        tsharkCount(pcap, stream + QStringLiteral(" && tcp.analysis.duplicate_ack"));
    // The same analysis on tcpscope's own export of each socket's view tells apart "different
    // packets/order" from "different analysis" when the counts below disagree.
    auto exportedCounts = [&](const Connection *c, int *n, int *re, int *dup) {
        const QString out = m_dir.filePath(QStringLiteral("loss-%1.pcapng").arg(c->id));
        const Run ex =
            run(m_tcpscope, {QStringLiteral("export"), file, QStringLiteral("--packets"), out,
                             QStringLiteral("--connection"), QString::number(c->id)});
        *n = ex.exitCode == 0 ? tsharkCount(out, stream) : -1;
        *re = tsharkCount(out, stream + QStringLiteral(" && tcp.analysis.retransmission"));
        *dup = tsharkCount(out, stream + QStringLiteral(" && tcp.analysis.duplicate_ack"));
    };
    int cliN = 0, cliRe = 0, cliDup = 0, srvN = 0, srvRe = 0, srvDup = 0;
    exportedCounts(cli, &cliN, &cliRe, &cliDup);
    exportedCounts(srv, &srvN, &srvRe, &srvDup);

    const QString report =
        QStringLiteral(
            "loss comparison, stream %1<->%2:\n"
            "  tcpdump+tshark:                  packets %3 retransmissions %4 dup ACKs %5\n"
            "  tcpscope client conn %6:          packets %7 retransmissions %8 dup ACKs %9\n"
            "  tcpscope server conn %10:          packets %11 retransmissions %12 dup ACKs %13\n"
            "  tshark on tcpscope client export: packets %14 retransmissions %15 dup ACKs %16\n"
            "  tshark on tcpscope server export: packets %17 retransmissions %18 dup ACKs %19")
            .arg(clientPort)
            .arg(serverPort)
            .arg(dumpPackets)
            .arg(dumpRetrans)
            .arg(dumpDupAcks)
            .arg(cli->id)
            .arg(cli->packets.packetsIn + cli->packets.packetsOut)
            .arg(cli->packets.retransmissions)
            .arg(cli->packets.dupAcks)
            .arg(srv->id)
            .arg(srv->packets.packetsIn + srv->packets.packetsOut)
            .arg(srv->packets.retransmissions)
            .arg(srv->packets.dupAcks)
            .arg(cliN)
            .arg(cliRe)
            .arg(cliDup)
            .arg(srvN)
            .arg(srvRe)
            .arg(srvDup);
    qInfo().noquote() << report;

    // Real loss happened, or the comparison proves nothing.
    QVERIFY2(dumpRetrans > 0 && dumpDupAcks > 0, qPrintable(report));
    // Same packets seen by both captures, from each socket's point of view.
    QVERIFY2(cli->packets.packetsIn + cli->packets.packetsOut == quint64(dumpPackets),
             qPrintable(report));
    QVERIFY2(srv->packets.packetsIn + srv->packets.packetsOut == quint64(dumpPackets),
             qPrintable(report));
    // The analysis agrees exactly.
    QVERIFY2(cli->packets.retransmissions == quint32(dumpRetrans), qPrintable(report));
    QVERIFY2(cli->packets.dupAcks == quint32(dumpDupAcks), qPrintable(report));
    QVERIFY2(srv->packets.retransmissions == quint32(dumpRetrans), qPrintable(report));
    QVERIFY2(srv->packets.dupAcks == quint32(dumpDupAcks), qPrintable(report));
}

QTEST_GUILESS_MAIN(TestTsharkExport)
#include "tshark_export_test.moc"
