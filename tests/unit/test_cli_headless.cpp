// SPDX-License-Identifier: GPL-3.0-or-later
// tcpscope-cli, the headless build of the command line: its libraries (no Qt Widgets, Qt GUI
// or QCustomPlot), the same output and exit codes as tcpscope on the sessions of the GUI tests'
// fixture, and chart export through the renderer module it loads at run time, or one line
// saying what to install when the module is not there.
#include "session/session_writer.h"
#include "session_fixture.h"
#include "test_addresses.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QImage>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

using namespace tcpscope;

namespace {

struct Result
{
    int code = -2;
    QByteArray out;
    QByteArray err;
};

QByteArray readAll(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

// readelf -d's NEEDED entries, e.g. "libQt6Core.so.6".
QStringList neededLibraries(const QString &binary)
{
    QProcess p;
    p.start(QStringLiteral("readelf"), {QStringLiteral("-d"), binary});
    if (!p.waitForFinished(30000) || p.exitCode() != 0)
        return {};
    QStringList needed;
    static const QRegularExpression re(
        QStringLiteral("\\(NEEDED\\)\\s+Shared library: \\[(.+)\\]"));
    auto it = re.globalMatch(QString::fromUtf8(p.readAllStandardOutput()));
    while (it.hasNext())
        needed << it.next().captured(1);
    return needed;
}

} // namespace

class TestCliHeadless : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void noWidgetsLibraries();
    void rendererExportsOnlyItsEntry();
    void sameOutputAsTcpscope_data();
    void sameOutputAsTcpscope();
    void sameFilesAsTcpscope_data();
    void sameFilesAsTcpscope();
    void chartWithRenderer();
    void chartWithoutRenderer();
    void brokenRenderer();

private:
    Result run(const QString &binary, const QStringList &args,
               const QProcessEnvironment &env = QProcessEnvironment::systemEnvironment());
    QString m_app;
    QString m_cli;
    QString m_module;
    QTemporaryDir m_dir;
    QString m_session;        // the fixture: six connections, kernel data, no packets
    QString m_packetsSession; // a lossy transfer's packets (the fixture's sequence graph data)
};

Result TestCliHeadless::run(const QString &binary, const QStringList &args,
                            const QProcessEnvironment &env)
{
    QProcess p;
    p.setProcessEnvironment(env);
    p.start(binary, args);
    Result r;
    if (!p.waitForFinished(60000))
        return r;
    r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    return r;
}

void TestCliHeadless::initTestCase()
{
    m_app = qEnvironmentVariable("TCPSCOPE_BIN");
    m_cli = qEnvironmentVariable("TCPSCOPE_CLI_BIN");
    m_module = qEnvironmentVariable("TCPSCOPE_CHART_RENDERER_MODULE");
    QVERIFY2(!m_app.isEmpty() && !m_cli.isEmpty() && !m_module.isEmpty(),
             "run through ctest (TCPSCOPE_BIN, TCPSCOPE_CLI_BIN or "
             "TCPSCOPE_CHART_RENDERER_MODULE not set)");
    QVERIFY(m_dir.isValid());
    m_session = m_dir.filePath(QStringLiteral("fixture.tcpscope"));
    QString error;
    QVERIFY2(testing::writeFixtureSession(m_session, nullptr, &error), qPrintable(error));

    m_packetsSession = m_dir.filePath(QStringLiteral("packets.tcpscope"));
    auto writer = SessionWriter::create(m_packetsSession, &error);
    QVERIFY2(writer, qPrintable(error));
    SessionInfo info;
    info.startedNs = 1'764'300'000'000'000'000;
    info.stoppedNs = info.startedNs + 1'000'000'000;
    info.packetsCaptured = true;
    writer->setInfo(info);
    Connection c;
    c.id = 1;
    c.comm = QStringLiteral("curl");
    c.localAddr = test::ip(QStringLiteral("10.0.0.1"));
    c.remoteAddr = test::ip(QStringLiteral("10.0.0.2"));
    c.localPort = 40000;
    c.remotePort = 80;
    c.role = ConnectionRole::Client;
    c.startNs = info.startedNs + 1'000'000;
    c.endNs = c.startNs + 20'000'000;
    c.state = TcpState::Close;
    c.history = {{c.startNs, TcpState::Close, TcpState::SynSent, 0, QString()}};
    writer->writeConnection(c);
    writer->writePackets(testing::lossyTransferPackets(1, c.startNs, 1));
    QVERIFY2(writer->close(&error), qPrintable(error));
}

