// SPDX-License-Identifier: GPL-3.0-or-later
// MainWindow's alerts: the Alerts tab's rows marked on the timeline and the overview charts and
// counted in the status bar; a live capture's alerts appended (high ones told through
// AlertNotifier); an alert's evidence shown in every view.
#include "main_window.h"

#include "alert_notifier.h"
#include "charts/timeline_widget.h"
#include "models/connection_table_model.h"
#include "session/session.h"
#include "views/alerts_view.h"
#include "views/connection_table_view.h"
#include "views/filter_bar.h"
#include "views/overview_dashboard.h"
#include "views/packet_inspector.h"
#include "views/packets_panel.h"

#include <QStatusBar>
#include <QTabWidget>
#include <QToolButton>

#include <algorithm>

namespace tcpscope {

void MainWindow::onAlertsRaised(const QVector<Alert> &alerts)
{
    if (!isCapturing())
        return;
    m_alertsView->appendLive(alerts);
    for (const Alert &a : alerts)
        if (a.severity == AlertSeverity::High)
            m_notifier->notify(a); // throttled: at most one every few seconds
}

void MainWindow::onAlertsChanged()
{
    const QVector<Alert> &alerts = m_alertsView->alerts();
    m_timeline->setAlerts(alerts);
    m_overview->setAlerts(alerts);
    const int n = int(alerts.size());
    const int high = m_alertsView->highCount();
    QString text;
    if (m_alertsView->isComputing())
        text = tr("Alerts: computing…");
    else if (n == 0)
        text = tr("No alerts");
    else
        text = n == 1 ? tr("1 alert") : tr("%1 alerts").arg(n);
    if (high > 0)
        text += tr(" (%1 high)").arg(high);
    m_alertButton->setText(text);
    m_alertButton->setStyleSheet(
        high > 0 ? QStringLiteral("QToolButton { color: #c62828; font-weight: bold; }")
                 : QString());
    m_alertButton->setVisible(m_session || isCapturing());
}

void MainWindow::applyAlertFilter(const Alert &alert)
{
    const QString filter = alert.connectionFilter();
    if (filter.isEmpty()) {
        statusBar()->showMessage(tr("This alert names no connection"), 5000);
        return;
    }
    // The overview's id filter would hide evidence: the alert's filter replaces it.
    if (m_model->hasConnectionIdFilter())
        m_model->clearConnectionIdFilter();
    m_filterBar->applyText(filter);
}

void MainWindow::showAlertEvidence(const Alert &alert)
{
    if (!m_session)
        return;
    applyAlertFilter(alert);
    // The current connection: the first packet's when it is evidence too (a zero window is seen
    // by both sockets of a loopback connection), else the first evidence connection.
    qint64 connection = alert.connections.value(0, 0);
    const qint64 packet = alert.packets.value(0, 0);
    if (packet > 0) {
        const QVector<Packet> p = m_session->packetsFromId(packet, 1);
        if (!p.isEmpty() && p.first().id == packet &&
            alert.connections.contains(p.first().connectionId))
            connection = p.first().connectionId;
    }
    auto show = [this, connection, packet, timeNs = alert.timeNs, kind = alert.kind,
                 count = alert.connections.size()] {
        bool selected = false;
        if (connection > 0)
            selected = m_table->selectConnection(connection);
        bool packetShown = false;
        if (selected && packet > 0)
            packetShown = m_inspector->packetsPanel()->selectPacket(packet);
        // The timeline: fitted to the evidence connections and widened to the alert's time;
        // without evidence connections, centred on the alert at about the same zoom.
        const double t = double(timeNs - m_originNs) / 1e9;
        QCPRange range;
        if (count > 0) {
            updateTimelineNow(); // the filtered rows, now rather than on the coalescing timer
            m_timeline->fitAll();
            range = m_timeline->xAxis->range();
            range.expand(t);
            const double pad = std::max(range.size() * 0.02, 1e-4);
            range = QCPRange(range.lower - pad, range.upper + pad);
        } else {
            const double width = std::clamp(m_timeline->xAxis->range().size(), 1.0, 30.0);
            range = QCPRange(t - width / 2, t + width / 2);
        }
        m_timeline->xAxis->setRange(range);
        m_timeline->replot();
        QString text = count == 1 ? tr("%1: its connection shown").arg(kind)
                                  : tr("%1: its %2 connections shown").arg(kind).arg(count);
        if (packetShown)
            text += tr(", packet %1 selected").arg(packet);
        else if (connection > 0 && !selected)
            text += tr("; connection %1 is not in the table").arg(connection);
        statusBar()->showMessage(text, 8000);
    };
    // A large session filters on a worker: select once the table shows the evidence.
    if (m_model->isFiltering())
        connect(m_model, &ConnectionTableModel::filterChanged, this, show,
                Qt::SingleShotConnection);
    else
        show();
}

} // namespace tcpscope
