// SPDX-License-Identifier: GPL-3.0-or-later
#include "models/connection_filter_model.h"

#include "models/connection_table_model.h"

namespace tcpscope {

ConnectionFilterModel::ConnectionFilterModel(QObject *parent) : QSortFilterProxyModel(parent)
{
    setSortRole(ConnectionTableModel::SortRole);
    setFilterCaseSensitivity(Qt::CaseInsensitive);
    setSortCaseSensitivity(Qt::CaseInsensitive);
    setDynamicSortFilter(true);
}

void ConnectionFilterModel::setFilterText(const QString &text)
{
    const QString trimmed = text.simplified();
    if (trimmed == m_text)
        return;
    // Qt 6.4 has no begin/endFilterChange pair; invalidateFilter() re-evaluates every row.
    m_text = trimmed;
    m_terms = trimmed.isEmpty() ? QStringList() : trimmed.split(QLatin1Char(' '), Qt::SkipEmptyParts);
    invalidateFilter();
    emit filterChanged();
}

void ConnectionFilterModel::setConnectionIdFilter(const QSet<qint64> &ids, const QString &label)
{
    const bool active = !ids.isEmpty();
    if (active == m_idFilterActive && ids == m_ids && label == m_idLabel)
        return;
    m_ids = ids;
    m_idLabel = active ? label : QString();
    m_idFilterActive = active;
    invalidateFilter();
    emit filterChanged();
}

bool ConnectionFilterModel::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const
{
    const QAbstractItemModel *src = sourceModel();
    if (m_idFilterActive) {
        const qint64 id = src->data(src->index(sourceRow, 0, sourceParent), ConnectionTableModel::ConnectionIdRole).toLongLong();
        if (!m_ids.contains(id))
            return false;
    }
    if (m_terms.isEmpty())
        return true;
    const int columns = src->columnCount(sourceParent);
    QStringList cells;
    cells.reserve(columns);
    for (int col = 0; col < columns; ++col)
        cells << src->data(src->index(sourceRow, col, sourceParent), Qt::DisplayRole).toString();
    for (const QString &term : m_terms) {
        bool found = false;
        for (const QString &cell : std::as_const(cells)) {
            if (cell.contains(term, Qt::CaseInsensitive)) {
                found = true;
                break;
            }
        }
        if (!found)
            return false;
    }
    return true;
}

} // namespace tcpscope
