// SPDX-License-Identifier: GPL-3.0-or-later
// The detectors against hand-built records: each built-in detector fires on its pattern with
// its subject and evidence and stays quiet on the pattern next to it (a port scan is not a
// refused burst, a flood with completed handshakes is not a SYN flood), throttling keeps one
// alert per kind and subject and counts the rest, rules files are validated with line and
// column, custom rules fire per match and per count, and the JSON carries the fields scripts
// read.
#include "detect/alert_engine.h"
#include "detect/alert_rules.h"
#include "detect/session_alerts.h"
#include "model/address.h"
#include "session/session.h"
#include "session/session_writer.h"
#include "test_addresses.h"

#include "tcpscope_records.h"

#include <QJsonArray>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

#include <sqlite3.h>

using namespace tcpscope;

namespace {

constexpr qint64 kMs = 1'000'000;
constexpr qint64 kS = 1'000'000'000;
constexpr qint64 kT0 = 1'800'000'000 * kS; // a wall time in 2027

Connection conn(qint64 id, const QString &local, quint16 lport, const QString &remote,
                quint16 rport, ConnectionRole role = ConnectionRole::Client)
{
    Connection c;
    c.id = id;
    c.localAddr = test::ip(local);
    c.localPort = lport;
    c.remoteAddr = test::ip(remote);
    c.remotePort = rport;
    c.role = role;
    c.comm = QStringLiteral("client");
    c.pid = 100;
    return c;
}

void change(Connection &c, qint64 t, TcpState from, TcpState to)
{
    if (c.history.isEmpty())
        c.startNs = t;
    c.history.append({t, from, to, 0, {}});
    c.state = to;
    if (to == TcpState::Close)
        c.endNs = t;
}

// A client connection that was refused (SYN answered by RST) at t.
Connection refused(qint64 id, const QString &remote, quint16 port, qint64 t)
{
    Connection c = conn(id, QStringLiteral("10.0.0.1"), quint16(40000 + id), remote, port);
    change(c, t, TcpState::Close, TcpState::SynSent);
    change(c, t + kMs, TcpState::SynSent, TcpState::Close);
    c.closeReason = CloseReason::Refused;
    return c;
}

// A client connection that completed its handshake in handshakeNs and ended as `reason`.
Connection finished(qint64 id, const QString &remote, quint16 port, qint64 t, qint64 handshakeNs,
                    CloseReason reason = CloseReason::Fin, bool timeWait = false)
{
    Connection c = conn(id, QStringLiteral("10.0.0.1"), quint16(20000 + id % 30000), remote, port);
    change(c, t, TcpState::Close, TcpState::SynSent);
    change(c, t + handshakeNs, TcpState::SynSent, TcpState::Established);
    c.handshakeNs = handshakeNs;
    if (timeWait) {
        change(c, t + handshakeNs + 2 * kMs, TcpState::Established, TcpState::FinWait1);
        change(c, t + handshakeNs + 3 * kMs, TcpState::FinWait1, TcpState::FinWait2);
        change(c, t + handshakeNs + 4 * kMs, TcpState::FinWait2, TcpState::TimeWait);
    }
    change(c, t + handshakeNs + 5 * kMs, c.state, TcpState::Close);
    c.closeReason = reason;
    return c;
}

Packet packet(qint64 id, qint64 connId, qint64 t, const char *src, quint16 sport, const char *dst,
              quint16 dport, PacketDirection dir, quint8 flags, quint32 analysis = 0,
              quint16 window = 1000)
{
    Packet p;
    p.id = id;
    p.connectionId = connId;
    p.timeNs = t;
    p.srcAddr = IpAddress::parse(AddressFamily::IPv4, QString::fromLatin1(src));
    p.dstAddr = IpAddress::parse(AddressFamily::IPv4, QString::fromLatin1(dst));
    p.srcPort = sport;
    p.dstPort = dport;
    p.direction = dir;
    p.tcpFlags = flags;
    p.analysis = analysis;
    p.window = window;
    return p;
}

QVector<Alert> run(const QVector<Connection> &connections, const QVector<Packet> &packets = {},
                   const KernelData &kernel = {}, const AlertConfig &config = AlertConfig(),
                   qint64 advanceNs = 0)
{
    AlertEngine engine(config);
    engine.addBatch(connections, packets, kernel);
    if (advanceNs)
        engine.advanceTo(advanceNs);
    return engine.takeAlerts();
}

QStringList kinds(const QVector<Alert> &alerts)
{
    QStringList k;
    for (const Alert &a : alerts)
        k.append(a.kind);
    return k;
}

AlertConfig config(const QString &text)
{
    QString error;
    const auto c = parseAlertConfig(text, &error);
    if (!c)
        qFatal("rules: %s", qPrintable(error));
    return *c;
}

} // namespace

