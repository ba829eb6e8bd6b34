// SPDX-License-Identifier: GPL-3.0-or-later
// The application window: connection table, lifecycle timeline and the packet inspector (packet
// list / sequence graph tabs beside the details pane), a text filter, live capture control
// (CaptureController) and session files. Every view asks one Session for what it shows; the
// window only wires them. A file is opened on a worker thread (progress and Cancel in the status
// bar); a live capture is a Session on the file being recorded, refreshed a few times a second
// when LiveCapture reports new data.
#pragma once

#include "model/connection.h"
#include "session/session.h"

#include "model/annotation.h"

#include <QMainWindow>
#include <QMap>
#include <QSet>
#include <QTimer>

#include <atomic>
#include <memory>
#include <optional>

class QLabel;
class QLineEdit;
class QAction;
class QSplitter;
class QThread;
class QToolButton;
class QProgressBar;
class QTabWidget;
class QCPRange;

namespace tcpscope {

class ConnectionTableModel;
class ConnectionTableView;
class TimelineWidget;
class RecentFiles;
class CaptureController;
class PacketExporter;
class PacketScanJob;
class PacketInspector;
class ConnectionDetailView;
class OverviewDashboard;
class FilterBar;
class ContextMenus;
class EndpointsView;
class AnnotationsView;
class AlertsView;
class AlertNotifier;
class ChartActions;
struct CaptureStats;

class MainWindow : public QMainWindow
{
    Q_OBJECT
public:
    explicit MainWindow(QWidget *parent = nullptr);
    ~MainWindow() override;

    // Errors always go out as errorOccurred(); with interactive errors (the default) they are
    // also shown in a modal message box. Tests switch that off.
    void setInteractiveErrors(bool on) { m_interactiveErrors = on; }

    ConnectionTableView *tableView() const { return m_table; }
    TimelineWidget *timeline() const { return m_timeline; }
    QLineEdit *filterEdit() const { return m_filterEdit; }
    FilterBar *filterBar() const { return m_filterBar; } // the connection filter
    ContextMenus *contextMenus() const { return m_menus; }
    QAction *idFilterAction() const { return m_idFilterAction; }
    ConnectionTableModel *connectionModel() const { return m_model; }
    // The session the views show (nullptr before one is opened).
    std::shared_ptr<const Session> session() const { return m_session; }
    bool isOpening() const { return m_loadThread != nullptr; }
    QString sessionPath() const { return m_sessionPath; }
    bool isCapturing() const;
    QLabel *lostLabel() const { return m_lostLabel; }
    QLabel *packetLabel() const { return m_packetLabel; }
    PacketInspector *inspector() const { return m_inspector; }
    PacketExporter *packetExporter() const { return m_exporter; }
    ConnectionDetailView *detailView() const { return m_detail; }
    OverviewDashboard *overview() const { return m_overview; }
    EndpointsView *endpoints() const { return m_endpoints; }
    QTabWidget *lowerTabs() const { return m_lowerTabs; }
    ChartActions *chartActions() const { return m_chartActions; } // chart export and copy
    void showKernelMetrics(); // switches the lower pane to the "Kernel metrics" tab

public slots:
    // Opens a session file and shows it (Session::open reads only its header, schema and
    // counts). False (and errorOccurred) when it cannot be opened.
    bool openSession(const QString &path);
    // The same on a worker thread (menus, recent files, command line): progress and a Cancel
    // button in the status bar; sessionOpened or errorOccurred follow.
    void openSessionInBackground(const QString &path);
    void cancelOpen();
    // Copies the current session (also while it is being recorded) to dest, with the current
    // view saved in the copy.
    bool saveSessionAs(const QString &dest);
    // File ▸ Save: keeps the current view (filters, selection, tabs, columns, splitter, timeline
    // zoom) in the session file, so reopening it shows the same (main_window_view.cpp). False
    // (and errorOccurred) when the file cannot keep it (not ours, read-only, being recorded).
    bool saveView();
    void startCapture();
    void stopCapture();
    void setFilterText(const QString &text);
    // Shows only these connections in the table and timeline (the overview dashboard's
    // "connections in this bar"); empty ids clear it. The toolbar shows label with a clear button.
    void setConnectionIdFilter(const QSet<qint64> &ids, const QString &label);
    // Writes the packets of the selected connections (all when none is selected) as pcapng on
    // a worker thread; packetsExported follows. False when there is nothing to export.
    bool exportPackets(const QString &path, bool selectedOnly);
    void showCaptureOptions();
    void showRemoteHosts(); // Capture ▸ Remote Hosts…

public:
    // The view as saved in a session file (view_state keys: docs/SESSION_FORMAT.md).
    QMap<QString, QString> currentView() const;
    // Shows a saved view; keys it does not know or values that no longer fit are ignored.
    void applyView(const QMap<QString, QString> &view);
    // The session's notes (model/annotation.h): loaded at open, kept by Save View.
    const QVector<Annotation> &annotations() const { return m_annotations; }
    void addAnnotation(const Annotation &annotation);
    void removeAnnotation(int index);
    // Asks for a note's text (a dialog named "annotationDialog") and adds it on this connection
    // / packet (packetId 0: the connection; both 0: the timeline's visible range).
    void annotate(qint64 connectionId, qint64 packetId);
    // The same on a time range, in seconds since the session's origin (every chart's time
    // axis); text is what the dialog starts with.
    void annotate(const QCPRange &seconds, const QString &text = QString());
    // Shows what note `index` is on: its connection, its packet, or its time range.
    void goToAnnotation(int index);
    AnnotationsView *annotationsView() const { return m_annotationsView; }

