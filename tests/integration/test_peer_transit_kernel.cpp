// SPDX-License-Identifier: GPL-3.0-or-later
// Both ends of loopback connections on the real kernel: `tcpscope record` captures a client and
// a server on lo while a classic-BPF TC filter on lo's egress drops about one in eight of the
// server's data segments, after tcpscope's own (tcx) program has seen them leave: each dropped
// segment is sent by the server and never received by the client, as a segment lost in the
// network between two capture points would be. The session pairs the two sockets, matches every
// packet of the exchange with its other copy (one-way delays of a few µs), and calls exactly the
// dropped segments "sent, not received" (the clsact qdisc's drop count); the packet export and
// the peer.lost display filter say the same. The qdisc is removed whatever happens.
#include "analysis/peer_transit.h"
#include "analysis/peers.h"
#include "helper_session.h"
#include "session/session.h"

#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QMultiHash>
#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <unistd.h>

using namespace tcpscope;

namespace {

QString runTool(const QString &program, const QStringList &args, int *exitCode = nullptr)
{
    QProcess p;
    p.start(program, args);
    p.waitForFinished(60000);
    if (exitCode)
        *exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    return QString::fromLocal8Bit(p.readAllStandardOutput() + p.readAllStandardError());
}

// tc's "N,code jt jf k,..." for a classic BPF program in direct-action mode on lo (an Ethernet
// header of zeros): TC_ACT_SHOT (2) for one in eight (a random draw) IPv4 TCP packets from
// `port` longer than 300 bytes, else TC_ACT_UNSPEC (-1: continue).
QString dropProgram(quint16 port)
{
    const QStringList insns = {
        QStringLiteral("32 0 0 4294963256"),   // A = random (SKF_AD_OFF + SKF_AD_RANDOM)
        QStringLiteral("84 0 0 7"),            // A &= 7
        QStringLiteral("21 1 0 0"),            // A == 0 ? go on : keep
        QStringLiteral("6 0 0 4294967295"),    // keep
        QStringLiteral("40 0 0 12"),           // ethertype
        QStringLiteral("21 0 9 2048"),         // IPv4 or keep
        QStringLiteral("48 0 0 23"),           // protocol
        QStringLiteral("21 0 7 6"),            // TCP or keep
        QStringLiteral("40 0 0 20"),           // fragment offset
        QStringLiteral("69 5 0 8191"),         // a fragment: keep
        QStringLiteral("177 0 0 14"),          // X = IP header length
        QStringLiteral("72 0 0 14"),           // source port
        QStringLiteral("21 0 2 %1").arg(port), // from the server or keep
        QStringLiteral("128 0 0 0"),           // A = packet length
        QStringLiteral("53 1 0 301"),          // > 300 ? drop : keep
        QStringLiteral("6 0 0 4294967295"),    // keep
        QStringLiteral("6 0 0 2"),             // drop
    };
    return QStringLiteral("%1,%2").arg(insns.size()).arg(insns.join(QLatin1Char(',')));
}

} // namespace

class TestPeerTransitKernel : public QObject
{
    Q_OBJECT
    QTemporaryDir m_dir;
    QString m_tcpscope, m_helper, m_traffic, m_tc;
    bool m_qdiscAdded = false;

    void removeQdisc()
    {
        if (m_qdiscAdded)
            runTool(m_tc, {QStringLiteral("qdisc"), QStringLiteral("del"), QStringLiteral("dev"),
                           QStringLiteral("lo"), QStringLiteral("clsact")});
        m_qdiscAdded = false;
    }

private slots:
    void initTestCase()
    {
        if (geteuid() != 0)
            QSKIP("NOT ROOT: tcpscope record loads BPF programs; run as root for this test");
        m_tcpscope = qEnvironmentVariable("TCPSCOPE_BIN");
        m_helper = qEnvironmentVariable("TCPSCOPE_HELPER");
        m_traffic = qEnvironmentVariable("TS_TRAFFIC");
        QVERIFY2(QFileInfo(m_tcpscope).isExecutable(), "TCPSCOPE_BIN not set: run through ctest");
        QVERIFY2(QFileInfo(m_helper).isExecutable(), "TCPSCOPE_HELPER not set: run through ctest");
        QVERIFY2(QFileInfo(m_traffic).isExecutable(), "TS_TRAFFIC not set: run through ctest");
        m_tc = QStandardPaths::findExecutable(QStringLiteral("tc"));
        if (m_tc.isEmpty())
            QSKIP("tc (iproute2) not installed");
        QVERIFY(m_dir.isValid());
    }

