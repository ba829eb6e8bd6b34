// SPDX-License-Identifier: GPL-3.0-or-later
// MetricsWidget's axes: units chosen from the data, labels, the shared time range and value
// axes that refit to what is visible.
#include "charts/metrics_widget.h"

#include "charts/legend_wrap.h"

#include <algorithm>
#include <cmath>

namespace tcpscope {

namespace {
double maxOf(const MetricsSeries &s)
{
    double m = 0;
    for (double v : s.y)
        if (!std::isnan(v))
            m = std::max(m, v);
    return m;
}
} // namespace

void MetricsWidget::chooseUnits()
{
    double rtt = 0, wnd = 0, rate = 0, delivery = 0;
    for (const ConnectionMetrics &m : std::as_const(m_connections)) {
        rtt = std::max({rtt, maxOf(m.rttHigh), maxOf(m.minRtt)});
        wnd = std::max({wnd, maxOf(m.sndWnd), maxOf(m.rcvWnd)});
        rate = std::max({rate, maxOf(m.ackedRate), maxOf(m.receivedRate)});
        delivery = std::max(delivery, maxOf(m.deliveryRate));
    }
    if (rate == 0)
        rate = delivery;
    const auto rateUnit = [](double max, QString *unit) {
        const std::pair<double, const char *> units[] = {
            {1e9, "Gbit/s"}, {1e6, "Mbit/s"}, {1e3, "kbit/s"}};
        for (const auto &[scale, name] : units) {
            if (max >= 10 * scale) {
                *unit = QString::fromLatin1(name);
                return scale;
            }
        }
        *unit = QStringLiteral("bit/s");
        return 1.0;
    };
    m_rateScale2 = rateUnit(delivery, &m_rateUnit2);
    auto set = [this](MetricsChart chart, double scale, const QString &unit) {
        parts(chart).scale = scale;
        parts(chart).unit = unit;
    };
    if (rtt < 2000)
        set(MetricsChart::Rtt, 1, QStringLiteral("µs"));
    else if (rtt < 20'000'000)
        set(MetricsChart::Rtt, 1000, QStringLiteral("ms"));
    else
        set(MetricsChart::Rtt, 1e6, QStringLiteral("s"));
    set(MetricsChart::Cwnd, 1, QStringLiteral("packets"));
    if (wnd < 4096)
        set(MetricsChart::Windows, 1, QStringLiteral("bytes"));
    else if (wnd < 4 << 20)
        set(MetricsChart::Windows, 1024, QStringLiteral("KiB"));
    else
        set(MetricsChart::Windows, 1 << 20, QStringLiteral("MiB"));
    QString unit;
    const double scale = rateUnit(rate, &unit);
    set(MetricsChart::Throughput, scale, unit);
}

void MetricsWidget::updateAxisLabels()
{
    for (MetricsChart chart : std::as_const(m_charts)) {
        ChartParts &p = parts(chart);
        const QString title = p.unit.isEmpty() ? metricsChartTitle(chart) : p.unit;
        if (chart == MetricsChart::Throughput) {
            QCPAxis *right = p.rect->axis(QCPAxis::atRight);
            bool delivery = false;
            for (QCPGraph *g : std::as_const(p.graphs))
                delivery = delivery || g->valueAxis() == right;
            right->setVisible(delivery);
            right->setLabel(m_rateUnit2);
            right->setLabelColor(QColor(0xcc, 0x79, 0xa7).darker(130));
            right->setTickLabelColor(QColor(0xcc, 0x79, 0xa7).darker(130));
            right->setNumberFormat(QStringLiteral("gb"));
        }
        p.rect->axis(QCPAxis::atLeft)->setLabel(title);
        if (chart == m_charts.constLast())
            p.rect->axis(QCPAxis::atBottom)
                ->setLabel(QStringLiteral("Seconds since the start of the session"));
    }
}

QCPRange MetricsWidget::timeRange() const
{
    return parts(m_charts.constFirst()).rect->axis(QCPAxis::atBottom)->range();
}

void MetricsWidget::setTimeRange(const QCPRange &range)
{
    parts(m_charts.constFirst()).rect->axis(QCPAxis::atBottom)->setRange(range); // the others
                                                                                 // follow
}

void MetricsWidget::fitAll()
{
    bool any = false;
    double lo = 0, hi = 0;
    for (const ConnectionMetrics &m : std::as_const(m_connections)) {
        QVector<double> xs = m.sampleX;
        for (const MetricsMarker &mk : m.markers)
            xs.append(mk.x);
        for (double x : std::as_const(xs)) {
            if (!any) {
                lo = hi = x;
                any = true;
            }
            lo = std::min(lo, x);
            hi = std::max(hi, x);
        }
    }
    if (!any) {
        lo = 0;
        hi = 10;
    }
    const double pad = std::max((hi - lo) * 0.02, 1e-3);
    wrapLegendToWidth(m_topLegend, width() - 20); // export: sized without a resize event
    const bool user = m_userRange;
    setTimeRange(QCPRange(lo - pad, hi + pad));
    m_userRange = user;
    rescaleValueAxes();
}

void MetricsWidget::onTimeRangeChanged(const QCPRange &range)
{
    if (m_syncing)
        return;
    m_syncing = true;
    for (MetricsChart chart : std::as_const(m_charts))
        parts(chart).rect->axis(QCPAxis::atBottom)->setRange(range);
    m_syncing = false;
    m_userRange = true; // fitAll() restores the flag it had
    rescaleValueAxes();
}

void MetricsWidget::rescaleValueAxes()
{
    const QCPRange keys = timeRange();
    for (MetricsChart chart : std::as_const(m_charts)) {
        ChartParts &p = parts(chart);
        for (QCPAxis *axis : {p.rect->axis(QCPAxis::atLeft), p.rect->axis(QCPAxis::atRight)}) {
            double hi = 0;
            for (QCPGraph *g : std::as_const(p.graphs)) {
                bool found = false;
                const QCPRange r = g->valueAxis() == axis
                                       ? g->getValueRange(found, QCP::sdBoth, keys)
                                       : QCPRange();
                if (found)
                    hi = std::max(hi, r.upper);
            }
            // Values are never negative; 0 stays on the axis so heights compare honestly. The
            // top keeps a margin for the marker glyphs.
            axis->setRange(0, hi > 0 ? hi * 1.15 : 1);
        }
    }
}

} // namespace tcpscope