    // The Alerts tab (views/alerts_view.h), the status bar's alert count (a click opens the
    // tab) and what tells about high-severity alerts during a capture (alert_notifier.h).
    AlertsView *alertsView() const { return m_alertsView; }
    QToolButton *alertButton() const { return m_alertButton; }
    AlertNotifier *alertNotifier() const { return m_notifier; }
    CaptureController *captureController() const { return m_capture; }
    // An alert's evidence in every view: the connection filter becomes its connections'
    // (Alert::connectionFilter, as Apply as Filter would), the first evidence connection (the
    // one of its first packet, when it names packets) becomes current and that packet is
    // selected, and the timeline is centred on the alert's time.
    void showAlertEvidence(const Alert &alert);
    // Only the connection filter, as above.
    void applyAlertFilter(const Alert &alert);

signals:
    void packetsExported(const QString &path, qint64 count);
    void errorOccurred(const QString &message);
    void sessionOpened(const QString &path);

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    void createActions();
    void createCentralWidgets();
    void createStatusBar();
    void chooseAndOpen();
    void chooseAndSaveAs();
    void chooseAndExportPackets();
    void connectPacketSignals();
    void onConnectionSelectionChanged();
    // A click on the kernel charts at x seconds: the current connection's packet nearest it.
    void onMetricsClicked(double x);
    // The packet inspector shows this packet (0: none): the charts mark its time, the table's
    // current row follows its connection.
    void onPacketShown(qint64 packetId, qint64 connectionId, qint64 timeNs);
    void onPacketsAdded(const QVector<tcpscope::Packet> &packets);
    void onKernelDataAdded(const tcpscope::KernelData &data);
    void updatePacketLabel();
    void showAbout();
    void showError(const QString &title, const QString &message);
    bool applySession(const QString &path, const std::shared_ptr<Session> &session,
                      const QString &error);
    void setSession(std::shared_ptr<Session> session);
    void scheduleLiveRefresh();
    void refreshLive();

    void onConnectionsUpdated(const QVector<tcpscope::Connection> &changed);
    void onStatsUpdated(const tcpscope::CaptureStats &stats);
    void onInfoReady(const tcpscope::SessionInfo &info);
    void onCaptureFailed(const QString &reason);
    void onCaptureStopped();
    void onClockTick();
    void onAlertsRaised(const QVector<tcpscope::Alert> &alerts); // live, from the capture
    void onAlertsChanged(); // the Alerts tab's rows changed: markers and the status bar follow

