// SPDX-License-Identifier: GPL-3.0-or-later
// Chart export from the main window: File ▸ Export Chart…, and on every chart (timeline,
// sequence graph, the kernel metrics charts, the overview dashboard's charts) a context menu
// with Export This Chart…, Copy Image and the chart's own view actions (Reset Zoom, …).
//
// Nothing here draws: the charts' state on screen — their rows, overlay, zoom and selection —
// becomes a ChartRequest, and the picture comes from the renderer the command line uses
// (charts/chart_export.h), so a file shows what the user is looking at and the same request
// gives the same picture from either side.
#pragma once

#include "charts/chart_export.h"

#include <QObject>
#include <QPointer>
#include <QSize>
#include <QString>
#include <QVector>

class QAction;
class QCustomPlot;
class QMenu;
class QPoint;

namespace tcpscope {

class ChartExportDialog;
class MainWindow;

// One chart the user can export now.
struct ChartChoice
{
    QString chart; // a ChartRequest chart name ("timeline", "seq", "rtt", "overview:rtt", ...)
    QString label; // "Sequence graph (connection 17)"
    bool zoomed = false; // the on-screen chart shows a range the user chose
};

class ChartActions : public QObject
{
    Q_OBJECT
public:
    // Installs the context menus on window's charts; the window owns this object.
    explicit ChartActions(MainWindow *window);
    ~ChartActions() override; // defined where ChartExportDialog is complete

    // File ▸ Export Chart…: enabled while some chart has something to show.
    QAction *exportAction() const { return m_exportAction; }
    void updateAction();

    // Charts with something to show, the one on screen first among those of its kind.
    QVector<ChartChoice> availableCharts() const;
    // The chart the user is looking at: the lower tab's chart when it shows one, else the
    // timeline. Empty when none has anything to show.
    QString currentChart() const;
    // What the export of chart draws: the on-screen chart's rows/connections and selection,
    // and its zoom when keepZoom and the user zoomed.
    ChartRequest requestFor(const QString &chart, bool keepZoom = true) const;
    // The size the chart has on screen (the dialog's default size, Copy Image's size).
    QSize screenSize(const QString &chart) const;
    double screenScale(const QString &chart) const;
    QString labelOf(const QString &chart) const;
    // The widget that shows chart on screen (the metrics charts share one; overview:NAME is one
    // chart of the dashboard).
    QCustomPlot *widgetOf(const QString &chart) const;

    // The chart built offscreen from the window's session for requestFor(chart, keepZoom).
    std::unique_ptr<PreparedChart> prepare(const QString &chart, bool keepZoom,
                                           QString *error) const;
    QString sessionPath() const;

    // Opens the export dialog (non-modal to the event loop, modal to the window) for chart, or
    // with a chart chooser when chart is empty. The dialog stays reachable through dialog().
    ChartExportDialog *openExportDialog(const QString &chart = QString());
    ChartExportDialog *dialog() const;
    // Renders chart as shown (its on-screen size and device pixel ratio) to the clipboard.
    bool copyImage(const QString &chart, QString *error = nullptr);
    // The context menu of the chart at pos of widget (nullptr when it shows nothing).
    QMenu *contextMenu(QCustomPlot *widget, const QPoint &pos);

signals:
    void chartExported(const QString &path);
    void imageCopied(const QSize &pixels);
    void failed(const QString &message);

private:
    void install(QCustomPlot *widget);
    QString chartAt(QCustomPlot *widget, const QPoint &pos) const;
    bool isZoomed(const QString &chart) const;
    bool hasContent(const QString &chart) const;
    void showStatus(const QString &text);

    MainWindow *m_window;
    QAction *m_exportAction = nullptr;
    QPointer<ChartExportDialog> m_dialog;
};

} // namespace tcpscope
