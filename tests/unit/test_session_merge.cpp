// SPDX-License-Identifier: GPL-3.0-or-later
// Sessions of several hosts and `merge`: two sessions written by SessionWriter, "alpha" the
// client with the true clock and "beta" the server whose clock is kSkew ahead, the packets run
// through TcpAnalyzer (so both ISNs are the analyzer's). Merged, every record is there once
// with renumbered ids on one time axis; the hosts table says who is who; --offset is applied
// exactly; handshake alignment finds the skew within the error it states; a multi-host input
// keeps its hosts; hostile host rows read as unknown; bad inputs give one line and no file.
#include "analysis/tcp_analyzer.h"
#include "export/session_export.h"
#include "filter/display_filter.h"
#include "session/session.h"
#include "session/session_merge.h"
#include "session/session_store.h"
#include "session/session_writer.h"
#include "session_sql.h"
#include "test_addresses.h"

#include <QFile>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>
#include <arpa/inet.h>

extern "C" {
#include "tcpscope_records.h"
}

using namespace tcpscope;
using namespace tcpscope::testing;

namespace {

constexpr qint64 kT0 = 1'764'300'000'000'000'000;
constexpr qint64 kSkew = 5'000'000'000; // beta's clock - alpha's
constexpr qint64 kOut = 200'000;        // one-way delay client -> server, ns
constexpr qint64 kBack = 300'000;       // server -> client (asymmetric: the offset's error)
constexpr qint64 kTurn = 50'000;        // server's SYN -> SYN-ACK
constexpr int kPairs = 5;

Packet packet(qint64 t, bool out, const char *src, quint16 sport, const char *dst, quint16 dport,
              quint8 flags, quint32 seq, quint32 ack, quint32 len = 0)
{
    Packet p;
    p.timeNs = t;
    p.direction = out ? PacketDirection::Out : PacketDirection::In;
    p.srcAddr = IpAddress::parse(AddressFamily::IPv4, QString::fromLatin1(src));
    p.dstAddr = IpAddress::parse(AddressFamily::IPv4, QString::fromLatin1(dst));
    p.srcPort = sport;
    p.dstPort = dport;
    p.seq = seq;
    p.ack = ack;
    p.tcpFlags = flags;
    p.window = 64000;
    p.payloadLen = len;
    p.ifindex = 2;
    return p;
}

StateChange change(qint64 t, TcpState from, TcpState to)
{
    StateChange sc;
    sc.timeNs = t;
    sc.from = from;
    sc.to = to;
    return sc;
}

struct Side
{
    Connection conn;
    QVector<Packet> packets;
};

