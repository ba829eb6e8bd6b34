// SPDX-License-Identifier: GPL-3.0-or-later
// Two hosts and a router, on the real kernel: three network namespaces stand in for host A, a
// router and host B (veth pairs, A and B route through the router). Each host is recorded by
// its own `tcpscope record` running inside its namespace with its own host name (a UTS
// namespace) and a namespace capture filter: the tracepoints are global, so without the filter
// each recorder would also keep the other host's sockets. Host B's recorder runs in a time
// namespace whose monotonic clock is 5 s behind, so its timestamps are 5 s late, as a host whose
// clock is off would be. Clients on A talk to a server on B through the router, where nftables
// drops a few of A's data segments.
//
// `tcpscope merge` then puts both files on one time axis, once aligning on the paired
// handshakes and once with the offset given by hand (--offset host-b=-5000). In both, every
// connection of the test is paired with its other end on the other host, with one-way delays
// of at least 0 both ways, and each segment the router dropped shows as sent by A and never
// received by B. Everything made (namespaces, the router's table with them) is removed.
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <unistd.h>

namespace {

constexpr int kClients = 12;
constexpr qint64 kSkewMs = 5000; // host B's clock is this much behind; its times this much late

struct Run
{
    int exitCode = -1;
    QString out; // stdout
    QString err; // stderr
};

Run run(const QString &program, const QStringList &args, int timeoutMs = 60000)
{
    QProcess p;
    p.start(program, args);
    Run r;
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished();
        r.err = QStringLiteral("timed out: %1 %2").arg(program, args.join(QLatin1Char(' ')));
        return r;
    }
    r.out = QString::fromUtf8(p.readAllStandardOutput());
    r.err = QString::fromUtf8(p.readAllStandardError());
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    return r;
}

QJsonArray jsonArray(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return QJsonDocument::fromJson(f.readAll()).array();
}

qint64 median(QVector<qint64> v)
{
    if (v.isEmpty())
        return -1;
    std::sort(v.begin(), v.end());
    return v.at(v.size() / 2);
}

} // namespace

class TestTwoHosts : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void cleanupTestCase();
    void recordBothEnds();
    void mergeOnHandshakes();
    void mergeWithGivenOffset();

private:
    bool ip(const QStringList &args);
    QProcess *startRecorder(const QString &ns, const QString &host, const QString &file,
                            const QStringList &timeNs);
    // Merges the two recordings into `out`, checks hosts, pairs, delays and the router's drops.
    void checkMerged(const QString &out, const QStringList &extraArgs, const QString &method);

    QString m_tcpscope, m_traffic, m_suffix, m_a, m_r, m_b, m_hostA, m_hostB, m_fileA, m_fileB;
    QStringList m_made;
    QTemporaryDir m_dir;
    qint64 m_routerDrops = -1;
};

bool TestTwoHosts::ip(const QStringList &args)
{
    const Run r = run(QStringLiteral("ip"), args);
    if (r.exitCode != 0)
        qWarning("ip %s: %s", qPrintable(args.join(QLatin1Char(' '))), qPrintable(r.err));
    return r.exitCode == 0;
}

