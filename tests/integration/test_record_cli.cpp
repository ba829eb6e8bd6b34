// SPDX-License-Identifier: GPL-3.0-or-later
// End to end: `tcpscope record` on the real kernel while separate client and server processes
// exchange known byte counts on loopback; the session is checked through SessionReader and
// through `tcpscope export` / `tcpscope info`. Needs root (BPF); skips loudly otherwise.
#include "helper_session.h"
#include "session/session_reader.h"

#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>
#include <csignal>
#include <functional>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

extern "C" {
#include "tcpscope_records.h"
}

using namespace tcpscope;

class TestRecordCli : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void recordLoopbackTraffic();
    void sigintLeavesValidFile();
    void packetsJoinedToConnections();
    void noPacketsOption();
    void portFilter();
    void missingHelperFails();

private:
    struct Pair
    {
        qint64 clientPid = 0, serverPid = 0;
        quint16 clientPort = 0, serverPort = 0;
    };
    // beforeClient runs once the server listens (its port known), before the client starts.
    Pair exchange(int family, int clientSends, int serverSends,
                  const std::function<void(quint16)> &beforeClient = {});
    // Non-empty (the loud skip reason) when the helper here cannot capture packets.
    static QString packetsUnavailable(const SessionData &data);
    qint64 refuse(int family, quint16 port);
    void startRecorder(QProcess &rec, const QString &file, const QStringList &extra);
    void waitUntilLive(const QString &file);
    QString run(const QStringList &args, int *exitCode);

    QString m_tcpscope, m_helper, m_traffic;
    QTemporaryDir m_dir;
};

void TestRecordCli::initTestCase()
{
    if (geteuid() != 0)
        QSKIP("NOT ROOT: tcpscope record loads BPF programs; run as root for this test");
    m_tcpscope = qEnvironmentVariable("TCPSCOPE_BIN");
    m_helper = qEnvironmentVariable("TCPSCOPE_HELPER");
    m_traffic = qEnvironmentVariable("TS_TRAFFIC");
    QVERIFY2(QFileInfo(m_tcpscope).isExecutable(), "TCPSCOPE_BIN not set: run through ctest");
    QVERIFY2(QFileInfo(m_helper).isExecutable(), "TCPSCOPE_HELPER not set: run through ctest");
    QVERIFY2(QFileInfo(m_traffic).isExecutable(), "TS_TRAFFIC not set: run through ctest");
    QVERIFY(m_dir.isValid());
}

TestRecordCli::Pair TestRecordCli::exchange(int family, int clientSends, int serverSends,
                                            const std::function<void(quint16)> &beforeClient)
{
    Pair pair;
    const QString fam = QString::number(family);
    QProcess server, client;
    server.start(m_traffic, {QStringLiteral("server"), fam, QString::number(serverSends),
                             QString::number(clientSends)});
    if (!server.waitForStarted())
        return pair;
    pair.serverPort = tcpscope::test::readPort(server);
    if (beforeClient)
        beforeClient(pair.serverPort);
    client.start(m_traffic, {QStringLiteral("client"), fam, QString::number(pair.serverPort),
                             QString::number(clientSends), QString::number(serverSends)});
    client.waitForStarted();
    pair.clientPort = tcpscope::test::readPort(client);
    pair.serverPid = server.processId();
    pair.clientPid = client.processId();
    const bool ok = client.waitForFinished(10000) && server.waitForFinished(10000) &&
                    client.exitCode() == 0 && server.exitCode() == 0;
    if (!ok) {
        qWarning() << "traffic failed:" << client.readAllStandardError()
                   << server.readAllStandardError();
        pair = Pair{};
    }
    return pair;
}

qint64 TestRecordCli::refuse(int family, quint16 port)
{
    QProcess p;
    p.start(m_traffic, {QStringLiteral("refused"), QString::number(family), QString::number(port)});
    p.waitForStarted();
    const qint64 pid = p.processId();
    if (!p.waitForFinished(10000) || p.exitCode() != 0) {
        qWarning() << "refused connect failed:" << p.readAllStandardError();
        return 0;
    }
    return pid;
}

