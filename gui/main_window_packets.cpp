// SPDX-License-Identifier: GPL-3.0-or-later
// MainWindow's packet side: the packet store fed by a file or the live capture, the inspector
// following the connection selection, capture options, pcapng export and the packet counters.
#include "main_window.h"

#include "capture_controller.h"
#include "charts/metrics_widget.h"
#include "charts/seq_graph_widget.h"
#include "charts/timeline_widget.h"
#include "dialogs/capture_options_dialog.h"
#include "main_window_packets.h"
#include "models/connection_table_model.h"
#include "models/packet_pages.h"
#include "models/packet_scan_job.h"
#include "packet_exporter.h"
#include "tcpscope_records.h"
#include "views/annotations_view.h"
#include "views/connection_detail_view.h"
#include "views/connection_table_view.h"
#include "views/context_menus.h"
#include "views/filter_bar.h"
#include "views/packet_details_view.h"
#include "views/packet_inspector.h"
#include "views/packets_panel.h"

#include <QTableView>

#include <algorithm>
#include <cmath>

#include <QAction>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QStatusBar>

namespace tcpscope {

QString noPacketsHint(const SessionInfo &info, bool capturing)
{
    if (capturing)
        return QObject::tr("Capturing — packets of the selected connections appear here");
    if (!info.packetsCaptured)
        return QObject::tr("This session has no packets: it was recorded without packet capture "
                           "(--no-packets, or an older tcpscope). Capture ▸ Options… turns it on.");
    return QObject::tr("No packets for the selected connections");
}

void MainWindow::connectPacketSignals()
{
    m_markerScan = new PacketScanJob(this);
    connect(m_markerScan, &PacketScanJob::finished, this, [this](const PacketScanResult &result) {
        m_markersOf += m_markersPending;
        m_markersPending.clear();
        m_timeline->addAnalysisMarkers(result.matches);
        m_timeline->replot();
    });
    connect(m_exporter, &PacketExporter::finished, this,
            [this](const QString &path, qint64 count, const QString &error) {
                updateActions();
                if (count < 0) {
                    showError(tr("Export Packets"),
                              tr("Could not export packets to %1:\n%2")
                                  .arg(QDir::toNativeSeparators(path), error));
                    return;
                }
                statusBar()->showMessage(
                    tr("Exported %1 packets to %2").arg(count).arg(QDir::toNativeSeparators(path)),
                    8000);
                emit packetsExported(path, count);
            });
}

void MainWindow::updateTimelineMarkers(const QVector<Connection> &shown)
{
    // Markers need the packets' times, but only of the connections on the timeline whose
    // summary says they had a retransmission, RST or zero window: those are scanned on a
    // worker (their own Session handle), the rest cost nothing.
    QSet<qint64> wanted = m_markerScan->isRunning() ? m_markersPending : QSet<qint64>();
    bool added = false;
    for (const Connection &c : shown) {
        const PacketCounts &n = c.packets;
        if (n.retransmissions + n.resets + n.zeroWindows > 0 && !m_markersOf.contains(c.id) &&
            !wanted.contains(c.id)) {
            wanted.insert(c.id);
            added = true;
        }
    }
    if (!added || !m_session)
        return;
    // A scan still running is replaced by one that also covers its connections.
    m_markersPending = wanted;
    constexpr qint64 kMaxMarkers = 100'000; // drawn at most one per pixel anyway
    m_markerScan->start(
        m_session->path(), QVector<qint64>(wanted.cbegin(), wanted.cend()),
        [](const Packet &p) {
            return (p.analysis & (AnalysisRetransmission | AnalysisZeroWindow)) ||
                   (p.tcpFlags & TS_TCP_RST);
        },
        kMaxMarkers);
}

void MainWindow::onPacketsAdded(const QVector<Packet> &packets)
{
    for (const Packet &p : packets)
        if (p.connectionId > 0)
            m_liveChanged.insert(p.connectionId);
    scheduleLiveRefresh();
}

void MainWindow::onKernelDataAdded(const KernelData &data)
{
    for (const TcpSample &s : data.samples)
        m_liveChanged.insert(s.connectionId);
    for (const KernelEvent &e : data.events)
        m_liveChanged.insert(e.connectionId);
    for (const DropEvent &d : data.drops)
        m_liveChanged.insert(d.connectionId);
    scheduleLiveRefresh();
}

void MainWindow::createContextMenus()
{
    PacketsPanel *panel = m_inspector->packetsPanel();
    ContextMenus::Views views;
    views.connections = m_table;
    views.connectionModel = m_model;
    views.connectionFilter = m_filterBar;
    views.packets = panel->view();
    views.packetModel = panel->model();
    views.packetFilter = panel->filterBar();
    views.details = m_inspector->detailsView();
    views.endpoints = m_endpoints;
    m_menus = new ContextMenus(views, this);
    // The filter boxes' errors and notes, and what a menu did, go to the status bar.
    auto show = [this](const QString &text) {
        if (text.isEmpty())
            statusBar()->clearMessage();
        else
            statusBar()->showMessage(text, 10000);
    };
    connect(m_filterBar, &FilterBar::messageChanged, this, show);
    connect(panel->filterBar(), &FilterBar::messageChanged, this, show);
    connect(m_menus, &ContextMenus::message, this, show);
    // The menu made the connection the table's current one; these switch the lower pane to it.
    connect(m_menus, &ContextMenus::showPacketsRequested, this, [this] {
        m_lowerTabs->setCurrentWidget(m_inspector);
        m_inspector->tabs()->setCurrentIndex(0);
    });
    connect(m_menus, &ContextMenus::sequenceGraphRequested, this, [this] {
        m_lowerTabs->setCurrentWidget(m_inspector);
        m_inspector->showSequenceGraph();
    });
    connect(m_menus, &ContextMenus::kernelMetricsRequested, this, &MainWindow::showKernelMetrics);
    connect(m_menus, &ContextMenus::annotateRequested, this,
            qOverload<qint64, qint64>(&MainWindow::annotate));
    connect(m_menus, &ContextMenus::annotateTimeRequested, this,
            [this](const QString &text) { annotate(m_timeline->xAxis->range(), text); });
    connect(m_model, &ConnectionTableModel::filteringChanged, this, [this](bool filtering) {
        if (filtering)
            statusBar()->showMessage(tr("Filtering %1 connections…").arg(m_model->totalCount()));
        else
            statusBar()->clearMessage();
    });
}

void MainWindow::showKernelMetrics()
{
    m_lowerTabs->setCurrentWidget(m_detail);
}

void MainWindow::onConnectionSelectionChanged()
{
    const qint64 current = m_table->currentConnectionId();
    QVector<qint64> selected = m_table->selectedConnectionIds();
    // Nothing selected lists every packet; a current row then (it followed a packet of the
    // whole list) is what the graph and the kernel charts show.
    const bool currentOnly = selected.isEmpty() && current > 0;
    m_inspector->setConnections(selected, current > 0 && (currentOnly || selected.contains(current))
                                              ? current
                                              : selected.value(0));
    m_detail->setConnections(currentOnly ? QVector<qint64>{current} : selected, current);
    m_annotationsView->selectConnections(currentOnly ? QVector<qint64>{current} : selected);
    updateActions();
}

void MainWindow::onMetricsClicked(double x)
{
    if (!m_session)
        return;
    const qint64 id = m_detail->shownConnectionId(); // the connection the charts are about
    if (id <= 0)
        return;
    const Packet p = packetNearestTime(*m_session, id, m_originNs + qint64(std::llround(x * 1e9)));
    if (p.id == 0) {
        statusBar()->showMessage(tr("Connection %1 has no packets in this session").arg(id), 5000);
        return;
    }
    m_inspector->showPacket(p.id);
    statusBar()->showMessage(
        tr("Packet %1 (connection %2, %3 s) is selected in the packet list (Ctrl+P)")
            .arg(p.id)
            .arg(id)
            .arg(double(p.timeNs - m_originNs) / 1e9, 0, 'f', 6),
        6000);
}

void MainWindow::onPacketShown(qint64 packetId, qint64 connectionId, qint64 timeNs)
{
    MetricsWidget *metrics = m_detail->metrics();
    m_timeline->setPacketTime(packetId > 0 ? timeNs : 0);
    if (packetId > 0)
        metrics->setMarkedTime(double(timeNs - m_originNs) / 1e9);
    else
        metrics->clearMarkedTime();
    // A packet of another connection (several connections listed, or the whole session): the
    // table's current row moves to its connection without touching the selection, so the
    // timeline and the kernel charts follow while the list keeps what it lists.
    if (packetId <= 0 || connectionId <= 0 || connectionId == m_table->currentConnectionId())
        return;
    const int row = m_model->rowForId(connectionId);
    if (row < 0)
        return; // hidden by the connection filter
    const QModelIndex index = m_model->index(row, 0);
    m_table->selectionModel()->setCurrentIndex(index, QItemSelectionModel::NoUpdate);
    m_table->scrollTo(index);
}

void MainWindow::updatePacketLabel()
{
    QString text = tr("%1 packets").arg(m_session ? m_session->packetCount() : 0);
    text += tr(" · %1 lost").arg(m_lostPackets);
    if (m_filteredPackets > 0)
        text += tr(" · %1 filtered").arg(m_filteredPackets);
    m_packetLabel->setText(text);
    m_packetLabel->setStyleSheet(
        m_lostPackets > 0 ? QStringLiteral("color: #b00000; font-weight: bold;") : QString());
}

void MainWindow::showCaptureOptions()
{
    CaptureOptionsDialog dialog(CaptureOptionsDialog::load(), this);
    if (dialog.exec() == QDialog::Accepted) {
        CaptureOptionsDialog::save(dialog.options());
        if (isCapturing())
            statusBar()->showMessage(tr("The new capture options apply to the next capture"), 5000);
    }
}

bool MainWindow::exportPackets(const QString &path, bool selectedOnly)
{
    if (m_exporter->isRunning()) {
        statusBar()->showMessage(tr("Still exporting…"), 3000);
        return false;
    }
    if (!m_session || m_session->packetCount() == 0) {
        showError(tr("Export Packets"), tr("There are no packets to export."));
        return false;
    }
    const QVector<qint64> ids = selectedOnly ? m_table->selectedConnectionIds() : QVector<qint64>();
    m_exporter->start(m_sessionPath, path, ids);
    statusBar()->showMessage(tr("Exporting packets to %1…").arg(QDir::toNativeSeparators(path)));
    updateActions();
    return true;
}

void MainWindow::chooseAndExportPackets()
{
    const QVector<qint64> ids = m_table->selectedConnectionIds();
    const QString base = QFileInfo(m_sessionPath).completeBaseName();
    const QString suggested = QDir::home().filePath(
        ids.size() == 1 ? QStringLiteral("%1-conn%2.pcapng").arg(base).arg(ids.first())
                        : base + QStringLiteral(".pcapng"));
    const QString title = ids.isEmpty()
                              ? tr("Export All Packets")
                              : tr("Export Packets of %n Connection(s)", nullptr, int(ids.size()));
    QString path = QFileDialog::getSaveFileName(this, title, suggested,
                                                tr("pcapng (*.pcapng);;All files (*)"));
    if (path.isEmpty())
        return;
    if (QFileInfo(path).suffix().isEmpty())
        path += QStringLiteral(".pcapng");
    exportPackets(path, true);
}

} // namespace tcpscope