// The point of tcpscope-cli: a server that records needs no X, Widgets or QCustomPlot libraries.
void TestCliHeadless::noWidgetsLibraries()
{
    const QStringList cli = neededLibraries(m_cli);
    QVERIFY2(cli.filter(QStringLiteral("libQt6Core.so")).size() == 1,
             qPrintable(QStringLiteral("readelf -d %1 lists no libQt6Core: %2")
                            .arg(m_cli, cli.join(QLatin1Char(' ')))));
    for (const QString &library : cli) {
        QVERIFY2(!library.startsWith(QLatin1String("libQt6Widgets")) &&
                     !library.startsWith(QLatin1String("libQt6Gui")) &&
                     !library.contains(QLatin1String("qcustomplot"), Qt::CaseInsensitive) &&
                     !library.startsWith(QLatin1String("libX11")),
                 qPrintable(QStringLiteral("tcpscope-cli needs %1").arg(library)));
    }
    // The same check passes its own test: the app and the renderer do need them.
    for (const QString &binary : {m_app, m_module}) {
        const QStringList needed = neededLibraries(binary);
        QVERIFY2(needed.filter(QStringLiteral("libQt6Widgets.so")).size() == 1 &&
                     needed.filter(QStringLiteral("qcustomplot"), Qt::CaseInsensitive).size() == 1,
                 qPrintable(binary + QStringLiteral(": ") + needed.join(QLatin1Char(' '))));
    }
}

// The module keeps its copy of the static libraries to itself: its dynamic symbol table defines
// the entry point and nothing of tcpscope's C++ code.
void TestCliHeadless::rendererExportsOnlyItsEntry()
{
    QProcess p;
    p.start(QStringLiteral("nm"),
            {QStringLiteral("-D"), QStringLiteral("--defined-only"), m_module});
    QVERIFY(p.waitForFinished(30000));
    QCOMPARE(p.exitCode(), 0);
    const QString symbols = QString::fromUtf8(p.readAllStandardOutput());
    QVERIFY2(symbols.contains(QLatin1String(" tcpscope_chart_renderer_v1\n")), qPrintable(symbols));
    QVERIFY2(!symbols.contains(QLatin1String("_ZN8tcpscope")), qPrintable(symbols));
}

void TestCliHeadless::sameOutputAsTcpscope_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<int>("code");
    const QString s = QStringLiteral("@SESSION@");
    const QString p = QStringLiteral("@PACKETS@");
    QTest::newRow("version") << QStringList{QStringLiteral("--version")} << 0;
    QTest::newRow("help") << QStringList{QStringLiteral("--help")} << 0;
    QTest::newRow("help export") << QStringList{QStringLiteral("help"), QStringLiteral("export")}
                                 << 0;
    QTest::newRow("unknown command") << QStringList{QStringLiteral("recrod")} << 2;
    QTest::newRow("info") << QStringList{QStringLiteral("info"), s} << 0;
    QTest::newRow("info --json") << QStringList{QStringLiteral("info"), s, QStringLiteral("--json")}
                                 << 0;
    QTest::newRow("info -Y") << QStringList{QStringLiteral("info"), s, QStringLiteral("-Y"),
                                            QStringLiteral("tcp.port == 8080")}
                             << 0;
    QTest::newRow("info packets") << QStringList{QStringLiteral("info"), p} << 0;
    QTest::newRow("info missing") << QStringList{QStringLiteral("info"),
                                                 QStringLiteral("/nonexistent.tcpscope")}
                                  << 2;
    QTest::newRow("connections csv")
        << QStringList{QStringLiteral("export"), s, QStringLiteral("--connections"),
                       QStringLiteral("-")}
        << 0;
    QTest::newRow("connections json -Y") << QStringList{QStringLiteral("export"),
                                                        s,
                                                        QStringLiteral("--connections"),
                                                        QStringLiteral("-"),
                                                        QStringLiteral("-Y"),
                                                        QStringLiteral("tcp.port == 8080")}
                                         << 0;
    QTest::newRow("packets pcapng") << QStringList{QStringLiteral("export"), p,
                                                   QStringLiteral("--packets"), QStringLiteral("-")}
                                    << 0;
    QTest::newRow("packets without packets")
        << QStringList{QStringLiteral("export"), s, QStringLiteral("--packets"),
                       QStringLiteral("-")}
        << 1;
    QTest::newRow("export usage") << QStringList{QStringLiteral("export"), s} << 2;
    // Chart arguments are checked by the renderer: the same complaints.
    QTest::newRow("unknown chart")
        << QStringList{QStringLiteral("export"),  s,
                       QStringLiteral("--chart"), QStringLiteral("pie"),
                       QStringLiteral("-o"),      QStringLiteral("x.png")}
        << 2;
    QTest::newRow("seq without connection")
        << QStringList{QStringLiteral("export"),  p,
                       QStringLiteral("--chart"), QStringLiteral("seq"),
                       QStringLiteral("-o"),      QStringLiteral("x.png")}
        << 2;
    QTest::newRow("watch list") << QStringList{QStringLiteral("watch"),
                                               QStringLiteral("--list-detectors")}
                                << 0;
    QTest::newRow("watch file") << QStringList{QStringLiteral("watch"), QStringLiteral("-r"), s}
                                << 0;
    QTest::newRow("record usage") << QStringList{QStringLiteral("record"),
                                                 QStringLiteral("--duration"),
                                                 QStringLiteral("soon")}
                                  << 2;
    QTest::newRow("merge usage") << QStringList{QStringLiteral("merge"), s} << 2;
    QTest::newRow("recover intact") << QStringList{QStringLiteral("recover"), s} << 0;
}

