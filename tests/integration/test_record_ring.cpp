// SPDX-License-Identifier: GPL-3.0-or-later
// End to end: `tcpscope record --rotate ... --keep N --stop-after ...` on the real kernel while
// this test keeps one loopback connection busy across every rotation and opens short ones
// between. Checks the ring on disk: --keep honoured, every file a complete session that opens
// with SessionReader, the long connection present in each file with its packets of that time.
// Needs root (BPF); skips loudly otherwise.
#include "session/session_reader.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace tcpscope;

class TestRecordRing : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void ringOfFiles();

private:
    QString m_tcpscope, m_helper;
    QTemporaryDir m_dir;
};

namespace {

struct Fd
{
    int fd = -1;
    ~Fd()
    {
        if (fd >= 0)
            close(fd);
    }
};

quint16 portOf(int fd)
{
    sockaddr_in a{};
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len);
    return ntohs(a.sin_port);
}

// A loopback listener on an ephemeral port.
bool listenLoopback(Fd &l, sockaddr_in &addr)
{
    l.fd = socket(AF_INET, SOCK_STREAM, 0);
    addr = sockaddr_in{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    return l.fd >= 0 && bind(l.fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) == 0 &&
           listen(l.fd, 16) == 0 &&
           getsockname(l.fd, reinterpret_cast<sockaddr *>(&addr), &len) == 0;
}

QStringList ringFiles(const QString &dir)
{
    QStringList out;
    for (const QString &name :
         QDir(dir).entryList({QStringLiteral("ring_*.tcpscope")}, QDir::Files, QDir::Name))
        out << QDir(dir).filePath(name);
    return out;
}

} // namespace

void TestRecordRing::initTestCase()
{
    if (geteuid() != 0)
        QSKIP("NOT ROOT: tcpscope record loads BPF programs; run as root for this test");
    m_tcpscope = qEnvironmentVariable("TCPSCOPE_BIN");
    m_helper = qEnvironmentVariable("TCPSCOPE_HELPER");
    QVERIFY2(QFileInfo(m_tcpscope).isExecutable(), "TCPSCOPE_BIN not set: run through ctest");
    QVERIFY2(QFileInfo(m_helper).isExecutable(), "TCPSCOPE_HELPER not set: run through ctest");
    QVERIFY(m_dir.isValid());
}

