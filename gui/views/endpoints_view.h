// SPDX-License-Identifier: GPL-3.0-or-later
// The Endpoints tab: the session's connections grouped by remote address, port or local
// process (core/analysis/endpoints.h), sortable, searchable, each row a filter: double-click
// (or the context menu's Apply as Filter) narrows the connection table to that row's
// connections. "Limit to display filter" groups only the connections the table's filter shows.
//
// Fed with a Session; computed on a worker thread (SessionJob: its own handle on the session's
// file), only while visible, and again at most once per second while a live capture grows.
#pragma once

#include "analysis/endpoints.h"

#include <QTimer>
#include <QWidget>

#include <memory>
#include <optional>

class QCheckBox;
class QLabel;
class QLineEdit;
class QSortFilterProxyModel;
class QTabBar;
class QTableView;

namespace tcpscope {

class EndpointTableModel;
class Session;
class SessionJob;

class EndpointsView : public QWidget
{
    Q_OBJECT
public:
    explicit EndpointsView(QWidget *parent = nullptr);
    ~EndpointsView() override;

    void setSession(std::shared_ptr<const Session> session);
    void sessionChanged(); // a live capture grew
    // The connections the table's display filter shows (sorted); nullopt = no filter.
    void setDisplayedConnections(std::optional<QVector<qint64>> ids);

    void setGrouping(EndpointGrouping grouping);
    EndpointGrouping grouping() const;
    // Computes now and waits for the result (tests, exports).
    void recomputeNow();

    QTableView *view() const { return m_view; }
    EndpointTableModel *model() const { return m_model; }
    QSortFilterProxyModel *proxy() const { return m_proxy; }
    QLineEdit *search() const { return m_search; }
    QCheckBox *limitToFilter() const { return m_limit; }
    QLabel *summary() const { return m_summary; }
    // The endpoint shown in the view's row `viewRow`; null when there is none.
    const Endpoint *endpointAt(int viewRow) const;

signals:
    // The user asked to filter the connection table on these connections.
    void filterRequested(const QString &expression);
    void computed(); // a new table is shown

protected:
    void showEvent(QShowEvent *event) override;

private:
    void schedule();
    void startWorker();
    void show(EndpointTable table);
    void updateSummary();

    QTabBar *m_groups = nullptr;
    QLineEdit *m_search = nullptr;
    QCheckBox *m_limit = nullptr;
    QLabel *m_summary = nullptr;
    QTableView *m_view = nullptr;
    EndpointTableModel *m_model = nullptr;
    QSortFilterProxyModel *m_proxy = nullptr;

    std::shared_ptr<const Session> m_session;
    std::optional<QVector<qint64>> m_displayed;
    QTimer m_throttle;
    bool m_dirty = true;
    SessionJob *m_job = nullptr;
    bool m_again = false; // asked for while the job ran: computed again once it is done
};

} // namespace tcpscope
