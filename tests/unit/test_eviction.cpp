// SPDX-License-Identifier: GPL-3.0-or-later
// Eviction of closed connections from the ingest side (ConnectionTracker, PacketJoiner,
// KernelJoiner): many connections come and go, the structures shrink back once the grace period
// has passed, and records that arrive for an evicted connection are late (stored unjoined,
// counted), never joined to a wrong connection and never the founder of a new one.
#include "connection_tracker.h"
#include "kernel_joiner.h"
#include "packet_joiner.h"
#include "record_builders.h"
#include "session/session.h"
#include "session/session_writer.h"

#include <QTemporaryDir>
#include <QTest>

using namespace tcpscope;
using namespace testrec;

class TestEviction : public QObject
{
    Q_OBJECT

private slots:
    void manyConnectionsShrinkBack();
    void capEvictsEarly();
    void pendingRowIsNotEvicted();
    void lateRecordsAfterEviction();
    void tupleReuseSurvivesEviction();
    void listenerEvicted();
    void writerForgetsEvictedConnections();
};

namespace {
constexpr qint64 kOffset = 1'700'000'000'000'000'000;
constexpr quint64 kMs = 1'000'000;
constexpr quint64 kSec = 1'000'000'000;
constexpr __u8 kIn = TS_DIR_INGRESS;
constexpr __u8 kOut = TS_DIR_EGRESS;
const Endpoint kListen{AF_INET, "0.0.0.0", 8080, "0.0.0.0", 0};

Endpoint clientEp(int i)
{
    return Endpoint{AF_INET, "127.0.0.1", __u16(20000 + i), "127.0.0.1", 8080};
}

// The ingest thread's wiring and its publish step (live_capture_ingest.cpp): rows taken, then
// eviction by record time.
struct Rig
{
    ConnectionTracker tracker;
    PacketJoiner packets{tracker};
    KernelJoiner kernel{tracker, packets};
    QVector<Packet> packetsOut;
    KernelData kernelOut;
    SessionWriter *writer = nullptr; // when set, publish() writes like the ingest thread
    Rig()
    {
        packets.setClockOffset(kOffset);
        kernel.setClockOffset(kOffset);
    }
    void state(const ts_state_change &rec)
    {
        packets.onStateChange(rec);
        kernel.onStateChange(rec);
    }
    void publish()
    {
        const QVector<Packet> taken = packets.takePackets();
        packetsOut += taken;
        const KernelData d = kernel.takeData();
        kernelOut.samples += d.samples;
        kernelOut.events += d.events;
        const QVector<Connection> changed = tracker.takeChanged();
        if (writer) {
            for (const Connection &c : changed)
                writer->writeConnection(c);
            writer->writePackets(taken);
            writer->writeKernelData(d);
        }
        const QVector<Connection> gone = tracker.evictClosed(
            qint64(std::max(packets.nowMonoNs(), kernel.nowMonoNs())) + kOffset);
        packets.forget(gone);
        kernel.forget(gone);
        if (writer) {
            QVector<qint64> ids;
            for (const Connection &c : gone)
                ids.push_back(c.id);
            writer->forgetConnections(ids);
        }
    }
    // A whole client connection with sock id `sock` starting at t: handshake, data, samples,
    // orderly close, close stats, and the TIME_WAIT socket's last ACK.
    void connection(quint64 sock, const Endpoint &ep, quint64 t)
    {
        const Endpoint peer = swapped(ep);
        state(change(sock, t, CLOSE, SYN_SENT, ep));
        packets.onPacket(packet(sock, t, kOut, ep, TS_TCP_SYN, 100, 0, 0, 65535, SYN_SENT));
        packets.onPacket(packet(sock, t + kMs / 10, kIn, peer, TS_TCP_SYN | TS_TCP_ACK, 500, 101));
        state(change(sock, t + kMs / 10, SYN_SENT, ESTABLISHED, ep));
        packets.onPacket(packet(sock, t + kMs / 5, kOut, ep, TS_TCP_ACK, 101, 501));
        packets.onPacket(packet(sock, t + kMs / 4, kOut, ep, TS_TCP_ACK, 101, 501, 1000));
        kernel.onSample(tcpSample(sock, t + kMs / 4, ep, 40, 10));
        packets.onPacket(packet(sock, t + kMs / 3, kIn, peer, TS_TCP_ACK, 501, 1101));
        state(change(sock, t + kMs / 2, ESTABLISHED, FIN_WAIT1, ep));
        packets.onPacket(packet(sock, t + kMs / 2, kOut, ep, TS_TCP_FIN | TS_TCP_ACK, 1101, 501));
        state(change(sock, t + kMs / 2, FIN_WAIT1, FIN_WAIT2, ep));
        packets.onPacket(packet(sock, t + kMs / 2, kIn, peer, TS_TCP_FIN | TS_TCP_ACK, 501, 1102));
        state(change(sock, t + kMs / 2, FIN_WAIT2, CLOSE, ep));
        packets.onCloseStats(closeStats(sock, t + kMs / 2, FIN_WAIT2, 0, 1000, 0));
        packets.onPacket(
            packet(sock, t + kMs / 2 + 1, kOut, ep, TS_TCP_ACK, 1102, 502, 0, 65535, TIME_WAIT));
    }
};
} // namespace