void TestRecordRing::ringOfFiles()
{
    const QString base = m_dir.filePath(QStringLiteral("ring.tcpscope"));
    QProcess rec;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("TCPSCOPE_HELPER"), m_helper);
    rec.setProcessEnvironment(env);
    rec.start(m_tcpscope,
              {QStringLiteral("record"), QStringLiteral("-o"), base, QStringLiteral("--rotate"),
               QStringLiteral("2s"), QStringLiteral("--keep"), QStringLiteral("3"),
               QStringLiteral("--stop-after"), QStringLiteral("11s"), QStringLiteral("-q")});
    QVERIFY(rec.waitForStarted());

    // Live once the first ring file says its hooks are attached.
    QElapsedTimer timer;
    timer.start();
    bool live = false;
    while (!live && timer.elapsed() < 20000 && rec.state() == QProcess::Running) {
        const QStringList files = ringFiles(m_dir.path());
        QString error;
        const auto data =
            files.isEmpty() ? std::nullopt : SessionReader::read(files.first(), &error);
        live = data && data->info.startedNs > 0;
        if (!live)
            QTest::qWait(100);
    }
    if (!live) {
        rec.waitForFinished(5000);
        const QString err = QString::fromLocal8Bit(rec.readAllStandardError());
        if (err.contains(QLatin1String("needs root")) || err.contains(QLatin1String("BPF")))
            QSKIP(qPrintable(QStringLiteral("KERNEL CANNOT RUN BPF HERE: ") + err));
        QFAIL(qPrintable(QStringLiteral("recorder did not become live: ") + err));
    }

    // One connection that lives across every rotation, sending a little every 100 ms, and a
    // short connection every 500 ms.
    Fd l, client, server;
    sockaddr_in addr{};
    QVERIFY(listenLoopback(l, addr));
    client.fd = socket(AF_INET, SOCK_STREAM, 0);
    QVERIFY(::connect(client.fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) == 0);
    server.fd = accept(l.fd, nullptr, nullptr);
    QVERIFY(server.fd >= 0);
    const quint16 longPort = portOf(client.fd);
    int shortOnes = 0;
    char buf[64] = "ping";
    while (rec.state() == QProcess::Running && timer.elapsed() < 40000) {
        QVERIFY(send(client.fd, buf, 4, MSG_NOSIGNAL) == 4);
        QVERIFY(recv(server.fd, buf, sizeof buf, 0) > 0);
        if (timer.elapsed() / 500 > shortOnes) {
            Fd c, s;
            c.fd = socket(AF_INET, SOCK_STREAM, 0);
            if (::connect(c.fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) == 0) {
                s.fd = accept(l.fd, nullptr, nullptr);
                ++shortOnes;
            }
        }
        rec.waitForFinished(100);
    }
    QVERIFY2(rec.state() == QProcess::NotRunning || rec.waitForFinished(30000),
             "record did not stop after --stop-after 11s");
    QCOMPARE(rec.exitStatus(), QProcess::NormalExit);
    const QString out = QString::fromLocal8Bit(rec.readAllStandardOutput());
    const QString err = QString::fromLocal8Bit(rec.readAllStandardError());
    QVERIFY2(rec.exitCode() == 0, qPrintable(err));
    QVERIFY2(shortOnes >= 10, "too few short connections made");

    // About 11 s in files of 2 s: at least 5 files were started, the newest 3 kept.
    const QRegularExpressionMatch m =
        QRegularExpression(QStringLiteral("-> (\\d+) files \\((\\d+) kept")).match(out);
    QVERIFY2(m.hasMatch(), qPrintable(out));
    QVERIFY2(m.captured(1).toInt() >= 5, qPrintable(out));
    QCOMPARE(m.captured(2).toInt(), 3);
    const QStringList files = ringFiles(m_dir.path());
    QCOMPARE(files.size(), 3);
    // Nothing else left behind: no side files, no file under the -o name itself.
    QCOMPARE(QDir(m_dir.path()).entryList(QDir::Files | QDir::System | QDir::Hidden).size(), 3);
    const QString total = m.captured(1);
    QVERIFY(files.last().contains(
        QRegularExpression(QStringLiteral("ring_%1_\\d{14}\\.tcpscope$")
                               .arg(total.toInt(), 5, 10, QLatin1Char('0')))));

    qint64 longId = 0;
    qint64 previousStart = 0;
    for (const QString &file : files) {
        QString error;
        const auto data = SessionReader::read(file, &error);
        QVERIFY2(data, qPrintable(file + QStringLiteral(": ") + error));
        QVERIFY(data->info.startedNs > previousStart);
        QVERIFY2(data->info.stoppedNs >= data->info.startedNs, qPrintable(file));
        previousStart = data->info.startedNs;
        // The long connection: carried into every file (same id), open until the end, and its
        // packets of that file's time are there and joined to it.
        const Connection *longConn = nullptr;
        for (const Connection &c : data->connections) {
            if (c.localPort == longPort && c.role == ConnectionRole::Client)
                longConn = &c;
        }
        QVERIFY2(longConn, qPrintable(file + QStringLiteral(": long connection missing")));
        if (longId == 0)
            longId = longConn->id;
        QCOMPARE(longConn->id, longId);
        QVERIFY(!longConn->history.isEmpty());
        int joined = 0;
        for (const Packet &p : data->packets) {
            if (p.connectionId == longId) {
                ++joined;
                QVERIFY(p.timeNs >= data->info.startedNs - 1'000'000'000);
            }
        }
        QVERIFY2(
            joined >= 10,
            qPrintable(
                QStringLiteral("%1: %2 packets of the long connection").arg(file).arg(joined)));
    }
}

QTEST_GUILESS_MAIN(TestRecordRing)
#include "test_record_ring.moc"
