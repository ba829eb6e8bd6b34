// SPDX-License-Identifier: GPL-3.0-or-later
// The one chart renderer of tcpscope: `tcpscope export --chart`, File ▸ Export Chart…, the
// charts' Copy Image and the export dialog's preview all describe what to draw as a
// ChartRequest and go through prepareChart(); files are written by writeChartFile(). The same
// request, size and scale give the same picture whoever asks.
#pragma once

#include "export/session_export.h"
#include "model/packet.h"
#include "session/session_reader.h"

#include <QImage>
#include <QSize>
#include <QString>
#include <QStringList>
#include <QVector>

#include <functional>
#include <memory>
#include <optional>

class QCPPainter;
class QWidget;

namespace tcpscope {

class Session;

// A visible range of an axis (lower < upper).
struct ChartRange
{
    double lower = 0;
    double upper = 0;
    bool operator==(const ChartRange &) const = default;
};

// What to draw. The command line fills chart and connectionId; the GUI also passes what its
// chart shows (rows, overlay, zoom, selection) so the file is what the user is looking at.
struct ChartRequest
{
    // exportableCharts(), or "overview:NAME" for one chart of the overview dashboard
    // (overviewChartNames()).
    QString chart;
    // seq and the kernel charts (rtt, cwnd, windows, throughput): the connection drawn.
    qint64 connectionId = 0;
    // timeline: the rows, top to bottom (empty: every connection of the session, in id order);
    // kernel charts: further connections overlaid on connectionId (the detail view's overlay).
    QVector<qint64> connectionIds;
    // The time axis' zero and the end of still-open connections; 0: the session's own.
    qint64 originNs = 0;
    qint64 endNs = 0;
    // The visible ranges; unset: fit everything (x: seconds since originNs; y: seq — relative
    // sequence numbers, timeline — rows, -0.5 .. n-0.5). Kernel charts use x only.
    std::optional<ChartRange> xRange;
    std::optional<ChartRange> yRange;
    // timeline: the highlighted connection; seq: the highlighted packet (0 / -1: none).
    qint64 selectedId = -1;
    // seq: the direction whose data is drawn (unset: the one that carried more payload).
    std::optional<PacketDirection> direction;
};

// How to write it.
struct ChartImageOptions
{
    QString format;   // "png", "pdf" or "svg" (chartExportFormats())
    QSize size;       // logical pixels (PDF: points)
    double scale = 1; // PNG only: device pixel ratio, the file has size * scale pixels
};

// A chart built offscreen from a session for one request, ready to be laid out at any size and
// painted any number of times (the dialog's preview re-uses it while the size is edited).
class PreparedChart
{
public:
    PreparedChart(std::unique_ptr<QWidget> owner, std::function<void(QSize)> layOut,
                  std::function<void(QCPPainter &)> paint, QString title);
    ~PreparedChart();
    PreparedChart(const PreparedChart &) = delete;
    PreparedChart &operator=(const PreparedChart &) = delete;

    // Lays the chart out at size (applying the request's ranges or fitting) and paints it in
    // logical WxH coordinates.
    void paint(QCPPainter &painter, QSize size);
    QString title() const { return m_title; }

private:
    std::unique_ptr<QWidget> m_owner;
    std::function<void(QSize)> m_layOut;
    std::function<void(QCPPainter &)> m_paint;
    QString m_title;
    QSize m_laidOut;
};

// Builds the chart (reads from the session only what it draws). nullptr + one-line reason
// when the request cannot be drawn (unknown chart, missing connection, no packets or samples,
// no QApplication).
std::unique_ptr<PreparedChart> prepareChart(const Session &session, const ChartRequest &request,
                                            QString *error);

// Checks format, size and scale. False + one-line reason.
bool checkChartImageOptions(const ChartImageOptions &options, QString *error);

// Writes the prepared chart to outPath through the output policy of output_file.h (a temporary
// file renamed into place; a directory, symlink, device ... is refused and nothing is left
// behind). False + one-line reason.
bool writeChartFile(PreparedChart &chart, const ChartImageOptions &options, const QString &outPath,
                    QString *error);
// The PNG's raster: size * scale pixels with device pixel ratio scale (Copy Image, preview).
QImage chartImage(PreparedChart &chart, QSize size, double scale);

// prepareChart + writeChartFile.
bool exportChart(const Session &session, const ChartRequest &request,
                 const ChartImageOptions &options, const QString &outPath, QString *error);
// The command line's form: format from outPath's suffix, scale 1, the whole chart.
bool exportChart(const Session &session, const QString &chart, const QString &outPath, QSize size,
                 QString *error, qint64 connectionId = 0);
// Charts that need --connection ID.
bool chartNeedsConnection(const QString &chart);

// Chart names exportChart() accepts (besides "overview:NAME"), and the formats it can write.
QStringList exportableCharts();
QStringList overviewChartNames(); // connections, active, retransmits, ... (dashboard order)
bool isExportableChart(const QString &chart);
QStringList chartExportFormats();
// The format of a file name after its suffix ("" when not one of chartExportFormats()).
QString chartFormatOfPath(const QString &path);

// The same for a loaded session (sessionEndNs/sessionOriginNs of a Session are in
// export/session_export.h).
qint64 sessionEndNs(const SessionData &session);
qint64 sessionOriginNs(const SessionData &session);

} // namespace tcpscope
