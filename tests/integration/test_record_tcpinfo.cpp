// SPDX-License-Identifier: GPL-3.0-or-later
// End to end on the real kernel: `tcpscope record` while a loopback bulk transfer runs
// and a connect() hits a closed port, then the session file is read back: tcp_probe samples
// joined to the client and the server socket, RST and a NO_SOCKET drop on the refused
// connection, `tcpscope info` listing them, the CSV/JSON kernel columns with plausible values;
// --no-tcpinfo and --sample-interval reach the kernel. Needs root (BPF); skips loudly otherwise.
#include "helper_session.h"
#include "record_tcpinfo_support.h"
#include "session/session_reader.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>
#include <csignal>
#include <functional>
#include <memory>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

extern "C" {
#include "tcpscope_records.h"
}

using namespace tcpscope;

class TestRecordTcpinfo : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void bulkAndRefused();
    void noTcpinfo();
    void sampleIntervalReachesKernel();
    void inducedLossRetransmits();

private:
    struct Pair
    {
        quint16 clientPort = 0, serverPort = 0;
    };
    // beforeClient runs once the server listens (its port known), before the client starts.
    Pair exchange(int clientSends, int serverSends,
                  const std::function<void(quint16)> &beforeClient = {});
    bool refuse(quint16 port);
    // Records while `traffic` runs; returns the recorder's stdout (empty + QFAIL on failure).
    QString record(const QString &file, const QStringList &extra,
                   const std::function<void()> &traffic);
    QString run(const QStringList &args, int *exitCode);
    // Loud skip reason when the kernel's view cannot be captured here (probe report says why).
    static QString kernelViewUnavailable(const SessionData &data);

    QString m_tcpscope, m_helper, m_traffic;
    QTemporaryDir m_dir;
};

using namespace tcpscope::testing;

void TestRecordTcpinfo::initTestCase()
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

TestRecordTcpinfo::Pair
TestRecordTcpinfo::exchange(int clientSends, int serverSends,
                            const std::function<void(quint16)> &beforeClient)
{
    Pair pair;
    QProcess server, client;
    server.start(m_traffic, {QStringLiteral("server"), QStringLiteral("4"),
                             QString::number(serverSends), QString::number(clientSends)});
    if (!server.waitForStarted())
        return pair;
    pair.serverPort = tcpscope::test::readPort(server);
    if (beforeClient)
        beforeClient(pair.serverPort);
    client.start(m_traffic,
                 {QStringLiteral("client"), QStringLiteral("4"), QString::number(pair.serverPort),
                  QString::number(clientSends), QString::number(serverSends)});
    client.waitForStarted();
    pair.clientPort = tcpscope::test::readPort(client);
    const bool ok = client.waitForFinished(20000) && server.waitForFinished(20000) &&
                    client.exitCode() == 0 && server.exitCode() == 0;
    if (!ok) {
        qWarning() << "traffic failed:" << client.readAllStandardError()
                   << server.readAllStandardError();
        return Pair{};
    }
    return pair;
}

bool TestRecordTcpinfo::refuse(quint16 port)
{
    QProcess p;
    p.start(m_traffic, {QStringLiteral("refused"), QStringLiteral("4"), QString::number(port)});
    return p.waitForFinished(10000) && p.exitCode() == 0;
}

QString TestRecordTcpinfo::run(const QStringList &args, int *exitCode)
{
    QProcess p;
    p.start(m_tcpscope, args);
    p.waitForFinished(60000);
    *exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    const QString err = QString::fromLocal8Bit(p.readAllStandardError());
    if (!err.isEmpty())
        qInfo("%s stderr: %s", qPrintable(args.value(0)), qPrintable(err));
    return QString::fromLocal8Bit(p.readAllStandardOutput());
}

