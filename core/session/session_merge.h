// SPDX-License-Identifier: GPL-3.0-or-later
// `tcpscope merge` and File > Merge...: several sessions (each of one host or already of
// several) into one session on one time axis. Each input host keeps its identity (the `hosts`
// table, Connection::hostId); its timestamps are shifted by a clock offset found per host:
// given by the user, recorded in the input, or aligned on the handshakes of connections seen
// from both sides (NTP-style, see alignOnHandshakes). Inputs are streamed connection by
// connection and chunk by chunk through Session, written through SessionWriter into a
// temporary file renamed over the output at the end (core/output_file.h). Documented in
// README.md (Merging sessions) and docs/SESSION_FORMAT.md (`hosts`).
#pragma once

#include "model/host.h"
#include "session/session.h"

#include <QString>
#include <QStringList>
#include <QVector>
#include <atomic>
#include <functional>
#include <optional>

namespace tcpscope {

struct MergeOffset
{
    QString host;    // a host name as `tcpscope info` shows it, or an input file name
    qint64 offsetNs; // added to that host's timestamps
};
// "HOST=+12.5" / "HOST=-3" (milliseconds, sign optional) into *out; false + one line.
bool parseMergeOffset(const QString &text, MergeOffset *out, QString *error);

struct MergeOptions
{
    QStringList inputs; // at least two session files; the first is the time reference
    QString output;
    QVector<MergeOffset> offsets;
    bool force = false; // replace an existing output (atomically)
};

// What a merge found and wrote, for the caller to print.
struct MergeReport
{
    QVector<HostInfo> hosts;   // as written, by id
    QVector<int> hostInput;    // per host: the index of its input
    QVector<qint64> hostPairs; // per host: connections paired for handshake alignment
    QStringList warnings;      // one line each ("host B: no offset found ...")
    qint64 connections = 0, packets = 0, samples = 0, kernelRecords = 0;
};

// One connection seen from both hosts: the client's SYN sent and SYN-ACK received (client
// clock), the server's SYN received and SYN-ACK sent (server clock), ns.
struct HandshakeTimes
{
    qint64 clientSynSent = 0, clientSynAckReceived = 0;
    qint64 serverSynReceived = 0, serverSynAckSent = 0;
    bool referenceIsClient = true; // which end is on the reference host
};
struct ClockAlignment
{
    qint64 offsetNs = 0; // add to the other host's times to put them on the reference's axis
    qint64 errorNs = 0;  // bound: (round trip - server turnaround) / 2, or the spread
    int pairs = 0;
};
// NTP-style alignment of the other host's clock on the reference's over the pairs: each pair's
// server-minus-client offset ((serverSynReceived - clientSynSent) + (serverSynAckSent -
// clientSynAckReceived)) / 2, bounded by half of (round trip - the server's turnaround), made
// a shift of the other host (its negation when the other host is the server); the median
// pair's shift, its error the larger of that pair's bound and half the interquartile range.
// nullopt for no pairs.
std::optional<ClockAlignment> alignHandshakes(const QVector<HandshakeTimes> &pairs);

// Merges options.inputs into options.output. False + one line ("FILE: why") on failure; then
// no output file is left (an existing one is untouched). cancel (may be null) is polled;
// progress (may be empty) gets 0..100; log (may be empty) gets a line per host as its offset
// is decided.
bool mergeSessions(const MergeOptions &options, MergeReport *report, QString *error,
                   const std::atomic<bool> *cancel = nullptr,
                   const std::function<void(int percent)> &progress = {},
                   const std::function<void(const QString &line)> &log = {});

// "host web1 (b.tcpscope): +1234.567 ms ± 0.052 ms (handshakes, 12 pairs)"
QString mergeHostLine(const MergeReport &report, int hostId);

} // namespace tcpscope
