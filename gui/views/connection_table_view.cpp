// SPDX-License-Identifier: GPL-3.0-or-later
#include "views/connection_table_view.h"

#include "models/connection_filter_model.h"
#include "models/connection_table_model.h"

#include <QHeaderView>

namespace tcpscope {

ConnectionTableView::ConnectionTableView(ConnectionFilterModel *proxy, QWidget *parent)
    : QTableView(parent), m_proxy(proxy)
{
    setModel(proxy);
    setSortingEnabled(true);
    sortByColumn(ConnectionTableModel::ColId, Qt::AscendingOrder);
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
    std::sort(rows.begin(), rows.end(), [](const QModelIndex &a, const QModelIndex &b) { return a.row() < b.row(); });
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
    static const char *const samples[ConnectionTableModel::ColumnCount] = {
        "99999", "processname123", "4194304", "listener", "IPv6", "255.255.255.255:65535",
        "255.255.255.255:65535", "ESTABLISHED", "00:00:00.000", "999.9 ms", "99.99 ms",
        "999.9 KiB", "999.9 KiB", "Retrans", "99.99 ms", "99.99 ms", "99.99 ms", "99999", "99999",
        "99↑ 99↓", "99999", "listener-closed", ""};
    const QFontMetrics fm = fontMetrics();
    for (int col = 0; col + 1 < ConnectionTableModel::ColumnCount; ++col) {
        const QString header = model()->headerData(col, Qt::Horizontal).toString();
        setColumnWidth(col, std::max(fm.horizontalAdvance(QLatin1String(samples[col])), fm.horizontalAdvance(header)) + 24);
    }
}

qint64 ConnectionTableView::currentConnectionId() const
{
    const QModelIndex current = selectionModel()->currentIndex();
    return current.isValid() ? current.data(ConnectionTableModel::ConnectionIdRole).toLongLong() : -1;
}

bool ConnectionTableView::selectConnection(qint64 id)
{
    auto *source = qobject_cast<ConnectionTableModel *>(m_proxy->sourceModel());
    const int sourceRow = source ? source->rowForId(id) : -1;
    if (sourceRow < 0)
        return false;
    const QModelIndex index = m_proxy->mapFromSource(source->index(sourceRow, 0));
    if (!index.isValid())
        return false;
    selectionModel()->setCurrentIndex(index, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
    scrollTo(index);
    return true;
}

} // namespace tcpscope
