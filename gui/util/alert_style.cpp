// SPDX-License-Identifier: GPL-3.0-or-later
#include "util/alert_style.h"

#include "util/format.h"

namespace tcpscope {

QColor alertSeverityColor(AlertSeverity severity)
{
    switch (severity) {
    case AlertSeverity::High:
        return QColor(0xc6, 0x28, 0x28);
    case AlertSeverity::Medium:
        return QColor(0xef, 0x6c, 0x00);
    case AlertSeverity::Low:
        break;
    }
    return QColor(0x60, 0x7d, 0x8b);
}

QString alertToolTip(const Alert &alert, qint64 originNs)
{
    return QStringLiteral("<nobr><b style='color:%1'>%2</b> <b>%3</b>%4 at %5 s (%6)</nobr><br>%7")
        .arg(alertSeverityColor(alert.severity).name(), alertSeverityName(alert.severity),
             alert.kind.toHtmlEscaped(), alert.custom ? QStringLiteral(" (rule)") : QString())
        .arg(double(alert.timeNs - originNs) / 1e9, 0, 'f', 3)
        .arg(fmt::wallDateTime(alert.timeNs), alert.summary.toHtmlEscaped());
}

} // namespace tcpscope
