// SPDX-License-Identifier: GPL-3.0-or-later
#include "charts/chart_actions.h"

#include "charts/metrics_widget.h"
#include "charts/seq_graph_data.h"
#include "charts/seq_graph_widget.h"
#include "charts/timeline_widget.h"
#include "dialogs/chart_export_dialog.h"
#include "main_window.h"
#include "session/session.h"
#include "views/connection_detail_view.h"
#include "views/overview_chart.h"
#include "views/overview_dashboard.h"
#include "views/packet_inspector.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QDir>
#include <QMenu>
#include <QStatusBar>
#include <QTabWidget>

namespace tcpscope {

namespace {
const QString kOverviewPrefix = QStringLiteral("overview:");

bool metricsChartOf(const QString &chart, MetricsChart *out)
{
    return metricsChartFromName(chart, out);
}
} // namespace

ChartActions::ChartActions(MainWindow *window) : QObject(window), m_window(window)
{
    m_exportAction = new QAction(QIcon::fromTheme(QStringLiteral("document-export")),
                                 tr("Export &Chart…"), this);
    m_exportAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_E));
    m_exportAction->setToolTip(tr("Write a chart as PNG, SVG or PDF, as it is shown (zoom, "
                                  "rows, selected connection)"));
    connect(m_exportAction, &QAction::triggered, this, [this] { openExportDialog(); });
    install(window->timeline());
    install(window->inspector()->seqGraph());
    install(window->detailView()->metrics());
    for (const QString &name : OverviewDashboard::chartNames())
        install(window->overview()->chart(name));
    connect(window, &MainWindow::sessionOpened, this, &ChartActions::updateAction);
    updateAction();
}

ChartActions::~ChartActions() = default;

ChartExportDialog *ChartActions::dialog() const
{
    return m_dialog.data();
}

void ChartActions::install(QCustomPlot *widget)
{
    if (!widget)
        return;
    widget->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(widget, &QWidget::customContextMenuRequested, this, [this, widget](const QPoint &pos) {
        if (QMenu *menu = contextMenu(widget, pos))
            menu->popup(widget->mapToGlobal(pos));
    });
}

void ChartActions::updateAction()
{
    // The timeline fills a moment after a session opened: a session with connections counts.
    const std::shared_ptr<const Session> session = m_window->session();
    m_exportAction->setEnabled((session && session->connectionCount() > 0) ||
                               !availableCharts().isEmpty());
}

QCustomPlot *ChartActions::widgetOf(const QString &chart) const
{
    MetricsChart metrics;
    if (chart == QLatin1String("timeline"))
        return m_window->timeline();
    if (chart == QLatin1String("seq"))
        return m_window->inspector()->seqGraph();
    if (metricsChartOf(chart, &metrics))
        return m_window->detailView()->metrics();
    if (chart.startsWith(kOverviewPrefix))
        return m_window->overview()->chart(chart.mid(kOverviewPrefix.size()));
    return nullptr;
}

bool ChartActions::hasContent(const QString &chart) const
{
    const std::shared_ptr<const Session> session = m_window->session();
    if (!session)
        return false;
    MetricsChart metrics;
    if (chart == QLatin1String("timeline"))
        return m_window->timeline()->barCount() > 0;
    if (chart == QLatin1String("seq")) {
        const SeqGraphWidget *seq = m_window->inspector()->seqGraph();
        return seq->connectionId() > 0 && seq->data().hasExtent();
    }
    if (metricsChartOf(chart, &metrics)) {
        const MetricsWidget *widget = m_window->detailView()->metrics();
        if (!m_window->detailView()->showsCharts())
            return false;
        for (const ConnectionMetrics &m : widget->connections())
            if (m.hasSamples())
                return true;
        return false;
    }
    if (chart == QLatin1String("overview") || chart.startsWith(kOverviewPrefix))
        return session->connectionCount() > 0 && isExportableChart(chart);
    return false;
}

QString ChartActions::labelOf(const QString &chart) const
{
    MetricsChart metrics;
    if (chart == QLatin1String("timeline"))
        return tr("Lifecycle timeline");
    if (chart == QLatin1String("seq"))
        return tr("Sequence graph (connection %1)")
            .arg(m_window->inspector()->seqGraph()->connectionId());
    if (metricsChartOf(chart, &metrics)) {
        const ChartRequest request = requestFor(chart, false);
        const int n = 1 + int(request.connectionIds.size());
        return n > 1 ? tr("%1 (%2 connections)").arg(metricsChartTitle(metrics)).arg(n)
                     : tr("%1 (connection %2)")
                           .arg(metricsChartTitle(metrics))
                           .arg(request.connectionId);
    }
    if (chart == QLatin1String("overview"))
        return tr("Session overview (all charts)");
    if (chart.startsWith(kOverviewPrefix)) {
        const OverviewChart *c = m_window->overview()->chart(chart.mid(kOverviewPrefix.size()));
        return c ? tr("Overview: %1").arg(c->title()) : chart;
    }
    return chart;
}