    void cleanupTestCase() { removeQdisc(); }

    void lossBetweenTheEndsOfALoopbackConnection()
    {
        if (runTool(m_tc, {QStringLiteral("qdisc"), QStringLiteral("show"), QStringLiteral("dev"),
                           QStringLiteral("lo")})
                .contains(QLatin1String("clsact")))
            QSKIP("lo already has a clsact qdisc (not ours): not touching it");

        const QString file = m_dir.filePath(QStringLiteral("lossy.tcpscope"));
        QProcess rec;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("TCPSCOPE_HELPER"), m_helper);
        rec.setProcessEnvironment(env);
        rec.start(m_tcpscope, {QStringLiteral("record"), QStringLiteral("-o"), file,
                               QStringLiteral("--duration"), QStringLiteral("6")});
        QVERIFY(rec.waitForStarted());
        QElapsedTimer live;
        live.start();
        for (;;) {
            QString error;
            const auto s = Session::open(file, &error);
            if (s && s->info().startedNs > 0)
                break;
            QVERIFY2(live.elapsed() < 20000, "tcpscope record did not become live within 20 s");
            QTest::qWait(100);
        }

        constexpr int kServerSends = 20'000'000, kClientSends = 100;
        QProcess server, client;
        server.start(m_traffic, {QStringLiteral("server"), QStringLiteral("4"),
                                 QString::number(kServerSends), QString::number(kClientSends)});
        QVERIFY(server.waitForStarted());
        const quint16 serverPort = quint16(tcpscope::test::readPort(server));
        QVERIFY(serverPort > 0);

        int status = -1;
        QString out =
            runTool(m_tc,
                    {QStringLiteral("qdisc"), QStringLiteral("add"), QStringLiteral("dev"),
                     QStringLiteral("lo"), QStringLiteral("clsact")},
                    &status);
        QVERIFY2(status == 0, qPrintable(out));
        m_qdiscAdded = true;
        out = runTool(m_tc,
                      {QStringLiteral("filter"), QStringLiteral("add"), QStringLiteral("dev"),
                       QStringLiteral("lo"), QStringLiteral("egress"), QStringLiteral("bpf"),
                       QStringLiteral("bytecode"), dropProgram(serverPort), QStringLiteral("da")},
                      &status);
        QVERIFY2(status == 0, qPrintable(out));

        client.start(m_traffic,
                     {QStringLiteral("client"), QStringLiteral("4"), QString::number(serverPort),
                      QString::number(kClientSends), QString::number(kServerSends)});
        QVERIFY(client.waitForStarted());
        const quint16 clientPort = quint16(tcpscope::test::readPort(client));
        QVERIFY(client.waitForFinished(30000) && client.exitCode() == 0);
        QVERIFY(server.waitForFinished(30000) && server.exitCode() == 0);

        // What the filter dropped: the clsact qdisc's drop count.
        const QString stats =
            runTool(m_tc, {QStringLiteral("-s"), QStringLiteral("qdisc"), QStringLiteral("show"),
                           QStringLiteral("dev"), QStringLiteral("lo")});
        removeQdisc();
        const QRegularExpression dropped(
            QStringLiteral("qdisc clsact[^\\n]*\\n[^\\n]*dropped (\\d+)"));
        const QRegularExpressionMatch m = dropped.match(stats);
        QVERIFY2(m.hasMatch(), qPrintable(stats));
        const quint64 drops = m.captured(1).toULongLong();
        QVERIFY2(drops > 0, qPrintable(stats));

        QVERIFY(rec.waitForFinished(30000));
        QVERIFY2(rec.exitCode() == 0, rec.readAllStandardError().constData());
        const QString recorded = QString::fromLocal8Bit(rec.readAllStandardOutput());
        QVERIFY2(recorded.contains(QLatin1String("(0 lost,")), qPrintable(recorded));

