// SPDX-License-Identifier: GPL-3.0-or-later
#include "views/overview_chart.h"

#include <QHelpEvent>
#include <QToolTip>

#include <algorithm>

namespace tcpscope {

namespace {
constexpr int kMaxLabelChars = 26;

QString elided(const QString &text)
{
    return text.size() <= kMaxLabelChars ? text
                                         : text.left(kMaxLabelChars - 1) + QStringLiteral("…");
}

QString secondsText(double s)
{
    return QString::number(s, 'g', 6);
}

// Byte axes read "2 GB", not "2·10^9".
class BytesTicker : public QCPAxisTicker
{
protected:
    QString getTickLabel(double tick, const QLocale &, QChar, int) override
    {
        return overviewBytesText(tick);
    }
};
} // namespace

OverviewChart::OverviewChart(const QString &title, QWidget *parent)
    : QCustomPlot(parent), m_marks(this, TimeMarks::Style())
{
    setMinimumSize(220, 150);
    plotLayout()->insertRow(0);
    m_titleText = title;
    m_title =
        new QCPTextElement(this, title, QFont(font().family(), font().pointSize(), QFont::Bold));
    plotLayout()->addElement(0, 0, m_title);
    setInteractions(QCP::iSelectPlottables);
    QFont small = font();
    small.setPointSizeF(std::max(6.5, small.pointSizeF() - 1.5));
    for (QCPAxis *axis : {xAxis, yAxis}) {
        axis->setTickLabelFont(small);
        axis->setLabelFont(small);
    }
    legend->setFont(small);
    legend->setIconSize(10, 8);
    legend->setRowSpacing(0);
    legend->setBrush(QColor(255, 255, 255, 210));
    axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);
    connect(
        this, &QCustomPlot::plottableClick, this,
        [this](QCPAbstractPlottable *p, int index, QMouseEvent *) { onPlottableClick(p, index); });
}

void OverviewChart::reset(const QString &emptyText)
{
    clearPlottables();
    clearItems();
    m_marks.forget(); // clearItems deleted their items
    m_targets.clear();
    m_order.clear();
    delete m_group;
    m_group = nullptr;
    m_empty = nullptr;
    m_emptyText = emptyText;
    m_horizontal = false;
    m_bytes = false;
    m_clicked = false;
    m_categories = 0;
    legend->setVisible(false);
    for (QCPAxis *axis : {xAxis, yAxis}) {
        axis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
        axis->setTickLabelRotation(0);
        axis->setRangeReversed(false);
        axis->setLabel(QString());
        axis->grid()->setVisible(true);
    }
}

QCPBars *OverviewChart::addTimeBars(const QVector<OverviewBar> &bars, double binSeconds,
                                    const QString &name, const QColor &color, const QString &what)
{
    auto *plot = new QCPBars(xAxis, yAxis);
    plot->setName(name);
    plot->setPen(Qt::NoPen);
    plot->setBrush(color);
    plot->setSelectable(QCP::stSingleData);
    plot->selectionDecorator()->setBrush(color.darker(160));
    Target target;
    target.what = what;
    target.binSeconds = binSeconds;
    QVector<double> keys, values;
    for (int i = 0; i < bars.size(); ++i) {
        keys.append((i + 0.5) * binSeconds);
        values.append(bars[i].value);
        target.ids.append(bars[i].ids);
    }
    plot->setData(keys, values, true);
    if (!m_order.isEmpty()) { // a second series: side by side within the bin
        if (!m_group) {
            m_group = new QCPBarsGroup(this);
            m_group->setSpacingType(QCPBarsGroup::stAbsolute);
            m_group->setSpacing(0);
            if (auto *first = qobject_cast<QCPBars *>(m_order.first()))
                m_group->append(first);
        }
        m_group->append(plot);
    }
    m_targets.insert(plot, target);
    m_order.append(plot);
    const double share = m_group ? 0.9 / m_group->size() : 0.9;
    for (QCPAbstractPlottable *p : m_order)
        if (auto *b = qobject_cast<QCPBars *>(p))
            b->setWidth(binSeconds * share);
    return plot;
}

