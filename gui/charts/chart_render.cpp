// SPDX-License-Identifier: GPL-3.0-or-later
#include "charts/chart_render.h"

#include <qcustomplot.h>

#include <QImage>
#include <QPdfWriter>

#include <cmath>

#ifdef TCPSCOPE_HAVE_QT_SVG
#include <QSvgGenerator>
#endif

namespace tcpscope {

QImage renderChartImage(QSize size, double scale, const ChartPainter &paint)
{
    const QSize pixels(int(std::lround(size.width() * scale)),
                       int(std::lround(size.height() * scale)));
    QImage image(pixels, QImage::Format_ARGB32);
    if (image.isNull())
        return image;
    // The painter draws in logical coordinates. Qt's raster engine honours a device pixel
    // ratio above 1 only, so a smaller picture (the dialog's preview) is scaled explicitly.
    if (scale >= 1)
        image.setDevicePixelRatio(scale);
    image.fill(Qt::white);
    QCPPainter painter;
    if (!painter.begin(&image))
        return QImage();
    if (scale < 1)
        painter.scale(scale, scale);
    painter.setRenderHint(QPainter::Antialiasing);
    paint(painter);
    painter.end();
    return image;
}

bool renderChart(const QString &format, QSize size, double scale, const QString &title,
                 QIODevice &out, QString *error, const ChartPainter &paint)
{
    bool ok = false;
    QCPPainter painter;
    if (format == QLatin1String("png")) {
        const QImage image = renderChartImage(size, scale, paint);
        ok = !image.isNull() && image.save(&out, "PNG");
    } else if (format == QLatin1String("pdf")) {
        QPdfWriter pdf(&out);
        pdf.setCreator(QStringLiteral("tcpscope"));
        pdf.setTitle(title);
        pdf.setResolution(72); // one device pixel = one PDF point: the page is exactly WxH pt
        pdf.setPageMargins(QMarginsF(0, 0, 0, 0));
        pdf.setPageSize(
            QPageSize(QSizeF(size), QPageSize::Point, QString(), QPageSize::ExactMatch));
        if (painter.begin(&pdf)) {
            painter.setMode(QCPPainter::pmVectorized);
            painter.setMode(QCPPainter::pmNoCaching);
            painter.setMode(QCPPainter::pmNonCosmetic); // line widths scale with the page
            painter.setWindow(QRect(QPoint(0, 0), size));
            paint(painter);
            ok = painter.end();
        }
    } else if (format == QLatin1String("svg")) {
#ifdef TCPSCOPE_HAVE_QT_SVG
        QSvgGenerator generator;
        generator.setOutputDevice(&out);
        // QSvgGenerator writes width/height in mm from its resolution; 96 dpi is what browsers
        // and ImageMagick assume for a CSS pixel, so WxH renders as exactly W x H pixels.
        generator.setResolution(96);
        generator.setSize(size);
        generator.setViewBox(QRect(QPoint(0, 0), size));
        generator.setTitle(title);
        if (painter.begin(&generator)) {
            painter.setMode(QCPPainter::pmVectorized);
            paint(painter);
            ok = painter.end();
        }
#endif
    }
    if (ok && out.size() <= 0)
        ok = false;
    if (!ok && error)
        *error = QStringLiteral("could not render the %1 image").arg(format.toUpper());
    return ok;
}

} // namespace tcpscope
