// SPDX-License-Identifier: GPL-3.0-or-later
// The image writer every chart export shares (command line, File ▸ Export Chart…, Copy Image
// and the export dialog's preview): a paint function draws the chart into a logical WxH area,
// and this turns it into PNG (WxH times the scale factor in pixels), PDF (WxH points, vectors)
// or SVG (WxH CSS pixels).
#pragma once

#include <QIODevice>
#include <QImage>
#include <QSize>
#include <QString>

#include <functional>

class QCPPainter;

namespace tcpscope {

using ChartPainter = std::function<void(QCPPainter &)>;

// The raster the PNG is made of: size * scale pixels on a white background, device pixel
// ratio scale (a scale below 1 draws through a scaled painter instead), paint() drawing in
// logical (size) coordinates. Null image when it cannot be
// allocated.
QImage renderChartImage(QSize size, double scale, const ChartPainter &paint);

// Writes the chart to out as format ("png", "pdf" or "svg"); scale applies to PNG only.
// False + one-line reason.
bool renderChart(const QString &format, QSize size, double scale, const QString &title,
                 QIODevice &out, QString *error, const ChartPainter &paint);

} // namespace tcpscope