bool ChartActions::isZoomed(const QString &chart) const
{
    MetricsChart metrics;
    if (chart == QLatin1String("timeline"))
        return !m_window->timeline()->followsTime() || !m_window->timeline()->followsRows();
    if (chart == QLatin1String("seq"))
        return !m_window->inspector()->seqGraph()->followsData();
    if (metricsChartOf(chart, &metrics))
        return m_window->detailView()->metrics()->hasUserRange();
    return false; // the overview shows the whole session
}

QVector<ChartChoice> ChartActions::availableCharts() const
{
    QStringList order{QStringLiteral("timeline"), QStringLiteral("seq")};
    for (MetricsChart chart : MetricsWidget::allCharts())
        order << metricsChartName(chart);
    order << QStringLiteral("overview");
    for (const QString &name : OverviewDashboard::chartNames())
        order << kOverviewPrefix + name;
    QVector<ChartChoice> choices;
    for (const QString &chart : std::as_const(order))
        if (hasContent(chart))
            choices.append({chart, labelOf(chart), isZoomed(chart)});
    return choices;
}

QString ChartActions::currentChart() const
{
    QWidget *tab = m_window->lowerTabs()->currentWidget();
    QStringList candidates;
    if (tab == m_window->inspector() &&
        m_window->inspector()->tabs()->currentWidget() == m_window->inspector()->seqGraph())
        candidates << QStringLiteral("seq");
    else if (tab == m_window->detailView())
        candidates << QStringLiteral("rtt");
    else if (tab == m_window->overview())
        candidates << QStringLiteral("overview");
    candidates << QStringLiteral("timeline");
    for (const QString &chart : std::as_const(candidates))
        if (hasContent(chart))
            return chart;
    return QString();
}

ChartRequest ChartActions::requestFor(const QString &chart, bool keepZoom) const
{
    ChartRequest request;
    request.chart = chart;
    const TimelineWidget *timeline = m_window->timeline();
    // Every view of the window shares the timeline's time axis.
    request.originNs = timeline->originNs();
    request.endNs = timeline->endNs();
    MetricsChart metrics;
    if (chart == QLatin1String("timeline")) {
        for (const TimelineRow &row : timeline->layout().rows)
            request.connectionIds.append(row.id);
        request.selectedId = timeline->selectedId();
        if (keepZoom && !timeline->followsTime())
            request.xRange =
                ChartRange{timeline->xAxis->range().lower, timeline->xAxis->range().upper};
        if (keepZoom && !timeline->followsRows())
            request.yRange =
                ChartRange{timeline->yAxis->range().lower, timeline->yAxis->range().upper};
    } else if (chart == QLatin1String("seq")) {
        const SeqGraphWidget *seq = m_window->inspector()->seqGraph();
        request.connectionId = seq->connectionId();
        request.direction = seq->dataDirection();
        request.selectedId = seq->selectedPacket();
        if (keepZoom && !seq->followsData()) {
            request.xRange = ChartRange{seq->xAxis->range().lower, seq->xAxis->range().upper};
            request.yRange = ChartRange{seq->yAxis->range().lower, seq->yAxis->range().upper};
        }
    } else if (metricsChartOf(chart, &metrics)) {
        const MetricsWidget *widget = m_window->detailView()->metrics();
        // The first connection with samples is drawn in the first colour, like on screen.
        for (const ConnectionMetrics &m : widget->connections()) {
            if (request.connectionId == 0 && m.hasSamples())
                request.connectionId = m.connection.id;
            else
                request.connectionIds.append(m.connection.id);
        }
        if (keepZoom && widget->hasUserRange())
            request.xRange = ChartRange{widget->timeRange().lower, widget->timeRange().upper};
    }
    return request;
}

QSize ChartActions::screenSize(const QString &chart) const
{
    QSize size;
    MetricsChart metrics;
    if (chart == QLatin1String("overview")) {
        size = m_window->overview()->size();
    } else if (metricsChartOf(chart, &metrics)) {
        // One chart of the stack: the width of the stack, the height of its chart plus the
        // legend and time axis the export adds.
        const MetricsWidget *widget = m_window->detailView()->metrics();
        const QCPAxisRect *rect = widget->chartRect(metrics);
        size = QSize(widget->width(), std::max(300, (rect ? rect->outerRect().height() : 0) + 110));
    } else if (const QCustomPlot *widget = widgetOf(chart)) {
        size = widget->size();
    }
    // A chart never shown (its tab not opened yet) has no useful size of its own.
    if (size.width() < 200 || size.height() < 120)
        size = QSize(1600, 900);
    return size;
}

