// SPDX-License-Identifier: GPL-3.0-or-later
// Loads a whole session into memory, for the callers that have not moved to Session's queries
// yet. A thin wrapper: everything is read through Session (core/session/session.h), the one
// reading path, with its defensive opening and tolerant values.
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
    quint64 valuesOutOfRange = 0;    // fields shown as unknown (Session::valuesOutOfRange)
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
    // At most this many packets or kernel rows are loaded at once (a whole-file load beyond
    // it is refused with a sentence saying to read one connection instead).
    static constexpr qint64 kMaxLoadedRows = 20'000'000;

    // nullopt and a one-line human-readable reason in *error for: missing file, not SQLite,
    // truncated/corrupt, wrong application_id, unsupported version, missing tables.
    static std::optional<SessionData> read(const QString &path, QString *error,
                                           const ReadOptions &options = {});
};

} // namespace tcpscope
