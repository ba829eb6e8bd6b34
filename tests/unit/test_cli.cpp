// SPDX-License-Identifier: GPL-3.0-or-later
// The headless CLI as users run it (the real tcpscope binary): help, exit codes, messages for
// bad files, info and export on a session written here. No privileges needed.
#include "session/session_writer.h"

#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

using namespace tcpscope;

class TestCli : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void helpAndVersion();
    void usageErrors_data();
    void usageErrors();
    void badSessionFiles();
    void recordKeepsForeignFiles();
    void info();
    void infoKernel();
    void infoWithoutKernelMetrics();
    void infoListeners();
    void exportConnections();
    void exportPackets();

private:
    struct Result
    {
        int code = -1;
        QString out, err;
    };
    Result run(const QStringList &args);

    QString m_bin;
    QTemporaryDir m_dir;
    QString m_session;
    QString m_plainSession;
};

TestCli::Result TestCli::run(const QStringList &args)
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

void TestCli::initTestCase()
{
    m_bin = qEnvironmentVariable("TCPSCOPE_BIN");
    QVERIFY2(!m_bin.isEmpty(), "run through ctest (TCPSCOPE_BIN not set)");
    m_session = m_dir.filePath(QStringLiteral("s.tcpscope"));
    QString error;
    auto writer = SessionWriter::create(m_session, &error);
    QVERIFY2(writer, qPrintable(error));
    SessionInfo info;
    info.kernelRelease = QStringLiteral("6.18.0-test");
    info.hostname = QStringLiteral("testhost");
    info.tcpscopeVersion = QStringLiteral("0.1.0");
    info.probes = {QStringLiteral("inet_sock_set_state=tp_btf"), QStringLiteral("tcp_probe=tp_btf"),
                   QStringLiteral("tcp_cong_state_set=unavailable (no such tracepoint)")};
    info.startedNs = 1'764'300'000'000'000'000; // 2025-11-28T03:20:00Z
    info.stoppedNs = info.startedNs + 2'500'000'000;
    info.recordsReceived = 17;
    info.lostRecords = 3;
    info.missedProgramRuns = 2;
    info.packetsCaptured = true;
    info.captureFilter = QStringLiteral("port 80");
    info.packetsReceived = 12;
    info.lostPackets = 1;
    info.packetsFiltered = 4;
    info.interfaces = {{1, QStringLiteral("lo"), 1}, {2, QStringLiteral("eth0"), 2}};
    info.kernelMetrics = true;
    info.sampleIntervalUs = 1000;
    info.samplesReceived = 40;
    info.kernelEventsReceived = 7;
    info.dropsReceived = 5;
    writer->setInfo(info);
    for (int i = 1; i <= 3; ++i) {
        Connection c;
        c.id = i;
        c.pid = 100 + i;
        c.comm = i == 3 ? QStringLiteral("a,b") : QStringLiteral("curl");
        c.family = 4;
        c.localAddr = c.remoteAddr = QStringLiteral("127.0.0.1");
        c.localPort = quint16(40000 + i);
        c.remotePort = 80;
        c.role = ConnectionRole::Client;
        c.startNs = info.startedNs + i * 1'000'000;
        c.endNs = i == 2 ? 0 : c.startNs + 1'500'000;
        c.state = i == 2 ? TcpState::Established : TcpState::Close;
        c.closeReason = i == 1   ? CloseReason::Fin
                        : i == 2 ? CloseReason::Open
                                 : CloseReason::Refused;
        c.haveCloseStats = i != 2;
        c.bytesSent = 1000u * quint64(i);
        c.history = {{c.startNs, TcpState::Close, TcpState::SynSent, 0, QString()}};
        if (i != 2) {
            c.packets.packetsIn = 3;
            c.packets.packetsOut = 2;
            c.packets.retransmissions = 1;
            c.packets.dupAcks = quint32(i);
            c.packets.resets = i == 3 ? 1 : 0;
        }
        if (i == 1) {
            c.kernel.samples = 30;
            c.kernel.srttUsMin = 25;
            c.kernel.srttUsMax = 900;
            c.kernel.cwndMax = 44;
            c.kernel.retransmits = 5;
            c.kernel.synRetransmits = 2;
        } else if (i == 3) {
            c.kernel.samples = 2;
            c.kernel.resetsReceived = 1;
            c.kernel.drops = 1;
        }
        writer->writeConnection(c);
    }
    // The kernel's view: resends (data, SYN, a failed one), a SYN-ACK resend, RSTs both ways,
    // drops with named reasons and one the kernel gave no name for.
    KernelData k;
    auto event = [&](qint64 conn, KernelEventKind kind, quint16 segs) {
        KernelEvent e;
        e.connectionId = conn;
        e.timeNs = info.startedNs + 1000 * (k.events.size() + 1);
        e.kind = kind;
        e.segs = segs;
        k.events.append(e);
        return &k.events.last();
    };
    event(1, KernelEventKind::Retransmit, 3);
    event(1, KernelEventKind::Retransmit, 2)->tcpFlags = 0x02; // SYN resent twice
    event(1, KernelEventKind::Retransmit, 1)->err = -11;       // not sent: not counted
    event(0, KernelEventKind::SynAckRetransmit, 1);
    KernelEvent *rst = event(0, KernelEventKind::ResetSent, 0);
    rst->reason = 2;
    rst->reasonName = QStringLiteral("NO_SOCKET");
    event(3, KernelEventKind::ResetReceived, 0);
    KernelEvent *ca = event(1, KernelEventKind::CongestionState, 0);
    ca->newCaState = 4;
    auto drop = [&](qint64 conn, quint32 reason, const char *name) {
        DropEvent d;
        d.connectionId = conn;
        d.timeNs = info.startedNs + 5000 + k.drops.size();
        d.reason = reason;
        d.reasonName = QLatin1String(name);
        d.family = 4;
        d.srcAddr = d.dstAddr = QStringLiteral("127.0.0.1");
        k.drops.append(d);
    };
    drop(0, 2, "NO_SOCKET");
    drop(3, 2, "NO_SOCKET");
    drop(0, 2, "NO_SOCKET");
    drop(0, 5, "TCP_CSUM");
    drop(0, 99, "");
    writer->writeKernelData(k);
    QVERIFY(writer->close(&error));

    // The same connections recorded with --no-tcpinfo.
    m_plainSession = m_dir.filePath(QStringLiteral("plain.tcpscope"));
    auto plain = SessionWriter::create(m_plainSession, &error);
    QVERIFY2(plain, qPrintable(error));
    info.kernelMetrics = false;
    plain->setInfo(info);
    Connection c;
    c.id = 1;
    c.kernel.retransmits = 9; // not captured: ignored
    plain->writeConnection(c);
    QVERIFY(plain->close(&error));
}