double ChartActions::screenScale(const QString &chart) const
{
    const QWidget *widget = chart == QLatin1String("overview")
                                ? m_window->overview()
                                : static_cast<QWidget *>(widgetOf(chart));
    return widget ? widget->devicePixelRatioF() : 1.0;
}

ChartExportDialog *ChartActions::openExportDialog(const QString &chart)
{
    if (m_dialog)
        m_dialog->deleteLater();
    QVector<ChartChoice> choices = availableCharts();
    if (choices.isEmpty()) {
        emit failed(tr("There is no chart to export: open a session first"));
        return nullptr;
    }
    const QString initial = chart.isEmpty() ? currentChart() : chart;
    m_dialog =
        new ChartExportDialog(this, choices, initial, /*chooseChart=*/chart.isEmpty(), m_window);
    m_dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(m_dialog, &ChartExportDialog::exported, this, [this](const QString &path) {
        showStatus(tr("Chart written to %1").arg(QDir::toNativeSeparators(path)));
        emit chartExported(path);
    });
    connect(m_dialog, &ChartExportDialog::failed, this, &ChartActions::failed);
    m_dialog->open();
    return m_dialog;
}

std::unique_ptr<PreparedChart> ChartActions::prepare(const QString &chart, bool keepZoom,
                                                     QString *error) const
{
    const std::shared_ptr<const Session> session = m_window->session();
    if (!session) {
        if (error)
            *error = tr("no session is open");
        return nullptr;
    }
    return prepareChart(*session, requestFor(chart, keepZoom), error);
}

QString ChartActions::sessionPath() const
{
    return m_window->sessionPath();
}

bool ChartActions::copyImage(const QString &chart, QString *error)
{
    QString why;
    std::unique_ptr<PreparedChart> prepared = prepare(chart, true, &why);
    QImage image;
    if (prepared) {
        image = chartImage(*prepared, screenSize(chart), screenScale(chart));
        if (image.isNull())
            why = tr("could not allocate the image");
    }
    if (image.isNull()) {
        if (error)
            *error = why;
        emit failed(why);
        return false;
    }
    QApplication::clipboard()->setImage(image);
    showStatus(tr("Copied %1 (%2×%3 pixels) to the clipboard")
                   .arg(labelOf(chart))
                   .arg(image.width())
                   .arg(image.height()));
    emit imageCopied(image.size());
    return true;
}

QString ChartActions::chartAt(QCustomPlot *widget, const QPoint &pos) const
{
    if (widget == m_window->timeline())
        return QStringLiteral("timeline");
    if (widget == m_window->inspector()->seqGraph())
        return QStringLiteral("seq");
    if (auto *metrics = qobject_cast<MetricsWidget *>(widget)) {
        // The chart under the mouse; above the first (the legend) counts as the first.
        for (MetricsChart chart : metrics->charts())
            if (const QCPAxisRect *rect = metrics->chartRect(chart);
                rect && pos.y() <= rect->outerRect().bottom())
                return metricsChartName(chart);
        return metrics->charts().isEmpty() ? QString()
                                           : metricsChartName(metrics->charts().constLast());
    }
    if (auto *chart = qobject_cast<OverviewChart *>(widget))
        return kOverviewPrefix + chart->objectName();
    return QString();
}

