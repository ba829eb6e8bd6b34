// SPDX-License-Identifier: GPL-3.0-or-later
// The Alerts tab: what the detectors (core/detect) raised — time, severity, kind, summary,
// subject, suppressed count — sortable. A file recorded with the detectors shows the alerts it
// stores (Session::alerts); an older file, or one recorded without them, gets them computed
// from its records (detectAlerts) on a worker thread with its own Session handle, and says so.
// A live capture appends what LiveCapture raises.
//
// Activating a row (double-click, Enter) asks the window to show its evidence in every view;
// right-click offers Apply Evidence as Filter, Copy ▸ Line / JSON and Add Annotation….
#pragma once

#include "detect/alert.h"

#include <QWidget>

#include <memory>

class QLabel;
class QMenu;
class QSortFilterProxyModel;
class QTableView;

namespace tcpscope {

class AlertTableModel;
class Session;
class SessionJob;

class AlertsView : public QWidget
{
    Q_OBJECT
public:
    explicit AlertsView(QWidget *parent = nullptr);
    ~AlertsView() override;

    // Shows the alerts of this session (path: the file a worker opens when they must be
    // computed). live: a capture is recording it; its alerts come through appendLive.
    void setSession(std::shared_ptr<const Session> session, const QString &path, bool live);
    // A capture starts: no alerts yet.
    void startLive();
    void appendLive(const QVector<Alert> &alerts);
    void setOriginNs(qint64 originNs);

    const QVector<Alert> &alerts() const;
    int highCount() const;
    bool isComputing() const;
    // The alert shown in the view's row `viewRow`; null when there is none.
    const Alert *alertAt(int viewRow) const;
    // Sorting aside, the row of the view showing alerts()[index]; -1 when none.
    int viewRowOf(int index) const;

    QTableView *view() const { return m_view; }
    AlertTableModel *model() const { return m_model; }
    QLabel *note() const { return m_note; }
    // The right-click menu of the view's row viewRow; the caller owns it (nullptr: no row).
    QMenu *contextMenu(int viewRow);

signals:
    void alertsChanged();                                    // rows were set or appended
    void activated(const tcpscope::Alert &alert);            // show its evidence everywhere
    void applyFilterRequested(const tcpscope::Alert &alert); // only the connection filter
    void annotateRequested(const tcpscope::Alert &alert);
    void message(const QString &text); // for the status bar

private:
    void showAlerts(QVector<Alert> alerts, const QString &note);
    void updateNote(); // m_noteText, then the counts per severity

    QString m_noteText; // where the rows come from

    QLabel *m_note = nullptr;
    QTableView *m_view = nullptr;
    AlertTableModel *m_model = nullptr;
    QSortFilterProxyModel *m_proxy = nullptr;
    SessionJob *m_job = nullptr;
    std::shared_ptr<const Session> m_session;
};

} // namespace tcpscope