        QString error;
        const auto session = Session::open(file, &error);
        QVERIFY2(session, qPrintable(error));
        qint64 clientId = 0, serverId = 0;
        session->forEachConnection(
            [&](const Connection &c) {
                if (c.localPort == clientPort && c.remotePort == serverPort)
                    clientId = c.id;
                if (c.localPort == serverPort && c.remotePort == clientPort)
                    serverId = c.id;
                return true;
            },
            false);
        QVERIFY(clientId > 0 && serverId > 0);
        QCOMPARE(sessionPeers(*session).value(clientId), serverId);

        const PeerTransit t = sessionPeerTransit(*session, serverId, clientId);
        qInfo("server -> client: %llu sent, %llu received, %llu not received (%llu dropped), "
              "one-way %lld / %lld / %lld ns; client -> server: %llu sent, %llu not received",
              t.outbound.sent, t.outbound.received, t.outbound.lost, drops, t.outbound.minNs,
              t.outbound.medianNs, t.outbound.maxNs, t.inbound.sent, t.inbound.lost);
        QCOMPARE(t.outbound.lost, drops);
        QCOMPARE(t.outbound.received + t.outbound.lost, t.outbound.sent);
        QCOMPARE(t.inbound.lost, 0u);
        QCOMPARE(t.inbound.received, t.inbound.sent);
        QVERIFY(t.outbound.minNs >= 0 && t.outbound.maxNs < 1'000'000'000);
        QVERIFY(t.inbound.minNs >= 0 && t.inbound.maxNs < 1'000'000'000);
        // Every lost one is a data segment of the server's; every packet the client received
        // came from a send of the server.
        int lostSeen = 0;
        QMultiHash<quint32, quint32> lostSegments; // seq -> payload length
        session->forEachPacket(serverId, [&](const Packet &p) {
            if (t.mark(p.id).lost) {
                ++lostSeen;
                lostSegments.insert(p.seq, p.payloadLen);
                if (!p.isOutgoing() || p.payloadLen == 0)
                    qWarning("lost packet %lld is not a data segment sent", p.id);
            }
            return true;
        });
        QCOMPARE(quint64(lostSeen), drops);
        // The kernel said the same: one TC_EGRESS drop on the server's connection for each
        // segment lost, with its seq and length (loopback's segments are BIG TCP super-packets
        // over 64 KiB, whose IP length field is 0).
        quint64 tcDrops = 0;
        for (const DropEvent &d : session->kernelData(serverId, false).drops) {
            if (d.reasonName != QLatin1String("TC_EGRESS"))
                continue;
            ++tcDrops;
            QVERIFY2(lostSegments.contains(d.seq, d.payloadLen),
                     qPrintable(QStringLiteral("drop of seq %1 (%2 bytes) is no lost segment")
                                    .arg(d.seq)
                                    .arg(d.payloadLen)));
        }
        QCOMPARE(tcDrops, drops);
        session->forEachPacket(clientId, [&](const Packet &p) {
            if (!p.isOutgoing() && !t.mark(p.id).matched())
                qWarning("received packet %lld was not matched", p.id);
            return true;
        });
        QCOMPARE(t.inbound.delays + t.outbound.delays,
                 quint64(session->packetCount(clientId) + session->packetCount(serverId)) -
                     t.outbound.sent - t.inbound.sent);

        // The export and the display filter say the same.
        const QString csv = m_dir.filePath(QStringLiteral("lost.csv"));
        out = runTool(m_tcpscope,
                      {QStringLiteral("export"), file, QStringLiteral("--packets"), csv,
                       QStringLiteral("-Y"), QStringLiteral("peer.lost")},
                      &status);
        QVERIFY2(status == 0, qPrintable(out));
        QVERIFY2(out.contains(QStringLiteral("wrote %1 packets").arg(drops)), qPrintable(out));
        QFile f(csv);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QList<QByteArray> lines = f.readAll().trimmed().split('\n');
        const QList<QByteArray> header = lines.value(0).trimmed().split(',');
        const int lostCol = int(header.indexOf("peer_lost"));
        QVERIFY(lostCol >= 0);
        for (const QByteArray &line : lines.mid(1))
            QCOMPARE(line.trimmed().split(',').value(lostCol), QByteArray("1"));
    }
};

QTEST_GUILESS_MAIN(TestPeerTransitKernel)
#include "test_peer_transit_kernel.moc"
