// SPDX-License-Identifier: GPL-3.0-or-later
// The rows of an EndpointTable (core/analysis/endpoints.h) as a table: the group's key, then
// connections, bytes each way, retransmits, resets and RTT percentiles. Display text is
// formatted; Qt::UserRole holds the raw value (numbers sort as numbers, unknown RTTs last).
#pragma once

#include "analysis/endpoints.h"

#include <QAbstractTableModel>

namespace tcpscope {

class EndpointTableModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column
    {
        ColKey,
        ColSide,
        ColConnections,
        ColOpen,
        ColProcesses,
        ColBytesOut,
        ColBytesIn,
        ColRetransmits,
        ColResets,
        ColRttP50,
        ColRttP90,
        ColRttMax,
        ColumnCount
    };
    static constexpr int SortRole = Qt::UserRole;

    using QAbstractTableModel::QAbstractTableModel;

    void setTable(EndpointTable table);
    const EndpointTable &table() const { return m_table; }
    const Endpoint &at(int row) const { return m_table.rows.at(row); }

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

private:
    EndpointTable m_table;
};

} // namespace tcpscope
