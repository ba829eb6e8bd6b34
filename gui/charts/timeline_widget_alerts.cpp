// SPDX-License-Identifier: GPL-3.0-or-later
// TimelineWidget, the alert part: each alert a triangle on the bottom edge of the chart and a
// faint line across it, in its severity's colour (unlike the notes' dashed purple lines with
// their labels on top), named by hovering the triangle (drawn by TimeMarks, charts/alert_marks).
#include "charts/timeline_widget.h"

#include <algorithm>

namespace tcpscope {

TimeMarks::Style TimelineWidget::alertMarkStyle()
{
    TimeMarks::Style style;
    style.emphasisedFontGrowPt = 2;
    style.lineAlpha = 100;
    style.emphasisedLineAlpha = 150;
    style.stripPx = 16;
    style.hitPx = 6;
    style.countRest = true;
    return style;
}

void TimelineWidget::setAlerts(const QVector<Alert> &alerts)
{
    m_alertMarks.clear();
    for (const Alert &a : alerts)
        if (a.timeNs > 0)
            m_alertMarks.append(a);
    if (m_alertMarks.size() > kMaxAlertMarks) {
        // Keep the most severe (then the earliest) when there are too many to draw.
        std::stable_sort(m_alertMarks.begin(), m_alertMarks.end(),
                         [](const Alert &x, const Alert &y) { return x.severity > y.severity; });
        m_alertMarks.resize(kMaxAlertMarks);
    }
    std::stable_sort(m_alertMarks.begin(), m_alertMarks.end(),
                     [](const Alert &x, const Alert &y) { return x.timeNs < y.timeNs; });
    m_alertItems.set(alertTimeMarks(m_alertMarks, m_originNs), font());
}

QPoint TimelineWidget::alertMarkPixel(qint64 timeNs) const
{
    return m_alertItems.pixelOf(double(timeNs - m_originNs) / 1e9);
}

QString TimelineWidget::alertToolTipAt(const QPoint &pos) const
{
    return m_alertItems.toolTipAt(pos);
}

} // namespace tcpscope
