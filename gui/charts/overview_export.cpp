// SPDX-License-Identifier: GPL-3.0-or-later
#include "charts/overview_export.h"

#include "analysis/overview.h"
#include "views/overview_dashboard.h"

#include <qcustomplot.h>

#include <QFileInfo>
#include <QImage>
#include <QPdfWriter>

#ifdef TCPSCOPE_HAVE_QT_SVG
#include <QSvgGenerator>
#endif

namespace tcpscope {

bool exportOverview(const Session &session, const QString &outPath, QSize size, QString *error)
{
    OverviewDashboard dashboard;
    dashboard.setAttribute(Qt::WA_DontShowOnScreen);
    dashboard.setOverview(computeOverview(session));
    dashboard.resize(size);
    dashboard.show(); // lays the grid out at this size (offscreen: nothing appears)
    dashboard.layout()->activate();
    dashboard.setOverview(
        dashboard.overview()); // relayout() may have changed the grid: redraw at final sizes

    const QString suffix = QFileInfo(outPath).suffix().toLower();
    bool ok = false;
    QCPPainter painter;
    if (suffix == QLatin1String("png")) {
        QImage image(size, QImage::Format_ARGB32);
        image.fill(Qt::white);
        if (painter.begin(&image)) {
            painter.setRenderHint(QPainter::Antialiasing);
            dashboard.paintTo(&painter);
            painter.end();
            ok = image.save(outPath, "PNG");
        }
    } else if (suffix == QLatin1String("pdf")) {
        QPdfWriter pdf(outPath);
        pdf.setCreator(QStringLiteral("tcpscope"));
        pdf.setTitle(QStringLiteral("tcpscope session overview"));
        pdf.setResolution(72); // one device pixel = one PDF point: the page is exactly WxH pt
        pdf.setPageMargins(QMarginsF(0, 0, 0, 0));
        pdf.setPageSize(
            QPageSize(QSizeF(size), QPageSize::Point, QString(), QPageSize::ExactMatch));
        if (painter.begin(&pdf)) {
            painter.setMode(QCPPainter::pmVectorized);
            painter.setMode(QCPPainter::pmNoCaching);
            painter.setWindow(QRect(QPoint(0, 0), size));
            dashboard.paintTo(&painter);
            ok = painter.end();
        }
    } else {
#ifdef TCPSCOPE_HAVE_QT_SVG
        QSvgGenerator generator;
        generator.setFileName(outPath);
        generator.setResolution(96); // see chart_export.cpp: W x H CSS pixels
        generator.setSize(size);
        generator.setViewBox(QRect(QPoint(0, 0), size));
        generator.setTitle(QStringLiteral("tcpscope session overview"));
        if (painter.begin(&generator)) {
            painter.setMode(QCPPainter::pmVectorized);
            dashboard.paintTo(&painter);
            ok = painter.end();
        }
#endif
    }
    if (ok && QFileInfo(outPath).size() <= 0)
        ok = false;
    if (!ok && error)
        *error =
            QStringLiteral("could not write '%1' (check that the directory exists and is writable)")
                .arg(outPath);
    return ok;
}

} // namespace tcpscope
