// SPDX-License-Identifier: GPL-3.0-or-later
// Live pcapng on the real kernel with real loopback traffic (root, tshark):
//  * tcpscope-extcap --capture --fifo FIFO, read like Wireshark reads it and stopped like
//    Wireshark stops it (SIGTERM): tshark reads the stream without complaint, it holds the
//    exchange's packets, each naming its socket's process in epb_processid_threadid (the client's
//    pid on the packets it received) and a tcpscope.proc.name option, and the temporary session
//    is gone afterwards;
//  * `tcpscope record --pcapng-out -` into a file: the same, with record's summary on stderr;
//  * a reader that closes the FIFO stops record cleanly, saying why.
#include "pcapng_options.h"
#include "tshark_support.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QtEndian>
#include <csignal>
#include <sys/stat.h>
#include <unistd.h>

using namespace tcpscope;
using namespace tcpscope::tshark_test;
using namespace tcpscope::pcapng_test;

namespace {

// Waits until path holds something (the section header, written once the capture is live) or
// proc exits. Empty when it does; else why not.
QString waitForStream(const QString &path, QProcess &proc)
{
    QElapsedTimer timer;
    timer.start();
    while (timer.elapsed() < 20000) {
        if (QFileInfo(path).size() > 0)
            return QString();
        if (proc.state() == QProcess::NotRunning)
            return QStringLiteral("the capture exited: ") +
                   QString::fromLocal8Bit(proc.readAllStandardError()).trimmed();
        QTest::qWait(100);
    }
    return QStringLiteral("no pcapng within 20 s");
}

} // namespace

class TestPcapngStream : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void extcapCapturesIntoFifo();
    void recordStreamsToStdout();
    void closedFifoStopsRecord();

private:
    QProcessEnvironment env() const;
    // A server on an IPv4 loopback port (started before the capture, whose filter names it).
    void startServer(QProcess &server, quint16 *port);
    // The client's exchange with it; *clientPid its pid.
    void runClient(QProcess &server, quint16 port, qint64 *clientPid);
    void checkPcapng(const QString &pcap, quint16 port, qint64 clientPid);

    QString m_tcpscope, m_helper, m_traffic, m_extcap;
    QTemporaryDir m_dir;
};

void TestPcapngStream::initTestCase()
{
    if (geteuid() != 0)
        QSKIP("NOT ROOT: tcpscope record loads BPF programs; run as root for this test");
    if (QStandardPaths::findExecutable(QStringLiteral("tshark")).isEmpty())
        QSKIP("tshark not installed (packaging/deps.sh --with-test-tools)");
    m_tcpscope = qEnvironmentVariable("TCPSCOPE_BIN");
    m_helper = qEnvironmentVariable("TCPSCOPE_HELPER");
    m_traffic = qEnvironmentVariable("TS_TRAFFIC");
    m_extcap = qEnvironmentVariable("TCPSCOPE_EXTCAP");
    for (const QString &p : {m_tcpscope, m_helper, m_traffic, m_extcap})
        QVERIFY2(QFileInfo(p).isExecutable(), "TCPSCOPE_BIN, TCPSCOPE_HELPER, TS_TRAFFIC or "
                                              "TCPSCOPE_EXTCAP not set: run through ctest");
    QVERIFY(m_dir.isValid());
}

QProcessEnvironment TestPcapngStream::env() const
{
    QProcessEnvironment e = QProcessEnvironment::systemEnvironment();
    e.insert(QStringLiteral("TCPSCOPE_HELPER"), m_helper);
    e.insert(QStringLiteral("TCPSCOPE_BIN"), m_tcpscope);
    return e;
}

void TestPcapngStream::startServer(QProcess &server, quint16 *port)
{
    server.start(m_traffic, {QStringLiteral("server"), QStringLiteral("4"),
                             QStringLiteral("100000"), QStringLiteral("20000")});
    QVERIFY(server.waitForStarted());
    *port = readPort(server);
    QVERIFY(*port);
}

void TestPcapngStream::runClient(QProcess &server, quint16 port, qint64 *clientPid)
{
    QProcess client;
    client.start(m_traffic, {QStringLiteral("client"), QStringLiteral("4"), QString::number(port),
                             QStringLiteral("20000"), QStringLiteral("100000")});
    QVERIFY(client.waitForStarted());
    *clientPid = client.processId();
    QVERIFY(client.waitForFinished(20000) && client.exitCode() == 0);
    QVERIFY(server.waitForFinished(20000) && server.exitCode() == 0);
    // The last packets (FIN, final ACK) reach the ring buffer; let the helper forward them.
    QTest::qWait(500);
}

