// SPDX-License-Identifier: GPL-3.0-or-later
// A recorder killed mid-capture: `tcpscope record` on the real kernel during a loopback bulk
// transfer and connection churn, SIGKILLed once the file has grown. What it committed must read
// back through Session as one consistent capture (every packet's connection exists, the
// per-second aggregates agree with the packets and samples stored, times in order), the file
// must say the recording did not stop cleanly, `tcpscope info` and `tcpscope export` must
// accept it, and the helper must have taken every BPF program and link with it. Needs root
// (BPF); skips loudly otherwise.
#include "helper_session.h"
#include "session/session.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QRegularExpression>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>
#include <csignal>
#include <sys/wait.h>
#include <unistd.h>

using namespace tcpscope;
namespace t = tcpscope::test;

class TestRecordKill : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void killedRecorderLeavesConsistentFile();

private:
    QString run(const QStringList &args, int *exitCode, QByteArray *stdoutText = nullptr);
    void checkConsistent(const Session &session);

    QString m_tcpscope, m_traffic;
    QStringList m_tracefsBefore;
    QTemporaryDir m_dir;
};

namespace {

void stopProcess(QProcess &p)
{
    if (p.state() != QProcess::NotRunning) {
        p.kill();
        p.waitForFinished(5000);
    }
}

} // namespace

void TestRecordKill::initTestCase()
{
    if (!t::requireHelperEnvironment(&m_tracefsBefore))
        return;
    m_tcpscope = qEnvironmentVariable("TCPSCOPE_BIN");
    m_traffic = qEnvironmentVariable("TS_TRAFFIC");
    QVERIFY2(QFileInfo(m_tcpscope).isExecutable(), "TCPSCOPE_BIN not set: run through ctest");
    QVERIFY2(QFileInfo(m_traffic).isExecutable(), "TS_TRAFFIC not set: run through ctest");
    QVERIFY(m_dir.isValid());
}

QString TestRecordKill::run(const QStringList &args, int *exitCode, QByteArray *stdoutText)
{
    QProcess p;
    p.start(m_tcpscope, args);
    p.waitForFinished(120000);
    *exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    const QByteArray out = p.readAllStandardOutput();
    if (stdoutText)
        *stdoutText = out;
    return QString::fromLocal8Bit(out + p.readAllStandardError());
}

