// SPDX-License-Identifier: GPL-3.0-or-later
#include "session_fixture.h"
#include "test_addresses.h"

#include "connection_tracker.h"
#include "record_builders.h"
#include "session/session_writer.h"

#include <algorithm>
#include <cstring>

namespace tcpscope::testing {

namespace {

constexpr qint64 kMonoBase = 5'000'000'000'000;         // 5000 s of uptime
constexpr qint64 kWallBase = 1'795'000'000'000'000'000; // a fixed day in Nov 2026
constexpr qint64 kMs = 1'000'000;

struct Endpoint
{
    const char *addr;
    quint16 port;
};

// Wrappers over the shared builders: tenths-of-a-millisecond times on a fixed uptime, and this
// fixture's own values (cgroup, RTT, segments) that the GUI tests check.
ts_state_change stateChange(quint64 sock, qint64 atMs10, int from, int to, quint32 pid,
                            const char *comm, int family, Endpoint local, Endpoint remote,
                            quint8 ownerSource)
{
    const testrec::Endpoint ep{family == 6 ? AF_INET6 : AF_INET, local.addr, local.port,
                               remote.addr, remote.port};
    ts_state_change r = testrec::change(sock, quint64(kMonoBase + atMs10 * kMs / 10), quint8(from),
                                        quint8(to), ep, pid, comm, ownerSource);
    r.cgroup_id = 4242;
    r.ctx_pid = pid;
    r.owner_source = ownerSource;
    std::strncpy(r.ctx_comm, comm, TS_COMM_LEN - 1);
    return r;
}

ts_close_stats closeStats(quint64 sock, qint64 atMs10, int oldState, quint64 sent, quint64 received,
                          quint32 retrans, qint32 skErr)
{
    ts_close_stats r = testrec::closeStats(sock, quint64(kMonoBase + atMs10 * kMs / 10),
                                           quint8(oldState), skErr, sent, received);
    r.segs_in = 12;
    r.segs_out = 14;
    r.total_retrans = retrans;
    r.srtt_us = 85;
    r.min_rtt_us = 40;
    return r;
}

enum : int
{
    EST = 1,
    SYN_SENT,
    SYN_RECV,
    FIN_WAIT1,
    FIN_WAIT2,
    TIME_WAIT,
    CLOSE,
    CLOSE_WAIT,
    LAST_ACK,
    LISTEN
};

} // namespace

KernelData kernelFixture(qint64 wallBase)
{
    KernelData k;
    const auto ms = [wallBase](double v) { return wallBase + qint64(v * kMs); };
    const quint16 all = TS_SAMPLE_RTT | TS_SAMPLE_MIN_RTT | TS_SAMPLE_CWND | TS_SAMPLE_WINDOWS |
                        TS_SAMPLE_INFLIGHT | TS_SAMPLE_MSS | TS_SAMPLE_RATE | TS_SAMPLE_BYTES;
    for (int i = 0; i < 50; ++i) {
        TcpSample s;
        s.connectionId = kFixtureTransferId;
        s.timeNs = ms(101 + 10 * i);
        s.srttUs = quint32(200 + 25 * i);
        s.rttvarUs = quint32(50 + 7 * i);
        s.minRttUs = 150;
        const bool afterLoss = s.timeNs >= ms(300);
        s.cwnd = afterLoss ? quint32(20 + (i - 20)) : quint32(10 + 2 * i);
        s.ssthresh = afterLoss ? 20 : 0;
        s.sndWnd = 65536;
        s.rcvWnd = 131072;
        s.inFlight = s.cwnd - 2;
        s.packetsOut = s.inFlight;
        s.mss = 1448;
        s.bytesAcked = quint64(i) * 65536;
        s.deliveryRate = 6'500'000;
        s.caState = s.timeNs >= ms(300) && s.timeNs < ms(340) ? 3 : 0;
        s.fields = all;
        k.samples.append(s);
    }
    for (int i = 0; i < 6; ++i) {
        TcpSample s;
        s.connectionId = kFixtureResetId;
        s.timeNs = ms(1802 + 100 * i);
        s.srttUs = 5000;
        s.rttvarUs = 1000;
        s.minRttUs = 4000;
        s.cwnd = 10;
        s.sndWnd = s.rcvWnd = 65536;
        s.inFlight = 1;
        s.mss = 1448;
        s.bytesAcked = quint64(i) * 20;
        s.fields = all & ~TS_SAMPLE_RATE;
        k.samples.append(s);
    }
    KernelEvent rtx;
    rtx.connectionId = kFixtureTransferId;
    rtx.timeNs = ms(300);
    rtx.kind = KernelEventKind::Retransmit;
    rtx.state = 1;
    rtx.seq = 1000;
    rtx.segs = 2;
    KernelEvent rec = rtx;
    rec.kind = KernelEventKind::CongestionState;
    rec.oldCaState = 0;
    rec.newCaState = 3;
    KernelEvent open = rec;
    open.timeNs = ms(340);
    open.oldCaState = 3;
    open.newCaState = 0;
    KernelEvent refusedRst;
    refusedRst.connectionId = 4;
    refusedRst.timeNs = ms(1200.1);
    refusedRst.kind = KernelEventKind::ResetReceived;
    refusedRst.state = 2;
    KernelEvent peerRst;
    peerRst.connectionId = kFixtureResetId;
    peerRst.timeNs = ms(2400);
    peerRst.kind = KernelEventKind::ResetReceived;
    peerRst.state = 1;
    k.events = {rtx, rec, open, refusedRst, peerRst};
    std::sort(k.events.begin(), k.events.end(),
              [](const KernelEvent &a, const KernelEvent &b) { return a.timeNs < b.timeNs; });
    DropEvent old;
    old.connectionId = kFixtureTransferId;
    old.timeNs = ms(350);
    old.reason = 73;
    old.reasonName = QStringLiteral("TCP_OLD_DATA");
    old.srcAddr = test::ip(QStringLiteral("127.0.0.1"));
    old.srcPort = 8080;
    old.dstAddr = test::ip(QStringLiteral("127.0.0.1"));
    old.dstPort = 40001;
    old.tcpFlags = TS_TCP_ACK;
    old.seq = 777;
    old.payloadLen = 100;
    DropEvent noSock = old;
    noSock.connectionId = 0;
    noSock.timeNs = ms(1200.1);
    noSock.reason = 2;
    noSock.reasonName = QStringLiteral("NO_SOCKET");
    noSock.srcPort = 40002;
    noSock.dstPort = 9;
    noSock.tcpFlags = TS_TCP_SYN;
    noSock.payloadLen = 0;
    k.drops = {old, noSock};
    return k;
}

bool writeFixtureSession(const QString &path, FixtureFacts *facts, QString *error)
{
    ConnectionTracker tracker;
    tracker.setClockOffset(kWallBase - kMonoBase);
    const quint8 cur = TS_OWNER_CURRENT, lis = TS_OWNER_LISTENER;
    const Endpoint any{"0.0.0.0", 8080}, none{"0.0.0.0", 0};
    const Endpoint cli{"127.0.0.1", 40001}, srv{"127.0.0.1", 8080};

    // 1: listener, open until the end.
    tracker.onStateChange(stateChange(0x101, 10, CLOSE, LISTEN, 100, "nginx", 4, any, none, cur));
    // 2 + 3: a loopback request, client and accepted server socket; orderly close.
    tracker.onStateChange(stateChange(0x102, 1000, CLOSE, SYN_SENT, 200, "curl", 4, cli, srv, cur));
    tracker.onStateChange(stateChange(0x103, 1001, SYN_RECV, EST, 100, "nginx", 4, srv, cli, lis));
    tracker.onStateChange(stateChange(0x102, 1002, SYN_SENT, EST, 200, "curl", 4, cli, srv, cur));
    tracker.onStateChange(stateChange(0x102, 6000, EST, FIN_WAIT1, 200, "curl", 4, cli, srv, cur));
    tracker.onStateChange(
        stateChange(0x103, 6001, EST, CLOSE_WAIT, 100, "nginx", 4, srv, cli, lis));
    tracker.onStateChange(
        stateChange(0x102, 6002, FIN_WAIT1, FIN_WAIT2, 200, "curl", 4, cli, srv, cur));
    tracker.onStateChange(
        stateChange(0x103, 6010, CLOSE_WAIT, LAST_ACK, 100, "nginx", 4, srv, cli, lis));
    tracker.onStateChange(
        stateChange(0x102, 6012, FIN_WAIT2, TIME_WAIT, 200, "curl", 4, cli, srv, cur));
    tracker.onStateChange(
        stateChange(0x103, 6013, LAST_ACK, CLOSE, 100, "nginx", 4, srv, cli, lis));
    tracker.onCloseStats(closeStats(0x103, 6013, LAST_ACK, 1234, 4096, 0, 0));
    tracker.onStateChange(
        stateChange(0x102, 9000, TIME_WAIT, CLOSE, 200, "curl", 4, cli, srv, cur));
    tracker.onCloseStats(closeStats(0x102, 9000, TIME_WAIT, 4096, 1234, 1, 0));
    // 4: refused.
    const Endpoint cli2{"127.0.0.1", 40002}, discard{"127.0.0.1", 9};
    tracker.onStateChange(
        stateChange(0x104, 12000, CLOSE, SYN_SENT, 201, "curl", 4, cli2, discard, cur));
    tracker.onStateChange(
        stateChange(0x104, 12001, SYN_SENT, CLOSE, 201, "curl", 4, cli2, discard, cur));
    tracker.onCloseStats(closeStats(0x104, 12001, SYN_SENT, 0, 0, 0, ECONNREFUSED));
    // 5: IPv6, still open when the capture stops.
    const Endpoint v6l{"2001:db8::10", 50000}, v6r{"2001:db8::1", 443};
    tracker.onStateChange(
        stateChange(0x105, 15000, CLOSE, SYN_SENT, 300, "wget", 6, v6l, v6r, cur));
    tracker.onStateChange(stateChange(0x105, 15250, SYN_SENT, EST, 300, "wget", 6, v6l, v6r, cur));
    // 6: reset by the peer.
    const Endpoint pl{"10.0.0.1", 50100}, pr{"10.0.0.2", 5432};
    tracker.onStateChange(
        stateChange(0x106, 18000, CLOSE, SYN_SENT, 400, "python3", 4, pl, pr, cur));
    tracker.onStateChange(stateChange(0x106, 18020, SYN_SENT, EST, 400, "python3", 4, pl, pr, cur));
    tracker.onStateChange(stateChange(0x106, 24000, EST, CLOSE, 400, "python3", 4, pl, pr, cur));
    tracker.onCloseStats(closeStats(0x106, 24000, EST, 100, 0, 3, ECONNRESET));

    SessionInfo info;
    info.kernelRelease = QStringLiteral("6.18.0-test");
    info.hostname = QStringLiteral("fixture-host");
    info.tcpscopeVersion = QStringLiteral(TCPSCOPE_VERSION);
    info.probes = {QStringLiteral("inet_sock_set_state=tp_btf")};
    info.startedNs = kWallBase;
    info.stoppedNs = kWallBase + 3000 * kMs;
    info.recordsReceived = 24;
    info.lostRecords = 3;

    auto writer = SessionWriter::create(path, error);
    if (!writer)
        return false;
    info.kernelMetrics = true;
    info.sampleIntervalUs = 10'000;
    const KernelData kernel = kernelFixture(kWallBase);
    info.samplesReceived = quint64(kernel.samples.size());
    info.kernelEventsReceived = quint64(kernel.events.size());
    info.dropsReceived = quint64(kernel.drops.size());
    writer->setInfo(info);
    for (Connection c : tracker.all()) {
        // The summaries KernelJoiner would have kept for this data.
        for (const TcpSample &s : kernel.samples) {
            if (s.connectionId != c.id)
                continue;
            ++c.kernel.samples;
            c.kernel.srttUsMin =
                c.kernel.srttUsMin ? std::min(c.kernel.srttUsMin, s.srttUs) : s.srttUs;
            c.kernel.srttUsMax = std::max(c.kernel.srttUsMax, s.srttUs);
            c.kernel.cwndMax = std::max(c.kernel.cwndMax, s.cwnd);
        }
        for (const KernelEvent &e : kernel.events) {
            if (e.connectionId != c.id)
                continue;
            if (e.kind == KernelEventKind::Retransmit)
                c.kernel.retransmits += e.segs;
            c.kernel.resetsSent += e.kind == KernelEventKind::ResetSent;
            c.kernel.resetsReceived += e.kind == KernelEventKind::ResetReceived;
        }
        for (const DropEvent &d : kernel.drops)
            c.kernel.drops += d.connectionId == c.id;
        writer->writeConnection(c);
    }
    writer->writeKernelData(kernel);
    if (!writer->close(error))
        return false;
    if (facts) {
        facts->connections = int(tracker.size());
        facts->segments = 1 + 5 + 3 + 1 + 2 + 2;
        facts->startedNs = info.startedNs;
        facts->stoppedNs = info.stoppedNs;
        facts->lostRecords = info.lostRecords;
        facts->samples2 = 50;
        facts->samples6 = 6;
        facts->events = int(kernel.events.size());
        facts->drops = int(kernel.drops.size());
    }
    return true;
}

QVector<Connection> syntheticConnections(int n, qint64 originNs)
{
    QVector<Connection> out;
    out.reserve(n);
    for (int i = 0; i < n; ++i) {
        Connection c;
        c.id = i + 1;
        c.pid = 1000 + i % 50;
        c.comm = QStringLiteral("worker%1").arg(i % 50);
        c.role = ConnectionRole::Client;
        c.localAddr = test::ip(QStringLiteral("10.1.%1.%2").arg((i / 250) % 250).arg(i % 250));
        c.localPort = quint16(30000 + i % 30000);
        c.remoteAddr = test::ip(QStringLiteral("10.2.0.1"));
        c.remotePort = 443;
        const qint64 t0 = originNs + qint64(i) * 3 * kMs;
        auto add = [&c](qint64 t, TcpState from, TcpState to) {
            c.history.append({t, from, to, c.pid, c.comm});
        };
        add(t0, TcpState::Close, TcpState::SynSent);
        add(t0 + kMs / 10, TcpState::SynSent, TcpState::Established);
        add(t0 + 200 * kMs, TcpState::Established, TcpState::FinWait1);
        add(t0 + 201 * kMs, TcpState::FinWait1, TcpState::FinWait2);
        add(t0 + 202 * kMs, TcpState::FinWait2, TcpState::TimeWait);
        add(t0 + 260 * kMs, TcpState::TimeWait, TcpState::Close);
        c.startNs = t0;
        c.endNs = t0 + 260 * kMs;
        c.handshakeNs = kMs / 10;
        c.state = TcpState::Close;
        c.closeReason = CloseReason::Fin;
        out.append(c);
    }
    return out;
}

QVector<Packet> lossyTransferPackets(qint64 connectionId, qint64 startNs, qint64 firstId)
{
    constexpr quint32 c = kLossyClientIsn;
    constexpr quint32 s = 5'000'000;
    QVector<Packet> out;
    const auto add = [&](PacketDirection dir, quint8 flags, quint32 relSeq, quint32 relAck,
                         quint32 len) -> Packet & {
        Packet p;
        p.id = firstId + out.size();
        p.connectionId = connectionId;
        p.timeNs = startNs + out.size() * kMs;
        p.direction = dir;
        const bool fromClient = dir == PacketDirection::Out;
        p.srcAddr = test::ip4(10, 0, 0, quint8(fromClient ? 1 : 2));
        p.dstAddr = test::ip4(10, 0, 0, quint8(fromClient ? 2 : 1));
        p.srcPort = fromClient ? 40000 : 80;
        p.dstPort = fromClient ? 80 : 40000;
        p.tcpFlags = flags;
        p.relSeq = relSeq;
        p.relAck = relAck;
        p.seq = (fromClient ? c : s) + relSeq;
        p.ack = (flags & TS_TCP_ACK) ? (fromClient ? s : c) + relAck : 0;
        p.payloadLen = len;
        p.window = 1000;
        p.scaledWindow = (flags & TS_TCP_SYN) ? 1000 : 128000;
        out.append(p);
        return out.last();
    };
    const auto sack = [](quint32 left, quint32 right) {
        const quint32 l = kLossyClientIsn + left, r = kLossyClientIsn + right;
        QByteArray o("\x01\x01\x05\x0a", 4);
        for (quint32 v : {l, r})
            for (int shift : {24, 16, 8, 0})
                o.append(char((v >> shift) & 0xff));
        return o;
    };
    constexpr auto In = PacketDirection::In, Out = PacketDirection::Out;
    add(Out, TS_TCP_SYN, 0, 0, 0);
    add(In, TS_TCP_SYN | TS_TCP_ACK, 0, 1, 0);
    add(Out, TS_TCP_ACK, 1, 1, 0);
    for (quint32 rel : {1u, 1001u, 2001u, 3001u})
        add(Out, TS_TCP_ACK | TS_TCP_PSH, rel, 1, 1000);
    add(In, TS_TCP_ACK, 1, 1001, 0);
    Packet &dup1 = add(In, TS_TCP_ACK, 1, 1001, 0);
    dup1.analysis = AnalysisDuplicateAck;
    dup1.dupAckNum = 1;
    dup1.options = sack(2001, 3001);
    Packet &dup2 = add(In, TS_TCP_ACK, 1, 1001, 0);
    dup2.analysis = AnalysisDuplicateAck;
    dup2.dupAckNum = 2;
    dup2.options = sack(2001, 4001);
    add(Out, TS_TCP_ACK | TS_TCP_PSH, 1001, 1, 1000).analysis =
        AnalysisRetransmission | AnalysisFastRetransmission;
    Packet &zero = add(In, TS_TCP_ACK, 1, 4001, 0);
    zero.window = 0;
    zero.scaledWindow = 0;
    zero.analysis = AnalysisZeroWindow;
    add(Out, TS_TCP_FIN | TS_TCP_ACK, 4001, 1, 0);
    add(In, TS_TCP_RST | TS_TCP_ACK, 1, 4002, 0).analysis = AnalysisReset;
    return out;
}

} // namespace tcpscope::testing