class TestAlertEngine : public QObject
{
    Q_OBJECT
private slots:
    void quietOnNormalTraffic()
    {
        QVector<Connection> cs;
        for (int i = 1; i <= 3000; ++i)
            cs.append(finished(i, QStringLiteral("10.0.0.%1").arg(i % 50 + 2), 443,
                               kT0 + i * 3 * kMs, kMs + (i % 7) * 100'000, CloseReason::Fin,
                               i % 2 == 0));
        QVector<Packet> ps;
        for (int i = 1; i <= 3000; ++i)
            ps.append(packet(i, 1 + i % 100, kT0 + i * 3 * kMs, "10.0.0.1", 20001, "10.0.0.2", 443,
                             PacketDirection::Out, TS_TCP_ACK | TS_TCP_PSH));
        const QVector<Alert> alerts = run(cs, ps);
        QVERIFY2(alerts.isEmpty(), qPrintable(kinds(alerts).join(QLatin1Char(','))));
    }

    void portScanNamesTheRemote()
    {
        QVector<Connection> cs;
        for (int i = 1; i <= 25; ++i)
            cs.append(
                refused(i, QStringLiteral("192.0.2.9"), quint16(1000 + i), kT0 + i * 10 * kMs));
        const QVector<Alert> alerts = run(cs);
        QCOMPARE(kinds(alerts), QStringList{QStringLiteral("port_scan")});
        const Alert &a = alerts.first();
        QCOMPARE(a.remote, QStringLiteral("192.0.2.9"));
        QCOMPARE(a.subject, QStringLiteral("192.0.2.9"));
        QCOMPARE(a.severity, AlertSeverity::Medium);
        QCOMPARE(a.connections.size(), 20); // the 20th closed port fires it
        QVERIFY(a.summary.contains(QLatin1String("20 closed or filtered ports")));
    }

    void portScanFromKernelDrops()
    {
        // Inbound: SYNs the kernel had no socket for, from one source to many ports.
        KernelData k;
        for (int i = 0; i < 30; ++i) {
            DropEvent d;
            d.timeNs = kT0 + i * kMs;
            d.reasonName = QStringLiteral("NO_SOCKET");
            d.srcAddr = test::ip(QStringLiteral("198.51.100.4"));
            d.dstAddr = test::ip(QStringLiteral("10.0.0.1"));
            d.dstPort = quint16(2000 + i);
            d.tcpFlags = TS_TCP_SYN;
            k.drops.append(d);
        }
        const QVector<Alert> alerts = run({}, {}, k);
        QCOMPARE(kinds(alerts), QStringList{QStringLiteral("port_scan")});
        QCOMPARE(alerts.first().remote, QStringLiteral("198.51.100.4"));
    }

    void refusedBurstIsOnePort()
    {
        QVector<Connection> cs;
        for (int i = 1; i <= 25; ++i)
            cs.append(refused(i, QStringLiteral("192.0.2.9"), 5432, kT0 + i * 10 * kMs));
        const QVector<Alert> alerts = run(cs);
        QCOMPARE(kinds(alerts), QStringList{QStringLiteral("refused_burst")});
        QCOMPARE(alerts.first().remote, QStringLiteral("192.0.2.9:5432"));
        QCOMPARE(alerts.first().severity, AlertSeverity::Low);
    }

    void synFlood()
    {
        Connection listener =
            conn(1, QStringLiteral("0.0.0.0"), 8080, QString(), 0, ConnectionRole::Listener);
        change(listener, kT0 - kS, TcpState::Close, TcpState::Listen);
        QVector<Packet> ps;
        for (int i = 0; i < 150; ++i)
            ps.append(packet(i + 1, 0, kT0 + i * 3 * kMs, "203.0.113.7", quint16(1024 + i),
                             "10.0.0.1", 8080, PacketDirection::In, TS_TCP_SYN));
        const QVector<Alert> alerts = run({listener}, ps);
        QCOMPARE(kinds(alerts), QStringList{QStringLiteral("syn_flood")});
        const Alert &a = alerts.first();
        QCOMPARE(a.severity, AlertSeverity::High);
        QCOMPARE(a.subject, QStringLiteral("0.0.0.0:8080"));
        QCOMPARE(a.remote, QStringLiteral("203.0.113.7"));
        QCOMPARE(a.connections, QVector<qint64>{1});
        QVERIFY(a.summary.contains(QLatin1String("100 SYNs from 1 source, 0 handshakes")));
    }

    void busyListenerIsNoFlood()
    {
        // The same SYN rate, each completing its handshake: a busy server.
        Connection listener =
            conn(1, QStringLiteral("0.0.0.0"), 8080, QString(), 0, ConnectionRole::Listener);
        change(listener, kT0 - kS, TcpState::Close, TcpState::Listen);
        QVector<Connection> cs{listener};
        QVector<Packet> ps;
        for (int i = 0; i < 150; ++i) {
            const qint64 t = kT0 + i * 3 * kMs;
            ps.append(packet(i + 1, 0, t, "203.0.113.7", quint16(1024 + i), "10.0.0.1", 8080,
                             PacketDirection::In, TS_TCP_SYN));
            Connection s =
                conn(i + 2, QStringLiteral("10.0.0.1"), 8080, QStringLiteral("203.0.113.7"),
                     quint16(1024 + i), ConnectionRole::Server);
            change(s, t, TcpState::Listen, TcpState::SynRecv);
            change(s, t + kMs / 10, TcpState::SynRecv, TcpState::Established);
            s.handshakeNs = kMs / 10;
            cs.append(s);
        }
        const QVector<Alert> alerts = run(cs, ps);
        QVERIFY2(alerts.isEmpty(), qPrintable(kinds(alerts).join(QLatin1Char(','))));
    }

