// SPDX-License-Identifier: GPL-3.0-or-later
// Internal to `tcpscope info`: what one pass over the connection summaries gathers, and the
// lines about the kernel's view of the connections.
#pragma once

#include "session/session.h"

#include <QMap>
#include <QString>
#include <QVector>
#include <functional>

namespace tcpscope::cli {

// One pass over the connections without their history (Session::forEachConnection).
struct ConnectionTotals
{
    qint64 count = 0;
    qint64 open = 0;
    qint64 firstNs = 0;
    qint64 lastNs = 0;
    QMap<QString, qint64> byState, byReason, byRole;
    PacketCounts packets; // sums over the connections with packets
    qint64 withPackets = 0;
    quint64 joinedSamples = 0;
    qint64 sampled = 0;
    QVector<Connection> listeners;      // listeners that dropped or queued connections
    QVector<Connection> topRetransmits; // the 5 with the most kernel retransmits, most first

    void add(const Connection &c);
};

using LineFn = std::function<void(const char *, const QString &)>;

// Calls line(label, value) for each line; a value may span lines (already indented).
// kernel: Session::kernelEvents() (events, drops, listener samples; no samples).
void kernelLines(const SessionInfo &info, const ConnectionTotals &totals, const KernelData &kernel,
                 const LineFn &line);

} // namespace tcpscope::cli