void TestCli::helpAndVersion()
{
    for (const QStringList &args :
         {QStringList{QStringLiteral("--help")}, QStringList{QStringLiteral("help")}}) {
        const Result r = run(args);
        QCOMPARE(r.code, 0);
        QVERIFY(r.out.startsWith(QLatin1String("Usage: tcpscope")));
        for (const char *word : {"record", "info", "export", "Exit status", "Examples"})
            QVERIFY2(r.out.contains(QLatin1String(word)), word);
    }
    for (const char *cmd : {"record", "info", "export"}) {
        const Result a = run({QStringLiteral("help"), QLatin1String(cmd)});
        const Result b = run({QLatin1String(cmd), QStringLiteral("--help")});
        QCOMPARE(a.code, 0);
        QCOMPARE(b.code, 0);
        QCOMPARE(a.out, b.out);
        QVERIFY(a.out.startsWith(QStringLiteral("Usage: tcpscope %1").arg(QLatin1String(cmd))));
    }
    const Result v = run({QStringLiteral("--version")});
    QCOMPARE(v.code, 0);
    QVERIFY(v.out.startsWith(QLatin1String("tcpscope ")));
}

void TestCli::usageErrors_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("message");
    QTest::newRow("unknown command") << QStringList{"frobnicate"} << "unknown command 'frobnicate'";
    QTest::newRow("help unknown") << QStringList{"help", "nope"} << "unknown command 'nope'";
    QTest::newRow("record without -o") << QStringList{"record"} << "record: missing -o FILE";
    QTest::newRow("record bad duration") << QStringList{"record", "-o", "x", "--duration", "soon"}
                                         << "--duration: expected a positive number";
    QTest::newRow("record unknown option")
        << QStringList{"record", "-o", "x", "--fast"} << "record: Unknown option 'fast'";
    QTest::newRow("record bad filter")
        << QStringList{"record", "-o", "x", "--filter", "prot 80"} << "invalid filter: 'prot'";
    QTest::newRow("record filter and/or")
        << QStringList{"record", "-o", "x", "--filter", "port 80 and port 81"}
        << "invalid filter: 'and' between two 'port' terms";
    QTest::newRow("record bad snap")
        << QStringList{"record", "-o", "x", "--snap", "300"} << "--snap: expected 0 to 256";
    QTest::newRow("record no-packets filter")
        << QStringList{"record", "-o", "x", "--no-packets", "--filter", "port 80"}
        << "--no-packets cannot be combined with --filter";
    QTest::newRow("record bad sample interval")
        << QStringList{"record", "-o", "x", "--sample-interval", "soon"}
        << "record: --sample-interval: expected 0 (every sample) to 10000000 microseconds, got "
           "'soon'";
    QTest::newRow("record negative sample interval")
        << QStringList{"record", "-o", "x", "--sample-interval=-1"}
        << "--sample-interval: expected 0 (every sample) to 10000000 microseconds, got '-1'";
    QTest::newRow("record sample interval too long")
        << QStringList{"record", "-o", "x", "--sample-interval", "10000001"} << "got '10000001'";
    QTest::newRow("record sample interval exponent")
        << QStringList{"record", "-o", "x", "--sample-interval", "1e3"} << "got '1e3'";
    QTest::newRow("record sample interval empty")
        << QStringList{"record", "-o", "x", "--sample-interval", ""} << "got ''";
    QTest::newRow("record sample interval without tcpinfo")
        << QStringList{"record", "-o", "x", "--no-tcpinfo", "--sample-interval", "0"}
        << "--no-tcpinfo cannot be combined with --sample-interval";
    // Known options: the error is about the next mistake, not "Unknown option".
    QTest::newRow("record no-tcpinfo is an option")
        << QStringList{"record", "-o", "x", "--no-tcpinfo", "--duration", "soon"}
        << "--duration: expected a positive number";
    QTest::newRow("record sample interval 0 is valid")
        << QStringList{"record", "-o", "x", "--sample-interval", "0", "--duration", "soon"}
        << "--duration: expected a positive number";
    QTest::newRow("record sample interval max is valid")
        << QStringList{"record", "-o", "x", "--sample-interval", "10000000", "--snap", "999"}
        << "--snap: expected 0 to 256";
    QTest::newRow("record rotate by count")
        << QStringList{"record", "-o", "x", "--rotate", "5000conn"}
        << "--rotate: expected a file size (e.g. 100MB, 512KiB) or a duration";
    QTest::newRow("record rotate too small") << QStringList{"record", "-o", "x", "--rotate", "10kB"}
                                             << "at least 64KiB is needed, got '10kB'";
    QTest::newRow("record rotate twice")
        << QStringList{"record", "-o", "x", "--rotate", "1h", "--rotate", "10MB"}
        << "--rotate: give it once";
    QTest::newRow("record keep without rotate")
        << QStringList{"record", "-o", "x", "--keep", "3"} << "--keep needs --rotate";
    QTest::newRow("record keep zero")
        << QStringList{"record", "-o", "x", "--rotate", "1h", "--keep", "0"}
        << "--keep: expected a number of files of at least 1, got '0'";
    QTest::newRow("record keep words")
        << QStringList{"record", "-o", "x", "--rotate", "1h", "--keep", "few"} << "got 'few'";
    QTest::newRow("record stop-after bad")
        << QStringList{"record", "-o", "x", "--stop-after", "10 min"}
        << "--stop-after: expected a size (e.g. 100MB, 512KiB), a duration (e.g. 30s, 10m, 2h) "
           "or a number of connections (e.g. 5000conn), got '10 min'";
    QTest::newRow("record stop-after second bad")
        << QStringList{"record", "-o", "x", "--stop-after", "1h", "--stop-after", "0conn"}
        << "got '0conn'";
    // Valid values: the error is about the next mistake.
    QTest::newRow("record rotate keep stop-after valid")
        << QStringList{"record", "-o",           "x",     "--rotate",     "64KiB",    "--keep",
                       "2",      "--stop-after", "100MB", "--stop-after", "5000conn", "--snap",
                       "999"}
        << "--snap: expected 0 to 256";
    QTest::newRow("info without file") << QStringList{"info"} << "info: missing FILE";
    QTest::newRow("export nothing") << QStringList{"export", "f"} << "exactly one of --connections";
    QTest::newRow("export both") << QStringList{"export", "f",       "--connections",
                                                "a.csv",  "--chart", "timeline"}
                                 << "exactly one of --connections";
    QTest::newRow("export bad suffix")
        << QStringList{"export", "f", "--connections", "a.xml"} << "unknown format";
    QTest::newRow("export packets bad suffix") << QStringList{"export", "f", "--packets", "p.pcap"}
                                               << "p.pcap: unknown format, use a .csv";
    QTest::newRow("export packets to stdout")
        << QStringList{"export", "f", "--packets", "-"} << "--packets needs an output file name";
    QTest::newRow("export bad chart")
        << QStringList{"export", "f", "--chart", "pie", "-o", "a.png"} << "unknown chart 'pie'";
    QTest::newRow("export chart no -o")
        << QStringList{"export", "f", "--chart", "timeline"} << "needs -o";
    QTest::newRow("export bad size")
        << QStringList{"export", "f", "--chart", "timeline", "-o", "a.png", "--size", "big"}
        << "--size: expected WxH";
}

