// SPDX-License-Identifier: GPL-3.0-or-later
// Where `export --chart` gets its renderer (charts/chart_renderer.h): the tcpscope executable
// has it linked in (cli_chart_linked.cpp); tcpscope-cli, which must run without Qt Widgets and
// QCustomPlot, loads the module tcpscope-chart-renderer.so at run time (cli_chart_module.cpp).
#pragma once

#include "charts/chart_renderer.h"

#include <QString>

namespace tcpscope::cli {

// The renderer, or nullptr with one line in *error saying why there is none and what to do.
const ChartRendererApi *chartRenderer(QString *error);

} // namespace tcpscope::cli