    void listenQueueOverflow()
    {
        Connection listener =
            conn(1, QStringLiteral("0.0.0.0"), 9000, QString(), 0, ConnectionRole::Listener);
        change(listener, kT0 - kS, TcpState::Close, TcpState::Listen);
        KernelData k;
        for (int i = 0; i < 3; ++i) {
            ListenerSample l;
            l.connectionId = 1;
            l.timeNs = kT0 + i * 100 * kMs;
            l.port = 9000;
            l.drops = quint64(i) * 15; // 30 dropped within 200 ms
            k.listeners.append(l);
        }
        const QVector<Alert> alerts = run({listener}, {}, k);
        QCOMPARE(kinds(alerts), QStringList{QStringLiteral("syn_flood")});
        QVERIFY(
            alerts.first().summary.contains(QLatin1String("30 connections the listener dropped")));
    }

    void synCookies()
    {
        // SYN-ACKs leaving the listener's port with no request socket behind them are SYN
        // cookies; those that found their request socket (NEW_SYN_RECV) are not.
        Connection listener =
            conn(1, QStringLiteral("0.0.0.0"), 8080, QString(), 0, ConnectionRole::Listener);
        change(listener, kT0 - kS, TcpState::Close, TcpState::Listen);
        QVector<Packet> ps;
        for (int i = 0; i < 40; ++i) {
            Packet normal =
                packet(2 * i + 1, 0, kT0 + i * 10 * kMs, "10.0.0.1", 8080, "203.0.113.7",
                       quint16(1024 + i), PacketDirection::Out, TS_TCP_SYN | TS_TCP_ACK);
            normal.sockState = quint8(TcpState::NewSynRecv);
            ps.append(normal);
        }
        QVERIFY2(run({listener}, ps).isEmpty(), "SYN-ACKs of queued half-opens are no cookies");
        for (int i = 0; i < 25; ++i)
            ps.append(packet(200 + i, 0, kT0 + 400 * kMs + i * 10 * kMs, "10.0.0.1", 8080,
                             "203.0.113.7", quint16(2048 + i), PacketDirection::Out,
                             TS_TCP_SYN | TS_TCP_ACK));
        const QVector<Alert> alerts = run({listener}, ps);
        QCOMPARE(kinds(alerts), QStringList{QStringLiteral("syn_flood")});
        QCOMPARE(alerts.first().subject, QStringLiteral("0.0.0.0:8080"));
        QCOMPARE(alerts.first().connections, QVector<qint64>{1});
        QVERIFY2(alerts.first().summary.contains(QLatin1String("20 SYN cookies sent")),
                 qPrintable(alerts.first().summary));
    }

    void synAckResendsAgainstAccepts()
    {
        // SYN-ACKs resent to half-opens never accepted (joined to the listener) while nothing
        // completes; the same resends on a listener that accepts its connections are no flood.
        Connection listener =
            conn(1, QStringLiteral("0.0.0.0"), 8080, QString(), 0, ConnectionRole::Listener);
        change(listener, kT0 - kS, TcpState::Close, TcpState::Listen);
        KernelData k;
        for (int i = 0; i < 30; ++i) {
            KernelEvent e;
            e.connectionId = 1;
            e.timeNs = kT0 + i * 20 * kMs;
            e.kind = KernelEventKind::SynAckRetransmit;
            e.segs = 1;
            k.events.append(e);
        }
        const QVector<Alert> alerts = run({listener}, {}, k);
        QCOMPARE(kinds(alerts), QStringList{QStringLiteral("syn_flood")});
        QVERIFY2(alerts.first().summary.contains(
                     QLatin1String("20 SYN-ACKs resent to half-open connections")),
                 qPrintable(alerts.first().summary));
        QVERIFY(alerts.first().summary.contains(QLatin1String("0 handshakes completed")));

        QVector<Connection> cs{listener};
        for (int i = 0; i < 30; ++i) {
            const qint64 t = kT0 + i * 20 * kMs - 5 * kMs;
            Connection s =
                conn(i + 2, QStringLiteral("10.0.0.1"), 8080, QStringLiteral("203.0.113.7"),
                     quint16(1024 + i), ConnectionRole::Server);
            change(s, t, TcpState::Listen, TcpState::SynRecv);
            change(s, t + kMs, TcpState::SynRecv, TcpState::Established);
            s.handshakeNs = kMs;
            cs.append(s);
        }
        QVERIFY(run(cs, {}, k).isEmpty());
    }