QString TestRecordTcpinfo::record(const QString &file, const QStringList &extra,
                                  const std::function<void()> &traffic)
{
    QProcess rec;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("TCPSCOPE_HELPER"), m_helper);
    rec.setProcessEnvironment(env);
    rec.start(m_tcpscope, QStringList{QStringLiteral("record"), QStringLiteral("-o"), file,
                                      QStringLiteral("--quiet")} +
                              extra);
    if (!rec.waitForStarted())
        return QString();
    // Live once the helper's Hello facts are in the (WAL) file: the kernel hooks are attached.
    QElapsedTimer timer;
    timer.start();
    bool live = false;
    while (!live && timer.elapsed() < 20000 && rec.state() == QProcess::Running) {
        QString error;
        const auto data = SessionReader::read(file, &error);
        live = data && data->info.startedNs > 0;
        if (!live)
            QTest::qWait(100);
    }
    if (live)
        traffic();
    // SIGINT: the recorder finishes the file as on Ctrl-C.
    if (rec.state() == QProcess::Running)
        ::kill(pid_t(rec.processId()), SIGINT);
    rec.waitForFinished(30000);
    QString out = QString::fromLocal8Bit(rec.readAllStandardOutput());
    const QString err = QString::fromLocal8Bit(rec.readAllStandardError());
    if (!live || rec.exitStatus() != QProcess::NormalExit || rec.exitCode() != 0) {
        qWarning("record failed (live %d, exit %d): %s %s", live, rec.exitCode(), qPrintable(out),
                 qPrintable(err));
        return QString();
    }
    if (!err.isEmpty())
        qInfo("record stderr: %s", qPrintable(err));
    return out;
}

QString TestRecordTcpinfo::kernelViewUnavailable(const SessionData &data)
{
    if (data.info.kernelMetrics)
        return QString();
    for (const QString &p : data.info.probes) {
        if (p.startsWith(QLatin1String("kernel_metrics=unavailable")))
            return p;
    }
    return QStringLiteral("kernel_metrics is off and the probe report gives no reason: ") +
           data.info.probes.join(QStringLiteral("; "));
}

