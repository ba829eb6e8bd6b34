// SPDX-License-Identifier: GPL-3.0-or-later
// The connection table as the main window shows it: sortable, whole-row single selection,
// columns sized for their typical content, selection addressed by connection id. Several rows
// can be selected (Ctrl/Shift) to list their packets together; the current row is the one the
// timeline and the sequence graph follow.
#pragma once

#include <QTableView>
#include <QVector>

namespace tcpscope {

class ConnectionFilterModel;

class ConnectionTableView : public QTableView
{
    Q_OBJECT
public:
    // proxy: a ConnectionFilterModel over a ConnectionTableModel.
    explicit ConnectionTableView(ConnectionFilterModel *proxy, QWidget *parent = nullptr);

    qint64 currentConnectionId() const; // -1 when nothing is selected
    QVector<qint64> selectedConnectionIds() const; // in table order
    // Selects and scrolls to the connection; false when the filter hides it.
    bool selectConnection(qint64 id);

signals:
    void currentConnectionChanged(qint64 id);
    void selectedConnectionsChanged(const QVector<qint64> &ids);

private:
    void applyDefaultColumnWidths();

    ConnectionFilterModel *m_proxy;
};

} // namespace tcpscope
