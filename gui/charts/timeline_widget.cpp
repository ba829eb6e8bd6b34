// SPDX-License-Identifier: GPL-3.0-or-later
#include "charts/timeline_widget.h"

#include "charts/chart_click.h"
#include "charts/legend_wrap.h"
#include "charts/timeline_plottable.h"
#include "util/format.h"

#include <QScrollBar>
#include <QToolTip>

#include <algorithm>
#include <cmath>

namespace tcpscope {

namespace {
constexpr double kMinRowPx = 16; // below this, labels would overlap: scroll instead
constexpr double kMaxRowPx = 28; // a handful of connections should not become fat slabs
constexpr double kHitHalfHeight = 0.45;
// Drawn last so a sub-pixel handshake stays visible on top of the long ESTABLISHED segment.
constexpr StatePhase kDrawOrder[kStatePhaseCount] = {StatePhase::Listen,   StatePhase::Established,
                                                     StatePhase::TimeWait, StatePhase::Closing,
                                                     StatePhase::Other,    StatePhase::Handshake};
constexpr StatePhase kLegendOrder[kStatePhaseCount] = {
    StatePhase::Handshake, StatePhase::Established, StatePhase::Closing,
    StatePhase::TimeWait,  StatePhase::Listen,      StatePhase::Other};
} // namespace

TimelineWidget::TimelineWidget(QWidget *parent)
    : QCustomPlot(parent), m_layout(std::make_shared<TimelineLayout>()),
      m_rowTicker(QSharedPointer<RowLabelTicker>::create()),
      m_markers(std::make_shared<TimelineMarkers>())
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
    xAxis->setTicker(QSharedPointer<SecondsTicker>::create());
    updateTimeAxisLabel();

    addLayer(QStringLiteral("band"), layer(QStringLiteral("main")), QCustomPlot::limBelow);
    addLayer(QStringLiteral("highlight"), layer(QStringLiteral("main")), QCustomPlot::limAbove);

    // Plottables are registered with and owned by this QCustomPlot.
    for (StatePhase phase : kDrawOrder)
        m_plottables[int(phase)] = new TimelinePlottable(xAxis, yAxis, phase);
    // Created after the bars so they are drawn on top of them.
    for (int k = 0; k < kTimelineMarkerKindCount; ++k) {
        m_markerPlottables[k] = new TimelineMarkerPlottable(xAxis, yAxis, TimelineMarkerKind(k));
        m_markerPlottables[k]->setMarkers(m_markers);
    }

    // Legend in its own row above the chart so it never covers bars.
    legend->clearItems();
    for (StatePhase phase : kLegendOrder)
        m_plottables[int(phase)]->addToLegend(legend);
    for (TimelineMarkerPlottable *p : m_markerPlottables)
        p->removeFromLegend(legend); // listed once markers exist
    fixLegendItemMargins();
    legend->setVisible(true);
    legend->setFillOrder(QCPLegend::foColumnsFirst);
    legend->setBorderPen(Qt::NoPen);
    legend->setBrush(Qt::NoBrush);
    legend->setIconSize(18, 10);
    legend->setRowSpacing(0);
    legend->setColumnSpacing(18);
    legend->setMargins(QMargins(8, 4, 8, 7)); // room for the underscores in state names
    // The legend gets a row of its own above the chart, in a sub-grid with a spacer column so
    // it stays compact and left-aligned without narrowing the chart's column.
    axisRect()->insetLayout()->take(legend);
    plotLayout()->insertRow(0);
    auto *legendRow = new QCPLayoutGrid; // owned by the plot layout
    plotLayout()->addElement(0, 0, legendRow);
    legendRow->addElement(0, 0, legend);
    legendRow->addElement(0, 1, new QCPLayoutElement(this));
    legendRow->setColumnStretchFactor(0, 0.001);
    legendRow->setMargins(QMargins(0, 0, 0, 0));
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