void TestRecordTcpinfo::bulkAndRefused()
{
    const QString file = m_dir.filePath(QStringLiteral("tcpinfo.tcpscope"));
    constexpr int kClientSends = 8'000'000, kServerSends = 100'000;
    Pair bulk;
    quint16 closed = 0;
    bool refused = false;
    const QString summary =
        record(file, {QStringLiteral("--sample-interval"), QStringLiteral("0")}, [&] {
            bulk = exchange(kClientSends, kServerSends);
            closed = quint16(tcpscope::test::closedPort(false));
            refused = refuse(closed);
        });
    QVERIFY2(!summary.isEmpty(), "tcpscope record failed (see the warning above)");
    QVERIFY2(bulk.clientPort && bulk.serverPort, "loopback transfer failed");
    QVERIFY2(refused, "connect() to a closed port was not refused");
    qInfo("record: %s", qPrintable(summary.trimmed()));
    QVERIFY2(summary.contains(QLatin1String(" kernel samples, ")), qPrintable(summary));

    QString error;
    const auto data = SessionReader::read(file, &error);
    QVERIFY2(data, qPrintable(error));
    if (const QString why = kernelViewUnavailable(*data); !why.isEmpty())
        QSKIP(qPrintable(QStringLiteral("KERNEL VIEW UNAVAILABLE HERE: ") + why));
    QCOMPARE(data->info.sampleIntervalUs, 0u);
    QVERIFY(data->info.samplesReceived > 0);
    QVERIFY(data->info.dropsReceived > 0);
    QVERIFY2(data->info.probes.join(QLatin1Char(' ')).contains(QLatin1String("tcp_probe=")),
             qPrintable(data->info.probes.join(QStringLiteral("; "))));

    // Samples joined to both ends of the bulk transfer, with plausible loopback values.
    const Connection *client = findConn(*data, bulk.clientPort, bulk.serverPort);
    const Connection *server = findConn(*data, bulk.serverPort, bulk.clientPort);
    QVERIFY2(client && server, "bulk connections not recorded");
    QCOMPARE(client->role, ConnectionRole::Client);
    QCOMPARE(server->role, ConnectionRole::Server);
    for (const Connection *c : {client, server}) {
        QVector<TcpSample> mine;
        for (const TcpSample &s : data->kernel.samples) {
            if (s.connectionId == c->id)
                mine.append(s);
        }
        qInfo("connection %lld (%s): %lld samples, srtt %u..%u us, cwnd max %u, kernel "
              "retransmits %u",
              c->id, qPrintable(connectionRoleName(c->role)), qint64(mine.size()),
              c->kernel.srttUsMin, c->kernel.srttUsMax, c->kernel.cwndMax, c->kernel.retransmits);
        QVERIFY2(mine.size() >= 2, "fewer than 2 samples joined to a bulk connection");
        QCOMPARE(c->kernel.samples, quint32(mine.size())); // the summary counts the rows
        quint32 srttMin = UINT32_MAX, srttMax = 0, cwndMax = 0;
        for (const TcpSample &s : mine) {
            QVERIFY(s.timeNs >= c->startNs);
            if (s.fields & TS_SAMPLE_RTT) {
                QVERIFY2(s.srttUs > 0 && s.srttUs < 1'000'000, "loopback srtt outside (0, 1 s)");
                srttMin = std::min(srttMin, s.srttUs);
                srttMax = std::max(srttMax, s.srttUs);
            }
            if (s.fields & TS_SAMPLE_CWND) {
                QVERIFY(s.cwnd > 0);
                cwndMax = std::max(cwndMax, s.cwnd);
            }
            if (s.fields & TS_SAMPLE_MSS)
                QVERIFY(s.mss > 0 && s.mss <= 65535);
        }
        QVERIFY2(srttMax > 0 && cwndMax > 0, "no sample with RTT and cwnd");
        // The summary on the connection is the one of its samples.
        QCOMPARE(c->kernel.srttUsMin, srttMin);
        QCOMPARE(c->kernel.srttUsMax, srttMax);
        QCOMPARE(c->kernel.cwndMax, cwndMax);
        for (qsizetype i = 1; i < mine.size(); ++i)
            QVERIFY(mine[i].timeNs >= mine[i - 1].timeNs);
    }
    // The receiver counts what it received in order: the server got all of the client's bytes.
    quint64 serverReceived = 0;
    for (const TcpSample &s : data->kernel.samples) {
        if (s.connectionId == server->id && (s.fields & TS_SAMPLE_BYTES))
            serverReceived = std::max(serverReceived, s.bytesReceived);
    }
    QVERIFY2(serverReceived > 0 && serverReceived <= quint64(kClientSends),
             qPrintable(QString::number(serverReceived)));

    // The refused connect: RST received by the client socket, RST sent by the kernel for the
    // port without a socket, and the SYN dropped with the named reason NO_SOCKET.
    const Connection *ref = nullptr;
    for (const Connection &c : data->connections) {
        if (c.remotePort == closed && c.role == ConnectionRole::Client)
            ref = &c;
    }
    QVERIFY2(ref, "refused connection not recorded");
    QCOMPARE(ref->closeReason, CloseReason::Refused);
    bool noSocketDrop = false, rstSent = false, rstReceived = false;
    for (const DropEvent &d : data->kernel.drops) {
        if (d.srcPort == ref->localPort && d.dstPort == closed) {
            qInfo("drop of the refused SYN: reason %u %s, joined to %lld, flags 0x%x", d.reason,
                  qPrintable(d.reasonName), d.connectionId, d.tcpFlags);
            if (d.reasonName == QLatin1String("NO_SOCKET")) {
                noSocketDrop = true;
                QCOMPARE(d.connectionId, ref->id);
                QVERIFY(d.tcpFlags & TS_TCP_SYN);
            }
        }
    }
    for (const KernelEvent &e : data->kernel.events) {
        if (e.connectionId != ref->id)
            continue;
        rstSent |= e.kind == KernelEventKind::ResetSent;
        rstReceived |= e.kind == KernelEventKind::ResetReceived;
    }
    QVERIFY2(noSocketDrop, "no NO_SOCKET drop for the SYN to the closed port");
    QVERIFY2(rstSent, "no RST-sent event joined to the refused connection");
    QVERIFY2(rstReceived, "no RST-received event on the refused connection");
    QVERIFY(ref->kernel.drops >= 1);
    QVERIFY(ref->kernel.resetsReceived >= 1);

    // `tcpscope info` lists them.
    int code = -1;
    const QString info = run({QStringLiteral("info"), file}, &code);
    QCOMPARE(code, 0);
    qInfo("%s", qPrintable(info));
    QVERIFY2(info.contains(QLatin1String("interval 0 (every sample)")), qPrintable(info));
    QVERIFY2(info.contains(QRegularExpression(QStringLiteral("\\n  by reason: +[^\\n]*NO_SOCKET "
                                                             "\\d+"))),
             qPrintable(info));
    QVERIFY2(info.contains(QRegularExpression(QStringLiteral(
                 "\\nRetransmits: +\\d+ segments resent by the kernel \\(SYN \\d+\\), "
                 "SYN-ACK \\d+"))),
             qPrintable(info));
    QVERIFY2(info.contains(QRegularExpression(QStringLiteral("\\nResets: +sent [1-9]\\d*, received "
                                                             "[1-9]"))),
             qPrintable(info));
    QVERIFY2(info.contains(QRegularExpression(QStringLiteral("\\n {17}tcp_probe=\\w+"))),
             qPrintable(info));

    // CSV and JSON carry the new columns with the values of the file.
    const QString csv =
        run({QStringLiteral("export"), file, QStringLiteral("--connections"), QStringLiteral("-")},
            &code);
    QCOMPARE(code, 0);
    const auto crow = csvRow(csv, client->id);
    const auto rrow = csvRow(csv, ref->id);
    QVERIFY2(!crow.isEmpty() && !rrow.isEmpty(), "rows missing from the CSV");
    QVERIFY2(crow.value(QStringLiteral("srtt_us_min")).toUInt() > 0, "srtt_us_min not > 0");
    QCOMPARE(crow.value(QStringLiteral("srtt_us_min")).toUInt(), client->kernel.srttUsMin);
    QCOMPARE(crow.value(QStringLiteral("srtt_us_max")).toUInt(), client->kernel.srttUsMax);
    QVERIFY2(crow.value(QStringLiteral("cwnd_max")).toUInt() > 0, "cwnd_max not > 0");
    QCOMPARE(crow.value(QStringLiteral("resets_sent")), QStringLiteral("0"));
    QCOMPARE(rrow.value(QStringLiteral("resets_received")).toUInt(), ref->kernel.resetsReceived);
    QVERIFY(rrow.value(QStringLiteral("drops")).toUInt() >= 1);
    QCOMPARE(rrow.value(QStringLiteral("close_reason")), QStringLiteral("refused"));
    const QString jsonFile = m_dir.filePath(QStringLiteral("tcpinfo.json"));
    run({QStringLiteral("export"), file, QStringLiteral("--connections"), jsonFile}, &code);
    QCOMPARE(code, 0);
    QFile jf(jsonFile);
    QVERIFY(jf.open(QIODevice::ReadOnly));
    const QJsonArray arr = QJsonDocument::fromJson(jf.readAll()).array();
    bool found = false;
    for (const auto &v : arr) {
        const QJsonObject o = v.toObject();
        if (o.value(QLatin1String("id")).toInteger() != server->id)
            continue;
        found = true;
        QCOMPARE(o.value(QLatin1String("cwnd_max")).toInteger(), qint64(server->kernel.cwndMax));
        QVERIFY(o.value(QLatin1String("srtt_us_min")).toInteger() > 0);
        QCOMPARE(o.value(QLatin1String("kernel_samples")).toInteger(),
                 qint64(server->kernel.samples));
    }
    QVERIFY(found);
}

