// SPDX-License-Identifier: GPL-3.0-or-later
#include "charts/seq_graph_widget.h"

#include "charts/chart_click.h"
#include "charts/seq_graph_data.h"
#include "charts/seq_graph_plottable.h"
#include "charts/timeline_plottable.h"
#include "util/format.h"

#include <QToolTip>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

namespace tcpscope {

namespace {
// Drawn bottom to top: lines under bars, problems over ordinary data, markers on top.
constexpr SeqBarKind kBarOrder[kSeqBarKindCount] = {
    SeqBarKind::Sack, SeqBarKind::Data, SeqBarKind::Problem, SeqBarKind::Retransmission};

} // namespace

struct SeqGraphWidget::Private
{
    Connection connection;
    bool haveConnection = false;
    qint64 originNs = 0;
    std::shared_ptr<SeqGraphData> data = std::make_shared<SeqGraphData>();
    std::array<SeqBarsPlottable *, kSeqBarKindCount> bars{}; // owned by QCustomPlot
    std::array<QCPGraph *, kSeqMarkKindCount> marks{};
    QCPGraph *acks = nullptr;
    QCPGraph *windows = nullptr;
    QCPGraph *highlight = nullptr;
    QCPTextElement *title = nullptr;
    QCPItemText *emptyText = nullptr;
    qint64 selected = 0;
    QPoint pressPos;
    // Auto-fit until the user zooms or pans, so live appends do not yank the view away.
    bool follow = true;
};

SeqGraphWidget::SeqGraphWidget(QWidget *parent)
    : QCustomPlot(parent), d(std::make_unique<Private>())
{
    setMouseTracking(true);
    setNoAntialiasingOnDrag(true);
    setPlottingHint(QCP::phCacheLabels, true);
    setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    axisRect()->setRangeDrag(Qt::Horizontal | Qt::Vertical);
    axisRect()->setRangeZoom(Qt::Horizontal | Qt::Vertical);

    xAxis->setTicker(QSharedPointer<SecondsTicker>::create());
    xAxis->grid()->setPen(QPen(QColor(0xdd, 0xdd, 0xdd), 0, Qt::DotLine));
    yAxis->setTicker(QSharedPointer<ByteTicker>::create());
    yAxis->grid()->setPen(QPen(QColor(0xdd, 0xdd, 0xdd), 0, Qt::DotLine));
    yAxis->setLabel(QStringLiteral("Relative sequence number (bytes)"));
    xAxis->setLabel(QStringLiteral("Seconds"));

    QPen windowPen(QColor(0xb8, 0x86, 0x0b), 1.2);
    d->windows = addGraph();
    d->windows->setName(QStringLiteral("Receive window (ACK + window)"));
    d->windows->setLineStyle(QCPGraph::lsStepLeft);
    d->windows->setPen(windowPen);
    d->acks = addGraph();
    d->acks->setName(QStringLiteral("ACK"));
    d->acks->setLineStyle(QCPGraph::lsStepLeft);
    d->acks->setPen(QPen(QColor(0x2e, 0x8b, 0x57), 1.2));
    for (SeqBarKind kind : kBarOrder) {
        d->bars[int(kind)] = new SeqBarsPlottable(xAxis, yAxis, kind);
        d->bars[int(kind)]->setData(d->data);
    }
    for (int k = 0; k < kSeqMarkKindCount; ++k) {
        const SeqMarkStyle s = seqMarkStyle(SeqMarkKind(k));
        QCPGraph *g = addGraph();
        g->setName(QLatin1String(s.label));
        g->setLineStyle(QCPGraph::lsNone);
        QPen pen(s.color, s.shape == QCPScatterStyle::ssCross ? 2.0 : 1.5);
        g->setScatterStyle(QCPScatterStyle(
            s.shape, pen, s.filled ? QBrush(s.color) : QBrush(Qt::NoBrush), s.size));
        d->marks[k] = g;
    }
    d->highlight = addGraph();
    d->highlight->setLineStyle(QCPGraph::lsLine);
    d->highlight->setPen(QPen(QColor(0x10, 0x10, 0x10, 140), 5, Qt::SolidLine, Qt::RoundCap));
    d->highlight->setScatterStyle(
        QCPScatterStyle(QCPScatterStyle::ssCircle, QPen(Qt::black, 2), Qt::NoBrush, 14));
    d->highlight->removeFromLegend();
    for (QCPAbstractPlottable *p : {static_cast<QCPAbstractPlottable *>(d->acks),
                                    static_cast<QCPAbstractPlottable *>(d->windows)})
        p->setSelectable(QCP::stNone);

    plotLayout()->insertRow(0);
    d->title = new QCPTextElement(
        this, QString(), QFont(font().family(), int(font().pointSizeF() * 1.1), QFont::Bold));
    plotLayout()->addElement(0, 0, d->title);
    legend->setVisible(true);
    legend->setBrush(QColor(255, 255, 255, 225));
    legend->setBorderPen(QPen(QColor(0xbb, 0xbb, 0xbb)));
    legend->setIconSize(22, 12);
    axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignLeft);

