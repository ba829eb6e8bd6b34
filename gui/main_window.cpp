// SPDX-License-Identifier: GPL-3.0-or-later
#include "main_window.h"

#include "alert_notifier.h"
#include "capture_controller.h"
#include "charts/chart_actions.h"
#include "charts/chart_export.h"
#include "charts/metrics_widget.h"
#include "charts/seq_graph_widget.h"
#include "charts/timeline_widget.h"
#include "dialogs/capture_options_dialog.h"
#include "dialogs/merge_dialog.h"
#include "main_window_packets.h"
#include "models/connection_table_model.h"
#include "models/packet_scan_job.h"
#include "packet_exporter.h"
#include "recent_files.h"
#include "session/session.h"
#include "session/session_store.h"
#include "util/format.h"
#include "views/alerts_view.h"
#include "views/annotations_view.h"
#include "views/capabilities_panel.h"
#include "views/connection_detail_view.h"
#include "views/connection_table_view.h"
#include "views/context_menus.h"
#include "views/endpoints_view.h"
#include "views/filter_bar.h"
#include "views/overview_dashboard.h"
#include "views/packet_inspector.h"
#include "views/packets_panel.h"

#include <algorithm>

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDateTime>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QLineEdit>
#include <QMenuBar>
#include <QMessageBox>
#include <QPointer>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollBar>
#include <QSettings>
#include <QSplitter>
#include <QStatusBar>
#include <QTabWidget>
#include <QThread>
#include <QToolBar>
#include <QToolButton>