void TestRecordCli::startRecorder(QProcess &rec, const QString &file, const QStringList &extra)
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("TCPSCOPE_HELPER"), m_helper);
    rec.setProcessEnvironment(env);
    rec.start(m_tcpscope,
              QStringList{QStringLiteral("record"), QStringLiteral("-o"), file} + extra);
    QVERIFY(rec.waitForStarted());
}

void TestRecordCli::waitUntilLive(const QString &file)
{
    // The recorder writes the helper's Hello facts into the (WAL) file once BPF is attached;
    // reading the live file is part of what is being tested.
    QElapsedTimer timer;
    timer.start();
    while (timer.elapsed() < 20000) {
        QString error;
        const auto data = SessionReader::read(file, &error);
        if (data && data->info.startedNs > 0)
            return;
        QTest::qWait(100);
    }
    QFAIL("tcpscope record did not become live within 20 s");
}

QString TestRecordCli::run(const QStringList &args, int *exitCode)
{
    QProcess p;
    p.start(m_tcpscope, args);
    p.waitForFinished(60000);
    *exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    return QString::fromLocal8Bit(p.readAllStandardOutput() + p.readAllStandardError());
}

namespace {
const Connection *findConn(const SessionData &s, quint16 localPort, quint16 remotePort)
{
    for (const Connection &c : s.connections) {
        if (c.localPort == localPort && c.remotePort == remotePort)
            return &c;
    }
    return nullptr;
}
} // namespace

