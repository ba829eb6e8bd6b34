// SPDX-License-Identifier: GPL-3.0-or-later
// Connections as CSV (RFC 4180) or JSON (one array of objects), for `tcpscope export` and the
// GUI. Times are wall-clock ns since the epoch; unknown values are empty (CSV) / null (JSON).
#pragma once

#include "model/connection.h"

#include <QIODevice>
#include <QString>
#include <QStringList>
#include <QVector>

namespace tcpscope {

enum class ExportFormat
{
    Csv,
    Json
};

// What the rows alone cannot tell: whether the kernel's view was captured at all (else its
// columns are unknown, not 0) and when the session ended (bounds a TIME_WAIT still running).
struct ConnectionExportOptions
{
    bool kernelMetrics = true; // SessionInfo::kernelMetrics
    qint64 sessionEndNs = 0;   // SessionInfo::stoppedNs (0: the last time the connections know)
};

// Column names in output order (the first 17 are the documented stable set; later issues only
// append).
QStringList connectionExportColumns();

bool writeConnectionsCsv(const QVector<Connection> &connections, QIODevice &out, QString *error,
                         const ConnectionExportOptions &options = {});
bool writeConnectionsJson(const QVector<Connection> &connections, QIODevice &out, QString *error,
                          const ConnectionExportOptions &options = {});

// Format from the suffix (.csv / .json, case-insensitive); nullopt-like false for others.
bool exportFormatForPath(const QString &path, ExportFormat *format);

// Writes to path (atomically: a partial file never replaces an existing one) or, for "-", CSV
// to stdout. False + one-line reason.
bool exportConnections(const QVector<Connection> &connections, const QString &path, QString *error,
                       const ConnectionExportOptions &options = {});

} // namespace tcpscope