namespace tcpscope {

namespace {
const QString kSessionFilter = QStringLiteral("tcpscope sessions (*.tcpscope);;All files (*)");

// Resets the override cursor however the blocking call it brackets ends.
struct BusyCursor
{
    BusyCursor() { QApplication::setOverrideCursor(Qt::WaitCursor); }
    ~BusyCursor() { QApplication::restoreOverrideCursor(); }
};

} // namespace

MainWindow::MainWindow(QWidget *parent) : QMainWindow(parent)
{
    qRegisterMetaType<tcpscope::Connection>();
    qRegisterMetaType<QVector<tcpscope::Connection>>();
    qRegisterMetaType<tcpscope::CaptureStats>();
    qRegisterMetaType<tcpscope::SessionInfo>();
    qRegisterMetaType<tcpscope::Packet>();
    qRegisterMetaType<QVector<tcpscope::Packet>>();
    qRegisterMetaType<tcpscope::KernelData>();

    m_model = new ConnectionTableModel(this);
    m_exporter = new PacketExporter(this);
    m_capture = new CaptureController(this);
    connect(m_capture, &CaptureController::connectionsUpdated, this,
            &MainWindow::onConnectionsUpdated);
    connect(m_capture, &CaptureController::packetsAdded, this, &MainWindow::onPacketsAdded);
    connect(m_capture, &CaptureController::kernelDataAdded, this, &MainWindow::onKernelDataAdded);
    connect(m_capture, &CaptureController::statsUpdated, this, &MainWindow::onStatsUpdated);
    connect(m_capture, &CaptureController::infoReady, this, &MainWindow::onInfoReady);
    connect(m_capture, &CaptureController::failed, this, &MainWindow::onCaptureFailed);
    connect(m_capture, &CaptureController::stopped, this, &MainWindow::onCaptureStopped);
    // The helper's warnings (e.g. an interface it could not attach to); the session's probe
    // notes (capabilities panel) keep them too.
    connect(m_capture, &CaptureController::helperWarning, this, [this](const QString &text) {
        statusBar()->showMessage(tr("tcpscope-helper: %1").arg(text), 10000);
    });
    connect(m_capture, &CaptureController::alertsRaised, this, &MainWindow::onAlertsRaised);
    m_notifier = new AlertNotifier(this);
    connect(m_notifier, &AlertNotifier::statusMessage, this,
            [this](const QString &text) { statusBar()->showMessage(text, 15000); });
    connectPacketSignals();

    createCentralWidgets();
    createActions();
    createStatusBar();
    createContextMenus();

    m_timelineTimer.setSingleShot(true);
    m_timelineTimer.setInterval(150);
    connect(&m_timelineTimer, &QTimer::timeout, this, &MainWindow::updateTimelineNow);
    m_clockTimer.setInterval(1000);
    connect(&m_clockTimer, &QTimer::timeout, this, &MainWindow::onClockTick);
    m_liveTimer.setSingleShot(true);
    m_liveTimer.setInterval(250);
    connect(&m_liveTimer, &QTimer::timeout, this, &MainWindow::refreshLive);

    // The timeline draws the connections the table shows (a bounded window around its scroll
    // position), so it follows the table's order, filter and scrolling.
    for (auto signal : {&QAbstractItemModel::rowsInserted, &QAbstractItemModel::rowsRemoved})
        connect(m_model, signal, this, &MainWindow::scheduleTimelineUpdate);
    connect(m_model, &QAbstractItemModel::modelReset, this, &MainWindow::scheduleTimelineUpdate);
    connect(m_model, &QAbstractItemModel::layoutChanged, this, &MainWindow::scheduleTimelineUpdate);
    connect(m_table->verticalScrollBar(), &QScrollBar::valueChanged, this,
            &MainWindow::scheduleTimelineUpdate);
    connect(m_model, &ConnectionTableModel::notice, this,
            [this](const QString &text) { statusBar()->showMessage(text, 6000); });

    QSettings settings;
    if (!restoreGeometry(settings.value(QStringLiteral("window/geometry")).toByteArray()))
        resize(1400, 900);
    if (!m_splitter->restoreState(settings.value(QStringLiteral("window/splitter")).toByteArray()))
        m_splitter->setSizes({340, 200, 460}); // proportions: the table gets at least a third

    updateActions();
    updateTitle();
    updateCounts();
    onAlertsChanged();
    setLost(0);
    setCaptureState(tr("Idle"));
    updateTimelineNow(); // shows how to get started
}

MainWindow::~MainWindow()
{
    if (m_loadThread) {
        *m_loadCancel = true;
        m_loadThread->wait(); // an open polls the flag; it touches nothing of ours
    }
    m_capture->stop();
}

void MainWindow::createCentralWidgets()
{
    m_table = new ConnectionTableView(m_model, this);
    m_timeline = new TimelineWidget(this);
    m_timeline->setMinimumHeight(180);
    connect(m_timeline, &TimelineWidget::connectionClicked, m_table,
            &ConnectionTableView::selectConnection);
    connect(m_table, &ConnectionTableView::currentConnectionChanged, m_timeline,
            &TimelineWidget::setSelectedId);
    m_inspector = new PacketInspector(this);
    m_inspector->reset(tr("Open a session file or start a capture to see packets"));
    connect(m_table, &ConnectionTableView::currentConnectionChanged, this,
            &MainWindow::onConnectionSelectionChanged);
    connect(m_table, &ConnectionTableView::selectedConnectionsChanged, this,
            &MainWindow::onConnectionSelectionChanged);

    m_splitter = new QSplitter(Qt::Vertical, this);
    m_splitter->addWidget(m_table);
    m_splitter->addWidget(m_timeline);
    // The kernel's view of the selected connections is a sibling of the packet inspector: both
    // answer "what happened on this connection", from the wire and from the kernel.
    m_detail = new ConnectionDetailView(this);
    connect(m_detail->metrics(), &MetricsWidget::timeClicked, this, &MainWindow::onMetricsClicked);
    connect(m_inspector, &PacketInspector::packetShown, this, &MainWindow::onPacketShown);
    m_lowerTabs = new QTabWidget(this);
    m_lowerTabs->setDocumentMode(true);
    m_lowerTabs->addTab(m_inspector, tr("Packets"));
    m_lowerTabs->addTab(m_detail, tr("Kernel metrics"));
    m_lowerTabs->setTabToolTip(0, tr("Packets of the selected connections, sequence graph and "
                                     "packet details (Ctrl+P, Ctrl+G)"));
    m_lowerTabs->setTabToolTip(
        1, tr("The kernel's view of the selected connections: RTT, congestion window, windows, "
              "throughput, retransmits, resets and drops on one time axis (Ctrl+K)"));
    m_overview = new OverviewDashboard(this);
    connect(m_overview, &OverviewDashboard::filterRequested, this,
            &MainWindow::setConnectionIdFilter);
    connect(m_table, &ConnectionTableView::currentConnectionChanged, m_overview,
            &OverviewDashboard::setHighlightedConnection);
    m_lowerTabs->setTabToolTip(m_lowerTabs->addTab(m_overview, tr("Overview")),
                               tr("The whole session at a glance; click a bar, point or row to "
                                  "filter the table (Ctrl+Shift+O)"));
    m_endpoints = new EndpointsView(this);
    connect(m_endpoints, &EndpointsView::filterRequested, this, [this](const QString &expression) {
        m_filterBar->applyText(expression);
        statusBar()->showMessage(tr("Connections of that endpoint: %1").arg(expression), 5000);
    });
    connect(m_model, &ConnectionTableModel::filterChanged, this, [this] {
        // What "Limit to display filter" groups: the table's rows when a filter hides some.
        if (m_model->rowCount() < m_model->totalCount()) {
            QVector<qint64> ids = m_model->ids();
            std::sort(ids.begin(), ids.end());
            m_endpoints->setDisplayedConnections(std::move(ids));
        } else {
            m_endpoints->setDisplayedConnections(std::nullopt);
        }
    });
    m_lowerTabs->setTabToolTip(
        m_lowerTabs->addTab(m_endpoints, tr("Endpoints")),
        tr("Connections per remote address, port and process: bytes, retransmits, resets, RTT; "
           "double-click a row to filter the table on it (Ctrl+Shift+N)"));
    m_annotationsView = new AnnotationsView(this);
    connect(m_annotationsView, &AnnotationsView::activated, this, &MainWindow::goToAnnotation);
    connect(m_annotationsView, &AnnotationsView::removeRequested, this,
            &MainWindow::removeAnnotation);
    connect(m_annotationsView, &AnnotationsView::addRangeRequested, this,
            [this] { annotate(0, 0); });
    m_lowerTabs->setTabToolTip(
        m_lowerTabs->addTab(m_annotationsView, tr("Annotations")),
        tr("Notes on connections, packets and time ranges, kept in the file by File ▸ Save View"));
    m_alertsView = new AlertsView(this);
    connect(m_alertsView, &AlertsView::alertsChanged, this, &MainWindow::onAlertsChanged);
    connect(m_alertsView, &AlertsView::activated, this, &MainWindow::showAlertEvidence);
    connect(m_alertsView, &AlertsView::applyFilterRequested, this, &MainWindow::applyAlertFilter);
    connect(m_alertsView, &AlertsView::annotateRequested, this, [this](const Alert &a) {
        const double t = double(a.timeNs - m_originNs) / 1e9;
        annotate(QCPRange(t, t), a.summary);
    });
    connect(m_alertsView, &AlertsView::message, this,
            [this](const QString &text) { statusBar()->showMessage(text, 4000); });
    m_lowerTabs->setTabToolTip(
        m_lowerTabs->addTab(m_alertsView, tr("Alerts")),
        tr("What the detectors raised: port scans, SYN floods, reset storms, stalls…; "
           "double-click one to show its evidence in every view (Ctrl+Shift+A)"));
    m_splitter->addWidget(m_lowerTabs);
    m_splitter->setStretchFactor(0, 2);
    m_splitter->setStretchFactor(1, 3);
    m_splitter->setStretchFactor(2, 4);
    m_splitter->setChildrenCollapsible(false);
    setCentralWidget(m_splitter);
}

void MainWindow::createActions()
{
    QMenu *file = menuBar()->addMenu(tr("&File"));
    QMenu *captureMenu = menuBar()->addMenu(tr("&Capture"));
    m_startAction = captureMenu->addAction(QIcon::fromTheme(QStringLiteral("media-record")),
                                           tr("&Start Capture"));
    m_startAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_R));
    m_startAction->setToolTip(
        tr("Record every TCP connection on this machine (needs the privileged helper)"));
    connect(m_startAction, &QAction::triggered, this, &MainWindow::startCapture);
    m_stopAction = captureMenu->addAction(QIcon::fromTheme(QStringLiteral("media-playback-stop")),
                                          tr("S&top Capture"));
    m_stopAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_E));
    connect(m_stopAction, &QAction::triggered, this, &MainWindow::stopCapture);
    captureMenu->addSeparator();
    QAction *options =
        captureMenu->addAction(QIcon::fromTheme(QStringLiteral("configure")), tr("&Options…"));
    options->setToolTip(
        tr("Packets on/off, payload snapshot size and the kernel-side capture filter"));
    connect(options, &QAction::triggered, this, &MainWindow::showCaptureOptions);
    QAction *remoteHosts = captureMenu->addAction(
        QIcon::fromTheme(QStringLiteral("network-server")), tr("&Remote Hosts…"));
    remoteHosts->setObjectName(QStringLiteral("remoteHostsAction"));
    remoteHosts->setToolTip(
        tr("Which hosts the next capture records: this machine and/or others over SSH"));
    connect(remoteHosts, &QAction::triggered, this, &MainWindow::showRemoteHosts);
    QAction *open =
        file->addAction(QIcon::fromTheme(QStringLiteral("document-open")), tr("&Open…"));
    open->setShortcut(QKeySequence::Open);
    connect(open, &QAction::triggered, this, &MainWindow::chooseAndOpen);
    QMenu *recentMenu = file->addMenu(tr("Open &Recent"));
    m_recent = new RecentFiles(recentMenu, this);
    connect(m_recent, &RecentFiles::fileChosen, this, &MainWindow::openSessionInBackground);
    m_saveAction =
        file->addAction(QIcon::fromTheme(QStringLiteral("document-save")), tr("&Save View"));
    m_saveAction->setShortcut(QKeySequence::Save);
    m_saveAction->setToolTip(tr("Keep the filters, selection, tabs, columns and timeline zoom in "
                                "the session file: reopening it shows the same"));
    connect(m_saveAction, &QAction::triggered, this, &MainWindow::saveView);
    m_saveAsAction =
        file->addAction(QIcon::fromTheme(QStringLiteral("document-save-as")), tr("Save &As…"));
    m_saveAsAction->setShortcut(QKeySequence::SaveAs);
    connect(m_saveAsAction, &QAction::triggered, this, &MainWindow::chooseAndSaveAs);
    QAction *merge = file->addAction(tr("&Merge…"));
    merge->setToolTip(tr("Put sessions recorded on several hosts into one, on one time axis"));
    connect(merge, &QAction::triggered, this, [this] {
        MergeDialog dialog(this);
        if (!m_sessionPath.isEmpty())
            dialog.setInputs({m_sessionPath});
        if (dialog.exec() == QDialog::Accepted && !dialog.mergedPath().isEmpty())
            openSessionInBackground(dialog.mergedPath());
    });
    m_exportPacketsAction = file->addAction(QIcon::fromTheme(QStringLiteral("document-export")),
                                            tr("&Export Packets (pcapng)…"));
    m_exportPacketsAction->setToolTip(tr("Write the packets of the selected connections (all when "
                                         "none is selected) as pcapng for Wireshark/tshark"));
    connect(m_exportPacketsAction, &QAction::triggered, this, &MainWindow::chooseAndExportPackets);
    m_chartActions = new ChartActions(this); // File ▸ Export Chart… and the charts' context menus
    file->addAction(m_chartActions->exportAction());
    connect(file, &QMenu::aboutToShow, m_chartActions, &ChartActions::updateAction);
    file->addSeparator();
    QAction *quit =
        file->addAction(QIcon::fromTheme(QStringLiteral("application-exit")), tr("&Quit"));
    quit->setShortcut(QKeySequence::Quit);
    connect(quit, &QAction::triggered, this, &QWidget::close);

    QMenu *view = menuBar()->addMenu(tr("&View"));
    QAction *fit = view->addAction(tr("&Fit Timeline"));
    fit->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_0));
    fit->setToolTip(tr("Show the whole time range (same as double-clicking the timeline)"));
    connect(fit, &QAction::triggered, this, [this] {
        m_timeline->fitAll();
        m_timeline->replot();
    });
    QAction *seq = view->addAction(tr("&Sequence Graph"));
    seq->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_G));
    connect(seq, &QAction::triggered, this, [this] {
        m_lowerTabs->setCurrentWidget(m_inspector);
        m_inspector->showSequenceGraph();
    });
    QAction *packetsTab = view->addAction(tr("&Packets"));
    packetsTab->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_P));
    connect(packetsTab, &QAction::triggered, this, [this] {
        m_lowerTabs->setCurrentWidget(m_inspector);
        m_inspector->tabs()->setCurrentIndex(0);
    });
    QAction *kernelTab = view->addAction(tr("&Kernel Metrics"));
    kernelTab->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_K));
    kernelTab->setToolTip(tr("RTT, cwnd, windows and throughput of the selected connections"));
    connect(kernelTab, &QAction::triggered, this, &MainWindow::showKernelMetrics);
    QAction *overviewTab = view->addAction(tr("Session &Overview"));
    overviewTab->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O));
    connect(overviewTab, &QAction::triggered, this,
            [this] { m_lowerTabs->setCurrentWidget(m_overview); });
    QAction *endpointsTab = view->addAction(tr("&Endpoints"));
    endpointsTab->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_N));
    endpointsTab->setToolTip(tr("Connections per remote address, port and process"));
    connect(endpointsTab, &QAction::triggered, this,
            [this] { m_lowerTabs->setCurrentWidget(m_endpoints); });
    QAction *alertsTab = view->addAction(tr("&Alerts"));
    alertsTab->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_A));
    alertsTab->setToolTip(tr("What the detectors raised, each with its evidence"));
    connect(alertsTab, &QAction::triggered, this,
            [this] { m_lowerTabs->setCurrentWidget(m_alertsView); });
    QAction *focusFilter = view->addAction(tr("Filter"));
    focusFilter->setShortcut(QKeySequence::Find);
    connect(focusFilter, &QAction::triggered, this,
            [this] { m_filterEdit->setFocus(Qt::ShortcutFocusReason); });

    QMenu *help = menuBar()->addMenu(tr("&Help"));
    connect(help->addAction(tr("Kernel &Capabilities…")), &QAction::triggered, this,
            [this] { showCapabilitiesDialog(this, m_info, isCapturing()); });
    connect(help->addAction(tr("&About tcpscope")), &QAction::triggered, this,
            &MainWindow::showAbout);
    connect(help->addAction(tr("About &Qt")), &QAction::triggered, qApp, &QApplication::aboutQt);

    QToolBar *bar = addToolBar(tr("Main"));
    bar->setObjectName(QStringLiteral("mainToolBar"));
    bar->setMovable(false);
    bar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    bar->addAction(m_startAction);
    bar->addAction(m_stopAction);
    bar->addAction(open);
    bar->addSeparator();
    // The connection filter: display-filter expressions (or plain words), see views/filter_bar.h.
    m_filterBar = new FilterBar(FilterTarget::Connections, QStringLiteral("connections"), bar);
    m_filterEdit = m_filterBar->edit();
    m_filterEdit->setMinimumWidth(480);
    bar->addWidget(new QLabel(tr(" Filter "), bar));
    bar->addWidget(m_filterBar);
    connect(m_filterBar, &FilterBar::applied, m_model, &ConnectionTableModel::setFilterText);
    // The id filter is not text the user typed, so it gets its own visible, clearable chip.
    auto *idFilter = new QToolButton(bar);
    idFilter->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    idFilter->setAutoRaise(true);
    idFilter->setStyleSheet(QStringLiteral("QToolButton { background: #fff3c4; border: 1px solid "
                                           "#d0a000; border-radius: 3px; padding: 1px 6px; }"));
    m_idFilterAction = new QAction(QIcon::fromTheme(QStringLiteral("edit-clear")), QString(), this);
    idFilter->setDefaultAction(m_idFilterAction);
    connect(m_idFilterAction, &QAction::triggered, m_model,
            &ConnectionTableModel::clearConnectionIdFilter);
    m_idFilterWidgetAction = bar->addWidget(idFilter);
    m_idFilterWidgetAction->setVisible(false);
    connect(m_model, &ConnectionTableModel::filterChanged, this, &MainWindow::onFilterChanged);
}