    d->emptyText = new QCPItemText(this);
    d->emptyText->position->setType(QCPItemPosition::ptAxisRectRatio);
    d->emptyText->position->setCoords(0.5, 0.45);
    d->emptyText->setPositionAlignment(Qt::AlignCenter);
    d->emptyText->setColor(QColor(0x70, 0x70, 0x70));
    d->emptyText->setText(tr("No packets for this connection"));
    d->emptyText->setSelectable(false);
    rebuild();
}

SeqGraphWidget::~SeqGraphWidget() = default;

const SeqGraphData &SeqGraphWidget::data() const
{
    return *d->data;
}
qint64 SeqGraphWidget::connectionId() const
{
    return d->haveConnection ? d->connection.id : 0;
}
qint64 SeqGraphWidget::selectedPacket() const
{
    return d->selected;
}
PacketDirection SeqGraphWidget::dataDirection() const
{
    return d->data->dataDirection();
}

void SeqGraphWidget::setConnection(const Connection &connection, const QVector<Packet> &packets,
                                   qint64 originNs)
{
    d->connection = connection;
    d->haveConnection = true;
    d->originNs = originNs;
    d->selected = 0;
    d->follow = true;
    quint64 payload[2] = {0, 0};
    for (const Packet &p : packets)
        if (p.connectionId == connection.id)
            payload[p.isOutgoing()] += p.payloadLen;
    d->data->reset(payload[0] > payload[1] ? PacketDirection::In : PacketDirection::Out, originNs);
    d->data->reserve(packets.size());
    for (const Packet &p : packets)
        if (p.connectionId == connection.id)
            d->data->add(p);
    d->data->finish();
    rebuild();
}

void SeqGraphWidget::appendPackets(const QVector<Packet> &packets)
{
    if (!d->haveConnection)
        return;
    const int before = d->data->packetCount();
    for (const Packet &p : packets)
        if (p.connectionId == d->connection.id)
            d->data->add(p);
    if (d->data->packetCount() == before)
        return;
    d->data->finish();
    rebuild();
}

void SeqGraphWidget::setDataDirection(PacketDirection direction)
{
    if (direction == d->data->dataDirection())
        return;
    const QVector<Packet> packets = d->data->packets();
    d->data->reset(direction, d->originNs);
    d->data->reserve(packets.size());
    for (const Packet &p : packets)
        d->data->add(p);
    d->data->finish();
    d->follow = true;
    rebuild();
}

void SeqGraphWidget::clear()
{
    d->connection = Connection();
    d->haveConnection = false;
    d->selected = 0;
    d->follow = true;
    d->data->reset(PacketDirection::Out, 0);
    rebuild();
}

void SeqGraphWidget::rebuild()
{
    refreshPlottables();
    updateLegend();
    updateTitle();
    updateSelectionItem();
    d->emptyText->setVisible(d->data->packetCount() == 0 || !d->data->hasExtent());
    d->emptyText->setText(d->haveConnection ? tr("No packets for this connection")
                                            : tr("No connection selected"));
    if (d->follow) {
        fitAll();
        return;
    }
    replot(QCustomPlot::rpQueuedReplot);
}

void SeqGraphWidget::refreshPlottables()
{
    const SeqGraphData &data = *d->data;
    const auto fill = [](QCPGraph *g, const QVector<SeqPoint> &points) {
        QVector<double> keys, values;
        keys.reserve(points.size());
        values.reserve(points.size());
        for (const SeqPoint &p : points) {
            keys.append(p.x);
            values.append(p.y);
        }
        g->setData(keys, values, true);
    };
    fill(d->acks, data.acks());
    fill(d->windows, data.windows());
    for (int k = 0; k < kSeqMarkKindCount; ++k)
        fill(d->marks[k], data.marks(SeqMarkKind(k)));
}

