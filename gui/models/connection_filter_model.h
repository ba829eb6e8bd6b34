// SPDX-License-Identifier: GPL-3.0-or-later
// Sort/filter proxy for the connection table. The filter text is split on whitespace and every
// term must appear (case-insensitively) in some column of the row, so "curl 443" narrows to curl
// connections involving port 443. Sorting uses the model's raw SortRole values.
#pragma once

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

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;

private:
    QString m_text;
    QStringList m_terms;
};

} // namespace tcpscope