void TestCli::usageErrors()
{
    QFETCH(QStringList, args);
    QFETCH(QString, message);
    const Result r = run(args);
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.startsWith(QLatin1String("tcpscope: ")), qPrintable(r.err));
    QVERIFY2(r.err.contains(message), qPrintable(r.err));
    QVERIFY(r.out.isEmpty());
}

void TestCli::badSessionFiles()
{
    const QString missing = m_dir.filePath(QStringLiteral("missing.tcpscope"));
    const QString garbage = m_dir.filePath(QStringLiteral("garbage.tcpscope"));
    QFile f(garbage);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(QByteArray(5000, 'z'));
    f.close();
    const QString csv = m_dir.filePath(QStringLiteral("never.csv"));
    for (const QString &file : {missing, garbage}) {
        for (const QStringList &args :
             {QStringList{QStringLiteral("info"), file},
              QStringList{QStringLiteral("export"), file, QStringLiteral("--connections"), csv}}) {
            const Result r = run(args);
            QCOMPARE(r.code, 2);
            QVERIFY2(r.err.startsWith(QStringLiteral("tcpscope: %1: ").arg(file)),
                     qPrintable(r.err));
            QCOMPARE(r.err.count(QLatin1Char('\n')), 1); // one line
        }
    }
    QVERIFY(!QFile::exists(csv));
}

