// SPDX-License-Identifier: GPL-3.0-or-later
// TimelineWidget, the packet-analysis marker part: the markers live in TimelineMarkers,
// are drawn by one TimelineMarkerPlottable per kind and appear in the legend once they exist.
#include "charts/timeline_widget.h"

namespace tcpscope {

void TimelineWidget::addAnalysisMarkers(const QVector<Packet> &packets)
{
    if (m_markers->add(packets) == 0)
        return;
    updateMarkerLegend();
    replot(QCustomPlot::rpQueuedReplot);
}

void TimelineWidget::setAnnotations(const QVector<Annotation> &annotations)
{
    for (QCPAbstractItem *item : std::as_const(m_annotationItems))
        removeItem(item);
    m_annotationItems.clear();
    m_annotations = annotations.mid(0, 200);
    const QColor ink(0x6a, 0x1b, 0x9a);
    for (const Annotation &a : std::as_const(m_annotations)) {
        if (a.startNs <= 0)
            continue;
        const double x0 = double(a.startNs - m_originNs) / 1e9;
        QString label = a.text.section(QLatin1Char('\n'), 0, 0);
        if (label.size() > 32)
            label = label.left(31) + QChar(0x2026);
        if (a.endNs > a.startNs) {
            auto *band = new QCPItemRect(this);
            band->setClipToAxisRect(true);
            band->topLeft->setTypeX(QCPItemPosition::ptPlotCoords);
            band->topLeft->setTypeY(QCPItemPosition::ptAxisRectRatio);
            band->bottomRight->setTypeX(QCPItemPosition::ptPlotCoords);
            band->bottomRight->setTypeY(QCPItemPosition::ptAxisRectRatio);
            band->topLeft->setCoords(x0, 0);
            band->bottomRight->setCoords(double(a.endNs - m_originNs) / 1e9, 1);
            QColor fill = ink;
            fill.setAlpha(28);
            band->setBrush(fill);
            band->setPen(Qt::NoPen);
            m_annotationItems.append(band);
        }
        QCPItemStraightLine *line = addTimeLine(this, x0);
        line->setPen(QPen(ink, 1, Qt::DashLine));
        m_annotationItems.append(line);
        auto *text = new QCPItemText(this);
        text->setClipToAxisRect(true);
        text->position->setTypeX(QCPItemPosition::ptPlotCoords);
        text->position->setTypeY(QCPItemPosition::ptAxisRectRatio);
        text->position->setCoords(x0, 0);
        text->setPositionAlignment(Qt::AlignLeft | Qt::AlignTop);
        text->setPadding(QMargins(3, 1, 3, 1));
        text->setText(QStringLiteral("✎ ") + label);
        text->setColor(ink);
        text->setBrush(QColor(255, 255, 255, 220));
        text->setPen(QPen(ink));
        m_annotationItems.append(text);
    }
    replot(QCustomPlot::rpQueuedReplot);
}

void TimelineWidget::setPacketTime(qint64 timeNs)
{
    m_packetTimeNs = std::max<qint64>(timeNs, 0);
    if (!m_packetLine) {
        m_packetLine = addTimeLine(this, 0);
        m_packetLine->setLayer(QStringLiteral("highlight"));
        m_packetLine->setSelectable(false);
        m_packetLine->setPen(QPen(QColor(0x10, 0x6e, 0xd8), 1.5));
    }
    const double x = double(m_packetTimeNs - m_originNs) / 1e9;
    m_packetLine->point1->setCoords(x, 0);
    m_packetLine->point2->setCoords(x, 1);
    m_packetLine->setVisible(m_packetTimeNs > 0);
    replot(QCustomPlot::rpQueuedReplot);
}

void TimelineWidget::clearAnalysisMarkers()
{
    m_markers->clear();
    updateMarkerLegend();
    replot(QCustomPlot::rpQueuedReplot);
}

void TimelineWidget::updateMarkerLegend()
{
    for (int k = 0; k < kTimelineMarkerKindCount; ++k) {
        TimelineMarkerPlottable *p = m_markerPlottables[k];
        bool any = false;
        for (const TimelineRow &row : m_layout->rows)
            if (!m_markers->of(row.id, TimelineMarkerKind(k)).isEmpty()) {
                any = true;
                break;
            }
        if (!any)
            p->removeFromLegend(legend);
        else if (!legend->hasItemWithPlottable(p))
            p->addToLegend(legend);
    }
    fixLegendItemMargins();
    updateLegendSize();
}

QPoint TimelineWidget::markerPixel(qint64 connectionId, TimelineMarkerKind kind,
                                   qint64 timeNs) const
{
    const int row = m_layout->rowOf(connectionId);
    if (row < 0)
        return {-1, -1};
    const QPoint p = m_markerPlottables[int(kind)]->glyphCenter(row, timeNs).toPoint();
    return axisRect()->rect().contains(p) ? p : QPoint(-1, -1);
}

int TimelineWidget::drawnMarkerGlyphs(TimelineMarkerKind kind) const
{
    return m_markerPlottables[int(kind)]->lastDrawnGlyphs();
}

} // namespace tcpscope
