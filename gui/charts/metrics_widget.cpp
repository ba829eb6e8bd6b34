// SPDX-License-Identifier: GPL-3.0-or-later
// Layout, series and units of the detail charts; mouse interaction is in
// metrics_widget_interaction.cpp.
#include "charts/metrics_widget.h"

#include "charts/legend_wrap.h"
#include "charts/metrics_markers.h"
#include "charts/timeline_plottable.h"

#include <algorithm>
#include <cmath>

namespace tcpscope {

namespace {
// Series colours of the single-connection view (Okabe-Ito).
const QColor kBlue(0x00, 0x72, 0xb2);
const QColor kGreen(0x00, 0x9e, 0x73);
const QColor kVermilion(0xd5, 0x5e, 0x00);
const QColor kPurple(0xcc, 0x79, 0xa7);
const QColor kSky(0x56, 0xb4, 0xe9);

// Overlay colours, one per connection (distinct from the marker colours where possible).
const QColor kOverlay[] = {QColor(0x00, 0x72, 0xb2), QColor(0xd5, 0x5e, 0x00),
                           QColor(0x00, 0x9e, 0x73), QColor(0xcc, 0x79, 0xa7),
                           QColor(0x56, 0xb4, 0xe9), QColor(0xe6, 0x9f, 0x00),
                           QColor(0x44, 0x44, 0x44), QColor(0x99, 0x33, 0x00)};

void styleLegend(QCPLegend *legend)
{
    legend->setBorderPen(Qt::NoPen);
    legend->setBrush(Qt::NoBrush);
    legend->setIconSize(22, 10);
    legend->setRowSpacing(0);
    legend->setMargins(QMargins(6, 2, 4, 2));
    legend->setLayer(QStringLiteral("legend"));
    QFont f = legend->font();
    f.setPointSizeF(f.pointSizeF() * 0.9);
    legend->setFont(f);
}
} // namespace

QVector<MetricsChart> MetricsWidget::allCharts()
{
    return {MetricsChart::Rtt, MetricsChart::Cwnd, MetricsChart::Windows, MetricsChart::Throughput};
}

MetricsWidget::MetricsWidget(QWidget *parent, QVector<MetricsChart> charts)
    : QCustomPlot(parent), m_charts(std::move(charts)),
      m_markers(std::make_shared<QVector<MetricsMarker>>())
{
    if (m_charts.isEmpty())
        m_charts = allCharts();
    setMouseTracking(true);
    setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    setNoAntialiasingOnDrag(true);
    // Series of a long connection have thousands of points drawn with 1.5 px pens: the fast
    // polyline path draws them as one polyline instead of segment by segment.
    setPlottingHint(QCP::phFastPolylines, true);
    buildLayout();
    fitAll();
}

MetricsWidget::~MetricsWidget() = default;

void MetricsWidget::buildLayout()
{
    plotLayout()->clear(); // the default axis rect and legend
    m_marginGroup = new QCPMarginGroup(this);
    // Row 0: connections (overlay) and marker kinds, wrapped to the width, above all charts.
    // In a sub-grid with a spacer: a legend's maximum width is its content's, and as the only
    // element of column 0's first row it would squeeze every chart to that width.
    m_topLegend = new QCPLegend;
    auto *top = new QCPLayoutGrid;
    plotLayout()->addElement(0, 0, top);
    top->addElement(0, 0, m_topLegend);
    top->addElement(0, 1, new QCPLayoutElement(this));
    top->setColumnStretchFactor(0, 0.001);
    top->setMargins(QMargins(0, 0, 0, 0));
    styleLegend(m_topLegend);
    m_topLegend->setFillOrder(QCPLegend::foColumnsFirst);
    m_topLegend->setColumnSpacing(14);
    plotLayout()->setRowStretchFactor(0, 0.001);

    const auto ticker = QSharedPointer<SecondsTicker>::create();
    int row = 1;
    for (MetricsChart chart : std::as_const(m_charts)) {
        ChartParts &p = parts(chart);
        p.rect = new QCPAxisRect(this);
        plotLayout()->addElement(row, 0, p.rect);
        p.rect->setMarginGroup(QCP::msLeft | QCP::msRight, m_marginGroup);
        p.rect->setRangeDrag(Qt::Horizontal);
        p.rect->setRangeZoom(Qt::Horizontal);
        QCPAxis *x = p.rect->axis(QCPAxis::atBottom);
        QCPAxis *y = p.rect->axis(QCPAxis::atLeft);
        x->setTicker(ticker);
        x->grid()->setPen(QPen(QColor(0xdd, 0xdd, 0xdd), 0, Qt::DotLine));
        y->grid()->setPen(QPen(QColor(0xe4, 0xe4, 0xe4), 0, Qt::SolidLine));
        y->setNumberFormat(QStringLiteral("gb"));
        y->setPadding(4);
        y->ticker()->setTickCount(4);
        QFont small = y->labelFont();
        small.setPointSizeF(small.pointSizeF() * 0.9);
        y->setLabelFont(small);
        y->setTickLabelFont(small);
        p.rect->axis(QCPAxis::atRight)->setLabelFont(small);
        p.rect->axis(QCPAxis::atRight)->setTickLabelFont(small);
        // Only the bottom chart labels the shared time axis; the others keep its grid.
        const bool bottom = chart == m_charts.constLast();
        x->setTickLabels(bottom);
        x->setPadding(bottom ? 2 : 0);
        p.rect->setMargins(QMargins(0, 0, 0, 0));
        p.rect->setAutoMargins(bottom ? QCP::msAll : QCP::msLeft | QCP::msRight | QCP::msTop);
        if (!bottom)
            p.rect->setMargins(QMargins(0, 0, 0, 6));
        connect(x, qOverload<const QCPRange &>(&QCPAxis::rangeChanged), this,
                &MetricsWidget::onTimeRangeChanged);

        // The chart's legend at the top of its cell (a spacer below takes the rest), beside
        // the chart, never over its data.
        p.legend = new QCPLegend;
        auto *cell = new QCPLayoutGrid;
        plotLayout()->addElement(row, 1, cell);
        // Title in the legend column, so a chart a few lines high still says what it is (a
        // rotated axis label would not fit); the value axis carries only the unit.
        auto *title = new QCPTextElement(this, metricsChartTitle(chart));
        QFont titleFont = title->font();
        titleFont.setBold(true);
        title->setFont(titleFont);
        title->setTextFlags(Qt::AlignLeft | Qt::AlignTop);
        title->setMargins(QMargins(8, 0, 4, 0));
        cell->addElement(0, 0, title);
        cell->addElement(1, 0, p.legend);
        cell->addElement(2, 0, new QCPLayoutElement(this));
        cell->setRowStretchFactor(0, 0.001);
        cell->setRowStretchFactor(1, 0.001);
        cell->setMargins(QMargins(0, 0, 0, 0));
        styleLegend(p.legend);
        p.legend->setMinimumSize(175, 0);
        p.legend->setMaximumSize(175, QWIDGETSIZE_MAX);

        p.crosshair = new QCPItemStraightLine(this);
        p.crosshair->setClipAxisRect(p.rect);
        p.crosshair->setLayer(QStringLiteral("overlay"));
        p.crosshair->setPen(QPen(QColor(0x30, 0x30, 0x30, 160), 1, Qt::SolidLine));
        for (QCPItemPosition *pos : {p.crosshair->point1, p.crosshair->point2}) {
            pos->setAxes(x, y);
            pos->setAxisRect(p.rect);
            pos->setTypeX(QCPItemPosition::ptPlotCoords);
            pos->setTypeY(QCPItemPosition::ptAxisRectRatio);
        }
        p.crosshair->point1->setCoords(0, 0);
        p.crosshair->point2->setCoords(0, 1);
        p.crosshair->setVisible(false);

        // Created (and so drawn) least important first: a drop or RST glyph is never hidden
        // under a state-change dot at the same pixel.
        for (MetricsMarkerKind kind :
             {MetricsMarkerKind::StateChange, MetricsMarkerKind::CongestionState,
              MetricsMarkerKind::Retransmit, MetricsMarkerKind::ResetSent,
              MetricsMarkerKind::ResetReceived, MetricsMarkerKind::Drop}) {
            const int k = int(kind);
            p.markers[k] = new MetricsMarkerPlottable(x, y, kind);
            p.markers[k]->removeFromLegend();
            p.markers[k]->setMarkers(m_markers);
        }
        ++row;
    }
    plotLayout()->setColumnStretchFactor(1, 0.001);
    updateAxisLabels();
}

QCPAxisRect *MetricsWidget::chartRect(MetricsChart chart) const
{
    return parts(chart).rect;
}

QVector<QCPGraph *> MetricsWidget::dataGraphs(MetricsChart chart) const
{
    return parts(chart).graphs;
}

QVector<MetricsMarkerPlottable *> MetricsWidget::markerPlottables(MetricsChart chart) const
{
    const ChartParts &p = parts(chart);
    if (!p.rect)
        return {};
    return QVector<MetricsMarkerPlottable *>(p.markers.cbegin(), p.markers.cend());
}

QColor MetricsWidget::connectionColor(int index) const
{
    return kOverlay[index % int(std::size(kOverlay))];
}

void MetricsWidget::clear()
{
    setConnections({}, false);
}

void MetricsWidget::setConnections(const QVector<ConnectionMetrics> &connections, bool keepRange)
{
    const bool hadData = !m_connections.isEmpty();
    m_connections = connections;
    m_markers->clear();
    for (const ConnectionMetrics &m : std::as_const(m_connections)) {
        for (MetricsMarker marker : m.markers) {
            if (overlay())
                marker.text = QStringLiteral("#%1 %2").arg(m.connection.id).arg(marker.text);
            m_markers->append(marker);
        }
    }
    std::stable_sort(
        m_markers->begin(), m_markers->end(),
        [](const MetricsMarker &a, const MetricsMarker &b) { return a.timeNs < b.timeNs; });
    rebuildGraphs();
    if (!keepRange || !hadData || !m_userRange) {
        m_userRange = false;
        fitAll();
    } else {
        rescaleValueAxes();
    }
    if (m_crosshairX)
        setCrosshair(*m_crosshairX);
    replot(QCustomPlot::rpQueuedReplot);
}

void MetricsWidget::addSeries(ChartParts &p, const MetricsSeries &series, const QString &name,
                              const QPen &pen, QCPGraph::LineStyle style, bool inLegend,
                              QCPAxis *valueAxis, double scale)
{
    if (series.isEmpty())
        return;
    auto *g = new QCPGraph(p.rect->axis(QCPAxis::atBottom),
                           valueAxis ? valueAxis : p.rect->axis(QCPAxis::atLeft));
    g->removeFromLegend();
    g->setName(name);
    g->setPen(pen);
    g->setLineStyle(style);
    QVector<double> y = series.y;
    const double divisor = valueAxis ? scale : p.scale;
    for (double &v : y)
        v /= divisor;
    g->setData(series.x, y, true);
    if (inLegend)
        g->addToLegend(p.legend);
    p.graphs.append(g);
}

void MetricsWidget::addBand(ChartParts &p, const ConnectionMetrics &m, QColor color, bool inLegend)
{
    if (m.rttHigh.isEmpty())
        return;
    color.setAlpha(overlay() ? 35 : 60);
    addSeries(p, m.rttHigh, QStringLiteral("srtt + rttvar"), Qt::NoPen, QCPGraph::lsLine, false);
    QCPGraph *high = p.graphs.constLast();
    addSeries(p, m.rttLow, QStringLiteral("srtt ± rttvar"), Qt::NoPen, QCPGraph::lsLine, inLegend);
    QCPGraph *low = p.graphs.constLast();
    low->setBrush(color);
    low->setChannelFillGraph(high);
}

void MetricsWidget::addStyleSample(ChartParts &p, const QString &name, Qt::PenStyle style)
{
    // Overlay legend: which line style is which series (colours name the connections).
    auto *g = new QCPGraph(p.rect->axis(QCPAxis::atBottom), p.rect->axis(QCPAxis::atLeft));
    g->removeFromLegend();
    g->setName(name);
    g->setPen(QPen(QColor(0x55, 0x55, 0x55), 1.5, style));
    g->addToLegend(p.legend);
    p.graphs.append(g);
}

void MetricsWidget::rebuildGraphs()
{
    m_topLegend->clearItems();
    for (MetricsChart chart : std::as_const(m_charts)) {
        ChartParts &p = parts(chart);
        p.legend->clearItems();
        for (QCPGraph *g : std::as_const(p.graphs))
            removeGraph(g);
        p.graphs.clear();
    }
    chooseUnits();

    const bool multi = overlay();
    for (int i = 0; i < m_connections.size(); ++i) {
        const ConnectionMetrics &m = m_connections.at(i);
        const QColor c = connectionColor(i);
        // Single: a colour per series, named in the chart's legend. Overlay: a colour per
        // connection; solid/dashed/dotted tell the series apart (style samples in the legend).
        const auto pen = [multi, c](QColor own, Qt::PenStyle style, double width = 1.5) {
            return QPen(multi ? c : own, width,
                        multi ? style : (style == Qt::SolidLine ? Qt::SolidLine : style));
        };
        const bool named = !multi;
        const auto step = QCPGraph::lsStepLeft;
        for (MetricsChart chart : std::as_const(m_charts)) {
            ChartParts &p = parts(chart);
            switch (chart) {
            case MetricsChart::Rtt:
                addBand(p, m, multi ? c : kSky, named);
                addSeries(p, m.srtt, QStringLiteral("srtt"), pen(kBlue, Qt::SolidLine),
                          QCPGraph::lsLine, named);
                addSeries(p, m.minRtt, QStringLiteral("min RTT"), pen(kGreen, Qt::DashLine, 1.2),
                          step, named);
                break;
            case MetricsChart::Cwnd:
                addSeries(p, m.cwnd, QStringLiteral("cwnd"), pen(kBlue, Qt::SolidLine), step,
                          named);
                addSeries(p, m.ssthresh, QStringLiteral("ssthresh"),
                          pen(kVermilion, Qt::DashLine, 1.2), step, named);
                addSeries(p, m.inFlight, QStringLiteral("in flight"), pen(kGreen, Qt::DotLine, 1.2),
                          step, named);
                break;
            case MetricsChart::Windows:
                addSeries(p, m.sndWnd, QStringLiteral("snd_wnd (peer's)"),
                          pen(kBlue, Qt::SolidLine), step, named);
                addSeries(p, m.rcvWnd, QStringLiteral("rcv_wnd (ours)"), pen(kGreen, Qt::DashLine),
                          step, named);
                break;
            case MetricsChart::Throughput: {
                // The kernel's delivery rate of app-limited flows can be far above what was sent
                // (loopback bursts): its own right-hand axis keeps the acked rate readable. Drawn
                // first, so the measured rates stay on top where both axes meet.
                const int before = int(p.graphs.size());
                addSeries(p, m.deliveryRate, QStringLiteral("delivery rate (right axis)"),
                          pen(kPurple, Qt::DotLine, 1.2), QCPGraph::lsLine, false,
                          p.rect->axis(QCPAxis::atRight), m_rateScale2);
                QCPGraph *delivery = p.graphs.size() > before ? p.graphs.constLast() : nullptr;
                addSeries(p, m.ackedRate, QStringLiteral("acked (sent)"), pen(kBlue, Qt::SolidLine),
                          QCPGraph::lsLine, named);
                addSeries(p, m.receivedRate, QStringLiteral("received"), pen(kGreen, Qt::DashLine),
                          QCPGraph::lsLine, named);
                if (delivery && named)
                    delivery->addToLegend(p.legend);
                break;
            }
            }
        }
        if (multi) {
            // The connection's name goes to the top legend once, with its colour.
            QCPGraph *first = nullptr;
            for (MetricsChart chart : std::as_const(m_charts))
                for (QCPGraph *g : parts(chart).graphs)
                    if (!first && g->pen().style() == Qt::SolidLine && g->pen().color() == c)
                        first = g;
            if (first) {
                first->setName(metricsConnectionLabel(m.connection));
                m_topLegend->addItem(new QCPPlottableLegendItem(m_topLegend, first));
            }
        }
    }
    if (multi) {
        const std::pair<MetricsChart, QStringList> styles[] = {
            {MetricsChart::Rtt, {QStringLiteral("srtt"), QStringLiteral("min RTT")}},
            {MetricsChart::Cwnd,
             {QStringLiteral("cwnd"), QStringLiteral("ssthresh"), QStringLiteral("in flight")}},
            {MetricsChart::Windows, {QStringLiteral("snd_wnd"), QStringLiteral("rcv_wnd")}},
            {MetricsChart::Throughput,
             {QStringLiteral("acked"), QStringLiteral("received"), QStringLiteral("delivery")}},
        };
        const Qt::PenStyle order[] = {Qt::SolidLine, Qt::DashLine, Qt::DotLine};
        for (const auto &[chart, names] : styles)
            if (parts(chart).rect)
                for (int i = 0; i < names.size(); ++i)
                    addStyleSample(parts(chart), names.at(i), order[i]);
    }
    for (MetricsChart chart : std::as_const(m_charts))
        for (MetricsMarkerPlottable *mp : parts(chart).markers)
            mp->setMarkers(m_markers); // recount
    // Marker kinds that occur, in the top legend (they run through every chart).
    const MetricsChart first = m_charts.constFirst();
    for (MetricsMarkerPlottable *mp : parts(first).markers)
        if (mp->markerCount() > 0)
            m_topLegend->addItem(new QCPPlottableLegendItem(m_topLegend, mp));
    // Room below the baseline, or "snd_wnd" reads "snd wnd" (the item clips its descenders).
    QVector<QCPLegend *> legends{m_topLegend};
    for (MetricsChart chart : std::as_const(m_charts))
        legends << parts(chart).legend;
    for (QCPLegend *legend : std::as_const(legends))
        for (int i = 0; i < legend->itemCount(); ++i)
            if (QCPAbstractLegendItem *item = legend->item(i))
                item->setMargins(QMargins(4, 1, 4, 4));
    m_topLegend->setVisible(m_topLegend->itemCount() > 0);
    wrapLegendToWidth(m_topLegend, width() - 20);
    updateAxisLabels();
}

void MetricsWidget::resizeEvent(QResizeEvent *event)
{
    // QCustomPlot redraws every layer at once on a resize. These charts are resized when their
    // tab is shown, and that is also when the detail view hands them their data (it rebuilds
    // only while visible): the immediate redraw would draw the old data only to be replaced.
    // A queued replot takes both in one pass (replots queued meanwhile coalesce). So this does
    // what QCustomPlot's own handler does (a new viewport, then a replot), with the replot queued.
    // NOLINTNEXTLINE(bugprone-parent-virtual-call): skipping QCustomPlot's handler is the point
    QWidget::resizeEvent(event);
    setViewport(rect());
    wrapLegendToWidth(m_topLegend, width() - 20);
    replot(QCustomPlot::rpQueuedReplot);
}

} // namespace tcpscope