// The same arguments give the same stdout, stderr and exit code from both binaries.
void TestCliHeadless::sameOutputAsTcpscope()
{
    QFETCH(QStringList, args);
    QFETCH(int, code);
    args.replaceInStrings(QStringLiteral("@SESSION@"), m_session);
    args.replaceInStrings(QStringLiteral("@PACKETS@"), m_packetsSession);
    const Result app = run(m_app, args);
    const Result cli = run(m_cli, args);
    QCOMPARE(app.code, code); // the case tests what it means to
    QCOMPARE(cli.code, app.code);
    QCOMPARE(cli.err, app.err);
    QCOMPARE(cli.out, app.out);
}

void TestCliHeadless::sameFilesAsTcpscope_data()
{
    QTest::addColumn<bool>("packets");
    QTest::addColumn<QString>("option");
    QTest::addColumn<QString>("name");
    QTest::newRow("connections.csv")
        << false << QStringLiteral("--connections") << QStringLiteral("c.csv");
    QTest::newRow("connections.json")
        << false << QStringLiteral("--connections") << QStringLiteral("c.json");
    QTest::newRow("packets.csv") << true << QStringLiteral("--packets") << QStringLiteral("p.csv");
    QTest::newRow("packets.json") << true << QStringLiteral("--packets")
                                  << QStringLiteral("p.json");
    QTest::newRow("packets.pcapng")
        << true << QStringLiteral("--packets") << QStringLiteral("p.pcapng");
}

// Exports to files: the same messages and the same bytes.
void TestCliHeadless::sameFilesAsTcpscope()
{
    QFETCH(bool, packets);
    QFETCH(QString, option);
    QFETCH(QString, name);
    const QString out = m_dir.filePath(name);
    const QStringList args{QStringLiteral("export"), packets ? m_packetsSession : m_session, option,
                           out};
    QFile::remove(out);
    const Result app = run(m_app, args);
    QCOMPARE(app.code, 0);
    const QByteArray appBytes = readAll(out);
    QVERIFY(!appBytes.isEmpty());
    QVERIFY(QFile::remove(out));
    const Result cli = run(m_cli, args);
    QCOMPARE(cli.code, 0);
    QCOMPARE(cli.out, app.out);
    QCOMPARE(cli.err, app.err);
    QCOMPARE(readAll(out), appBytes);
}

// With the module next to it (the build tree), tcpscope-cli draws what tcpscope draws.
void TestCliHeadless::chartWithRenderer()
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    // The installed directory is not where this module is: it must be found next to the binary.
    QTemporaryDir empty;
    env.insert(QStringLiteral("TCPSCOPE_CHART_RENDERER_DIR"), empty.path());
    const QString appPng = m_dir.filePath(QStringLiteral("app-timeline.png"));
    const QString cliPng = m_dir.filePath(QStringLiteral("cli-timeline.png"));
    const QStringList common{QStringLiteral("export"),  m_session,
                             QStringLiteral("--chart"), QStringLiteral("timeline"),
                             QStringLiteral("--size"),  QStringLiteral("640x360"),
                             QStringLiteral("-o")};
    const Result app = run(m_app, common + QStringList{appPng}, env);
    QVERIFY2(app.code == 0, app.err.constData());
    const Result cli = run(m_cli, common + QStringList{cliPng}, env);
    QVERIFY2(cli.code == 0, cli.err.constData());
    QCOMPARE(cli.out, app.out);
    QVERIFY(readAll(cliPng).startsWith("\x89PNG\r\n\x1a\n"));
    const QImage image(cliPng);
    QCOMPARE(image.size(), QSize(640, 360));
    QCOMPARE(image, QImage(appPng));

    // A per-connection chart and a vector format through the same module.
    const QString seqPdf = m_dir.filePath(QStringLiteral("cli-seq.pdf"));
    const Result seq = run(m_cli,
                           {QStringLiteral("export"), m_packetsSession, QStringLiteral("--chart"),
                            QStringLiteral("seq"), QStringLiteral("--connection"),
                            QStringLiteral("1"), QStringLiteral("-o"), seqPdf},
                           env);
    QVERIFY2(seq.code == 0, seq.err.constData());
    QVERIFY(readAll(seqPdf).startsWith("%PDF"));

    // Errors of the renderer come back as they are: no kernel samples for this connection.
    const QString rtt = m_dir.filePath(QStringLiteral("rtt.png"));
    const QStringList rttArgs{QStringLiteral("export"),       m_session,
                              QStringLiteral("--chart"),      QStringLiteral("rtt"),
                              QStringLiteral("--connection"), QStringLiteral("1"),
                              QStringLiteral("-o"),           rtt};
    const Result appRtt = run(m_app, rttArgs, env);
    const Result cliRtt = run(m_cli, rttArgs, env);
    QCOMPARE(appRtt.code, 1);
    QCOMPARE(cliRtt.code, appRtt.code);
    QCOMPARE(cliRtt.err, appRtt.err);
    QVERIFY(!QFile::exists(rtt));

    // A copy elsewhere finds the module in the installed directory.
    QTemporaryDir bin;
    const QString copy = bin.filePath(QStringLiteral("tcpscope-cli"));
    QVERIFY(QFile::copy(m_cli, copy));
    env.insert(QStringLiteral("TCPSCOPE_CHART_RENDERER_DIR"), QFileInfo(m_module).absolutePath());
    QFile::remove(cliPng);
    const Result installed = run(copy, common + QStringList{cliPng}, env);
    QVERIFY2(installed.code == 0, installed.err.constData());
    QCOMPARE(QImage(cliPng), QImage(appPng));
}

