// SPDX-License-Identifier: GPL-3.0-or-later
// KernelJoiner: tcpinfo samples/events/drops and listener samples joined to connections by
// socket cookie and tuple (either orientation where the rule allows), held while their
// connection is not known yet, predating sockets, reason names, Connection::kernel summaries.
#include "kernel_joiner.h"
#include "record_builders.h"

#include <QTest>

using namespace tcpscope;
using namespace testrec;

class TestKernelJoiner : public QObject
{
    Q_OBJECT

private slots:
    void conversion();
    void cookieJoinAndSummary();
    void samplesJoinByTupleOnTheirOwnSide();
    void sampleOvertakesItsStateChange();
    void resetWithoutSocketJoinsPeerUncounted();
    void synAckRetransmitHeldForAcceptedSocket();
    void synAckRetransmitGivesUp();
    void dropsByPacketTuple();
    void refusedConnectDropAndHold();
    void ipv4BytesBeyondTheAddress();
    void listenerSamples();
    void predatingListener();
    void predatingConnection();
    void reasonNames();
    void closedConnectionWindow();
    void heldCap();
};

namespace {
constexpr qint64 kOffset = 1'700'000'000'000'000'000;
constexpr quint64 kMs = 1'000'000;
constexpr quint64 kUs = 1'000;
constexpr quint64 kSec = 1'000'000'000;
const Endpoint kClient{AF_INET, "127.0.0.1", 40000, "127.0.0.1", 8080};
const Endpoint kServer{AF_INET, "127.0.0.1", 8080, "127.0.0.1", 40000};
const Endpoint kListen{AF_INET, "0.0.0.0", 8080, "0.0.0.0", 0};

// The ingest thread's wiring (live_capture_ingest.cpp): lifecycle through the packet joiner
// first, then the kernel joiner.
struct Rig
{
    ConnectionTracker tracker;
    PacketJoiner packets{tracker};
    KernelJoiner kernel{tracker, packets};
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
    const Connection &conn(qint64 id) const { return *tracker.find(id); }
    // A listener (id 1), a client connecting to it (id 2) and the accepted socket (id 3).
    void loopbackPair(quint64 t0)
    {
        state(change(50, t0, CLOSE, LISTEN, kListen, 10, "server"));
        state(change(60, t0 + 1 * kMs, CLOSE, SYN_SENT, kClient, 20, "client"));
        state(change(70, t0 + 2 * kMs, LISTEN, SYN_RECV, kServer, 10, "server", TS_OWNER_LISTENER));
        state(change(70, t0 + 2 * kMs, SYN_RECV, ESTABLISHED, kServer, 10, "server",
                     TS_OWNER_LISTENER));
        state(change(60, t0 + 3 * kMs, SYN_SENT, ESTABLISHED, kClient, 20, "client"));
    }
};

template <typename T> QVector<qint64> conns(const QVector<T> &items)
{
    QVector<qint64> out;
    for (const T &i : items)
        out << i.connectionId;
    return out;
}
} // namespace

