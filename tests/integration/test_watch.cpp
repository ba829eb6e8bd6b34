// SPDX-License-Identifier: GPL-3.0-or-later
// End to end: `tcpscope watch` on the real kernel while real attacks and faults run on loopback:
// a port scan of 200 closed ports, connections aborted with SO_LINGER 0, a receiver that stops
// reading, a SYN flood from hping3 against a listener. Each must raise its detector naming the
// remote, connection or listener; normal traffic (a bulk transfer, connection churn) must raise
// nothing. The session written alongside (-o) must replay (`watch -r`) to the same alerts, the
// exit status says whether a high-severity alert fired, and --exec hands each alert's JSON to a
// command. Needs root (BPF); skips loudly otherwise.
#include "helper_kernel_counters.h"
#include "session/session.h"

#include <QDateTime>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>
#include <unistd.h>

class TestWatch : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void alertsOnAttacksAndFaults();
    void quietOnNormalTraffic();
    void lossyTransfer();
    void synFloodKernelEvidence();
    void rulesAndExec();
    void triggeredCapture();

private:
    // Starts `tcpscope watch --json ARGS` and returns once it says it is watching.
    void startWatch(QProcess &watch, const QStringList &args);
    // SIGINT, then the JSON objects it printed; *exitCode its status.
    QVector<QJsonObject> stopWatch(QProcess &watch, int *exitCode);
    QVector<QJsonObject> parseLines(const QByteArray &out);
    QString traffic(const QStringList &args, int timeoutMs = 30000);

    QString m_tcpscope, m_traffic;
    QTemporaryDir m_dir;
};

void TestWatch::initTestCase()
{
    if (geteuid() != 0)
        QSKIP("NOT ROOT: tcpscope watch loads BPF programs; run as root for this test");
    m_tcpscope = qEnvironmentVariable("TCPSCOPE_BIN");
    m_traffic = qEnvironmentVariable("TS_TRAFFIC");
    QVERIFY2(QFileInfo(m_tcpscope).isExecutable(), "TCPSCOPE_BIN not set: run through ctest");
    QVERIFY2(QFileInfo(m_traffic).isExecutable(), "TS_TRAFFIC not set: run through ctest");
    QVERIFY2(qEnvironmentVariableIsSet("TCPSCOPE_HELPER"), "TCPSCOPE_HELPER not set");
    QVERIFY(m_dir.isValid());
}

void TestWatch::startWatch(QProcess &watch, const QStringList &args)
{
    watch.setProgram(m_tcpscope);
    watch.setArguments(QStringList{QStringLiteral("watch"), QStringLiteral("--json")} + args);
    watch.start();
    QVERIFY(watch.waitForStarted());
    QByteArray err;
    for (int i = 0; i < 100 && !err.contains("watching every TCP connection"); ++i) {
        watch.waitForReadyRead(200);
        err += watch.readAllStandardError();
        QVERIFY2(watch.state() == QProcess::Running, err.constData());
    }
    QVERIFY2(err.contains("watching every TCP connection"), err.constData());
}

QVector<QJsonObject> TestWatch::parseLines(const QByteArray &out)
{
    QVector<QJsonObject> alerts;
    for (const QByteArray &line : out.split('\n')) {
        if (line.trimmed().isEmpty())
            continue;
        QJsonParseError e{};
        const QJsonDocument d = QJsonDocument::fromJson(line, &e);
        if (e.error != QJsonParseError::NoError || !d.isObject())
            qWarning("not a JSON object: %s", line.constData());
        alerts.append(d.object());
    }
    return alerts;
}

QVector<QJsonObject> TestWatch::stopWatch(QProcess &watch, int *exitCode)
{
    ::kill(pid_t(watch.processId()), SIGINT);
    if (!watch.waitForFinished(30000)) {
        watch.kill();
        watch.waitForFinished();
    }
    const QByteArray err = watch.readAllStandardError();
    qInfo("%s", err.constData());
    *exitCode = watch.exitStatus() == QProcess::NormalExit ? watch.exitCode() : -1;
    return parseLines(watch.readAllStandardOutput());
}