// record runs as root: an existing file that is not a session must survive a typo in -o. The
// check happens before the helper is spawned, so this needs no privileges.
void TestCli::recordKeepsForeignFiles()
{
    const QString precious = m_dir.filePath(QStringLiteral("notes.txt"));
    QFile f(precious);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("keep me\n");
    f.close();
    const Result r = run({QStringLiteral("record"), QStringLiteral("-o"), precious,
                          QStringLiteral("--duration"), QStringLiteral("1")});
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains(QLatin1String("not a tcpscope session; not overwriting it")),
             qPrintable(r.err));
    QVERIFY(f.open(QIODevice::ReadOnly));
    QCOMPARE(f.readAll(), QByteArray("keep me\n"));
}

void TestCli::info()
{
    const Result r = run({QStringLiteral("info"), m_session});
    QCOMPARE(r.code, 0);
    QVERIFY2(r.out.contains(
                 QLatin1String("2025-11-28T03:20:00.000Z .. 2025-11-28T03:20:02.500Z (2.500 s)")),
             qPrintable(r.out));
    QVERIFY(r.out.contains(QLatin1String("testhost")));
    QVERIFY(r.out.contains(QLatin1String("6.18.0-test")));
    // The format version (this file: the writer's current one), and no damage to report.
    QVERIFY2(QRegularExpression(QStringLiteral("\nFormat: +tcpscope session [0-9]+\\.[0-9]+\n"))
                 .match(r.out)
                 .hasMatch(),
             qPrintable(r.out));
    QVERIFY(!r.out.contains(QLatin1String("out of range")));
    QVERIFY(r.out.contains(QLatin1String("inet_sock_set_state=tp_btf")));
    QVERIFY(r.out.contains(QLatin1String("Records:         17")));
    QVERIFY2(r.out.contains(QLatin1String("Lost records:    3 (ring buffer 1, skipped program "
                                          "runs 2): the kernel dropped records")),
             qPrintable(r.out));
    QVERIFY(r.out.contains(QLatin1String("Connections:     3 (1 open at the end)")));
    QVERIFY(r.out.contains(QLatin1String("by state:      CLOSE 2, ESTABLISHED 1")));
    QVERIFY2(r.out.contains(QLatin1String("by close:      fin 1, open 1, refused 1")),
             qPrintable(r.out));
    QVERIFY2(r.out.contains(QLatin1String("Packets:         12 received, 10 joined to 2 "
                                          "connections (6 in, 4 out")),
             qPrintable(r.out));
    QVERIFY2(r.out.contains(QLatin1String("Lost packets:    1: the packet ring buffer was full")),
             qPrintable(r.out));
    QVERIFY(r.out.contains(QLatin1String("Filtered out:    4")));
    QVERIFY(r.out.contains(QLatin1String("Capture filter:  port 80")));
    QVERIFY2(r.out.contains(QLatin1String("Interfaces:      lo (tcx), eth0 (clsact)")),
             qPrintable(r.out));
    QVERIFY2(r.out.contains(QLatin1String("Analysis:        retransmissions 2 (fast 0, spurious "
                                          "0), dup ACKs 4,")),
             qPrintable(r.out));
    QVERIFY2(r.out.contains(QLatin1String("resets 1")), qPrintable(r.out));
}

