// SPDX-License-Identifier: GPL-3.0-or-later
// Internal to `tcpscope info`: what one pass over the connection summaries gathers, and the
// lines about the kernel's view of the connections.
#pragma once

#include "analysis/peers.h"
#include "session/session.h"

#include <QHash>
#include <QMap>
#include <QString>
#include <QVector>
#include <functional>
#include <utility>
#include <vector>

namespace tcpscope::cli {

// "CLOSE 39, ESTABLISHED 2": each name with its count, most first, then by name; "-" for none.
QString countsLine(const QMap<QString, qint64> &counts);

// One pass over the connections without their history (Session::forEachConnection).
struct ConnectionTotals
{
    qint64 count = 0;
    qint64 open = 0;
    qint64 firstNs = 0;
    qint64 lastNs = 0;
    QMap<QString, qint64> byState, byReason, byRole; // filled by finish()
    QMap<qint32, qint64> byHost;                     // Connection::hostId -> connections
    PacketCounts packets; // sums over the connections with packets: every socket's own view
    qint64 withPackets = 0;
    // Each wire packet once. A connection with both ends on this host (loopback, a container on
    // a veth) is two sockets in the session, and each saw every packet between them (one sent
    // it, the other received it): such a pair counts from its client socket only (the lower
    // id when neither is a client). Filled by finish(); totals, not the handshake options.
    PacketCounts wire;
    qint64 localPairs = 0; // pairs whose two sockets were both added
    quint64 joinedSamples = 0;
    qint64 sampled = 0;
    QVector<Connection> listeners;      // listeners that dropped or queued connections
    QVector<Connection> topRetransmits; // the 5 with the most kernel retransmits, most first

    // Every connection that was added is also given to seePeer(); seePeer() alone is for the
    // connections a display filter left out (a pair counts once only if both ends were added).
    void add(const Connection &c);
    void seePeer(const Connection &c) { m_pairer.add(c); }
    void finish();

private:
    struct View
    {
        ConnectionRole role;
        PacketCounts counts;
    };
    PeerPairer m_pairer;
    // Added connections with packets, by id (in the order added: Session::forEachConnection
    // goes by id; finish() sorts them otherwise).
    std::vector<std::pair<qint64, View>> m_views;
    // Counts by the enums' values, named by finish().
    QHash<int, qint64> m_states, m_reasons, m_roles;
};

using LineFn = std::function<void(const char *, const QString &)>;

// Calls line(label, value) for each line; a value may span lines (already indented).
// kernel: Session::kernelEvents() (events, drops, listener samples; no samples).
void kernelLines(const SessionInfo &info, const ConnectionTotals &totals, const KernelData &kernel,
                 const LineFn &line);

} // namespace tcpscope::cli