void TestRecordCli::recordLoopbackTraffic()
{
    const QString file = m_dir.filePath(QStringLiteral("loopback.tcpscope"));
    QProcess rec;
    startRecorder(rec, file, {QStringLiteral("--duration"), QStringLiteral("8")});
    waitUntilLive(file);

    constexpr int kClientSends = 12345, kServerSends = 67890;
    const Pair v4 = exchange(4, kClientSends, kServerSends);
    QVERIFY(v4.clientPort && v4.serverPort);
    const Pair v6 = exchange(6, 2000, 300000);
    QVERIFY(v6.clientPort && v6.serverPort);
    const quint16 closed = quint16(tcpscope::test::closedPort(false));
    const qint64 refusedPid = refuse(4, closed);
    QVERIFY(refusedPid > 0);

    QVERIFY(rec.waitForFinished(30000));
    const QString out = QString::fromLocal8Bit(rec.readAllStandardOutput());
    const QString err = QString::fromLocal8Bit(rec.readAllStandardError());
    QVERIFY2(rec.exitCode() == 0, qPrintable(err));
    QVERIFY2(out.contains(QRegularExpression(QStringLiteral(
                 "^recorded \\d+ connections, (\\d+ packets \\(0 lost, \\d+ filtered out\\)|no "
                 "packets)(, \\d+ kernel samples, \\d+ kernel events, \\d+ drops)?(, \\d+ "
                 "alerts?)?, \\d+ "
                 "records, 0 lost in [0-9.]+ s -> "))),
             qPrintable(out));
    QVERIFY(!QFileInfo::exists(file + QLatin1String("-wal")));

    QString error;
    const auto data = SessionReader::read(file, &error);
    QVERIFY2(data, qPrintable(error));
    QVERIFY(data->info.stoppedNs > data->info.startedNs);
    QVERIFY(
        data->info.probes.join(QLatin1Char(' ')).contains(QLatin1String("inet_sock_set_state=")));

    struct Expect
    {
        Pair pair;
        int family;
        int clientSends;
        int serverSends;
    };
    for (const Expect &e :
         {Expect{v4, 4, kClientSends, kServerSends}, Expect{v6, 6, 2000, 300000}}) {
        const Connection *client = findConn(*data, e.pair.clientPort, e.pair.serverPort);
        const Connection *server = findConn(*data, e.pair.serverPort, e.pair.clientPort);
        QVERIFY2(client && server, qPrintable(QStringLiteral("IPv%1 pair missing").arg(e.family)));
        QCOMPARE(client->pid, quint32(e.pair.clientPid));
        QCOMPARE(client->comm, QStringLiteral("ts_client"));
        QCOMPARE(server->pid, quint32(e.pair.serverPid));
        QCOMPARE(server->comm, QStringLiteral("ts_server"));
        QCOMPARE(int(client->family()), e.family);
        QCOMPARE(client->localAddr.toString(),
                 e.family == 4 ? QStringLiteral("127.0.0.1") : QStringLiteral("::1"));
        QCOMPARE(client->role, ConnectionRole::Client);
        QCOMPARE(server->role, ConnectionRole::Server);
        QVERIFY(client->haveCloseStats && server->haveCloseStats);
        QCOMPARE(client->bytesSent, quint64(e.clientSends));
        QCOMPARE(client->bytesReceived, quint64(e.serverSends));
        QCOMPARE(server->bytesSent, quint64(e.serverSends));
        QCOMPARE(server->bytesReceived, quint64(e.clientSends));
        QCOMPARE(client->closeReason, CloseReason::Fin);
        QCOMPARE(server->closeReason, CloseReason::Fin);
        QVERIFY2(client->statesPath().startsWith(QLatin1String("SYN_SENT>ESTABLISHED>FIN_WAIT1>")),
                 qPrintable(client->statesPath()));
        QVERIFY2(server->statesPath().startsWith(
                     QLatin1String("SYN_RECV>ESTABLISHED>CLOSE_WAIT>LAST_ACK>CLOSE")),
                 qPrintable(server->statesPath()));
        QVERIFY(client->statesPath().endsWith(QLatin1String(">CLOSE")));
        QVERIFY(client->handshakeNs >= 0);
        QCOMPARE(server->handshakeNs, qint64(-1)); // not observable on an accepted socket
        QVERIFY(client->startNs >= data->info.startedNs && client->endNs <= data->info.stoppedNs);
    }
    const Connection *refused = nullptr;
    for (const Connection &c : data->connections) {
        if (c.remotePort == closed && c.pid == quint32(refusedPid))
            refused = &c;
    }
    QVERIFY2(refused, "refused connection missing");
    QCOMPARE(refused->closeReason, CloseReason::Refused);
    QCOMPARE(refused->comm, QStringLiteral("ts_client"));
    QCOMPARE(refused->statesPath(), QStringLiteral("SYN_SENT>CLOSE"));

    // The same facts through the CLI.
    int code = -1;
    const QString csvPath = m_dir.filePath(QStringLiteral("out.csv"));
    run({QStringLiteral("export"), file, QStringLiteral("--connections"), csvPath}, &code);
    QCOMPARE(code, 0);
    QFile csv(csvPath);
    QVERIFY(csv.open(QIODevice::ReadOnly));
    const QStringList lines =
        QString::fromUtf8(csv.readAll()).split(QStringLiteral("\r\n"), Qt::SkipEmptyParts);
    const QStringList header = lines.first().split(QLatin1Char(','));
    QCOMPARE(
        header.mid(0, 17).join(QLatin1Char(',')),
        QStringLiteral(
            "id,pid,comm,family,local_addr,local_port,remote_addr,remote_port,start_ns,end_ns,"
            "duration_ms,handshake_ms,bytes_sent,bytes_received,retransmits,close_reason,states"));
    bool sawClient = false, sawServer = false, sawRefused = false;
    for (const QString &line : lines.mid(1)) {
        const QStringList f = line.split(QLatin1Char(',')); // no field here needs quoting
        auto col = [&](const char *name) { return f.value(header.indexOf(QLatin1String(name))); };
        if (col("local_port").toUInt() == v4.clientPort &&
            col("remote_port").toUInt() == v4.serverPort) {
            sawClient = col("pid").toLongLong() == v4.clientPid &&
                        col("comm") == QLatin1String("ts_client") &&
                        col("bytes_sent").toInt() == kClientSends &&
                        col("bytes_received").toInt() == kServerSends &&
                        col("close_reason") == QLatin1String("fin") &&
                        col("states").startsWith(QLatin1String("SYN_SENT>ESTABLISHED>FIN_WAIT1"));
        }
        if (col("local_port").toUInt() == v4.serverPort &&
            col("remote_port").toUInt() == v4.clientPort)
            sawServer = col("pid").toLongLong() == v4.serverPid &&
                        col("comm") == QLatin1String("ts_server") &&
                        col("bytes_sent").toInt() == kServerSends;
        if (col("remote_port").toUInt() == closed && col("pid").toLongLong() == refusedPid)
            sawRefused = col("close_reason") == QLatin1String("refused");
    }
    QVERIFY(sawClient);
    QVERIFY(sawServer);
    QVERIFY(sawRefused);

    const QString info = run({QStringLiteral("info"), file}, &code);
    QCOMPARE(code, 0);
    QVERIFY2(info.contains(QRegularExpression(QStringLiteral("Connections: +\\d+"))),
             qPrintable(info));
    QVERIFY2(info.contains(QRegularExpression(QStringLiteral("by close: .*refused \\d+"))),
             qPrintable(info));
    QVERIFY2(info.contains(QRegularExpression(QStringLiteral("Lost records: +0"))),
             qPrintable(info));
    QVERIFY2(info.contains(QLatin1String("inet_sock_set_state=")), qPrintable(info));
    QVERIFY2(
        info.contains(QRegularExpression(QStringLiteral("Time range: +\\d{4}-\\d\\d-\\d\\dT"))),
        qPrintable(info));
}

