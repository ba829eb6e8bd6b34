// SPDX-License-Identifier: GPL-3.0-or-later
// RecordPipeline: the reorder window (records back in time order, inversions beyond the window
// processed in arrival order and counted, durations never negative) and connection instances
// on reused 4-tuples (after TIME_WAIT, after RST, SO_REUSEADDR listeners, evicted sockets).
#include "pipeline/record_pipeline.h"
#include "record_builders.h"

#include <QTest>

#include <algorithm>
#include <cstring>
#include <random>

using namespace tcpscope;
using namespace testrec;

class TestRecordPipeline : public QObject
{
    Q_OBJECT

private slots:
    void windowOrdersWithin();
    void windowLateBeyond();
    void windowAdvanceAndFlush();
    void windowMatchesReference();
    void windowKeepsEveryByte();
    void flushInSteps();
    void negativeAckRttClamped();
    void serverReuseAfterTimeWait();
    void clientReuseAfterTimeWait();
    void reuseAfterReset();
    void reuseAddrListeners();
    void evictedSocketHandshakeGoesToNextInstance();
    void packetIdsInTimeOrder();
    void tupleKeys();
    void lateHandshakeGoesToNextInstance();
};

namespace {
constexpr qint64 kOffset = 1'700'000'000'000'000'000;
constexpr quint64 kUs = 1'000;
constexpr quint64 kMs = 1'000'000;
constexpr quint64 kSec = 1'000'000'000;
constexpr __u8 kIn = TS_DIR_INGRESS;
constexpr __u8 kOut = TS_DIR_EGRESS;
// The server's view of a connection from client port 40000 (local = server).
const Endpoint kServer{AF_INET, "127.0.0.1", 8080, "127.0.0.1", 40000};
const Endpoint kClient = swapped(kServer);
const Endpoint kListen{AF_INET, "0.0.0.0", 8080, "0.0.0.0", 0};

wire::Record rec(const ts_state_change &r)
{
    wire::Record w;
    w.type = TS_REC_STATE_CHANGE;
    w.stateChange = r;
    return w;
}
wire::Record rec(const ts_packet &r)
{
    wire::Record w;
    w.type = TS_REC_PACKET;
    w.packet = r;
    return w;
}
wire::Record rec(const ts_listener_sample &r)
{
    wire::Record w;
    w.type = TS_REC_LISTENER;
    w.listener = r;
    return w;
}

struct Rig
{
    RecordPipeline pipe;
    QVector<Packet> packets;
    explicit Rig(quint64 windowNs = 10 * kMs) : pipe(windowNs) { pipe.setClockOffset(kOffset); }
    template <typename T> void push(const T &r) { pipe.push(rec(r)); }
    void finish()
    {
        pipe.flushAll();
        packets += pipe.takePackets();
        pipe.takeChanged();
    }
    // The server side of one connection, accepted from listener sock 1: the child is `sock`,
    // request socket `req`; handshake, 100 bytes in, orderly close by the client (the server
    // goes CLOSE_WAIT -> LAST_ACK -> CLOSE). Client ISN `cisn`, server ISN `sisn`.
    void serverConnection(quint64 sock, quint64 req, quint64 t, __u32 cisn, __u32 sisn)
    {
        push(packet(0, t, kIn, kClient, TS_TCP_SYN, cisn, 0, 0, 65535, 0));
        push(packet(req, t + 10 * kUs, kOut, kServer, TS_TCP_SYN | TS_TCP_ACK, sisn, cisn + 1, 0,
                    65535, NEW_SYN_RECV));
        push(packet(req, t + 20 * kUs, kIn, kClient, TS_TCP_ACK, cisn + 1, sisn + 1, 0, 65535,
                    NEW_SYN_RECV));
        push(change(sock, t + 21 * kUs, SYN_RECV, ESTABLISHED, kServer, 200, "server"));
        push(packet(sock, t + 30 * kUs, kIn, kClient, TS_TCP_ACK, cisn + 1, sisn + 1, 100));
        push(packet(sock, t + 40 * kUs, kOut, kServer, TS_TCP_ACK, sisn + 1, cisn + 101));
        push(packet(sock, t + 50 * kUs, kIn, kClient, TS_TCP_FIN | TS_TCP_ACK, cisn + 101,
                    sisn + 1));
        push(change(sock, t + 50 * kUs, ESTABLISHED, CLOSE_WAIT, kServer, 200, "server"));
        push(change(sock, t + 60 * kUs, CLOSE_WAIT, LAST_ACK, kServer, 200, "server"));
        push(packet(sock, t + 60 * kUs, kOut, kServer, TS_TCP_FIN | TS_TCP_ACK, sisn + 1,
                    cisn + 102, 0, 65535, LAST_ACK));
        push(packet(sock, t + 70 * kUs, kIn, kClient, TS_TCP_ACK, cisn + 102, sisn + 2, 0, 65535,
                    LAST_ACK));
        push(change(sock, t + 70 * kUs, LAST_ACK, CLOSE, kServer, 200, "server"));
    }
    QVector<Packet> of(qint64 connectionId) const
    {
        QVector<Packet> out;
        for (const Packet &p : packets)
            if (p.connectionId == connectionId)
                out.append(p);
        return out;
    }
};

quint32 problems(const QVector<Packet> &packets)
{
    quint32 flags = 0;
    for (const Packet &p : packets)
        flags |= p.analysis & (AnalysisPreviousSegmentNotCaptured | AnalysisAckedUnseenSegment |
                               AnalysisRetransmission | AnalysisOutOfOrder);
    return flags;
}
} // namespace

