// SPDX-License-Identifier: GPL-3.0-or-later
// The connection table as the main window shows it: sortable, whole-row single selection,
// columns sized for their typical content, selection addressed by connection id. Several rows
// can be selected (Ctrl/Shift) to list their packets together; the current row is the one the
// timeline and the sequence graph follow.
#pragma once

#include <QTableView>
#include <QVector>

namespace tcpscope {

class ConnectionTableModel;

class ConnectionTableView : public QTableView
{
    Q_OBJECT
public:
    // Sorting goes to the model (a Session query); a column it cannot sort keeps the header's
    // previous indicator.
    explicit ConnectionTableView(ConnectionTableModel *model, QWidget *parent = nullptr);

    qint64 currentConnectionId() const;            // -1 when nothing is selected
    QVector<qint64> selectedConnectionIds() const; // in table order
    // Selects and scrolls to the connection; false when the filter hides it.
    bool selectConnection(qint64 id);

signals:
    void currentConnectionChanged(qint64 id);
    void selectedConnectionsChanged(const QVector<qint64> &ids);

private:
    void applyDefaultColumnWidths();

    ConnectionTableModel *m_model;
};

} // namespace tcpscope
