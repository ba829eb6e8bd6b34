// SPDX-License-Identifier: GPL-3.0-or-later
// MainWindow's packet side: the packet store fed by a file or the live capture, the inspector
// following the connection selection, capture options, pcapng export and the packet counters.
#include "main_window.h"

#include "capture_controller.h"
#include "charts/timeline_widget.h"
#include "dialogs/capture_options_dialog.h"
#include "main_window_packets.h"
#include "models/connection_table_model.h"
#include "models/packet_store.h"
#include "packet_exporter.h"
#include "views/connection_table_view.h"
#include "views/packet_inspector.h"
#include "models/kernel_store.h"
#include "views/connection_detail_view.h"

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
    connect(m_packets, &PacketStore::capHit, this, [this](int cap) {
        statusBar()->showMessage(tr("The packet list is full (%1 packets): later packets are recorded in the session "
                                    "file but not listed. Reopen the file to see them all.").arg(cap), 15000);
        updatePacketLabel();
    });
    connect(m_exporter, &PacketExporter::finished, this, [this](const QString &path, qint64 count, const QString &error) {
        updateActions();
        if (count < 0) {
            showError(tr("Export Packets"), tr("Could not export packets to %1:\n%2").arg(QDir::toNativeSeparators(path), error));
            return;
        }
        statusBar()->showMessage(tr("Exported %1 packets to %2").arg(count).arg(QDir::toNativeSeparators(path)), 8000);
        emit packetsExported(path, count);
    });
}

void MainWindow::onPacketsAdded(const QVector<Packet> &packets)
{
    m_packets->append(packets);
    m_timeline->addAnalysisMarkers(packets);
    updatePacketLabel();
}

void MainWindow::onKernelDataAdded(const KernelData &data)
{
    m_kernel->append(data); // KernelStore::changed refreshes the detail view when it shows them
}

void MainWindow::showKernelMetrics()
{
    m_lowerTabs->setCurrentWidget(m_detail);
}

void MainWindow::onConnectionSelectionChanged()
{
    const qint64 current = m_table->currentConnectionId();
    QVector<qint64> selected = m_table->selectedConnectionIds();
    m_inspector->setConnections(selected, current > 0 && selected.contains(current) ? current : selected.value(0));
    m_detail->setConnections(selected, current);
    updateActions();
}

void MainWindow::updatePacketLabel()
{
    QString text = tr("%1 packets").arg(m_packets->size());
    if (m_packets->capReached())
        text += tr(" (list full, %1 not listed)").arg(m_packets->dropped());
    text += tr(" · %1 lost").arg(m_lostPackets);
    if (m_filteredPackets > 0)
        text += tr(" · %1 filtered").arg(m_filteredPackets);
    m_packetLabel->setText(text);
    m_packetLabel->setStyleSheet(m_lostPackets > 0 ? QStringLiteral("color: #b00000; font-weight: bold;") : QString());
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
    if (m_packets->size() == 0) {
        showError(tr("Export Packets"), tr("There are no packets to export."));
        return false;
    }
    SessionData data;
    data.info = m_info;
    data.connections = m_model->connections();
    data.packets = m_packets->all(); // implicitly shared: no copy here
    const QVector<qint64> ids = selectedOnly ? m_table->selectedConnectionIds() : QVector<qint64>();
    m_exporter->start(std::move(data), path, ids);
    statusBar()->showMessage(tr("Exporting packets to %1…").arg(QDir::toNativeSeparators(path)));
    updateActions();
    return true;
}

void MainWindow::chooseAndExportPackets()
{
    const QVector<qint64> ids = m_table->selectedConnectionIds();
    const QString base = QFileInfo(m_sessionPath).completeBaseName();
    const QString suggested = QDir::home().filePath(ids.size() == 1 ? QStringLiteral("%1-conn%2.pcapng").arg(base).arg(ids.first())
                                                                    : base + QStringLiteral(".pcapng"));
    const QString title = ids.isEmpty() ? tr("Export All Packets") : tr("Export Packets of %n Connection(s)", nullptr, int(ids.size()));
    QString path = QFileDialog::getSaveFileName(this, title, suggested, tr("pcapng (*.pcapng);;All files (*)"));
    if (path.isEmpty())
        return;
    if (QFileInfo(path).suffix().isEmpty())
        path += QStringLiteral(".pcapng");
    exportPackets(path, true);
}

} // namespace tcpscope