void TestRecordKill::checkConsistent(const Session &session)
{
    // Connections: unique ids, history in time order.
    QSet<qint64> ids;
    qint64 closed = 0;
    session.forEachConnection(
        [&](const Connection &c) {
            ids.insert(c.id);
            closed += c.endNs != 0 ? 1 : 0;
            for (qsizetype i = 1; i < c.history.size(); ++i)
                if (c.history[i].timeNs < c.history[i - 1].timeNs)
                    QTest::qFail(qPrintable(QStringLiteral("connection %1: state change %2 is "
                                                           "older than the one before it")
                                                .arg(c.id)
                                                .arg(i)),
                                 __FILE__, __LINE__);
            return !QTest::currentTestFailed();
        },
        true);
    QVERIFY(!QTest::currentTestFailed());
    QVERIFY2(session.error().isEmpty(), qPrintable(session.error()));
    QCOMPARE(qint64(ids.size()), session.connectionCount());
    QVERIFY2(ids.size() > 10, "the churn's connections are missing");

    // Packets: each joined packet's connection exists, ids increase, a connection's packets are
    // in time order, and every packet counts in the second it was captured in.
    qint64 packets = 0, lastId = 0;
    QHash<qint64, qint64> packetsOf;
    qint64 inversions = 0, maxInversionNs = 0;
    QHash<qint64, quint64> packetsPerSecond;
    session.forEachPacket(-1, [&](const Packet &p) {
        ++packets;
        if (p.id <= lastId)
            QTest::qFail(qPrintable(QStringLiteral("packet id %1 after %2").arg(p.id).arg(lastId)),
                         __FILE__, __LINE__);
        lastId = p.id;
        if (p.connectionId != 0 && !ids.contains(p.connectionId))
            QTest::qFail(qPrintable(QStringLiteral("packet %1 names connection %2, not in the file")
                                        .arg(p.id)
                                        .arg(p.connectionId)),
                         __FILE__, __LINE__);
        ++packetsOf[p.connectionId];
        ++packetsPerSecond[p.timeNs / 1'000'000'000 * 1'000'000'000];
        return !QTest::currentTestFailed();
    });
    QVERIFY(!QTest::currentTestFailed());
    QVERIFY2(session.error().isEmpty(), qPrintable(session.error()));
    QCOMPARE(packets, session.packetCount());
    QVERIFY2(packets > 100, "the bulk transfer's packets are missing");
    for (auto it = packetsOf.cbegin(); it != packetsOf.cend(); ++it) {
        QCOMPARE(session.packetCount(it.key()), it.value());
        if (it.key() == 0)
            continue;
        // One connection's packets by position: ids are in join order, and the kernel stamps
        // a packet before it reserves ring buffer space, so two CPUs' packets can arrive (and
        // be numbered) slightly out of time order. Measured, not assumed away.
        const QVector<Packet> own = session.packets(it.key());
        QCOMPARE(qint64(own.size()), it.value());
        for (qsizetype i = 1; i < own.size(); ++i) {
            QVERIFY(own[i].id > own[i - 1].id);
            if (own[i].timeNs < own[i - 1].timeNs) {
                ++inversions;
                maxInversionNs = std::max(maxInversionNs, own[i - 1].timeNs - own[i].timeNs);
            }
        }
    }

    // Samples: joined ones name a stored connection; per connection in time order.
    qint64 samples = 0;
    QHash<qint64, quint64> samplesPerSecond;
    QHash<qint64, qint64> lastSampleOf;
    session.forEachSample(-1, [&](const TcpSample &t) {
        ++samples;
        ++samplesPerSecond[t.timeNs / 1'000'000'000 * 1'000'000'000];
        if (t.connectionId != 0 && !ids.contains(t.connectionId))
            QTest::qFail("a sample names a connection not in the file", __FILE__, __LINE__);
        if (t.timeNs < lastSampleOf.value(t.connectionId, 0) && t.connectionId != 0)
            QTest::qFail("a connection's samples are out of time order", __FILE__, __LINE__);
        lastSampleOf.insert(t.connectionId, t.timeNs);
        return !QTest::currentTestFailed();
    });
    QVERIFY(!QTest::currentTestFailed());
    const KernelData events = session.kernelEvents();
    for (const KernelEvent &e : events.events)
        QVERIFY2(e.connectionId == 0 || ids.contains(e.connectionId), "event of no connection");
    for (const DropEvent &d : events.drops)
        QVERIFY2(d.connectionId == 0 || ids.contains(d.connectionId), "drop of no connection");

    // Seconds: strictly ordered; their sums are exactly what the file holds (the aggregates are
    // committed with the chunks they count, never ahead of them).
    const QVector<SecondBucket> seconds = session.seconds();
    QVERIFY(!seconds.isEmpty());
    quint64 secPackets = 0, secSamples = 0, secOpened = 0, secClosed = 0, secDrops = 0;
    for (qsizetype i = 0; i < seconds.size(); ++i) {
        const SecondBucket &b = seconds[i];
        if (i > 0)
            QVERIFY(b.secondNs > seconds[i - 1].secondNs);
        QCOMPARE(b.packets, packetsPerSecond.value(b.secondNs));
        QCOMPARE(quint64(b.samples), samplesPerSecond.value(b.secondNs));
        secPackets += b.packets;
        secSamples += b.samples;
        secOpened += b.opened;
        secClosed += b.closed;
        secDrops += b.drops;
    }
    QCOMPARE(secPackets, quint64(packets));
    QCOMPARE(secSamples, quint64(samples));
    QCOMPARE(secOpened, quint64(ids.size()));
    QCOMPARE(secClosed, quint64(closed));
    QCOMPARE(secDrops, quint64(events.drops.size()));
    qInfo("packets out of time order within their connection: %lld, by at most %lld ns", inversions,
          maxInversionNs);
    qInfo("killed recorder's file: %lld connections (%lld closed), %lld packets, %lld samples, "
          "%lld events, %lld drops, %lld seconds",
          qint64(ids.size()), closed, packets, samples, qint64(events.events.size()),
          qint64(events.drops.size()), qint64(seconds.size()));
}

