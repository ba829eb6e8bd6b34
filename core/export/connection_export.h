// SPDX-License-Identifier: GPL-3.0-or-later
// Connections as CSV (RFC 4180) or JSON (one array of objects), for `tcpscope export` and the
// GUI. Times are wall-clock ns since the epoch; unknown values are empty (CSV) / null (JSON).
// ConnectionExportWriter streams row by row (a Session's forEachConnection feeds it); the
// QVector functions are for callers that hold the connections already.
#pragma once

#include "export/table_writer.h"
#include "model/annotation.h"
#include "model/cgroup.h"
#include "model/connection.h"

#include <QHash>
#include <QIODevice>
#include <QString>
#include <QStringList>
#include <QVector>

namespace tcpscope {

// What the rows alone cannot tell: whether the kernel's view was captured at all (else its
// columns are unknown, not 0) and when the session ended (bounds a TIME_WAIT still running).
struct ConnectionExportOptions
{
    bool kernelMetrics = true; // SessionInfo::kernelMetrics
    qint64 sessionEndNs = 0;   // SessionInfo::stoppedNs (0: the last time the connections know)
    TextOptions text;          // escaping for a terminal, --csv-safe
    // The session's notes (model/annotation.h); those on a connection fill its `annotations`
    // cell. Null or empty: the cell is unknown.
    const QVector<Annotation> *annotations = nullptr;
    // The machine the connections are on (SessionInfo::hostname), for the `host` cell; with
    // hostNames (by host id, Session::hosts) each connection's own host instead.
    QString host;
    QVector<QString> hostNames;
    // The session's cgroup paths and namespace names (Session::ownerNames), for the owner
    // cells (cgroup_path, container_id, pod_uid, systemd_unit, netns); null: unknown.
    const OwnerNames *owners = nullptr;
    // Both ends of each connection (analysis/peers.h, sessionPeers), for the `peer` cell: the
    // other end's connection id, on this host or another; null: unknown.
    const QHash<qint64, qint64> *peers = nullptr;
};

// Column names in output order (the first 17 are the documented stable set; later columns are
// only ever appended).
QStringList connectionExportColumns();

// One row per write(), in the order given. options.sessionEndNs must be known up front (a
// stream cannot look ahead): the session's stop time, else the last instant it recorded.
class ConnectionExportWriter
{
public:
    ConnectionExportWriter(QIODevice &out, ExportFormat format,
                           const ConnectionExportOptions &options);
    bool begin();
    bool write(const Connection &connection); // needs the state history (states, termination)
    bool finish();
    QString error() const { return m_table.error(); }
    qint64 rows() const { return m_table.rows(); }

private:
    TableWriter m_table;
    ConnectionExportOptions m_options;
    QHash<qint64, QStringList> m_notes;               // connection id -> its annotation lines
    QHash<quint64, CgroupAttribution> m_attributions; // cgroup id -> read from its path
};

bool writeConnectionsCsv(const QVector<Connection> &connections, QIODevice &out, QString *error,
                         const ConnectionExportOptions &options = {});
bool writeConnectionsJson(const QVector<Connection> &connections, QIODevice &out, QString *error,
                          const ConnectionExportOptions &options = {});

// Writes to path under the output policy of output_file.h (a temporary file renamed into place;
// a FIFO or "-" for CSV on stdout as a stream). False + one-line reason.
bool exportConnections(const QVector<Connection> &connections, const QString &path, QString *error,
                       const ConnectionExportOptions &options = {});

} // namespace tcpscope