void TestRecordCli::sigintLeavesValidFile()
{
    const QString file = m_dir.filePath(QStringLiteral("sigint.tcpscope"));
    QProcess rec;
    startRecorder(rec, file, {});
    waitUntilLive(file);
    const Pair pair = exchange(4, 100, 200);
    QVERIFY(pair.clientPort);
    QTest::qWait(300); // let the close records reach the recorder before the signal
    ::kill(pid_t(rec.processId()), SIGINT);
    QVERIFY(rec.waitForFinished(15000));
    QCOMPARE(rec.exitStatus(), QProcess::NormalExit);
    QCOMPARE(rec.exitCode(), 0);
    QVERIFY(rec.readAllStandardOutput().startsWith("recorded "));
    QVERIFY(!QFileInfo::exists(file + QLatin1String("-wal")));
    QString error;
    const auto data = SessionReader::read(file, &error);
    QVERIFY2(data, qPrintable(error));
    QVERIFY(data->info.stoppedNs > 0);
    const Connection *client = findConn(*data, pair.clientPort, pair.serverPort);
    QVERIFY(client);
    QCOMPARE(client->bytesSent, 100u);
}

QString TestRecordCli::packetsUnavailable(const SessionData &data)
{
    if (data.info.packetsCaptured)
        return QString();
    return QStringLiteral("PACKET CAPTURE UNAVAILABLE from this tcpscope-helper, packet checks "
                          "not run: %1")
        .arg(data.info.probes.join(QStringLiteral("; ")));
}

namespace {
quint64 payloadSum(const SessionData &s, qint64 connectionId, PacketDirection dir)
{
    quint64 sum = 0;
    for (const Packet &p : s.packets) {
        if (p.connectionId == connectionId && p.direction == dir)
            sum += p.payloadLen;
    }
    return sum;
}
QVector<const Packet *> packetsOf(const SessionData &s, qint64 connectionId)
{
    QVector<const Packet *> out;
    for (const Packet &p : s.packets) {
        if (p.connectionId == connectionId)
            out << &p;
    }
    return out;
}
} // namespace

