// SPDX-License-Identifier: GPL-3.0-or-later
// The connection table as the main window shows it: sortable, whole-row single selection,
// columns sized for their typical content, selection addressed by connection id.
#pragma once

#include <QTableView>

namespace tcpscope {

class ConnectionFilterModel;

class ConnectionTableView : public QTableView
{
    Q_OBJECT
public:
    // proxy: a ConnectionFilterModel over a ConnectionTableModel.
    explicit ConnectionTableView(ConnectionFilterModel *proxy, QWidget *parent = nullptr);

    qint64 currentConnectionId() const; // -1 when nothing is selected
    // Selects and scrolls to the connection; false when the filter hides it.
    bool selectConnection(qint64 id);

signals:
    void currentConnectionChanged(qint64 id);

private:
    void applyDefaultColumnWidths();

    ConnectionFilterModel *m_proxy;
};

} // namespace tcpscope
