// SPDX-License-Identifier: GPL-3.0-or-later
// The headless CLI as users run it (the real tcpscope binary): help, exit codes, messages for
// bad files, info and export on a session written here. No privileges needed.
#include "session/session_store.h"
#include "session/session_writer.h"
#include "test_addresses.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

#include "session_sql.h"

#include <fcntl.h>
#include <pty.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace tcpscope;
using tcpscope::testing::sql;

namespace {

struct stat lstatOf(const QString &path)
{
    struct stat st = {};
    ::lstat(QFile::encodeName(path).constData(), &st);
    return st;
}

// The bytes a terminal would act on: ESC, BEL, and C1 controls (0xC2 0x80..0x9F in UTF-8).
bool hasTerminalControls(const QByteArray &bytes)
{
    for (qsizetype i = 0; i < bytes.size(); ++i) {
        const auto b = static_cast<unsigned char>(bytes[i]);
        if (b == 0x1b || b == 0x07 || b == 0x7f ||
            (b == 0xc2 && i + 1 < bytes.size() &&
             static_cast<unsigned char>(bytes[i + 1]) >= 0x80 &&
             static_cast<unsigned char>(bytes[i + 1]) <= 0x9f))
            return true;
    }
    return false;
}

// The companions SQLite may create beside a database.
QStringList sideFiles(const QString &file)
{
    QStringList found;
    for (const char *suffix : {"-shm", "-wal", "-journal"}) {
        if (QFileInfo::exists(file + QLatin1String(suffix)))
            found << QString::fromLatin1(suffix);
    }
    return found;
}

// In a child process: runs sql on file and dies without closing, as a writer killed mid-way
// would; what it leaves beside the file stays there.
void dieWhileWriting(const QString &file, const char *statements)
{
    const pid_t pid = ::fork();
    if (pid == 0) {
        sqlite3 *db = nullptr;
        if (sqlite3_open(QFile::encodeName(file).constData(), &db) != SQLITE_OK)
            ::_exit(1);
        const int rc = sqlite3_exec(db, statements, nullptr, nullptr, nullptr);
        ::_exit(rc == SQLITE_OK ? 0 : 2);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    QVERIFY2(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the writer child failed");
}

} // namespace

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
    void infoInterruptions();
    void infoJson();
    void infoKernel();
    void infoWithoutKernelMetrics();
    void infoListeners();
    void infoCountsEachWirePacketOnce();
    void exportConnections();
    void exportPackets();
    void outputTargetsRefused();
    void packetsToStreams();
    void hostileText();
    void csvSafe();
    void badConnectionValues();
    void readOnlyLeavesNoSideFiles();
    void hotJournalAndRecover();
    void walWithoutShmAndRecover();
    void displayFilter();

private:
    struct Result
    {
        int code = -1;
        QString out, err;
        QByteArray rawOut;
    };
    Result run(const QStringList &args);
    // The same with stdout and stderr on a pseudo-terminal: what a person at a terminal sees.
    Result runOnTerminal(const QStringList &args);
    QString hostileCopy(const char *name);

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
    r.rawOut = p.readAllStandardOutput();
    r.out = QString::fromUtf8(r.rawOut);
    r.err = QString::fromUtf8(p.readAllStandardError());
    return r;
}

TestCli::Result TestCli::runOnTerminal(const QStringList &args)
{
    Result r;
    QList<QByteArray> argv8{QFile::encodeName(m_bin)};
    for (const QString &a : args)
        argv8 << a.toLocal8Bit();
    std::vector<char *> argv;
    for (QByteArray &a : argv8)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    int master = -1;
    const pid_t pid = forkpty(&master, nullptr, nullptr, nullptr);
    if (pid < 0)
        return r;
    if (pid == 0) {
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    char buf[4096];
    ssize_t n;
    // EIO once the child has exited and the terminal is closed.
    while ((n = ::read(master, buf, sizeof buf)) > 0)
        r.rawOut.append(buf, n);
    ::close(master);
    int status = 0;
    ::waitpid(pid, &status, 0);
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = QString::fromUtf8(r.rawOut);
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
    info.readerDropped = 6;
    info.reorderWindowNs = 500'000'000;
    info.recordsReordered = 9;
    info.maxInversionNs = 1'250'000;
    info.recordsBeyondWindow = 2;
    info.maxLateNs = 610'000'000;
    info.recordsAfterEviction = 4;
    // A gap the helper counted, and an end nobody could count.
    info.interruptions = {
        {info.startedNs + 500'000'000, info.startedNs + 1'500'000'000, 6,
         QStringLiteral("tcpscope did not read in time")},
        {info.startedNs + 2'000'000'000, 0, -1, QStringLiteral("the helper ended unexpectedly")}};
    writer->setInfo(info);
    for (int i = 1; i <= 3; ++i) {
        Connection c;
        c.id = i;
        c.pid = 100 + i;
        c.comm = i == 3 ? QStringLiteral("a,b") : QStringLiteral("curl");
        c.localAddr = c.remoteAddr = test::ip(QStringLiteral("127.0.0.1"));
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
        d.srcAddr = d.dstAddr = test::ip(QStringLiteral("127.0.0.1"));
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
    info.readerDropped = 0;
    info.interruptions.clear();
    // Written before the record-order facts were kept.
    info.reorderWindowNs = info.recordsReordered = info.maxInversionNs = -1;
    info.recordsBeyondWindow = info.maxLateNs = info.recordsAfterEviction = -1;
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
    // record and watch take their hosts the same way (cli_common.cpp, hostOptions).
    for (const char *cmd : {"record", "watch"}) {
        const QString c = QString::fromLatin1(cmd);
        QTest::newRow(qPrintable(c + " local alone"))
            << QStringList{c, "-o", "x", "--local"} << "--local goes with --remote DEST";
        QTest::newRow(qPrintable(c + " helper alone"))
            << QStringList{c, "-o", "x", "--remote-helper", "/h"}
            << "--remote-helper goes with --remote DEST";
        QTest::newRow(qPrintable(c + " helper twice")) << QStringList{c,    "-o",
                                                                      "x",  "--remote",
                                                                      "a",  "--remote-helper",
                                                                      "/h", "--remote-helper",
                                                                      "/i"}
                                                       << "--remote-helper: give it once";
        QTest::newRow(qPrintable(c + " remote twice"))
            << QStringList{c, "-o", "x", "--remote", "a", "--remote", "a"}
            << "--remote: 'a' given twice";
        QTest::newRow(qPrintable(c + " remote empty"))
            << QStringList{c, "-o", "x", "--remote", " "} << "--remote: empty destination";
    }
    QTest::newRow("info without file") << QStringList{"info"} << "info: missing FILE";
    QTest::newRow("export nothing") << QStringList{"export", "f"} << "exactly one of --connections";
    QTest::newRow("export both") << QStringList{"export", "f",       "--connections",
                                                "a.csv",  "--chart", "timeline"}
                                 << "exactly one of --connections";
    QTest::newRow("export bad suffix")
        << QStringList{"export", "f", "--connections", "a.xml"} << "unknown format";
    QTest::newRow("export packets bad suffix") << QStringList{"export", "f", "--packets", "p.pcap"}
                                               << "p.pcap: unknown format, use a .csv";
    QTest::newRow("export packets empty name")
        << QStringList{"export", "f", "--packets", ""} << "--packets needs an output file name";
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
    QVERIFY2(r.out.contains(QLatin1String(
                 "Record order:    9 records arrived after newer ones and were put back in time "
                 "order (largest inversion 1.250 ms; window 500.000 ms); 2 later than the window, "
                 "processed as they came (up to 610.000 ms behind; durations derived from them "
                 "clamped at 0); 4 arrived after their connection was evicted")),
             qPrintable(r.out));
    // A file from before these facts were kept has no such line.
    const Result plain = run({QStringLiteral("info"), m_plainSession});
    QCOMPARE(plain.code, 0);
    QVERIFY(!plain.out.contains(QLatin1String("Record order:")));
}

void TestCli::infoInterruptions()
{
    Result r = run({QStringLiteral("info"), m_session});
    QCOMPARE(r.code, 0);
    QVERIFY2(r.out.contains(QLatin1String("Not read:        6 records")), qPrintable(r.out));
    const QStringList gaps = r.out.split(QLatin1Char('\n')).filter(QStringLiteral("Interrupted:"));
    QCOMPARE(gaps.size(), 2);
    QVERIFY2(gaps[0].contains(QLatin1String("2025-11-28T03:20:00.500Z")) &&
                 gaps[0].contains(QLatin1String("did not read")) &&
                 gaps[0].contains(QLatin1String("6 records")),
             qPrintable(gaps[0]));
    QVERIFY2(gaps[1].contains(QLatin1String("ended unexpectedly")), qPrintable(gaps[1]));
    // A complete capture has neither line.
    r = run({QStringLiteral("info"), m_plainSession});
    QCOMPARE(r.code, 0);
    QVERIFY(!r.out.contains(QLatin1String("Interrupted:")));
    QVERIFY(!r.out.contains(QLatin1String("Not read:")));
}

void TestCli::infoJson()
{
    Result r = run({QStringLiteral("info"), QStringLiteral("--json"), m_session});
    QCOMPARE(r.code, 0);
    QJsonParseError perr;
    const QJsonObject o = QJsonDocument::fromJson(r.out.toUtf8(), &perr).object();
    QVERIFY2(perr.error == QJsonParseError::NoError, qPrintable(perr.errorString()));
    QCOMPARE(o.value(QLatin1String("host")).toString(), QStringLiteral("testhost"));
    QCOMPARE(o.value(QLatin1String("started_ns")).toDouble(), 1'764'300'000'000'000'000.0);
    QCOMPARE(o.value(QLatin1String("stopped_cleanly")).toBool(), true);
    QCOMPARE(o.value(QLatin1String("complete")).toBool(), false);
    QCOMPARE(o.value(QLatin1String("records")).toInt(), 17);
    QCOMPARE(o.value(QLatin1String("lost_records")).toInt(), 3);
    QCOMPARE(o.value(QLatin1String("missed_program_runs")).toInt(), 2);
    QCOMPARE(o.value(QLatin1String("not_read")).toInt(), 6);
    const QJsonArray gaps = o.value(QLatin1String("interruptions")).toArray();
    QCOMPARE(gaps.size(), 2);
    const QJsonObject first = gaps[0].toObject();
    QCOMPARE(first.value(QLatin1String("end_ns")).toDouble() -
                 first.value(QLatin1String("start_ns")).toDouble(),
             1e9);
    QCOMPARE(first.value(QLatin1String("records_lost")).toInt(), 6);
    QVERIFY(first.value(QLatin1String("reason")).toString().contains(QLatin1String("read")));
    const QJsonObject last = gaps[1].toObject();
    QVERIFY(last.value(QLatin1String("end_ns")).isNull());
    QVERIFY(last.value(QLatin1String("records_lost")).isNull());
    const QJsonObject conns = o.value(QLatin1String("connections")).toObject();
    QCOMPARE(conns.value(QLatin1String("count")).toInt(), 3);
    QCOMPARE(conns.value(QLatin1String("open")).toInt(), 1);
    QCOMPARE(
        conns.value(QLatin1String("by_state")).toObject().value(QLatin1String("CLOSE")).toInt(), 2);
    const QJsonObject order = o.value(QLatin1String("record_order")).toObject();
    QCOMPARE(order.value(QLatin1String("window_ns")).toInt(), 500'000'000);
    QCOMPARE(order.value(QLatin1String("reordered")).toInt(), 9);
    QCOMPARE(order.value(QLatin1String("max_inversion_ns")).toInt(), 1'250'000);
    QCOMPARE(order.value(QLatin1String("beyond_window")).toInt(), 2);
    QCOMPARE(order.value(QLatin1String("max_late_ns")).toInt(), 610'000'000);
    QCOMPARE(order.value(QLatin1String("after_eviction")).toInt(), 4);
    const QJsonObject packets = o.value(QLatin1String("packets")).toObject();
    QCOMPARE(packets.value(QLatin1String("joined")).toInt(), 10);
    QCOMPARE(packets.value(QLatin1String("lost")).toInt(), 1);
    QCOMPARE(packets.value(QLatin1String("interfaces")).toArray().size(), 2);
    QCOMPARE(packets.value(QLatin1String("analysis"))
                 .toObject()
                 .value(QLatin1String("retransmissions"))
                 .toInt(),
             2);
    QCOMPARE(
        o.value(QLatin1String("kernel_metrics")).toObject().value(QLatin1String("samples")).toInt(),
        40);
    // Without gaps: an empty list, nothing not read (the kernel's own losses still count).
    r = run({QStringLiteral("info"), QStringLiteral("--json"), m_plainSession});
    QCOMPARE(r.code, 0);
    const QJsonObject plain = QJsonDocument::fromJson(r.out.toUtf8()).object();
    QCOMPARE(plain.value(QLatin1String("interruptions")).toArray().size(), 0);
    QCOMPARE(plain.value(QLatin1String("not_read")).toInt(), 0);
    QCOMPARE(plain.value(QLatin1String("complete")).toBool(), false);
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
        c.localAddr = test::ip(i == 1 ? QStringLiteral("0.0.0.0") : QStringLiteral("::"));
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

void TestCli::infoCountsEachWirePacketOnce()
{
    // The client and the server socket of one loopback connection each saw its 22 packets and
    // its 3 retransmissions; a connection to another host adds 10 packets and 1. On the wire
    // that is 32 packets and 4 retransmissions; each socket's view summed says 54 and 7.
    const QString file = m_dir.filePath(QStringLiteral("pair.tcpscope"));
    QString error;
    auto writer = SessionWriter::create(file, &error);
    QVERIFY2(writer, qPrintable(error));
    SessionInfo info;
    info.packetsCaptured = true;
    writer->setInfo(info);
    auto conn = [](qint64 id, ConnectionRole role, const char *local, quint16 localPort,
                   const char *remote, quint16 remotePort, quint64 in, quint64 out,
                   quint32 retransmissions) {
        Connection c;
        c.id = id;
        c.role = role;
        c.localAddr = test::ip(QString::fromLatin1(local));
        c.localPort = localPort;
        c.remoteAddr = test::ip(QString::fromLatin1(remote));
        c.remotePort = remotePort;
        c.state = TcpState::Close;
        c.startNs = 1'764'300'000'000'000'000 + id * 1000;
        c.endNs = c.startNs + 2'000'000'000;
        c.packets.packetsIn = in;
        c.packets.packetsOut = out;
        c.packets.payloadBytesIn = in * 100;
        c.packets.payloadBytesOut = out * 100;
        c.packets.retransmissions = retransmissions;
        c.packets.dupAcks = retransmissions;
        return c;
    };
    writer->writeConnection(
        conn(1, ConnectionRole::Client, "127.0.0.1", 40001, "127.0.0.1", 8080, 10, 12, 3));
    writer->writeConnection(
        conn(2, ConnectionRole::Server, "127.0.0.1", 8080, "127.0.0.1", 40001, 12, 10, 3));
    writer->writeConnection(
        conn(3, ConnectionRole::Client, "10.0.0.1", 50000, "192.0.2.7", 443, 5, 5, 1));
    QVERIFY(writer->close(&error));

    Result r = run({QStringLiteral("info"), file});
    QCOMPARE(r.code, 0);
    QVERIFY2(r.out.contains(QLatin1String("Packets:         0 received, 54 joined to 3 ")),
             qPrintable(r.out));
    QVERIFY2(r.out.contains(QLatin1String("On the wire:     32 packets, payload 3200 B: 1 "
                                          "connection(s) have both ends on this host")),
             qPrintable(r.out));
    QVERIFY2(r.out.contains(QLatin1String("Analysis:        retransmissions 4 (fast 0, spurious "
                                          "0), dup ACKs 4,")),
             qPrintable(r.out));
    QVERIFY2(r.out.contains(QLatin1String("  both ends:     retransmissions 7 (fast 0, spurious "
                                          "0), dup ACKs 7,")),
             qPrintable(r.out));

    r = run({QStringLiteral("info"), QStringLiteral("--json"), file});
    QCOMPARE(r.code, 0);
    const QJsonObject packets =
        QJsonDocument::fromJson(r.out.toUtf8()).object().value(QLatin1String("packets")).toObject();
    QCOMPARE(packets.value(QLatin1String("joined")).toInt(), 54);
    QCOMPARE(packets.value(QLatin1String("wire_packets")).toInt(), 32);
    QCOMPARE(packets.value(QLatin1String("wire_payload_bytes")).toInt(), 3200);
    QCOMPARE(packets.value(QLatin1String("local_pairs")).toInt(), 1);
    QCOMPARE(packets.value(QLatin1String("analysis"))
                 .toObject()
                 .value(QLatin1String("retransmissions"))
                 .toInt(),
             4);
    QCOMPARE(packets.value(QLatin1String("analysis_per_socket"))
                 .toObject()
                 .value(QLatin1String("retransmissions"))
                 .toInt(),
             7);

    // A filter that keeps one end of the pair: nothing is counted twice, nothing taken out.
    r = run({QStringLiteral("info"), QStringLiteral("-Y"), QStringLiteral("conn.role == server"),
             file});
    QCOMPARE(r.code, 0);
    QVERIFY2(r.out.contains(QLatin1String("Analysis:        retransmissions 3 (")),
             qPrintable(r.out));
    QVERIFY(!r.out.contains(QLatin1String("On the wire:")));
    QVERIFY(!r.out.contains(QLatin1String("both ends:")));
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
    QCOMPARE(cell("annotations"), QString()); // no notes in this file
    // Notes saved in (a copy of) the file come out in the connection's annotations cell.
    const QString noted = m_dir.filePath(QStringLiteral("noted.tcpscope"));
    QFile::remove(noted);
    QVERIFY(QFile::copy(m_session, noted));
    QVERIFY(QFile::setPermissions(noted, QFile::ReadOwner | QFile::WriteOwner));
    Annotation note;
    note.connectionId = 1;
    note.text = QStringLiteral("retry storm starts");
    note.author = QStringLiteral("bob");
    QString error;
    QVERIFY2(saveSessionView(noted, {}, {note}, &error), qPrintable(error));
    const QString notedJson = m_dir.filePath(QStringLiteral("noted.json"));
    r = run({QStringLiteral("export"), noted, QStringLiteral("--connections"), notedJson});
    QCOMPARE(r.code, 0);
    QFile nj(notedJson);
    QVERIFY(nj.open(QIODevice::ReadOnly));
    const QJsonArray notedRows = QJsonDocument::fromJson(nj.readAll()).array();
    QCOMPARE(notedRows.first().toObject().value(QLatin1String("annotations")).toString(),
             QStringLiteral("retry storm starts (bob)"));
    QVERIFY(notedRows.last().toObject().value(QLatin1String("annotations")).isNull());
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
            p.srcAddr = test::ip4(127, 0, 0, 1);
            p.dstAddr = test::ip4(127, 0, 0, 1);
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

    // -Y on packets: header fields, the packet's connection, a bare number of seconds.
    const QString some = m_dir.filePath(QStringLiteral("some.csv"));
    r = run({QStringLiteral("export"), file, QStringLiteral("--packets"), some,
             QStringLiteral("-Y"), QStringLiteral("tcp.srcport == 1002 && tcp.seq_raw >= 5")});
    QCOMPARE(r.code, 0);
    QCOMPARE(r.out,
             QStringLiteral("wrote 2 packets to %1 matching the display filter\n").arg(some));
    QFile s(some);
    QVERIFY(s.open(QIODevice::ReadOnly));
    const QList<QByteArray> rows = s.readAll().split('\n');
    QCOMPARE(rows.size(), 4);
    QVERIFY(rows[1].startsWith("5,2,") && rows[2].startsWith("6,2,"));
    const QString one = m_dir.filePath(QStringLiteral("one.pcapng"));
    r = run({QStringLiteral("export"), file, QStringLiteral("--packets"), one,
             QStringLiteral("--display-filter"), QStringLiteral("conn.id == 1")});
    QCOMPARE(r.code, 0);
    QCOMPARE(r.out, QStringLiteral("wrote 3 packets to %1 matching the display filter\n").arg(one));
    // frame.time_relative counts from the first packet: ids 4..6 are more than 2 µs after it.
    r = run({QStringLiteral("export"), file, QStringLiteral("--packets"), one, QStringLiteral("-Y"),
             QStringLiteral("frame.time_relative > 0.000002")});
    QCOMPARE(r.code, 0);
    QVERIFY2(r.out.startsWith(QStringLiteral("wrote 3 packets")), qPrintable(r.out));
}

// -Y on connections (export and info) and the one-line errors of a bad expression.
void TestCli::displayFilter()
{
    const QString csv = m_dir.filePath(QStringLiteral("refused.csv"));
    Result r = run({QStringLiteral("export"), m_session, QStringLiteral("--connections"), csv,
                    QStringLiteral("-Y"), QStringLiteral("conn.close_reason == refused")});
    QCOMPARE(r.code, 0);
    QCOMPARE(r.out,
             QStringLiteral("wrote 1 connections matching the display filter to %1\n").arg(csv));
    QFile f(csv);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QByteArray content = f.readAll();
    QCOMPARE(content.count("\r\n"), 2);
    QVERIFY(content.contains("\r\n3,103,\"a,b\","));
    // To stdout: the CSV alone.
    r = run({QStringLiteral("export"), m_session, QStringLiteral("--connections"),
             QStringLiteral("-"), QStringLiteral("-Y"), QStringLiteral("proc.name == \"curl\"")});
    QCOMPARE(r.code, 0);
    QCOMPARE(r.out.count(QStringLiteral("\r\n")), 3);
    QVERIFY(r.out.contains(QStringLiteral("\r\n1,101,curl,")));
    QVERIFY(r.out.contains(QStringLiteral("\r\n2,102,curl,")));

    // info over the connections a kernel drop was joined to.
    r = run({QStringLiteral("info"), m_session, QStringLiteral("-Y"),
             QStringLiteral("drop.reason == \"NO_SOCKET\"")});
    QCOMPARE(r.code, 0);
    QVERIFY2(r.out.contains(QStringLiteral("Display filter:  drop.reason == \"NO_SOCKET\" (1 of 3 "
                                           "connections match")),
             qPrintable(r.out));
    QVERIFY2(r.out.contains(QStringLiteral("Connections:     1 (0 open at the end)")),
             qPrintable(r.out));
    QVERIFY2(r.out.contains(QStringLiteral("  by close:      refused 1")), qPrintable(r.out));
    r = run({QStringLiteral("info"), m_session, QStringLiteral("-Y"),
             QStringLiteral("kernel.cwnd >= 44 and conn.state == CLOSE")});
    QCOMPARE(r.code, 0);
    QVERIFY2(r.out.contains(QStringLiteral("(1 of 3 connections match")), qPrintable(r.out));
    QVERIFY2(r.out.contains(QStringLiteral("  by close:      fin 1")), qPrintable(r.out));
    // The same as JSON: the totals of the matching connection, and the filter that chose it.
    r = run({QStringLiteral("info"), m_session, QStringLiteral("--json"), QStringLiteral("-Y"),
             QStringLiteral("kernel.cwnd >= 44 and conn.state == CLOSE")});
    QCOMPARE(r.code, 0);
    const QJsonObject j = QJsonDocument::fromJson(r.out.toUtf8()).object();
    QCOMPARE(j.value(QStringLiteral("connections")).toObject().value(QStringLiteral("count")),
             QJsonValue(1));
    const QJsonObject df = j.value(QStringLiteral("display_filter")).toObject();
    QCOMPARE(df.value(QStringLiteral("expression")).toString(),
             QStringLiteral("kernel.cwnd >= 44 and conn.state == CLOSE"));
    QCOMPARE(df.value(QStringLiteral("connections_matching")), QJsonValue(1));
    QCOMPARE(df.value(QStringLiteral("connections_total")), QJsonValue(3));

    // A bad expression: one line with the column, exit 2, nothing written.
    const QString never = m_dir.filePath(QStringLiteral("never.pcapng"));
    struct Bad
    {
        QStringList args;
        QString err;
    };
    const Bad bad[] = {
        {{QStringLiteral("export"), m_session, QStringLiteral("--packets"), never,
          QStringLiteral("-Y"), QStringLiteral("tcp.prot == 80")},
         QStringLiteral("tcpscope: export: -Y: unknown field 'tcp.prot' at 1; did you mean "
                        "tcp.port?\n")},
        {{QStringLiteral("info"), m_session, QStringLiteral("-Y"), QStringLiteral("tcp.len > 0")},
         QStringLiteral("tcpscope: info: -Y: tcp.len at 1 is a packet field; a connection filter "
                        "takes connection fields only (ip.addr, ipv6.addr, tcp.port, proc.*, "
                        "conn.*, kernel.*, drop.reason, rst.reason)\n")},
        {{QStringLiteral("export"), m_session, QStringLiteral("--connections"), never,
          QStringLiteral("-Y"), QStringLiteral("ip.addr == abc")},
         QStringLiteral("tcpscope: export: -Y: 'abc' at 12 is not an IPv4 address (CIDR allowed, "
                        "e.g. 10.0.0.0/8) for ip.addr\n")},
    };
    for (const Bad &b : bad) {
        r = run(b.args);
        QCOMPARE(r.code, 2);
        QCOMPARE(r.err, b.err);
        QVERIFY(r.out.isEmpty());
    }
    QVERIFY(!QFile::exists(never));
    r = run({QStringLiteral("export"), m_session, QStringLiteral("--chart"),
             QStringLiteral("timeline"), QStringLiteral("-o"), never, QStringLiteral("-Y"),
             QStringLiteral("tcp.port == 80")});
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains(QLatin1String("-Y belongs to --packets and --connections")),
             qPrintable(r.err));
    // The help documents it.
    r = run({QStringLiteral("help"), QStringLiteral("export")});
    QVERIFY(r.out.contains(QLatin1String("-Y, --display-filter EXPR")));
    r = run({QStringLiteral("info"), QStringLiteral("--help")});
    QVERIFY(r.out.contains(QLatin1String("-Y, --display-filter EXPR")));
}

// Every output of record and export refuses what is not a new or regular file, with one line and
// exit 2, --force or not; the target is left exactly as it was.
void TestCli::outputTargetsRefused()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString sub = dir.filePath(QStringLiteral("adir"));
    QVERIFY(QDir().mkdir(sub));
    const QString fifo = dir.filePath(QStringLiteral("fifo"));
    QVERIFY(::mkfifo(QFile::encodeName(fifo).constData(), 0600) == 0);
    const QString sock = dir.filePath(QStringLiteral("sock"));
    const int sfd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr = {};
    addr.sun_family = AF_UNIX;
    const QByteArray sockName = QFile::encodeName(sock);
    QVERIFY(size_t(sockName.size()) < sizeof addr.sun_path);
    std::memcpy(addr.sun_path, sockName.constData(), size_t(sockName.size()));
    QVERIFY(::bind(sfd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) == 0);
    QStringList targets{sub, sock};
    QStringList fileOnly{fifo};
    const QString linkToDir = dir.filePath(QStringLiteral("link-dir"));
    QVERIFY(QFile::link(sub, linkToDir));
    targets << linkToDir;
    const QString precious = dir.filePath(QStringLiteral("precious.csv"));
    QFile pf(precious);
    QVERIFY(pf.open(QIODevice::WriteOnly));
    pf.write("precious\n");
    pf.close();
    const QString linkToFile = dir.filePath(QStringLiteral("link-file.csv"));
    QVERIFY(QFile::link(precious, linkToFile));
    targets << linkToFile;
    QString dev;
    if (::geteuid() == 0) {
        // A real device node (the one /dev/null is), made here: never the system's own.
        dev = dir.filePath(QStringLiteral("null"));
        QVERIFY(::mknod(QFile::encodeName(dev).constData(), S_IFCHR | 0666, makedev(1, 3)) == 0);
        const QString linkToDev = dir.filePath(QStringLiteral("link-null"));
        QVERIFY(QFile::link(dev, linkToDev));
        targets << dev << linkToDev;
    } else {
        qWarning("NOT TESTED: character device targets need root (mknod)");
    }
    QMap<QString, struct stat> before;
    for (const QString &t : targets + fileOnly)
        before.insert(t, lstatOf(t));

    auto commands = [&](const QString &t, bool streams) {
        QList<QStringList> list{
            {"record", "-q", "-o", t, "--duration", "0.5", "--no-packets"},
            {"record", "-q", "--force", "-o", t, "--duration", "0.5", "--no-packets"},
            {"export", m_session, "--chart", "timeline", "-o", t + ".png"},
        };
        if (streams) {
            list << QStringList{"export", m_session, "--connections", t}
                 << QStringList{"export", m_session, "--packets", t};
        }
        return list;
    };
    for (const QString &t : targets + fileOnly) {
        const bool streams = !fileOnly.contains(t);
        for (QStringList args : commands(t, streams)) {
            // Charts: the image suffix decides the format, so the target gets one by a link.
            if (args.contains(QLatin1String("--chart"))) {
                const QString pngLink = t + QLatin1String(".png");
                if (!QFileInfo::exists(pngLink) && !QFileInfo(pngLink).isSymLink())
                    QVERIFY(QFile::link(t, pngLink));
            }
            // --connections/--packets need a known suffix: a link with one to the target.
            if (args.contains(QLatin1String("--connections")) ||
                args.contains(QLatin1String("--packets"))) {
                const QString csvLink = t + QLatin1String("-link.csv");
                if (!QFileInfo(csvLink).isSymLink())
                    QVERIFY(QFile::link(t, csvLink));
                args.last() = csvLink;
            }
            const Result r = run(args);
            QVERIFY2(r.code == 2, qPrintable(args.join(' ') + QStringLiteral(" -> ") +
                                             QString::number(r.code) + r.err));
            QVERIFY2(r.err.count(QLatin1Char('\n')) == 1, qPrintable(r.err)); // one line
            QVERIFY2(r.err.contains(QLatin1String("symbolic link")) ||
                         r.err.contains(QLatin1String("is a ")),
                     qPrintable(r.err));
        }
    }
    // The same targets named directly with a suffix-less format where the command allows it.
    for (const QString &t : targets) {
        if (lstatOf(t).st_mode && !S_ISLNK(lstatOf(t).st_mode) && !S_ISDIR(lstatOf(t).st_mode)) {
            const Result r = run({"export", m_session, "--connections", t});
            QCOMPARE(r.code, 2); // no .csv/.json suffix: a usage error before anything else
        }
    }
    for (const QString &t : targets + fileOnly) {
        const struct stat now = lstatOf(t);
        QCOMPARE(now.st_mode, before[t].st_mode);
        QCOMPARE(now.st_ino, before[t].st_ino);
        QCOMPARE(now.st_rdev, before[t].st_rdev);
        QCOMPARE(now.st_size, before[t].st_size);
    }
    QCOMPARE(QFile::symLinkTarget(linkToFile), precious);
    QVERIFY(pf.open(QIODevice::ReadOnly));
    QCOMPARE(pf.readAll(), QByteArray("precious\n"));
    if (!dev.isEmpty()) {
        QVERIFY(S_ISCHR(lstatOf(dev).st_mode));
        QCOMPARE(lstatOf(dev).st_rdev, makedev(1, 3));
    }
    // Nothing else appeared (no temporary file left behind by a refused export).
    QStringList names =
        QDir(dir.path())
            .entryList(QDir::AllEntries | QDir::Hidden | QDir::System | QDir::NoDotAndDotDot);
    for (const QString &n : names)
        QVERIFY2(!n.contains(QLatin1String("partial")), qPrintable(n));
    ::close(sfd);
}

// pcapng is a stream: to stdout with '-', into a FIFO as it is read.
void TestCli::packetsToStreams()
{
    const QString file = m_dir.filePath(QStringLiteral("stream.tcpscope"));
    QString error;
    auto writer = SessionWriter::create(file, &error);
    QVERIFY2(writer, qPrintable(error));
    SessionInfo info;
    info.packetsCaptured = true;
    writer->setInfo(info);
    Connection c;
    c.id = 1;
    writer->writeConnection(c);
    QVector<Packet> packets;
    for (int i = 1; i <= 3; ++i) {
        Packet p;
        p.id = i;
        p.connectionId = 1;
        p.timeNs = 1000 * i;
        p.srcAddr = test::ip4(127, 0, 0, 1);
        p.dstAddr = test::ip4(127, 0, 0, 1);
        p.tcpFlags = 0x10;
        packets.append(p);
    }
    writer->writePackets(packets);
    QVERIFY(writer->close(&error));
    Result r =
        run({QStringLiteral("export"), file, QStringLiteral("--packets"), QStringLiteral("-")});
    QCOMPARE(r.code, 0);
    QVERIFY(r.rawOut.startsWith(QByteArray::fromHex("0a0d0d0a"))); // a pcapng section header
    QVERIFY2(r.err.contains(QLatin1String("wrote 3 packets to -")), qPrintable(r.err));
    const QByteArray whole = r.rawOut;

    QTemporaryDir dir;
    const QString fifo = dir.filePath(QStringLiteral("pipe.pcapng"));
    QVERIFY(::mkfifo(QFile::encodeName(fifo).constData(), 0600) == 0);
    QByteArray received;
    std::thread reader([&] {
        const int fd = ::open(QFile::encodeName(fifo).constData(), O_RDONLY);
        char buf[4096];
        ssize_t n;
        while (fd >= 0 && (n = ::read(fd, buf, sizeof buf)) > 0)
            received.append(buf, n);
        if (fd >= 0)
            ::close(fd);
    });
    r = run({QStringLiteral("export"), file, QStringLiteral("--packets"), fifo});
    reader.join();
    QCOMPARE(r.code, 0);
    QCOMPARE(received, whole);
    QVERIFY(S_ISFIFO(lstatOf(fifo).st_mode));
}

// A copy of the test session with ESC, BEL and CSI (7-bit and the 8-bit C1 one) in every text
// field the file holds.
QString TestCli::hostileCopy(const char *name)
{
    QString file = m_dir.filePath(QLatin1String(name));
    QFile::remove(file);
    if (!QFile::copy(m_session, file))
        return {};
    // "x ESC]0;pwned BEL ESC[2J CSI 31m"
    sql(file, R"sql(
        CREATE TEMP TABLE evil AS SELECT
            'x' || char(27) || ']0;pwned' || char(7) || char(27) || '[2J' || char(155) || '31m'
            AS v;
        UPDATE meta SET value = (SELECT v FROM evil)
            WHERE key IN ('hostname', 'kernel', 'tcpscope_version', 'probes', 'capture_filter');
        UPDATE connections SET comm = (SELECT v FROM evil);
        UPDATE state_changes SET ctx_comm = (SELECT v FROM evil);
        UPDATE interfaces SET name = (SELECT v FROM evil) WHERE ifindex = 2;
        UPDATE drops SET reason_name = (SELECT v FROM evil);
        UPDATE kernel_events SET reason_name = (SELECT v FROM evil);
        INSERT INTO interruptions (start_ns, end_ns, records_lost, reason)
            VALUES (1764300000100000000, 1764300000200000000, 5, (SELECT v FROM evil));
    )sql");
    return file;
}

void TestCli::hostileText()
{
    const QString file = hostileCopy("hostile.tcpscope");
    QVERIFY(!file.isEmpty());
    // info: every field shown, escaped.
    Result r = run({QStringLiteral("info"), file});
    QCOMPARE(r.code, 0);
    QVERIFY2(!hasTerminalControls(r.rawOut), r.rawOut.constData());
    const QString shown = QStringLiteral("x\\x1b]0;pwned\\x07\\x1b[2J\\u009b31m");
    for (const char *label :
         {"Host:", "Kernel:", "Recorded by:", "Probes:", "Capture filter:", "Interfaces:",
          "Interrupted:", "  by reason:", "Resets:", "Top retransmits:"}) {
        const QStringList lines = r.out.split(QLatin1Char('\n'));
        const auto it = std::find_if(lines.cbegin(), lines.cend(), [&](const QString &l) {
            return l.startsWith(QLatin1String(label));
        });
        QVERIFY2(it != lines.cend(), label);
        QVERIFY2(it->contains(shown), qPrintable(*it));
    }
    // The same on a terminal.
    r = runOnTerminal({QStringLiteral("info"), file});
    QCOMPARE(r.code, 0);
    QVERIFY2(!hasTerminalControls(r.rawOut), r.rawOut.constData());
    QVERIFY(r.out.contains(shown));

    // CSV on a terminal: escaped. Into a pipe or a file: the text as recorded (a program
    // reading the CSV gets the real value).
    r = runOnTerminal(
        {QStringLiteral("export"), file, QStringLiteral("--connections"), QStringLiteral("-")});
    QCOMPARE(r.code, 0);
    QVERIFY2(!hasTerminalControls(r.rawOut), r.rawOut.constData());
    QVERIFY(r.out.contains(shown));
    r = run({QStringLiteral("export"), file, QStringLiteral("--connections"), QStringLiteral("-")});
    QCOMPARE(r.code, 0);
    QVERIFY(r.rawOut.contains("x\x1b]0;pwned\x07\x1b[2J\xc2\x9b"
                              "31m"));
    // JSON: control characters as \u escapes (JSON requires C0; DEL and C1 too).
    const QString json = m_dir.filePath(QStringLiteral("hostile.json"));
    r = run({QStringLiteral("export"), file, QStringLiteral("--connections"), json});
    QCOMPARE(r.code, 0);
    QFile j(json);
    QVERIFY(j.open(QIODevice::ReadOnly));
    const QByteArray jbytes = j.readAll();
    QVERIFY(!hasTerminalControls(jbytes));
    QVERIFY2(jbytes.contains(R"("comm": "x\u001b]0;pwned\u0007\u001b[2J\u009b31m")"),
             jbytes.left(400).constData());
    // Error lines quoting the file are escaped as well.
    sql(file, "CREATE TABLE \"t\x1b[2J\" (a)");
    r = run({QStringLiteral("info"), file});
    QCOMPARE(r.code, 2);
    QVERIFY(!hasTerminalControls(r.err.toUtf8()));
    QVERIFY2(r.err.contains(QLatin1String("t\\x1b[2J")), qPrintable(r.err));
}

// --csv-safe: cells a spreadsheet would run as a formula get a leading apostrophe.
void TestCli::csvSafe()
{
    const QString file = m_dir.filePath(QStringLiteral("formula.tcpscope"));
    QFile::remove(file);
    QVERIFY(QFile::copy(m_session, file));
    sql(file, "UPDATE connections SET comm = '=HYPERLINK(\"http://x\")' WHERE id = 1;"
              "UPDATE connections SET comm = '-2+3' WHERE id = 2;"
              "UPDATE connections SET comm = '@SUM(A1)' WHERE id = 3;");
    auto comms = [](const QString &csv) {
        QStringList out;
        const QStringList lines = csv.split(QStringLiteral("\r\n"), Qt::SkipEmptyParts);
        const int col = lines[0].split(QLatin1Char(',')).indexOf(QLatin1String("comm"));
        for (qsizetype i = 1; i < lines.size(); ++i) {
            out << lines[i].section(QLatin1Char(','), col, col); // no comma in these values
        }
        return out;
    };
    Result r =
        run({QStringLiteral("export"), file, QStringLiteral("--connections"), QStringLiteral("-")});
    QCOMPARE(r.code, 0);
    QCOMPARE(comms(r.out), (QStringList{QStringLiteral("\"=HYPERLINK(\"\"http://x\"\")\""),
                                        QStringLiteral("-2+3"), QStringLiteral("@SUM(A1)")}));
    r = run({QStringLiteral("export"), file, QStringLiteral("--connections"), QStringLiteral("-"),
             QStringLiteral("--csv-safe")});
    QCOMPARE(r.code, 0);
    QCOMPARE(comms(r.out), (QStringList{QStringLiteral("\"'=HYPERLINK(\"\"http://x\"\")\""),
                                        QStringLiteral("'-2+3"), QStringLiteral("'@SUM(A1)")}));
    // Numbers stay numbers, with --csv-safe too (a negative value is not a formula).
    QVERIFY(r.out.contains(QLatin1String(",curl,")) == false);
    r = run({QStringLiteral("export"), file, QStringLiteral("--connections"),
             m_dir.filePath(QStringLiteral("f.json")), QStringLiteral("--csv-safe")});
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains(QLatin1String("--csv-safe belongs to CSV output")), qPrintable(r.err));
}

// A connection row with values of the wrong type or out of range: each becomes unknown and is
// counted, the file still opens.
void TestCli::badConnectionValues()
{
    const QString file = m_dir.filePath(QStringLiteral("badvalues.tcpscope"));
    QFile::remove(file);
    QVERIFY(QFile::copy(m_session, file));
    sql(file, "UPDATE connections SET pid = '1e400', start_ns = 'yesterday' WHERE id = 1;"
              "UPDATE connections SET local_port = 70000, family = 5, remote_addr = '::1',"
              " local_addr = '127.0.0.1' WHERE id = 3;"
              "UPDATE meta SET value = 'yesterday' WHERE key = 'started_ns';"
              "UPDATE meta SET value = '-5' WHERE key = 'records_received';");
    Result r = run({QStringLiteral("info"), file});
    QCOMPARE(r.code, 0);
    QRegularExpression unknown(QStringLiteral("Unknown values: +(\\d+) values out of range"));
    const auto m = unknown.match(r.out);
    QVERIFY2(m.hasMatch(), qPrintable(r.out));
    // pid, start_ns, local_port and a remote address of another family than the local one
    // (the family is read from the addresses, not from `family`); started_ns and
    // records_received of the meta table.
    QCOMPARE(m.captured(1).toInt(), 6);
    QVERIFY2(r.out.contains(QLatin1String("Records:         0\n")), qPrintable(r.out));
    // Without a start time the range begins at the first connection with a known start.
    QVERIFY2(r.out.contains(QLatin1String("Time range:      2025-11-28T03:20:00.002Z")),
             qPrintable(r.out));
    r = run({QStringLiteral("export"), file, QStringLiteral("--connections"), QStringLiteral("-")});
    QCOMPARE(r.code, 0);
    const QStringList lines = r.out.split(QStringLiteral("\r\n"));
    const QStringList header = lines[0].split(QLatin1Char(','));
    const QStringList first = lines[1].split(QLatin1Char(','));
    // Each reads as the model's unknown (pid 0, start 0), not a value made up from the text.
    QCOMPARE(first.value(header.indexOf(QLatin1String("pid"))), QStringLiteral("0"));
    QCOMPARE(first.value(header.indexOf(QLatin1String("start_ns"))), QStringLiteral("0"));
    QCOMPARE(first.value(header.indexOf(QLatin1String("comm"))), QStringLiteral("curl"));
}

// info and export read a file without creating anything beside it, whatever its journal mode.
void TestCli::readOnlyLeavesNoSideFiles()
{
    const QString rollback = m_dir.filePath(QStringLiteral("ro-delete.tcpscope"));
    const QString wal = m_dir.filePath(QStringLiteral("ro-wal.tcpscope"));
    for (const QString &f : {rollback, wal}) {
        QFile::remove(f);
        QVERIFY(QFile::copy(m_session, f));
    }
    // A file left in WAL mode (a reader had it open when the recording stopped): the header
    // says WAL, no -wal is left.
    sql(wal, "PRAGMA journal_mode = WAL");
    QCOMPARE(sideFiles(wal), QStringList());
    for (const QString &f : {rollback, wal}) {
        QVERIFY(QFile::setPermissions(f, QFileDevice::ReadOwner | QFileDevice::ReadUser));
        Result r = run({QStringLiteral("info"), f});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QCOMPARE(sideFiles(f), QStringList());
        r = run(
            {QStringLiteral("export"), f, QStringLiteral("--connections"), QStringLiteral("-")});
        QCOMPARE(r.code, 0);
        QCOMPARE(r.out.count(QStringLiteral("\r\n")), 4);
        QCOMPARE(sideFiles(f), QStringList());
    }
}

void TestCli::hotJournalAndRecover()
{
    const QString file = m_dir.filePath(QStringLiteral("hot.tcpscope"));
    QFile::remove(file);
    QVERIFY(QFile::copy(m_session, file));
    // A writer killed in the middle of a transaction large enough to spill into the file: the
    // -journal it leaves is hot.
    dieWhileWriting(file, "PRAGMA cache_size = 1; BEGIN;"
                          " UPDATE connections SET comm = 'half-written';"
                          " CREATE TABLE filler (x); INSERT INTO filler"
                          " WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
                          " WHERE i < 20000) SELECT randomblob(200) FROM n;");
    QCOMPARE(sideFiles(file), QStringList{QStringLiteral("-journal")});
    const QByteArray journal = [&] {
        QFile j(file + QLatin1String("-journal"));
        return j.open(QIODevice::ReadOnly) ? j.readAll() : QByteArray();
    }();
    QVERIFY(!journal.isEmpty());
    Result r = run({QStringLiteral("info"), file});
    QCOMPARE(r.code, 2);
    QCOMPARE(r.err.count(QLatin1Char('\n')), 1);
    QVERIFY2(r.err.contains(QLatin1String("a write to it was interrupted")), qPrintable(r.err));
    QVERIFY2(r.err.contains(QStringLiteral("Run 'tcpscope recover %1'").arg(file)),
             qPrintable(r.err));
    QVERIFY2(!r.err.contains(QLatin1String("readonly database")), qPrintable(r.err));
    r = run({QStringLiteral("export"), file, QStringLiteral("--connections"), QStringLiteral("-")});
    QCOMPARE(r.code, 2);
    // Reading left the journal exactly as it was.
    QCOMPARE(sideFiles(file), QStringList{QStringLiteral("-journal")});
    QFile j(file + QLatin1String("-journal"));
    QVERIFY(j.open(QIODevice::ReadOnly));
    QCOMPARE(j.readAll(), journal);
    j.close();

    r = run({QStringLiteral("recover"), file});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QVERIFY2(r.out.startsWith(QStringLiteral("recovered %1: it opens (3 connections)").arg(file)),
             qPrintable(r.out));
    QCOMPARE(sideFiles(file), QStringList());
    r = run({QStringLiteral("export"), file, QStringLiteral("--connections"), QStringLiteral("-")});
    QCOMPARE(r.code, 0);
    QVERIFY(!r.out.contains(QLatin1String("half-written"))); // rolled back
    QVERIFY(r.out.contains(QLatin1String(",curl,")));
    // Nothing to do is not an error; something that is not a session is never opened for
    // writing.
    QCOMPARE(run({QStringLiteral("recover"), file}).code, 0);
    const QString notes = m_dir.filePath(QStringLiteral("notes-recover.txt"));
    QFile n(notes);
    QVERIFY(n.open(QIODevice::WriteOnly));
    n.write("not a session");
    n.close();
    r = run({QStringLiteral("recover"), notes});
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains(QLatin1String("not a tcpscope session")), qPrintable(r.err));
    QCOMPARE(run({QStringLiteral("recover"), m_dir.filePath(QStringLiteral("nope"))}).code, 2);
}

void TestCli::walWithoutShmAndRecover()
{
    const QString file = m_dir.filePath(QStringLiteral("walonly.tcpscope"));
    QFile::remove(file);
    QVERIFY(QFile::copy(m_session, file));
    // A writer in WAL mode that committed and was killed: its -wal holds the commit.
    dieWhileWriting(file, "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;"
                          " UPDATE connections SET comm = 'from-the-wal' WHERE id = 1;");
    QCOMPARE(sideFiles(file), (QStringList{QStringLiteral("-shm"), QStringLiteral("-wal")}));
    // With both companions, as a killed recorder leaves them: readable as they are.
    Result r =
        run({QStringLiteral("export"), file, QStringLiteral("--connections"), QStringLiteral("-")});
    QCOMPARE(r.code, 0);
    QVERIFY(r.out.contains(QLatin1String("from-the-wal")));
    // The -wal alone (copied without its -shm): reading would have to create the -shm.
    QVERIFY(QFile::remove(file + QLatin1String("-shm")));
    r = run({QStringLiteral("info"), file});
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains(QLatin1String("the -shm that goes with it is missing")),
             qPrintable(r.err));
    QVERIFY2(r.err.contains(QLatin1String("tcpscope recover")), qPrintable(r.err));
    QCOMPARE(sideFiles(file), QStringList{QStringLiteral("-wal")});
    r = run({QStringLiteral("recover"), file});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QCOMPARE(sideFiles(file), QStringList());
    r = run({QStringLiteral("export"), file, QStringLiteral("--connections"), QStringLiteral("-")});
    QCOMPARE(r.code, 0);
    QVERIFY(r.out.contains(QLatin1String("from-the-wal"))); // folded in, not lost
}

QTEST_GUILESS_MAIN(TestCli)
#include "test_cli.moc"