void TestTwoHosts::initTestCase()
{
    if (geteuid() != 0)
        QSKIP("NOT ROOT: network namespaces, nftables and recording need root");
    for (const char *tool : {"ip", "nft", "unshare"}) {
        if (QStandardPaths::findExecutable(QLatin1String(tool)).isEmpty())
            QSKIP(qPrintable(QStringLiteral("NO %1: install iproute2, nftables and util-linux "
                                            "(packaging/deps.sh --with-test-tools)")
                                 .arg(QLatin1String(tool))));
    }
    if (run(QStringLiteral("unshare"),
            {QStringLiteral("--fork"), QStringLiteral("--time"), QStringLiteral("--monotonic"),
             QStringLiteral("-1"), QStringLiteral("true")})
            .exitCode != 0)
        QSKIP("NO TIME NAMESPACE: this kernel cannot give host B its own clock");
    m_tcpscope = qEnvironmentVariable("TCPSCOPE_BIN");
    m_traffic = qEnvironmentVariable("TS_TRAFFIC");
    QVERIFY2(QFileInfo(m_tcpscope).isExecutable(), "TCPSCOPE_BIN not set: run through ctest");
    QVERIFY2(QFileInfo(m_traffic).isExecutable(), "TS_TRAFFIC not set: run through ctest");
    QVERIFY(m_dir.isValid());

    m_suffix = QString::number(getpid());
    m_a = QStringLiteral("tsa-") + m_suffix;
    m_r = QStringLiteral("tsr-") + m_suffix;
    m_b = QStringLiteral("tsb-") + m_suffix;
    m_hostA = QStringLiteral("host-a");
    m_hostB = QStringLiteral("host-b");
    for (const QString &ns : {m_a, m_r, m_b}) {
        QVERIFY(ip({QStringLiteral("netns"), QStringLiteral("add"), ns}));
        m_made.append(ns);
        QVERIFY(ip({QStringLiteral("-n"), ns, QStringLiteral("link"), QStringLiteral("set"),
                    QStringLiteral("lo"), QStringLiteral("up")}));
    }
    const QString va = QStringLiteral("va-") + m_suffix, ra = QStringLiteral("ra-") + m_suffix;
    const QString vb = QStringLiteral("vb-") + m_suffix, rb = QStringLiteral("rb-") + m_suffix;
    QVERIFY(ip({QStringLiteral("link"), QStringLiteral("add"), va, QStringLiteral("netns"), m_a,
                QStringLiteral("type"), QStringLiteral("veth"), QStringLiteral("peer"),
                QStringLiteral("name"), ra, QStringLiteral("netns"), m_r}));
    QVERIFY(ip({QStringLiteral("link"), QStringLiteral("add"), vb, QStringLiteral("netns"), m_b,
                QStringLiteral("type"), QStringLiteral("veth"), QStringLiteral("peer"),
                QStringLiteral("name"), rb, QStringLiteral("netns"), m_r}));
    const struct
    {
        QString ns, dev, addr;
    } links[] = {{m_a, va, QStringLiteral("10.213.1.1/24")},
                 {m_r, ra, QStringLiteral("10.213.1.254/24")},
                 {m_r, rb, QStringLiteral("10.213.2.254/24")},
                 {m_b, vb, QStringLiteral("10.213.2.1/24")}};
    for (const auto &l : links) {
        QVERIFY(ip({QStringLiteral("-n"), l.ns, QStringLiteral("addr"), QStringLiteral("add"),
                    l.addr, QStringLiteral("dev"), l.dev}));
        QVERIFY(ip({QStringLiteral("-n"), l.ns, QStringLiteral("link"), QStringLiteral("set"),
                    l.dev, QStringLiteral("up")}));
    }
    QVERIFY(ip({QStringLiteral("-n"), m_a, QStringLiteral("route"), QStringLiteral("add"),
                QStringLiteral("default"), QStringLiteral("via"), QStringLiteral("10.213.1.254")}));
    QVERIFY(ip({QStringLiteral("-n"), m_b, QStringLiteral("route"), QStringLiteral("add"),
                QStringLiteral("default"), QStringLiteral("via"), QStringLiteral("10.213.2.254")}));
    QCOMPARE(run(QStringLiteral("ip"),
                 {QStringLiteral("netns"), QStringLiteral("exec"), m_r, QStringLiteral("sysctl"),
                  QStringLiteral("-qw"), QStringLiteral("net.ipv4.ip_forward=1")})
                 .exitCode,
             0);
    // The router drops about one in twelve of A's data segments to B, and counts them.
    const QString rules =
        QStringLiteral("table inet tsloss { chain tsfwd { type filter hook forward priority 0; "
                       "ip saddr 10.213.1.1 ip daddr 10.213.2.1 meta l4proto tcp "
                       "meta length > 200 numgen random mod 12 == 0 counter drop; }; }");
    const Run nft = run(QStringLiteral("ip"), {QStringLiteral("netns"), QStringLiteral("exec"), m_r,
                                               QStringLiteral("nft"), rules});
    QVERIFY2(nft.exitCode == 0, qPrintable(nft.err));
}

