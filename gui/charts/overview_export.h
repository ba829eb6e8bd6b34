// SPDX-License-Identifier: GPL-3.0-or-later
// `tcpscope export FILE --chart overview`: the session overview dashboard rendered offscreen
// to PNG, PDF or SVG of exactly the requested size (charts stay vectors in PDF/SVG).
#pragma once

#include <QSize>
#include <QString>

namespace tcpscope {

class Session;

// The caller (exportChart) has checked the suffix, the size and that a QApplication runs.
bool exportOverview(const Session &session, const QString &outPath, QSize size, QString *error);

} // namespace tcpscope
