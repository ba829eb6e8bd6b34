// SPDX-License-Identifier: GPL-3.0-or-later
// Event markers of the connection detail charts: a thin vertical line over the whole axis rect
// plus a glyph at its top, one colour and shape per kind. Drawn in pixel space (they do not
// depend on the value axis) and aggregated per pixel column, so thousands of retransmits cost
// no more than the width of the chart.
#pragma once

#include "charts/metrics_data.h"

#include <qcustomplot.h>

#include <memory>

namespace tcpscope {

QColor metricsMarkerColor(MetricsMarkerKind kind);

class MetricsMarkerPlottable : public QCPAbstractPlottable
{
    Q_OBJECT
public:
    // markers: shared by all charts of one widget; only those of `kind` are drawn.
    MetricsMarkerPlottable(QCPAxis *keyAxis, QCPAxis *valueAxis, MetricsMarkerKind kind);

    void setMarkers(std::shared_ptr<const QVector<MetricsMarker>> markers);
    MetricsMarkerKind kind() const { return m_kind; }
    int markerCount() const { return m_count; }
    int drawnGlyphs() const { return m_drawn; }

    double selectTest(const QPointF &pos, bool onlySelectable,
                      QVariant *details = nullptr) const override;
    QCPRange getKeyRange(bool &foundRange,
                         QCP::SignDomain inSignDomain = QCP::sdBoth) const override;
    QCPRange getValueRange(bool &foundRange, QCP::SignDomain inSignDomain = QCP::sdBoth,
                           const QCPRange &inKeyRange = QCPRange()) const override;

protected:
    void draw(QCPPainter *painter) override;
    void drawLegendIcon(QCPPainter *painter, const QRectF &rect) const override;

private:
    void drawGlyph(QCPPainter *painter, QPointF top) const;

    MetricsMarkerKind m_kind;
    std::shared_ptr<const QVector<MetricsMarker>> m_markers;
    int m_count = 0;
    int m_drawn = 0;
};

} // namespace tcpscope
