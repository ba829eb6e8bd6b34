// SPDX-License-Identifier: GPL-3.0-or-later
// Endpoints: the session's connections grouped by remote address, by port or by local
// process (Wireshark's Endpoints, with processes), each group with its connections, bytes each
// way, retransmits, resets and RTT percentiles, and the display-filter expression that selects
// exactly its connections (so a row can become the table's filter). Listeners are left out:
// they carry no traffic of their own.
//
// Computed from the connections' summaries only (core/analysis/connection_figures.h), never
// from packets or samples: a pass over the `connections` table of a Session.
#pragma once

#include "model/connection.h"

#include <QString>
#include <QVector>

#include <atomic>
#include <span>

namespace tcpscope {

class Session;

enum class EndpointGrouping : quint8
{
    RemoteAddress, // the peer's address
    Port,          // the service port: the remote port of a client socket, the local port of a
                   // server socket (a server's remote port is the client's ephemeral one)
    Process,       // the owning process's name (comm); all its pids together
};

struct Endpoint
{
    QString key;    // the address, the port number or the process name ("" = unknown)
    QString side;   // Port: "remote" (connected to) or "local" (served here); else ""
    QString filter; // display-filter expression selecting exactly these connections
    qint64 connections = 0;
    qint64 open = 0;      // still open at the end of the session
    qint64 processes = 0; // distinct pids (0 = unknown not counted)
    quint64 bytesOut = 0; // sent by this host's sockets
    quint64 bytesIn = 0;
    quint64 retransmits = 0;
    quint64 resets = 0;
    qint64 handshakes = 0; // connections whose handshake was seen
    qint64 rttCount = 0;   // connections with a known RTT
    // Nearest-rank percentiles of the connections' smoothed RTT (µs); -1 when none is known.
    qint64 rttP50Us = -1;
    qint64 rttP90Us = -1;
    qint64 rttMaxUs = -1;
};

struct EndpointTable
{
    EndpointGrouping grouping = EndpointGrouping::RemoteAddress;
    QVector<Endpoint> rows; // by connections (most first), then key
    qint64 connections = 0; // connections grouped (listeners left out)
};

// Human name of a grouping ("Remote addresses", "Ports", "Processes").
QString endpointGroupingName(EndpointGrouping grouping);

EndpointTable computeEndpoints(std::span<const Connection> connections, EndpointGrouping grouping);
// Over a session's connections; only (sorted ids; null = all) restricts it to these (the
// connection table's current filter). cancel may be null; a cancelled computation returns
// what it had grouped so far.
EndpointTable computeEndpoints(const Session &session, EndpointGrouping grouping,
                               const QVector<qint64> *only = nullptr,
                               const std::atomic<bool> *cancel = nullptr);

} // namespace tcpscope