void TestRecordTcpinfo::noTcpinfo()
{
    const QString file = m_dir.filePath(QStringLiteral("plain.tcpscope"));
    Pair pair;
    const QString summary =
        record(file, {QStringLiteral("--no-tcpinfo")}, [&] { pair = exchange(200'000, 1000); });
    QVERIFY2(!summary.isEmpty(), "tcpscope record --no-tcpinfo failed");
    QVERIFY2(!summary.contains(QLatin1String("kernel samples")), qPrintable(summary));
    QVERIFY(pair.clientPort);
    QString error;
    const auto data = SessionReader::read(file, &error);
    QVERIFY2(data, qPrintable(error));
    QVERIFY(!data->info.kernelMetrics);
    QVERIFY(data->kernel.isEmpty());
    const Connection *client = findConn(*data, pair.clientPort, pair.serverPort);
    QVERIFY(client);
    QCOMPARE(client->kernel.samples, 0u);
    int code = -1;
    const QString info = run({QStringLiteral("info"), file}, &code);
    QCOMPARE(code, 0);
    QVERIFY2(info.contains(QLatin1String("Kernel metrics:  not captured")), qPrintable(info));
    const QString csv =
        run({QStringLiteral("export"), file, QStringLiteral("--connections"), QStringLiteral("-")},
            &code);
    const auto row = csvRow(csv, client->id);
    QVERIFY(!row.isEmpty());
    QCOMPARE(row.value(QStringLiteral("drops"), QStringLiteral("?")), QString());
    QCOMPARE(row.value(QStringLiteral("srtt_us_min"), QStringLiteral("?")), QString());
}

void TestRecordTcpinfo::sampleIntervalReachesKernel()
{
    // The longest interval: the kernel passes at most one sample per connection in 10 s, and
    // this recording is shorter than that.
    const QString file = m_dir.filePath(QStringLiteral("sparse.tcpscope"));
    Pair pair;
    QElapsedTimer span;
    span.start();
    const QString summary =
        record(file, {QStringLiteral("--sample-interval"), QStringLiteral("10000000")},
               [&] { pair = exchange(4'000'000, 100'000); });
    const qint64 elapsedMs = span.elapsed();
    QVERIFY2(!summary.isEmpty(), "tcpscope record failed");
    QVERIFY(pair.clientPort);
    QString error;
    const auto data = SessionReader::read(file, &error);
    QVERIFY2(data, qPrintable(error));
    if (const QString why = kernelViewUnavailable(*data); !why.isEmpty())
        QSKIP(qPrintable(QStringLiteral("KERNEL VIEW UNAVAILABLE HERE: ") + why));
    QCOMPARE(data->info.sampleIntervalUs, 10'000'000u);
    if (elapsedMs >= 10'000)
        QSKIP("the recording took 10 s or more: one-sample bound does not apply");
    for (const Connection *c : {findConn(*data, pair.clientPort, pair.serverPort),
                                findConn(*data, pair.serverPort, pair.clientPort)}) {
        QVERIFY(c);
        qsizetype n = 0;
        for (const TcpSample &s : data->kernel.samples)
            n += s.connectionId == c->id ? 1 : 0;
        qInfo("connection %lld: %lld samples at a 10 s interval", c->id, qint64(n));
        QVERIFY2(n <= 1, "more than one sample of a connection within the 10 s interval");
    }
}

void TestRecordTcpinfo::inducedLossRetransmits()
{
    // Every 4th data segment to the server is dropped by nft: the client's kernel resends
    // them. Each resend is an event joined to the client; their sum is the connection's
    // kernel_retransmits, which must equal the kernel's own counter for that socket
    // (tcp_sock.total_retrans, delivered with the close stats), and `info` and the CSV say so.
    const QString file = m_dir.filePath(QStringLiteral("loss.tcpscope"));
    Pair pair;
    bool ruleOk = false;
    qint64 dropped = -1;
    const QString summary = record(file, {}, [&] {
        std::unique_ptr<LossRule> rule;
        pair = exchange(3'000'000, 1000, [&](quint16 port) {
            rule = std::make_unique<LossRule>(port);
            ruleOk = rule->ok();
        });
        if (rule)
            dropped = rule->dropped();
    });
    qInfo("nft dropped %lld packets to the server", dropped);
    QVERIFY2(!summary.isEmpty(), "tcpscope record failed");
    if (!ruleOk)
        QSKIP("NFT UNAVAILABLE: could not install the loss rule (nft -f); no induced loss");
    QVERIFY(pair.clientPort);
    QString error;
    const auto data = SessionReader::read(file, &error);
    QVERIFY2(data, qPrintable(error));
    if (const QString why = kernelViewUnavailable(*data); !why.isEmpty())
        QSKIP(qPrintable(QStringLiteral("KERNEL VIEW UNAVAILABLE HERE: ") + why));
    const Connection *client = findConn(*data, pair.clientPort, pair.serverPort);
    QVERIFY(client);
    quint64 segs = 0, events = 0;
    for (const KernelEvent &e : data->kernel.events) {
        if (e.connectionId == client->id && e.kind == KernelEventKind::Retransmit && e.err == 0) {
            segs += e.segs;
            ++events;
        }
    }
    qInfo("client %lld: %llu retransmit events, %llu segments; summary %u; socket total_retrans "
          "at close %u (close stats %d)",
          client->id, events, segs, client->kernel.retransmits, client->retransmits,
          client->haveCloseStats);
    QVERIFY2(segs > 0, "no retransmission joined to the client under 1/4 loss");
    QCOMPARE(quint64(client->kernel.retransmits), segs);
    QVERIFY2(client->haveCloseStats, "client closed without close stats");
    QCOMPARE(client->kernel.retransmits, client->retransmits); // the kernel's own count

    int code = -1;
    const QString info = run({QStringLiteral("info"), file}, &code);
    QCOMPARE(code, 0);
    const QRegularExpression top(
        QStringLiteral("#%1 ts_client \\(\\d+\\) [^\\n]*: (\\d+) \\(SYN").arg(client->id));
    const QRegularExpressionMatch m = top.match(info);
    QVERIFY2(m.hasMatch(), qPrintable(info));
    QCOMPARE(m.captured(1).toULongLong(), segs);
    const QString csv =
        run({QStringLiteral("export"), file, QStringLiteral("--connections"), QStringLiteral("-")},
            &code);
    QCOMPARE(csvRow(csv, client->id).value(QStringLiteral("kernel_retransmits")).toULongLong(),
             segs);
}

QTEST_GUILESS_MAIN(TestRecordTcpinfo)
#include "test_record_tcpinfo.moc"
