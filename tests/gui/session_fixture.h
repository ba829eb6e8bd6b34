// SPDX-License-Identifier: GPL-3.0-or-later
// Builds a small but realistic session file for the GUI tests by feeding synthetic kernel
// records through the real ConnectionTracker and SessionWriter (the same path a capture takes).
#pragma once

#include "model/connection.h"

#include <QString>

namespace tcpscope::testing {

// What the fixture contains, so tests can assert against it instead of magic numbers.
struct FixtureFacts
{
    int connections = 0;
    int segments = 0;     // timeline segments (states with a duration, CLOSE excluded)
    qint64 startedNs = 0; // capture start (wall)
    qint64 stoppedNs = 0;
    quint64 lostRecords = 0;
    // Kernel metrics: samples of connection 2 (a transfer with one loss) and 6 (reset
    // by the peer), events and drops; see kernelFixture().
    int samples2 = 0;
    int samples6 = 0;
    int events = 0;
    int drops = 0;
};

// Kernel data of the fixture (ids as below), wall times on the fixture's clock:
//  connection 2: a sample every 10 ms from 101 ms to 591 ms: srtt 200 µs rising to 1.4 ms,
//    rttvar 50..400 µs, min RTT 150 µs, slow start (ssthresh infinite) until the loss at 300 ms,
//    then cwnd halved with ssthresh 20; snd_wnd 64 KiB, rcv_wnd 128 KiB; bytes_acked +64 KiB per
//    sample (≈ 52 Mbit/s), delivery rate 6.5 MB/s. Events: retransmit seq 1000 (2 segs) at
//    300 ms, congestion Open→Recovery at 300 ms and back to Open at 340 ms. Drop TCP_OLD_DATA at
//    350 ms.
//  connection 6: samples every 100 ms from 1802 ms to 2302 ms (srtt 5 ms, cwnd 10), RST received
//    at 2400 ms.
//  connection 4: RST received at 1200.1 ms; an unjoined drop NO_SOCKET (id 0) at 1200.1 ms.
KernelData kernelFixture(qint64 wallBaseNs);
constexpr qint64 kFixtureTransferId = 2;
constexpr qint64 kFixtureResetId = 6;

// Connections (in id order):
//  1 nginx  pid 100 listener 0.0.0.0:8080                          open (LISTEN)
//  2 curl   pid 200 client  127.0.0.1:40001 -> 127.0.0.1:8080      orderly close, 4096/1234 B
//  3 nginx  pid 100 server  127.0.0.1:8080  -> 127.0.0.1:40001     accepted, orderly close
//  4 curl   pid 201 client  127.0.0.1:40002 -> 127.0.0.1:9         refused
//  5 wget   pid 300 client  [2001:db8::10]:50000 -> [2001:db8::1]:443  IPv6, still open
//  6 python3 pid 400 client 10.0.0.1:50100 -> 10.0.0.2:5432         reset by peer
bool writeFixtureSession(const QString &path, FixtureFacts *facts, QString *error);

// A connection of n synthetic ones for scale tests (no file involved).
QVector<Connection> syntheticConnections(int n, qint64 originNs);

// Packets of a small upload with one loss, as TcpAnalyzer would have annotated them (for the
// sequence graph and timeline markers; no analyzer involved). The client's ISN is 2048 below
// the 32-bit wrap so the data crosses it. Ids firstId.., 1 ms apart from startNs:
//  +0 SYN out, +1 SYN-ACK in, +2 ACK out, +3..+6 data out rel 1/1001/2001/3001 (1000 B each;
//  +4 is lost), +7 ACK 1001 (window 1000 << 7), +8/+9 dup ACK #1/#2 with SACK 2001-3001 and
//  2001-4001, +10 fast retransmission of 1001, +11 ACK 4001 zero window, +12 FIN out,
//  +13 RST+ACK in.
QVector<Packet> lossyTransferPackets(qint64 connectionId, qint64 startNs, qint64 firstId);
constexpr quint32 kLossyClientIsn = 0xFFFFF800u;

} // namespace tcpscope::testing
