// SPDX-License-Identifier: GPL-3.0-or-later
#include "charts/chart_export.h"

#include "charts/metrics_data.h"
#include "charts/metrics_widget.h"
#include "charts/overview_export.h"
#include "charts/seq_graph_data.h"
#include "charts/seq_graph_widget.h"
#include "charts/timeline_widget.h"
#include "session/session.h"

#include <QApplication>
#include <QFileInfo>

#ifdef TCPSCOPE_HAVE_QT_SVG
#include <QSvgGenerator>
#endif

#include <algorithm>
#include <memory>

namespace tcpscope {

namespace {
constexpr int kMaxSide = 20000; // a typo like 80000x600 should not allocate gigabytes

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

std::unique_ptr<SeqGraphWidget> buildSeqGraph(const Session &session, qint64 connectionId,
                                              QString *error)
{
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
    seq->setConnection(*connection, packets, sessionOriginNs(session));
    if (!seq->data().hasExtent()) {
        setError(error, QStringLiteral(
                            "connection %1 has %2 packets but none with a valid TCP header to draw")
                            .arg(connectionId)
                            .arg(packets.size()));
        return nullptr;
    }
    return seq;
}

// One chart of the connection detail view (rtt, cwnd, windows, throughput) of one connection.
std::unique_ptr<MetricsWidget> buildMetricsChart(const Session &session, MetricsChart chart,
                                                 qint64 connectionId, QString *error)
{
    const QString name = metricsChartName(chart);
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
    const KernelData kernel = session.kernelData(connectionId);
    ConnectionKernelData data;
    data.samples = kernel.samples;
    data.events = kernel.events;
    data.drops = kernel.drops;
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
    auto widget = std::make_unique<MetricsWidget>(nullptr, QVector<MetricsChart>{chart});
    widget->setConnections({buildConnectionMetrics(*connection, data, sessionOriginNs(session))},
                           false);
    return widget;
}

// Up to this many packets the timeline also marks retransmissions, dup ACKs, ... (the packets
// with analysis flags, found by streaming them); a larger session is drawn from its
// connections alone so the export stays as fast as for a small one.
constexpr qint64 kMaxPacketsForMarkers = 200'000;

// Every connection with its state history: the bars need nothing else.
std::unique_ptr<TimelineWidget> buildTimeline(const Session &session)
{
    const QVector<Connection> connections = session.allConnections(true);
    auto timeline = std::make_unique<TimelineWidget>();
    qint64 end = session.info().stoppedNs;
    if (end <= 0) {
        end = session.info().startedNs;
        for (const Connection &c : std::as_const(connections)) {
            end = std::max({end, c.startNs, c.endNs});
            if (!c.history.isEmpty())
                end = std::max(end, c.history.constLast().timeNs);
        }
    }
    timeline->setConnections(connections, sessionOriginNs(session), end);
    if (session.packetCount() <= kMaxPacketsForMarkers) {
        QVector<Packet> flagged;
        session.forEachPacket(-1, [&](const Packet &p) {
            if (p.analysis != 0)
                flagged.append(p);
            return true;
        });
        timeline->addAnalysisMarkers(flagged);
    }
    return timeline;
}
} // namespace

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

bool exportChart(const Session &session, const QString &chart, const QString &outPath, QSize size,
                 QString *error, qint64 connectionId)
{
    if (!exportableCharts().contains(chart)) {
        setError(error, QStringLiteral("unknown chart '%1' (valid: %2)")
                            .arg(chart, exportableCharts().join(QStringLiteral(", "))));
        return false;
    }
    const QString suffix = QFileInfo(outPath).suffix().toLower();
    if (!chartExportFormats().contains(suffix)) {
        QString text = QStringLiteral("cannot write '%1': unsupported format '.%2' (supported: %3)")
                           .arg(outPath, suffix, chartExportFormats().join(QStringLiteral(", ")));
        if (suffix == QLatin1String("svg"))
            text += QStringLiteral("; SVG needs Qt SVG, which this build does not have");
        setError(error, text);
        return false;
    }
    if (size.width() < 16 || size.height() < 16 || size.width() > kMaxSide ||
        size.height() > kMaxSide) {
        setError(error, QStringLiteral("invalid size %1x%2 (each side 16..%3 pixels)")
                            .arg(size.width())
                            .arg(size.height())
                            .arg(kMaxSide));
        return false;
    }
    if (!qobject_cast<QApplication *>(QCoreApplication::instance())) {
        setError(error,
                 QStringLiteral("chart export needs a QApplication (widgets), none is running"));
        return false;
    }

    if (chart == QLatin1String("overview")) // the dashboard: a grid of charts, not one QCustomPlot
        return exportOverview(session, outPath, size, error);
    // Both charts are QCustomPlots; only the one asked for is built.
    std::unique_ptr<QCustomPlot> chartWidget;
    MetricsChart metricsChart;
    if (metricsChartFromName(chart, &metricsChart)) {
        auto metrics = buildMetricsChart(session, metricsChart, connectionId, error);
        if (!metrics)
            return false;
        chartWidget = std::move(metrics);
    } else if (chart == QLatin1String("seq")) {
        auto seq = buildSeqGraph(session, connectionId, error);
        if (!seq)
            return false;
        chartWidget = std::move(seq);
    } else {
        chartWidget = buildTimeline(session);
    }
    QCustomPlot &plot = *chartWidget;
    plot.setAttribute(Qt::WA_DontShowOnScreen);
    plot.resize(size);
    // Fit after the resize: a file shows everything, not the first screenful.
    if (auto *timeline = qobject_cast<TimelineWidget *>(&plot))
        timeline->fitAll(true);
    else if (auto *seq = qobject_cast<SeqGraphWidget *>(&plot))
        seq->fitAll();
    else if (auto *metrics = qobject_cast<MetricsWidget *>(&plot))
        metrics->fitAll();
    plot.replot(QCustomPlot::rpImmediateRefresh);

    bool ok = false;
    if (suffix == QLatin1String("png")) {
        ok = plot.savePng(outPath, size.width(), size.height(), 1.0);
    } else if (suffix == QLatin1String("pdf")) {
        ok = plot.savePdf(outPath, size.width(), size.height(), QCP::epNoCosmetic,
                          QStringLiteral("tcpscope"),
                          QStringLiteral("tcpscope %1 chart").arg(chart));
    } else {
#ifdef TCPSCOPE_HAVE_QT_SVG
        QSvgGenerator generator;
        generator.setFileName(outPath);
        // QSvgGenerator writes width/height in mm from its resolution; 96 dpi is what browsers
        // and ImageMagick assume for a CSS pixel, so WxH renders as exactly W x H pixels.
        generator.setResolution(96);
        generator.setSize(size);
        generator.setViewBox(QRect(QPoint(0, 0), size));
        generator.setTitle(QStringLiteral("tcpscope %1 chart").arg(chart));
        QCPPainter painter;
        ok = painter.begin(&generator);
        if (ok) {
            plot.toPainter(&painter, size.width(), size.height());
            ok = painter.end();
        }
#endif
    }
    if (ok && QFileInfo(outPath).size() <= 0)
        ok = false;
    if (!ok) {
        setError(
            error,
            QStringLiteral("could not write '%1' (check that the directory exists and is writable)")
                .arg(outPath));
        return false;
    }
    return true;
}

} // namespace tcpscope
