// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

class QCPLegend;

namespace tcpscope {

// Sets a columns-first legend's wrap to the most columns whose widths fit `width` pixels, so a
// narrow window wraps the entries onto more rows instead of truncating their names.
void wrapLegendToWidth(QCPLegend *legend, int width);

} // namespace tcpscope
