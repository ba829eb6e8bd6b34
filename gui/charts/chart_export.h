// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "session/session_reader.h"

#include <QSize>
#include <QString>

namespace tcpscope {

// Renders a chart of a loaded session to PNG, PDF or SVG (chosen by outPath's suffix) without
// a window. chart: "timeline" (more kinds in later issues). Needs a QGuiApplication (the CLI
// creates one with the offscreen platform). False + one-line reason on failure.
bool exportChart(const SessionData &session, const QString &chart, const QString &outPath,
                 QSize size, QString *error);

} // namespace tcpscope
