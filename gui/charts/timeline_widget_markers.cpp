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