void MainWindow::setConnectionIdFilter(const QSet<qint64> &ids, const QString &label)
{
    m_model->setConnectionIdFilter(ids, label);
}

void MainWindow::onFilterChanged()
{
    const bool active = m_model->hasConnectionIdFilter();
    m_idFilterAction->setText(active ? tr("Showing %1 (%n connection(s)) ✕", nullptr,
                                          int(m_model->connectionIdFilter().size()))
                                           .arg(m_model->connectionIdFilterLabel().isEmpty()
                                                    ? tr("a selection")
                                                    : m_model->connectionIdFilterLabel())
                                     : QString());
    m_idFilterAction->setToolTip(
        tr("Only these connections are shown in the table and timeline. Click to show all again."));
    m_idFilterWidgetAction->setVisible(active);
    updateTimelineNow();
    updateCounts();
}

void MainWindow::createStatusBar()
{
    auto makeLabel = [this](const QString &tip) {
        auto *label = new QLabel(this);
        label->setToolTip(tip);
        label->setContentsMargins(8, 0, 8, 0);
        statusBar()->addPermanentWidget(label);
        return label;
    };
    m_countLabel = makeLabel(tr("Connections in the session (and how many the filter shows)"));
    m_alertButton = new QToolButton(this);
    m_alertButton->setObjectName(QStringLiteral("alertButton"));
    m_alertButton->setAutoRaise(true);
    m_alertButton->setToolTip(
        tr("Alerts the detectors raised (how many of high severity); click to see them"));
    connect(m_alertButton, &QToolButton::clicked, this,
            [this] { m_lowerTabs->setCurrentWidget(m_alertsView); });
    statusBar()->addPermanentWidget(m_alertButton);
    m_rateLabel = makeLabel(tr("Records per second arriving from the kernel"));
    m_packetLabel = makeLabel(
        tr("Packets captured / lost by the kernel side / left out by the capture filter.\n"
           "Counted per socket: a connection with both ends on this host (loopback, containers)\n"
           "is two sockets that each saw every packet, so its packets count twice here;\n"
           "tcpscope info counts each wire packet once (\u201cOn the wire\u201d)."));
    m_lostLabel = makeLabel(tr("Records the kernel could not deliver (ring buffer full)"));
    m_stateLabel = makeLabel(tr("Capture state"));
    m_stateLabel->setObjectName(QStringLiteral("captureState"));
    m_loadProgress = new QProgressBar(this);
    m_loadProgress->setRange(0, 100);
    m_loadProgress->setMaximumWidth(160);
    m_loadProgress->setToolTip(tr("Opening the session file"));
    m_loadProgress->hide();
    statusBar()->addWidget(m_loadProgress);
    m_loadCancelButton = new QToolButton(this);
    m_loadCancelButton->setText(tr("Cancel"));
    m_loadCancelButton->setToolTip(tr("Stop opening this file (the current session stays)"));
    m_loadCancelButton->hide();
    connect(m_loadCancelButton, &QToolButton::clicked, this, &MainWindow::cancelOpen);
    statusBar()->addWidget(m_loadCancelButton);
}