    void scheduleTimelineUpdate();
    void updateTimelineMarkers(const QVector<Connection> &shown);
    void updateTimelineNow();
    void updateCounts();
    void setLost(quint64 lost, const QString &interruptions = {});
    void setCaptureState(const QString &text, const QString &color = QString());
    void updateActions();
    // The session file is a finished format-4 session this user may write (saveView would try).
    bool viewCanBeSaved() const;
    // The dialog of annotate(): a's text from the user, then addAnnotation.
    void askForAnnotation(Annotation a, const QString &target, const QString &text);
    void updateTitle();
    qint64 timeEndNs() const;

    std::shared_ptr<Session> m_session;
    ConnectionTableModel *m_model = nullptr; // children of this window
    ConnectionTableView *m_table = nullptr;
    TimelineWidget *m_timeline = nullptr;
    QSplitter *m_splitter = nullptr;
    QLineEdit *m_filterEdit = nullptr; // m_filterBar's box
    FilterBar *m_filterBar = nullptr;
    ContextMenus *m_menus = nullptr; // right-click menus of the table, packet list and details
    void createContextMenus();
    QAction *m_idFilterAction = nullptr; // toolbar: "Showing <label> ✕", visible while active
    QAction *m_idFilterWidgetAction = nullptr;
    void onFilterChanged();
    QLabel *m_stateLabel = nullptr;
    QLabel *m_countLabel = nullptr;
    QLabel *m_rateLabel = nullptr;
    QLabel *m_lostLabel = nullptr;
    QLabel *m_packetLabel = nullptr;
    PacketInspector *m_inspector = nullptr;
    ConnectionDetailView *m_detail = nullptr;
    EndpointsView *m_endpoints = nullptr;    // lower tab "Endpoints": rows filter the table
    OverviewDashboard *m_overview = nullptr; // lower tab "Overview": clicks filter the table
    QTabWidget *m_lowerTabs = nullptr;       // packet inspector | kernel metrics
    PacketExporter *m_exporter = nullptr;
    ChartActions *m_chartActions = nullptr;
    PacketScanJob *m_markerScan = nullptr; // timeline markers of the connections it shows
    QSet<qint64> m_markersOf;              // connections whose markers are on the timeline
    QSet<qint64> m_markersPending;         // connections the running marker scan covers
    CaptureController *m_capture = nullptr;
    QAction *m_exportPacketsAction = nullptr;
    quint64 m_lostPackets = 0;
    quint64 m_filteredPackets = 0;
    QAction *m_startAction = nullptr;
    QAction *m_stopAction = nullptr;
    QAction *m_saveAsAction = nullptr;
    QAction *m_saveAction = nullptr;
    QMap<QString, QString> m_savedView; // as the file holds it: closing asks only when it differs
    QVector<Annotation> m_annotations;
    QVector<Annotation> m_savedAnnotations;
    AnnotationsView *m_annotationsView = nullptr;
    AlertsView *m_alertsView = nullptr; // lower tab "Alerts"
    AlertNotifier *m_notifier = nullptr;
    QToolButton *m_alertButton = nullptr; // status bar: "N alerts (H high)"
    RecentFiles *m_recent = nullptr;

    std::unique_ptr<QThread> m_loadThread; // set while a file is opened in the background
    std::shared_ptr<std::atomic<bool>> m_loadCancel;
    QProgressBar *m_loadProgress = nullptr; // status bar, visible while opening
    QToolButton *m_loadCancelButton = nullptr;
    QTimer m_liveTimer;               // live: refreshes the session at most 4 times a second
    QSet<qint64> m_liveChanged;       // connections LiveCapture reported since the last refresh
    QSet<qint64> m_liveChangedBefore; // the refresh before (the writer commits a little later)
    QString m_sessionPath;
    SessionInfo m_info;
    qint64 m_originNs = 0;
    qint64 m_endNs = 0; // file: session end; live: updated by the clock
    bool m_interactiveErrors = true;
    QTimer m_timelineTimer; // coalesces bursts of live updates into one timeline rebuild
    QTimer m_clockTimer;    // live: open connections grow with the wall clock
};

} // namespace tcpscope
