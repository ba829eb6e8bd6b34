// SPDX-License-Identifier: GPL-3.0-or-later
// Opens a *.tcpscope file defensively (it may come from anyone): read-only, quick_check,
// trusted_schema=OFF, application_id/user_version checked, only the expected tables/columns read.
#pragma once

#include "model/connection.h"

#include <QString>
#include <QVector>
#include <optional>

namespace tcpscope {

struct SessionData
{
    SessionInfo info;
    QVector<Connection> connections; // ordered by id, each with its full state history
    QVector<Packet> packets;         // ordered by id (only those ReadOptions asked for)
    KernelData kernel;               // each vector in time order (only what ReadOptions asked for)
};

struct ReadOptions
{
    bool packets = true;       // false: connections and info only (`info`, CSV export)
    qint64 connectionId = 0;   // non-zero: only that connection's packets, samples, events
                               // and drops (listener samples: those of that listener)
    bool kernel = true;        // false: no samples/events/drops/listeners
    bool kernelSamples = true; // false (with kernel): events, drops and listener samples only,
                               // no tcp_samples rows (`info`: the summaries have their counts)
};

class SessionReader
{
public:
    // nullopt and a one-line human-readable reason in *error for: missing file, not SQLite,
    // truncated/corrupt, wrong application_id, unsupported user_version, missing tables.
    static std::optional<SessionData> read(const QString &path, QString *error,
                                           const ReadOptions &options = {});
};

} // namespace tcpscope
