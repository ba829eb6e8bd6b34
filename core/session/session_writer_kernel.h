// SPDX-License-Identifier: GPL-3.0-or-later
// Internal to SessionWriter: the schema v3 rows of the kernel's view (tcp_samples, kernel_events,
// drops, listener_samples). Runs on the writer thread inside its batch transaction. Not an API.
#pragma once

#include "model/kernel.h"
#include "session/sqlite_util.h"

#include <QString>

namespace tcpscope::detail {

class KernelRowWriter
{
public:
    // Prepares the insert statements on db. sampleRows false (format 4): samples are stored in
    // chunks by the caller, write() leaves them out. False + reason.
    bool prepare(sqlite3 *db, bool sampleRows, QString *err);
    // Appends every sample (as rows only when asked), event, drop and listener sample
    // (connectionId 0 stored as NULL).
    bool write(const KernelData &data, QString *err);
    // Finalizes the statements (before the database handle is closed).
    void reset();

private:
    bool writeSamples(const QVector<TcpSample> &samples, QString *err);
    bool writeEvents(const QVector<KernelEvent> &events, QString *err);
    bool writeDrops(const QVector<DropEvent> &drops, QString *err);
    bool writeListeners(const QVector<ListenerSample> &listeners, QString *err);

    sqlite3 *m_db = nullptr;
    bool m_sampleRows = true;
    sqlite::Stmt m_sample, m_event, m_drop, m_listener;
};

} // namespace tcpscope::detail