// Connection k seen from the client (alpha, true clock) or the server (beta, +kSkew).
Side side(int k, bool client, qint64 *packetId)
{
    const quint16 port = quint16(40000 + k);
    const quint32 isnC = 1000u * quint32(k + 1), isnS = 0xfff00000u + quint32(k);
    const qint64 t1 = kT0 + k * 1'000'000'000LL; // SYN leaves the client (true time)
    const qint64 t2 = t1 + kOut, t3 = t2 + kTurn, t4 = t3 + kBack;
    const qint64 t5 = t4 + kOut; // the final ACK reaches the server
    const qint64 clock = client ? 0 : kSkew;
    Side s;
    Connection &c = s.conn;
    c.id = k + 1;
    c.sockId = 0x1000 + quint64(k);
    c.pid = client ? 300 : 400;
    c.comm = client ? QStringLiteral("curl") : QStringLiteral("nginx");
    c.localAddr = test::ip(client ? QStringLiteral("10.0.0.1") : QStringLiteral("10.0.0.2"));
    c.remoteAddr = test::ip(client ? QStringLiteral("10.0.0.2") : QStringLiteral("10.0.0.1"));
    c.localPort = client ? port : 80;
    c.remotePort = client ? 80 : port;
    c.role = client ? ConnectionRole::Client : ConnectionRole::Server;
    c.state = TcpState::Close;
    c.closeReason = CloseReason::Fin;
    if (client)
        c.history = {change(t1, TcpState::Close, TcpState::SynSent),
                     change(t4, TcpState::SynSent, TcpState::Established),
                     change(t1 + 90'000'000, TcpState::Established, TcpState::Close)};
    else
        c.history = {change(t5 + clock, TcpState::SynRecv, TcpState::Established),
                     change(t1 + 91'000'000 + clock, TcpState::Established, TcpState::Close)};
    c.startNs = c.history.first().timeNs;
    c.endNs = c.history.last().timeNs;
    const char *ca = "10.0.0.1", *sa = "10.0.0.2";
    // In wire order; each side sees its own sends as out.
    s.packets = {
        packet((client ? t1 : t2) + clock, client, ca, port, sa, 80, TS_TCP_SYN, isnC, 0),
        packet((client ? t4 : t3) + clock, !client, sa, 80, ca, port, TS_TCP_SYN | TS_TCP_ACK, isnS,
               isnC + 1),
        packet((client ? t4 + 10'000 : t5) + clock, client, ca, port, sa, 80, TS_TCP_ACK, isnC + 1,
               isnS + 1),
        packet((client ? t4 + 20'000 : t5 + 10'000) + clock, client, ca, port, sa, 80,
               TS_TCP_ACK | TS_TCP_PSH, isnC + 1, isnS + 1, 100),
    };
    TcpAnalyzer analyzer;
    for (Packet &p : s.packets) {
        p.id = ++*packetId;
        p.connectionId = c.id;
        analyzer.analyze(p);
    }
    c.packets = analyzer.counts();
    return s;
}

struct Written
{
    QString path;
    qint64 packets = 0;
};

// A one-host session: kPairs connections (clients on alpha, servers on beta) and, when
// `extra`, an unpaired connection with a sample and an event, an unjoined packet and drop,
// an alert and an annotation.
Written writeHost(const QString &path, bool client, bool extra = true, int portShift = 0,
                  int format = 4, bool withPackets = true)
{
    Written w{path};
    QString error;
    auto writer = SessionWriter::create(path, &error, format);
    if (!writer)
        qFatal("%s", qPrintable(error));
    SessionInfo info;
    info.hostname = client ? QStringLiteral("alpha") : QStringLiteral("beta");
    info.kernelRelease = client ? QStringLiteral("6.1.0-a") : QStringLiteral("6.18.0-b");
    info.probes = {QStringLiteral("inet_sock_set_state=tp_btf")};
    info.startedNs = kT0 - 1'000'000'000 + (client ? 0 : kSkew);
    info.stoppedNs = kT0 + 10'000'000'000 + (client ? 0 : kSkew);
    info.packetsCaptured = true;
    info.kernelMetrics = true;
    info.recordsReceived = client ? 10 : 20;
    info.interfaces = {{2, client ? QStringLiteral("eth0") : QStringLiteral("ens3"), 1}};
    info.alertsRecorded = true;
    writer->setInfo(info);
    qint64 packetId = 0;
    for (int k = 0; k < kPairs; ++k) {
        Side s = side(k + portShift, client, &packetId);
        s.conn.id = k + 1;
        for (Packet &p : s.packets)
            p.connectionId = s.conn.id;
        if (!withPackets) {
            s.conn.packets = {};
            s.packets.clear();
            packetId = 0;
        }
        writer->writeConnection(s.conn);
        writer->writePackets(s.packets);
    }
    w.packets = packetId;
    if (extra) {
        Connection c = side(90, client, &packetId).conn; // its packets are not written
        packetId -= 4;
        c.packets = {};
        c.id = kPairs + 1;
        c.remotePort = 9999; // pairs with nothing
        c.localPort = 9998;
        writer->writeConnection(c);
        KernelData k;
        TcpSample t;
        t.connectionId = c.id;
        t.timeNs = c.startNs + 1000;
        t.srttUs = 77;
        t.fields = TS_SAMPLE_RTT;
        k.samples = {t};
        KernelEvent e;
        e.connectionId = c.id;
        e.timeNs = c.startNs + 2000;
        e.kind = KernelEventKind::Retransmit;
        e.segs = 1;
        DropEvent d;
        d.connectionId = 0;
        d.timeNs = c.startNs + 3000;
        d.reasonName = QStringLiteral("NO_SOCKET");
        d.ifindex = 2;
        k.events = {e};
        k.drops = {d};
        writer->writeKernelData(k);
        Packet loose =
            packet(c.startNs + 4000, false, "10.0.0.9", 1, "10.0.0.1", 2, TS_TCP_RST, 1, 0);
        loose.id = ++packetId;
        loose.connectionId = 0;
        writer->writePackets({loose});
        w.packets = packetId;
        Alert a;
        a.timeNs = c.startNs + 5000;
        a.kind = QStringLiteral("resets");
        a.subject = QStringLiteral("s");
        a.summary = QStringLiteral("summary");
        a.connections = {1, c.id};
        a.packets = {1};
        writer->writeAlerts({a});
    }
    if (!writer->close(&error))
        qFatal("%s", qPrintable(error));
    if (extra) {
        Annotation note;
        note.connectionId = 2;
        note.packetId = 5;
        note.startNs = kT0 + 1'000'000'000 + (client ? 0 : kSkew);
        note.text = client ? QStringLiteral("alpha note") : QStringLiteral("beta note");
        note.createdNs = 1;
        if (!saveSessionView(path, {}, {note}, &error))
            qFatal("%s", qPrintable(error));
    }
    return w;
}

} // namespace

