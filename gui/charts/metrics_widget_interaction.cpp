// SPDX-License-Identifier: GPL-3.0-or-later
// MetricsWidget's mouse side: the crosshair across all charts with its readout, marker
// tooltips, a click at a time, double-click to fit.
#include "charts/chart_click.h"
#include "charts/metrics_markers.h"
#include "charts/metrics_widget.h"

#include "tcpscope_records.h"
#include "util/format.h"

#include <QToolTip>

#include <cmath>

namespace tcpscope {

namespace {
constexpr double kMarkerHitPx = 4;
constexpr int kMaxTooltipLines = 12;

// The value of a derived series at the sample nearest x (rates are not on every sample).
double nearestValue(const MetricsSeries &s, double x)
{
    if (s.x.isEmpty())
        return std::nan("");
    const auto it = std::lower_bound(s.x.cbegin(), s.x.cend(), x);
    int i = int(it - s.x.cbegin());
    if (i == s.x.size() || (i > 0 && x - s.x[i - 1] <= s.x[i] - x))
        --i;
    return s.y[i];
}

QString sampleReadout(const ConnectionMetrics &m, int index)
{
    const TcpSample &s = m.samples.at(index);
    const double x = m.sampleX.at(index);
    QStringList parts;
    if (s.fields & TS_SAMPLE_RTT)
        parts << QStringLiteral("srtt %1 ± %2").arg(formatRttUs(s.srttUs), formatRttUs(s.rttvarUs));
    if ((s.fields & TS_SAMPLE_MIN_RTT) && s.minRttUs)
        parts << QStringLiteral("min %1").arg(formatRttUs(s.minRttUs));
    if (s.fields & TS_SAMPLE_CWND) {
        const bool inf = s.ssthresh == 0 || s.ssthresh >= TS_SSTHRESH_INFINITE;
        parts << QStringLiteral("cwnd %1, ssthresh %2")
                     .arg(s.cwnd)
                     .arg(inf ? QStringLiteral("∞") : QString::number(s.ssthresh));
    }
    if (s.fields & TS_SAMPLE_INFLIGHT)
        parts << QStringLiteral("in flight %1").arg(s.inFlight);
    if (s.fields & TS_SAMPLE_WINDOWS)
        parts << QStringLiteral("snd_wnd %1, rcv_wnd %2")
                     .arg(fmt::bytes(s.sndWnd), fmt::bytes(s.rcvWnd));
    const double acked = nearestValue(m.ackedRate, x);
    if (!std::isnan(acked))
        parts << QStringLiteral("acked %1").arg(formatBitsPerSecond(acked));
    const double received = nearestValue(m.receivedRate, x);
    if (!std::isnan(received))
        parts << QStringLiteral("received %1").arg(formatBitsPerSecond(received));
    if ((s.fields & TS_SAMPLE_RATE) && s.deliveryRate)
        parts << QStringLiteral("delivery %1").arg(formatBitsPerSecond(double(s.deliveryRate) * 8));
    if (s.fields & TS_SAMPLE_INFLIGHT && (s.retransOut || s.lostOut))
        parts << QStringLiteral("retrans out %1, lost %2").arg(s.retransOut).arg(s.lostOut);
    parts << caStateName(s.caState);
    return QStringLiteral("[%1 s] %2").arg(x, 0, 'f', 4).arg(parts.join(QStringLiteral(" · ")));
}
} // namespace

void MetricsWidget::setCrosshair(double x)
{
    m_crosshairX = x;
    for (MetricsChart chart : std::as_const(m_charts)) {
        ChartParts &p = parts(chart);
        p.crosshair->point1->setCoords(x, 0);
        p.crosshair->point2->setCoords(x, 1);
        p.crosshair->setVisible(true);
    }
    layer(QStringLiteral("overlay"))->replot();
    emit crosshairMoved(x, readoutAt(x));
}

void MetricsWidget::hideCrosshair()
{
    if (!m_crosshairX)
        return;
    m_crosshairX.reset();
    for (MetricsChart chart : std::as_const(m_charts))
        parts(chart).crosshair->setVisible(false);
    layer(QStringLiteral("overlay"))->replot();
    emit crosshairMoved(std::nan(""), QString());
}

void MetricsWidget::setMarkedTime(double x)
{
    m_markedX = x;
    if (!underMouse())
        setCrosshair(x);
}

void MetricsWidget::clearMarkedTime()
{
    if (!m_markedX)
        return;
    m_markedX.reset();
    if (!underMouse())
        hideCrosshair();
}

void MetricsWidget::restCrosshair()
{
    if (m_markedX && !m_connections.isEmpty())
        setCrosshair(*m_markedX);
    else
        hideCrosshair();
}

QString MetricsWidget::readoutAt(double x) const
{
    QStringList lines;
    for (const ConnectionMetrics &m : m_connections) {
        const int i = m.nearestSample(x);
        if (i < 0)
            continue;
        const QString text = sampleReadout(m, i);
        lines << (overlay() ? QStringLiteral("#%1 %2").arg(m.connection.id).arg(text) : text);
    }
    return lines.join(QLatin1Char('\n'));
}

const MetricsWidget::ChartParts *MetricsWidget::partsAt(const QPoint &pos) const
{
    for (MetricsChart chart : m_charts) {
        const ChartParts &p = parts(chart);
        if (p.rect->rect().contains(pos))
            return &p;
    }
    return nullptr;
}

MetricsWidget::ChartParts *MetricsWidget::partsAt(const QPoint &pos)
{
    return const_cast<ChartParts *>(std::as_const(*this).partsAt(pos));
}

QString MetricsWidget::markerToolTipAt(const QPoint &pos) const
{
    const ChartParts *p = partsAt(pos);
    if (!p || m_markers->isEmpty())
        return {};
    const QCPAxis *x = p->rect->axis(QCPAxis::atBottom);
    const double lo = x->pixelToCoord(pos.x() - kMarkerHitPx),
                 hi = x->pixelToCoord(pos.x() + kMarkerHitPx);
    const auto first = std::lower_bound(m_markers->cbegin(), m_markers->cend(), lo,
                                        [](const MetricsMarker &m, double v) { return m.x < v; });
    QStringList lines;
    int more = 0;
    for (auto it = first; it != m_markers->cend() && it->x <= hi; ++it) {
        if (lines.size() >= kMaxTooltipLines) {
            ++more;
            continue;
        }
        lines << QStringLiteral("<span style='color:%1'>■</span> %2 s &nbsp;%3")
                     .arg(metricsMarkerColor(it->kind).name())
                     .arg(it->x, 0, 'f', 4)
                     .arg(it->text.toHtmlEscaped());
    }
    if (more > 0)
        lines << QStringLiteral("… and %1 more (zoom in)").arg(more);
    return lines.join(QStringLiteral("<br>"));
}

void MetricsWidget::mouseMoveEvent(QMouseEvent *event)
{
    QCustomPlot::mouseMoveEvent(event); // dragging pans
    const QPoint pos = event->position().toPoint();
    if (const ChartParts *p = partsAt(pos); p && !m_connections.isEmpty())
        setCrosshair(p->rect->axis(QCPAxis::atBottom)->pixelToCoord(pos.x()));
    else
        restCrosshair();
}

void MetricsWidget::mousePressEvent(QMouseEvent *event)
{
    m_pressPos = event->pos();
    QCustomPlot::mousePressEvent(event);
}

void MetricsWidget::mouseReleaseEvent(QMouseEvent *event)
{
    const bool click = event->button() == Qt::LeftButton && isChartClick(m_pressPos, event->pos());
    QCustomPlot::mouseReleaseEvent(event);
    if (!click || m_connections.isEmpty())
        return;
    if (const ChartParts *p = partsAt(event->pos()))
        emit timeClicked(p->rect->axis(QCPAxis::atBottom)->pixelToCoord(event->pos().x()));
}

void MetricsWidget::leaveEvent(QEvent *event)
{
    QCustomPlot::leaveEvent(event);
    restCrosshair();
}

void MetricsWidget::mouseDoubleClickEvent(QMouseEvent *event)
{
    QCustomPlot::mouseDoubleClickEvent(event);
    resetView();
}

void MetricsWidget::resetView()
{
    m_userRange = false;
    fitAll();
    replot();
}

bool MetricsWidget::event(QEvent *event)
{
    if (event->type() == QEvent::ToolTip) {
        auto *help = static_cast<QHelpEvent *>(event);
        const QString text = markerToolTipAt(help->pos());
        if (text.isEmpty())
            QToolTip::hideText();
        else
            QToolTip::showText(help->globalPos(), text, this);
        return true;
    }
    return QCustomPlot::event(event);
}

} // namespace tcpscope
