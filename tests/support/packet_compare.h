// SPDX-License-Identifier: GPL-3.0-or-later
// Field-by-field comparison of two packets for Qt Test (every stored field of a Packet), shared
// by the tests that write packets and read them back.
#pragma once

#include "model/packet.h"

#include <QTest>

namespace tcpscope::testing {

inline void comparePackets(const Packet &a, const Packet &b)
{
    QCOMPARE(a.id, b.id);
    QCOMPARE(a.connectionId, b.connectionId);
    QCOMPARE(a.timeNs, b.timeNs);
    QCOMPARE(a.sockId, b.sockId);
    QCOMPARE(a.ifindex, b.ifindex);
    QCOMPARE(a.direction, b.direction);
    QCOMPARE(a.parseStatus, b.parseStatus);
    QCOMPARE(a.sockState, b.sockState);
    QCOMPARE(a.family(), b.family());
    QCOMPARE(a.srcAddr, b.srcAddr);
    QCOMPARE(a.dstAddr, b.dstAddr);
    QCOMPARE(a.srcPort, b.srcPort);
    QCOMPARE(a.dstPort, b.dstPort);
    QCOMPARE(a.seq, b.seq);
    QCOMPARE(a.ack, b.ack);
    QCOMPARE(a.tcpFlags, b.tcpFlags);
    QCOMPARE(a.window, b.window);
    QCOMPARE(a.urgPtr, b.urgPtr);
    QCOMPARE(a.payloadLen, b.payloadLen);
    QCOMPARE(a.skbLen, b.skbLen);
    QCOMPARE(a.gsoSegs, b.gsoSegs);
    QCOMPARE(a.gsoSize, b.gsoSize);
    QCOMPARE(a.ttl, b.ttl);
    QCOMPARE(a.tos, b.tos);
    QCOMPARE(a.vlanTci, b.vlanTci);
    QCOMPARE(a.vlanDepth, b.vlanDepth);
    QCOMPARE(a.ipFrag, b.ipFrag);
    QCOMPARE(a.ipId, b.ipId);
    QCOMPARE(a.ipHdrLen, b.ipHdrLen);
    QCOMPARE(a.tcpHdrLen, b.tcpHdrLen);
    QCOMPARE(a.options.toByteArray(), b.options.toByteArray());
    QCOMPARE(a.payload, b.payload);
    QCOMPARE(a.analysis, b.analysis);
    QCOMPARE(a.dupAckNum, b.dupAckNum);
    QCOMPARE(a.relSeq, b.relSeq);
    QCOMPARE(a.relAck, b.relAck);
    QCOMPARE(a.bytesInFlight, b.bytesInFlight);
    QCOMPARE(a.scaledWindow, b.scaledWindow);
    QCOMPARE(a.ackRttNs, b.ackRttNs);
}

} // namespace tcpscope::testing
