// SPDX-License-Identifier: GPL-3.0-or-later
// Kernel-view test data for test_session_kernel: one connection/sample/event/drop/listener with
// every field set to a value that only survives a faithful round trip (top bits, u32 maxima,
// NULL-mapped zeros), and field-by-field comparisons.
#pragma once

#include "model/connection.h"
#include "test_addresses.h"

#include <QTest>

extern "C" {
#include "tcpscope_records.h"
}

namespace tcpscope::testing {

inline constexpr qint64 kT0 = 1'764'300'000'000'000'000;

inline Connection conn(qint64 id, ConnectionRole role = ConnectionRole::Client)
{
    Connection c;
    c.id = id;
    c.sockId = 0x8000'0000'0000'0000ULL + quint64(id);
    c.pid = 7;
    c.comm = QStringLiteral("iperf3");
    c.localAddr = c.remoteAddr = test::ip(QStringLiteral("127.0.0.1"));
    c.localPort = quint16(50000 + id);
    c.remotePort = 5201;
    c.role = role;
    c.startNs = kT0;
    c.state = TcpState::Established;
    KernelSummary &k = c.kernel;
    k.samples = 1000 + quint32(id);
    k.srttUsMin = id == 2 ? 0 : 21; // 0 = no RTT sample: NULL in the file
    k.srttUsMax = id == 2 ? 0 : 4'000'000'000u;
    k.cwndMax = id == 2 ? 0 : 10;
    k.retransmits = 5;
    k.synRetransmits = 1;
    k.synAckRetransmits = 2;
    k.resetsSent = 3;
    k.resetsReceived = 4;
    k.drops = 6;
    k.listenDrops = role == ConnectionRole::Listener ? 9 : 0;
    k.backlogMax = role == ConnectionRole::Listener ? 128 : 0;
    return c;
}

inline TcpSample sample(qint64 connectionId, qint64 t)
{
    TcpSample s;
    s.connectionId = connectionId;
    s.timeNs = kT0 + t;
    s.srttUs = 30 + quint32(t);
    s.rttvarUs = 15;
    s.minRttUs = 12;
    s.cwnd = 10 + quint32(t);
    s.ssthresh = 0xffff'fffeu;
    s.sndWnd = 0xffff'ffffu;
    s.rcvWnd = 65483;
    s.packetsOut = 4;
    s.retransOut = 1;
    s.lostOut = 2;
    s.sackedOut = 3;
    s.inFlight = 3;
    s.mss = 65483;
    s.totalRetrans = 77;
    s.bytesAcked = 0xffff'ffff'ffff'fff0ULL; // the top bit survives (bit-for-bit)
    s.bytesReceived = 0x1'0000'0000ULL;
    s.deliveryRate = 123'456'789'012ULL;
    s.caState = quint8(t % 5);
    s.fields = TS_SAMPLE_RTT | TS_SAMPLE_CWND | TS_SAMPLE_SEQ;
    return s;
}

inline KernelEvent event(qint64 connectionId, qint64 t, KernelEventKind kind)
{
    KernelEvent e;
    e.connectionId = connectionId;
    e.timeNs = kT0 + t;
    e.kind = kind;
    e.state = kind == KernelEventKind::ResetSent ? 0 : 1; // 0 = no socket: "NONE"
    e.seq = 0xffff'ffffu;
    e.segs = kind == KernelEventKind::Retransmit ? 65535 : 1;
    e.err = kind == KernelEventKind::Retransmit ? -11 : 0;
    e.tcpFlags = kind == KernelEventKind::Retransmit ? TS_TCP_SYN : 0;
    if (kind == KernelEventKind::ResetSent) {
        e.reason = 2;
        e.reasonName = QStringLiteral("NO_SOCKET");
    }
    if (kind == KernelEventKind::CongestionState) {
        e.oldCaState = 0;
        e.newCaState = 4;
    }
    e.srttUs = 44;
    e.cwnd = 9;
    return e;
}

inline DropEvent drop(qint64 connectionId, qint64 t, int family)
{
    DropEvent d;
    d.connectionId = connectionId;
    d.timeNs = kT0 + t;
    d.reason = family == 6 ? 0 : 2;
    d.reasonName = family == 6 ? QString() : QStringLiteral("NO_SOCKET");
    d.location = 0xffff'ffff'8100'0000ULL;
    d.ifindex = 1;
    d.srcAddr = test::ip(family == 6 ? QStringLiteral("2001:db8::1") : QStringLiteral("127.0.0.1"));
    d.srcPort = 65535;
    d.dstAddr = test::ip(family == 6 ? QStringLiteral("::1") : QStringLiteral("127.0.0.2"));
    d.dstPort = 9;
    d.tcpFlags = TS_TCP_SYN;
    d.sockState = family == 6 ? 10 : 0;
    d.seq = 0xffff'ffffu;
    d.ack = 1;
    d.payloadLen = 1448;
    return d;
}

inline ListenerSample listener(qint64 connectionId, qint64 t)
{
    ListenerSample l;
    l.connectionId = connectionId;
    l.timeNs = kT0 + t;
    l.sockId = 0xdead'beef'0000'0001ULL;
    l.addr = test::ip(QStringLiteral("::"));
    l.port = 8080;
    l.backlog = 129;
    l.maxBacklog = 128;
    l.drops = 0x1'0000'0000ULL;
    return l;
}

inline KernelData batch1()
{
    KernelData k;
    k.samples = {sample(1, 1), sample(2, 2), sample(0, 3), sample(1, 4)};
    k.events = {event(1, 1, KernelEventKind::Retransmit), event(0, 2, KernelEventKind::ResetSent),
                event(2, 3, KernelEventKind::ResetReceived),
                event(3, 4, KernelEventKind::SynAckRetransmit),
                event(1, 5, KernelEventKind::CongestionState)};
    k.drops = {drop(0, 1, 4), drop(2, 2, 6)};
    k.listeners = {listener(3, 1), listener(0, 2)};
    return k;
}

inline SessionInfo info()
{
    SessionInfo i;
    i.kernelRelease = QStringLiteral("6.18.0");
    i.startedNs = kT0;
    i.kernelMetrics = true;
    i.sampleIntervalUs = 10'000'000;
    i.samplesReceived = 0x1'0000'0001ULL;
    i.kernelEventsReceived = 5;
    i.dropsReceived = 2;
    return i;
}

inline void compare(const TcpSample &a, const TcpSample &b)
{
    QCOMPARE(a.connectionId, b.connectionId);
    QCOMPARE(a.timeNs, b.timeNs);
    QCOMPARE(a.srttUs, b.srttUs);
    QCOMPARE(a.rttvarUs, b.rttvarUs);
    QCOMPARE(a.minRttUs, b.minRttUs);
    QCOMPARE(a.cwnd, b.cwnd);
    QCOMPARE(a.ssthresh, b.ssthresh);
    QCOMPARE(a.sndWnd, b.sndWnd);
    QCOMPARE(a.rcvWnd, b.rcvWnd);
    QCOMPARE(a.packetsOut, b.packetsOut);
    QCOMPARE(a.retransOut, b.retransOut);
    QCOMPARE(a.lostOut, b.lostOut);
    QCOMPARE(a.sackedOut, b.sackedOut);
    QCOMPARE(a.inFlight, b.inFlight);
    QCOMPARE(a.mss, b.mss);
    QCOMPARE(a.totalRetrans, b.totalRetrans);
    QCOMPARE(a.bytesAcked, b.bytesAcked);
    QCOMPARE(a.bytesReceived, b.bytesReceived);
    QCOMPARE(a.deliveryRate, b.deliveryRate);
    QCOMPARE(a.caState, b.caState);
    QCOMPARE(a.fields, b.fields);
}

inline void compare(const KernelEvent &a, const KernelEvent &b)
{
    QCOMPARE(a.connectionId, b.connectionId);
    QCOMPARE(a.timeNs, b.timeNs);
    QCOMPARE(a.kind, b.kind);
    QCOMPARE(a.state, b.state);
    QCOMPARE(a.seq, b.seq);
    QCOMPARE(a.segs, b.segs);
    QCOMPARE(a.err, b.err);
    QCOMPARE(a.tcpFlags, b.tcpFlags);
    QCOMPARE(a.reason, b.reason);
    QCOMPARE(a.reasonName, b.reasonName);
    QCOMPARE(a.oldCaState, b.oldCaState);
    QCOMPARE(a.newCaState, b.newCaState);
    QCOMPARE(a.srttUs, b.srttUs);
    QCOMPARE(a.cwnd, b.cwnd);
}

inline void compare(const DropEvent &a, const DropEvent &b)
{
    QCOMPARE(a.connectionId, b.connectionId);
    QCOMPARE(a.timeNs, b.timeNs);
    QCOMPARE(a.reason, b.reason);
    QCOMPARE(a.reasonName, b.reasonName);
    QCOMPARE(a.location, b.location);
    QCOMPARE(a.ifindex, b.ifindex);
    QCOMPARE(a.srcAddr, b.srcAddr);
    QCOMPARE(a.srcPort, b.srcPort);
    QCOMPARE(a.dstAddr, b.dstAddr);
    QCOMPARE(a.dstPort, b.dstPort);
    QCOMPARE(a.tcpFlags, b.tcpFlags);
    QCOMPARE(a.sockState, b.sockState);
    QCOMPARE(a.seq, b.seq);
    QCOMPARE(a.ack, b.ack);
    QCOMPARE(a.payloadLen, b.payloadLen);
}

inline void compare(const ListenerSample &a, const ListenerSample &b)
{
    QCOMPARE(a.connectionId, b.connectionId);
    QCOMPARE(a.timeNs, b.timeNs);
    QCOMPARE(a.sockId, b.sockId);
    QCOMPARE(a.addr, b.addr);
    QCOMPARE(a.port, b.port);
    QCOMPARE(a.backlog, b.backlog);
    QCOMPARE(a.maxBacklog, b.maxBacklog);
    QCOMPARE(a.drops, b.drops);
}

inline void compare(const KernelSummary &a, const KernelSummary &b)
{
    QCOMPARE(a.samples, b.samples);
    QCOMPARE(a.srttUsMin, b.srttUsMin);
    QCOMPARE(a.srttUsMax, b.srttUsMax);
    QCOMPARE(a.cwndMax, b.cwndMax);
    QCOMPARE(a.retransmits, b.retransmits);
    QCOMPARE(a.synRetransmits, b.synRetransmits);
    QCOMPARE(a.synAckRetransmits, b.synAckRetransmits);
    QCOMPARE(a.resetsSent, b.resetsSent);
    QCOMPARE(a.resetsReceived, b.resetsReceived);
    QCOMPARE(a.drops, b.drops);
    QCOMPARE(a.listenDrops, b.listenDrops);
    QCOMPARE(a.backlogMax, b.backlogMax);
}

} // namespace tcpscope::testing
