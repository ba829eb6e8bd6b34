// SPDX-License-Identifier: GPL-3.0-or-later
// Sort/filter proxy for the connection table. The filter text is split on whitespace and every
// term must appear (case-insensitively) in some column of the row, so "curl 443" narrows to curl
// connections involving port 443. Sorting uses the model's raw SortRole values.
// Independently of the text, an id filter (set by the overview dashboard: "connections in this
// bar") keeps only the given connection ids; both must accept a row.
#pragma once

#include <QSet>
#include <QSortFilterProxyModel>
#include <QStringList>

namespace tcpscope {

class ConnectionFilterModel : public QSortFilterProxyModel
{
    Q_OBJECT
public:
    explicit ConnectionFilterModel(QObject *parent = nullptr);

    void setFilterText(const QString &text);
    QString filterText() const { return m_text; }

    // Shows only these connection ids; an empty set removes the id filter. label says where the
    // set came from ("retransmits 12:00:03"), for the UI that shows the active filter.
    void setConnectionIdFilter(const QSet<qint64> &ids, const QString &label);
    void clearConnectionIdFilter() { setConnectionIdFilter({}, {}); }
    bool hasConnectionIdFilter() const { return m_idFilterActive; }
    const QSet<qint64> &connectionIdFilter() const { return m_ids; }
    QString connectionIdFilterLabel() const { return m_idLabel; }

signals:
    // After either filter changed (rows already re-evaluated).
    void filterChanged();

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;

private:
    QString m_text;
    QStringList m_terms;
    QSet<qint64> m_ids;
    QString m_idLabel;
    bool m_idFilterActive = false;
};

} // namespace tcpscope
