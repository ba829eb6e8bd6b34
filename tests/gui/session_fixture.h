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

} // namespace tcpscope::testing