QMenu *ChartActions::contextMenu(QCustomPlot *widget, const QPoint &pos)
{
    const QString chart = chartAt(widget, pos);
    if (chart.isEmpty())
        return nullptr;
    auto *menu = new QMenu(widget);
    menu->setAttribute(Qt::WA_DeleteOnClose);
    const bool content = hasContent(chart);
    MetricsChart metrics;
    const bool isMetrics = metricsChartOf(chart, &metrics);
    QAction *exportThis =
        menu->addAction(QIcon::fromTheme(QStringLiteral("document-export")),
                        isMetrics ? tr("Export %1 Chart…").arg(metricsChartTitle(metrics))
                                  : tr("Export This Chart…"),
                        this, [this, chart] { openExportDialog(chart); });
    exportThis->setObjectName(QStringLiteral("exportThisChart"));
    exportThis->setEnabled(content);
    QAction *copy = menu->addAction(QIcon::fromTheme(QStringLiteral("edit-copy")), tr("Copy Image"),
                                    this, [this, chart] { copyImage(chart); });
    copy->setObjectName(QStringLiteral("copyImage"));
    copy->setEnabled(content);
    menu->addSeparator();
    // The chart's own view actions, the same as its double-click / menu entries.
    if (auto *timeline = qobject_cast<TimelineWidget *>(widget)) {
        QAction *reset = menu->addAction(tr("Reset Zoom"), timeline, [timeline] {
            timeline->fitAll();
            timeline->replot();
        });
        reset->setShortcut(
            QKeySequence(Qt::CTRL | Qt::Key_0)); // shown; View ▸ Fit Timeline owns it
        reset->setObjectName(QStringLiteral("resetZoom"));
        reset->setEnabled(content);
        const QCPRange visible = timeline->xAxis->range();
        QAction *note = menu->addAction(tr("Add Annotation on Visible Time…"), m_window,
                                        [this, visible] { m_window->annotate(visible); });
        note->setObjectName(QStringLiteral("addAnnotation"));
        note->setEnabled(content);
        if (const qint64 id = timeline->idAt(pos); id > 0) {
            QAction *onBar = menu->addAction(tr("Add Annotation on Connection %1…").arg(id),
                                             m_window, [this, id] { m_window->annotate(id, 0); });
            onBar->setObjectName(QStringLiteral("addConnectionAnnotation"));
        }
    } else if (auto *seq = qobject_cast<SeqGraphWidget *>(widget)) {
        QAction *reset = menu->addAction(tr("Reset Zoom"), seq, [seq] { seq->fitAll(); });
        reset->setObjectName(QStringLiteral("resetZoom"));
        reset->setEnabled(content);
        const qint64 id = seq->connectionId();
        QAction *note = menu->addAction(tr("Add Annotation on Connection %1…").arg(id), m_window,
                                        [this, id] { m_window->annotate(id, 0); });
        note->setObjectName(QStringLiteral("addAnnotation"));
        note->setEnabled(content && id > 0);
    } else if (auto *m = qobject_cast<MetricsWidget *>(widget)) {
        QAction *reset = menu->addAction(tr("Reset Zoom"), m, [m] { m->resetView(); });
        reset->setObjectName(QStringLiteral("resetZoom"));
        reset->setEnabled(content);
        const qint64 id = m_window->detailView()->shownConnectionId();
        QAction *onConnection =
            menu->addAction(id > 0 ? tr("Add Annotation on Connection %1…").arg(id)
                                   : tr("Add Annotation on Connection…"),
                            m_window, [this, id] { m_window->annotate(id, 0); });
        onConnection->setObjectName(QStringLiteral("addConnectionAnnotation"));
        onConnection->setEnabled(content && id > 0);
        const QCPRange visible = m->timeRange();
        QAction *onTime = menu->addAction(tr("Add Annotation on Visible Time…"), m_window,
                                          [this, visible] { m_window->annotate(visible); });
        onTime->setObjectName(QStringLiteral("addAnnotation"));
        onTime->setEnabled(content);
    } else if (auto *overview = qobject_cast<OverviewChart *>(widget)) {
        QAction *all = menu->addAction(tr("Export Whole Overview…"), this,
                                       [this] { openExportDialog(QStringLiteral("overview")); });
        all->setObjectName(QStringLiteral("exportOverview"));
        all->setEnabled(content);
        if (QAction *clear = m_window->idFilterAction(); clear && clear->isVisible()) {
            QAction *showAll =
                menu->addAction(tr("Show All Connections"), clear, &QAction::trigger);
            showAll->setObjectName(QStringLiteral("showAllConnections"));
        }
        // A time chart's visible range; a histogram or ranking covers the whole session. The
        // overview counts seconds from its own start, the window from the session's origin.
        const Overview &ov = m_window->overview()->overview();
        const QCPRange shown =
            overview->isTimeChart()
                ? overview->xAxis->range()
                : QCPRange(0, double(std::max<qint64>(ov.endNs - ov.originNs, 0)) / 1e9);
        const qint64 shiftNs = ov.originNs > 0 ? ov.originNs - m_window->timeline()->originNs() : 0;
        const QCPRange visible = shown + double(shiftNs) / 1e9;
        QAction *note =
            menu->addAction(overview->isTimeChart() ? tr("Add Annotation on Visible Time…")
                                                    : tr("Add Annotation on Whole Session…"),
                            m_window, [this, visible] { m_window->annotate(visible); });
        note->setObjectName(QStringLiteral("addAnnotation"));
        note->setEnabled(content);
    }
    return menu;
}

void ChartActions::showStatus(const QString &text)
{
    m_window->statusBar()->showMessage(text, 8000);
}

} // namespace tcpscope