void TestCli::infoKernel()
{
    const Result r = run({QStringLiteral("info"), m_session});
    QCOMPARE(r.code, 0);
    // The capability report: one probe per line, unavailable ones with their reason.
    QVERIFY2(r.out.contains(QLatin1String("Probes:          inet_sock_set_state=tp_btf\n"
                                          "                 tcp_probe=tp_btf\n"
                                          "                 tcp_cong_state_set=unavailable (no "
                                          "such tracepoint)\n")),
             qPrintable(r.out));
    QVERIFY2(r.out.contains(QLatin1String("Kernel samples:  40 received, 32 joined to 2 "
                                          "connections; interval 1000 us per connection\n")),
             qPrintable(r.out));
    QVERIFY2(r.out.contains(QLatin1String("Kernel events:   7 received, 7 in the file, 5 joined "
                                          "to connections\n")),
             qPrintable(r.out));
    QVERIFY2(r.out.contains(QLatin1String("Retransmits:     5 segments resent by the kernel (SYN "
                                          "2), SYN-ACK 1, 1 resends failed\n")),
             qPrintable(r.out));
    QVERIFY2(r.out.contains(QLatin1String("Resets:          sent 1, received 1 (sent by reason: "
                                          "NO_SOCKET 1)\n")),
             qPrintable(r.out));
    QVERIFY2(r.out.contains(QLatin1String("Congestion:      1 state changes\n")),
             qPrintable(r.out));
    QVERIFY2(r.out.contains(QLatin1String("Drops:           5 received, 5 in the file, 1 joined "
                                          "to connections\n")),
             qPrintable(r.out));
    // Sorted by count, then name; a reason the kernel did not name shows its value.
    QVERIFY2(
        r.out.contains(QLatin1String("  by reason:     NO_SOCKET 3, TCP_CSUM 1, reason 99 1\n")),
        qPrintable(r.out));
    QVERIFY2(r.out.contains(QLatin1String("Top retransmits: #1 curl (101) 127.0.0.1:40001 > "
                                          "127.0.0.1:80: 5 (SYN 2, SYN-ACK 0), srtt max 900 us\n")),
             qPrintable(r.out));
}

void TestCli::infoWithoutKernelMetrics()
{
    const Result r = run({QStringLiteral("info"), m_plainSession});
    QCOMPARE(r.code, 0);
    QVERIFY2(r.out.contains(QLatin1String("Kernel metrics:  not captured (--no-tcpinfo")),
             qPrintable(r.out));
    QVERIFY(!r.out.contains(QLatin1String("Retransmits:")));
    QVERIFY(!r.out.contains(QLatin1String("Drops:")));
    // Its CSV leaves the kernel columns empty rather than claiming zeros.
    const Result csv = run({QStringLiteral("export"), m_plainSession,
                            QStringLiteral("--connections"), QStringLiteral("-")});
    QCOMPARE(csv.code, 0);
    const QStringList lines = csv.out.split(QStringLiteral("\r\n"));
    const QStringList header = lines[0].split(QLatin1Char(','));
    const QStringList row = lines[1].split(QLatin1Char(','));
    QCOMPARE(row.size(), header.size());
    QCOMPARE(row[header.indexOf(QLatin1String("kernel_retransmits"))], QString());
    QCOMPARE(row[header.indexOf(QLatin1String("drops"))], QString());
}