    m_emptyText = new QCPItemText(this);
    m_emptyText->position->setType(QCPItemPosition::ptAxisRectRatio);
    m_emptyText->position->setCoords(0.5, 0.45);
    m_emptyText->setPositionAlignment(Qt::AlignCenter);
    m_emptyText->setColor(QColor(0x70, 0x70, 0x70));
    QFont emptyFont = font();
    emptyFont.setPointSizeF(emptyFont.pointSizeF() * 1.15);
    m_emptyText->setFont(emptyFont);
    m_emptyText->setText(tr("No connections"));
    m_emptyText->setSelectable(false);

    m_rowScroll = new QScrollBar(Qt::Vertical, this);
    m_rowScroll->hide();
    m_rowScroll->setToolTip(tr("Scroll connections (or drag the chart; Ctrl+wheel zooms rows)"));
    axisRect()->setMinimumMargins(QMargins(0, 0, m_rowScroll->sizeHint().width() + 8, 0));
    connect(m_rowScroll, &QScrollBar::valueChanged, this, &TimelineWidget::onRowScrolled);
    connect(yAxis, qOverload<const QCPRange &>(&QCPAxis::rangeChanged), this,
            &TimelineWidget::syncRowScrollBar);
    connect(this, &QCustomPlot::afterLayout, this, &TimelineWidget::placeRowScrollBar);
    connect(this, &QCustomPlot::beforeReplot, this, &TimelineWidget::updateTickDensity);
    updateLegendSize();
    applyLayout(m_layout);
}

TimelineWidget::~TimelineWidget() = default;

void TimelineWidget::setConnections(const QVector<Connection> &ordered, qint64 originNs,
                                    qint64 endNs)
{
    m_connections = ordered;
    const bool moved = m_originNs != originNs;
    m_originNs = originNs;
    if (moved && !m_annotations.isEmpty())
        setAnnotations(QVector<Annotation>(m_annotations)); // their x is seconds since the origin
    if (moved && !m_alertMarks.isEmpty())
        setAlerts(QVector<Alert>(m_alertMarks));
    if (moved && m_packetLine)
        setPacketTime(m_packetTimeNs);
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
    m_followTime = m_followRows = true;
    m_markers->clear(); // markers belong to the connections shown
    updateMarkerLegend();
    if (m_packetLine)
        setPacketTime(0);
    setConnections({}, 0, 0);
}

void TimelineWidget::rebuild()
{
    applyLayout(std::make_shared<const TimelineLayout>(
        TimelineLayout::build(m_connections, m_originNs, m_endNs)));
}

void TimelineWidget::applyLayout(std::shared_ptr<const TimelineLayout> layout)
{
    m_layout = std::move(layout);
    for (TimelinePlottable *p : m_plottables)
        p->setLayout(m_layout);
    for (TimelineMarkerPlottable *p : m_markerPlottables)
        p->setLayout(m_layout);
    m_rowTicker->setLayout(m_layout);
    // "Other" only appears in the legend when such segments exist.
    TimelinePlottable *other = m_plottables[int(StatePhase::Other)];
    if (m_layout->byPhase[int(StatePhase::Other)].isEmpty())
        other->removeFromLegend(legend);
    else if (!legend->hasItemWithPlottable(other))
        other->addToLegend(legend);
    fixLegendItemMargins();
    updateLegendSize();
    m_emptyText->setVisible(m_layout->rows.isEmpty());
    updateSelectionItems();
    refollow();
}

void TimelineWidget::refollow()
{
    if (m_followTime)
        fitTime();
    if (m_followRows)
        fitRows(false);
    syncRowScrollBar();
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
    m_followTime = m_followRows = true;
    fitTime();
    fitRows(allRows);
}

void TimelineWidget::setEmptyText(const QString &text)
{
    if (m_emptyText->text() == text)
        return;
    m_emptyText->setText(text);
    replot(QCustomPlot::rpQueuedReplot);
}