void TestKernelJoiner::conversion()
{
    ts_tcp_sample r = tcpSample(5, 1000, kClient, 120, 10);
    r.min_rtt_us = ~__u32(0);
    r.ca_state = 4;
    const TcpSample s = KernelJoiner::toSample(r, kOffset);
    QCOMPARE(s.timeNs, kOffset + 1000);
    QCOMPARE(s.srttUs, 120u);
    QCOMPARE(s.rttvarUs, 60u);
    QCOMPARE(s.minRttUs, 0u); // ~0U = no RTT sample yet
    QCOMPARE(s.ssthresh, 0u); // TS_SSTHRESH_INFINITE
    QCOMPARE(s.cwnd, 10u);
    QCOMPARE(s.sndWnd, 65536u);
    QCOMPARE(s.rcvWnd, 131072u);
    QCOMPARE(s.bytesInFlight(), quint64(4 * 1448));
    QCOMPARE(s.deliveryRate, 125000u);
    QCOMPARE(s.caState, quint8(4));
    QCOMPARE(s.fields, quint16(0x1ff));
    r.snd_ssthresh = 42;
    r.min_rtt_us = 30;
    QCOMPARE(KernelJoiner::toSample(r, 0).ssthresh, 42u);
    QCOMPARE(KernelJoiner::toSample(r, 0).minRttUs, 30u);

    const KernelEvent e = KernelJoiner::toEvent(
        tcpEvent(5, 2000, TS_EV_RETRANSMIT, kClient, 3, -105, TS_TCP_FIN), kOffset);
    QCOMPARE(e.timeNs, kOffset + 2000);
    QCOMPARE(e.kind, KernelEventKind::Retransmit);
    QCOMPARE(e.segs, quint16(3));
    QCOMPARE(e.err, -105);
    QCOMPARE(e.tcpFlags, quint8(TS_TCP_FIN));
    QCOMPARE(e.reason, TS_REASON_NONE);

    const Endpoint v6{AF_INET6, "fd00::1", 5555, "fd00::2", 443};
    const DropEvent d = KernelJoiner::toDrop(drop(0, 3000, v6, 3, TS_TCP_SYN), kOffset);
    QCOMPARE(d.srcAddr.family(), AddressFamily::IPv6);
    QCOMPARE(d.srcAddr.toString(), QStringLiteral("fd00::1"));
    QCOMPARE(d.srcPort, quint16(5555));
    QCOMPARE(d.dstAddr.toString(), QStringLiteral("fd00::2"));
    QCOMPARE(d.dstPort, quint16(443));
    QCOMPARE(d.reason, 3u);
    QCOMPARE(d.location, 0xffffffff81abcdefull);

    const ListenerSample l =
        KernelJoiner::toListener(listenerSample(9, 4000, AF_INET6, "::", 80, 3, 128, 7), kOffset);
    QCOMPARE(l.timeNs, kOffset + 4000);
    QCOMPARE(l.addr.family(), AddressFamily::IPv6);
    QCOMPARE(l.addr.toString(), QStringLiteral("::"));
    QCOMPARE(l.port, quint16(80));
    QCOMPARE(l.backlog, 3u);
    QCOMPARE(l.maxBacklog, 128u);
    QCOMPARE(l.drops, 7u);
}

void TestKernelJoiner::cookieJoinAndSummary()
{
    Rig rig;
    rig.loopbackPair(kSec);
    rig.tracker.takeChanged();
    rig.kernel.onSample(tcpSample(60, kSec + 10 * kMs, kClient, 200, 10));
    rig.kernel.onSample(tcpSample(60, kSec + 11 * kMs, kClient, 80, 25));
    rig.kernel.onSample(tcpSample(60, kSec + 12 * kMs, kClient, 0, 99, ESTABLISHED,
                                  TS_SAMPLE_RATE)); // neither RTT nor cwnd valid: not summarized
    rig.kernel.onEvent(tcpEvent(60, kSec + 13 * kMs, TS_EV_RETRANSMIT, kClient, 3));
    rig.kernel.onEvent(tcpEvent(60, kSec + 14 * kMs, TS_EV_RETRANSMIT, kClient, 2, -105));
    rig.kernel.onEvent(tcpEvent(60, kSec + 15 * kMs, TS_EV_RETRANSMIT, kClient, 1, 0, TS_TCP_SYN,
                                TS_REASON_NONE, SYN_SENT));
    rig.kernel.onEvent(tcpEvent(60, kSec + 16 * kMs, TS_EV_CONG_STATE, kClient));
    rig.kernel.onEvent(tcpEvent(70, kSec + 17 * kMs, TS_EV_RST_SENT, kServer, 1, 0, 0, 1));
    rig.kernel.onEvent(tcpEvent(60, kSec + 18 * kMs, TS_EV_RST_RECEIVED, kClient));
    const KernelData data = rig.kernel.takeData();
    QCOMPARE(conns(data.samples), (QVector<qint64>{2, 2, 2}));
    QCOMPARE(conns(data.events), (QVector<qint64>{2, 2, 2, 2, 3, 2}));
    QCOMPARE(data.samples[0].timeNs, qint64(kOffset + kSec + 10 * kMs));

    const KernelSummary &k = rig.conn(2).kernel;
    QCOMPARE(k.samples, 3u);
    QCOMPARE(k.srttUsMin, 80u);
    QCOMPARE(k.srttUsMax, 200u);
    QCOMPARE(k.cwndMax, 25u);
    QCOMPARE(k.retransmits, 4u); // 3 + the SYN; the failed resend (err -105) did not go out
    QCOMPARE(k.synRetransmits, 1u);
    QCOMPARE(k.resetsReceived, 1u);
    QCOMPARE(k.resetsSent, 0u);
    QCOMPARE(rig.conn(3).kernel.resetsSent, 1u);
    QCOMPARE(rig.conn(1).kernel.samples, 0u); // the listener saw nothing
    // Both changed connections are published with their summaries.
    const QVector<Connection> changed = rig.tracker.takeChanged();
    QCOMPARE(changed.size(), 2);
    QCOMPARE(changed[0].id, 2);
    QCOMPARE(changed[0].kernel.retransmits, 4u);
    QCOMPARE(changed[1].id, 3);
    QCOMPARE(rig.kernel.unjoined(), 0u);
}

