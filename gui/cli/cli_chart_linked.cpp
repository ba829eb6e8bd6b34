// SPDX-License-Identifier: GPL-3.0-or-later
// The tcpscope executable links the chart renderer: it is always there.
#include "cli_chart_renderer.h"

namespace tcpscope::cli {

const ChartRendererApi *chartRenderer(QString *)
{
    return tcpscope_chart_renderer_v1();
}

} // namespace tcpscope::cli