void TestRecordCli::packetsJoinedToConnections()
{
    const QString file = m_dir.filePath(QStringLiteral("packets.tcpscope"));
    QProcess rec;
    startRecorder(rec, file, {QStringLiteral("--duration"), QStringLiteral("6")});
    waitUntilLive(file);
    const Pair v4 = exchange(4, 12345, 67890);
    const Pair v6 = exchange(6, 3000, 200000);
    QVERIFY(v4.clientPort && v6.clientPort);
    const quint16 closed = quint16(tcpscope::test::closedPort(false));
    QVERIFY(refuse(4, closed) > 0);
    QVERIFY(rec.waitForFinished(30000));
    QCOMPARE(rec.exitCode(), 0);
    QString error;
    const auto data = SessionReader::read(file, &error);
    QVERIFY2(data, qPrintable(error));
    if (const QString why = packetsUnavailable(*data); !why.isEmpty())
        QSKIP(qPrintable(why));
    QCOMPARE(data->info.lostPackets, 0u);
    QVERIFY(data->info.packetsReceived >= quint64(data->packets.size()));
    bool sawLo = false;
    for (const InterfaceInfo &i : data->info.interfaces)
        sawLo = sawLo || i.name == QLatin1String("lo");
    QVERIFY(sawLo);

    struct Expect
    {
        Pair pair;
        quint64 clientSends, serverSends;
    };
    for (const Expect &e : {Expect{v4, 12345, 67890}, Expect{v6, 3000, 200000}}) {
        const Connection *client = findConn(*data, e.pair.clientPort, e.pair.serverPort);
        const Connection *server = findConn(*data, e.pair.serverPort, e.pair.clientPort);
        QVERIFY(client && server);
        QCOMPARE(client->pid, quint32(e.pair.clientPid));
        QCOMPARE(server->pid, quint32(e.pair.serverPid));
        // Each socket saw the payload it sent (egress) and received (ingress), exactly once.
        QCOMPARE(payloadSum(*data, client->id, PacketDirection::Out), e.clientSends);
        QCOMPARE(payloadSum(*data, client->id, PacketDirection::In), e.serverSends);
        QCOMPARE(payloadSum(*data, server->id, PacketDirection::Out), e.serverSends);
        QCOMPARE(payloadSum(*data, server->id, PacketDirection::In), e.clientSends);
        QCOMPARE(client->packets.payloadBytesOut, e.clientSends);
        QCOMPARE(server->packets.payloadBytesIn, e.clientSends);
        for (const Connection *c : {client, server}) {
            const auto ps = packetsOf(*data, c->id);
            QVERIFY(ps.size() >= 5);
            QCOMPARE(quint64(ps.size()), c->packets.packetsIn + c->packets.packetsOut);
            for (const Packet *p : ps) {
                const bool out = p->isOutgoing();
                QCOMPARE(out ? p->srcPort : p->dstPort, c->localPort);
                QCOMPARE(out ? p->dstPort : p->srcPort, c->remotePort);
                QCOMPARE(p->family(), c->family());
            }
            // The handshake is part of both connections and comes first: the server's SYN
            // arrived before its socket existed and was held until it did.
            const Packet *syn = ps.first();
            QVERIFY2(syn->tcpFlags & TS_TCP_SYN, qPrintable(analysisSummary(syn->analysis, 0)));
            QCOMPARE(syn->isOutgoing(), c == client);
            QVERIFY(c->packets.mssLocal > 0 && c->packets.mssRemote > 0);
        }
        QVERIFY(client->packets.irttNs > 0);
    }
    // The SYN to a closed port and the kernel's RST answer: no socket on that side.
    bool sawRst = false;
    for (const Packet &p : data->packets) {
        if (p.connectionId == 0 && p.srcPort == closed && (p.tcpFlags & TS_TCP_RST))
            sawRst = true;
    }
    QVERIFY(sawRst);
    // Packet ids are 1-based and increasing.
    for (qsizetype i = 0; i < data->packets.size(); ++i)
        QVERIFY(data->packets[i].id > (i ? data->packets[i - 1].id : 0));

    int code = -1;
    const QString info = run({QStringLiteral("info"), file}, &code);
    QCOMPARE(code, 0);
    QVERIFY2(info.contains(QRegularExpression(QStringLiteral("Packets: +\\d+ received, \\d+ "
                                                             "joined"))),
             qPrintable(info));
    QVERIFY2(info.contains(QRegularExpression(QStringLiteral("Interfaces: .*lo \\("))),
             qPrintable(info));
}

void TestRecordCli::noPacketsOption()
{
    const QString file = m_dir.filePath(QStringLiteral("nopackets.tcpscope"));
    QProcess rec;
    startRecorder(
        rec, file,
        {QStringLiteral("--duration"), QStringLiteral("3"), QStringLiteral("--no-packets")});
    waitUntilLive(file);
    const Pair pair = exchange(4, 500, 600);
    QVERIFY(pair.clientPort);
    QVERIFY(rec.waitForFinished(30000));
    QCOMPARE(rec.exitCode(), 0);
    QVERIFY(rec.readAllStandardOutput().contains(", no packets, "));
    QString error;
    const auto data = SessionReader::read(file, &error);
    QVERIFY2(data, qPrintable(error));
    QVERIFY(!data->info.packetsCaptured);
    QVERIFY(data->packets.isEmpty());
    QCOMPARE(data->info.packetsReceived, 0u);
    const Connection *client = findConn(*data, pair.clientPort, pair.serverPort);
    QVERIFY(client);
    QCOMPARE(client->bytesSent, 500u);
    QCOMPARE(client->packets, PacketCounts{});
}