void TestTwoHosts::cleanupTestCase()
{
    // A namespace takes its veth ends, addresses, routes and nftables table with it.
    for (const QString &ns : std::as_const(m_made))
        ip({QStringLiteral("netns"), QStringLiteral("del"), ns});
}

QProcess *TestTwoHosts::startRecorder(const QString &ns, const QString &host, const QString &file,
                                      const QStringList &timeNs)
{
    auto *p = new QProcess(this);
    p->setProcessChannelMode(QProcess::ForwardedErrorChannel);
    // ip netns exec NS unshare --uts [--fork --time --monotonic -S] sh -c 'hostname H; exec
    // tcpscope record ...': the recorder and its helper run in the namespace, with the name H.
    QStringList args{QStringLiteral("netns"), QStringLiteral("exec"), ns, QStringLiteral("unshare"),
                     QStringLiteral("--uts")};
    args += timeNs;
    args += {QStringLiteral("sh"),
             QStringLiteral("-c"),
             QStringLiteral("hostname \"$0\" && exec \"$1\" record -o \"$2\" --duration 12 "
                            "--filter \"netns $3\""),
             host,
             m_tcpscope,
             file,
             ns};
    p->start(QStringLiteral("ip"), args);
    return p;
}

void TestTwoHosts::recordBothEnds()
{
    m_fileA = m_dir.filePath(QStringLiteral("a.tcpscope"));
    m_fileB = m_dir.filePath(QStringLiteral("b.tcpscope"));
    QProcess *recA = startRecorder(m_a, m_hostA, m_fileA, {});
    QProcess *recB =
        startRecorder(m_b, m_hostB, m_fileB,
                      {QStringLiteral("--fork"), QStringLiteral("--time"),
                       QStringLiteral("--monotonic"), QString::number(-kSkewMs / 1000)});
    QVERIFY(recA->waitForStarted());
    QVERIFY(recB->waitForStarted());
    QTest::qWait(3000); // both attached

    QProcess server;
    server.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("TS_TRAFFIC_ADDR"), QStringLiteral("10.213.2.1"));
    server.setProcessEnvironment(env);
    server.start(QStringLiteral("ip"),
                 {QStringLiteral("netns"), QStringLiteral("exec"), m_b, m_traffic,
                  QStringLiteral("serve"), QStringLiteral("4"), QString::number(kClients),
                  QStringLiteral("30000"), QStringLiteral("200000")});
    QVERIFY(server.waitForReadyRead(10000));
    const QString port = QString::fromLatin1(server.readLine()).simplified().section(' ', 1);
    QVERIFY2(port.toInt() > 0, qPrintable(port));
    QProcess clients;
    clients.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    clients.setProcessEnvironment(env);
    clients.start(QStringLiteral("ip"),
                  {QStringLiteral("netns"), QStringLiteral("exec"), m_a, m_traffic,
                   QStringLiteral("clients"), QStringLiteral("4"), port, QString::number(kClients),
                   QStringLiteral("200000"), QStringLiteral("30000")});
    QVERIFY(clients.waitForFinished(60000));
    QCOMPARE(clients.exitCode(), 0);
    QVERIFY(server.waitForFinished(10000));
    QCOMPARE(server.exitCode(), 0);

    QVERIFY(recA->waitForFinished(60000));
    QVERIFY(recB->waitForFinished(60000));
    QCOMPARE(recA->exitCode(), 0);
    QCOMPARE(recB->exitCode(), 0);

    // What the router dropped: `counter packets N bytes M drop`.
    const Run list = run(QStringLiteral("ip"),
                         {QStringLiteral("netns"), QStringLiteral("exec"), m_r,
                          QStringLiteral("nft"), QStringLiteral("list"), QStringLiteral("table"),
                          QStringLiteral("inet"), QStringLiteral("tsloss")});
    const QRegularExpressionMatch m =
        QRegularExpression(QStringLiteral("counter packets (\\d+)")).match(list.out);
    QVERIFY2(m.hasMatch(), qPrintable(list.out));
    m_routerDrops = m.captured(1).toLongLong();
    qInfo("the router dropped %lld of A's data segments", m_routerDrops);
    QVERIFY2(m_routerDrops > 0, "nftables dropped nothing: no loss to find");

    // Each file holds its own host's end only: the namespace filter kept the other host out.
    for (const auto &[file, comm] : {std::pair{m_fileA, QStringLiteral("ts_server")},
                                     std::pair{m_fileB, QStringLiteral("ts_client")}}) {
        const Run r =
            run(m_tcpscope, {QStringLiteral("export"), file, QStringLiteral("--connections"),
                             QStringLiteral("-"), QStringLiteral("-Y"),
                             QStringLiteral("proc.name == \"%1\"").arg(comm)});
        QCOMPARE(r.exitCode, 0);
        QCOMPARE(r.out.count(QLatin1Char('\n')), 1); // the header only
    }
}

