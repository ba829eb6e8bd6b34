// SPDX-License-Identifier: GPL-3.0-or-later
#include "charts/chart_export.h"

#include "analysis/overview.h"
#include "charts/chart_render.h"
#include "charts/metrics_data.h"
#include "charts/metrics_widget.h"
#include "charts/seq_graph_data.h"
#include "charts/seq_graph_widget.h"
#include "charts/timeline_widget.h"
#include "output_file.h"
#include "session/session.h"
#include "views/overview_chart.h"
#include "views/overview_dashboard.h"

#include <QApplication>
#include <QFileInfo>
#include <QLayout>

#include <algorithm>
#include <memory>

namespace tcpscope {

namespace {
constexpr int kMaxSide = 20000; // a typo like 80000x600 should not allocate gigabytes
constexpr double kMinScale = 0.25;
constexpr double kMaxScale = 8;

void setError(QString *error, const QString &text)
{
    if (error)
        *error = text;
}

QString noConnectionText(const Session &session, qint64 connectionId)
{
    return QStringLiteral("no connection with id %1 in this session (%2 connections)")
        .arg(connectionId)
        .arg(session.connectionCount());
}

qint64 originOf(const Session &session, const ChartRequest &request)
{
    return request.originNs > 0 ? request.originNs : sessionOriginNs(session);
}

std::unique_ptr<SeqGraphWidget> buildSeqGraph(const Session &session, const ChartRequest &request,
                                              QString *error)
{
    const qint64 connectionId = request.connectionId;
    if (connectionId <= 0) {
        setError(error,
                 QStringLiteral("the seq chart is drawn for one connection: give --connection ID "
                                "(see `tcpscope export FILE --connections -`)"));
        return nullptr;
    }
    const std::optional<Connection> connection = session.connection(connectionId);
    if (!connection) {
        setError(error, noConnectionText(session, connectionId));
        return nullptr;
    }
    const QVector<Packet> packets = session.packets(connectionId);
    if (packets.isEmpty()) {
        setError(error,
                 QStringLiteral("connection %1 has no packets (recorded with --no-packets, "
                                "filtered out by --filter, or no packet capture on this kernel)")
                     .arg(connectionId));
        return nullptr;
    }
    auto seq = std::make_unique<SeqGraphWidget>();
    seq->setConnection(*connection, packets, originOf(session, request));
    if (request.direction)
        seq->setDataDirection(*request.direction);
    if (!seq->data().hasExtent()) {
        setError(error, QStringLiteral(
                            "connection %1 has %2 packets but none with a valid TCP header to draw")
                            .arg(connectionId)
                            .arg(packets.size()));
        return nullptr;
    }
    if (request.selectedId > 0)
        seq->selectPacket(request.selectedId);
    return seq;
}

// One chart of the connection detail view (rtt, cwnd, windows, throughput) of one connection,
// with the request's further connections overlaid (those without kernel data are left out, as
// in the detail view).
std::unique_ptr<MetricsWidget> buildMetricsChart(const Session &session, MetricsChart chart,
                                                 const ChartRequest &request, QString *error)
{
    const QString name = metricsChartName(chart);
    const qint64 connectionId = request.connectionId;
    if (connectionId <= 0) {
        setError(error,
                 QStringLiteral("the %1 chart is drawn for one connection: give --connection ID "
                                "(see `tcpscope export FILE --connections -`)")
                     .arg(name));
        return nullptr;
    }
    const std::optional<Connection> connection = session.connection(connectionId);
    if (!connection) {
        setError(error, noConnectionText(session, connectionId));
        return nullptr;
    }
    auto kernelOf = [&](qint64 id) {
        KernelData kernel = session.kernelData(id);
        ConnectionKernelData data;
        data.samples = std::move(kernel.samples);
        data.events = std::move(kernel.events);
        data.drops = std::move(kernel.drops);
        return data;
    };
    const ConnectionKernelData data = kernelOf(connectionId);
    if (data.samples.isEmpty()) {
        setError(error,
                 session.info().kernelMetrics
                     ? QStringLiteral("connection %1 has no kernel samples (it carried no data "
                                      "while the capture ran, or is a listener)")
                           .arg(connectionId)
                     : QStringLiteral(
                           "this session has no kernel samples (recorded with --no-tcpinfo, by an "
                           "older tcpscope, or tcp_probe is unavailable on that kernel)"));
        return nullptr;
    }
    const qint64 origin = originOf(session, request);
    QVector<ConnectionMetrics> metrics{buildConnectionMetrics(*connection, data, origin)};
    for (qint64 id : request.connectionIds) {
        if (id == connectionId)
            continue;
        const std::optional<Connection> other = session.connection(id);
        const ConnectionKernelData otherData = other ? kernelOf(id) : ConnectionKernelData();
        if (other && !otherData.isEmpty())
            metrics << buildConnectionMetrics(*other, otherData, origin);
    }
    auto widget = std::make_unique<MetricsWidget>(nullptr, QVector<MetricsChart>{chart});
    widget->setConnections(metrics, false);
    return widget;
}

// Up to this many packets the timeline also marks retransmissions, dup ACKs, ... (the packets
// with analysis flags, found by streaming them); a larger session is drawn from its
// connections alone so the export stays as fast as for a small one.
constexpr qint64 kMaxPacketsForMarkers = 200'000;

// The rows asked for (every connection in id order when none), each with its state history.
std::unique_ptr<TimelineWidget> buildTimeline(const Session &session, const ChartRequest &request)
{
    QVector<Connection> connections;
    if (request.connectionIds.isEmpty()) {
        // What the rows show (labels, lifetimes, states): not every column.
        connections = session.allConnections(true, ConnectionFields::lifetime());
    } else {
        // Session::connections() answers in id order; the rows keep the caller's order.
        QHash<qint64, Connection> byId;
        for (Connection &c : session.connections(request.connectionIds, true)) {
            const qint64 id = c.id;
            byId.emplace(id, std::move(c)); // insert() would copy: it takes a const reference
        }
        for (qint64 id : request.connectionIds)
            if (byId.contains(id))
                connections.append(byId.value(id));
    }
    auto timeline = std::make_unique<TimelineWidget>();
    qint64 end = request.endNs > 0 ? request.endNs : session.info().stoppedNs;
    if (end <= 0) {
        end = session.info().startedNs;
        for (const Connection &c : std::as_const(connections)) {
            end = std::max({end, c.startNs, c.endNs});
            if (!c.history.isEmpty())
                end = std::max(end, c.history.constLast().timeNs);
        }
    }
    timeline->setConnections(connections, originOf(session, request), end);
    // The highest packet id bounds the count from above and costs nothing; the count itself
    // is a pass over the chunk rows, made only when the bound does not decide.
    if (session.lastPacketId() <= kMaxPacketsForMarkers ||
        session.packetCount() <= kMaxPacketsForMarkers) {
        QSet<qint64> shown;
        for (const Connection &c : std::as_const(connections))
            shown.insert(c.id);
        QVector<Packet> flagged;
        session.forEachPacket(-1, [&](const Packet &p) {
            if (p.analysis != 0 && shown.contains(p.connectionId))
                flagged.append(p);
            return true;
        });
        timeline->addAnalysisMarkers(flagged);
    }
    if (request.selectedId >= 0)
        timeline->setSelectedId(request.selectedId);
    return timeline;
}

// A QCustomPlot chart: laid out at the size, fitted or set to the request's ranges.
std::unique_ptr<PreparedChart> preparePlot(std::unique_ptr<QCustomPlot> plot,
                                           const ChartRequest &request, const QString &title)
{
    QCustomPlot *p = plot.get();
    p->setAttribute(Qt::WA_DontShowOnScreen);
    p->setMinimumSize(0, 0); // the requested size, however small
    auto layOut = [p, request](QSize size) {
        p->resize(size);
        // Fit after the resize: a file shows everything, not the first screenful, unless the
        // request names the range the user zoomed to.
        if (auto *timeline = qobject_cast<TimelineWidget *>(p)) {
            timeline->fitAll(true);
        } else if (auto *seq = qobject_cast<SeqGraphWidget *>(p)) {
            seq->fitAll();
        } else if (auto *metrics = qobject_cast<MetricsWidget *>(p)) {
            metrics->fitAll();
            if (request.xRange)
                metrics->setTimeRange(QCPRange(request.xRange->lower, request.xRange->upper));
        }
        if (!qobject_cast<MetricsWidget *>(p)) {
            if (request.xRange)
                p->xAxis->setRange(request.xRange->lower, request.xRange->upper);
            if (request.yRange)
                p->yAxis->setRange(request.yRange->lower, request.yRange->upper);
        }
        p->replot(QCustomPlot::rpImmediateRefresh);
    };
    auto paint = [p](QCPPainter &painter) { p->toPainter(&painter, p->width(), p->height()); };
    return std::make_unique<PreparedChart>(std::move(plot), layOut, paint, title);
}

// The overview dashboard (a grid of charts) or one of its charts.
std::unique_ptr<PreparedChart> prepareOverview(const Session &session, const QString &chartName)
{
    auto dashboard = std::make_unique<OverviewDashboard>();
    OverviewDashboard *d = dashboard.get();
    d->setAttribute(Qt::WA_DontShowOnScreen);
    d->setOverview(computeOverview(session));
    if (chartName.isEmpty()) {
        auto layOut = [d](QSize size) {
            d->resize(size);
            d->show(); // lays the grid out at this size (offscreen: nothing appears)
            d->layout()->activate();
            d->setOverview(d->overview()); // relayout() may have changed the grid: redraw
        };
        auto paint = [d](QCPPainter &painter) { d->paintTo(&painter); };
        return std::make_unique<PreparedChart>(std::move(dashboard), layOut, paint,
                                               QStringLiteral("tcpscope session overview"));
    }
    OverviewChart *chart = d->chart(chartName);
    chart->setMinimumSize(0, 0); // the requested size, however small
    auto layOut = [d, chart](QSize size) {
        chart->resize(size);
        d->setOverview(d->overview()); // ticks, labels and legend at this size
        chart->replot(QCustomPlot::rpImmediateRefresh);
    };
    auto paint = [chart](QCPPainter &painter) {
        chart->toPainter(&painter, chart->width(), chart->height());
    };
    return std::make_unique<PreparedChart>(std::move(dashboard), layOut, paint,
                                           QStringLiteral("tcpscope overview %1").arg(chartName));
}
} // namespace

PreparedChart::PreparedChart(std::unique_ptr<QWidget> owner, std::function<void(QSize)> layOut,
                             std::function<void(QCPPainter &)> paint, QString title)
    : m_owner(std::move(owner)), m_layOut(std::move(layOut)), m_paint(std::move(paint)),
      m_title(std::move(title))
{
}

PreparedChart::~PreparedChart() = default;

void PreparedChart::paint(QCPPainter &painter, QSize size)
{
    if (size != m_laidOut) {
        m_layOut(size);
        m_laidOut = size;
    }
    m_paint(painter);
}

QStringList overviewChartNames()
{
    return OverviewDashboard::chartNames();
}

bool isExportableChart(const QString &chart)
{
    if (chart.startsWith(QLatin1String("overview:")))
        return overviewChartNames().contains(chart.mid(9));
    return exportableCharts().contains(chart);
}

QString chartFormatOfPath(const QString &path)
{
    const QString suffix = QFileInfo(path).suffix().toLower();
    return chartExportFormats().contains(suffix) ? suffix : QString();
}

QStringList exportableCharts()
{
    return {QStringLiteral("timeline"), QStringLiteral("seq"),     QStringLiteral("rtt"),
            QStringLiteral("cwnd"),     QStringLiteral("windows"), QStringLiteral("throughput"),
            QStringLiteral("overview")};
}

QStringList chartExportFormats()
{
    QStringList formats{QStringLiteral("png"), QStringLiteral("pdf")};
#ifdef TCPSCOPE_HAVE_QT_SVG
    formats << QStringLiteral("svg");
#endif
    return formats;
}

qint64 sessionEndNs(const SessionData &session)
{
    if (session.info.stoppedNs > 0)
        return session.info.stoppedNs;
    qint64 end = session.info.startedNs;
    for (const Connection &c : session.connections) {
        end = std::max({end, c.startNs, c.endNs});
        if (!c.history.isEmpty())
            end = std::max(end, c.history.last().timeNs);
    }
    return end;
}

qint64 sessionOriginNs(const SessionData &session)
{
    if (session.info.startedNs > 0)
        return session.info.startedNs;
    qint64 origin = 0;
    for (const Connection &c : session.connections)
        if (c.startNs > 0 && (origin == 0 || c.startNs < origin))
            origin = c.startNs;
    return origin;
}

bool chartNeedsConnection(const QString &chart)
{
    MetricsChart metrics;
    return chart == QLatin1String("seq") || metricsChartFromName(chart, &metrics);
}

std::unique_ptr<PreparedChart> prepareChart(const Session &session, const ChartRequest &request,
                                            QString *error)
{
    const QString &chart = request.chart;
    if (!isExportableChart(chart)) {
        setError(error, QStringLiteral("unknown chart '%1' (valid: %2, overview:NAME with NAME "
                                       "one of %3)")
                            .arg(chart, exportableCharts().join(QStringLiteral(", ")),
                                 overviewChartNames().join(QStringLiteral(", "))));
        return nullptr;
    }
    if (!qobject_cast<QApplication *>(QCoreApplication::instance())) {
        setError(error,
                 QStringLiteral("chart export needs a QApplication (widgets), none is running"));
        return nullptr;
    }
    if (chart == QLatin1String("overview"))
        return prepareOverview(session, QString());
    if (chart.startsWith(QLatin1String("overview:")))
        return prepareOverview(session, chart.mid(9));
    const QString title = QStringLiteral("tcpscope %1 chart").arg(chart);
    MetricsChart metricsChart;
    if (metricsChartFromName(chart, &metricsChart)) {
        auto metrics = buildMetricsChart(session, metricsChart, request, error);
        return metrics ? preparePlot(std::move(metrics), request, title) : nullptr;
    }
    if (chart == QLatin1String("seq")) {
        auto seq = buildSeqGraph(session, request, error);
        return seq ? preparePlot(std::move(seq), request, title) : nullptr;
    }
    return preparePlot(buildTimeline(session, request), request, title);
}

bool checkChartImageOptions(const ChartImageOptions &options, QString *error)
{
    if (!chartExportFormats().contains(options.format)) {
        QString text = QStringLiteral("unsupported format '%1' (supported: %2)")
                           .arg(options.format, chartExportFormats().join(QStringLiteral(", ")));
        if (options.format == QLatin1String("svg"))
            text += QStringLiteral("; SVG needs Qt SVG, which this build does not have");
        setError(error, text);
        return false;
    }
    const QSize size = options.size;
    if (size.width() < 16 || size.height() < 16 || size.width() > kMaxSide ||
        size.height() > kMaxSide) {
        setError(error, QStringLiteral("invalid size %1x%2 (each side 16..%3 pixels)")
                            .arg(size.width())
                            .arg(size.height())
                            .arg(kMaxSide));
        return false;
    }
    if (!(options.scale >= kMinScale && options.scale <= kMaxScale)) {
        setError(error, QStringLiteral("invalid scale %1 (%2..%3)")
                            .arg(options.scale)
                            .arg(kMinScale)
                            .arg(kMaxScale));
        return false;
    }
    if (options.format == QLatin1String("png") &&
        (size.width() * options.scale > kMaxSide || size.height() * options.scale > kMaxSide)) {
        setError(error, QStringLiteral("%1x%2 at scale %3 is larger than %4 pixels a side")
                            .arg(size.width())
                            .arg(size.height())
                            .arg(options.scale)
                            .arg(kMaxSide));
        return false;
    }
    return true;
}

QImage chartImage(PreparedChart &chart, QSize size, double scale)
{
    return renderChartImage(size, scale, [&](QCPPainter &painter) { chart.paint(painter, size); });
}

bool writeChartFile(PreparedChart &chart, const ChartImageOptions &options, const QString &outPath,
                    QString *error)
{
    if (!checkChartImageOptions(options, error))
        return false;
    // Rendered into the output the policy of output_file.h hands out: a temporary file beside
    // outPath, renamed into place once complete (never a device, directory or symlink).
    return writeOutputFile(
        outPath, OutputUse::File,
        [&](QIODevice &out, QString *err) {
            const double scale = options.format == QLatin1String("png") ? options.scale : 1.0;
            return renderChart(options.format, options.size, scale, chart.title(), out, err,
                               [&](QCPPainter &painter) { chart.paint(painter, options.size); });
        },
        error);
}

bool exportChart(const Session &session, const ChartRequest &request,
                 const ChartImageOptions &options, const QString &outPath, QString *error)
{
    if (!isExportableChart(request.chart)) // before the options: the more useful complaint
        return prepareChart(session, request, error) != nullptr;
    if (!checkChartImageOptions(options, error))
        return false;
    QString why;
    if (!checkOutputPath(outPath, OutputUse::File, &why)) { // before reading the session
        setError(error, why);
        return false;
    }
    const std::unique_ptr<PreparedChart> chart = prepareChart(session, request, error);
    return chart && writeChartFile(*chart, options, outPath, error);
}

bool exportChart(const Session &session, const QString &chart, const QString &outPath, QSize size,
                 QString *error, qint64 connectionId)
{
    if (!isExportableChart(chart)) {
        ChartRequest request;
        request.chart = chart;
        return prepareChart(session, request, error) != nullptr;
    }
    ChartImageOptions options;
    options.format = chartFormatOfPath(outPath);
    options.size = size;
    if (options.format.isEmpty()) {
        const QString suffix = QFileInfo(outPath).suffix().toLower();
        QString text = QStringLiteral("cannot write '%1': unsupported format '.%2' (supported: %3)")
                           .arg(outPath, suffix, chartExportFormats().join(QStringLiteral(", ")));
        if (suffix == QLatin1String("svg"))
            text += QStringLiteral("; SVG needs Qt SVG, which this build does not have");
        setError(error, text);
        return false;
    }
    ChartRequest request;
    request.chart = chart;
    request.connectionId = connectionId;
    return exportChart(session, request, options, outPath, error);
}

} // namespace tcpscope
