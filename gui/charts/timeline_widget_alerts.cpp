// SPDX-License-Identifier: GPL-3.0-or-later
// TimelineWidget, the alert part: each alert a triangle on the bottom edge of the chart and a
// faint line across it, in its severity's colour (unlike the notes' dashed purple lines with
// their labels on top), named by hovering the triangle.
#include "charts/timeline_widget.h"

#include "util/alert_style.h"

#include <algorithm>
#include <numeric>

namespace tcpscope {

namespace {
constexpr double kMarkHitPx = 6;     // half the width of a triangle the mouse hits
constexpr double kMarkHeightPx = 16; // the strip along the bottom edge the triangles sit in
constexpr int kMaxTipAlerts = 6;
} // namespace

void TimelineWidget::setAlerts(const QVector<Alert> &alerts)
{
    for (QCPAbstractItem *item : std::as_const(m_alertItems))
        removeItem(item);
    m_alertItems.clear();
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
    // Low first, so a high alert's mark is drawn over a low one at the same time.
    QVector<int> order(m_alertMarks.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [this](int x, int y) {
        return m_alertMarks.at(x).severity < m_alertMarks.at(y).severity;
    });
    for (int i : std::as_const(order)) {
        const Alert &a = m_alertMarks.at(i);
        const double x = double(a.timeNs - m_originNs) / 1e9;
        const QColor ink = alertSeverityColor(a.severity);
        auto *line = new QCPItemStraightLine(this);
        line->setClipToAxisRect(true);
        line->setSelectable(false);
        for (QCPItemPosition *p : {line->point1, line->point2}) {
            p->setTypeX(QCPItemPosition::ptPlotCoords);
            p->setTypeY(QCPItemPosition::ptAxisRectRatio);
        }
        line->point1->setCoords(x, 0);
        line->point2->setCoords(x, 1);
        QColor faint = ink;
        faint.setAlpha(a.severity == AlertSeverity::High ? 150 : 100);
        line->setPen(QPen(faint, 1));
        m_alertItems.append(line);
        auto *mark = new QCPItemText(this);
        mark->setClipToAxisRect(true);
        mark->setSelectable(false);
        mark->position->setTypeX(QCPItemPosition::ptPlotCoords);
        mark->position->setTypeY(QCPItemPosition::ptAxisRectRatio);
        mark->position->setCoords(x, 1);
        mark->setPositionAlignment(Qt::AlignHCenter | Qt::AlignBottom);
        mark->setPadding(QMargins(0, 0, 0, 0));
        mark->setText(QStringLiteral("▲"));
        QFont font = this->font();
        font.setPointSizeF(font.pointSizeF() + (a.severity == AlertSeverity::High ? 2 : 0));
        mark->setFont(font);
        mark->setColor(ink);
        m_alertItems.append(mark);
    }
    replot(QCustomPlot::rpQueuedReplot);
}

QPoint TimelineWidget::alertMarkPixel(qint64 timeNs) const
{
    const QRect r = axisRect()->rect();
    const double x = xAxis->coordToPixel(double(timeNs - m_originNs) / 1e9);
    if (x < r.left() || x > r.right())
        return {-1, -1};
    return QPointF(x, r.bottom() - kMarkHeightPx / 2).toPoint();
}

QString TimelineWidget::alertToolTipAt(const QPoint &pos) const
{
    const QRect r = axisRect()->rect();
    if (m_alertMarks.isEmpty() || !r.contains(pos) || pos.y() < r.bottom() - kMarkHeightPx)
        return QString();
    QStringList tips;
    int more = 0;
    for (const Alert &a : m_alertMarks) {
        const double x = xAxis->coordToPixel(double(a.timeNs - m_originNs) / 1e9);
        if (std::abs(x - pos.x()) > kMarkHitPx)
            continue;
        if (tips.size() < kMaxTipAlerts)
            tips << alertToolTip(a, m_originNs);
        else
            ++more;
    }
    if (more > 0)
        tips << tr("… and %n more", nullptr, more);
    return tips.join(QStringLiteral("<hr>"));
}

} // namespace tcpscope
