// SPDX-License-Identifier: GPL-3.0-or-later
// Every interruption is in the file: `tcpscope record` on the real kernel under a loopback bulk
// transfer, interrupted in each way a capture can be cut short.
// - The recorder stopped (SIGSTOP) for 20 s: the helper goes on capturing, drops what does not
//   fit its queue, and the capture goes on afterwards; the file counts the dropped records and
//   marks the stretch they belong to.
// - Stopped longer than --max-stall: the helper gives up with a sentence, the file marks the end.
// - The helper SIGKILLed: the recorder fails with a sentence and the file marks the end.
// - The disk full (a 2 MiB tmpfs): the capture stops within seconds with one line, and what is
//   in the file is a consistent capture.
// After each, nothing of the helper stays attached. Needs root (BPF); skips loudly otherwise.
#include "helper_session.h"
#include "session/session.h"

#include <QDateTime>
#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QScopeGuard>
#include <QTemporaryDir>
#include <QTest>
#include <csignal>
#include <sys/mount.h>
#include <unistd.h>

using namespace tcpscope;
namespace t = tcpscope::test;

class TestRecordInterrupt : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void stalledRecorderMarksTheGap();
    void stallBeyondMaximumEndsTheCapture();
    void killedHelperMarksTheEnd();
    void fullDiskStopsTheCapture();

private:
    // A recorder with a bulk transfer running, live (helper attached) when it returns true.
    struct Run
    {
        QProcess rec, sink, stream;
        t::BpfObjects ours;
        pid_t helper = 0;
        ~Run()
        {
            for (QProcess *p : {&stream, &sink, &rec})
                if (p->state() != QProcess::NotRunning) {
                    p->kill();
                    p->waitForFinished(5000);
                }
        }
    };
    // traffic: "stream MILLIS" (a bulk transfer as fast as it goes) or "churn RATE" (short
    // connections at RATE per second, for a minute).
    bool start(Run &run, const QString &file, const QStringList &extra, const QString &traffic);
    // Waits for the recorder to exit; its exit code (-1: crashed or still running).
    int finish(Run &run, int timeoutMs);
    void helperGoneAndClean(Run &run);
    QString info(const QString &file);

    QString m_tcpscope, m_traffic;
    QStringList m_tracefsBefore;
    QTemporaryDir m_dir;
};

void TestRecordInterrupt::initTestCase()
{
    if (!t::requireHelperEnvironment(&m_tracefsBefore))
        return;
    m_tcpscope = qEnvironmentVariable("TCPSCOPE_BIN");
    m_traffic = qEnvironmentVariable("TS_TRAFFIC");
    QVERIFY2(QFileInfo(m_tcpscope).isExecutable(), "TCPSCOPE_BIN not set: run through ctest");
    QVERIFY2(QFileInfo(m_traffic).isExecutable(), "TS_TRAFFIC not set: run through ctest");
    QVERIFY(m_dir.isValid());
}

bool TestRecordInterrupt::start(Run &run, const QString &file, const QStringList &extra,
                                const QString &traffic)
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("TCPSCOPE_HELPER"), t::helperPath());
    run.rec.setProcessEnvironment(env);
    run.rec.start(m_tcpscope, QStringList{QStringLiteral("record"), QStringLiteral("-q"),
                                          QStringLiteral("-o"), file} +
                                  extra);
    if (!run.rec.waitForStarted())
        return false;
    QElapsedTimer timer;
    timer.start();
    while (timer.elapsed() < 20000 && run.rec.state() == QProcess::Running) {
        QString error;
        if (const auto s = Session::open(file, &error); s && s->info().startedNs > 0)
            break;
        QTest::qWait(100);
    }
    if (run.rec.state() != QProcess::Running || timer.elapsed() >= 20000) {
        qWarning("recorder not live: %s", run.rec.readAllStandardError().constData());
        return false;
    }
    run.helper = t::helperChildOf(run.rec.processId());
    if (run.helper <= 0)
        return false;
    run.ours = t::bpfObjectsOf(run.helper);
    const QStringList words = traffic.split(QLatin1Char(' '));
    if (words.first() == QLatin1String("churn")) {
        const int rate = words.value(1).toInt();
        run.stream.start(m_traffic, {QStringLiteral("churn"), QStringLiteral("4"),
                                     QString::number(rate * 60), QString::number(rate)});
        if (!run.stream.waitForStarted() || t::readPort(run.stream) == 0)
            return false;
        run.stream.write("go\n");
        return run.stream.waitForBytesWritten(5000);
    }
    run.sink.start(m_traffic, {QStringLiteral("sink"), QStringLiteral("4")});
    const unsigned port = run.sink.waitForStarted() ? t::readPort(run.sink) : 0;
    if (port == 0)
        return false;
    run.stream.start(m_traffic, {QStringLiteral("stream"), QStringLiteral("4"),
                                 QString::number(port), words.value(1)});
    return run.stream.waitForStarted();
}

