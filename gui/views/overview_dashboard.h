// SPDX-License-Identifier: GPL-3.0-or-later
// The session overview dashboard: a grid of small charts over the whole session —
// connections opened/closed and active, retransmits and resets per second, handshake latency
// and RTT distributions, drops by reason, top processes and remote endpoints. Clicking a bar,
// point or ranking row emits filterRequested(ids, label); the main window narrows the
// connection table and timeline to them.
//
// Fed with a Session (setSession: a file or a live capture; the overview is computed from its
// summaries, events and per-second aggregates on a worker thread, SessionJob: its own handle on
// the session's file), with a finished Overview (export), or with live in-memory sources (the
// connection model and kernel store). Changes only mark it dirty; it recomputes at most once per
// second and only while visible, so a busy capture never stalls the GUI.
#pragma once

#include "analysis/overview.h"
#include "detect/alert.h"

#include <QSet>
#include <QTimer>
#include <QWidget>

#include <memory>

class QGridLayout;
class QLabel;
class QCPPainter;

namespace tcpscope {

class ConnectionTableModel;
class KernelStore;
class OverviewChart;
class Session;
class SessionJob;

class OverviewDashboard : public QWidget
{
    Q_OBJECT
public:
    explicit OverviewDashboard(QWidget *parent = nullptr);
    ~OverviewDashboard() override;

    // Shows this session's overview (nullptr clears it). The overview is computed on a worker
    // thread; overviewReady() is emitted when it is shown.
    void setSession(std::shared_ptr<const Session> session);
    // The session grew (a live capture: call after Session::refresh() returned true).
    void sessionChanged();

    // Shows a computed overview (no live sources involved).
    void setOverview(const Overview &overview);
    const Overview &overview() const { return m_overview; }

    // Live/main window: recompute from these whenever they change (throttled).
    void setSources(const ConnectionTableModel *connections, const KernelStore *kernel);
    // The session's time axis and whether kernel metrics were captured; endNs grows live.
    void setSession(qint64 originNs, qint64 endNs, bool kernelMetrics);
    void setEndNs(qint64 endNs);
    void recomputeNow();

    // Chart names, in layout order: connections, active, retransmits, resets, handshake, rtt,
    // drops, procBytes, procRetrans, remoteBytes, remoteRetrans.
    static QStringList chartNames();
    OverviewChart *chart(const QString &name) const;
    QLabel *header() const { return m_header; }
    // The bars and points that count this connection are highlighted (the connection table's
    // current row); 0 clears. Applied while the dashboard is visible and kept across updates.
    void setHighlightedConnection(qint64 id);
    qint64 highlightedConnection() const { return m_highlight; }
    // The session's alerts, marked on the time charts (kept across updates; at most 500).
    void setAlerts(const QVector<Alert> &alerts);
    // Paints the whole dashboard (vector where the device is) at its current size.
    void paintTo(QCPPainter *painter);

signals:
    void overviewReady();
    void filterRequested(const QSet<qint64> &connectionIds, const QString &label);

protected:
    void showEvent(QShowEvent *event) override;
    void resizeEvent(QResizeEvent *event) override;

private:
    void scheduleRecompute();
    void startWorker();
    void relayout();
    void rebuild();
    void applyHighlight();
    void applyAlertMarks();

    Overview m_overview;
    QLabel *m_header = nullptr;
    QGridLayout *m_grid = nullptr;
    QHash<QString, OverviewChart *> m_charts;
    int m_columns = 0;
    const ConnectionTableModel *m_connections = nullptr;
    const KernelStore *m_kernel = nullptr;
    qint64 m_originNs = 0;
    qint64 m_endNs = 0;
    bool m_kernelMetrics = false;
    bool m_dirty = false;
    qint64 m_highlight = 0;
    QVector<Alert> m_alerts;
    bool m_highlightDirty = false; // set while hidden: applied when shown
    QTimer m_throttle;
    std::shared_ptr<const Session> m_session;
    SessionJob *m_job = nullptr; // computes m_session's overview; one at a time
    bool m_workerAgain = false;  // the session changed while the job ran
};

} // namespace tcpscope
