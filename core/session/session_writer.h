// SPDX-License-Identifier: GPL-3.0-or-later
// Writes a session file on its own writer thread: prepared statements, batched transactions,
// WAL while recording; close() leaves one self-contained file (journal_mode back to DELETE).
// Schema: docs/SESSION_FORMAT.md.
#pragma once

#include "detect/alert.h"
#include "model/cgroup.h"
#include "model/connection.h"

#include <QString>
#include <memory>

namespace tcpscope {

class SessionWriter
{
public:
    // Creates (truncates) path and its schema. nullptr + one-line reason on failure.
    // formatMajor: the current format (4: packets and samples in compressed chunks), or 3, the
    // row format older tcpscope wrote (for tests of reading old files).
    static std::unique_ptr<SessionWriter> create(const QString &path, QString *error,
                                                 int formatMajor = 4);
    ~SessionWriter(); // close()s if still open

    // All of these only queue work for the writer thread; they never block on disk.
    void setInfo(const SessionInfo &info);        // meta rows (replaces earlier values)
    void writeConnection(const Connection &conn); // upsert by conn.id, history replaced
    // Inserts packets (each id once; connectionId 0 is stored as NULL = not joined). Queue the
    // connections they name first (LiveCapture does: connections, then packets).
    // Packets and kernel records that arrive while the queue holds more than its byte budget
    // (the disk cannot keep up) are left out and counted in meta `writer_dropped`.
    void writePackets(QVector<Packet> packets);
    // Appends samples, events, drops and listener samples (connectionId 0 stored as NULL).
    void writeKernelData(const KernelData &data);
    // Appends alerts the detectors raised (format 4.4 table `alerts`; nothing for older formats).
    void writeAlerts(const QVector<Alert> &alerts);
    // Names of the cgroup ids and network namespaces connections carry (format 4.5 tables
    // `cgroups` and `netns_names`; nothing for older formats).
    void writeOwnerNames(const OwnerNames &names);
    // Connections that will never be written again (evicted by the tracker after their final
    // row was queued): the writer drops what it keeps per connection (which state changes are
    // in the file, chunk tuples, stored totals), so its memory follows the connections held,
    // not every connection of a long capture.
    void forgetConnections(const QVector<qint64> &ids);
    // Connections the writer keeps something for, as of the last committed batch (tests and
    // diagnostics).
    qsizetype connectionsKept();

    // The first write error so far (e.g. disk full), empty while all is well; never blocks on
    // disk. Later batches are not trusted to the file after one failed.
    QString writeError();
    // Blocks while more than maxQueuedBytes of packets and kernel records wait for the writer
    // thread (until it has taken them into a batch and committed one): a producer that must not
    // lose records (merge) stays at most that far ahead, and keeps reading while the writer
    // writes.
    void waitForRoom(qint64 maxQueuedBytes);
    // Blocks until everything queued so far is committed. False + reason on a write error
    // (e.g. disk full); the file keeps all earlier committed batches.
    bool flush(QString *error = nullptr);
    // Final commit + checkpoint; safe to call twice.
    bool close(QString *error = nullptr);

private:
    SessionWriter();
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace tcpscope