void TestRecordCli::portFilter()
{
    const QString file = m_dir.filePath(QStringLiteral("filter.tcpscope"));
    QProcess rec;
    QString filter;
    // The filter names the server's port, known once it listens.
    const Pair wanted = exchange(4, 1000, 2000, [&](quint16 port) {
        filter = QStringLiteral("port %1").arg(port);
        startRecorder(rec, file,
                      {QStringLiteral("--duration"), QStringLiteral("4"),
                       QStringLiteral("--filter"), filter});
        // Live, or refused at once (a helper without packet capture refuses the filter).
        QElapsedTimer timer;
        timer.start();
        QString error;
        while (timer.elapsed() < 20000 && rec.state() != QProcess::NotRunning) {
            const auto live = SessionReader::read(file, &error, ReadOptions{false, 0});
            if (live && live->info.startedNs > 0)
                break;
            QTest::qWait(100);
        }
    });
    if (rec.state() == QProcess::NotRunning && rec.exitCode() == 1) {
        const QString err = QString::fromLocal8Bit(rec.readAllStandardError());
        if (err.contains(QLatin1String("cannot capture packets")))
            QSKIP(qPrintable(QStringLiteral("PACKET CAPTURE UNAVAILABLE from this "
                                            "tcpscope-helper, --filter not tested: ") +
                             err.trimmed()));
        QFAIL(qPrintable(err));
    }
    QVERIFY(wanted.clientPort);
    const Pair other = exchange(4, 700, 800);
    QVERIFY(other.clientPort);
    QVERIFY(rec.waitForFinished(30000));
    QCOMPARE(rec.exitCode(), 0);
    QString error;
    const auto data = SessionReader::read(file, &error);
    QVERIFY2(data, qPrintable(error));
    if (const QString why = packetsUnavailable(*data); !why.isEmpty())
        QSKIP(qPrintable(why));
    QCOMPARE(data->info.captureFilter, filter);
    QVERIFY(!data->packets.isEmpty());
    for (const Packet &p : data->packets)
        QVERIFY2(p.srcPort == wanted.serverPort || p.dstPort == wanted.serverPort,
                 qPrintable(QStringLiteral("%1 -> %2").arg(p.srcPort).arg(p.dstPort)));
    const Connection *client = findConn(*data, wanted.clientPort, wanted.serverPort);
    QVERIFY(client);
    QCOMPARE(client->packets.payloadBytesOut, 1000u);
    // Lifecycle records are never filtered: the other pair is there, without packets.
    const Connection *otherClient = findConn(*data, other.clientPort, other.serverPort);
    QVERIFY(otherClient);
    QCOMPARE(otherClient->bytesSent, 700u);
    QCOMPARE(otherClient->packets.packetsIn + otherClient->packets.packetsOut, 0u);
    QVERIFY(data->info.packetsFiltered > 0);
}

void TestRecordCli::missingHelperFails()
{
    QProcess rec;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("TCPSCOPE_HELPER"), m_dir.filePath(QStringLiteral("no-helper")));
    rec.setProcessEnvironment(env);
    rec.start(m_tcpscope, {QStringLiteral("record"), QStringLiteral("-o"),
                           m_dir.filePath(QStringLiteral("never.tcpscope"))});
    QVERIFY(rec.waitForFinished(15000));
    QCOMPARE(rec.exitCode(), 1);
    const QString err = QString::fromLocal8Bit(rec.readAllStandardError());
    QVERIFY2(err.startsWith(QLatin1String("tcpscope: cannot record: helper not found")),
             qPrintable(err));
    QVERIFY(!QFileInfo::exists(m_dir.filePath(QStringLiteral("never.tcpscope"))));
}

QTEST_GUILESS_MAIN(TestRecordCli)
#include "test_record_cli.moc"