void TestCli::infoListeners()
{
    // A listener whose accept queue overflowed, and one that never queued anything.
    const QString file = m_dir.filePath(QStringLiteral("listen.tcpscope"));
    QString error;
    auto writer = SessionWriter::create(file, &error);
    QVERIFY2(writer, qPrintable(error));
    SessionInfo info;
    info.kernelMetrics = true;
    info.sampleIntervalUs = 0;
    writer->setInfo(info);
    for (int i = 1; i <= 2; ++i) {
        Connection c;
        c.id = i;
        c.pid = 900;
        c.comm = QStringLiteral("nginx");
        c.family = i == 1 ? 4 : 6;
        c.localAddr = i == 1 ? QStringLiteral("0.0.0.0") : QStringLiteral("::");
        c.localPort = 8080;
        c.role = ConnectionRole::Listener;
        c.state = TcpState::Listen;
        c.kernel.listenDrops = i == 1 ? 7 : 0;
        c.kernel.backlogMax = i == 1 ? 129 : 0;
        writer->writeConnection(c);
    }
    QVERIFY(writer->close(&error));
    const Result r = run({QStringLiteral("info"), file});
    QCOMPARE(r.code, 0);
    QVERIFY2(r.out.contains(QLatin1String("Kernel samples:  0 received, 0 joined to 0 "
                                          "connections; interval 0 (every sample)\n")),
             qPrintable(r.out));
    QVERIFY2(r.out.contains(QLatin1String("Listeners:       #1 nginx 0.0.0.0:8080: 7 dropped, "
                                          "accept queue up to 129\n")),
             qPrintable(r.out));
    QVERIFY(!r.out.contains(QLatin1String("[::]:8080")));           // nothing to report for it
    QVERIFY(r.out.contains(QLatin1String("  by reason:     -\n"))); // no drops at all
    QVERIFY(!r.out.contains(QLatin1String("Top retransmits:")));
}

void TestCli::exportConnections()
{
    const QString csv = m_dir.filePath(QStringLiteral("out.csv"));
    Result r = run({QStringLiteral("export"), m_session, QStringLiteral("--connections"), csv});
    QCOMPARE(r.code, 0);
    QFile f(csv);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QByteArray content = f.readAll();
    QVERIFY(content.startsWith(
        "id,pid,comm,family,local_addr,local_port,remote_addr,remote_port,start_ns,"));
    QCOMPARE(content.count("\r\n"), 4);
    QVERIFY(content.contains(",\"a,b\",")); // RFC 4180 quoting survives the CLI
    r = run({QStringLiteral("export"), m_session, QStringLiteral("--connections"),
             QStringLiteral("-")});
    QCOMPARE(r.code, 0);
    QCOMPARE(r.out.toUtf8(), content); // '-' is the same CSV on stdout
    const QString json = m_dir.filePath(QStringLiteral("out.json"));
    r = run({QStringLiteral("export"), m_session, QStringLiteral("--connections"), json});
    QCOMPARE(r.code, 0);
    QFile j(json);
    QVERIFY(j.open(QIODevice::ReadOnly));
    QVERIFY(j.readAll().startsWith("[\n  {\"id\": 1, \"pid\": 101, \"comm\": \"curl\""));
    // The kernel columns through the CLI, with the values of the file.
    const QStringList lines = QString::fromUtf8(content).split(QStringLiteral("\r\n"));
    const QStringList header = lines[0].split(QLatin1Char(','));
    const QStringList first = lines[1].split(QLatin1Char(','));
    auto cell = [&](const char *name) { return first.value(header.indexOf(QLatin1String(name))); };
    QCOMPARE(cell("srtt_us_min"), QStringLiteral("25"));
    QCOMPARE(cell("srtt_us_max"), QStringLiteral("900"));
    QCOMPARE(cell("cwnd_max"), QStringLiteral("44"));
    QCOMPARE(cell("resets_sent"), QStringLiteral("0"));
    QCOMPARE(cell("kernel_retransmits"), QStringLiteral("5"));
    QCOMPARE(cell("syn_retransmits"), QStringLiteral("2"));
    // An unwritable destination is a runtime failure (1), not bad input.
    r = run({QStringLiteral("export"), m_session, QStringLiteral("--connections"),
             m_dir.filePath(QStringLiteral("no/such/dir/out.csv"))});
    QCOMPARE(r.code, 1);
    QVERIFY(r.err.startsWith(QLatin1String("tcpscope: ")));
}

