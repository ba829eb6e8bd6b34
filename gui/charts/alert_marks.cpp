// SPDX-License-Identifier: GPL-3.0-or-later
#include "charts/alert_marks.h"

#include "util/alert_style.h"

#include <qcustomplot.h>

#include <QCoreApplication>

#include <algorithm>
#include <numeric>

namespace tcpscope {

QCPItemStraightLine *addTimeLine(QCustomPlot *plot, double seconds)
{
    auto *line = new QCPItemStraightLine(plot);
    line->setClipToAxisRect(true);
    for (QCPItemPosition *p : {line->point1, line->point2}) {
        p->setTypeX(QCPItemPosition::ptPlotCoords);
        p->setTypeY(QCPItemPosition::ptAxisRectRatio);
    }
    line->point1->setCoords(seconds, 0);
    line->point2->setCoords(seconds, 1);
    return line;
}

QVector<TimeMark> alertTimeMarks(const QVector<Alert> &alerts, qint64 originNs)
{
    QVector<TimeMark> marks;
    marks.reserve(alerts.size());
    for (const Alert &a : alerts)
        marks.append({double(a.timeNs - originNs) / 1e9, alertSeverityColor(a.severity),
                      int(a.severity), a.severity == AlertSeverity::High,
                      alertToolTip(a, originNs)});
    return marks;
}

void TimeMarks::set(const QVector<TimeMark> &marks, const QFont &font)
{
    for (QCPAbstractItem *item : std::as_const(m_items))
        m_plot->removeItem(item);
    m_items.clear();
    m_marks = marks;
    // Lighter first, so a heavier mark at the same time is drawn over it.
    QVector<int> order(m_marks.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [this](int x, int y) { return m_marks.at(x).weight < m_marks.at(y).weight; });
    for (int i : std::as_const(order)) {
        const TimeMark &m = m_marks.at(i);
        QCPItemStraightLine *line = addTimeLine(m_plot, m.seconds);
        line->setSelectable(false);
        QColor faint = m.color;
        faint.setAlpha(m.emphasised ? m_style.emphasisedLineAlpha : m_style.lineAlpha);
        line->setPen(QPen(faint, 1));
        m_items.append(line);
        auto *mark = new QCPItemText(m_plot);
        mark->setClipToAxisRect(true);
        mark->setSelectable(false);
        mark->position->setTypeX(QCPItemPosition::ptPlotCoords);
        mark->position->setTypeY(QCPItemPosition::ptAxisRectRatio);
        mark->position->setCoords(m.seconds, 1);
        mark->setPositionAlignment(Qt::AlignHCenter | Qt::AlignBottom);
        mark->setPadding(QMargins(0, 0, 0, 0));
        mark->setText(QStringLiteral("▲"));
        QFont markFont = font;
        if (m.emphasised && m_style.emphasisedFontGrowPt != 0)
            markFont.setPointSizeF(markFont.pointSizeF() + m_style.emphasisedFontGrowPt);
        mark->setFont(markFont);
        mark->setColor(m.color);
        m_items.append(mark);
    }
    m_plot->replot(QCustomPlot::rpQueuedReplot);
}

void TimeMarks::forget()
{
    m_marks.clear();
    m_items.clear();
}

QPoint TimeMarks::pixelOf(double seconds) const
{
    const QRect r = m_plot->axisRect()->rect();
    const double x = m_plot->xAxis->coordToPixel(seconds);
    if (x < r.left() || x > r.right())
        return {-1, -1};
    return QPointF(x, r.bottom() - m_style.stripPx / 2).toPoint();
}

QString TimeMarks::toolTipAt(const QPoint &pos) const
{
    const QRect r = m_plot->axisRect()->rect();
    if (m_marks.isEmpty() || !r.contains(pos) || pos.y() < r.bottom() - m_style.stripPx)
        return QString();
    QStringList tips;
    int more = 0;
    for (const TimeMark &m : m_marks) {
        if (std::abs(m_plot->xAxis->coordToPixel(m.seconds) - pos.x()) > m_style.hitPx)
            continue;
        if (tips.size() < kMaxTips)
            tips << m.toolTip;
        else
            ++more;
    }
    if (more > 0 && m_style.countRest)
        tips << QCoreApplication::translate("TimeMarks", "… and %n more", nullptr, more);
    return tips.join(QStringLiteral("<hr>"));
}

} // namespace tcpscope