bool MainWindow::isCapturing() const
{
    return m_capture->isRunning();
}

bool MainWindow::openSession(const QString &path)
{
    if (isCapturing())
        stopCapture();
    QString error;
    std::unique_ptr<Session> session;
    {
        BusyCursor busy;
        session = Session::open(path, &error);
    }
    return applySession(path, std::move(session), error);
}

void MainWindow::openSessionInBackground(const QString &path)
{
    if (m_loadThread) {
        statusBar()->showMessage(tr("Still opening another file…"), 3000);
        return;
    }
    if (isCapturing())
        stopCapture();
    statusBar()->showMessage(tr("Opening %1…").arg(QDir::toNativeSeparators(path)));
    m_loadProgress->setValue(0);
    m_loadProgress->show();
    m_loadCancelButton->show();
    // Session::open is self-contained (own SQLite handle), so it runs on a worker thread; the
    // window stays usable (and shows the previous session) until it is done.
    struct Result
    {
        std::unique_ptr<Session> session;
        QString error;
    };
    auto result = std::make_shared<Result>();
    m_loadCancel = std::make_shared<std::atomic<bool>>(false);
    const auto cancel = m_loadCancel;
    QPointer<QProgressBar> bar = m_loadProgress;
    m_loadThread.reset(QThread::create([path, result, cancel, bar] {
        result->session = Session::open(path, &result->error, cancel.get(), [bar](int percent) {
            QMetaObject::invokeMethod(
                bar,
                [bar, percent] {
                    if (bar)
                        bar->setValue(percent);
                },
                Qt::QueuedConnection);
        });
        // Counted here, off the GUI thread: the table asks for the count first thing.
        if (result->session)
            result->session->connectionCount();
    }));
    connect(
        m_loadThread.get(), &QThread::finished, this,
        [this, path, result, cancel] {
            m_loadThread.reset();
            m_loadProgress->hide();
            m_loadCancelButton->hide();
            statusBar()->clearMessage();
            if (cancel->load()) {
                statusBar()->showMessage(tr("Opening %1 cancelled").arg(QFileInfo(path).fileName()),
                                         5000);
                return;
            }
            applySession(path, std::move(result->session), result->error);
        },
        Qt::QueuedConnection);
    m_loadThread->start();
}