    void rstStorm()
    {
        QVector<Connection> cs;
        for (int i = 1; i <= 60; ++i)
            cs.append(finished(i, QStringLiteral("192.0.2.50"), 80, kT0 + i * 20 * kMs, kMs,
                               CloseReason::Reset));
        const QVector<Alert> alerts = run(cs);
        QCOMPARE(kinds(alerts), QStringList{QStringLiteral("rst_storm")});
        QCOMPARE(alerts.first().remote, QStringLiteral("192.0.2.50"));
        QCOMPARE(alerts.first().connections.size(), 50);
    }

    void rstStormCountsALocalPairOnce()
    {
        // Both sockets of a loopback connection end with the same reset: 40 pairs are 40
        // resets, below the 50 of the threshold; 60 pairs fire.
        auto pairs = [](int n) {
            QVector<Connection> cs;
            for (int i = 0; i < n; ++i) {
                const qint64 t = kT0 + i * 10 * kMs;
                Connection a = conn(2 * i + 1, QStringLiteral("127.0.0.1"), quint16(30000 + i),
                                    QStringLiteral("127.0.0.1"), 8080);
                Connection b =
                    conn(2 * i + 2, QStringLiteral("127.0.0.1"), 8080, QStringLiteral("127.0.0.1"),
                         quint16(30000 + i), ConnectionRole::Server);
                for (Connection *c : {&a, &b}) {
                    change(*c, t, TcpState::Close, TcpState::Established);
                    change(*c, t + kMs, TcpState::Established, TcpState::Close);
                    c->closeReason = CloseReason::Reset;
                    cs.append(*c);
                }
            }
            return cs;
        };
        QVERIFY(run(pairs(40)).isEmpty());
        QCOMPARE(kinds(run(pairs(60))), QStringList{QStringLiteral("rst_storm")});
    }

    void retransmitSpikeFromPackets()
    {
        Connection c = finished(1, QStringLiteral("192.0.2.1"), 443, kT0, kMs);
        c.history.removeLast(); // still open
        c.endNs = 0;
        c.closeReason = CloseReason::Open;
        QVector<Packet> ps;
        for (int i = 0; i < 25; ++i)
            ps.append(packet(i + 1, 1, kT0 + 10 * kMs + i * 10 * kMs, "10.0.0.1", c.localPort,
                             "192.0.2.1", 443, PacketDirection::Out, TS_TCP_ACK,
                             AnalysisRetransmission));
        const QVector<Alert> alerts = run({c}, ps);
        QCOMPARE(kinds(alerts), QStringList{QStringLiteral("retransmit_spike")});
        QCOMPARE(alerts.first().subject, QStringLiteral("conn 1"));
        QCOMPARE(alerts.first().remote, QStringLiteral("192.0.2.1:443"));
    }

    void retransmitsOfAFastTransferAreNoSpike()
    {
        // 25 resends among 5000 segments sent in the same second: 0.5 %, below the 2 % share.
        Connection c = finished(1, QStringLiteral("192.0.2.1"), 443, kT0, kMs);
        c.history.removeLast();
        QVector<Packet> ps;
        for (int i = 0; i < 5000; ++i) {
            Packet p = packet(i + 1, 1, kT0 + 10 * kMs + i * 150'000, "10.0.0.1", c.localPort,
                              "192.0.2.1", 443, PacketDirection::Out, TS_TCP_ACK,
                              i % 200 == 0 ? quint32(AnalysisRetransmission) : 0u);
            p.payloadLen = 1448;
            ps.append(p);
        }
        QVERIFY(run({c}, ps).isEmpty());
        // The same resends among 500 segments (5 %) are a spike.
        ps.resize(500);
        for (int i = 0; i < 500; ++i)
            ps[i].analysis = i % 20 == 0 ? quint32(AnalysisRetransmission) : 0u;
        const QVector<Alert> alerts = run({c}, ps);
        QCOMPARE(kinds(alerts), QStringList{QStringLiteral("retransmit_spike")});
        QVERIFY2(QRegularExpression(QStringLiteral(R"(\(5\.\d % of \d+ segments sent\))"))
                     .match(alerts.first().summary)
                     .hasMatch(),
                 qPrintable(alerts.first().summary));
    }

    void retransmitSpikeCountsALocalPairOnce()
    {
        // Both sockets of a loopback connection see each resent segment: only the sender's
        // copy counts, so 15 resends (below the threshold of 20) raise nothing.
        Connection a =
            conn(1, QStringLiteral("127.0.0.1"), 40000, QStringLiteral("127.0.0.1"), 5201);
        Connection b = conn(2, QStringLiteral("127.0.0.1"), 5201, QStringLiteral("127.0.0.1"),
                            40000, ConnectionRole::Server);
        change(a, kT0, TcpState::Close, TcpState::SynSent);
        change(b, kT0, TcpState::Listen, TcpState::SynRecv);
        QVector<Packet> ps;
        for (int i = 0; i < 15; ++i) {
            const qint64 t = kT0 + kMs + i * kMs;
            ps.append(packet(2 * i + 1, 1, t, "127.0.0.1", 40000, "127.0.0.1", 5201,
                             PacketDirection::Out, TS_TCP_ACK, AnalysisRetransmission));
            ps.append(packet(2 * i + 2, 2, t, "127.0.0.1", 40000, "127.0.0.1", 5201,
                             PacketDirection::In, TS_TCP_ACK, AnalysisRetransmission));
        }
        QVERIFY(run({a, b}, ps).isEmpty());
    }