void TestEviction::manyConnectionsShrinkBack()
{
    Rig rig;
    constexpr int kCount = 5000;
    // A long-lived connection that stays open all along: it is never evicted.
    rig.state(change(1, 1 * kSec, CLOSE, SYN_SENT, clientEp(-1)));
    rig.state(change(1, 1 * kSec, SYN_SENT, ESTABLISHED, clientEp(-1)));
    for (int i = 0; i < kCount; ++i) {
        rig.connection(100 + quint64(i), clientEp(i % 30000), 2 * kSec + quint64(i) * kMs);
        if (i % 500 == 0)
            rig.publish();
    }
    rig.publish();
    const quint64 lastClose = 2 * kSec + quint64(kCount) * kMs;
    // Within the grace period everything is kept: trailing records still join.
    QCOMPARE(rig.tracker.size(), kCount + 1);
    QCOMPARE(rig.packets.analyzersHeld(), kCount);
    QCOMPARE(rig.tracker.evicted(), 0u);
    for (const Packet &p : std::as_const(rig.packetsOut))
        QVERIFY(p.connectionId != 0);
    QCOMPARE(rig.packetsOut.size(), kCount * 8);
    QCOMPARE(rig.tracker.orphanCloseStats(), 0u);

    // Record time moves on past the grace period (e.g. the helper's Stats on a quiet network).
    rig.packets.advanceTo(lastClose + quint64(rig.tracker.limits().graceNs) + kSec);
    rig.publish();
    QCOMPARE(rig.tracker.size(), 1); // only the open one
    QVERIFY(rig.tracker.find(1));
    QCOMPARE(rig.tracker.closedHeld(), 0);
    QCOMPARE(rig.packets.analyzersHeld(), 0); // the open one never had a packet
    QCOMPARE(rig.packets.tuplesHeld(), 1);    // the open one's tuple
    QCOMPARE(rig.tracker.evicted(), quint64(kCount));
    QCOMPARE(rig.tracker.evictedEarly(), 0u);
    QCOMPARE(rig.tracker.seen(), quint64(kCount + 1)); // ids are never reused
    QCOMPARE(rig.packets.packetsLate(), 0u);
}

void TestEviction::capEvictsEarly()
{
    Rig rig;
    ConnectionTracker::Limits limits;
    limits.maxClosed = 100;
    rig.tracker.setLimits(limits);
    for (int i = 0; i < 1000; ++i)
        rig.connection(100 + quint64(i), clientEp(i), 2 * kSec + quint64(i) * kMs);
    rig.publish();
    QCOMPARE(rig.tracker.size(), 100);
    QCOMPARE(rig.tracker.closedHeld(), 100);
    QCOMPARE(rig.packets.analyzersHeld(), 100);
    QCOMPARE(rig.tracker.evictedEarly(), 900u);
    // The newest closed are the ones kept.
    QVERIFY(rig.tracker.find(1000));
    QVERIFY(!rig.tracker.find(900));
}

