// SPDX-License-Identifier: GPL-3.0-or-later
#include "charts/timeline_widget.h"

#include "charts/timeline_plottable.h"
#include "util/format.h"

#include <QToolTip>

#include <algorithm>
#include <cmath>

namespace tcpscope {

namespace {
constexpr double kMinRowPx = 16;  // below this, labels would overlap: scroll instead
constexpr double kMaxRowPx = 28;  // a handful of connections should not become fat slabs
constexpr double kHitHalfHeight = 0.45;
// Drawn last so a sub-pixel handshake stays visible on top of the long ESTABLISHED segment.
constexpr StatePhase kDrawOrder[kStatePhaseCount] = {StatePhase::Listen, StatePhase::Established,
                                                     StatePhase::TimeWait, StatePhase::Closing,
                                                     StatePhase::Other, StatePhase::Handshake};
constexpr StatePhase kLegendOrder[kStatePhaseCount] = {StatePhase::Handshake, StatePhase::Established,
                                                       StatePhase::Closing, StatePhase::TimeWait,
                                                       StatePhase::Listen, StatePhase::Other};
} // namespace

TimelineWidget::TimelineWidget(QWidget *parent)
    : QCustomPlot(parent), m_layout(std::make_shared<TimelineLayout>()),
      m_rowTicker(QSharedPointer<RowLabelTicker>::create())
{
    setMouseTracking(true);
    setNoAntialiasingOnDrag(true);
    setPlottingHint(QCP::phCacheLabels, true);
    setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    axisRect()->setRangeDrag(Qt::Horizontal | Qt::Vertical);
    axisRect()->setRangeZoom(Qt::Horizontal);

    yAxis->setRangeReversed(true); // row 0 at the top, like the table
    yAxis->setTicker(m_rowTicker);
    yAxis->setTickLength(0, 3);
    yAxis->grid()->setPen(QPen(QColor(0xee, 0xee, 0xee)));
    yAxis->setPadding(6);
    xAxis->grid()->setPen(QPen(QColor(0xdd, 0xdd, 0xdd), 0, Qt::DotLine));
    xAxis->grid()->setSubGridVisible(false);
    xAxis->setLabelPadding(4);

    addLayer(QStringLiteral("band"), layer(QStringLiteral("main")), QCustomPlot::limBelow);
    addLayer(QStringLiteral("highlight"), layer(QStringLiteral("main")), QCustomPlot::limAbove);

    // Plottables are registered with and owned by this QCustomPlot.
    for (StatePhase phase : kDrawOrder)
        m_plottables[int(phase)] = new TimelinePlottable(xAxis, yAxis, phase);

    // Legend in its own row above the chart so it never covers bars.
    legend->clearItems();
    for (StatePhase phase : kLegendOrder)
        m_plottables[int(phase)]->addToLegend(legend);
    legend->setVisible(true);
    legend->setFillOrder(QCPLegend::foColumnsFirst);
    legend->setBorderPen(Qt::NoPen);
    legend->setBrush(Qt::NoBrush);
    legend->setIconSize(18, 10);
    legend->setRowSpacing(0);
    legend->setColumnSpacing(14);
    axisRect()->insetLayout()->take(legend);
    plotLayout()->insertRow(0);
    plotLayout()->addElement(0, 0, legend);
    plotLayout()->setRowStretchFactor(0, 0.001);
    plotLayout()->setRowSpacing(0);

    m_selectionBand = new QCPItemRect(this);
    m_selectionBand->setLayer(QStringLiteral("band"));
    m_selectionBand->topLeft->setTypeX(QCPItemPosition::ptAxisRectRatio);
    m_selectionBand->bottomRight->setTypeX(QCPItemPosition::ptAxisRectRatio);
    m_selectionBand->setPen(Qt::NoPen);
    m_selectionBand->setBrush(QColor(0x30, 0x8c, 0xe8, 45));
    m_selectionBand->setSelectable(false);
    m_selectionOutline = new QCPItemRect(this);
    m_selectionOutline->setLayer(QStringLiteral("highlight"));
    m_selectionOutline->setPen(QPen(QColor(0x10, 0x10, 0x10), 2));
    m_selectionOutline->setBrush(Qt::NoBrush);
    m_selectionOutline->setSelectable(false);

    connect(this, &QCustomPlot::beforeReplot, this, &TimelineWidget::updateTickDensity);
    applyLayout(m_layout);
}

TimelineWidget::~TimelineWidget() = default;

void TimelineWidget::setConnections(const QVector<Connection> &ordered, qint64 originNs, qint64 endNs)
{
    m_connections = ordered;
    m_originNs = originNs;
    m_endNs = endNs;
    updateTimeAxisLabel();
    rebuild();
}

void TimelineWidget::setEndTime(qint64 endNs)
{
    if (endNs == m_endNs)
        return;
    m_endNs = endNs;
    rebuild();
}

void TimelineWidget::clear()
{
    m_selectedId = -1;
    m_userMovedView = false;
    setConnections({}, 0, 0);
}

void TimelineWidget::rebuild()
{
    applyLayout(std::make_shared<const TimelineLayout>(TimelineLayout::build(m_connections, m_originNs, m_endNs)));
}

void TimelineWidget::applyLayout(std::shared_ptr<const TimelineLayout> layout)
{
    m_layout = std::move(layout);
    for (TimelinePlottable *p : m_plottables)
        p->setLayout(m_layout);
    m_rowTicker->setLayout(m_layout);
    // "Other" only appears in the legend when such segments exist.
    TimelinePlottable *other = m_plottables[int(StatePhase::Other)];
    if (m_layout->byPhase[int(StatePhase::Other)].isEmpty())
        other->removeFromLegend(legend);
    else if (!legend->hasItemWithPlottable(other))
        other->addToLegend(legend);
    updateSelectionItems();
    if (!m_userMovedView)
        fitAll();
    replot(QCustomPlot::rpQueuedReplot);
}

void TimelineWidget::updateTimeAxisLabel()
{
    if (m_originNs > 0)
        xAxis->setLabel(QStringLiteral("Seconds since %1").arg(fmt::wallDateTime(m_originNs)));
    else
        xAxis->setLabel(QStringLiteral("Seconds"));
}

int TimelineWidget::readableRowCount() const
{
    int h = axisRect()->height();
    if (h <= 0)
        h = std::max(1, height() - 90); // layout not computed yet (never shown)
    return std::max(1, int(h / kMinRowPx));
}

void TimelineWidget::fitAll(bool allRows)
{
    updateLayout(); // the axis rect size decides how many rows fit
    const double span = m_layout->maxX - m_layout->minX;
    const double pad = std::max(span * 0.02, 1e-4);
    xAxis->setRange(m_layout->minX - pad, m_layout->maxX + pad);

    int h = axisRect()->height();
    if (h <= 0)
        h = std::max(1, height() - 90);
    const int rows = std::max(1, int(m_layout->rows.size()));
    const int fatRows = std::max(1, int(h / kMaxRowPx));
    int shown = allRows ? rows : std::min(rows, readableRowCount());
    shown = std::max(shown, fatRows);
    yAxis->setRange(-0.5, shown - 0.5);
}

void TimelineWidget::updateTickDensity()
{
    const int h = axisRect()->height();
    m_rowTicker->setTickCount(std::max(1, int(h / kMinRowPx)));
}

void TimelineWidget::setSelectedId(qint64 id)
{
    m_selectedId = id;
    updateSelectionItems();
    const int row = m_layout->rowOf(id);
    if (row >= 0) {
        const QCPRange yr = yAxis->range();
        if (row - 0.5 < yr.lower || row + 0.5 > yr.upper) {
            const double size = yr.size();
            yAxis->setRange(row - size / 2, row + size / 2);
        }
        const TimelineRow &r = m_layout->rows.at(row);
        const QCPRange xr = xAxis->range();
        if (r.x1 < xr.lower || r.x0 > xr.upper) {
            const double size = xr.size();
            xAxis->setRange(r.x0 - size * 0.1, r.x0 + size * 0.9);
        }
    }
    replot(QCustomPlot::rpQueuedReplot);
}

void TimelineWidget::updateSelectionItems()
{
    const int row = m_layout->rowOf(m_selectedId);
    const bool show = row >= 0;
    m_selectionBand->setVisible(show);
    m_selectionOutline->setVisible(show);
    if (!show)
        return;
    const TimelineRow &r = m_layout->rows.at(row);
    m_selectionBand->topLeft->setCoords(0, row - 0.5);
    m_selectionBand->bottomRight->setCoords(1, row + 0.5);
    m_selectionOutline->topLeft->setCoords(r.x0, row - 0.40);
    m_selectionOutline->bottomRight->setCoords(r.x1, row + 0.40);
}

QPoint TimelineWidget::barCenter(qint64 id) const
{
    const int row = m_layout->rowOf(id);
    if (row < 0)
        return {-1, -1};
    const TimelineRow &r = m_layout->rows.at(row);
    const QCPRange xr = xAxis->range();
    const double x0 = std::max(r.x0, xr.lower), x1 = std::min(r.x1, xr.upper);
    if (x0 > x1)
        return {-1, -1};
    const QPointF p(xAxis->coordToPixel((x0 + x1) / 2), yAxis->coordToPixel(row));
    if (!axisRect()->rect().contains(p.toPoint()))
        return {-1, -1};
    return p.toPoint();
}

std::pair<int, int> TimelineWidget::hitTest(const QPoint &pos, double tolerancePx) const
{
    if (m_layout->rows.isEmpty() || !axisRect()->rect().contains(pos))
        return {-1, -1};
    const int row = int(std::lround(yAxis->pixelToCoord(pos.y())));
    if (row < 0 || row >= m_layout->rows.size())
        return {-1, -1};
    const double rowPx = std::abs(yAxis->coordToPixel(1) - yAxis->coordToPixel(0));
    if (std::abs(yAxis->coordToPixel(row) - pos.y()) > std::max(kHitHalfHeight * rowPx, 2.0))
        return {-1, -1};
    const double x = xAxis->pixelToCoord(pos.x());
    const double tolX = tolerancePx * xAxis->range().size() / std::max(1, axisRect()->width());
    const TimelineRow &r = m_layout->rows.at(row);
    int best = -1;
    double bestDist = tolX;
    for (int i = r.firstSegment; i < r.firstSegment + r.segmentCount; ++i) {
        const TimelineSegment &s = m_layout->segments.at(i);
        const double dist = x < s.x0 ? s.x0 - x : (x > s.x1 ? x - s.x1 : 0.0);
        // Ties go to the later (shorter, drawn on top) segment, e.g. a tiny handshake.
        if (dist <= bestDist) {
            best = i;
            bestDist = dist;
        }
    }
    if (best >= 0)
        return {row, best};
    if (x >= r.x0 - tolX && x <= r.x1 + tolX)
        return {row, -1};
    return {-1, -1};
}

qint64 TimelineWidget::idAt(const QPoint &pos) const
{
    const auto [row, segment] = hitTest(pos, 4);
    Q_UNUSED(segment);
    return row >= 0 ? m_layout->rows.at(row).id : -1;
}

QString TimelineWidget::toolTipFor(int row, int segment) const
{
    const Connection &c = m_connections.at(row);
    QString html = QStringLiteral("<b>%1</b><br>#%2 · %3 pid %4 · %5")
                       .arg(fmt::connectionLabel(c).toHtmlEscaped())
                       .arg(c.id)
                       .arg(c.comm.toHtmlEscaped())
                       .arg(c.pid)
                       .arg(connectionRoleName(c.role));
    if (segment >= 0) {
        const TimelineSegment &s = m_layout->segments.at(segment);
        const qint64 t0 = m_originNs + qint64(std::llround(s.x0 * 1e9));
        const qint64 t1 = m_originNs + qint64(std::llround(s.x1 * 1e9));
        const bool lastOpen = c.isOpen() && segment == m_layout->rows.at(row).firstSegment + m_layout->rows.at(row).segmentCount - 1;
        html += QStringLiteral("<br><span style='color:%1'>■</span> <b>%2</b>: %3 → %4%5 (%6)")
                    .arg(phaseColor(phaseOf(s.state)).name(), tcpStateName(s.state), fmt::wallTime(t0),
                         fmt::wallTime(t1), lastOpen ? QStringLiteral(" (still open)") : QString(),
                         fmt::durationMs((s.x1 - s.x0) * 1e3));
    }
    html += QStringLiteral("<br>Lifetime %1%2 · close: %3")
                .arg(fmt::durationMs(c.durationMs(c.isOpen() ? m_endNs : 0)),
                     c.handshakeNs >= 0 ? QStringLiteral(" · handshake %1").arg(fmt::durationMs(c.handshakeNs / 1e6)) : QString(),
                     closeReasonName(c.closeReason));
    return html;
}

void TimelineWidget::mousePressEvent(QMouseEvent *event)
{
    m_pressPos = event->pos();
    QCustomPlot::mousePressEvent(event);
}

void TimelineWidget::mouseMoveEvent(QMouseEvent *event)
{
    QCustomPlot::mouseMoveEvent(event);
    if (event->buttons() != Qt::NoButton) {
        if ((event->pos() - m_pressPos).manhattanLength() > 3)
            m_userMovedView = true;
        QToolTip::hideText();
        return;
    }
    const auto [row, segment] = hitTest(event->pos(), 3);
    if (row >= 0)
        QToolTip::showText(event->globalPosition().toPoint(), toolTipFor(row, segment), this);
    else
        QToolTip::hideText();
}

void TimelineWidget::mouseReleaseEvent(QMouseEvent *event)
{
    const bool click = event->button() == Qt::LeftButton && (event->pos() - m_pressPos).manhattanLength() <= 3;
    QCustomPlot::mouseReleaseEvent(event);
    if (!click)
        return;
    const qint64 id = idAt(event->pos());
    if (id < 0)
        return;
    setSelectedId(id);
    emit connectionClicked(id);
}

void TimelineWidget::mouseDoubleClickEvent(QMouseEvent *event)
{
    QCustomPlot::mouseDoubleClickEvent(event);
    m_userMovedView = false;
    fitAll();
    replot(QCustomPlot::rpQueuedReplot);
}

void TimelineWidget::wheelEvent(QWheelEvent *event)
{
    axisRect()->setRangeZoom(event->modifiers() & Qt::ControlModifier ? Qt::Vertical : Qt::Horizontal);
    m_userMovedView = true;
    QCustomPlot::wheelEvent(event);
}

void TimelineWidget::resizeEvent(QResizeEvent *event)
{
    QCustomPlot::resizeEvent(event);
    if (!m_userMovedView) {
        fitAll();
        replot(QCustomPlot::rpQueuedReplot);
    }
}

} // namespace tcpscope