void TestKernelJoiner::samplesJoinByTupleOnTheirOwnSide()
{
    // An id the lifecycle never named (e.g. pointer ids in a fallback mode): the local/remote
    // tuple decides, and on loopback each side's sample goes to its own socket.
    Rig rig;
    rig.loopbackPair(kSec);
    rig.kernel.onSample(tcpSample(0x8000'0000'0000'1234ull, kSec + 5 * kMs, kServer, 50, 10));
    rig.kernel.onSample(tcpSample(0x8000'0000'0000'5678ull, kSec + 6 * kMs, kClient, 60, 10));
    const Endpoint mapped{AF_INET6, "::ffff:127.0.0.1", 40000, "::ffff:127.0.0.1", 8080};
    rig.kernel.onSample(tcpSample(0, kSec + 7 * kMs, mapped, 70, 10)); // dual-stack socket
    const KernelData data = rig.kernel.takeData();
    QCOMPARE(conns(data.samples), (QVector<qint64>{3, 2, 2}));
}

void TestKernelJoiner::sampleOvertakesItsStateChange()
{
    // The tcpinfo ring buffer is read first: a new connection's first sample before its
    // SYN_SENT/ESTABLISHED records. It waits, and joins the connection, not a made-up one.
    Rig rig;
    rig.kernel.onSample(tcpSample(60, kSec + 5 * kMs, kClient, 100, 10));
    QCOMPARE(rig.kernel.held(), 1);
    Endpoint noPort = kClient;
    noPort.lport = 0; // the kernel assigns the local port after SYN_SENT is reported
    rig.state(change(60, kSec, CLOSE, SYN_SENT, noPort));
    rig.kernel.advanceTo(kSec + 1 * kSec);
    rig.state(change(60, kSec + 1 * kMs, SYN_SENT, ESTABLISHED, kClient));
    QCOMPARE(rig.kernel.held(), 0);
    rig.kernel.flushAll();
    QCOMPARE(rig.tracker.size(), 1);
    QCOMPARE(conns(rig.kernel.takeData().samples), (QVector<qint64>{1}));
    QCOMPARE(rig.conn(1).kernel.samples, 1u);
}

void TestKernelJoiner::resetWithoutSocketJoinsPeerUncounted()
{
    // A RST the stack sends for a packet without a socket (sock_id 0): oriented by the sender.
    // No connection has that local end, the swapped tuple is the peer on this host: the
    // event is marked there, but it is not the peer's "reset sent" (its own reset received is
    // counted from its own event).
    Rig rig;
    const Endpoint client{AF_INET, "127.0.0.1", 41000, "127.0.0.1", 9};
    const Endpoint closedPort{AF_INET, "127.0.0.1", 9, "127.0.0.1", 41000};
    rig.state(change(80, kSec, CLOSE, SYN_SENT, client));
    rig.kernel.onEvent(tcpEvent(0, kSec + 1 * kMs, TS_EV_RST_SENT, closedPort, 1, 0, 0, 2, 0));
    rig.kernel.onEvent(tcpEvent(80, kSec + 2 * kMs, TS_EV_RST_RECEIVED, client, 1, 0, 0,
                                TS_REASON_NONE, SYN_SENT));
    const KernelData data = rig.kernel.takeData();
    QCOMPARE(conns(data.events), (QVector<qint64>{1, 1}));
    QCOMPARE(data.events[0].kind, KernelEventKind::ResetSent);
    QCOMPARE(rig.conn(1).kernel.resetsSent, 0u);
    QCOMPARE(rig.conn(1).kernel.resetsReceived, 1u);
}

void TestKernelJoiner::synAckRetransmitHeldForAcceptedSocket()
{
    // The SYN-ACK resend names the listener and the request's tuple; on loopback the client
    // (swapped tuple) already exists, the accepted socket not yet. It waits for the latter.
    Rig rig;
    rig.state(change(50, kSec, CLOSE, LISTEN, kListen, 10, "server"));
    rig.state(change(60, kSec + 1 * kMs, CLOSE, SYN_SENT, kClient, 20, "client"));
    rig.kernel.onEvent(tcpEvent(50, kSec + 1001 * kMs, TS_EV_SYNACK_RETRANSMIT, kServer, 1, 0,
                                TS_TCP_SYN | TS_TCP_ACK, TS_REASON_NONE, NEW_SYN_RECV));
    rig.kernel.onSample(tcpSample(60, kSec + 1002 * kMs, kClient, 100, 10)); // joins at once
    QCOMPARE(rig.kernel.held(), 1);
    KernelData data = rig.kernel.takeData();
    QVERIFY(data.events.isEmpty());
    QCOMPARE(conns(data.samples), (QVector<qint64>{2}));
    rig.state(
        change(70, kSec + 1003 * kMs, LISTEN, SYN_RECV, kServer, 10, "server", TS_OWNER_LISTENER));
    QCOMPARE(rig.kernel.held(), 0);
    data = rig.kernel.takeData();
    QCOMPARE(conns(data.events), (QVector<qint64>{3}));
    QCOMPARE(data.events[0].kind, KernelEventKind::SynAckRetransmit);
    QCOMPARE(rig.conn(3).kernel.synAckRetransmits, 1u);
    QCOMPARE(rig.conn(2).kernel.synAckRetransmits, 0u);
    QCOMPARE(rig.conn(1).kernel.synAckRetransmits, 0u);
}

void TestKernelJoiner::synAckRetransmitGivesUp()
{
    Rig rig;
    rig.state(change(50, kSec, CLOSE, LISTEN, kListen, 10, "server"));
    rig.kernel.onEvent(tcpEvent(50, kSec + 1 * kMs, TS_EV_SYNACK_RETRANSMIT, kServer, 1, 0,
                                TS_TCP_SYN | TS_TCP_ACK, TS_REASON_NONE, NEW_SYN_RECV));
    rig.kernel.advanceTo(kSec + 1 * kMs + 1 * kSec); // 1 s: still waiting
    QCOMPARE(rig.kernel.held(), 1);
    rig.kernel.advanceTo(kSec + 1 * kMs + 2 * kSec);
    QCOMPARE(rig.kernel.held(), 0);
    const KernelData data = rig.kernel.takeData();
    // No accepted socket came of the request: the resend is the listener's.
    QCOMPARE(conns(data.events), (QVector<qint64>{1}));
    QCOMPARE(rig.conn(1).kernel.synAckRetransmits, 1u);
    QCOMPARE(rig.kernel.unjoined(), 0u);
    QCOMPARE(rig.tracker.size(), 1); // no connection made up for a request that never finished
}

void TestKernelJoiner::dropsByPacketTuple()
{
    Rig rig;
    rig.loopbackPair(kSec);
    rig.kernel.onReasonName(reasonName(TS_REASONS_SKB_DROP, 2, "NOT_SPECIFIED"));
    rig.kernel.onReasonName(reasonName(TS_REASONS_SKB_DROP, 42, "TCP_OFOMERGE"));
    // Received by the server (client -> server): the destination is the local end.
    rig.kernel.onDrop(drop(0, kSec + 10 * kMs, kClient, 42, TS_TCP_ACK));
    // Server -> client, received by the client.
    rig.kernel.onDrop(drop(0, kSec + 11 * kMs, kServer, 2, TS_TCP_ACK));
    // With the socket the kernel had: that socket.
    rig.kernel.onDrop(drop(60, kSec + 12 * kMs, kClient, 2, TS_TCP_ACK, ESTABLISHED));
    // The listener's socket (e.g. listen-queue overflow) with a tuple nobody has: the listener.
    const Endpoint other{AF_INET, "127.0.0.1", 45000, "127.0.0.1", 8080};
    rig.kernel.onDrop(drop(50, kSec + 13 * kMs, other, 77, TS_TCP_SYN, LISTEN));
    const KernelData data = rig.kernel.takeData();
    QCOMPARE(conns(data.drops), (QVector<qint64>{3, 2, 2, 1}));
    QCOMPARE(data.drops[0].reasonName, QStringLiteral("TCP_OFOMERGE"));
    QCOMPARE(data.drops[1].reasonName, QStringLiteral("NOT_SPECIFIED"));
    QCOMPARE(data.drops[3].reasonName, QStringLiteral("reason 77")); // no name sent for it
    QCOMPARE(rig.conn(3).kernel.drops, 1u);
    QCOMPARE(rig.conn(2).kernel.drops, 2u);
    QCOMPARE(rig.conn(1).kernel.drops, 1u);
}

void TestKernelJoiner::refusedConnectDropAndHold()
{
    // connect() to a closed port on loopback: the SYN is dropped (NO_SOCKET) with only the
    // client's tuple to go on, and the drop may overtake the client's SYN_SENT record.
    Rig rig;
    rig.kernel.onReasonName(reasonName(TS_REASONS_SKB_DROP, 3, "NO_SOCKET"));
    const Endpoint client{AF_INET, "127.0.0.1", 41000, "127.0.0.1", 9};
    rig.kernel.onDrop(drop(0, kSec + 1 * kMs, client, 3, TS_TCP_SYN));
    QCOMPARE(rig.kernel.held(), 1);
    rig.state(change(80, kSec, CLOSE, SYN_SENT, client));
    rig.state(change(80, kSec + 2 * kMs, SYN_SENT, CLOSE, client));
    // A second attempt from the same port after the first closed: a new connection's SYN,
    // not the closed one's.
    rig.kernel.onDrop(drop(0, kSec + 3 * kMs, client, 3, TS_TCP_SYN));
    rig.kernel.flushAll();
    const KernelData data = rig.kernel.takeData();
    QCOMPARE(conns(data.drops), (QVector<qint64>{1, 0}));
    QCOMPARE(data.drops[0].reasonName, QStringLiteral("NO_SOCKET"));
    QCOMPARE(data.drops[0].srcPort, quint16(41000));
    QCOMPARE(rig.conn(1).kernel.drops, 1u);
}

void TestKernelJoiner::ipv4BytesBeyondTheAddress()
{
    // Seen on the real kernel: a lifecycle record of an IPv4 socket carries stale bytes after
    // the 4 address bytes (the BPF program writes 4 of the 16). Tuple joins ignore them; so
    // does a refused connect whose SYN_SENT record has no local port yet (assigned after it).
    Rig rig;
    const Endpoint client{AF_INET, "127.0.0.1", 47830, "127.0.0.1", 47009};
    Endpoint noPort = client;
    noPort.lport = 0;
    ts_state_change synSent = change(80, kSec, CLOSE, SYN_SENT, noPort);
    ts_state_change closed = change(80, kSec + 60 * kUs, SYN_SENT, CLOSE, client);
    for (int i = 4; i < 16; ++i) {
        synSent.saddr[i] = closed.saddr[i] = __u8(0xa0 + i);
        synSent.daddr[i] = closed.daddr[i] = __u8(0x50 + i);
    }
    rig.state(synSent);
    rig.state(closed);
    rig.kernel.onDrop(drop(0, kSec + 40 * kUs, client, 3, TS_TCP_SYN));
    rig.kernel.onEvent(
        tcpEvent(0, kSec + 30 * kUs, TS_EV_RST_SENT, swapped(client), 1, 0, TS_TCP_RST, 2, 0));
    const KernelData data = rig.kernel.takeData();
    QCOMPARE(conns(data.drops), (QVector<qint64>{1}));
    QCOMPARE(conns(data.events), (QVector<qint64>{1}));
    QCOMPARE(rig.packets.idForTuple(PacketJoiner::tupleKey(closed)), 1);
}

void TestKernelJoiner::listenerSamples()
{
    Rig rig;
    rig.state(change(50, kSec, CLOSE, LISTEN, kListen, 10, "server"));
    rig.kernel.onListener(listenerSample(50, kSec + 100 * kMs, AF_INET, "0.0.0.0", 8080, 0, 4, 10));
    rig.kernel.onListener(listenerSample(50, kSec + 200 * kMs, AF_INET, "0.0.0.0", 8080, 5, 4, 10));
    // The id the poll reports differs from the lifecycle's (no cookie there): by port.
    rig.kernel.onListener(listenerSample(51, kSec + 300 * kMs, AF_INET, "0.0.0.0", 8080, 3, 4, 17));
    const KernelData data = rig.kernel.takeData();
    QCOMPARE(conns(data.listeners), (QVector<qint64>{1, 1, 1}));
    QCOMPARE(rig.conn(1).kernel.backlogMax, 5u);
    QCOMPARE(rig.conn(1).kernel.listenDrops, 17u); // born during the capture: from 0
    QCOMPARE(rig.tracker.size(), 1);
}

void TestKernelJoiner::predatingListener()
{
    Rig rig;
    rig.kernel.onListener(listenerSample(90, kSec, AF_INET6, "::", 443, 1, 128, 0));
    QCOMPARE(rig.kernel.held(), 1); // its listen() may still be on its way
    rig.kernel.advanceTo(kSec + 3 * kSec);
    QCOMPARE(rig.tracker.size(), 1);
    const Connection &l = rig.conn(1);
    QCOMPARE(l.role, ConnectionRole::Listener);
    QCOMPARE(l.state, TcpState::Listen);
    QCOMPARE(l.localPort, quint16(443));
    QCOMPARE(l.localAddr.toString(), QStringLiteral("::"));
    QCOMPARE(l.family(), AddressFamily::IPv6);
    QCOMPARE(l.sockId, 90u);
    rig.kernel.onListener(listenerSample(90, kSec + 4 * kSec, AF_INET6, "::", 443, 9, 128, 2));
    const KernelData data = rig.kernel.takeData();
    QCOMPARE(conns(data.listeners), (QVector<qint64>{1, 1}));
    QCOMPARE(l.kernel.backlogMax, 9u);
    QCOMPARE(l.kernel.listenDrops, 2u);
}

void TestKernelJoiner::predatingConnection()
{
    // A socket established before the capture: samples and packets, never a state change
    // until it closes. The first of the two joiners to give up waiting founds the connection
    // for both (one tuple index, one rule).
    Rig rig;
    const Endpoint old{AF_INET, "10.0.0.1", 22, "10.0.0.2", 50000};
    rig.packets.onPacket(packet(33, kSec, TS_DIR_EGRESS, old, TS_TCP_ACK, 1, 1, 100));
    rig.kernel.onSample(tcpSample(33, kSec + 1 * kMs, old, 900, 20));
    rig.kernel.onEvent(tcpEvent(33, kSec + 2 * kMs, TS_EV_RETRANSMIT, old, 2));
    rig.kernel.advanceTo(kSec + 1 * kMs + 2 * kSec);
    QCOMPARE(rig.tracker.size(), 1);
    const Connection &c = rig.conn(1);
    QCOMPARE(c.sockId, 33u);
    QCOMPARE(c.localAddr.toString(), QStringLiteral("10.0.0.1"));
    QCOMPARE(c.localPort, quint16(22));
    QCOMPARE(c.remoteAddr.toString(), QStringLiteral("10.0.0.2"));
    QCOMPARE(c.remotePort, quint16(50000));
    QCOMPARE(c.state, TcpState::Established);
    QCOMPARE(c.role, ConnectionRole::Unknown);
    QCOMPARE(c.pid, 0u);
    QCOMPARE(c.startNs, qint64(kOffset + kSec + 1 * kMs));
    // The packet held by the packet joiner went to it as well.
    const QVector<Packet> ps = rig.packets.takePackets();
    QCOMPARE(ps.size(), 1);
    QCOMPARE(ps[0].connectionId, 1);
    KernelData data = rig.kernel.takeData();
    QCOMPARE(conns(data.samples), (QVector<qint64>{1}));
    QCOMPARE(conns(data.events), (QVector<qint64>{1}));
    QCOMPARE(c.kernel.retransmits, 2u);
    // Later records join by cookie, and its close continues the same connection.
    rig.kernel.onSample(tcpSample(33, kSec + 5 * kSec, old, 1000, 30));
    rig.state(change(33, kSec + 6 * kSec, ESTABLISHED, FIN_WAIT1, old, 0));
    QCOMPARE(rig.tracker.size(), 1);
    data = rig.kernel.takeData();
    QCOMPARE(conns(data.samples), (QVector<qint64>{1}));
    QCOMPARE(rig.conn(1).kernel.samples, 2u);
    QCOMPARE(rig.conn(1).kernel.srttUsMax, 1000u);
    QCOMPARE(rig.conn(1).state, TcpState::FinWait1);

    // A drop of an unknown tuple never founds a connection: it is not oriented to a socket.
    Rig rig2;
    rig2.kernel.onDrop(drop(0, kSec, old, 2, TS_TCP_ACK));
    rig2.kernel.flushAll();
    QCOMPARE(rig2.tracker.size(), 0);
    QCOMPARE(conns(rig2.kernel.takeData().drops), (QVector<qint64>{0}));
}

void TestKernelJoiner::reasonNames()
{
    Rig rig;
    rig.loopbackPair(kSec);
    rig.kernel.onReasonName(reasonName(TS_REASONS_SK_RST, 0, "NOT_SPECIFIED"));
    rig.kernel.onReasonName(reasonName(TS_REASONS_SK_RST, 4, "TCP_ABORT_ON_CLOSE"));
    rig.kernel.onReasonName(reasonName(TS_REASONS_SKB_DROP, 4, "SOCKET_FILTER"));
    rig.kernel.onReasonName(reasonName(9, 1, "FROM_A_NEWER_HELPER")); // unknown table: ignored
    QCOMPARE(rig.kernel.reasonName(TS_REASONS_SK_RST, 4), QStringLiteral("TCP_ABORT_ON_CLOSE"));
    QCOMPARE(rig.kernel.reasonName(TS_REASONS_SKB_DROP, 4), QStringLiteral("SOCKET_FILTER"));
    QCOMPARE(rig.kernel.reasonName(TS_REASONS_SKB_DROP, 0), QStringLiteral("reason 0"));
    rig.kernel.onEvent(tcpEvent(60, kSec + 10 * kMs, TS_EV_RST_SENT, kClient, 1, 0, 0, 4));
    rig.kernel.onEvent(tcpEvent(60, kSec + 11 * kMs, TS_EV_RST_SENT, kClient, 1, 0, 0, 0));
    rig.kernel.onEvent(tcpEvent(60, kSec + 12 * kMs, TS_EV_RST_SENT, kClient));
    rig.kernel.onEvent(tcpEvent(60, kSec + 13 * kMs, TS_EV_RST_SENT, kClient, 1, 0, 0, 99));
    const KernelData data = rig.kernel.takeData();
    QCOMPARE(data.events.size(), 4);
    QCOMPARE(data.events[0].reasonName, QStringLiteral("TCP_ABORT_ON_CLOSE"));
    QCOMPARE(data.events[1].reasonName, QStringLiteral("NOT_SPECIFIED"));
    QCOMPARE(data.events[2].reasonName, QString()); // the kernel gave no reason
    QCOMPARE(data.events[2].reason, TS_REASON_NONE);
    QCOMPARE(data.events[3].reasonName, QStringLiteral("reason 99"));
    QCOMPARE(rig.conn(2).kernel.resetsSent, 4u);
}

void TestKernelJoiner::closedConnectionWindow()
{
    Rig rig;
    rig.loopbackPair(kSec);
    rig.state(change(60, 2 * kSec, ESTABLISHED, CLOSE, kClient, 20, "client"));
    // Trailing records by tuple within the window (the cookie's recent-close memory aside).
    rig.kernel.onEvent(
        tcpEvent(0, 3 * kSec, TS_EV_RST_RECEIVED, kClient, 1, 0, 0, TS_REASON_NONE, 0));
    rig.kernel.onEvent(
        tcpEvent(0, 70 * kSec, TS_EV_RST_RECEIVED, kClient, 1, 0, 0, TS_REASON_NONE, 0));
    rig.kernel.flushAll();
    const KernelData data = rig.kernel.takeData();
    // The second is 68 s after the end: beyond the 60 s window; its swapped tuple (the server,
    // still open) takes it as a peer marker.
    QCOMPARE(conns(data.events), (QVector<qint64>{2, 3}));
    QCOMPARE(rig.conn(2).kernel.resetsReceived, 1u);
    QCOMPARE(rig.conn(3).kernel.resetsReceived, 0u);
}

void TestKernelJoiner::heldCap()
{
    // A SYN flood to a closed port from one tuple cannot grow the wait queue without bound.
    Rig rig;
    KernelJoiner::Limits limits;
    limits.maxHeldPerTuple = 10;
    limits.maxHeld = 25;
    rig.kernel.setLimits(limits);
    const Endpoint flood{AF_INET, "10.9.9.9", 1234, "127.0.0.1", 9};
    for (int i = 0; i < 9; ++i)
        rig.kernel.onDrop(drop(0, kSec + quint64(i), flood, 3, TS_TCP_SYN));
    QCOMPARE(rig.kernel.held(), 9);
    rig.kernel.onDrop(drop(0, kSec + 9, flood, 3, TS_TCP_SYN));
    QCOMPARE(rig.kernel.held(), 0); // the group reached its cap and was decided
    for (int port = 1; port <= 30; ++port) {
        const Endpoint e{AF_INET, "10.9.9.9", quint16(2000 + port), "127.0.0.1", 9};
        rig.kernel.onDrop(drop(0, kSec + 100 + quint64(port), e, 3, TS_TCP_SYN));
    }
    QVERIFY(rig.kernel.held() <= 25);
    rig.kernel.flushAll();
    QCOMPARE(rig.kernel.held(), 0);
    const KernelData data = rig.kernel.takeData();
    QCOMPARE(data.drops.size(), 40);
    QCOMPARE(rig.kernel.unjoined(), 40u);
    for (int i = 1; i < data.drops.size(); ++i)
        QVERIFY(data.drops[i - 1].timeNs <= data.drops[i].timeNs); // each batch in time order
}

QTEST_GUILESS_MAIN(TestKernelJoiner)
#include "test_kernel_joiner.moc"