void TestEviction::pendingRowIsNotEvicted()
{
    Rig rig;
    rig.connection(5, clientEp(1), 1 * kSec);
    rig.publish();
    // Close stats (again) after the row was taken: the connection has a pending row now.
    rig.packets.onCloseStats(closeStats(5, 1 * kSec + kMs, FIN_WAIT2, 0, 4242, 0));
    rig.packets.advanceTo(100 * kSec);
    const QVector<Connection> none = rig.tracker.evictClosed(100 * kSec + kOffset);
    QVERIFY(none.isEmpty());
    QVERIFY(rig.tracker.find(1));
    const QVector<Connection> rows = rig.tracker.takeChanged();
    QCOMPARE(rows.size(), 1);
    QCOMPARE(rows.first().bytesSent, 4242u);
    const QVector<Connection> gone = rig.tracker.evictClosed(100 * kSec + kOffset);
    QCOMPARE(gone.size(), 1);
    QCOMPARE(gone.first().bytesSent, 4242u); // the evicted value is the row last handed on
}

void TestEviction::lateRecordsAfterEviction()
{
    Rig rig;
    const Endpoint ep = clientEp(7);
    rig.connection(5, ep, 1 * kSec);
    rig.packets.advanceTo(100 * kSec);
    rig.publish();
    QCOMPARE(rig.tracker.size(), 0);
    QVERIFY(rig.tracker.wasEvicted(5));
    rig.packetsOut.clear();

    // A packet, a sample and close stats that still name the evicted socket. The packet even
    // claims an established socket: it must not found a "predating" connection.
    rig.packets.onPacket(packet(5, 101 * kSec, kOut, ep, TS_TCP_ACK, 1, 1, 10));
    rig.kernel.onSample(tcpSample(5, 101 * kSec, ep, 40, 10));
    rig.packets.onCloseStats(closeStats(5, 101 * kSec, FIN_WAIT2));
    rig.packets.flushAll();
    rig.kernel.flushAll();
    rig.publish();
    QCOMPARE(rig.packetsOut.size(), 1);
    QCOMPARE(rig.packetsOut.first().connectionId, 0); // stored, not joined
    QCOMPARE(rig.packets.packetsLate(), 1u);
    QCOMPARE(rig.packets.packetsUnjoined(), 1u);
    QCOMPARE(rig.kernelOut.samples.size(), 2);
    QCOMPARE(rig.kernelOut.samples.last().connectionId, 0);
    QCOMPARE(rig.kernel.late(), 1u);
    QCOMPARE(rig.tracker.orphanCloseStats(), 1u);
    QCOMPARE(rig.tracker.seen(), 1u); // nothing founded
    QCOMPARE(rig.tracker.size(), 0);

    // A packet of the tuple without a socket (or of an unknown socket) is not late, just
    // unjoined; a pure SYN on the tuple waits for its new connection as always.
    rig.packets.onPacket(packet(0, 102 * kSec, kOut, ep, TS_TCP_SYN, 9000, 0, 0, 65535, 0));
    rig.state(change(6, 102 * kSec + 1, CLOSE, SYN_SENT, ep));
    rig.publish();
    QCOMPARE(rig.packetsOut.last().connectionId, 2);
    QCOMPARE(rig.packets.packetsLate(), 1u);
}

void TestEviction::tupleReuseSurvivesEviction()
{
    // tcp_tw_reuse: a new connection takes the tuple while the old one is closed but held.
    Rig rig;
    const Endpoint ep = clientEp(3);
    rig.connection(5, ep, 1 * kSec);
    rig.connection(6, ep, 2 * kSec); // id 2, same tuple
    rig.publish();
    rig.packetsOut.clear();
    // The first is evicted, the second (closed later) is not yet.
    rig.packets.advanceTo(1 * kSec + quint64(rig.tracker.limits().graceNs) + kSec / 2);
    rig.publish();
    QVERIFY(!rig.tracker.find(1));
    QVERIFY(rig.tracker.find(2));
    QCOMPARE(rig.packets.tuplesHeld(), 1);
    // A trailing packet of the tuple from a socket without an id still joins the newer one; a
    // late one of the evicted socket does not.
    const quint64 t = 2 * kSec + 30 * kSec;
    rig.packets.onPacket(packet(0, t, kOut, ep, TS_TCP_RST, 1102, 0, 0, 0, 0));
    rig.packets.onPacket(packet(5, t, kOut, ep, TS_TCP_ACK, 1102, 502, 0, 65535, TIME_WAIT));
    rig.publish();
    QCOMPARE(rig.packetsOut.size(), 2);
    QCOMPARE(rig.packetsOut.at(0).connectionId, 2);
    QCOMPARE(rig.packetsOut.at(1).connectionId, 0);
    QCOMPARE(rig.packets.packetsLate(), 1u);
    // A third connection on the tuple after both are gone starts cleanly.
    rig.packets.advanceTo(300 * kSec);
    rig.publish();
    QCOMPARE(rig.packets.tuplesHeld(), 0);
    rig.packetsOut.clear();
    rig.connection(7, ep, 301 * kSec);
    rig.publish();
    QCOMPARE(rig.packetsOut.size(), 8);
    for (const Packet &p : std::as_const(rig.packetsOut))
        QCOMPARE(p.connectionId, 3);
    QCOMPARE(rig.tracker.find(3)->packets.packetsOut, 5u); // a fresh analyzer
}