    void retransmitSpikeFromKernelEvents()
    {
        Connection c = finished(7, QStringLiteral("192.0.2.1"), 443, kT0, kMs);
        KernelData k;
        for (int i = 0; i < 12; ++i) {
            KernelEvent e;
            e.connectionId = 7;
            e.timeNs = kT0 + 2 * kMs + i * 10 * kMs;
            e.kind = KernelEventKind::Retransmit;
            e.segs = 2;
            k.events.append(e);
        }
        const QVector<Alert> alerts = run({c}, {}, k);
        QCOMPARE(kinds(alerts), QStringList{QStringLiteral("retransmit_spike")});
        QVERIFY(alerts.first().summary.startsWith(QLatin1String("20 retransmissions")));
    }

    void zeroWindowStall()
    {
        Connection c = conn(3, QStringLiteral("10.0.0.1"), 5000, QStringLiteral("192.0.2.8"), 41000,
                            ConnectionRole::Server);
        change(c, kT0, TcpState::Listen, TcpState::SynRecv);
        change(c, kT0 + kMs, TcpState::SynRecv, TcpState::Established);
        QVector<Packet> ps;
        // Our socket advertises a zero window, again on each probe's answer.
        for (int i = 0; i < 4; ++i)
            ps.append(packet(i + 1, 3, kT0 + kS + i * 500 * kMs, "10.0.0.1", 5000, "192.0.2.8",
                             41000, PacketDirection::Out, TS_TCP_ACK, AnalysisZeroWindow, 0));
        AlertEngine engine;
        engine.addBatch({c}, ps, {});
        QVERIFY(engine.takeAlerts().isEmpty()); // 1.5 s so far
        engine.advanceTo(kT0 + kS + 2500 * kMs);
        const QVector<Alert> alerts = engine.takeAlerts();
        QCOMPARE(kinds(alerts), QStringList{QStringLiteral("zero_window_stall")});
        QCOMPARE(alerts.first().connections, QVector<qint64>{3});
        QCOMPARE(alerts.first().timeNs, kT0 + 3 * kS); // when it became a stall
        QCOMPARE(alerts.first().packets.size(), 4);
        QVERIFY(alerts.first().summary.startsWith(
            QLatin1String("10.0.0.1:5000 advertised a zero window to 192.0.2.8:41000")));
        engine.advanceTo(kT0 + 10 * kS);
        QVERIFY(engine.takeAlerts().isEmpty()); // once per stall
    }

    void zeroWindowThatReopensIsNoStall()
    {
        QVector<Packet> ps;
        ps.append(packet(1, 3, kT0, "10.0.0.1", 5000, "192.0.2.8", 41000, PacketDirection::Out,
                         TS_TCP_ACK, AnalysisZeroWindow, 0));
        ps.append(packet(2, 3, kT0 + 800 * kMs, "10.0.0.1", 5000, "192.0.2.8", 41000,
                         PacketDirection::Out, TS_TCP_ACK, AnalysisWindowUpdate, 512));
        QVERIFY(run({}, ps, {}, AlertConfig(), kT0 + 60 * kS).isEmpty());
    }

    void slowHandshake()
    {
        QVector<Connection> cs;
        for (int i = 1; i <= 30; ++i)
            cs.append(finished(i, QStringLiteral("192.0.2.1"), 443, kT0 + i * 10 * kMs, 2 * kMs));
        cs.append(finished(31, QStringLiteral("192.0.2.99"), 443, kT0 + kS, 900 * kMs));
        cs.append(finished(32, QStringLiteral("192.0.2.98"), 443, kT0 + 2 * kS, 19 * kMs)); // fast
        const QVector<Alert> alerts = run(cs);
        QCOMPARE(kinds(alerts), QStringList{QStringLiteral("handshake_slow")});
        QCOMPARE(alerts.first().connections, QVector<qint64>{31});
        QVERIFY(alerts.first().summary.contains(QLatin1String("took 900 ms (median 2.0 ms)")));
    }

    void dropSurge()
    {
        KernelData k;
        for (int i = 0; i < 120; ++i) {
            DropEvent d;
            d.timeNs = kT0 + i * kMs;
            d.reasonName = QStringLiteral("TCP_CSUM");
            k.drops.append(d);
        }
        const QVector<Alert> alerts = run({}, {}, k);
        QCOMPARE(kinds(alerts), QStringList{QStringLiteral("drop_surge")});
        QCOMPARE(alerts.first().subject, QStringLiteral("TCP_CSUM"));
    }

