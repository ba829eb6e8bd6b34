// SPDX-License-Identifier: GPL-3.0-or-later
#include "views/connection_table_view.h"

#include "models/connection_table_model.h"

#include <QHeaderView>

namespace tcpscope {

ConnectionTableView::ConnectionTableView(ConnectionTableModel *model, QWidget *parent)
    : QTableView(parent), m_model(model)
{
    setModel(model);
    setSortingEnabled(true);
    sortByColumn(ConnectionTableModel::column("id"), Qt::AscendingOrder);
    // The header shows what the model really sorts by (a refused column changes nothing).
    connect(
        horizontalHeader(), &QHeaderView::sortIndicatorChanged, this,
        [this] {
            if (horizontalHeader()->sortIndicatorSection() != m_model->sortColumn() ||
                horizontalHeader()->sortIndicatorOrder() != m_model->sortOrder())
                horizontalHeader()->setSortIndicator(m_model->sortColumn(), m_model->sortOrder());
        },
        Qt::QueuedConnection);
    setSelectionBehavior(QAbstractItemView::SelectRows);
    setSelectionMode(QAbstractItemView::ExtendedSelection);
    setAlternatingRowColors(true);
    setWordWrap(false);
    setTextElideMode(Qt::ElideMiddle);
    verticalHeader()->hide();
    verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 6);
    horizontalHeader()->setHighlightSections(false);
    horizontalHeader()->setStretchLastSection(true);
    applyDefaultColumnWidths();
    connect(selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this] { emit currentConnectionChanged(currentConnectionId()); });
    connect(selectionModel(), &QItemSelectionModel::selectionChanged, this,
            [this] { emit selectedConnectionsChanged(selectedConnectionIds()); });
}

QVector<qint64> ConnectionTableView::selectedConnectionIds() const
{
    QModelIndexList rows = selectionModel()->selectedRows();
    std::sort(rows.begin(), rows.end(),
              [](const QModelIndex &a, const QModelIndex &b) { return a.row() < b.row(); });
    QVector<qint64> ids;
    ids.reserve(rows.size());
    for (const QModelIndex &row : rows)
        ids.append(row.data(ConnectionTableModel::ConnectionIdRole).toLongLong());
    return ids;
}

void ConnectionTableView::applyDefaultColumnWidths()
{
    // From the longest typical content, not resizeColumnsToContents (too slow at 10k rows and
    // jumpy while live rows arrive).
    const QFontMetrics fm = fontMetrics();
    const QVector<ConnectionTableModel::ViewColumn> &columns = ConnectionTableModel::viewColumns();
    // The last column stretches to the table's edge.
    for (int col = 0; col + 1 < columns.size(); ++col) {
        const QString header = model()->headerData(col, Qt::Horizontal).toString();
        setColumnWidth(
            col, std::max(fm.horizontalAdvance(QString::fromUtf8(columns.at(col).widthSample)),
                          fm.horizontalAdvance(header)) +
                     24);
    }
}

qint64 ConnectionTableView::currentConnectionId() const
{
    const QModelIndex current = selectionModel()->currentIndex();
    return current.isValid() ? current.data(ConnectionTableModel::ConnectionIdRole).toLongLong()
                             : -1;
}

bool ConnectionTableView::selectConnection(qint64 id)
{
    const int row = m_model->rowForId(id);
    if (row < 0)
        return false;
    const QModelIndex index = m_model->index(row, 0);
    selectionModel()->setCurrentIndex(index, QItemSelectionModel::ClearAndSelect |
                                                 QItemSelectionModel::Rows);
    scrollTo(index);
    return true;
}

} // namespace tcpscope
