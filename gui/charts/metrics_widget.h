// SPDX-License-Identifier: GPL-3.0-or-later
// The connection detail charts: RTT (srtt with a srtt±rttvar band, min RTT), congestion window
// (cwnd, ssthresh, in flight), send/receive windows and throughput, stacked in one QCustomPlot
// with one axis rect each, aligned by a margin group and sharing one time axis: dragging or
// wheel-zooming any chart moves all of them, and each value axis refits to what is visible.
// Markers for state changes, retransmits, resets, congestion-state changes and drops run
// through every chart; hovering one names it. A crosshair follows the mouse across all charts
// and crosshairMoved() carries the values of the nearest sample. Several connections overlay on
// the same axes, one colour each (the top legend names them). A click (not a drag) in a chart
// emits timeClicked; a marked time (the packet selected elsewhere) keeps the crosshair there
// while the mouse is not over the charts.
#pragma once

#include "charts/metrics_data.h"

#include <qcustomplot.h>

#include <array>
#include <memory>

namespace tcpscope {

class MetricsMarkerPlottable;

class MetricsWidget : public QCustomPlot
{
    Q_OBJECT
public:
    // charts: which charts to stack, top to bottom (export draws one).
    explicit MetricsWidget(QWidget *parent = nullptr, QVector<MetricsChart> charts = allCharts());
    ~MetricsWidget() override;
    static QVector<MetricsChart> allCharts();

    // One connection: the detail view; several: overlay. Keeps the time range the user chose
    // unless keepRange is false or nothing was shown before.
    void setConnections(const QVector<ConnectionMetrics> &connections, bool keepRange = true);
    void clear();
    const QVector<ConnectionMetrics> &connections() const { return m_connections; }

    void fitAll();
    // Forgets the user's zoom and fits everything (what a double-click does).
    void resetView();
    // True once the user zoomed or panned the time axis (until fitAll).
    bool hasUserRange() const { return m_userRange; }
    QCPRange timeRange() const;
    void setTimeRange(const QCPRange &range);

    QVector<MetricsChart> charts() const { return m_charts; }
    QCPAxisRect *chartRect(MetricsChart chart) const; // nullptr when not stacked
    // Graphs with data (or styled samples) drawn in that chart, band included.
    QVector<QCPGraph *> dataGraphs(MetricsChart chart) const;
    QCPLegend *topLegend() const { return m_topLegend; }
    QVector<MetricsMarkerPlottable *> markerPlottables(MetricsChart chart) const;

    // Crosshair at x seconds (all charts) and the readout it would show.
    void setCrosshair(double x);
    void hideCrosshair();
    bool crosshairVisible() const { return m_crosshairX.has_value(); }
    std::optional<double> crosshairX() const { return m_crosshairX; }
    // Where the crosshair rests when the mouse is elsewhere (x seconds), e.g. the time of the
    // selected packet; clearMarkedTime hides it again.
    void setMarkedTime(double x);
    void clearMarkedTime();
    std::optional<double> markedTime() const { return m_markedX; }
    QString readoutAt(double x) const;
    // Tooltip of the markers within a few pixels of pos ("" when none).
    QString markerToolTipAt(const QPoint &pos) const;

signals:
    void crosshairMoved(double x, const QString &readout); // x NaN + "" when the mouse left
    // A left click in one of the charts at x seconds (not the end of a drag).
    void timeClicked(double x);

protected:
    void mousePressEvent(QMouseEvent *event) override;
    void mouseMoveEvent(QMouseEvent *event) override;
    void mouseReleaseEvent(QMouseEvent *event) override;
    void mouseDoubleClickEvent(QMouseEvent *event) override;
    void leaveEvent(QEvent *event) override;
    void resizeEvent(QResizeEvent *event) override;
    bool event(QEvent *event) override;

private:
    struct ChartParts
    {
        QCPAxisRect *rect = nullptr;
        QCPLegend *legend = nullptr;
        QCPItemStraightLine *crosshair = nullptr;
        std::array<MetricsMarkerPlottable *, kMetricsMarkerKindCount> markers{};
        QVector<QCPGraph *> graphs; // rebuilt by setConnections
        double scale = 1;           // raw value / scale = plotted value
        QString unit;
    };

    void buildLayout();
    void rebuildGraphs();
    // valueAxis/scale: a second value axis (delivery rate); default the chart's left axis.
    void addSeries(ChartParts &parts, const MetricsSeries &series, const QString &name,
                   const QPen &pen, QCPGraph::LineStyle style, bool inLegend,
                   QCPAxis *valueAxis = nullptr, double scale = 1);
    void addBand(ChartParts &parts, const ConnectionMetrics &m, QColor color, bool inLegend);
    void addStyleSample(ChartParts &parts, const QString &name, Qt::PenStyle style);
    void chooseUnits();
    void updateAxisLabels();
    void onTimeRangeChanged(const QCPRange &range);
    void rescaleValueAxes();
    void restCrosshair(); // at the marked time, else hidden
    ChartParts *partsAt(const QPoint &pos);
    const ChartParts *partsAt(const QPoint &pos) const;
    ChartParts &parts(MetricsChart chart) { return m_parts[int(chart)]; }
    const ChartParts &parts(MetricsChart chart) const { return m_parts[int(chart)]; }
    QColor connectionColor(int index) const;
    bool overlay() const { return m_connections.size() > 1; }

    QVector<MetricsChart> m_charts;
    std::array<ChartParts, kMetricsChartCount> m_parts{};
    QCPLegend *m_topLegend = nullptr;
    QCPMarginGroup *m_marginGroup = nullptr;
    QVector<ConnectionMetrics> m_connections;
    std::shared_ptr<QVector<MetricsMarker>> m_markers;
    std::optional<double> m_crosshairX;
    std::optional<double> m_markedX;
    QPoint m_pressPos;
    double m_rateScale2 = 1; // delivery rate axis
    QString m_rateUnit2;
    bool m_syncing = false;
    bool m_userRange = false; // the user zoomed/panned: live updates keep the range
};

} // namespace tcpscope