int TestRecordInterrupt::finish(Run &run, int timeoutMs)
{
    if (!run.rec.waitForFinished(timeoutMs))
        return -1;
    return run.rec.exitStatus() == QProcess::NormalExit ? run.rec.exitCode() : -1;
}

void TestRecordInterrupt::helperGoneAndClean(Run &run)
{
    QElapsedTimer timer;
    timer.start();
    while (!t::processGone(run.helper) && timer.elapsed() < 10000)
        QTest::qWait(50);
    if (!t::processGone(run.helper)) {
        ::kill(run.helper, SIGKILL); // leave the machine clean, then fail
        QFAIL("tcpscope-helper kept running for 10 s after its capture ended");
    }
    t::verifyNothingLeft(run.ours, m_tracefsBefore);
}

QString TestRecordInterrupt::info(const QString &file)
{
    QProcess p;
    p.start(m_tcpscope, {QStringLiteral("info"), file});
    p.waitForFinished(60000);
    return QString::fromLocal8Bit(p.readAllStandardOutput() + p.readAllStandardError());
}

void TestRecordInterrupt::stalledRecorderMarksTheGap()
{
    const QString file = m_dir.filePath(QStringLiteral("stalled.tcpscope"));
    Run run;
    // Churn at a rate tcpscope keeps up with, so every drop belongs to the stop.
    QVERIFY(start(run, file, {}, QStringLiteral("churn 1500")));
    QTest::qWait(2000);
    const qint64 stoppedAt = QDateTime::currentMSecsSinceEpoch();
    ::kill(pid_t(run.rec.processId()), SIGSTOP);
    QTest::qWait(20000);
    ::kill(pid_t(run.rec.processId()), SIGCONT);
    const qint64 resumedAt = QDateTime::currentMSecsSinceEpoch();
    // The helper went on: the capture is still running and ends cleanly when asked to.
    QTest::qWait(3000);
    QVERIFY2(run.rec.state() == QProcess::Running, run.rec.readAllStandardError().constData());
    ::kill(pid_t(run.rec.processId()), SIGINT);
    const int code = finish(run, 60000);
    const QByteArray err = run.rec.readAllStandardError();
    QVERIFY2(code == 0, err.constData());
    QVERIFY2(err.contains("dropped by the helper"), err.constData());
    helperGoneAndClean(run);

    QString error;
    const auto session = Session::open(file, &error);
    QVERIFY2(session, qPrintable(error));
    const SessionInfo i = session->info();
    QVERIFY(i.stoppedNs > 0);
    QVERIFY2(i.readerDropped > 0, "a 20 s stall under load dropped nothing");
    QVERIFY(!i.interruptions.isEmpty());
    quint64 counted = 0;
    for (const Interruption &gap : i.interruptions) {
        QVERIFY2(gap.reason.contains(QLatin1String("did not read")), qPrintable(gap.reason));
        counted += quint64(gap.recordsLost);
    }
    QCOMPARE(counted, i.readerDropped);
    // The stop: within it, give or take a Stats interval and the queue filling up.
    const Interruption &gap = i.interruptions.first();
    QVERIFY2(gap.startNs / 1000000 >= stoppedAt - 1500 && gap.endNs / 1000000 <= resumedAt + 1500,
             qPrintable(interruptionText(gap)));
    QVERIFY2(gap.endNs - gap.startNs >= 10'000'000'000LL, qPrintable(interruptionText(gap)));
    const QString text = info(file);
    QVERIFY2(text.contains(QLatin1String("Interrupted:")) &&
                 text.contains(QLatin1String("Not read:")),
             qPrintable(text));
}

void TestRecordInterrupt::stallBeyondMaximumEndsTheCapture()
{
    const QString file = m_dir.filePath(QStringLiteral("gaveup.tcpscope"));
    Run run;
    QVERIFY(start(run, file, {QStringLiteral("--max-stall"), QStringLiteral("2")},
                  QStringLiteral("stream 30000")));
    QTest::qWait(1000);
    ::kill(pid_t(run.rec.processId()), SIGSTOP);
    QTest::qWait(6000);
    ::kill(pid_t(run.rec.processId()), SIGCONT);
    const int code = finish(run, 60000);
    const QByteArray err = run.rec.readAllStandardError();
    QVERIFY2(code == 1, err.constData());
    QVERIFY2(err.contains("read nothing for 2000 ms"), err.constData());
    helperGoneAndClean(run);

    QString error;
    const auto session = Session::open(file, &error);
    QVERIFY2(session, qPrintable(error));
    const QVector<Interruption> list = session->info().interruptions;
    QVERIFY(!list.isEmpty());
    QCOMPARE(list.last().endNs, qint64(0));
    QVERIFY2(list.last().reason.contains(QLatin1String("read nothing for 2000 ms")),
             qPrintable(list.last().reason));
}

void TestRecordInterrupt::killedHelperMarksTheEnd()
{
    const QString file = m_dir.filePath(QStringLiteral("helperkilled.tcpscope"));
    Run run;
    QVERIFY(start(run, file, {}, QStringLiteral("stream 30000")));
    QTest::qWait(2000);
    ::kill(run.helper, SIGKILL);
    const int code = finish(run, 30000);
    const QByteArray err = run.rec.readAllStandardError();
    QVERIFY2(code == 1, err.constData());
    QVERIFY2(err.contains("capture failed"), err.constData());
    helperGoneAndClean(run);

    QString error;
    const auto session = Session::open(file, &error);
    QVERIFY2(session, qPrintable(error));
    const QVector<Interruption> list = session->info().interruptions;
    QCOMPARE(list.size(), 1);
    QCOMPARE(list.first().endNs, qint64(0));
    QCOMPARE(list.first().recordsLost, qint64(-1));
    QVERIFY2(list.first().reason.contains(QLatin1String("ended early")),
             qPrintable(list.first().reason));
    const QString text = info(file);
    QVERIFY2(text.contains(QLatin1String("records lost: unknown")), qPrintable(text));
}

void TestRecordInterrupt::fullDiskStopsTheCapture()
{
    const QString mnt = m_dir.filePath(QStringLiteral("tiny"));
    QVERIFY(QDir().mkpath(mnt));
    if (::mount("tcpscope-test", mnt.toLocal8Bit().constData(), "tmpfs", MS_NOSUID | MS_NODEV,
                "size=2m,mode=0700") != 0)
        QSKIP("cannot mount a tmpfs here");
    auto unmount = qScopeGuard([&] { ::umount2(mnt.toLocal8Bit().constData(), MNT_DETACH); });
    const QString file = mnt + QStringLiteral("/full.tcpscope");
    Run run;
    QVERIFY(start(run, file, {}, QStringLiteral("stream 60000")));
    QElapsedTimer timer;
    timer.start();
    const int code = finish(run, 45000);
    const QByteArray err = run.rec.readAllStandardError();
    QVERIFY2(code == 1, err.constData());
    QVERIFY2(err.contains("full"), err.constData());
    helperGoneAndClean(run);

    QString error;
    const auto session = Session::open(file, &error);
    QVERIFY2(session, qPrintable(error));
    const SessionInfo i = session->info();
    QVERIFY(i.startedNs > 0);
    QVERIFY2(i.stoppedNs == 0 || i.stoppedNs >= i.startedNs, "time range runs backwards");
    QCOMPARE(session->badChunks(), 0u);
    qint64 packets = 0, lastId = 0;
    bool ordered = true;
    QHash<qint64, quint64> perConnection;
    session->forEachPacket(-1, [&](const Packet &p) {
        ++packets;
        ordered = ordered && p.id > lastId;
        lastId = p.id;
        ++perConnection[p.connectionId];
        return true;
    });
    QVERIFY(ordered);
    QVERIFY2(packets > 0, "nothing was written before the disk filled up");
    // Each connection's packet totals count exactly the packets the file holds.
    int mismatches = 0;
    session->forEachConnection(
        [&](const Connection &c) {
            const quint64 counted = c.packets.packetsIn + c.packets.packetsOut;
            if (counted != perConnection.value(c.id) && ++mismatches <= 5)
                qWarning("connection %lld: totals say %llu packets, the file holds %llu", c.id,
                         counted, perConnection.value(c.id));
            return true;
        },
        false);
    QCOMPARE(mismatches, 0);
    // The end is in the file: when, why, and how much the file lacks.
    QVERIFY2(i.stoppedNs >= i.startedNs, "the stop time is missing");
    QVERIFY(!i.interruptions.isEmpty());
    const Interruption &end = i.interruptions.last();
    QCOMPARE(end.endNs, qint64(0));
    QVERIFY2(end.reason.contains(QLatin1String("full")), qPrintable(end.reason));
    QVERIFY2(end.recordsLost >= 0, "records not written: unknown");
    QCOMPARE(quint64(end.recordsLost), i.writerDropped);
    // And in the JSON summary.
    QProcess p;
    p.start(m_tcpscope, {QStringLiteral("info"), QStringLiteral("--json"), file});
    QVERIFY(p.waitForFinished(60000));
    const QJsonObject o = QJsonDocument::fromJson(p.readAllStandardOutput()).object();
    QCOMPARE(o.value(QLatin1String("complete")).toBool(true), false);
    QCOMPARE(o.value(QLatin1String("interruptions")).toArray().size(), i.interruptions.size());
    qInfo("full disk: capture ended after %lld ms with %lld packets in the file, %llu records "
          "not written",
          timer.elapsed(), packets, i.writerDropped);
}

QTEST_GUILESS_MAIN(TestRecordInterrupt)
#include "test_record_interrupt.moc"
