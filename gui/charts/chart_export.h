// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "export/session_export.h"
#include "session/session_reader.h"

#include <QSize>
#include <QString>
#include <QStringList>

namespace tcpscope {

class Session;

// Renders a chart of a session to PNG, PDF or SVG (chosen by outPath's suffix) without
// a window. chart: "timeline" (whole session), "seq" (tcptrace-style sequence graph of
// connectionId; an unknown or missing connection, or one without packets, is an error) or one
// chart of the connection detail view — "rtt", "cwnd", "windows", "throughput" — of
// connectionId (an unknown connection or one without kernel samples is an error). The charts are
// QWidgets rendered offscreen, so this needs a QApplication (the CLI creates one with the offscreen
// platform); without one it fails with a clear reason. SVG needs Qt SVG at build time. The image
// has exactly size's width and height. False + one-line reason on failure. Each chart reads only
// what it draws: the timeline the connections with their state history, the overview the connection
// summaries, the session's events and per-second aggregates, and the per-connection charts that
// connection's packets or kernel data.
bool exportChart(const Session &session, const QString &chart, const QString &outPath, QSize size,
                 QString *error, qint64 connectionId = 0);
// Charts that need --connection ID.
bool chartNeedsConnection(const QString &chart);

// Chart names exportChart() accepts, and file suffixes it can write (without dots).
QStringList exportableCharts();
QStringList chartExportFormats();

// The same for a loaded session (sessionEndNs/sessionOriginNs of a Session are in
// export/session_export.h).
qint64 sessionEndNs(const SessionData &session);
qint64 sessionOriginNs(const SessionData &session);

} // namespace tcpscope