void TestRecordPipeline::windowOrdersWithin()
{
    QVector<quint64> out;
    ReorderWindow w([&](const wire::Record &r) { out.append(r.header.ts_ns); }, 100);
    const quint64 arrival[] = {1000, 1010, 990, 1020, 1005, 1100, 1090, 1300};
    for (quint64 ts : arrival) {
        wire::Record r = rec(packet(1, ts, kIn, kClient, TS_TCP_ACK));
        w.push(r);
    }
    // Everything up to 1300 - 100 is out, in time order; the rest is held.
    QCOMPARE(out, (QVector<quint64>{990, 1000, 1005, 1010, 1020, 1090, 1100}));
    QCOMPARE(w.held(), 1);
    QCOMPARE(w.inversions(), 3u); // 990, 1005, 1090
    QCOMPARE(w.maxInversionNs(), 20u);
    QCOMPARE(w.late(), 0u);
    w.flush();
    QCOMPARE(out.last(), 1300u);
}

void TestRecordPipeline::windowLateBeyond()
{
    QVector<quint64> out;
    ReorderWindow w([&](const wire::Record &r) { out.append(r.header.ts_ns); }, 100);
    for (quint64 ts : {1000ull, 1200ull, 1300ull}) // releases 1000 and up to 1200
        w.push(rec(packet(1, ts, kIn, kClient, TS_TCP_ACK)));
    QCOMPARE(out, (QVector<quint64>{1000, 1200}));
    // Older than what was released: out at once, in arrival order, counted.
    w.push(rec(packet(1, 1150, kIn, kClient, TS_TCP_ACK)));
    w.push(rec(packet(1, 900, kIn, kClient, TS_TCP_ACK)));
    QCOMPARE(out, (QVector<quint64>{1000, 1200, 1150, 900}));
    QCOMPARE(w.late(), 2u);
    QCOMPARE(w.maxLateNs(), 300u);
    QCOMPARE(w.maxInversionNs(), 400u);
    // Within the window of the newest: still ordered.
    w.push(rec(packet(1, 1250, kIn, kClient, TS_TCP_ACK)));
    w.flush();
    QCOMPARE(out.mid(4), (QVector<quint64>{1250, 1300}));
    QCOMPARE(w.late(), 2u);
}

void TestRecordPipeline::windowAdvanceAndFlush()
{
    QVector<quint64> out;
    ReorderWindow w([&](const wire::Record &r) { out.append(r.header.ts_ns); }, 100);
    w.push(rec(packet(1, 1000, kIn, kClient, TS_TCP_ACK)));
    wire::Record iface;
    iface.type = TS_REC_INTERFACE;
    iface.interface = interface(1, "lo");
    iface.interface.hdr.ts_ns = 5; // no order of its own: straight through
    w.push(iface);
    QCOMPARE(out, (QVector<quint64>{5}));
    w.advanceTo(1099);
    QCOMPARE(out.size(), 1);
    w.advanceTo(1100); // the helper's clock: quiet streams still release
    QCOMPARE(out, (QVector<quint64>{5, 1000}));
    QCOMPARE(w.held(), 0);
}

