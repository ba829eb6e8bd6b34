// SPDX-License-Identifier: GPL-3.0-or-later
// Shared by the TcpAnalyzer unit tests: a connection fed with hand-made packets on a running
// clock, and an exact flag comparison. The local socket is the client unless a test says
// otherwise: Out = client -> server, In = server -> client.
#pragma once

#include "analysis/tcp_analyzer.h"
#include "model/packet.h"
#include "tcpscope_records.h"

#include <QTest>

namespace tcpscope::testana {

constexpr quint8 SYN = TS_TCP_SYN;
constexpr quint8 ACK = TS_TCP_ACK;
constexpr quint8 FIN = TS_TCP_FIN;
constexpr quint8 RST = TS_TCP_RST;
constexpr quint8 PSH = TS_TCP_PSH;

constexpr quint32 kC = 1000;      // client ISN
constexpr quint32 kS = 5000;      // server ISN
constexpr qint64 kStep = 100'000; // 100 µs between packets unless a test says otherwise

inline QByteArray synOptions(int mss, int wscale, bool sack = true, bool ts = true)
{
    QByteArray o;
    o += char(2);
    o += char(4);
    o += char(mss >> 8);
    o += char(mss & 0xff);
    if (sack) {
        o += char(4);
        o += char(2);
    }
    if (ts)
        o += QByteArray::fromHex("080a0000000100000000");
    if (wscale >= 0) {
        o += char(1);
        o += char(3);
        o += char(3);
        o += char(wscale);
    }
    return o;
}

// One connection being fed: builds packets with a running clock and returns them analysed.
class Conn
{
public:
    qint64 now = 1'700'000'000'000'000'000;
    TcpAnalyzer analyzer;

    Packet send(PacketDirection dir, quint32 seq, quint32 ack, quint8 flags, quint32 len,
                quint16 window, qint64 after = kStep, const QByteArray &options = {})
    {
        now += after;
        Packet p;
        p.id = ++m_id;
        p.timeNs = now;
        p.direction = dir;
        p.seq = seq;
        p.ack = ack;
        p.tcpFlags = flags;
        p.payloadLen = len;
        p.window = window;
        p.options = options;
        analyzer.analyze(p);
        return p;
    }
    Packet out(quint32 seq, quint32 ack, quint8 flags, quint32 len, quint16 window,
               qint64 after = kStep, const QByteArray &options = {})
    {
        return send(PacketDirection::Out, seq, ack, flags, len, window, after, options);
    }
    Packet in(quint32 seq, quint32 ack, quint8 flags, quint32 len, quint16 window,
              qint64 after = kStep, const QByteArray &options = {})
    {
        return send(PacketDirection::In, seq, ack, flags, len, window, after, options);
    }
    const PacketCounts &counts() const { return analyzer.counts(); }

    // SYN, SYN-ACK, ACK 100 µs apart (iRTT 200 µs); window scale 7 both ways unless given.
    void handshake(int wsLocal = 7, int wsRemote = 7)
    {
        out(kC, 0, SYN, 0, 64240, kStep, synOptions(1460, wsLocal));
        in(kS, kC + 1, SYN | ACK, 0, 65160, kStep, synOptions(1400, wsRemote));
        out(kC + 1, kS + 1, ACK, 0, 502);
    }

private:
    qint64 m_id = 0;
};

// Exact flag comparison with readable failure output (the packet expression is evaluated once:
// it usually feeds the analyzer).
#define EXPECT_FLAGS(packet, expected)                                                             \
    do {                                                                                           \
        const Packet &p_ = (packet);                                                               \
        QVERIFY2(p_.analysis == quint32(expected),                                                 \
                 qPrintable(QStringLiteral("packet %1: got \"%2\", want \"%3\"")                   \
                                .arg(p_.id)                                                        \
                                .arg(analysisSummary(p_.analysis, p_.dupAckNum))                   \
                                .arg(analysisSummary(quint32(expected), p_.dupAckNum))));          \
    } while (false)

} // namespace tcpscope::testana