QCPGraph *OverviewChart::addTimeLine(const QVector<double> &values, double binSeconds,
                                     const QString &name, const QColor &color,
                                     std::function<QVector<qint64>(int)> idsOf, const QString &what,
                                     std::function<std::pair<int, int>(qint64)> binsOf)
{
    QCPGraph *graph = addGraph(xAxis, yAxis);
    graph->setName(name);
    graph->setPen(QPen(color, 1.6));
    graph->setBrush(QColor(color.red(), color.green(), color.blue(), 40));
    graph->setLineStyle(QCPGraph::lsStepCenter);
    graph->setSelectable(QCP::stSingleData);
    graph->selectionDecorator()->setScatterStyle(
        QCPScatterStyle(QCPScatterStyle::ssCircle, color.darker(150), 6));
    QVector<double> keys;
    for (int i = 0; i < values.size(); ++i)
        keys.append((i + 0.5) * binSeconds);
    graph->setData(keys, values, true);
    Target target;
    target.what = what;
    target.binSeconds = binSeconds;
    target.idsOf = std::move(idsOf);
    target.binsOf = std::move(binsOf);
    m_targets.insert(graph, target);
    m_order.append(graph);
    return graph;
}

QCPBars *OverviewChart::addCategoryBars(const QVector<OverviewBar> &bars, bool horizontal,
                                        const QColor &color, const QString &valueAxisLabel,
                                        const std::function<QString(double)> &valueText,
                                        const QString &what)
{
    m_horizontal = horizontal;
    m_categories = int(bars.size());
    QCPAxis *keyAxis = horizontal ? yAxis : xAxis;
    QCPAxis *valueAxis = horizontal ? xAxis : yAxis;
    auto *plot = new QCPBars(keyAxis, valueAxis);
    plot->setPen(Qt::NoPen);
    plot->setBrush(color);
    plot->setWidth(0.75);
    plot->setSelectable(QCP::stSingleData);
    plot->selectionDecorator()->setBrush(color.darker(160));
    auto ticker = QSharedPointer<QCPAxisTickerText>::create();
    Target target;
    target.what = what;
    QVector<double> keys, values;
    for (int i = 0; i < bars.size(); ++i) {
        keys.append(i);
        values.append(bars[i].value);
        ticker->addTick(i, elided(bars[i].label));
        target.ids.append(bars[i].ids);
        target.labels.append(bars[i].label);
    }
    plot->setData(keys, values, true);
    keyAxis->setTicker(ticker);
    keyAxis->grid()->setVisible(false);
    valueAxis->setLabel(valueAxisLabel);
    m_bytes = valueText && valueText(1000) == overviewBytesText(1000);
    if (m_bytes)
        valueAxis->setTicker(QSharedPointer<BytesTicker>::create());
    if (horizontal) {
        keyAxis->setRangeReversed(true); // rank 1 on top
        for (int i = 0; i < bars.size(); ++i) {
            auto *text = new QCPItemText(this);
            text->setClipToAxisRect(false);
            text->position->setAxes(xAxis, yAxis);
            text->position->setCoords(bars[i].value, i);
            text->setPositionAlignment(Qt::AlignLeft | Qt::AlignVCenter);
            text->setPadding(QMargins(4, 0, 0, 0));
            text->setText(valueText ? valueText(bars[i].value) : QString::number(bars[i].value));
            text->setFont(xAxis->tickLabelFont());
            text->setSelectable(false);
        }
        valueAxis->setTickLabels(true);
    } else if (bars.size() > 4) {
        keyAxis->setTickLabelRotation(-35);
    }
    m_targets.insert(plot, target);
    m_order.append(plot);
    return plot;
}

void OverviewChart::setTimeAxis(double seconds, const QString &valueLabel)
{
    xAxis->setLabel(tr("seconds since capture start"));
    xAxis->setRange(0, std::max(seconds, 1.0));
    yAxis->setLabel(valueLabel);
}