// --packets through the binary: the format from the suffix, one connection's packets, and the
// errors for an unknown connection, a connection without packets and a session without any.
void TestCli::exportPackets()
{
    const QString file = m_dir.filePath(QStringLiteral("packets.tcpscope"));
    QString error;
    auto writer = SessionWriter::create(file, &error);
    QVERIFY2(writer, qPrintable(error));
    SessionInfo info;
    info.startedNs = 1'764'300'000'000'000'000;
    info.packetsCaptured = true;
    writer->setInfo(info);
    QVector<Packet> packets;
    for (qint64 id : {1, 2}) {
        Connection c;
        c.id = id;
        c.startNs = info.startedNs;
        c.history = {{c.startNs, TcpState::Close, TcpState::SynSent, 0, QString()}};
        writer->writeConnection(c);
        for (int i = 0; i < 3; ++i) {
            Packet p;
            p.id = packets.size() + 1;
            p.connectionId = id;
            p.timeNs = info.startedNs + p.id * 1000;
            p.srcAddr = {127, 0, 0, 1};
            p.dstAddr = {127, 0, 0, 1};
            p.srcPort = quint16(1000 + id);
            p.dstPort = 80;
            p.seq = quint32(p.id);
            p.tcpFlags = 0x10;
            packets.append(p);
        }
    }
    writer->writeConnection([] {
        Connection c;
        c.id = 3; // no packets
        return c;
    }());
    writer->writePackets(packets);
    QVERIFY(writer->close(&error));

    const QString csv = m_dir.filePath(QStringLiteral("conn2.csv"));
    Result r = run({QStringLiteral("export"), file, QStringLiteral("--packets"), csv,
                    QStringLiteral("--connection"), QStringLiteral("2")});
    QCOMPARE(r.code, 0);
    QCOMPARE(r.out, QStringLiteral("wrote 3 packets to %1\n").arg(csv));
    QFile f(csv);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QList<QByteArray> lines = f.readAll().split('\n');
    QCOMPARE(lines.size(), 5); // header, 3 rows, nothing after the last line end
    QVERIFY(lines[1].startsWith("4,2,"));
    const QString json = m_dir.filePath(QStringLiteral("all.json"));
    r = run({QStringLiteral("export"), file, QStringLiteral("--packets"), json});
    QCOMPARE(r.code, 0);
    QCOMPARE(r.out, QStringLiteral("wrote 6 packets to %1\n").arg(json));
    const QString pcapng = m_dir.filePath(QStringLiteral("all.pcapng"));
    r = run({QStringLiteral("export"), file, QStringLiteral("--packets"), pcapng});
    QCOMPARE(r.code, 0);
    QVERIFY(QFileInfo(pcapng).size() > 0);

    const QString never = m_dir.filePath(QStringLiteral("never.csv"));
    r = run({QStringLiteral("export"), file, QStringLiteral("--packets"), never,
             QStringLiteral("--connection"), QStringLiteral("9")});
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains(QLatin1String("no connection with id 9 (3 connections")),
             qPrintable(r.err));
    r = run({QStringLiteral("export"), file, QStringLiteral("--packets"), never,
             QStringLiteral("--connection"), QStringLiteral("3")});
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.contains(QLatin1String("connection 3 has no packets")), qPrintable(r.err));
    r = run({QStringLiteral("export"), m_plainSession, QStringLiteral("--packets"), never});
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.contains(QLatin1String("the session has no packets")), qPrintable(r.err));
    QVERIFY(!QFile::exists(never));
}

QTEST_GUILESS_MAIN(TestCli)
#include "test_cli.moc"
