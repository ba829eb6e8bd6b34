// SPDX-License-Identifier: GPL-3.0-or-later
// The table of charts/chart_renderer.h over chart_export.h: compiled into the tcpscope
// executable and, as the only exported symbol, into the module tcpscope-chart-renderer.so.
#include "charts/chart_renderer.h"

#include "charts/chart_export.h"
#include "session/session.h"

#include <QApplication>

#include <memory>

#ifndef TCPSCOPE_VERSION
#define TCPSCOPE_VERSION "unknown"
#endif

namespace tcpscope {

namespace {

bool exportChartFile(const Session &session, const QString &chart, qint64 connectionId,
                     const QString &out, QSize size, double scale, int argc, char **argv,
                     QString *error)
{
    // Charts are widgets rendered offscreen; without a display, use the offscreen platform.
    if (qEnvironmentVariableIsEmpty("DISPLAY") && qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY") &&
        qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    std::unique_ptr<QApplication> app;
    if (!QCoreApplication::instance())
        app = std::make_unique<QApplication>(argc, argv);
    // The renderer File > Export Chart... uses, asked for the whole chart.
    ChartRequest request;
    request.chart = chart;
    request.connectionId = connectionId;
    ChartImageOptions options;
    options.format = chartFormatOfPath(out);
    options.size = size;
    options.scale = scale;
    return exportChart(session, request, options, out, error);
}

const ChartRendererApi kRenderer{kChartRendererInterface, TCPSCOPE_VERSION,      &exportableCharts,
                                 &isExportableChart,      &chartNeedsConnection, &exportChartFile};

} // namespace

} // namespace tcpscope

extern "C" Q_DECL_EXPORT const tcpscope::ChartRendererApi *tcpscope_chart_renderer_v1()
{
    return &tcpscope::kRenderer;
}