void TimelineWidget::fitTime()
{
    if (m_layout->rows.isEmpty()) {
        xAxis->setRange(0, 10); // a sane empty axis instead of +-1e-4
        return;
    }
    const double span = m_layout->maxX - m_layout->minX;
    const double pad = std::max(span * 0.02, 1e-4);
    xAxis->setRange(m_layout->minX - pad, m_layout->maxX + pad);
}

void TimelineWidget::fitRows(bool allRows)
{
    updateLayout(); // the axis rect size decides how many rows fit
    int h = axisRect()->height();
    if (h <= 0)
        h = std::max(1, height() - 90);
    const int rows = std::max(1, int(m_layout->rows.size()));
    const int fatRows = std::max(1, int(h / kMaxRowPx));
    int shown = allRows ? rows : std::min(rows, readableRowCount());
    shown = std::max(shown, fatRows);
    yAxis->setRange(-0.5, shown - 0.5);
}

void TimelineWidget::fixLegendItemMargins()
{
    // The default bottom margin clips the underscores of SYN_SENT, TIME_WAIT, ...
    for (int i = 0; i < legend->itemCount(); ++i)
        if (QCPAbstractLegendItem *item = legend->item(i)) // wrapped grids have empty cells
            item->setMargins(QMargins(6, 2, 6, 5));
}

void TimelineWidget::updateLegendSize()
{
    wrapLegendToWidth(legend, width() - 16);
    // Compact and left-aligned instead of spread over the whole width.
    legend->setMaximumSize(QWIDGETSIZE_MAX, QWIDGETSIZE_MAX);
    const QSize hint = legend->minimumOuterSizeHint();
    legend->setMaximumSize(hint.width(), QWIDGETSIZE_MAX);
}

void TimelineWidget::syncRowScrollBar()
{
    const int rows = int(m_layout->rows.size());
    const QCPRange range = yAxis->range();
    const bool needed = rows > 0 && (range.lower > -0.5 + 1e-6 || range.upper < rows - 0.5 - 1e-6);
    m_rowScroll->setVisible(needed);
    if (!needed)
        return;
    const QSignalBlocker block(m_rowScroll);
    // Hundredths of a row so dragging the chart moves the handle smoothly.
    const int page = int(std::lround(range.size() * 100));
    m_rowScroll->setRange(0, std::max(0, rows * 100 - page));
    m_rowScroll->setPageStep(page);
    m_rowScroll->setSingleStep(100);
    m_rowScroll->setValue(int(std::lround((range.lower + 0.5) * 100)));
}

void TimelineWidget::placeRowScrollBar()
{
    const QRect r = axisRect()->rect();
    const int w = m_rowScroll->sizeHint().width();
    m_rowScroll->setGeometry(width() - w - 2, r.top(), w, r.height());
}

void TimelineWidget::onRowScrolled(int value)
{
    const double size = yAxis->range().size();
    const double lower = value / 100.0 - 0.5;
    m_followRows = false;
    yAxis->setRange(lower, lower + size);
    replot(QCustomPlot::rpQueuedReplot);
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
            m_followRows = false; // keep the selection in view on later live updates
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
    if (row < 0 || m_layout->rows.at(row).segmentCount == 0)
        return {-1, -1};
    const QVector<QPair<double, double>> spans = segmentPixelSpans(*m_layout, row, xAxis);
    const QRect rect = axisRect()->rect();
    const double x0 = std::max(spans.first().first, double(rect.left()));
    const double x1 = std::min(spans.last().second, double(rect.right()));
    const QPointF p((x0 + x1) / 2, yAxis->coordToPixel(row));
    if (x0 > x1 || !rect.contains(p.toPoint()))
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
    const TimelineRow &r = m_layout->rows.at(row);
    const QVector<QPair<double, double>> spans = segmentPixelSpans(*m_layout, row, xAxis);
    const double x = pos.x();
    int best = -1;
    double bestDist = tolerancePx;
    for (int i = 0; i < spans.size(); ++i) {
        const double dist = x < spans[i].first ? spans[i].first - x
                                               : (x > spans[i].second ? x - spans[i].second : 0.0);
        // Ties go to the later segment (drawn right of the earlier one when pixels are stacked).
        if (dist <= bestDist) {
            best = r.firstSegment + i;
            bestDist = dist;
        }
    }
    if (best >= 0)
        return {row, best};
    const double px0 = xAxis->coordToPixel(r.x0), px1 = xAxis->coordToPixel(r.x1);
    if (x >= px0 - tolerancePx && x <= px1 + tolerancePx)
        return {row, -1};
    return {-1, -1};
}

