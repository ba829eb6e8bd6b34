// SPDX-License-Identifier: GPL-3.0-or-later
// End to end: `tcpscope record` on the real kernel while separate client and server processes
// exchange known byte counts on loopback; the session is checked through SessionReader and
// through `tcpscope export` / `tcpscope info`. Needs root (BPF); skips loudly otherwise.
#include "session/session_reader.h"

#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>
#include <csignal>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace tcpscope;

class TestRecordCli : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void recordLoopbackTraffic();
    void sigintLeavesValidFile();
    void missingHelperFails();

private:
    struct Pair
    {
        qint64 clientPid = 0, serverPid = 0;
        quint16 clientPort = 0, serverPort = 0;
    };
    Pair exchange(int family, int clientSends, int serverSends);
    qint64 refuse(int family, quint16 port);
    void startRecorder(QProcess &rec, const QString &file, const QStringList &extra);
    void waitUntilLive(const QString &file);
    static quint16 closedPort();
    static quint16 readPort(QProcess &p);
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

quint16 TestRecordCli::closedPort()
{
    // Bind to an ephemeral port and close it: nothing listens there right after.
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a);
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len);
    close(fd);
    return ntohs(a.sin_port);
}

quint16 TestRecordCli::readPort(QProcess &p)
{
    if (!p.canReadLine() && !p.waitForReadyRead(5000))
        return 0;
    const QByteArray line = p.readLine().trimmed();
    return line.startsWith("port ") ? quint16(line.mid(5).toUInt()) : 0;
}

TestRecordCli::Pair TestRecordCli::exchange(int family, int clientSends, int serverSends)
{
    Pair pair;
    const QString fam = QString::number(family);
    QProcess server, client;
    server.start(m_traffic, {QStringLiteral("server"), fam, QString::number(serverSends),
                             QString::number(clientSends)});
    if (!server.waitForStarted())
        return pair;
    pair.serverPort = readPort(server);
    client.start(m_traffic, {QStringLiteral("client"), fam, QString::number(pair.serverPort),
                             QString::number(clientSends), QString::number(serverSends)});
    client.waitForStarted();
    pair.clientPort = readPort(client);
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
    const quint16 closed = closedPort();
    const qint64 refusedPid = refuse(4, closed);
    QVERIFY(refusedPid > 0);

    QVERIFY(rec.waitForFinished(30000));
    const QString out = QString::fromLocal8Bit(rec.readAllStandardOutput());
    const QString err = QString::fromLocal8Bit(rec.readAllStandardError());
    QVERIFY2(rec.exitCode() == 0, qPrintable(err));
    QVERIFY2(out.contains(QRegularExpression(QStringLiteral(
                 "^recorded \\d+ connections, \\d+ records, 0 lost in [0-9.]+ s -> "))),
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
        QCOMPARE(client->family, e.family);
        QCOMPARE(client->localAddr,
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
#include "record_cli_test.moc"