    void housekeepingDropsAreNoSurge()
    {
        KernelData k;
        for (const char *reason :
             {"QUEUE_PURGE", "NOT_SPECIFIED", "SOCKET_CLOSE", "NETFILTER_DROP"}) {
            for (int i = 0; i < 150; ++i) {
                DropEvent d;
                d.timeNs = kT0 + i * kMs;
                d.reasonName = QLatin1String(reason);
                k.drops.append(d);
            }
        }
        QVERIFY(run({}, {}, k).isEmpty());
        // Firewall drops count when the rules file says so.
        const QVector<Alert> alerts =
            run({}, {}, k, config(QStringLiteral("set drop_surge.ignore = QUEUE_PURGE")));
        QCOMPARE(kinds(alerts),
                 (QStringList{QStringLiteral("drop_surge"), QStringLiteral("drop_surge"),
                              QStringLiteral("drop_surge")}));
    }

    void timeWaitBuildup()
    {
        QVector<Connection> cs;
        for (int i = 1; i <= 60; ++i)
            cs.append(finished(i, QStringLiteral("192.0.2.1"), 80, kT0 + i * kMs, kMs,
                               CloseReason::Fin, true));
        QVERIFY(run(cs).isEmpty()); // default: 10000 within a minute
        const QVector<Alert> alerts =
            run(cs, {}, {}, config(QStringLiteral("set time_wait_buildup.min_sockets = 50")));
        QCOMPARE(kinds(alerts), QStringList{QStringLiteral("time_wait_buildup")});
        QCOMPARE(alerts.first().remote, QStringLiteral("192.0.2.1:80"));
    }

    void throttlingCountsWhatItLeavesOut()
    {
        // A refused burst every second for 12 s: one alert, then after the throttle period
        // one more that says how many were left out.
        AlertEngine engine;
        int id = 0;
        for (int s = 0; s < 12; ++s) {
            QVector<Connection> cs;
            for (int i = 0; i < 20; ++i, ++id)
                cs.append(refused(id + 1, QStringLiteral("192.0.2.9"), 5432,
                                  kT0 + s * kS + i * 10 * kMs));
            engine.addBatch(cs, {}, {});
        }
        const QVector<Alert> alerts = engine.takeAlerts();
        QCOMPARE(kinds(alerts),
                 (QStringList{QStringLiteral("refused_burst"), QStringLiteral("refused_burst")}));
        QCOMPARE(alerts.at(0).suppressed, 0u);
        QCOMPARE(alerts.at(1).suppressed, 9u);
        QVERIFY(alerts.at(1).timeNs - alerts.at(0).timeNs >= 10 * kS);
        QCOMPARE(engine.alertsSuppressed(), 10u); // and one more after the second
        // What throttling left out is still there for a triggered capture.
        QCOMPARE(engine.takeSuppressed().size(), 10);
        QVERIFY(engine.takeSuppressed().isEmpty());
    }

    void historyIsLookedAtOnce()
    {
        // A connection sent again with more history (as the live capture does) is not counted
        // twice.
        AlertEngine engine(config(QStringLiteral("set refused_burst.min_refused = 2")));
        Connection c = refused(1, QStringLiteral("192.0.2.9"), 5432, kT0);
        engine.addBatch({c}, {}, {});
        engine.addBatch({c}, {}, {});
        QVERIFY(engine.takeAlerts().isEmpty());
    }

    void disabledAndSeverity()
    {
        QVector<Connection> cs;
        for (int i = 1; i <= 25; ++i)
            cs.append(refused(i, QStringLiteral("192.0.2.9"), quint16(1000 + i), kT0 + i * kMs));
        QVERIFY(run(cs, {}, {}, config(QStringLiteral("disable port_scan"))).isEmpty());
        const QVector<Alert> alerts =
            run(cs, {}, {}, config(QStringLiteral("severity port_scan high\n")));
        QCOMPARE(alerts.size(), 1);
        QCOMPARE(alerts.first().severity, AlertSeverity::High);
    }

