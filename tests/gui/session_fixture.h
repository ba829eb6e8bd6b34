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
    int segments = 0;        // timeline segments (states with a duration, CLOSE excluded)
    qint64 startedNs = 0;    // capture start (wall)
    qint64 stoppedNs = 0;
    quint64 lostRecords = 0;
};

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