void TestPcapngStream::checkPcapng(const QString &pcap, quint16 port, qint64 clientPid)
{
    const Run read = run(QStringLiteral("tshark"),
                         {QStringLiteral("-n"), QStringLiteral("-r"), pcap, QStringLiteral("-Y"),
                          QStringLiteral("tcp.port == %1").arg(port)});
    QVERIFY2(read.exitCode == 0, qPrintable(read.err));
    QVERIFY2(tsharkComplaints(read.err).isEmpty(), qPrintable(read.err));
    const qsizetype shown = read.out.split(QLatin1Char('\n'), Qt::SkipEmptyParts).size();
    QVERIFY2(shown >= 6, qPrintable(read.out)); // handshake, data, ACKs, FINs

    QString error;
    const QVector<BlockOptions> blocks = pcapngOptions(pcap, &error);
    QVERIFY2(error.isEmpty(), qPrintable(error));
    QVERIFY(!blocks.isEmpty() && blocks[0].type == 0x0A0D0D0Au);
    QByteArray clientTag(8, '\0');
    qToLittleEndian<quint32>(quint32(clientPid), clientTag.data());
    int epbs = 0, ofClient = 0;
    for (const BlockOptions &b : blocks) {
        if (b.type != 6)
            continue;
        ++epbs;
        // The filter keeps only the exchange: each packet belongs to ts_client or ts_server.
        const QByteArray pidTid = optionValue(b, 8);
        QCOMPARE(pidTid.size(), 8);
        const QStringList texts = customStrings(b);
        if (pidTid == clientTag) {
            ++ofClient;
            QVERIFY2(texts.value(0) == QLatin1String("tcpscope.proc.name=ts_client"),
                     qPrintable(texts.join(QLatin1Char(','))));
        } else {
            QVERIFY2(texts.value(0) == QLatin1String("tcpscope.proc.name=ts_server"),
                     qPrintable(texts.join(QLatin1Char(','))));
        }
    }
    // Loopback packets appear once (the egress copies are left out, as in the file export).
    QCOMPARE(qsizetype(epbs), shown);
    QVERIFY2(ofClient > 0, "no packet names the client's pid");
}

void TestPcapngStream::extcapCapturesIntoFifo()
{
    const QString fifo = m_dir.filePath(QStringLiteral("wireshark.fifo"));
    const QString out = m_dir.filePath(QStringLiteral("extcap.pcapng"));
    const QString tmp = m_dir.filePath(QStringLiteral("tmp"));
    QVERIFY(QDir().mkpath(tmp));
    QCOMPARE(::mkfifo(QFile::encodeName(fifo).constData(), 0600), 0);
    quint16 port = 0;
    QProcess server;
    startServer(server, &port);

    QProcess extcap;
    QProcessEnvironment e = env();
    e.insert(QStringLiteral("TMPDIR"), tmp); // where the temporary session goes
    extcap.setProcessEnvironment(e);
    extcap.start(m_extcap, {QStringLiteral("--capture"), QStringLiteral("--extcap-interface"),
                            QStringLiteral("tcpscope"), QStringLiteral("--fifo"), fifo,
                            QStringLiteral("--filter"), QStringLiteral("port %1").arg(port)});
    QVERIFY(extcap.waitForStarted());
    // Wireshark's side: reads the FIFO until the writer closes it.
    QProcess reader;
    reader.setStandardOutputFile(out);
    reader.start(QStringLiteral("cat"), {fifo});
    QVERIFY(reader.waitForStarted());
    if (const QString why = waitForStream(out, extcap); !why.isEmpty()) {
        ::kill(pid_t(extcap.processId()), SIGTERM);
        extcap.waitForFinished(30000);
        reader.waitForFinished(5000);
        if (why.contains(QLatin1String("Start:")))
            QSKIP(qPrintable(QStringLiteral("PACKET CAPTURE UNAVAILABLE: ") + why));
        QFAIL(qPrintable(why));
    }
    // The session being recorded is a temporary file while the capture runs.
    QCOMPARE(QDir(tmp).entryList(QDir::Dirs | QDir::NoDotAndDotDot).size(), 1);

    qint64 clientPid = 0;
    runClient(server, port, &clientPid);
    ::kill(pid_t(extcap.processId()), SIGTERM); // Wireshark's "stop"
    QVERIFY(extcap.waitForFinished(30000));
    const QString err = QString::fromLocal8Bit(extcap.readAllStandardError());
    QVERIFY2(extcap.exitStatus() == QProcess::NormalExit && extcap.exitCode() == 0,
             qPrintable(err));
    QVERIFY2(err.contains(QLatin1String("packets streamed as pcapng to ") + fifo), qPrintable(err));
    QVERIFY(reader.waitForFinished(10000) && reader.exitCode() == 0);
    QVERIFY2(
        QDir(tmp).isEmpty(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden),
        qPrintable(
            QDir(tmp).entryList(QDir::AllEntries | QDir::NoDotAndDotDot).join(QLatin1Char(' '))));
    checkPcapng(out, port, clientPid);
}

