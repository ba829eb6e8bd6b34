// SPDX-License-Identifier: GPL-3.0-or-later
// How an alert looks wherever it is drawn (the Alerts tab, the timeline, the overview charts,
// the status bar): one colour per severity, and the tooltip text of a marker.
#pragma once

#include "detect/alert.h"

#include <QColor>
#include <QString>

namespace tcpscope {

// High red, medium orange, low grey-blue.
QColor alertSeverityColor(AlertSeverity severity);
// Rich text for a marker's tooltip: severity, kind, time since originNs, summary.
QString alertToolTip(const Alert &alert, qint64 originNs);

} // namespace tcpscope