QString TestWatch::traffic(const QStringList &args, int timeoutMs)
{
    QProcess p;
    p.start(m_traffic, args);
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished();
    }
    if (p.exitCode() != 0)
        qWarning("ts_traffic %s: %s", qPrintable(args.join(QLatin1Char(' '))),
                 p.readAllStandardError().constData());
    return QString::fromUtf8(p.readAllStandardOutput());
}

namespace {

QStringList kindsOf(const QVector<QJsonObject> &alerts)
{
    QStringList k;
    for (const QJsonObject &a : alerts)
        k.append(a.value(QLatin1String("kind")).toString());
    return k;
}

const QJsonObject *find(const QVector<QJsonObject> &alerts, const QString &kind)
{
    for (const QJsonObject &a : alerts)
        if (a.value(QLatin1String("kind")).toString() == kind)
            return &a;
    return nullptr;
}

} // namespace

void TestWatch::alertsOnAttacksAndFaults()
{
    const QString file = m_dir.filePath(QStringLiteral("attacks.tcpscope"));
    QProcess watch;
    startWatch(watch, {QStringLiteral("-o"), file});

    // A port scan: 200 closed ports from one process.
    QVERIFY(traffic({QStringLiteral("scan"), QStringLiteral("4"), QStringLiteral("20000"),
                     QStringLiteral("200")})
                .contains(QLatin1String("refused 200")));
    // Resets: 100 connections closed by their server with SO_LINGER 0.
    traffic({QStringLiteral("abort"), QStringLiteral("4"), QStringLiteral("100")});
    // A receiver that stops reading for 4 s.
    QProcess stall;
    stall.start(m_traffic, {QStringLiteral("stall"), QStringLiteral("4"), QStringLiteral("4000")});
    QVERIFY(stall.waitForReadyRead(5000));
    const QString stallPort =
        QString::fromUtf8(stall.readAllStandardOutput()).section(QLatin1Char(' '), 1).trimmed();
    QVERIFY(stall.waitForFinished(15000));
    // A SYN flood against a listener: raw SYNs from hping3 at 250/s; the local stack answers
    // with SYN-ACKs that hping3's kernel resets, so no handshake completes.
    const QString hping = QStandardPaths::findExecutable(QStringLiteral("hping3"));
    QString floodPort;
    if (!hping.isEmpty()) {
        QProcess sink;
        sink.start(m_traffic, {QStringLiteral("sink"), QStringLiteral("4")});
        QVERIFY(sink.waitForReadyRead(5000));
        floodPort =
            QString::fromUtf8(sink.readAllStandardOutput()).section(QLatin1Char(' '), 1).trimmed();
        QProcess flood;
        flood.start(hping,
                    {QStringLiteral("-S"), QStringLiteral("-p"), floodPort, QStringLiteral("-i"),
                     QStringLiteral("u4000"), QStringLiteral("-c"), QStringLiteral("400"),
                     QStringLiteral("-q"), QStringLiteral("127.0.0.1")});
        QVERIFY(flood.waitForFinished(20000));
        sink.kill();
        sink.waitForFinished();
    } else {
        qWarning("SKIPPED PART: hping3 is not installed (packaging/deps.sh --with-test-tools "
                 "installs it): no SYN flood checked");
    }
    QTest::qWait(2500); // the last records through the capture's reorder window
    int exitCode = -1;
    const QVector<QJsonObject> alerts = stopWatch(watch, &exitCode);
    const QStringList kinds = kindsOf(alerts);
    qInfo("alerts: %s", qPrintable(kinds.join(QLatin1Char(' '))));

    const QJsonObject *scan = find(alerts, QStringLiteral("port_scan"));
    QVERIFY2(scan, "no port_scan");
    QCOMPARE(scan->value(QLatin1String("remote")).toString(), QStringLiteral("127.0.0.1"));
    QCOMPARE(scan->value(QLatin1String("severity")).toString(), QStringLiteral("medium"));
    QVERIFY(!scan->value(QLatin1String("connections")).toArray().isEmpty());
    QVERIFY(QRegularExpression(QStringLiteral(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$)"))
                .match(scan->value(QLatin1String("time")).toString())
                .hasMatch());

    const QJsonObject *storm = find(alerts, QStringLiteral("rst_storm"));
    QVERIFY2(storm, "no rst_storm");
    QCOMPARE(storm->value(QLatin1String("remote")).toString(), QStringLiteral("127.0.0.1"));

    const QJsonObject *stallAlert = find(alerts, QStringLiteral("zero_window_stall"));
    QVERIFY2(stallAlert, "no zero_window_stall");
    QVERIFY2(stallAlert->value(QLatin1String("summary"))
                 .toString()
                 .contains(QStringLiteral("not reading: conn")),
             qPrintable(stallAlert->value(QLatin1String("summary")).toString()));
    QVERIFY(stallAlert->value(QLatin1String("subject"))
                .toString()
                .startsWith(QStringLiteral("127.0.0.1:%1>").arg(stallPort)));

    if (!floodPort.isEmpty()) {
        const QJsonObject *flood = find(alerts, QStringLiteral("syn_flood"));
        QVERIFY2(flood, "no syn_flood");
        QCOMPARE(flood->value(QLatin1String("severity")).toString(), QStringLiteral("high"));
        QVERIFY2(flood->value(QLatin1String("subject"))
                     .toString()
                     .endsWith(QLatin1Char(':') + floodPort),
                 qPrintable(flood->value(QLatin1String("subject")).toString()));
        QCOMPARE(exitCode, 3); // a high-severity alert fired
    } else {
        QCOMPARE(exitCode, 0);
    }
    // Nothing here resends, handshakes slowly, piles up TIME_WAIT or is refused on one port.
    for (const char *quiet :
         {"retransmit_spike", "handshake_slow", "time_wait_buildup", "refused_burst"})
        QVERIFY2(!kinds.contains(QLatin1String(quiet)), quiet);

    // The capture stored its alerts in the file: info lists them.
    QProcess info;
    info.start(m_tcpscope, {QStringLiteral("info"), QStringLiteral("--json"), file});
    QVERIFY(info.waitForFinished(60000));
    QCOMPARE(info.exitCode(), 0);
    const QJsonObject infoJson = QJsonDocument::fromJson(info.readAllStandardOutput()).object();
    QVector<QJsonObject> stored;
    for (const auto &v : infoJson.value(QLatin1String("alerts")).toArray())
        stored.append(v.toObject());
    QCOMPARE(kindsOf(stored), kinds);
    QCOMPARE(stored.first().value(QLatin1String("summary")),
             alerts.first().value(QLatin1String("summary")));

    // The file replays to the same alerts.
    QProcess replay;
    replay.start(m_tcpscope,
                 {QStringLiteral("watch"), QStringLiteral("--json"), QStringLiteral("-r"), file});
    QVERIFY(replay.waitForFinished(60000));
    QCOMPARE(replay.exitCode(), exitCode);
    const QVector<QJsonObject> replayed = parseLines(replay.readAllStandardOutput());
    QCOMPARE(kindsOf(replayed), kinds);
    for (int i = 0; i < replayed.size(); ++i) {
        QCOMPARE(replayed.at(i).value(QLatin1String("subject")),
                 alerts.at(i).value(QLatin1String("subject")));
        // Records of nearly the same time may be looked at in another order when the file is
        // replayed in slices: the threshold can be crossed a record earlier or later.
        const auto ms = [](const QJsonObject &a) {
            return QDateTime::fromString(a.value(QLatin1String("time")).toString(),
                                         Qt::ISODateWithMs)
                .toMSecsSinceEpoch();
        };
        QVERIFY2(qAbs(ms(replayed.at(i)) - ms(alerts.at(i))) <= 50,
                 qPrintable(replayed.at(i).value(QLatin1String("time")).toString()));
    }
}

void TestWatch::quietOnNormalTraffic()
{
    // iperf3 (3 s), curl (200 fetches) and 3000 short connections at 1000/s. (iperf3 paces its
    // reads; a sink that reads 64 KiB at a time behind an unthrottled sender makes the loopback
    // receive queue overflow and the kernel really resend: that is lossy, not normal.)
    const QString iperf = QStandardPaths::findExecutable(QStringLiteral("iperf3"));
    if (iperf.isEmpty())
        QSKIP("IPERF3 MISSING: packaging/deps.sh --with-test-tools installs it; no normal "
              "traffic to check");
    QProcess watch;
    startWatch(watch, {});
    {
        QProcess server;
        server.start(iperf, {QStringLiteral("-s"), QStringLiteral("-1"), QStringLiteral("-p"),
                             QStringLiteral("5299")});
        QVERIFY(server.waitForStarted());
        QTest::qWait(500);
        QProcess client;
        client.start(iperf,
                     {QStringLiteral("-c"), QStringLiteral("127.0.0.1"), QStringLiteral("-p"),
                      QStringLiteral("5299"), QStringLiteral("-t"), QStringLiteral("3")});
        QVERIFY(client.waitForFinished(20000));
        QCOMPARE(client.exitCode(), 0);
        QVERIFY(server.waitForFinished(10000));
    }
    // curl fetching a page 200 times from a local HTTP server, when curl is installed.
    const QString curl = QStandardPaths::findExecutable(QStringLiteral("curl"));
    if (!curl.isEmpty()) {
        QProcess http;
        http.start(m_traffic, {QStringLiteral("http"), QStringLiteral("4"), QStringLiteral("200")});
        QVERIFY(http.waitForReadyRead(5000));
        const QString url = QStringLiteral("http://127.0.0.1:%1/")
                                .arg(QString::fromUtf8(http.readAllStandardOutput())
                                         .section(QLatin1Char(' '), 1)
                                         .trimmed());
        for (int i = 0; i < 200; ++i) {
            QProcess get;
            get.start(curl, {QStringLiteral("-s"), QStringLiteral("-o"),
                             QStringLiteral("/dev/null"), url});
            QVERIFY(get.waitForFinished(10000));
            QCOMPARE(get.exitCode(), 0);
        }
        QVERIFY(http.waitForFinished(10000));
    } else {
        qWarning("SKIPPED PART: curl is not installed: no curl churn checked");
    }
    QProcess churn;
    churn.start(m_traffic, {QStringLiteral("churn"), QStringLiteral("4"), QStringLiteral("3000"),
                            QStringLiteral("1000")});
    QVERIFY(churn.waitForReadyRead(5000));
    churn.write("go\n");
    QVERIFY(churn.waitForFinished(30000));
    QCOMPARE(churn.exitCode(), 0);
    QTest::qWait(2000);
    int exitCode = -1;
    const QVector<QJsonObject> alerts = stopWatch(watch, &exitCode);
    QStringList summaries;
    for (const QJsonObject &a : alerts)
        summaries.append(a.value(QLatin1String("kind")).toString() + QStringLiteral(": ") +
                         a.value(QLatin1String("summary")).toString());
    QVERIFY2(alerts.isEmpty(), qPrintable(summaries.join(QStringLiteral("; "))));
    QCOMPARE(exitCode, 0);
}

void TestWatch::lossyTransfer()
{
    // 5 % of the data segments to a receiver dropped by nftables: the sender resends them.
    if (!tcpscope::test::NftDropRule::available())
        QSKIP("NFT UNAVAILABLE: nft is not installed or usable; no induced loss");
    tcpscope::test::NftDropRule::removeStale();
    QProcess watch;
    startWatch(watch, {});
    QProcess sink;
    sink.start(m_traffic, {QStringLiteral("sink"), QStringLiteral("4")});
    QVERIFY(sink.waitForReadyRead(5000));
    const QString port =
        QString::fromUtf8(sink.readAllStandardOutput()).section(QLatin1Char(' '), 1).trimmed();
    tcpscope::test::NftDropRule rule;
    QString error;
    // Only segments that carry data: a dropped SYN would make the handshake slow, which
    // handshake_slow would rightly report.
    QVERIFY2(
        rule.installMatch(
            QStringLiteral("tcp dport %1 meta length > 200 numgen random mod 100 < 5").arg(port),
            &error),
        qPrintable(error));
    traffic({QStringLiteral("stream"), QStringLiteral("4"), port, QStringLiteral("2000")});
    QVERIFY(sink.waitForFinished(20000));
    qInfo("nft dropped %lld packets", rule.dropped());
    rule.remove();
    QTest::qWait(2000);
    int exitCode = -1;
    const QVector<QJsonObject> alerts = stopWatch(watch, &exitCode);
    const QStringList kinds = kindsOf(alerts);
    QVERIFY2(kinds.contains(QStringLiteral("retransmit_spike")), qPrintable(kinds.join(' ')));
    for (const QJsonObject &a : alerts) {
        QCOMPARE(a.value(QLatin1String("kind")).toString(), QStringLiteral("retransmit_spike"));
        const QString remote = a.value(QLatin1String("remote")).toString();
        QVERIFY2(remote == QStringLiteral("127.0.0.1") ||
                     remote == QStringLiteral("127.0.0.1:%1").arg(port),
                 qPrintable(remote));
    }
    QCOMPARE(exitCode, 0);
}

void TestWatch::synFloodKernelEvidence()
{
    // Half-opens that stay open: hping3's SYNs are answered with SYN-ACKs, and the RSTs that
    // hping3's kernel sends back are dropped by nftables. A listener with a small backlog
    // fills its SYN queue and answers with SYN cookies; one with a large backlog queues every
    // half-open and resends its SYN-ACK a second later. Too few SYNs for the SYN count alone.
    const QString hping = QStandardPaths::findExecutable(QStringLiteral("hping3"));
    if (hping.isEmpty())
        QSKIP("HPING3 UNAVAILABLE: packaging/deps.sh --with-test-tools installs it");
    if (!tcpscope::test::NftDropRule::available())
        QSKIP("NFT UNAVAILABLE: nft is not installed or usable; RSTs cannot be dropped");
    tcpscope::test::NftDropRule::removeStale();
    QProcess watch;
    startWatch(watch, {});
    auto flood = [&](const QString &backlog, QString *port) {
        QProcess sink;
        sink.start(m_traffic, {QStringLiteral("sink"), QStringLiteral("4"), backlog});
        QVERIFY(sink.waitForReadyRead(5000));
        *port =
            QString::fromUtf8(sink.readAllStandardOutput()).section(QLatin1Char(' '), 1).trimmed();
        tcpscope::test::NftDropRule rule;
        QString error;
        QVERIFY2(rule.installMatch(QStringLiteral("tcp dport %1 tcp flags & rst == rst").arg(*port),
                                   &error),
                 qPrintable(error));
        QProcess syns;
        syns.start(hping, {QStringLiteral("-S"), QStringLiteral("-p"), *port, QStringLiteral("-i"),
                           QStringLiteral("u10000"), QStringLiteral("-c"), QStringLiteral("60"),
                           QStringLiteral("-q"), QStringLiteral("127.0.0.1")});
        QVERIFY(syns.waitForFinished(20000));
        QTest::qWait(1500); // the first SYN-ACK resends, one second after each SYN
        qInfo("backlog %s: nft dropped %lld RSTs", qPrintable(backlog), rule.dropped());
        rule.remove();
        sink.kill();
        sink.waitForFinished();
    };
    QString cookiePort, resendPort;
    flood(QStringLiteral("4"), &cookiePort);
    if (QTest::currentTestFailed())
        return;
    flood(QStringLiteral("128"), &resendPort);
    if (QTest::currentTestFailed())
        return;
    QTest::qWait(3500); // resends of half-opens never accepted are the listener's after 2 s
    int exitCode = -1;
    const QVector<QJsonObject> alerts = stopWatch(watch, &exitCode);
    auto floodOn = [&](const QString &port) -> QString {
        for (const QJsonObject &a : alerts)
            if (a.value(QLatin1String("kind")).toString() == QLatin1String("syn_flood") &&
                a.value(QLatin1String("subject")).toString().endsWith(QLatin1Char(':') + port))
                return a.value(QLatin1String("summary")).toString();
        return QString();
    };
    QStringList all;
    for (const QJsonObject &a : alerts)
        all.append(a.value(QLatin1String("summary")).toString());
    qInfo("alerts: %s", qPrintable(all.join(QStringLiteral("; "))));
    const QString cookies = floodOn(cookiePort);
    QVERIFY2(cookies.contains(QLatin1String("SYN cookies sent")), qPrintable(all.join("; ")));
    QVERIFY2(cookies.contains(QLatin1String("0 handshakes completed")), qPrintable(cookies));
    const QString resends = floodOn(resendPort);
    QVERIFY2(resends.contains(QLatin1String("SYN-ACKs resent to half-open connections")),
             qPrintable(all.join("; ")));
    QVERIFY2(!resends.contains(QLatin1String("SYN cookies")), qPrintable(resends));
    QCOMPARE(exitCode, 3);
}

void TestWatch::rulesAndExec()
{
    // A custom counted rule and --exec: each alert's JSON reaches the command.
    const QString rules = m_dir.filePath(QStringLiteral("site.rules"));
    QFile f(rules);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("# refused connections to one port, counted per port\n"
            "alert refusals severity=low when count(conn.close_reason == \"refused\") by "
            "conn.remote_port >= 5 over 2s\n"
            "disable port_scan\n");
    f.close();
    const QString log = m_dir.filePath(QStringLiteral("exec.log"));
    QProcess watch;
    startWatch(watch, {QStringLiteral("--rules"), rules, QStringLiteral("--exec"),
                       QStringLiteral("printf '%s\\n' \"$TCPSCOPE_ALERT\" >> '%1'").arg(log)});
    for (int i = 0; i < 6; ++i)
        traffic({QStringLiteral("refused"), QStringLiteral("4"), QStringLiteral("20999")});
    QTest::qWait(2500);
    int exitCode = -1;
    const QVector<QJsonObject> alerts = stopWatch(watch, &exitCode);
    QCOMPARE(exitCode, 0);
    const QJsonObject *rule = find(alerts, QStringLiteral("refusals"));
    QVERIFY2(rule, qPrintable(kindsOf(alerts).join(QLatin1Char(' '))));
    QVERIFY(rule->value(QLatin1String("custom")).toBool());
    QCOMPARE(rule->value(QLatin1String("subject")).toString(),
             QStringLiteral("conn.remote_port == 20999"));
    QVERIFY(!kindsOf(alerts).contains(QStringLiteral("port_scan")));
    QFile logFile(log);
    QVERIFY(logFile.open(QIODevice::ReadOnly));
    const QVector<QJsonObject> ran = parseLines(logFile.readAll());
    QCOMPARE(kindsOf(ran), kindsOf(alerts));
}

void TestWatch::triggeredCapture()
{
    // A full capture and a triggered one (kind:port_scan, 1 s before and after) of the same
    // traffic: a bulk transfer all along and a port scan in the middle. The triggered file keeps
    // the packets of its window only, as many as the full capture holds for that window.
    const QString full = m_dir.filePath(QStringLiteral("full.tcpscope"));
    const QString trig = m_dir.filePath(QStringLiteral("trig.tcpscope"));
    QProcess fullRec, trigRec;
    fullRec.start(m_tcpscope, {QStringLiteral("record"), QStringLiteral("-q"), QStringLiteral("-o"),
                               full, QStringLiteral("--duration"), QStringLiteral("11")});
    trigRec.start(m_tcpscope,
                  {QStringLiteral("record"), QStringLiteral("-q"), QStringLiteral("-o"), trig,
                   QStringLiteral("--duration"), QStringLiteral("11"), QStringLiteral("--trigger"),
                   QStringLiteral("kind:port_scan"), QStringLiteral("--pre"), QStringLiteral("1"),
                   QStringLiteral("--post"), QStringLiteral("1")});
    QVERIFY(fullRec.waitForStarted() && trigRec.waitForStarted());
    QTest::qWait(3000); // both attached
    QProcess sink;
    sink.start(m_traffic, {QStringLiteral("sink"), QStringLiteral("4")});
    QVERIFY(sink.waitForReadyRead(5000));
    const QString port =
        QString::fromUtf8(sink.readAllStandardOutput()).section(QLatin1Char(' '), 1).trimmed();
    QProcess stream;
    stream.start(m_traffic,
                 {QStringLiteral("stream"), QStringLiteral("4"), port, QStringLiteral("6000")});
    QTest::qWait(3000);
    QVERIFY(traffic({QStringLiteral("scan"), QStringLiteral("4"), QStringLiteral("20000"),
                     QStringLiteral("50")})
                .contains(QLatin1String("refused 50")));
    QVERIFY(stream.waitForFinished(15000));
    QVERIFY(sink.waitForFinished(15000));
    QVERIFY(fullRec.waitForFinished(30000) && trigRec.waitForFinished(30000));
    QCOMPARE(fullRec.exitCode(), 0);
    QCOMPARE(trigRec.exitCode(), 0);
    const QString summary = QString::fromUtf8(trigRec.readAllStandardOutput());
    qInfo("%s", qPrintable(summary));
    QVERIFY(summary.contains(QLatin1String("trigger 'kind:port_scan': 1 window kept")));

    QString error;
    auto f = tcpscope::Session::open(full, &error);
    QVERIFY2(f, qPrintable(error));
    auto t = tcpscope::Session::open(trig, &error);
    QVERIFY2(t, qPrintable(error));
    if (f->info().lostRecords > 0 || t->info().lostRecords > 0)
        QSKIP("LOST RECORDS: a capture lost records on this loaded machine; the counts cannot "
              "be compared");
    const auto windows = t->info().keptWindows;
    QCOMPARE(windows.size(), 1);
    const qint64 start = windows.first().startNs, end = windows.first().endNs;
    // 1 s before and after the scan's alert, longer when a repeat of it extended the window.
    QVERIFY(end - start >= 2'000'000'000 && end - start < 4'000'000'000);
    QVERIFY(windows.first().triggers.first().startsWith(QLatin1String("port_scan 127.0.0.1")));
    // Two captures stamp each packet with their own clock reading: compare with 10 ms slack.
    constexpr qint64 kSlack = 10'000'000;
    qint64 kept = 0, outside = 0;
    t->forEachPacket(-1, [&](const tcpscope::Packet &p) {
        ++kept;
        if (p.timeNs < start - kSlack || p.timeNs > end + kSlack)
            ++outside;
        return true;
    });
    qint64 inner = 0, outer = 0, total = 0;
    f->forEachPacket(-1, [&](const tcpscope::Packet &p) {
        ++total;
        if (p.timeNs >= start + kSlack && p.timeNs <= end - kSlack)
            ++inner;
        if (p.timeNs >= start - kSlack && p.timeNs <= end + kSlack)
            ++outer;
        return true;
    });
    qInfo("triggered file: %lld packets; full capture: %lld in the window (%lld..%lld with "
          "slack), %lld in all",
          kept, inner, inner, outer, total);
    QCOMPARE(outside, 0);
    QVERIFY(kept > 1000); // the bulk transfer ran through the window
    QVERIFY2(kept >= inner && kept <= outer, "the kept packets differ from the full capture's");
    QVERIFY(total > 2 * kept); // and the rest was not kept
    // The lifecycles are complete in both.
    QCOMPARE(t->connectionCount(), f->connectionCount());
}

QTEST_GUILESS_MAIN(TestWatch)
#include "test_watch.moc"