    void rulesFileErrors_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("error");
        QTest::newRow("keyword") << "# ok\nwatch x"
                                 << "line 2, column 1: expected alert, set";
        QTest::newRow("unknown setting") << "set syn_flood.min_sin = 3"
                                         << "line 1, column 5: unknown setting 'syn_flood.min_sin'";
        QTest::newRow("not a time") << "set alert.throttle = often"
                                    << "line 1, column 20: alert.throttle is a time";
        QTest::newRow("not a number") << "set port_scan.min_ports = many"
                                      << "line 1, column 25: port_scan.min_ports is a number";
        QTest::newRow("zero window")
            << "set port_scan.window = 0"
            << "line 1, column 22: port_scan.window is a time of at most a day";
        QTest::newRow("huge count") << "set syn_flood.min_syns = 1e12"
                                    << "line 1, column 24: syn_flood.min_syns is a number";
        QTest::newRow("detector") << "disable syn_flod"
                                  << "line 1, column 9: unknown detector 'syn_flod'";
        QTest::newRow("severity") << "alert x severity=urgent when tcp.port == 1"
                                  << "line 1, column 18: severity is low, medium or high";
        QTest::newRow("when") << "alert x tcp.port == 1"
                              << "line 1, column 9: expected 'when'";
        QTest::newRow("field") << "alert x when tcp.prot == 443"
                               << "line 1, column 14: unknown field 'tcp.prot'";
        QTest::newRow("builtin name") << "alert port_scan when tcp.port == 1"
                                      << "line 1, column 7: 'port_scan' is a built-in detector";
        QTest::newRow("no over") << "alert x when count(tcp.flags.reset) > 5"
                                 << "line 1, column 40: expected 'over'";
        QTest::newRow("bad by") << "alert x when count(tcp.flags.reset) by tcp.flags > 5 over 1s"
                                << "line 1, column 40: cannot count by 'tcp.flags'";
        QTest::newRow("unclosed") << "alert x when count(tcp.port == 1 > 5 over 1s"
                                  << "line 1, column 19: count( is not closed";
        QTest::newRow("duplicate") << "alert x when tcp.port == 1\nalert x when tcp.port == 2"
                                   << "line 2, a rule named 'x' is already defined";
        QTest::newRow("empty") << "alert x when   "
                               << "line 1, column 16: the rule has no condition";
    }

    void rulesFileErrors()
    {
        QFETCH(QString, text);
        QFETCH(QString, error);
        QString got;
        QVERIFY(!parseAlertConfig(text, &got));
        QVERIFY2(got.startsWith(error), qPrintable(got));
    }

    void rulesFileSettings()
    {
        const AlertConfig c = config(QStringLiteral(
            "# site rules\n\nset syn_flood.min_syns = 200\nset alert.throttle 30s\r\n"
            "set zero_window_stall.min_duration = 500ms\nseverity rst_storm high\n"
            "alert slow-tls severity=high when conn.handshake_time > 200ms && tcp.port == 443\n"
            "alert resends when count(tcp.analysis.retransmission) by conn.id > 10 over 1s\n"));
        QCOMPARE(c.value(QStringLiteral("syn_flood.min_syns")), 200.0);
        QCOMPARE(c.durationNs(QStringLiteral("alert.throttle")), 30 * kS);
        QCOMPARE(c.durationNs(QStringLiteral("zero_window_stall.min_duration")), 500 * kMs);
        QCOMPARE(c.severity(QStringLiteral("rst_storm")), AlertSeverity::High);
        QCOMPARE(c.rules().size(), 2);
        QCOMPARE(c.rules().at(0).name, QStringLiteral("slow-tls"));
        QCOMPARE(c.rules().at(0).severity, AlertSeverity::High);
        QCOMPARE(c.rules().at(0).filter.target(), FilterTarget::Connections);
        QVERIFY(!c.rules().at(0).counted);
        QCOMPARE(c.rules().at(1).filter.target(), FilterTarget::Packets);
        QVERIFY(c.rules().at(1).counted);
        QCOMPARE(c.rules().at(1).groupField, QStringLiteral("conn.id"));
        QCOMPARE(c.rules().at(1).threshold, 10u);
        QCOMPARE(c.rules().at(1).windowNs, kS);
    }

    void connectionRuleFiresOncePerConnection()
    {
        const AlertConfig c = config(QStringLiteral(
            "alert slow-tls when conn.handshake_time > 200ms && conn.remote_port == 443\n"));
        AlertEngine engine(c);
        Connection slow = finished(1, QStringLiteral("192.0.2.1"), 443, kT0, 300 * kMs);
        Connection other = finished(2, QStringLiteral("192.0.2.1"), 80, kT0, 300 * kMs);
        Connection fast = finished(3, QStringLiteral("192.0.2.1"), 443, kT0, 3 * kMs);
        engine.addBatch({slow, other, fast}, {}, {});
        engine.addBatch({slow}, {}, {}); // sent again: no second alert
        QVector<Alert> alerts = engine.takeAlerts();
        // handshake_slow fires too (300 ms, no median yet), for each slow one.
        alerts.erase(
            std::remove_if(alerts.begin(), alerts.end(), [](const Alert &a) { return !a.custom; }),
            alerts.end());
        QCOMPARE(alerts.size(), 1);
        QCOMPARE(alerts.first().kind, QStringLiteral("slow-tls"));
        QCOMPARE(alerts.first().connections, QVector<qint64>{1});
        QCOMPARE(alerts.first().severity, AlertSeverity::Medium);
    }

    void countedPacketRule()
    {
        const AlertConfig c = config(QStringLiteral(
            "alert resets when count(tcp.flags.reset == 1) by ip.src > 3 over 1s\n"));
        QVector<Packet> ps;
        for (int i = 0; i < 4; ++i) // 4 from one source: over 3
            ps.append(packet(i + 1, 0, kT0 + i * 100 * kMs, "192.0.2.5", 80, "10.0.0.1", 5000,
                             PacketDirection::In, TS_TCP_RST));
        for (int i = 0; i < 3; ++i) // 3 from another: not over
            ps.append(packet(i + 5, 0, kT0 + i * 100 * kMs, "192.0.2.6", 80, "10.0.0.1", 5000,
                             PacketDirection::In, TS_TCP_RST));
        for (int i = 0; i < 4; ++i) // 4 spread over 4 s: never 4 within 1 s
            ps.append(packet(i + 9, 0, kT0 + i * 1100 * kMs, "192.0.2.7", 80, "10.0.0.1", 5000,
                             PacketDirection::In, TS_TCP_RST));
        const QVector<Alert> alerts = run({}, ps, {}, c);
        QCOMPARE(kinds(alerts), QStringList{QStringLiteral("resets")});
        QCOMPARE(alerts.first().subject, QStringLiteral("ip.src == 192.0.2.5"));
        QVERIFY(alerts.first().custom);
    }

    void storedAndReplayed()
    {
        // A recorded session: the alerts the capture stored come back from the file, and a
        // replay of its records raises the same ones.
        QTemporaryDir dir;
        const QString file = dir.filePath(QStringLiteral("s.tcpscope"));
        QVector<Connection> cs;
        for (int i = 1; i <= 25; ++i)
            cs.append(
                refused(i, QStringLiteral("192.0.2.9"), quint16(1000 + i), kT0 + i * 10 * kMs));
        AlertEngine engine;
        engine.addBatch(cs, {}, {});
        const QVector<Alert> live = engine.takeAlerts();
        QCOMPARE(live.size(), 1);
        QString error;
        {
            auto writer = SessionWriter::create(file, &error);
            QVERIFY2(writer, qPrintable(error));
            SessionInfo info;
            info.alertsRecorded = true;
            info.startedNs = kT0;
            info.stoppedNs = kT0 + kS;
            writer->setInfo(info);
            for (const Connection &c : cs)
                writer->writeConnection(c);
            writer->writeAlerts(live);
            QVERIFY2(writer->close(&error), qPrintable(error));
        }
        auto session = Session::open(file, &error);
        QVERIFY2(session, qPrintable(error));
        QVERIFY(session->info().alertsRecorded);
        const QVector<Alert> stored = session->alerts();
        QCOMPARE(stored.size(), 1);
        QCOMPARE(stored.first().kind, live.first().kind);
        QCOMPARE(stored.first().timeNs, live.first().timeNs);
        QCOMPARE(stored.first().summary, live.first().summary);
        QCOMPARE(stored.first().remote, live.first().remote);
        QCOMPARE(stored.first().connections, live.first().connections);
        QCOMPARE(stored.first().severity, live.first().severity);
        const QVector<Alert> replayed = detectAlerts(*session, AlertConfig());
        QCOMPARE(kinds(replayed), kinds(live));
        QCOMPARE(replayed.first().timeNs, live.first().timeNs);
        QCOMPARE(replayed.first().connections, live.first().connections);
        session.reset();

        // Hostile rows are left out and counted, never trusted.
        sqlite3 *db = nullptr;
        QCOMPARE(sqlite3_open(file.toUtf8().constData(), &db), SQLITE_OK);
        const char *bad =
            "INSERT INTO alerts(time_ns, kind, custom, severity, subject, summary, remote,"
            " connections, packets, suppressed) VALUES"
            " (1, 'x', 0, 'urgent', 's', 's', NULL, '', '', 0),"
            " (1, 'x', 0, 'low', 's', 's', NULL, '1 -2', '', 0),"
            " (-5, 'x', 0, 'low', 's', 's', NULL, '', '', 0),"
            " (1, 'x', 7, 'low', 's', 's', NULL, '', '', 0),"
            " (1, 'x', 0, 'low', 's', 's', NULL, '', '', -1)";
        QCOMPARE(sqlite3_exec(db, bad, nullptr, nullptr, nullptr), SQLITE_OK);
        sqlite3_close(db);
        session = Session::open(file, &error);
        QVERIFY2(session, qPrintable(error));
        QCOMPARE(session->alerts().size(), 1);
        QVERIFY(session->valuesOutOfRange() >= 5);
    }

    void jsonForScripts()
    {
        Alert a;
        a.timeNs = 1'764'970'200'123'456'789;
        a.kind = QStringLiteral("port_scan");
        a.severity = AlertSeverity::Medium;
        a.summary = QStringLiteral("s");
        a.connections = {4, 9};
        const QJsonObject o = alertToJson(a);
        QCOMPARE(o.value(QLatin1String("time")).toString(),
                 QStringLiteral("2025-12-05T21:30:00.123456789Z"));
        QCOMPARE(o.value(QLatin1String("kind")).toString(), QStringLiteral("port_scan"));
        QCOMPARE(o.value(QLatin1String("severity")).toString(), QStringLiteral("medium"));
        QVERIFY(o.value(QLatin1String("remote")).isNull());
        QCOMPARE(o.value(QLatin1String("connections")).toArray().size(), 2);
        QCOMPARE(o.value(QLatin1String("filter")).toString(), QStringLiteral("conn.id in {4, 9}"));
        a.remote = QStringLiteral("10.0.0.1:80");
        QCOMPARE(alertToJson(a).value(QLatin1String("remote")).toString(), a.remote);
    }
};

QTEST_GUILESS_MAIN(TestAlertEngine)
#include "test_alert_engine.moc"
