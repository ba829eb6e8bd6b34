// SPDX-License-Identifier: GPL-3.0-or-later
#include "charts/timeline_plottable.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace tcpscope {

namespace {
constexpr double kBarHalfHeight = 0.36; // in rows
}

QVector<QPair<double, double>> segmentPixelSpans(const TimelineLayout &layout, int row,
                                                 const QCPAxis *timeAxis)
{
    QVector<QPair<double, double>> spans;
    const TimelineRow &r = layout.rows.at(row);
    spans.reserve(r.segmentCount);
    double prevEnd = std::numeric_limits<double>::lowest();
    for (int i = r.firstSegment; i < r.firstSegment + r.segmentCount; ++i) {
        const TimelineSegment &s = layout.segments.at(i);
        const double px0 = std::max(timeAxis->coordToPixel(s.x0), prevEnd);
        const double px1 = std::max(timeAxis->coordToPixel(s.x1), px0 + 1.0);
        spans.append({px0, px1});
        prevEnd = px1;
    }
    return spans;
}

TimelinePlottable::TimelinePlottable(QCPAxis *timeAxis, QCPAxis *rowAxis, StatePhase phase)
    : QCPAbstractPlottable(timeAxis, rowAxis), m_phase(phase)
{
    setName(phaseLabel(phase));
    setPen(Qt::NoPen);
    setBrush(phaseColor(phase));
    setSelectable(QCP::stNone);
    setAntialiasedFill(false);
}

double TimelinePlottable::selectTest(const QPointF &, bool, QVariant *) const
{
    return -1; // hit testing is done by TimelineWidget on the layout, across all phases
}

QCPRange TimelinePlottable::getKeyRange(bool &foundRange, QCP::SignDomain) const
{
    foundRange = m_layout && !m_layout->rows.isEmpty();
    return foundRange ? QCPRange(m_layout->minX, m_layout->maxX) : QCPRange();
}

QCPRange TimelinePlottable::getValueRange(bool &foundRange, QCP::SignDomain, const QCPRange &) const
{
    foundRange = m_layout && !m_layout->rows.isEmpty();
    return foundRange ? QCPRange(-0.5, m_layout->rows.size() - 0.5) : QCPRange();
}

void TimelinePlottable::draw(QCPPainter *painter)
{
    if (!m_layout || !mKeyAxis || !mValueAxis)
        return;
    const QVector<TimelineSegment> &segs = m_layout->byPhase[int(m_phase)];
    if (segs.isEmpty())
        return;
    QCPAxis *xAxis = mKeyAxis.data();
    QCPAxis *yAxis = mValueAxis.data();
    const QCPRange rows = yAxis->range();
    const QCPRange time = xAxis->range();
    const int firstRow = int(std::floor(rows.lower - 1));
    const int lastRow = int(std::ceil(rows.upper + 1));
    const QRect clip = clipRect();
    // Rectangles far outside the view are clamped: QPainter misbehaves with huge coordinates.
    const double minPx = clip.left() - 10, maxPx = clip.right() + 10;

    auto it = std::lower_bound(segs.cbegin(), segs.cend(), firstRow,
                               [](const TimelineSegment &s, int row) { return s.row < row; });
    QVector<QRectF> rects;
    const double rowPx = std::abs(yAxis->coordToPixel(1) - yAxis->coordToPixel(0));
    const double height = std::max(1.0, 2 * kBarHalfHeight * rowPx);
    const double pxPerSecond = std::abs(xAxis->coordToPixel(1) - xAxis->coordToPixel(0));
    int spansRow = -1;
    QVector<QPair<double, double>> spans;
    for (; it != segs.cend() && it->row <= lastRow; ++it) {
        // Pixel stacking can push a segment a few pixels right of its time: keep those too.
        const double slack = 16.0 / std::max(pxPerSecond, 1e-12);
        if (it->x1 < time.lower - slack || it->x0 > time.upper)
            continue;
        if (it->row != spansRow) {
            spans = segmentPixelSpans(*m_layout, it->row, xAxis);
            spansRow = it->row;
        }
        const auto &span = spans.at(it->index - m_layout->rows.at(it->row).firstSegment);
        const double px0 = std::clamp(span.first, minPx, maxPx);
        const double px1 = std::clamp(span.second, minPx, maxPx);
        if (px1 <= minPx || px0 >= maxPx)
            continue;
        const double cy = yAxis->coordToPixel(it->row);
        rects.append(QRectF(px0, cy - height / 2, std::max(1.0, px1 - px0), height));
    }
    if (rects.isEmpty())
        return;
    painter->setAntialiasing(false);
    painter->setPen(Qt::NoPen);
    painter->setBrush(mBrush);
    painter->drawRects(rects.constData(), int(rects.size()));
}

void TimelinePlottable::drawLegendIcon(QCPPainter *painter, const QRectF &rect) const
{
    painter->setPen(Qt::NoPen);
    painter->setBrush(mBrush);
    painter->drawRect(rect.adjusted(0, rect.height() * 0.2, 0, -rect.height() * 0.2));
}

double RowLabelTicker::getTickStep(const QCPRange &range)
{
    const int wanted = std::max(1, tickCount());
    return std::max(1.0, std::ceil(range.size() / wanted));
}

int RowLabelTicker::getSubTickCount(double)
{
    return 0;
}

QString RowLabelTicker::getTickLabel(double tick, const QLocale &, QChar, int)
{
    const int row = int(std::lround(tick));
    if (!m_layout || row < 0 || row >= m_layout->rows.size())
        return QString();
    return m_layout->rows.at(row).label;
}

QVector<double> RowLabelTicker::createTickVector(double tickStep, const QCPRange &range)
{
    QVector<double> ticks;
    if (!m_layout || m_layout->rows.isEmpty())
        return ticks;
    const qint64 step = std::max<qint64>(1, qint64(tickStep));
    const qint64 last =
        std::min<qint64>(m_layout->rows.size() - 1, qint64(std::floor(range.upper)));
    qint64 first = std::max<qint64>(0, qint64(std::ceil(range.lower)));
    // Align to multiples of the step so labels do not jump around while panning.
    first = (first + step - 1) / step * step;
    for (qint64 r = first; r <= last; r += step)
        ticks.append(double(r));
    return ticks;
}

double SecondsTicker::getTickStep(const QCPRange &range)
{
    const double step = QCPAxisTicker::getTickStep(range);
    m_decimals = step > 0 ? std::clamp(int(-std::floor(std::log10(step) + 1e-9)), 0, 9) : 0;
    // Steps like 0.25 need one more decimal than their magnitude says.
    const double scaled = step * std::pow(10.0, m_decimals);
    if (std::abs(scaled - std::round(scaled)) > 1e-6 && m_decimals < 9)
        ++m_decimals;
    return step;
}

QString SecondsTicker::getTickLabel(double tick, const QLocale &, QChar, int)
{
    if (std::abs(tick) < 1e-12)
        tick = 0; // no "-0.000"
    return QString::number(tick, 'f', m_decimals);
}

} // namespace tcpscope