void SeqGraphWidget::updateLegend()
{
    // Only what this connection has: a clean transfer shows no retransmission entry.
    legend->clearItems();
    const auto add = [this](QCPAbstractPlottable *p, bool has) {
        if (has)
            p->addToLegend(legend);
    };
    for (SeqBarKind kind :
         {SeqBarKind::Data, SeqBarKind::Retransmission, SeqBarKind::Problem, SeqBarKind::Sack})
        add(d->bars[int(kind)], d->bars[int(kind)]->barCount() > 0);
    add(d->acks, !d->data->acks().isEmpty());
    add(d->windows, !d->data->windows().isEmpty());
    for (int k = 0; k < kSeqMarkKindCount; ++k)
        add(d->marks[k], !d->data->marks(SeqMarkKind(k)).isEmpty());
    legend->setVisible(legend->itemCount() > 0);
}

void SeqGraphWidget::updateTitle()
{
    if (!d->haveConnection) {
        d->title->setText(tr("Sequence graph"));
        xAxis->setLabel(QStringLiteral("Seconds"));
        return;
    }
    const Connection &c = d->connection;
    const QString local = endpointText(c.localAddr, c.localPort);
    const QString remote = endpointText(c.remoteAddr, c.remotePort);
    const bool out = d->data->dataDirection() == PacketDirection::Out;
    d->title->setText(
        tr("Sequence graph of #%1 %2 (pid %3) · data %4 → %5 (%6)")
            .arg(c.id)
            .arg(c.comm)
            .arg(c.pid)
            .arg(out ? local : remote, out ? remote : local,
                 out ? tr("sent by the local socket") : tr("received by the local socket")));
    xAxis->setLabel(d->originNs > 0
                        ? QStringLiteral("Seconds since %1").arg(fmt::wallDateTime(d->originNs))
                        : QStringLiteral("Seconds"));
}

bool SeqGraphWidget::followsData() const
{
    return d->follow;
}

void SeqGraphWidget::fitAll()
{
    d->follow = true;
    const SeqGraphData &data = *d->data;
    if (!data.hasExtent()) {
        xAxis->setRange(0, 1);
        yAxis->setRange(0, 1000);
        replot(QCustomPlot::rpQueuedReplot);
        return;
    }
    const double xSpan = data.maxX() - data.minX();
    const double xPad = std::max(xSpan * 0.03, 1e-5);
    xAxis->setRange(data.minX() - xPad, data.maxX() + xPad);
    // Show the window line a little above the data, but do not let a multi-MiB window squash
    // a small transfer: it leaves the top of the chart and a zoom-out shows it.
    double ySpan = data.maxY() - data.minY();
    const double yTop = std::max(
        data.maxY(), std::min(data.maxWindowY(), data.maxY() + 0.25 * std::max(ySpan, 1.0)));
    ySpan = yTop - data.minY();
    const double yPad = std::max(ySpan * 0.04, 2.0);
    yAxis->setRange(data.minY() - yPad, yTop + yPad);
    replot(QCustomPlot::rpQueuedReplot);
}

void SeqGraphWidget::selectPacket(qint64 packetId)
{
    d->selected = packetId;
    updateSelectionItem();
    if (const std::optional<SeqBar> place = d->data->placeOf(packetId)) {
        // Bring it into view without changing the zoom.
        const QCPRange xr = xAxis->range(), yr = yAxis->range();
        if (!xr.contains(place->x)) {
            d->follow = false;
            xAxis->setRange(place->x - xr.size() / 2, place->x + xr.size() / 2);
        }
        const double mid = (place->y0 + place->y1) / 2;
        if (!yr.contains(mid)) {
            d->follow = false;
            yAxis->setRange(mid - yr.size() / 2, mid + yr.size() / 2);
        }
    }
    replot(QCustomPlot::rpQueuedReplot);
}

void SeqGraphWidget::updateSelectionItem()
{
    d->highlight->data()->clear();
    if (const std::optional<SeqBar> place = d->data->placeOf(d->selected)) {
        d->highlight->addData(place->x, place->y0);
        if (place->y1 != place->y0)
            d->highlight->addData(place->x, place->y1);
    }
}