void OverviewChart::finish()
{
    bool any = false;
    double maxValue = 0;
    for (QCPAbstractPlottable *p : m_order) {
        bool found = false;
        const QCPRange r = p->getValueRange(found);
        if (found) {
            maxValue = std::max(maxValue, r.upper);
            any = any || r.upper > 0;
        }
    }
    if (m_categories > 0) {
        QCPAxis *keyAxis = m_horizontal ? yAxis : xAxis;
        QCPAxis *valueAxis = m_horizontal ? xAxis : yAxis;
        keyAxis->setRange(-0.6, std::max(m_categories, 1) - 0.4);
        // Room right of the longest bar for its value text.
        valueAxis->setRange(0, std::max(1.0, maxValue * (m_horizontal ? 1.45 : 1.12)));
    } else {
        yAxis->setRange(0, std::max(1.0, maxValue * 1.12));
    }
    // Whole counts: no 2.5 ticks on a count axis.
    QCPAxis *countAxis = m_horizontal ? xAxis : yAxis;
    if (!m_bytes && maxValue < 30 &&
        qSharedPointerDynamicCast<QCPAxisTickerText>(countAxis->ticker()).isNull()) {
        auto fixed = QSharedPointer<QCPAxisTickerFixed>::create();
        fixed->setTickStep(1);
        fixed->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
        countAxis->setTicker(fixed);
    }
    legend->setVisible(m_order.size() > 1 && any);
    if (!any) {
        m_empty = new QCPItemText(this);
        m_empty->position->setType(QCPItemPosition::ptAxisRectRatio);
        m_empty->position->setCoords(0.5, 0.5);
        m_empty->setText(m_emptyText);
        m_empty->setColor(QColor(110, 110, 110));
        m_empty->setSelectable(false);
    }
    replot(QCustomPlot::rpQueuedReplot);
}

void OverviewChart::setTimeMarks(const QVector<TimeMark> &marks)
{
    m_marks.set(marks, xAxis->tickLabelFont());
}

bool OverviewChart::event(QEvent *event)
{
    if (event->type() == QEvent::ToolTip && !m_marks.isEmpty()) {
        const QString tip = m_marks.toolTipAt(static_cast<QHelpEvent *>(event)->pos());
        if (!tip.isEmpty()) {
            QToolTip::showText(static_cast<QHelpEvent *>(event)->globalPos(), tip, this);
            return true;
        }
    }
    return QCustomPlot::event(event);
}

QString OverviewChart::labelFor(const Target &target, int index) const
{
    if (index < target.labels.size())
        return QStringLiteral("%1: %2").arg(target.what, target.labels.at(index));
    if (target.binSeconds > 0) {
        const double from = index * target.binSeconds;
        return tr("%1 at %2–%3 s")
            .arg(target.what, secondsText(from), secondsText(from + target.binSeconds));
    }
    return target.what;
}

void OverviewChart::highlightConnection(qint64 id)
{
    if (id <= 0 && m_clicked)
        return;
    m_clicked = false;
    for (QCPAbstractPlottable *p : std::as_const(m_order)) {
        const Target &target = m_targets[p];
        QCPDataSelection selection;
        if (id > 0 && target.binsOf) {
            const auto [first, last] = target.binsOf(id);
            if (first <= last)
                selection.addDataRange(QCPDataRange(first, last + 1), false);
        } else if (id > 0) {
            for (int i = 0; i < target.ids.size(); ++i)
                if (target.ids.at(i).contains(id))
                    selection.addDataRange(QCPDataRange(i, i + 1), false);
        }
        selection.simplify();
        // A click still selects one bar or point; the highlight may cover several.
        p->setSelectable(QCP::stMultipleDataRanges);
        p->setSelection(selection);
    }
    replot(QCustomPlot::rpQueuedReplot);
}

QVector<int> OverviewChart::highlighted(int plottableIndex) const
{
    QVector<int> indexes;
    if (plottableIndex < 0 || plottableIndex >= m_order.size())
        return indexes;
    for (const QCPDataRange &range : m_order[plottableIndex]->selection().dataRanges())
        for (int i = range.begin(); i < range.end(); ++i)
            indexes.append(i);
    return indexes;
}

bool OverviewChart::activate(int plottableIndex, int index)
{
    if (plottableIndex < 0 || plottableIndex >= m_order.size())
        return false;
    const Target &target = m_targets.value(m_order[plottableIndex]);
    QVector<qint64> ids = target.idsOf ? target.idsOf(index) : target.ids.value(index);
    if (ids.isEmpty())
        return false; // nothing to filter to (an empty bin, or only unjoined records)
    emit activated(QSet<qint64>(ids.cbegin(), ids.cend()), labelFor(target, index));
    return true;
}

void OverviewChart::onPlottableClick(QCPAbstractPlottable *plottable, int dataIndex)
{
    m_clicked = true;
    activate(int(m_order.indexOf(plottable)), dataIndex);
}

} // namespace tcpscope