// The window against a plain model of its rule (hold everything, release what is at least the
// window older than the newest record or the helper's clock, oldest first, ties in arrival
// order; older than the newest released = out at once), on streams shaped like the helper's:
// several nearly ordered streams (rings, CPUs) delivered in batches, plus random stragglers,
// equal times and clock advances. Each record is told apart by its packet seq.
void TestRecordPipeline::windowMatchesReference()
{
    struct Held
    {
        quint64 ts, seq;
        quint32 id;
    };
    for (quint32 seed = 1; seed <= 40; ++seed) {
        std::mt19937_64 rng(seed);
        const quint64 window = 1000 + rng() % 5000;
        QVector<quint32> got, want;
        ReorderWindow w([&](const wire::Record &r) { got.append(r.packet.seq); }, window);
        std::vector<Held> held;
        quint64 newest = 0, released = 0, arrival = 0;
        auto releaseModel = [&](quint64 limit) {
            std::stable_sort(held.begin(), held.end(), [](const Held &a, const Held &b) {
                return a.ts != b.ts ? a.ts < b.ts : a.seq < b.seq;
            });
            std::size_t n = 0;
            while (n < held.size() && held[n].ts <= limit) {
                want.append(held[n].id);
                released = std::max(released, held[n].ts);
                ++n;
            }
            held.erase(held.begin(), held.begin() + std::ptrdiff_t(n));
        };
        const int streams = 1 + int(rng() % 24); // more than the window's runs, sometimes
        std::vector<quint64> clock(std::size_t(streams), 10'000);
        quint32 id = 0;
        for (int batch = 0; batch < 300; ++batch) {
            const std::size_t s = std::size_t(rng() % std::size_t(streams));
            const int count = 1 + int(rng() % 40);
            for (int i = 0; i < count; ++i) {
                clock[s] += rng() % 50; // 0: equal times
                quint64 ts = clock[s];
                if (rng() % 10 == 0)
                    ts = ts > 3000 ? ts - rng() % 3000 : ts; // a straggler from another CPU
                if (rng() % 200 == 0)
                    ts = 1 + rng() % 20'000; // far behind: likely later than the window
                wire::Record r = rec(packet(1, ts, kIn, kClient, TS_TCP_ACK));
                r.packet.seq = ++id;
                w.push(r);
                // The model.
                if (ts < released) {
                    want.append(id);
                } else {
                    held.push_back(Held{ts, arrival++, id});
                    newest = std::max(newest, ts);
                    if (newest > window)
                        releaseModel(newest - window);
                }
                QCOMPARE(got, want);
            }
            if (rng() % 8 == 0) {
                const quint64 at = *std::max_element(clock.begin(), clock.end()) + rng() % 3000;
                w.advanceTo(at);
                if (at > window)
                    releaseModel(at - window);
                QCOMPARE(got, want);
            }
            QCOMPARE(w.held(), qsizetype(held.size()));
        }
        w.flush();
        releaseModel(~0ull);
        QCOMPARE(got, want);
        QCOMPARE(w.held(), 0);
    }
}

// The window stores a held record in the bytes its type uses (a snapshot apart): every type
// comes out as it went in, field for field, also when slots are reused (a short window) and
// when more are held at once than one block of slots has room for (a window holding all).
void TestRecordPipeline::windowKeepsEveryByte()
{
    std::vector<wire::Record> in;
    auto add = [&in](__u16 type, const auto &body) {
        wire::Record r;
        r.type = type;
        std::memcpy(&r.header, &body, sizeof body);
        in.push_back(r);
    };
    const char payload[] = "GET / HTTP/1.1\r\nHost: example\r\n\r\n";
    for (quint64 round = 0; round < 600; ++round) {
        const quint64 t = 1000 + round * 1000;
        add(TS_REC_STATE_CHANGE, change(7, t + 9, SYN_SENT, ESTABLISHED, kClient, 4242, "curl"));
        add(TS_REC_CLOSE_STATS, closeStats(7, t + 8, FIN_WAIT1, -104, 123456789, 987654321));
        ts_packet p = packet(7, t + 7, kOut, kClient, TS_TCP_ACK | TS_TCP_PSH);
        p.seq = 0xdeadbeef;
        add(TS_REC_PACKET, p);
        add(TS_REC_PACKET_SNAP, packetSnap(p, payload, sizeof payload - 1));
        add(TS_REC_TCP_SAMPLE, tcpSample(7, t + 6, kClient, 1234, 10 + round));
        add(TS_REC_TCP_EVENT, tcpEvent(7, t + 5, TS_EV_RETRANSMIT, kClient, 3, -11));
        add(TS_REC_DROP, drop(7, t + 4, kClient, 2, 1, ESTABLISHED));
        add(TS_REC_LISTENER, listenerSample(9, t + 3, AF_INET6, "::1", 8080, 5, 128, 77 + round));
    }
    std::vector<const wire::Record *> want;
    want.reserve(in.size());
    for (const wire::Record &r : in)
        want.push_back(&r);
    std::stable_sort(want.begin(), want.end(), [](const wire::Record *a, const wire::Record *b) {
        return a->header.ts_ns < b->header.ts_ns;
    });
    // Timestamps run backwards within a round: everything is held, then comes out reordered.
    for (const quint64 window : {quint64(500), quint64(1) << 50}) {
        std::vector<wire::Record> out;
        ReorderWindow w([&out](const wire::Record &r) { out.push_back(r); }, window);
        for (const wire::Record &r : in)
            w.push(r);
        if (window > 500)
            QCOMPARE(w.held(), qsizetype(in.size())); // more than a block of slots
        w.flush();
        QCOMPARE(out.size(), in.size());
        for (std::size_t i = 0; i < out.size(); ++i) {
            QCOMPARE(out[i].type, want[i]->type);
            QCOMPARE(out[i].header.size, want[i]->header.size);
            QVERIFY2(std::memcmp(&out[i].header, &want[i]->header, want[i]->header.size) == 0,
                     qPrintable(QStringLiteral("record %1 (type %2) changed in the window")
                                    .arg(i)
                                    .arg(want[i]->type)));
        }
    }
}

// The end of a stream taken in steps (what a capture does when it stops) decides exactly what
// one flushAll() decides, a slice of record time at a time.
void TestRecordPipeline::flushInSteps()
{
    auto feed = [](Rig &rig) {
        rig.push(change(1, 1 * kMs, CLOSE, LISTEN, kListen, 200, "server"));
        for (quint64 i = 0; i < 40; ++i)
            rig.serverConnection(100 + 2 * i, 101 + 2 * i, 1 * kSec + i * 5 * kMs,
                                 __u32(1000 + i * 7), __u32(5000 + i * 11));
    };
    Rig all(500 * kMs);
    feed(all);
    all.finish();
    Rig steps(500 * kMs);
    feed(steps);
    QVERIFY(steps.pipe.window().held() > 400); // nothing released yet
    int batches = 0;
    while (steps.pipe.flushStep(20 * kMs)) {
        const QVector<Packet> part = steps.pipe.takePackets();
        steps.pipe.takeChanged();
        batches += part.isEmpty() ? 0 : 1;
        steps.packets += part;
    }
    QCOMPARE(steps.pipe.window().held(), 0);
    QVERIFY2(batches >= 5, qPrintable(QString::number(batches))); // 200 ms in 20 ms steps
    steps.finish();
    QCOMPARE(steps.packets.size(), all.packets.size());
    QCOMPARE(all.packets.size(), 40 * 8);
    for (qsizetype i = 0; i < all.packets.size(); ++i) {
        const Packet &a = all.packets.at(i), &b = steps.packets.at(i);
        QCOMPARE(b.id, a.id);
        QCOMPARE(b.connectionId, a.connectionId);
        QCOMPARE(b.timeNs, a.timeNs);
        QCOMPARE(b.seq, a.seq);
        QCOMPARE(b.analysis, a.analysis);
    }
    QCOMPARE(steps.pipe.tracker().size(), all.pipe.tracker().size());
}

void TestRecordPipeline::negativeAckRttClamped()
{
    // The data segment and its ACK from two CPUs: the ACK is stamped 10 ns before the segment
    // and arrives later than the window. Processed in arrival order; its RTT is 0, not -10.
    Rig rig(1 * kUs);
    const Endpoint ep = kClient; // a client socket, local = 40000
    const Endpoint peer = kServer;
    const quint64 t = 1 * kSec;
    rig.push(change(5, t, CLOSE, SYN_SENT, ep));
    rig.push(packet(5, t + 1, kOut, ep, TS_TCP_SYN, 100, 0, 0, 65535, SYN_SENT));
    rig.push(packet(5, t + 10 * kUs, kIn, peer, TS_TCP_SYN | TS_TCP_ACK, 500, 101));
    rig.push(change(5, t + 10 * kUs, SYN_SENT, ESTABLISHED, ep));
    rig.push(packet(5, t + 20 * kUs, kOut, ep, TS_TCP_ACK, 101, 501, 1000));
    rig.push(packet(5, t + 40 * kUs, kOut, ep, TS_TCP_ACK, 1101, 501, 10));   // releases the data
    rig.push(packet(5, t + 20 * kUs - 10, kIn, peer, TS_TCP_ACK, 501, 1101)); // late ACK
    rig.finish();
    QCOMPARE(rig.pipe.window().late(), 1u);
    bool sawAckRtt = false;
    for (const Packet &p : std::as_const(rig.packets)) {
        QVERIFY2(p.ackRttNs >= -1, qPrintable(QString::number(p.ackRttNs)));
        if (p.ack == 1101 && p.direction == PacketDirection::In) {
            QCOMPARE(p.ackRttNs, qint64(0));
            sawAckRtt = true;
        }
    }
    QVERIFY(sawAckRtt);
    const Connection *c = rig.pipe.tracker().find(1);
    QVERIFY(c);
    QVERIFY(c->handshakeNs >= 0);
}

void TestRecordPipeline::serverReuseAfterTimeWait()
{
    // Two connections on one 4-tuple (the client reused its port while its old socket was in
    // TIME_WAIT). Records of both ring buffers arrive shuffled within the window.
    Rig rig;
    rig.push(change(1, 1 * kMs, CLOSE, LISTEN, kListen, 200, "server"));
    rig.serverConnection(10, 11, 1 * kSec, 1000, 5000);
    // The old connection's trailing ACK from the client's TIME_WAIT, then the next instance.
    rig.serverConnection(20, 21, 1 * kSec + 200 * kUs, 90000, 70000);
    rig.finish();
    const ConnectionTracker &tr = rig.pipe.tracker();
    QCOMPARE(tr.seen(), 3u); // listener + two instances
    for (qint64 id : {2, 3}) {
        const QVector<Packet> ps = rig.of(id);
        QCOMPARE(ps.size(), 8);
        QCOMPARE(ps.first().tcpFlags, quint8(TS_TCP_SYN)); // its own SYN, SYN-ACK and ACK
        QCOMPARE(ps.at(1).tcpFlags, quint8(TS_TCP_SYN | TS_TCP_ACK));
        QCOMPARE(problems(ps), 0u);
        QCOMPARE(tr.find(id)->packets.lostSegments, 0u);
    }
    QVERIFY(!(rig.of(2).first().analysis & AnalysisPortsReused));
    QVERIFY(rig.of(3).first().analysis & AnalysisPortsReused);
    QCOMPARE(analysisSummary(rig.of(3).first().analysis, 0),
             QStringLiteral("TCP port numbers reused"));
    QCOMPARE(rig.pipe.packets().portsReused(), 1u);
    QCOMPARE(rig.pipe.packets().packetsUnjoined(), 0u);
}

void TestRecordPipeline::clientReuseAfterTimeWait()
{
    Rig rig;
    // synAckSock: the socket the SYN-ACK's lookup found. The second time it is the previous
    // connection's timewait socket, which keeps its full socket's cookie.
    auto client = [&](quint64 sock, quint64 t, __u32 isn, __u32 peerIsn, quint64 synAckSock,
                      __u8 synAckState) {
        rig.push(
            change(sock, t, CLOSE, SYN_SENT, Endpoint{AF_INET, "127.0.0.1", 0, "127.0.0.1", 8080}));
        rig.push(packet(sock, t + 1 * kUs, kOut, kClient, TS_TCP_SYN, isn, 0, 0, 65535, SYN_SENT));
        rig.push(packet(synAckSock, t + 10 * kUs, kIn, kServer, TS_TCP_SYN | TS_TCP_ACK, peerIsn,
                        isn + 1, 0, 65535, synAckState));
        rig.push(change(sock, t + 10 * kUs, SYN_SENT, ESTABLISHED, kClient));
        rig.push(packet(sock, t + 11 * kUs, kOut, kClient, TS_TCP_ACK, isn + 1, peerIsn + 1));
        rig.push(change(sock, t + 20 * kUs, ESTABLISHED, FIN_WAIT1, kClient));
        rig.push(packet(sock, t + 20 * kUs, kOut, kClient, TS_TCP_FIN | TS_TCP_ACK, isn + 1,
                        peerIsn + 1, 0, 65535, FIN_WAIT1));
        rig.push(packet(sock, t + 30 * kUs, kIn, kServer, TS_TCP_FIN | TS_TCP_ACK, peerIsn + 1,
                        isn + 2, 0, 65535, FIN_WAIT2));
        rig.push(change(sock, t + 30 * kUs, FIN_WAIT1, FIN_WAIT2, kClient));
        rig.push(change(sock, t + 30 * kUs, FIN_WAIT2, CLOSE, kClient));
        // The last ACK goes out from the timewait minisocket (no socket id of ours).
        rig.push(packet(0, t + 31 * kUs, kOut, kClient, TS_TCP_ACK, isn + 2, peerIsn + 2));
    };
    client(10, 1 * kSec, 1000, 5000, 10, SYN_SENT);
    client(20, 1 * kSec + 100 * kUs, 90000, 70000, 10, TIME_WAIT);
    rig.finish();
    for (qint64 id : {1, 2}) {
        const QVector<Packet> ps = rig.of(id);
        QCOMPARE(ps.size(), 6); // SYN, SYN-ACK, ACK, FIN, FIN, last ACK
        QCOMPARE(problems(ps), 0u);
        QCOMPARE(ps.first().tcpFlags, quint8(TS_TCP_SYN));
        QCOMPARE(bool(ps.first().analysis & AnalysisPortsReused), id == 2);
    }
}

void TestRecordPipeline::reuseAfterReset()
{
    Rig rig;
    rig.push(change(1, 1 * kMs, CLOSE, LISTEN, kListen, 200, "server"));
    const quint64 t = 1 * kSec;
    rig.push(packet(0, t, kIn, kClient, TS_TCP_SYN, 1000, 0, 0, 65535, 0));
    rig.push(packet(11, t + 10 * kUs, kOut, kServer, TS_TCP_SYN | TS_TCP_ACK, 5000, 1001, 0, 65535,
                    NEW_SYN_RECV));
    rig.push(
        packet(11, t + 20 * kUs, kIn, kClient, TS_TCP_ACK, 1001, 5001, 0, 65535, NEW_SYN_RECV));
    rig.push(change(10, t + 21 * kUs, SYN_RECV, ESTABLISHED, kServer, 200, "server"));
    // The client aborts: RST in, straight to CLOSE.
    rig.push(packet(10, t + 30 * kUs, kIn, kClient, TS_TCP_RST | TS_TCP_ACK, 1001, 5001));
    rig.push(change(10, t + 30 * kUs, ESTABLISHED, CLOSE, kServer, 200, "server"));
    // A stray retransmitted RST of the old one, then the next instance at once.
    rig.push(packet(0, t + 35 * kUs, kIn, kClient, TS_TCP_RST, 1001, 0));
    rig.serverConnection(20, 21, t + 40 * kUs, 90000, 70000);
    rig.finish();
    QCOMPARE(rig.of(2).size(), 5);
    const QVector<Packet> next = rig.of(3);
    QCOMPARE(next.size(), 8);
    QVERIFY(next.first().analysis & AnalysisPortsReused);
    QCOMPARE(problems(next), 0u);
}

void TestRecordPipeline::reuseAddrListeners()
{
    // Two listeners on one port one after the other (SO_REUSEADDR restart of a server): the
    // second's children and listener samples are its own, the first's stay closed.
    Rig rig;
    rig.push(change(1, 1 * kMs, CLOSE, LISTEN, kListen, 200, "server"));
    rig.serverConnection(10, 11, 1 * kSec, 1000, 5000);
    rig.push(change(1, 2 * kSec, LISTEN, CLOSE, kListen, 200, "server"));
    rig.push(change(2, 2 * kSec + 1 * kMs, CLOSE, LISTEN, kListen, 201, "server"));
    rig.serverConnection(20, 21, 2 * kSec + 2 * kMs, 90000, 70000);
    rig.push(listenerSample(2, 2 * kSec + 3 * kMs, AF_INET, "0.0.0.0", 8080, 0, 128, 0));
    rig.finish();
    const ConnectionTracker &tr = rig.pipe.tracker();
    QCOMPARE(tr.seen(), 4u);
    QCOMPARE(tr.find(1)->role, ConnectionRole::Listener);
    QCOMPARE(tr.find(3)->role, ConnectionRole::Listener);
    QVERIFY(!tr.find(1)->isOpen());
    QCOMPARE(rig.of(2).size(), 8);
    QCOMPARE(rig.of(4).size(), 8);
    QVERIFY(rig.of(4).first().analysis & AnalysisPortsReused);
    QCOMPARE(problems(rig.of(4)), 0u);
    QCOMPARE(rig.pipe.packets().packetsUnjoined(), 0u);
}

void TestRecordPipeline::evictedSocketHandshakeGoesToNextInstance()
{
    // Socket ids from pointers: the next instance's request socket sits where the evicted
    // connection's socket was. Its SYN-ACK and the final ACK name that id, but they are the
    // next instance's handshake, not late records of the evicted one.
    Rig rig;
    ConnectionTracker::Limits limits;
    limits.graceNs = 1 * kSec;
    rig.pipe.tracker().setLimits(limits);
    rig.push(change(1, 1 * kMs, CLOSE, LISTEN, kListen, 200, "server"));
    rig.serverConnection(10, 11, 1 * kSec, 1000, 5000);
    rig.pipe.advanceTo(4 * kSec);
    rig.packets += rig.pipe.takePackets();
    rig.pipe.takeChanged();
    rig.pipe.evict();
    QVERIFY(rig.pipe.tracker().wasEvicted(10));
    rig.serverConnection(20, 10, 5 * kSec, 90000, 70000); // request socket id == evicted id
    // A genuinely late record of the evicted socket is still late.
    rig.push(packet(10, 5 * kSec + 500 * kUs, kIn, kClient, TS_TCP_ACK, 1102, 5002));
    rig.finish();
    const QVector<Packet> next = rig.of(3);
    QCOMPARE(next.size(), 8);
    QCOMPARE(next.first().tcpFlags, quint8(TS_TCP_SYN));
    QCOMPARE(next.at(1).tcpFlags, quint8(TS_TCP_SYN | TS_TCP_ACK));
    QCOMPARE(problems(next), 0u);
    QCOMPARE(rig.pipe.packets().packetsLate(), 1u);
}

void TestRecordPipeline::packetIdsInTimeOrder()
{
    // Another connection's packets interleave with a handshake that waits (held) for its child
    // socket: ids are handed out only up to the oldest held packet, so they stay in time order.
    Rig rig;
    rig.push(change(1, 1 * kMs, CLOSE, LISTEN, kListen, 200, "server"));
    const Endpoint other{AF_INET, "127.0.0.1", 50000, "127.0.0.1", 9090};
    const quint64 t = 1 * kSec;
    rig.push(change(7, t - 1 * kMs, CLOSE, SYN_SENT, other));
    rig.push(change(7, t - 1 * kMs, SYN_SENT, ESTABLISHED, other));
    rig.push(packet(0, t + 3 * kUs, kIn, kClient, TS_TCP_SYN, 1000, 0, 0, 65535, 0));
    rig.push(packet(11, t + 13 * kUs, kOut, kServer, TS_TCP_SYN | TS_TCP_ACK, 5000, 1001, 0, 65535,
                    NEW_SYN_RECV));
    for (int i = 0; i < 10; ++i)
        rig.push(packet(7, t + quint64(i) * 7 * kUs, kOut, other, TS_TCP_ACK, quint32(1 + i * 10),
                        1, 10));
    rig.pipe.advanceTo(t + 100 * kMs); // all released; the handshake is still held
    rig.packets += rig.pipe.takePackets();
    QCOMPARE(rig.packets.size(), 1); // only what is older than the held SYN
    QCOMPARE(rig.packets.first().timeNs, qint64(t) + kOffset);
    // The rest of the handshake, later than the window now: processed in arrival order.
    rig.push(
        packet(11, t + 23 * kUs, kIn, kClient, TS_TCP_ACK, 1001, 5001, 0, 65535, NEW_SYN_RECV));
    rig.push(change(10, t + 24 * kUs, SYN_RECV, ESTABLISHED, kServer, 200, "server"));
    rig.finish();
    QCOMPARE(rig.packets.size(), 13);
    QCOMPARE(rig.of(3).size(), 3);
    for (qsizetype i = 0; i < rig.packets.size(); ++i) {
        QCOMPARE(rig.packets.at(i).id, i + 1);
        if (i > 0)
            QVERIFY(rig.packets.at(i).timeNs >= rig.packets.at(i - 1).timeNs);
    }
    QCOMPARE(rig.pipe.window().late(), 2u);
}

void TestRecordPipeline::tupleKeys()
{
    quint8 a4[16] = {127, 0, 0, 1, 0xde, 0xad}; // bytes past the IPv4 address are not the key
    quint8 b4[16] = {127, 0, 0, 2};
    quint8 a6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1};
    quint8 b6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 2};
    const TupleKey k4 = TupleKey::tuple(AddressFamily::IPv4, a4, 1000, b4, 80);
    const TupleKey mapped =
        TupleKey::tuple(AddressFamily::IPv6, a6, 1000, b6, 80); // dual-stack socket
    QCOMPARE(k4, mapped);
    QCOMPARE(qHash(k4), qHash(mapped));
    const TupleKey reverse = TupleKey::tuple(AddressFamily::IPv4, b4, 80, a4, 1000);
    QVERIFY(!(k4 == reverse));
    QCOMPARE(k4.canonical(), reverse.canonical());
    QVERIFY(!(TupleKey::listener(AddressFamily::IPv4, 80) ==
              TupleKey::listener(AddressFamily::IPv6, 80)));
    QVERIFY(TupleKey().isNull());
    QHash<TupleKey, int> h;
    h.insert(k4, 1);
    QCOMPARE(h.value(mapped), 1);
    QCOMPARE(h.value(reverse), 0);
}

