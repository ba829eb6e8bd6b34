// SPDX-License-Identifier: GPL-3.0-or-later
// The chart renderer as the command line sees it: what `export --chart` needs of
// charts/chart_export.h behind a table of plain functions, so a binary without Qt Widgets and
// QCustomPlot can load it at run time. The tcpscope executable has it linked in; tcpscope-cli
// loads the module tcpscope-chart-renderer.so (gui/cli/cli_chart_module.cpp). This header needs
// Qt Core only.
#pragma once

#include <QSize>
#include <QString>
#include <QStringList>

namespace tcpscope {

class Session;

// Raised whenever a function's signature or meaning changes; the entry point's name carries it.
constexpr int kChartRendererInterface = 1;

struct ChartRendererApi
{
    int interface;       // kChartRendererInterface
    const char *version; // TCPSCOPE_VERSION of the build: module and binary must be one build
    // exportableCharts(), isExportableChart(), chartNeedsConnection() of chart_export.h.
    QStringList (*chartNames)();
    bool (*isChartName)(const QString &chart);
    bool (*needsConnection)(const QString &chart);
    // Writes chart (of connectionId for the per-connection charts) to out, its format after the
    // suffix, at size and scale, under a QApplication it creates from argc/argv when none runs
    // (the offscreen platform without a display). False + one-line reason in *error.
    bool (*exportChart)(const Session &session, const QString &chart, qint64 connectionId,
                        const QString &out, QSize size, double scale, int argc, char **argv,
                        QString *error);
};

} // namespace tcpscope

// The module's one exported symbol (kChartRendererInterface is in its name).
#define TCPSCOPE_CHART_RENDERER_ENTRY "tcpscope_chart_renderer_v1"
extern "C" const tcpscope::ChartRendererApi *tcpscope_chart_renderer_v1();