// Without the module: one line saying what to install, the export exit code, no file, and
// every other subcommand unaffected.
void TestCliHeadless::chartWithoutRenderer()
{
    QTemporaryDir bin;
    QTemporaryDir empty;
    const QString copy = bin.filePath(QStringLiteral("tcpscope-cli"));
    QVERIFY(QFile::copy(m_cli, copy));
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    env.insert(QStringLiteral("TCPSCOPE_CHART_RENDERER_DIR"), empty.path());
    const QString png = m_dir.filePath(QStringLiteral("absent.png"));
    const Result r = run(copy,
                         {QStringLiteral("export"), m_session, QStringLiteral("--chart"),
                          QStringLiteral("timeline"), QStringLiteral("-o"), png},
                         env);
    QCOMPARE(r.code, 1);
    QVERIFY(r.out.isEmpty());
    QCOMPARE(r.err.count('\n'), 1);
    QVERIFY2(r.err.startsWith("tcpscope: export: chart export needs the chart renderer "
                              "tcpscope-chart-renderer.so"),
             r.err.constData());
    QVERIFY2(r.err.contains(QDir::cleanPath(empty.path()).toUtf8()), r.err.constData());
    QVERIFY2(r.err.contains("install the full tcpscope package"), r.err.constData());
    QVERIFY(!QFile::exists(png));

    // The rest needs no renderer.
    for (const QStringList &args :
         {QStringList{QStringLiteral("info"), m_session},
          QStringList{QStringLiteral("export"), m_session, QStringLiteral("--connections"),
                      QStringLiteral("-")},
          QStringList{QStringLiteral("export"), m_packetsSession, QStringLiteral("--packets"),
                      QStringLiteral("-")}}) {
        const Result app = run(m_app, args);
        const Result cli = run(copy, args, env);
        QCOMPARE(app.code, 0);
        QCOMPARE(cli.code, 0);
        QCOMPARE(cli.out, app.out);
        QCOMPARE(cli.err, app.err);
    }
}

// A module that cannot be loaded (here: not a shared object; on a server: its Qt Widgets or
// QCustomPlot missing) says so in one line, with the loader's reason.
void TestCliHeadless::brokenRenderer()
{
    QTemporaryDir bin;
    const QString copy = bin.filePath(QStringLiteral("tcpscope-cli"));
    QVERIFY(QFile::copy(m_cli, copy));
    QFile fake(bin.filePath(QStringLiteral("tcpscope-chart-renderer.so")));
    QVERIFY(fake.open(QIODevice::WriteOnly));
    fake.write("not an ELF file\n");
    fake.close();
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    env.insert(QStringLiteral("TCPSCOPE_CHART_RENDERER_DIR"), bin.path());
    const QString png = m_dir.filePath(QStringLiteral("broken.png"));
    const Result r = run(copy,
                         {QStringLiteral("export"), m_session, QStringLiteral("--chart"),
                          QStringLiteral("timeline"), QStringLiteral("-o"), png},
                         env);
    QCOMPARE(r.code, 1);
    QCOMPARE(r.err.count('\n'), 1);
    QVERIFY2(r.err.startsWith("tcpscope: export: cannot load the chart renderer ("),
             r.err.constData());
    QVERIFY2(r.err.contains("tcpscope-chart-renderer.so"), r.err.constData());
    QVERIFY(!QFile::exists(png));
}

QTEST_GUILESS_MAIN(TestCliHeadless)
#include "test_cli_headless.moc"