void TestRecordPipeline::lateHandshakeGoesToNextInstance()
{
    // The next instance's handshake comes later than the window, after its child socket's
    // state change was processed: it still goes to the next instance, not to the previous one.
    Rig rig(1 * kUs);
    rig.push(change(1, 1 * kMs, CLOSE, LISTEN, kListen, 200, "server"));
    rig.serverConnection(10, 11, 1 * kSec, 1000, 5000);
    const quint64 t = 1 * kSec + 200 * kUs;
    rig.push(change(20, t + 21 * kUs, SYN_RECV, ESTABLISHED, kServer, 200, "server"));
    // Another socket's record releases the child's state change.
    rig.push(change(99, t + 25 * kUs, CLOSE, SYN_SENT,
                    Endpoint{AF_INET, "127.0.0.1", 50000, "127.0.0.1", 9090}));
    rig.push(packet(0, t, kIn, kClient, TS_TCP_SYN, 90000, 0, 0, 65535, 0));
    rig.push(packet(0, t + 10 * kUs, kOut, kServer, TS_TCP_SYN | TS_TCP_ACK, 70000, 90001, 0, 65535,
                    NEW_SYN_RECV));
    rig.push(
        packet(0, t + 20 * kUs, kIn, kClient, TS_TCP_ACK, 90001, 70001, 0, 65535, NEW_SYN_RECV));
    rig.push(packet(20, t + 30 * kUs, kIn, kClient, TS_TCP_ACK, 90001, 70001, 100));
    rig.finish();
    QVERIFY(rig.pipe.window().late() >= 3);
    QCOMPARE(rig.of(2).size(), 8);
    QCOMPARE(problems(rig.of(2)), 0u);
    const QVector<Packet> next = rig.of(3);
    QCOMPARE(next.size(), 4);
    QCOMPARE(next.first().tcpFlags, quint8(TS_TCP_SYN));
    QCOMPARE(problems(next), 0u);
}

QTEST_GUILESS_MAIN(TestRecordPipeline)
#include "test_record_pipeline.moc"