void TestTwoHosts::checkMerged(const QString &out, const QStringList &extraArgs,
                               const QString &method)
{
    QVERIFY2(!m_fileA.isEmpty() && QFileInfo::exists(m_fileB), "recordBothEnds did not run");
    const Run merge = run(m_tcpscope, QStringList{QStringLiteral("merge"), m_fileA, m_fileB,
                                                  QStringLiteral("-o"), out} +
                                          extraArgs);
    qInfo("%s", qPrintable(merge.out + merge.err));
    QVERIFY2(merge.exitCode == 0, qPrintable(merge.err));

    // Both hosts, B with its offset found or given.
    const Run info = run(m_tcpscope, {QStringLiteral("info"), out, QStringLiteral("--json")});
    QCOMPARE(info.exitCode, 0);
    const QJsonArray hosts =
        QJsonDocument::fromJson(info.out.toUtf8()).object().value(QLatin1String("hosts")).toArray();
    QCOMPARE(hosts.size(), 2);
    QHash<QString, QJsonObject> byName;
    for (const auto &h : hosts)
        byName.insert(h.toObject().value(QLatin1String("name")).toString(), h.toObject());
    QVERIFY2(byName.contains(m_hostA) && byName.contains(m_hostB), qPrintable(info.out));
    const QJsonObject b = byName.value(m_hostB);
    QCOMPARE(b.value(QLatin1String("offset_method")).toString(), method);
    const double offsetMs = b.value(QLatin1String("clock_offset_ns")).toDouble() / 1e6;
    const double errorMs = b.value(QLatin1String("offset_error_ns")).toDouble() / 1e6;
    qInfo("host-b offset %.3f ms ± %s (%s)", offsetMs,
          qPrintable(errorMs < 0 ? QStringLiteral("unknown")
                                 : QStringLiteral("%1 ms").arg(errorMs, 0, 'f', 3)),
          qPrintable(method));
    QVERIFY2(qAbs(offsetMs + kSkewMs) < 2.0, "host B's offset is not the injected skew");

    // Every test connection is paired with its other end, on the other host.
    const QString conns = m_dir.filePath(QStringLiteral("conns.json"));
    QCOMPARE(
        run(m_tcpscope, {QStringLiteral("export"), out, QStringLiteral("--connections"), conns})
            .exitCode,
        0);
    QHash<qint64, QJsonObject> byId;
    for (const auto &v : jsonArray(conns))
        byId.insert(v.toObject().value(QLatin1String("id")).toInteger(), v.toObject());
    int clients = 0, servers = 0;
    QHash<qint64, QString> sideOf; // connection id -> "client" / "server" of the test
    for (const QJsonObject &c : std::as_const(byId)) {
        const QString comm = c.value(QLatin1String("comm")).toString();
        const QString role = c.value(QLatin1String("role")).toString();
        if (!((comm == QLatin1String("ts_client") && role == QLatin1String("client")) ||
              (comm == QLatin1String("ts_server") && role == QLatin1String("server"))))
            continue;
        const bool client = role == QLatin1String("client");
        (client ? clients : servers)++;
        sideOf.insert(c.value(QLatin1String("id")).toInteger(), role);
        QCOMPARE(c.value(QLatin1String("host")).toString(), client ? m_hostA : m_hostB);
        const qint64 peer = c.value(QLatin1String("peer")).toInteger();
        QVERIFY2(peer > 0, qPrintable(QStringLiteral("connection %1 (%2) has no peer")
                                          .arg(c.value(QLatin1String("id")).toInteger())
                                          .arg(role)));
        QCOMPARE(byId.value(peer).value(QLatin1String("host")).toString(),
                 client ? m_hostB : m_hostA);
        QCOMPARE(byId.value(peer).value(QLatin1String("peer")).toInteger(),
                 c.value(QLatin1String("id")).toInteger());
    }
    QCOMPARE(clients, kClients);
    QCOMPARE(servers, kClients);

    // One-way delays at least 0 both ways; what the router dropped was sent by A, never
    // received by B.
    const QString packets = m_dir.filePath(QStringLiteral("packets.json"));
    QCOMPARE(run(m_tcpscope, {QStringLiteral("export"), out, QStringLiteral("--packets"), packets},
                 120000)
                 .exitCode,
             0);
    QHash<QString, QVector<qint64>> delays; // "client" / "server" (the sender's side)
    qint64 lostFromClients = 0, lostFromServers = 0, negative = 0;
    for (const auto &v : jsonArray(packets)) {
        const QJsonObject p = v.toObject();
        const QString side = sideOf.value(p.value(QLatin1String("connection_id")).toInteger());
        if (side.isEmpty() ||
            p.value(QLatin1String("direction")).toString() != QLatin1String("out"))
            continue;
        if (p.value(QLatin1String("peer_lost")).toInt() == 1) {
            (side == QLatin1String("client") ? lostFromClients : lostFromServers)++;
            continue;
        }
        const QJsonValue d = p.value(QLatin1String("peer_delay_ns"));
        if (d.isNull() || d.isUndefined())
            continue;
        delays[side].append(d.toInteger());
        if (d.toInteger() < 0)
            ++negative;
    }
    qInfo("one-way delay median A->B %lld us, B->A %lld us over %lld/%lld segments; "
          "%lld negative; sent, not received: %lld from A, %lld from B",
          median(delays.value(QStringLiteral("client"))) / 1000,
          median(delays.value(QStringLiteral("server"))) / 1000,
          qint64(delays.value(QStringLiteral("client")).size()),
          qint64(delays.value(QStringLiteral("server")).size()), negative, lostFromClients,
          lostFromServers);
    QVERIFY(delays.value(QStringLiteral("client")).size() >= kClients);
    QVERIFY(delays.value(QStringLiteral("server")).size() >= kClients);
    QCOMPARE(negative, 0);
    QCOMPARE(lostFromServers, 0);
    QCOMPARE(lostFromClients, m_routerDrops);
}

void TestTwoHosts::mergeOnHandshakes()
{
    checkMerged(m_dir.filePath(QStringLiteral("handshakes.tcpscope")), {},
                QStringLiteral("handshakes"));
}

void TestTwoHosts::mergeWithGivenOffset()
{
    checkMerged(m_dir.filePath(QStringLiteral("given.tcpscope")),
                {QStringLiteral("--offset"), QStringLiteral("%1=%2").arg(m_hostB).arg(-kSkewMs)},
                QStringLiteral("user"));
}

QTEST_GUILESS_MAIN(TestTwoHosts)
#include "test_two_hosts.moc"