void TestRecordKill::killedRecorderLeavesConsistentFile()
{
    const QString file = m_dir.filePath(QStringLiteral("killed.tcpscope"));
    QProcess rec;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("TCPSCOPE_HELPER"), t::helperPath());
    rec.setProcessEnvironment(env);
    rec.start(m_tcpscope, {QStringLiteral("record"), QStringLiteral("-o"), file});
    QVERIFY(rec.waitForStarted());

    // Live: the helper's Hello facts are in the (WAL) file once BPF is attached.
    QElapsedTimer timer;
    timer.start();
    while (timer.elapsed() < 20000 && rec.state() == QProcess::Running) {
        QString error;
        if (const auto s = Session::open(file, &error); s && s->info().startedNs > 0)
            break;
        QTest::qWait(100);
    }
    QVERIFY2(rec.state() == QProcess::Running, rec.readAllStandardError().constData());
    QVERIFY2(timer.elapsed() < 20000, "tcpscope record did not become live within 20 s");
    const pid_t helper = t::helperChildOf(rec.processId());
    QVERIFY2(helper > 0, "no tcpscope-helper child of the recorder");
    const t::BpfObjects ours = t::bpfObjectsOf(helper);

    // A bulk transfer (v4) and connection churn (v6) all along, beyond the kill.
    QProcess sink, stream, churn;
    sink.start(m_traffic, {QStringLiteral("sink"), QStringLiteral("4")});
    QVERIFY(sink.waitForStarted());
    const unsigned port = t::readPort(sink);
    QVERIFY(port > 0);
    stream.start(m_traffic, {QStringLiteral("stream"), QStringLiteral("4"), QString::number(port),
                             QStringLiteral("20000")});
    churn.start(m_traffic,
                {QStringLiteral("burst"), QStringLiteral("6"), QStringLiteral("100000000")});
    QVERIFY(stream.waitForStarted() && churn.waitForStarted());

    // Kill once the file has grown (the writer commits a batch every ~250 ms, chunks after at
    // most 2 s): 3 s into the traffic, and once the committed part spans 3 seconds of capture
    // (under this load the recorder may lag the kernel), reading the live file meanwhile.
    const qint64 sizeBefore =
        QFileInfo(file).size() + QFileInfo(file + QStringLiteral("-wal")).size();
    QTest::qWait(3000);
    timer.restart();
    qint64 liveSeconds = 0;
    while (timer.elapsed() < 20000) {
        QString error;
        if (const auto live = Session::open(file, &error))
            liveSeconds = live->seconds().size();
        if (liveSeconds >= 3)
            break;
        QTest::qWait(500);
    }
    const qint64 sizeAtKill =
        QFileInfo(file).size() + QFileInfo(file + QStringLiteral("-wal")).size();
    ::kill(pid_t(rec.processId()), SIGKILL);
    QVERIFY(rec.waitForFinished(10000));
    QCOMPARE(rec.exitStatus(), QProcess::CrashExit);
    stopProcess(churn);
    stopProcess(stream);
    stopProcess(sink);
    QVERIFY2(sizeAtKill > sizeBefore,
             qPrintable(QStringLiteral("the file did not grow (%1 -> %2 bytes)")
                            .arg(sizeBefore)
                            .arg(sizeAtKill)));

    // The helper notices its peer is gone and exits, taking every program and link with it.
    timer.restart();
    while (!t::processGone(helper) && timer.elapsed() < 10000)
        QTest::qWait(50);
    if (!t::processGone(helper)) {
        ::kill(helper, SIGKILL); // leave the machine clean, then fail
        QFAIL("tcpscope-helper kept running for 10 s after its recorder was killed");
    }
    t::verifyNothingLeft(ours, m_tracefsBefore);
    if (QTest::currentTestFailed())
        return;

    QString error;
    const auto session = Session::open(file, &error);
    QVERIFY2(session, qPrintable(error));
    const SessionInfo info = session->info();
    QVERIFY(info.startedNs > 0);
    QCOMPARE(info.stoppedNs, qint64(0)); // how the format says "not stopped cleanly"
    QCOMPARE(session->valuesOutOfRange(), 0u);
    QCOMPARE(session->badChunks(), 0u);
    checkConsistent(*session);
    if (QTest::currentTestFailed())
        return;

    int code = -1;
    const QString infoText = run({QStringLiteral("info"), file}, &code);
    QCOMPARE(code, 0);
    QVERIFY2(infoText.contains(QLatin1String("recording did not stop cleanly")),
             qPrintable(infoText));
    QVERIFY2(infoText.contains(QRegularExpression(
                 QStringLiteral("Connections: +%1\\b").arg(session->connectionCount()))),
             qPrintable(infoText));
    QByteArray csv;
    const QString exportText =
        run({QStringLiteral("export"), file, QStringLiteral("--connections"), QStringLiteral("-")},
            &code, &csv);
    QVERIFY2(code == 0, qPrintable(exportText.left(2000)));
    const QList<QByteArray> lines = csv.trimmed().split('\n');
    QVERIFY(lines.first().startsWith("id,"));
    QCOMPARE(qint64(lines.size() - 1), session->connectionCount());
}

QTEST_GUILESS_MAIN(TestRecordKill)
#include "test_record_kill.moc"