class TestSessionMerge : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void oneHostSession();
    void alignHandshakesMath();
    void mergeOnHandshakes();
    void userOffsetIsExact();
    void nothingToAlignOn();
    void multiHostInputKeepsHosts();
    void hostileHostsRows();
    void hostPerConnection();
    void olderFormatInput();
    void alignOnStateChanges();
    void badInputs();

private:
    std::unique_ptr<QTemporaryDir> m_dir;
    QString m_a, m_b;
    qint64 m_aPackets = 0, m_bPackets = 0;
    QString file(const char *name) const { return m_dir->filePath(QLatin1String(name)); }
};

void TestSessionMerge::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    const Written a = writeHost(file("alpha.tcpscope"), true);
    const Written b = writeHost(file("beta.tcpscope"), false);
    m_a = a.path;
    m_b = b.path;
    m_aPackets = a.packets;
    m_bPackets = b.packets;
}

void TestSessionMerge::oneHostSession()
{
    QString error;
    auto s = Session::open(m_a, &error);
    QVERIFY2(s, qPrintable(error));
    QCOMPARE(s->format().minor, 6);
    const QVector<HostInfo> hosts = s->hosts();
    QCOMPARE(hosts.size(), 1);
    QCOMPARE(hosts[0].name, QStringLiteral("alpha"));
    QCOMPARE(hosts[0].kernel, QStringLiteral("6.1.0-a"));
    QCOMPARE(hosts[0].clockOffsetNs, 0);
    QCOMPARE(hosts[0].offsetMethod, OffsetMethod::None);
    // The analyzer's ISNs survive the file; every connection is on host 0.
    const Connection c = *s->connection(1);
    QCOMPARE(c.packets.isnLocal, 1000);
    QCOMPARE(c.packets.isnRemote, qint64(0xfff00000u));
    QCOMPARE(c.hostId, 0);
    const Connection server = *Session::open(m_b, &error)->connection(1);
    QCOMPARE(server.packets.isnLocal, qint64(0xfff00000u));
    QCOMPARE(server.packets.isnRemote, 1000);
    // Unseen handshake: unknown.
    QCOMPARE(s->connection(kPairs + 1)->packets.isnLocal, -1);
}