qint64 SeqGraphWidget::packetAt(const QPoint &pos, double tolerancePx) const
{
    if (!axisRect()->rect().adjusted(-2, -2, 2, 2).contains(pos) || !d->data->hasExtent())
        return 0;
    const SeqGraphData &data = *d->data;
    const double x0 = xAxis->pixelToCoord(pos.x() - tolerancePx);
    const double x1 = xAxis->pixelToCoord(pos.x() + tolerancePx);
    qint64 best = 0;
    double bestDist = tolerancePx;
    const auto consider = [&](qint64 id, double x, double y0, double y1) {
        const double px = xAxis->coordToPixel(x);
        const double pTop = std::min(yAxis->coordToPixel(y0), yAxis->coordToPixel(y1));
        const double pBottom = std::max(yAxis->coordToPixel(y0), yAxis->coordToPixel(y1));
        const double dy =
            pos.y() < pTop ? pTop - pos.y() : (pos.y() > pBottom ? pos.y() - pBottom : 0.0);
        const double dist = std::hypot(px - pos.x(), dy);
        if (dist <= bestDist) {
            best = id;
            bestDist = dist;
        }
    };
    const auto byX = [](const auto &v, double x) { return v.x < x; };
    // Points first, bars last: on a tie the segment (what a click usually aims at) wins.
    for (const QVector<SeqPoint> *points : {&data.windows(), &data.acks()}) {
        for (auto it = std::lower_bound(points->cbegin(), points->cend(), x0, byX);
             it != points->cend() && it->x <= x1; ++it)
            consider(it->packetId, it->x, it->y, it->y);
    }
    for (int k = 0; k < kSeqMarkKindCount; ++k) {
        const QVector<SeqPoint> &points = data.marks(SeqMarkKind(k));
        for (auto it = std::lower_bound(points.cbegin(), points.cend(), x0, byX);
             it != points.cend() && it->x <= x1; ++it)
            consider(it->packetId, it->x, it->y, it->y);
    }
    for (SeqBarKind kind : kBarOrder) {
        const QVector<SeqBar> &bars = data.bars(kind);
        for (auto it = std::lower_bound(bars.cbegin(), bars.cend(), x0, byX);
             it != bars.cend() && it->x <= x1; ++it)
            consider(it->packetId, it->x, it->y0, it->y1);
    }
    return best;
}

QPoint SeqGraphWidget::pixelOf(qint64 packetId) const
{
    const std::optional<SeqBar> place = d->data->placeOf(packetId);
    if (!place)
        return {-1, -1};
    const QPointF p(xAxis->coordToPixel(place->x),
                    yAxis->coordToPixel((place->y0 + place->y1) / 2));
    if (!axisRect()->rect().contains(p.toPoint()))
        return {-1, -1};
    return p.toPoint();
}

QString SeqGraphWidget::toolTipAt(const QPoint &pos) const
{
    const qint64 id = packetAt(pos, 5);
    return id ? toolTipFor(id) : QString();
}

QString SeqGraphWidget::toolTipFor(qint64 packetId) const
{
    return seqPacketToolTip(*d->data, packetId, d->originNs);
}

void SeqGraphWidget::mousePressEvent(QMouseEvent *event)
{
    d->pressPos = event->pos();
    QCustomPlot::mousePressEvent(event);
}

void SeqGraphWidget::mouseMoveEvent(QMouseEvent *event)
{
    QCustomPlot::mouseMoveEvent(event);
    if (event->buttons() != Qt::NoButton) {
        if (!isChartClick(d->pressPos, event->pos()))
            d->follow = false;
        QToolTip::hideText();
        return;
    }
    const QString tip = toolTipAt(event->pos());
    if (!tip.isEmpty())
        QToolTip::showText(event->globalPosition().toPoint(), tip, this);
    else
        QToolTip::hideText();
}

void SeqGraphWidget::mouseReleaseEvent(QMouseEvent *event)
{
    const bool click = event->button() == Qt::LeftButton && isChartClick(d->pressPos, event->pos());
    QCustomPlot::mouseReleaseEvent(event);
    if (!click)
        return;
    const qint64 id = packetAt(event->pos());
    if (id == 0)
        return;
    selectPacket(id);
    emit packetClicked(id);
}

void SeqGraphWidget::mouseDoubleClickEvent(QMouseEvent *event)
{
    QCustomPlot::mouseDoubleClickEvent(event);
    fitAll();
}

void SeqGraphWidget::wheelEvent(QWheelEvent *event)
{
    // Ctrl: time only, Shift: sequence only, plain wheel: both (zooming into a corner).
    Qt::Orientations o = Qt::Horizontal | Qt::Vertical;
    if (event->modifiers() & Qt::ControlModifier)
        o = Qt::Horizontal;
    else if (event->modifiers() & Qt::ShiftModifier)
        o = Qt::Vertical;
    axisRect()->setRangeZoom(o);
    d->follow = false;
    QCustomPlot::wheelEvent(event);
}

void SeqGraphWidget::resizeEvent(QResizeEvent *event)
{
    QCustomPlot::resizeEvent(event);
    if (d->follow)
        fitAll();
}

} // namespace tcpscope