qint64 TimelineWidget::idAt(const QPoint &pos) const
{
    const auto [row, segment] = hitTest(pos, 4);
    Q_UNUSED(segment);
    return row >= 0 ? m_layout->rows.at(row).id : -1;
}

QString TimelineWidget::toolTipAt(const QPoint &pos) const
{
    const auto [row, segment] = hitTest(pos, 3);
    if (row < 0)
        return QString();
    // Markers within a few pixels of the cursor are named first: that is what the user points at.
    const double slackS =
        5.0 / std::max(std::abs(xAxis->coordToPixel(1) - xAxis->coordToPixel(0)), 1e-12);
    const double x = xAxis->pixelToCoord(pos.x());
    const qint64 id = m_layout->rows.at(row).id;
    const QString markers =
        timelineMarkerToolTip(*m_markers, id, m_originNs + qint64(std::floor((x - slackS) * 1e9)),
                              m_originNs + qint64(std::ceil((x + slackS) * 1e9)), m_originNs);
    const QString tip = toolTipFor(row, segment);
    return markers.isEmpty() ? tip : markers + QStringLiteral("<hr>") + tip;
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
        const bool lastOpen = c.isOpen() && segment == m_layout->rows.at(row).firstSegment +
                                                           m_layout->rows.at(row).segmentCount - 1;
        html +=
            QStringLiteral("<br><span style='color:%1'>■</span> <b>%2</b>: %3 → %4%5 (%6)")
                .arg(phaseColor(phaseOf(s.state)).name(), tcpStateName(s.state), fmt::wallTime(t0),
                     fmt::wallTime(t1), lastOpen ? QStringLiteral(" (still open)") : QString(),
                     fmt::durationMs((s.x1 - s.x0) * 1e3));
    }
    html +=
        QStringLiteral("<br>Lifetime %1%2 · close: %3")
            .arg(fmt::durationMs(c.durationMs(c.isOpen() ? m_endNs : 0)),
                 c.handshakeNs >= 0
                     ? QStringLiteral(" · handshake %1").arg(fmt::durationMs(c.handshakeNs / 1e6))
                     : QString(),
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
        if (!isChartClick(m_pressPos, event->pos()))
            m_followTime = m_followRows = false;
        QToolTip::hideText();
        return;
    }
    QString tip = alertToolTipAt(event->pos());
    if (tip.isEmpty())
        tip = toolTipAt(event->pos());
    if (!tip.isEmpty())
        QToolTip::showText(event->globalPosition().toPoint(), tip, this);
    else
        QToolTip::hideText();
}

void TimelineWidget::mouseReleaseEvent(QMouseEvent *event)
{
    const bool click = event->button() == Qt::LeftButton && isChartClick(m_pressPos, event->pos());
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
    fitAll();
    replot(QCustomPlot::rpQueuedReplot);
}

void TimelineWidget::wheelEvent(QWheelEvent *event)
{
    const bool rows = event->modifiers() & Qt::ControlModifier;
    axisRect()->setRangeZoom(rows ? Qt::Vertical : Qt::Horizontal);
    (rows ? m_followRows : m_followTime) = false;
    QCustomPlot::wheelEvent(event);
}

void TimelineWidget::resizeEvent(QResizeEvent *event)
{
    QCustomPlot::resizeEvent(event);
    updateLegendSize();
    refollow();
}

} // namespace tcpscope
