// SPDX-License-Identifier: GPL-3.0-or-later
#include "charts/metrics_markers.h"

#include <algorithm>
#include <limits>

namespace tcpscope {

QColor metricsMarkerColor(MetricsMarkerKind kind)
{
    // Okabe-Ito, as the state palette; state changes stay grey so they read as context.
    switch (kind) {
    case MetricsMarkerKind::StateChange:
        return QColor(0x88, 0x88, 0x88);
    case MetricsMarkerKind::Retransmit:
        return QColor(0xd5, 0x5e, 0x00);
    case MetricsMarkerKind::ResetSent:
        return QColor(0xcc, 0x79, 0xa7);
    case MetricsMarkerKind::ResetReceived:
        return QColor(0x8e, 0x2a, 0x6b);
    case MetricsMarkerKind::CongestionState:
        return QColor(0xe6, 0x9f, 0x00);
    case MetricsMarkerKind::Drop:
        return QColor(0x20, 0x20, 0x20);
    }
    return Qt::black;
}

MetricsMarkerPlottable::MetricsMarkerPlottable(QCPAxis *keyAxis, QCPAxis *valueAxis,
                                               MetricsMarkerKind kind)
    : QCPAbstractPlottable(keyAxis, valueAxis), m_kind(kind)
{
    setName(metricsMarkerKindLabel(kind));
    setSelectable(QCP::stNone);
    const QColor c = metricsMarkerColor(kind);
    setPen(QPen(c, 1.2));
    setBrush(c);
}

void MetricsMarkerPlottable::setMarkers(std::shared_ptr<const QVector<MetricsMarker>> markers)
{
    m_markers = std::move(markers);
    m_count = 0;
    if (m_markers)
        m_count = int(std::count_if(m_markers->cbegin(), m_markers->cend(),
                                    [this](const MetricsMarker &m) { return m.kind == m_kind; }));
}

double MetricsMarkerPlottable::selectTest(const QPointF &, bool, QVariant *) const
{
    return -1; // hover tooltips are the widget's job (it knows all kinds at once)
}

QCPRange MetricsMarkerPlottable::getKeyRange(bool &foundRange, QCP::SignDomain) const
{
    foundRange = false;
    if (!m_markers)
        return {};
    double lo = 0, hi = 0;
    for (const MetricsMarker &m : *m_markers) {
        if (m.kind != m_kind)
            continue;
        if (!foundRange) {
            lo = hi = m.x;
            foundRange = true;
        }
        lo = std::min(lo, m.x);
        hi = std::max(hi, m.x);
    }
    return {lo, hi};
}

QCPRange MetricsMarkerPlottable::getValueRange(bool &foundRange, QCP::SignDomain,
                                               const QCPRange &) const
{
    foundRange = false; // markers span whatever the value axis shows
    return {};
}

void MetricsMarkerPlottable::drawGlyph(QCPPainter *painter, QPointF top) const
{
    const double r = 4;
    const double x = top.x(), y = top.y() + r + 1;
    switch (m_kind) {
    case MetricsMarkerKind::StateChange:
        painter->drawEllipse(QPointF(x, y), r - 1.5, r - 1.5);
        break;
    case MetricsMarkerKind::Retransmit: // downward triangle: "sent again"
        painter->drawPolygon(
            QPolygonF({QPointF(x - r, y - r), QPointF(x + r, y - r), QPointF(x, y + r)}));
        break;
    case MetricsMarkerKind::ResetSent:
    case MetricsMarkerKind::ResetReceived: {
        QPen pen = painter->pen();
        pen.setWidthF(2);
        painter->setPen(pen);
        painter->drawLine(QPointF(x - r, y - r), QPointF(x + r, y + r));
        painter->drawLine(QPointF(x - r, y + r), QPointF(x + r, y - r));
        pen.setWidthF(1.2);
        painter->setPen(pen);
        break;
    }
    case MetricsMarkerKind::CongestionState:
        painter->drawRect(QRectF(x - r + 1, y - r + 1, 2 * r - 2, 2 * r - 2));
        break;
    case MetricsMarkerKind::Drop:
        painter->drawPolygon(QPolygonF(
            {QPointF(x, y - r), QPointF(x + r, y), QPointF(x, y + r), QPointF(x - r, y)}));
        break;
    }
}

void MetricsMarkerPlottable::draw(QCPPainter *painter)
{
    m_drawn = 0;
    if (!m_markers || m_count == 0 || !mKeyAxis || !mValueAxis)
        return;
    const QRect rect = mKeyAxis->axisRect()->rect();
    const QCPRange range = mKeyAxis->range();
    QColor lineColor = metricsMarkerColor(m_kind);
    // Rare, decisive events (RST, drops, state changes) get a strong line; frequent ones
    // (retransmits, congestion-state flips) a faint one so the data stays readable.
    switch (m_kind) {
    case MetricsMarkerKind::Retransmit:
        lineColor.setAlpha(70);
        break;
    case MetricsMarkerKind::CongestionState:
        lineColor.setAlpha(45);
        break;
    default:
        lineColor.setAlpha(160);
        break;
    }
    QPen linePen(lineColor, 1,
                 m_kind == MetricsMarkerKind::StateChange ? Qt::DashLine : Qt::SolidLine);
    linePen.setCosmetic(true);
    int lastColumn = std::numeric_limits<int>::min();
    // Markers are in time order, so equal pixel columns are adjacent.
    for (const MetricsMarker &m : *m_markers) {
        if (m.kind != m_kind || m.x < range.lower || m.x > range.upper)
            continue;
        const int column = int(std::lround(mKeyAxis->coordToPixel(m.x)));
        if (column == lastColumn)
            continue;
        lastColumn = column;
        painter->setPen(linePen);
        painter->drawLine(QLineF(column + 0.5, rect.top(), column + 0.5, rect.bottom()));
        painter->setPen(mPen);
        painter->setBrush(mBrush);
        // Congestion-state flips come with retransmits at the same instant: their glyphs sit at
        // the bottom edge so both stay visible.
        const bool bottom = m_kind == MetricsMarkerKind::CongestionState;
        drawGlyph(painter, QPointF(column + 0.5, bottom ? rect.bottom() - 10 : rect.top()));
        ++m_drawn;
    }
}

void MetricsMarkerPlottable::drawLegendIcon(QCPPainter *painter, const QRectF &rect) const
{
    painter->setPen(mPen);
    painter->setBrush(mBrush);
    drawGlyph(painter, QPointF(rect.center().x(), rect.center().y() - 5));
}

} // namespace tcpscope