void MainWindow::cancelOpen()
{
    if (m_loadCancel)
        *m_loadCancel = true;
}

// The session's time range without reading its rows: the recorded start/stop, else the first
// and last second of the per-second table (format 4, a few hundred rows), else the earliest start
// and the latest start/end of the connections (older files: sorted in memory by the Session).
static std::pair<qint64, qint64> timeRange(const Session &session)
{
    const SessionInfo info = session.info();
    qint64 origin = info.startedNs, end = info.stoppedNs;
    if (origin > 0 && end > 0)
        return {origin, end};
    // Older formats compute seconds by scanning every table: not worth it for a time range.
    const QVector<SecondBucket> seconds =
        session.format().major >= 4 ? session.seconds() : QVector<SecondBucket>();
    auto first = [&](const char *column, bool descending) -> std::optional<Connection> {
        ConnectionQuery q;
        q.sortColumn = QString::fromLatin1(column);
        q.descending = descending;
        const QVector<qint64> ids = session.connectionIds(q);
        const QVector<Connection> c =
            ids.isEmpty() ? QVector<Connection>() : session.connections({ids.first()});
        return c.isEmpty() ? std::nullopt : std::optional<Connection>(c.first());
    };
    if (origin <= 0 && !seconds.isEmpty()) {
        origin = seconds.constFirst().secondNs;
    } else if (origin <= 0) {
        const std::optional<Connection> c = first("start_ns", false);
        origin = c ? c->startNs : 0;
    }
    if (end <= 0 && !seconds.isEmpty()) {
        end = std::max(origin, seconds.constLast().secondNs + 1'000'000'000);
    } else if (end <= 0) {
        end = origin;
        if (const std::optional<Connection> c = first("end_ns", true))
            end = std::max(end, c->endNs);
        if (const std::optional<Connection> c = first("start_ns", true))
            end = std::max(end, c->startNs);
    }
    return {origin, end};
}

bool MainWindow::applySession(const QString &path, const std::shared_ptr<Session> &session,
                              const QString &error)
{
    if (!session) {
        if (!QFileInfo::exists(path))
            m_recent->remove(path);
        const QString message =
            tr("Could not open %1:\n%2").arg(QDir::toNativeSeparators(path), error);
        // A write to the file was interrupted (a hot -journal, a -wal without its -shm): reading
        // never writes, so recovering is offered, and done only with the user's consent.
        bool recoverable = false;
        openSessionReadOnly(path, nullptr, &recoverable);
        if (recoverable && m_interactiveErrors) {
            statusBar()->showMessage(error.section(QLatin1Char('\n'), 0, 0), 10000);
            emit errorOccurred(message);
            QMessageBox box(QMessageBox::Warning, tr("Cannot open session"), message,
                            QMessageBox::Cancel, this);
            box.setInformativeText(
                tr("Recover opens the file for writing to finish the interrupted write, checks it "
                   "and opens it (the same as 'tcpscope recover')."));
            QPushButton *recover = box.addButton(tr("Recover"), QMessageBox::AcceptRole);
            box.exec();
            if (box.clickedButton() == recover) {
                QString why;
                bool ok;
                {
                    BusyCursor busy;
                    ok = recoverSession(path, &why);
                }
                if (ok)
                    openSessionInBackground(path);
                else
                    showError(
                        tr("Recover"),
                        tr("Could not recover %1:\n%2").arg(QDir::toNativeSeparators(path), why));
            }
            return false;
        }
        showError(tr("Cannot open session"), message);
        return false;
    }
    m_capture->release();
    m_info = session->info();
    m_sessionPath = QFileInfo(path).absoluteFilePath();
    std::tie(m_originNs, m_endNs) = timeRange(*session);
    setSession(session);
    m_model->setReferenceTimeNs(m_endNs);
    m_inspector->reset(noPacketsHint(m_info, false));
    m_inspector->setOriginNs(m_originNs);
    m_inspector->setInterfaces(m_info.interfaces);
    m_detail->reset(tr("Select a connection in the table to see the kernel's view of it"));
    m_detail->setSessionInfo(m_info, false);
    m_detail->setOriginNs(m_originNs);
    m_detail->setSessionEndNs(m_endNs);
    m_overview->setSession(m_originNs, m_endNs, m_info.kernelMetrics);
    m_lostPackets = m_info.lostPackets;
    m_filteredPackets = m_info.packetsFiltered;
    updateTimelineNow();
    onConnectionSelectionChanged();
    updatePacketLabel();
    m_recent->add(m_sessionPath);
    m_rateLabel->setText(tr("%1 records").arg(m_info.recordsReceived));
    {
        QStringList why;
        for (const Interruption &i : std::as_const(m_info.interruptions))
            why << interruptionText(i);
        setLost(m_info.lostRecords + m_info.readerDropped + m_info.writerDropped,
                why.join(QLatin1Char('\n')));
    }
    setCaptureState(tr("Viewing file"));
    updateCounts();
    updateActions();
    updateTitle();
    statusBar()->showMessage(tr("Opened %1 (%2 connections)")
                                 .arg(QFileInfo(path).fileName())
                                 .arg(session->connectionCount()),
                             5000);
    m_annotationsView->setAnnotations(m_annotations, m_originNs); // the origin is known now
    m_timeline->setAnnotations(m_annotations);
    m_savedView = session->savedView();
    if (!m_savedView.isEmpty())
        applyView(m_savedView);
    m_savedView = currentView(); // what closing compares with: the view as shown now
    emit sessionOpened(m_sessionPath);
    return true;
}

void MainWindow::setSession(std::shared_ptr<Session> session)
{
    m_session = std::move(session);
    m_markerScan->cancel();
    m_markersOf.clear();
    m_markersPending.clear();
    m_timeline->clear();
    m_timeline->clearAnalysisMarkers();
    m_model->setSession(m_session);
    m_inspector->setSession(m_session);
    m_detail->setSession(m_session);
    m_overview->setSession(m_session);  // computes on its own worker thread
    m_endpoints->setSession(m_session); // so does this
    m_alertsView->setOriginNs(m_originNs);
    m_alertsView->setSession(m_session, m_sessionPath,
                             isCapturing()); // stored, or computed on a worker
    m_annotations = m_savedAnnotations =
        m_session ? m_session->annotations() : QVector<Annotation>();
    m_annotationsView->setAnnotations(m_annotations, m_originNs);
    m_timeline->setAnnotations(m_annotations);
}

bool MainWindow::saveSessionAs(const QString &dest)
{
    if (m_sessionPath.isEmpty()) {
        showError(tr("Save As"),
                  tr("There is no session to save yet: open a file or start a capture."));
        return false;
    }
    if (QFileInfo(dest).absoluteFilePath() == m_sessionPath)
        return true; // already there
    QString error;
    bool ok;
    {
        BusyCursor busy;
        ok = saveSessionCopy(m_sessionPath, dest, &error);
    }
    if (!ok) {
        showError(tr("Save As"),
                  tr("Could not save to %1:\n%2").arg(QDir::toNativeSeparators(dest), error));
        return false;
    }
    // The copy is ours and finished: it keeps the view too (a copy of a recording still in
    // progress is finished as well).
    if (!saveSessionView(dest, currentView(), m_annotations, &error))
        statusBar()->showMessage(
            tr("Saved %1 (without the view: %2)").arg(QDir::toNativeSeparators(dest), error), 8000);
    else
        statusBar()->showMessage(tr("Saved %1").arg(QDir::toNativeSeparators(dest)), 5000);
    m_recent->add(dest);
    return true;
}

void MainWindow::chooseAndOpen()
{
    const QString dir = QFileInfo(m_recent->files().value(0)).absolutePath();
    const QString path =
        QFileDialog::getOpenFileName(this, tr("Open Session"), dir, kSessionFilter);
    if (!path.isEmpty())
        openSessionInBackground(path);
}

void MainWindow::chooseAndSaveAs()
{
    const QString suggested = QDir::home().filePath(QFileInfo(m_sessionPath).fileName());
    QString path =
        QFileDialog::getSaveFileName(this, tr("Save Session As"), suggested, kSessionFilter);
    if (path.isEmpty())
        return;
    if (QFileInfo(path).suffix().isEmpty())
        path += QStringLiteral(".tcpscope");
    saveSessionAs(path);
}

void MainWindow::scheduleTimelineUpdate()
{
    if (!m_timelineTimer.isActive())
        m_timelineTimer.start();
}

void MainWindow::updateTimelineNow()
{
    m_timelineTimer.stop();
    // A window of the table's rows from its first visible one: the timeline never holds more
    // than kTimelineRows connections with their histories, however large the session.
    constexpr int kTimelineRows = 300;
    const int rows = m_model->rowCount();
    const int top = std::max(0, m_table->rowAt(0));
    const int first = std::clamp(top, 0, std::max(0, rows - kTimelineRows));
    QVector<Connection> ordered;
    ordered.reserve(std::min(rows, kTimelineRows));
    for (int row = first; row < std::min(rows, first + kTimelineRows); ++row)
        ordered.append(m_model->connectionAt(row)); // the table's pages: read once for both
    const qint64 total = m_model->totalCount();
    if (total > 0 && m_model->hasConnectionIdFilter() && m_model->filterText().isEmpty())
        m_timeline->setEmptyText(tr("None of the connections of \"%1\" is in this session")
                                     .arg(m_model->connectionIdFilterLabel()));
    else if (total > 0)
        m_timeline->setEmptyText(
            tr("No connection matches the filter \"%1\"").arg(m_model->filterText()));
    else if (isCapturing())
        m_timeline->setEmptyText(tr("Capturing — waiting for TCP connections…"));
    else if (!m_sessionPath.isEmpty())
        m_timeline->setEmptyText(tr("This session has no connections"));
    else
        m_timeline->setEmptyText(
            tr("Open a session file (Ctrl+O) or start a live capture (Ctrl+R)"));
    m_timeline->setConnections(ordered, m_originNs, m_endNs);
    m_timeline->setToolTip(rows > kTimelineRows
                               ? tr("Rows %1–%2 of %3: the timeline follows the table's scrolling")
                                     .arg(first + 1)
                                     .arg(first + ordered.size())
                                     .arg(rows)
                               : QString());
    updateTimelineMarkers(ordered);
}

void MainWindow::setFilterText(const QString &text)
{
    // An invalid expression is not applied: the box turns red and says why.
    m_filterBar->applyText(text, false); // filterChanged updates the timeline and counts
}

void MainWindow::updateCounts()
{
    const qint64 total = m_model->totalCount();
    const qint64 shown = m_model->rowCount();
    const QString all = total == 1 ? tr("1 connection") : tr("%1 connections").arg(total);
    m_countLabel->setText(total == shown ? all : tr("%1 of %2 shown").arg(shown).arg(all));
}

void MainWindow::setLost(quint64 lost, const QString &interruptions)
{
    // Interrupted with nothing counted (e.g. the helper ended early) is still incomplete.
    const bool incomplete = lost > 0 || !interruptions.isEmpty();
    m_lostLabel->setText(interruptions.isEmpty() ? tr("%1 records lost").arg(lost)
                                                 : tr("%1 records lost · interrupted").arg(lost));
    m_lostLabel->setToolTip(interruptions.isEmpty()
                                ? tr("Records the kernel, the helper or the disk could not deliver")
                                : tr("Interrupted:\n%1").arg(interruptions));
    m_lostLabel->setStyleSheet(
        incomplete ? QStringLiteral("color: white; background: #b00000; font-weight: bold;")
                   : QString());
}

void MainWindow::setCaptureState(const QString &text, const QString &color)
{
    m_stateLabel->setText(text);
    m_stateLabel->setStyleSheet(
        color.isEmpty() ? QString() : QStringLiteral("color: %1; font-weight: bold;").arg(color));
}

void MainWindow::updateActions()
{
    const bool capturing = isCapturing();
    m_startAction->setEnabled(!capturing);
    m_stopAction->setEnabled(capturing);
    m_saveAsAction->setEnabled(!m_sessionPath.isEmpty());
    m_saveAction->setEnabled(!m_sessionPath.isEmpty() && !capturing);
    m_exportPacketsAction->setEnabled(m_session && m_session->packetCount() > 0 &&
                                      !m_exporter->isRunning());
}

void MainWindow::updateTitle()
{
    QString title = QStringLiteral("tcpscope");
    if (!m_sessionPath.isEmpty())
        title =
            QStringLiteral("%1%2 — tcpscope")
                .arg(QFileInfo(m_sessionPath).fileName(),
                     isCapturing() ? tr(" (capturing %1)")
                                         .arg(m_capture->hostLabels().join(QStringLiteral(", ")))
                                   : QString());
    setWindowTitle(title);
}

void MainWindow::showError(const QString &title, const QString &message)
{
    statusBar()->showMessage(message.section(QLatin1Char('\n'), 0, 0), 10000);
    emit errorOccurred(message);
    if (m_interactiveErrors)
        QMessageBox::critical(this, title, message);
}

void MainWindow::showAbout()
{
    QMessageBox::about(
        this, tr("About tcpscope"),
        tr("<h3>tcpscope %1</h3>"
           "<p>Watch the lifecycle of every TCP connection on this machine, live from the kernel "
           "via eBPF, and keep what you saw in a session file.</p>"
           "<p>Licensed under the GNU General Public License, version 3 or (at your option) any "
           "later version (GPL-3.0-or-later). This program comes with ABSOLUTELY NO WARRANTY.</p>"
           "<p>Charts are drawn with <a href='https://www.qcustomplot.com/'>QCustomPlot</a> by "
           "Emanuel Eichhammer (GPL-3.0). Built with Qt %2.</p>")
            .arg(QStringLiteral(TCPSCOPE_VERSION), QString::fromLatin1(qVersion())));
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    // A changed view of a file that can keep it: ask before it is lost.
    if (m_interactiveErrors && !m_sessionPath.isEmpty() && !isCapturing() &&
        (currentView() != m_savedView || m_annotations != m_savedAnnotations) && viewCanBeSaved()) {
        const auto answer = QMessageBox::question(
            this, tr("Keep the view?"),
            tr("Save the current filters, selection, tabs, zoom and annotations into %1, so it "
               "reopens the same?")
                .arg(QFileInfo(m_sessionPath).fileName()),
            QMessageBox::Save | QMessageBox::Discard | QMessageBox::Cancel, QMessageBox::Save);
        if (answer == QMessageBox::Cancel) {
            event->ignore();
            return;
        }
        if (answer == QMessageBox::Save && !saveView()) {
            event->ignore();
            return;
        }
    }
    stopCapture();
    QSettings settings;
    settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
    settings.setValue(QStringLiteral("window/splitter"), m_splitter->saveState());
    event->accept();
}

} // namespace tcpscope