void TestPcapngStream::recordStreamsToStdout()
{
    const QString out = m_dir.filePath(QStringLiteral("stdout.pcapng"));
    const QString session = m_dir.filePath(QStringLiteral("stdout.tcpscope"));
    quint16 port = 0;
    QProcess server;
    startServer(server, &port);
    QProcess rec;
    rec.setProcessEnvironment(env());
    rec.setStandardOutputFile(out);
    rec.start(m_tcpscope, {QStringLiteral("record"), QStringLiteral("-o"), session,
                           QStringLiteral("--pcapng-out"), QStringLiteral("-"),
                           QStringLiteral("--filter"), QStringLiteral("port %1").arg(port)});
    QVERIFY(rec.waitForStarted());
    if (const QString why = waitForStream(out, rec); !why.isEmpty()) {
        ::kill(pid_t(rec.processId()), SIGINT);
        rec.waitForFinished(30000);
        QFAIL(qPrintable(why));
    }
    qint64 clientPid = 0;
    runClient(server, port, &clientPid);
    ::kill(pid_t(rec.processId()), SIGINT);
    QVERIFY(rec.waitForFinished(30000));
    const QString err = QString::fromLocal8Bit(rec.readAllStandardError());
    QVERIFY2(rec.exitStatus() == QProcess::NormalExit && rec.exitCode() == 0, qPrintable(err));
    // stdout holds nothing but the pcapng: the summary went to stderr.
    QVERIFY2(err.contains(QLatin1String("packets streamed as pcapng to stdout")), qPrintable(err));
    checkPcapng(out, port, clientPid);
    QVERIFY(QFileInfo(session).size() > 0);
}

void TestPcapngStream::closedFifoStopsRecord()
{
    const QString fifo = m_dir.filePath(QStringLiteral("closed.fifo"));
    const QString out = m_dir.filePath(QStringLiteral("closed.pcapng"));
    QCOMPARE(::mkfifo(QFile::encodeName(fifo).constData(), 0600), 0);
    QProcess rec;
    rec.setProcessEnvironment(env());
    rec.start(m_tcpscope,
              {QStringLiteral("record"), QStringLiteral("-o"),
               m_dir.filePath(QStringLiteral("closed.tcpscope")), QStringLiteral("--pcapng-out"),
               fifo, QStringLiteral("--filter"), QStringLiteral("port 9")});
    QVERIFY(rec.waitForStarted());
    QProcess reader;
    reader.setStandardOutputFile(out);
    reader.start(QStringLiteral("cat"), {fifo});
    QVERIFY(reader.waitForStarted());
    if (const QString why = waitForStream(out, rec); !why.isEmpty()) {
        ::kill(pid_t(rec.processId()), SIGINT);
        rec.waitForFinished(30000);
        QFAIL(qPrintable(why));
    }
    reader.kill(); // the reader goes away while no packets flow
    reader.waitForFinished(5000);
    QVERIFY2(rec.waitForFinished(10000), "record did not stop when its reader went away");
    const QString err = QString::fromLocal8Bit(rec.readAllStandardError());
    QVERIFY2(rec.exitStatus() == QProcess::NormalExit && rec.exitCode() == 0, qPrintable(err));
    QVERIFY2(err.contains(QLatin1String("stream ended: ") + fifo +
                          QLatin1String(": the reader closed it")),
             qPrintable(err));
}

QTEST_GUILESS_MAIN(TestPcapngStream)
#include "test_pcapng_stream.moc"
