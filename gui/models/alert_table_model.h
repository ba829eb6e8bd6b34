// SPDX-License-Identifier: GPL-3.0-or-later
// The session's alerts (core/detect/alert.h) as a table: time since the capture start (the wall
// time in the tooltip), severity (coloured), kind (rules from a rules file marked), summary,
// subject and how many alerts of the same kind and subject throttling left out. Display text is
// formatted; SortRole holds the raw value, so a proxy sorts times and severities as numbers.
#pragma once

#include "detect/alert.h"

#include <QAbstractTableModel>

namespace tcpscope {

class AlertTableModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column
    {
        ColTime,
        ColSeverity,
        ColKind,
        ColSummary,
        ColSubject,
        ColSuppressed,
        ColumnCount
    };
    static constexpr int SortRole = Qt::UserRole;
    static constexpr int IndexRole = Qt::UserRole + 1; // the alert's index in alerts()

    using QAbstractTableModel::QAbstractTableModel;

    void setAlerts(QVector<Alert> alerts);
    void append(const QVector<Alert> &alerts);
    void setOriginNs(qint64 originNs);
    const QVector<Alert> &alerts() const { return m_alerts; }
    const Alert &at(int row) const { return m_alerts.at(row); }
    int highCount() const { return m_high; }

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

private:
    QVector<Alert> m_alerts;
    qint64 m_originNs = 0;
    int m_high = 0;
};

} // namespace tcpscope