void TestEviction::listenerEvicted()
{
    Rig rig;
    rig.state(change(50, 1 * kSec, CLOSE, LISTEN, kListen, 10, "server"));
    rig.kernel.onListener(listenerSample(50, 1 * kSec + kMs, AF_INET, "0.0.0.0", 8080, 1, 128, 0));
    rig.publish();
    QVERIFY(rig.kernel.listenersHeld() > 0);
    // Stops listening and closes; after the grace period nothing of it is kept.
    rig.state(change(50, 2 * kSec, LISTEN, CLOSE, kListen, 10, "server"));
    rig.packets.advanceTo(200 * kSec);
    rig.publish();
    QCOMPARE(rig.tracker.size(), 0);
    QCOMPARE(rig.kernel.listenersHeld(), 0);
    // A later listener sample of a new listener on the port is not joined to the evicted one.
    rig.kernel.onListener(listenerSample(51, 201 * kSec, AF_INET, "0.0.0.0", 8080, 0, 128, 0));
    rig.kernel.flushAll();
    rig.publish();
    QCOMPARE(rig.tracker.size(), 1);
    QCOMPARE(rig.tracker.all().first().id, 2);
}

void TestEviction::writerForgetsEvictedConnections()
{
    // The session writer follows the tracker: what it keeps per connection (state changes in
    // the file, chunk tuples, stored totals) goes when the connection is evicted, and the file
    // still holds every connection whole.
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString file = dir.filePath(QStringLiteral("evicted.tcpscope"));
    QString error;
    auto writer = SessionWriter::create(file, &error);
    QVERIFY2(writer, qPrintable(error));
    Rig rig;
    rig.writer = writer.get();
    constexpr int kCount = 3000;
    rig.state(change(1, 1 * kSec, CLOSE, SYN_SENT, clientEp(-1)));
    rig.state(change(1, 1 * kSec, SYN_SENT, ESTABLISHED, clientEp(-1)));
    for (int i = 0; i < kCount; ++i) {
        rig.connection(100 + quint64(i), clientEp(i % 30000), 2 * kSec + quint64(i) * kMs);
        if (i % 500 == 0)
            rig.publish();
    }
    rig.publish();
    QVERIFY(writer->flush(&error));
    QCOMPARE(writer->connectionsKept(), kCount + 1);

    rig.packets.advanceTo(2 * kSec + quint64(kCount) * kMs + quint64(rig.tracker.limits().graceNs) +
                          kSec);
    rig.publish();
    QCOMPARE(rig.tracker.evicted(), quint64(kCount));
    QVERIFY(writer->flush(&error));
    QCOMPARE(writer->connectionsKept(), 1); // the open one
    QVERIFY2(writer->close(&error), qPrintable(error));

    const auto session = Session::open(file, &error);
    QVERIFY2(session, qPrintable(error));
    QCOMPARE(session->connectionCount(), qint64(kCount + 1));
    QHash<qint64, int> packetsOf;
    session->forEachPacket(-1, [&](const Packet &p) {
        ++packetsOf[p.connectionId];
        return true;
    });
    int whole = 0;
    for (const Connection &c : session->allConnections(true)) {
        if (c.endNs == 0)
            continue; // the open one
        const bool complete = c.history.size() == 5 && c.history.last().to == TcpState::Close &&
                              c.packets.packetsIn + c.packets.packetsOut == 8 &&
                              packetsOf.value(c.id) == 8;
        whole += complete ? 1 : 0;
    }
    QCOMPARE(whole, kCount);
}

QTEST_GUILESS_MAIN(TestEviction)
#include "test_eviction.moc"
