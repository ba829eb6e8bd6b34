// SPDX-License-Identifier: GPL-3.0-or-later
#include "charts/chart_export.h"

#include "charts/timeline_widget.h"

#include <QApplication>
#include <QFileInfo>

#ifdef TCPSCOPE_HAVE_QT_SVG
#include <QSvgGenerator>
#endif

#include <algorithm>

namespace tcpscope {

namespace {
constexpr int kMaxSide = 20000; // a typo like 80000x600 should not allocate gigabytes

void setError(QString *error, const QString &text)
{
    if (error)
        *error = text;
}
} // namespace

QStringList exportableCharts()
{
    return {QStringLiteral("timeline")};
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
        end = std::max(end, c.endNs);
        end = std::max(end, c.startNs);
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
    return chart == QLatin1String("seq");
}

bool exportChart(const SessionData &session, const QString &chart, const QString &outPath,
                 QSize size, QString *error, qint64 connectionId)
{
    Q_UNUSED(connectionId); // the "seq" chart (issue 3) uses it
    if (!exportableCharts().contains(chart)) {
        setError(error, QStringLiteral("unknown chart '%1' (valid: %2)").arg(chart, exportableCharts().join(QStringLiteral(", "))));
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
    if (size.width() < 16 || size.height() < 16 || size.width() > kMaxSide || size.height() > kMaxSide) {
        setError(error, QStringLiteral("invalid size %1x%2 (each side 16..%3 pixels)").arg(size.width()).arg(size.height()).arg(kMaxSide));
        return false;
    }
    if (!qobject_cast<QApplication *>(QCoreApplication::instance())) {
        setError(error, QStringLiteral("chart export needs a QApplication (widgets), none is running"));
        return false;
    }

    TimelineWidget plot;
    plot.setAttribute(Qt::WA_DontShowOnScreen);
    plot.resize(size);
    plot.setConnections(session.connections, sessionOriginNs(session), sessionEndNs(session));
    plot.fitAll(true); // a file shows every connection, not the first screenful
    plot.replot(QCustomPlot::rpImmediateRefresh);

    bool ok = false;
    if (suffix == QLatin1String("png")) {
        ok = plot.savePng(outPath, size.width(), size.height(), 1.0);
    } else if (suffix == QLatin1String("pdf")) {
        ok = plot.savePdf(outPath, size.width(), size.height(), QCP::epNoCosmetic,
                          QStringLiteral("tcpscope"), QStringLiteral("tcpscope %1 chart").arg(chart));
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
        setError(error, QStringLiteral("could not write '%1' (check that the directory exists and is writable)").arg(outPath));
        return false;
    }
    return true;
}

} // namespace tcpscope