void TestSessionMerge::alignHandshakesMath()
{
    QVERIFY(!alignHandshakes({}));
    // Symmetric paths: exact; the bound is half the round trip less the turnaround.
    HandshakeTimes t{1000, 1000 + 400 + 50, 5000 + 1200, 5000 + 1250, true};
    auto a = alignHandshakes({t});
    QVERIFY(a);
    QCOMPARE(a->offsetNs, -5000); // the server's clock is 5000 ahead: shift it back
    QCOMPARE(a->errorNs, 200);
    t.referenceIsClient = false;
    QCOMPARE(alignHandshakes({t})->offsetNs, 5000);
    // The median of several; an outlier moves neither the offset nor (much) the error.
    QVector<HandshakeTimes> many(5, HandshakeTimes{1000, 1450, 6200, 6250, true});
    many[4].serverSynReceived += 1'000'000;
    many[4].serverSynAckSent += 1'000'000;
    a = alignHandshakes(many);
    QCOMPARE(a->offsetNs, -5000);
    QCOMPARE(a->pairs, 5);
}

void TestSessionMerge::mergeOnHandshakes()
{
    const QString out = file("merged.tcpscope");
    MergeOptions o;
    o.inputs = {m_a, m_b};
    o.output = out;
    MergeReport r;
    QString error;
    QStringList lines;
    QVERIFY2(mergeSessions(o, &r, &error, nullptr, {}, [&](const QString &l) { lines << l; }),
             qPrintable(error));
    QCOMPARE(lines.size(), 2);
    QVERIFY2(lines[1].contains(QLatin1String("handshakes, 5 pairs")), qPrintable(lines[1]));
    QVERIFY(r.warnings.isEmpty());

    auto s = Session::open(out, &error);
    QVERIFY2(s, qPrintable(error));
    const QVector<HostInfo> hosts = s->hosts();
    QCOMPARE(hosts.size(), 2);
    QCOMPARE(hosts[0].name, QStringLiteral("alpha"));
    QCOMPARE(hosts[1].name, QStringLiteral("beta"));
    QCOMPARE(hosts[1].kernel, QStringLiteral("6.18.0-b"));
    QCOMPARE(hosts[1].source, QStringLiteral("beta.tcpscope"));
    QCOMPARE(hosts[1].offsetMethod, OffsetMethod::Handshakes);
    // The asymmetric path makes the estimate off by (back - out) / 2, within the bound.
    const qint64 off = hosts[1].clockOffsetNs, err = hosts[1].offsetErrorNs;
    QVERIFY2(std::abs(off + kSkew) <= err, qPrintable(QStringLiteral("%1 ± %2").arg(off).arg(err)));
    QCOMPARE(off, -kSkew + (kBack - kOut) / 2);
    QCOMPARE(err, (kOut + kBack) / 2);
    QCOMPARE(s->valuesOutOfRange(), 0u);

    // Every connection once, B's after A's, each on its host, B's on the reference axis.
    const QVector<Connection> all = s->allConnections(true);
    QCOMPARE(all.size(), 2 * (kPairs + 1));
    for (const Connection &c : all) {
        QCOMPARE(c.hostId, c.id <= kPairs + 1 ? 0 : 1);
        QVERIFY(c.startNs < kT0 + 92'000'000'000); // no kSkew left (the last starts at 90 s)
    }
    const Connection b1 = *s->connection(kPairs + 2);
    QCOMPARE(b1.role, ConnectionRole::Server);
    QCOMPARE(b1.startNs, kT0 + kOut + kTurn + kBack + kOut + off + kSkew);
    QCOMPARE(b1.packets.isnLocal, qint64(0xfff00000u));

    // Packets: each once, ids renumbered after A's, each joined to its new connection.
    QCOMPARE(s->packetCount(), m_aPackets + m_bPackets);
    QSet<qint64> ids;
    s->forEachPacket(-1, [&](const Packet &p) {
        ids.insert(p.id);
        if (p.id > m_aPackets && p.connectionId != 0) {
            if (p.connectionId <= kPairs + 1)
                qWarning("packet %lld of B joined to A's connection", p.id);
        }
        return true;
    });
    QCOMPARE(ids.size(), int(m_aPackets + m_bPackets));
    QCOMPARE(*std::max_element(ids.cbegin(), ids.cend()), m_aPackets + m_bPackets);
    const QVector<Packet> bPackets = s->packets(kPairs + 2);
    QCOMPARE(bPackets.size(), 4);
    QCOMPARE(bPackets.first().id, m_aPackets + 1);
    QCOMPARE(bPackets.first().timeNs, kT0 + kOut + kSkew + off); // SYN received at beta
    QCOMPARE(s->packetCount(0), 2);                              // one unjoined packet from each

    // Samples, events, drops, alerts follow their connections' new ids.
    const KernelData bx = s->kernelData(2 * (kPairs + 1));
    QCOMPARE(bx.samples.size(), 1);
    QCOMPARE(bx.events.size(), 1);
    QCOMPARE(s->kernelData(0, false).drops.size(), 2);
    const QVector<Alert> alerts = s->alerts();
    QCOMPARE(alerts.size(), 2);
    QCOMPARE(alerts[0].connections, (QVector<qint64>{1, kPairs + 1}));
    QCOMPARE(alerts[1].connections, (QVector<qint64>{kPairs + 2, 2 * (kPairs + 1)}));
    QCOMPARE(alerts[1].packets, (QVector<qint64>{m_aPackets + 1}));
    // Annotations: both, on the new ids and the shifted axis.
    const QVector<Annotation> notes = s->annotations();
    QCOMPARE(notes.size(), 2);
    QCOMPARE(notes[0].connectionId, 2);
    QCOMPARE(notes[1].connectionId, kPairs + 1 + 2);
    QCOMPARE(notes[1].packetId, m_aPackets + 5);
    QCOMPARE(notes[1].startNs, kT0 + 1'000'000'000 + kSkew + off);
    // Interfaces of the same index on two hosts: the second gets its own number.
    QCOMPARE(s->info().interfaces.size(), 2);
    // Meta: earliest start, latest stop (on the reference axis), counters summed.
    QCOMPARE(s->info().startedNs, kT0 - 1'000'000'000);
    QCOMPARE(s->info().stoppedNs, kT0 + 10'000'000'000 + kSkew + off);
    QCOMPARE(s->info().recordsReceived, 30u);
    // Per-second aggregates on the shifted axis: every connection opened in a second near kT0.
    qint64 opened = 0;
    for (const SecondBucket &b : s->seconds())
        opened += b.opened;
    QCOMPARE(opened, 2 * (kPairs + 1));
    QVERIFY(s->seconds().last().secondNs < kT0 + 92'000'000'000);
}

void TestSessionMerge::userOffsetIsExact()
{
    const QString out = file("user.tcpscope");
    MergeOptions o;
    o.inputs = {m_a, m_b};
    o.output = out;
    MergeOffset off;
    QString error;
    QVERIFY(parseMergeOffset(QStringLiteral("beta=-5000.25"), &off, &error));
    QCOMPARE(off.offsetNs, -5'000'250'000);
    o.offsets = {off};
    MergeReport r;
    QVERIFY2(mergeSessions(o, &r, &error), qPrintable(error));
    auto s = Session::open(out, &error);
    QCOMPARE(s->hosts()[1].offsetMethod, OffsetMethod::User);
    QCOMPARE(s->hosts()[1].clockOffsetNs, -5'000'250'000);
    QCOMPARE(s->packets(kPairs + 2).first().timeNs, kT0 + kOut + kSkew - 5'000'250'000);
    // By file name too; an offset for the reference host moves it as well.
    o.offsets = {{QStringLiteral("beta.tcpscope"), 7}, {QStringLiteral("alpha"), -3}};
    o.force = true;
    QVERIFY2(mergeSessions(o, &r, &error), qPrintable(error));
    s = Session::open(out, &error);
    QCOMPARE(s->hosts()[0].clockOffsetNs, -3);
    QCOMPARE(s->hosts()[1].clockOffsetNs, 7);
    QCOMPARE(s->connection(1)->startNs, kT0 - 3);
    // Bad offsets.
    QVERIFY(!parseMergeOffset(QStringLiteral("beta"), &off, &error));
    QVERIFY(!parseMergeOffset(QStringLiteral("beta=5ms"), &off, &error));
    QVERIFY(!parseMergeOffset(QStringLiteral("=5"), &off, &error));
    QVERIFY2(error.contains(QLatin1String("HOST=")), qPrintable(error));
}

void TestSessionMerge::nothingToAlignOn()
{
    // Other ports: no connection pairs; offset 0 with a warning.
    const QString c = writeHost(file("gamma.tcpscope"), false, false, 50).path;
    MergeOptions o;
    o.inputs = {m_a, c};
    o.output = file("none.tcpscope");
    MergeReport r;
    QString error;
    QVERIFY2(mergeSessions(o, &r, &error), qPrintable(error));
    QCOMPARE(r.hosts[1].offsetMethod, OffsetMethod::None);
    QCOMPARE(r.hosts[1].clockOffsetNs, 0);
    QCOMPARE(r.warnings.size(), 1);
    QVERIFY2(r.warnings[0].contains(QLatin1String("offset 0")), qPrintable(r.warnings[0]));
}

void TestSessionMerge::multiHostInputKeepsHosts()
{
    MergeOptions o;
    o.inputs = {m_a, m_b};
    o.output = file("ab.tcpscope");
    MergeReport r;
    QString error;
    QVERIFY2(mergeSessions(o, &r, &error), qPrintable(error));
    const qint64 betaOffset = r.hosts[1].clockOffsetNs;
    const QString c = writeHost(file("gamma.tcpscope"), false, false, 50).path;
    o.inputs = {c, o.output};
    o.output = file("abc.tcpscope");
    o.offsets = {{QStringLiteral("ab.tcpscope"), 1000}};
    QVERIFY2(mergeSessions(o, &r, &error), qPrintable(error));
    auto s = Session::open(o.output, &error);
    const QVector<HostInfo> hosts = s->hosts();
    QCOMPARE(hosts.size(), 3);
    QCOMPARE(hosts[0].name, QStringLiteral("beta"));
    QCOMPARE(hosts[1].name, QStringLiteral("alpha"));
    QCOMPARE(hosts[2].name, QStringLiteral("beta"));
    QCOMPARE(hosts[1].clockOffsetNs, 1000);
    QCOMPARE(hosts[2].clockOffsetNs, betaOffset + 1000); // its earlier alignment, plus 1000
    QCOMPARE(hosts[2].offsetMethod, OffsetMethod::User);
    QCOMPARE(s->connection(kPairs + 1)->hostId, 1);
    QCOMPARE(s->connection(kPairs + 1 + kPairs + 2)->hostId, 2);
    QCOMPARE(s->connectionCount(), qint64(kPairs + 2 * (kPairs + 1)));
}

// host.name and the export's host column name each connection's own host.
void TestSessionMerge::hostPerConnection()
{
    MergeOptions o;
    o.inputs = {m_a, m_b};
    o.output = file("hp.tcpscope");
    QString error;
    QVERIFY2(mergeSessions(o, nullptr, &error), qPrintable(error));
    auto s = Session::open(o.output, &error);
    const DisplayFilter f =
        DisplayFilter::compile(QStringLiteral("host.name == beta"), FilterTarget::Connections);
    QVERIFY(f.isValid());
    const FilterContext context = filterContextForSession(*s, f);
    QVector<qint64> beta;
    s->forEachConnection(
        [&](const Connection &c) {
            if (f.matches(c, context))
                beta.append(c.id);
            return true;
        },
        false);
    QCOMPARE(beta.size(), kPairs + 1);
    QCOMPARE(beta.first(), kPairs + 2);
    const DisplayFilter pf =
        DisplayFilter::compile(QStringLiteral("host.name == alpha"), FilterTarget::Packets);
    const FilterContext pc = filterContextForSession(*s, pf);
    qint64 alphaPackets = 0;
    s->forEachPacket(-1, [&](const Packet &p) {
        alphaPackets += pf.matches(p, pc) ? 1 : 0;
        return true;
    });
    QCOMPARE(alphaPackets, m_aPackets + 1); // its own, and B's unjoined one (host 0)
    const QString csv = file("hp.csv");
    QVERIFY2(exportConnections(*s, csv, &error), qPrintable(error));
    QFile in(csv);
    QVERIFY(in.open(QIODevice::ReadOnly));
    const QList<QByteArray> lines = in.readAll().split('\n');
    const int col = int(lines[0].split(',').indexOf("host"));
    QVERIFY(col >= 0);
    QCOMPARE(lines[1].split(',').value(col), QByteArray("alpha"));
    QCOMPARE(lines[kPairs + 2].split(',').value(col), QByteArray("beta"));
}

// A session of the row format (3) merges like any other: one host, ISNs unknown (the format
// has no such columns), aligned on the state changes' handshake times.
void TestSessionMerge::olderFormatInput()
{
    const Written old = writeHost(file("beta3.tcpscope"), false, false, 0, 3);
    QString error;
    auto in = Session::open(old.path, &error);
    QVERIFY2(in, qPrintable(error));
    QCOMPARE(in->format().major, 3);
    QCOMPARE(in->hosts().size(), 1);
    QCOMPARE(in->connection(1)->packets.isnLocal, -1);
    in.reset();
    MergeOptions o;
    o.inputs = {m_a, old.path};
    o.output = file("a3.tcpscope");
    MergeReport r;
    QVERIFY2(mergeSessions(o, &r, &error), qPrintable(error));
    QCOMPARE(r.hosts[1].offsetMethod, OffsetMethod::Handshakes);
    QCOMPARE(r.hostPairs[1], kPairs);
    QVERIFY(std::abs(r.hosts[1].clockOffsetNs + kSkew) <= r.hosts[1].offsetErrorNs);
    auto s = Session::open(o.output, &error);
    QCOMPARE(s->packetCount(), m_aPackets + old.packets);
    QCOMPARE(s->format().minor, 6);
}

// Without handshake packets the state changes stand in: the client's SYN_SENT and ESTABLISHED,
// the server's accept (at the final ACK). The skew is still found within the stated bound,
// which is half the handshake's round trip.
void TestSessionMerge::alignOnStateChanges()
{
    const QString a = writeHost(file("a-np.tcpscope"), true, false, 0, 4, false).path;
    const QString b = writeHost(file("b-np.tcpscope"), false, false, 0, 4, false).path;
    MergeOptions o;
    o.inputs = {a, b};
    o.output = file("np.tcpscope");
    MergeReport r;
    QString error;
    QVERIFY2(mergeSessions(o, &r, &error), qPrintable(error));
    QCOMPARE(r.hosts[1].offsetMethod, OffsetMethod::Handshakes);
    QCOMPARE(r.hostPairs[1], kPairs);
    const qint64 off = r.hosts[1].clockOffsetNs, err = r.hosts[1].offsetErrorNs;
    QCOMPARE(err, (kOut + kTurn + kBack) / 2);
    QVERIFY2(std::abs(off + kSkew) <= err, qPrintable(QStringLiteral("%1 ± %2").arg(off).arg(err)));
}

void TestSessionMerge::hostileHostsRows()
{
    MergeOptions o;
    o.inputs = {m_a, m_b};
    o.output = file("h.tcpscope");
    QString error;
    QVERIFY2(mergeSessions(o, nullptr, &error), qPrintable(error));
    sql(o.output, "UPDATE hosts SET clock_offset_ns = 'soon', offset_method = 'magic' WHERE id = 1;"
                  "UPDATE connections SET host_id = 99999, isn_local = -7 WHERE id = 2");
    auto s = Session::open(o.output, &error);
    QVERIFY2(s, qPrintable(error));
    QCOMPARE(s->hosts().size(), 2);
    QCOMPARE(s->hosts()[1].clockOffsetNs, 0);
    QCOMPARE(s->hosts()[1].offsetMethod, OffsetMethod::None);
    const Connection c = *s->connection(2);
    QCOMPARE(c.hostId, 0);
    QCOMPARE(c.packets.isnLocal, -1);
    QCOMPARE(s->valuesOutOfRange(), 4u);
    // A gap in the ids: the hosts after it cannot be placed.
    s.reset();
    sql(o.output, "UPDATE hosts SET id = 5 WHERE id = 1");
    s = Session::open(o.output, &error);
    QVERIFY2(s, qPrintable(error));
    QCOMPARE(s->hosts().size(), 1);
}

void TestSessionMerge::badInputs()
{
    const QString out = file("bad.tcpscope");
    MergeOptions o;
    o.output = out;
    QString error;
    auto refused = [&](const QStringList &inputs, const char *expect) {
        o.inputs = inputs;
        error.clear();
        const bool ok = mergeSessions(o, nullptr, &error);
        QVERIFY(!ok);
        QVERIFY2(error.contains(QLatin1String(expect)), qPrintable(error));
        QVERIFY(!error.contains(QLatin1Char('\n')));
        QVERIFY(!QFile::exists(out));
    };
    refused({m_a}, "at least two");
    refused({m_a, file("missing.tcpscope")}, "missing.tcpscope: no such file");
    QFile junk(file("junk.tcpscope"));
    QVERIFY(junk.open(QIODevice::WriteOnly));
    junk.write(QByteArray(4096, 'x'));
    junk.close();
    refused({m_a, junk.fileName()}, "junk.tcpscope: not a tcpscope session");
    o.offsets = {{QStringLiteral("nobody"), 1}};
    refused({m_a, m_b}, "--offset nobody: no input host or file of that name");
    o.offsets.clear();
    o.output = m_b;
    o.force = true;
    refused({m_a, m_b}, "is one of the inputs");
    // An existing output: refused, untouched; --force replaces it.
    o.output = out;
    o.force = false;
    QFile existing(out);
    QVERIFY(existing.open(QIODevice::WriteOnly));
    existing.write("keep");
    existing.close();
    o.inputs = {m_a, m_b};
    QVERIFY(!mergeSessions(o, nullptr, &error));
    QVERIFY2(error.contains(QLatin1String("exists; --force replaces it")), qPrintable(error));
    QVERIFY(existing.open(QIODevice::ReadOnly));
    QCOMPARE(existing.readAll(), QByteArray("keep"));
    existing.close();
    o.force = true;
    QVERIFY2(mergeSessions(o, nullptr, &error), qPrintable(error));
    QVERIFY(Session::open(out, &error));
    // Never through a symlink, even with --force.
    const QString link = file("link.tcpscope");
    QVERIFY(QFile::link(m_a, link));
    o.output = link;
    QVERIFY(!mergeSessions(o, nullptr, &error));
    QVERIFY2(error.contains(QLatin1String("link.tcpscope")), qPrintable(error));
}

QTEST_GUILESS_MAIN(TestSessionMerge)
#include "test_session_merge.moc"
