// SPDX-License-Identifier: GPL-3.0-or-later
// "Kernel metrics" tab of the main window: follows the connection table's selection and shows
// the kernel's view of the current connection — handshake (latency, SYN/SYN-ACK retransmits,
// refused/timed out), termination (who closed first, FIN vs RST, half-closed, FIN_WAIT2 /
// TIME_WAIT), the kernel's totals — above the stacked metrics charts and a readout of the
// crosshair. Selecting several connections overlays them. Says plainly why charts are missing
// (no selection, a listener, no samples for that connection, session recorded without them).
// When the other end of the connection is in the session too, a line gives the one-way delays
// each way (min / median / max) and the segments sent and not received each way, computed on a
// worker thread (PeerTransitJob).
#pragma once

#include "model/connection.h"
#include "models/peer_transit_job.h"

#include <QElapsedTimer>
#include <QTimer>
#include <QWidget>

#include <memory>

class QLabel;
class QStackedWidget;

namespace tcpscope {

class Session;
class MetricsWidget;

class ConnectionDetailView : public QWidget
{
    Q_OBJECT
public:
    static constexpr int kMaxOverlay = 8;

    explicit ConnectionDetailView(QWidget *parent = nullptr);

    // Where the selected connections and their kernel data (Session::kernelData) come from.
    void setSession(std::shared_ptr<const Session> session);

    // Session replaced; hint is what the empty view says until something is selected.
    void reset(const QString &hint);
    void setSessionInfo(const SessionInfo &info, bool capturing);
    void setOriginNs(qint64 originNs);
    void setSessionEndNs(qint64 endNs);
    // Selected connections (several = overlay); current is the one whose details are shown.
    void setConnections(const QVector<qint64> &selected, qint64 current);
    // New kernel data or changed connections (live): rebuilt soon if one of ours is affected.
    void onDataChanged(const QSet<qint64> &connectionIds);

    MetricsWidget *metrics() const { return m_metrics; }
    QLabel *headerLabel() const { return m_header; }
    QLabel *readoutLabel() const { return m_readout; }
    // The "Both ends" line of the header (plain text); empty while computing or without a peer.
    QString peerSummary() const { return m_peerText; }
    bool showsCharts() const;
    // The connection whose details the header shows (the current row when it is selected, else
    // the first selected one); 0 when the charts are not shown.
    qint64 shownConnectionId() const { return showsCharts() ? m_shownCurrent : 0; }
    QString emptyText() const;
    void rebuildNow();

protected:
    void showEvent(QShowEvent *event) override;

private:
    void scheduleRebuild();
    void showEmpty(const QString &text);
    QString headerFor(const Connection &c) const;
    QString whyNoSamples(const Connection &c) const;
    void startTransit(qint64 connectionId);
    void finishTransit(const std::shared_ptr<const PeerTransitResult> &result);
    void showHeader();

    std::shared_ptr<const Session> m_session;
    QStackedWidget *m_stack;
    QLabel *m_empty;
    QLabel *m_header;
    QLabel *m_readout;
    MetricsWidget *m_metrics;
    QTimer m_rebuildTimer;
    QVector<qint64> m_selected;
    qint64 m_current = 0;
    QVector<qint64> m_shownIds; // what the charts were built from (for keeping the zoom)
    qint64 m_shownCurrent = 0;
    SessionInfo m_info;
    bool m_capturing = false;
    bool m_dirty = false;
    qint64 m_originNs = 0;
    qint64 m_endNs = 0;
    QString m_hint;
    PeerTransitJob *m_transitJob;
    qint64 m_transitFor = 0; // the connection the last run was for
    QElapsedTimer m_transitStarted;
    QString m_headerBase; // the header without the Both ends line
    QString m_peerHtml, m_peerText;
};

} // namespace tcpscope
