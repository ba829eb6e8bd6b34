// SPDX-License-Identifier: GPL-3.0-or-later
// Table of connections for the main window. Live captures feed it incrementally through
// upsert() (changed connections only), which keeps change signals minimal so views and the
// proxy do not re-sort or repaint rows that did not change.
#pragma once

#include "model/connection.h"

#include <QAbstractTableModel>
#include <QHash>
#include <QVector>

namespace tcpscope {

class ConnectionTableModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column {
        ColId,
        ColProcess,
        ColPid,
        ColRole,
        ColFamily,
        ColLocal,
        ColRemote,
        ColState,
        ColStart,
        ColDuration,
        ColHandshake,
        ColSent,
        ColReceived,
        ColRetrans,
        ColSrtt,
        ColSrttMin,     // kernel metrics (issue 4): KernelSummary
        ColSrttMax,
        ColCwndMax,
        ColKernelRetrans,
        ColResets,
        ColDrops,
        ColCloseReason,
        ColStates,
        ColumnCount
    };
    enum Role {
        SortRole = Qt::UserRole + 1, // raw value (numbers as numbers) for sorting
        ConnectionIdRole,            // qint64 id of the row's connection
    };

    explicit ConnectionTableModel(QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    // Replaces everything (opening a file, starting a capture).
    void setConnections(const QVector<Connection> &connections);
    // Inserts new ids, updates known ones. Changed rows get one dataChanged per contiguous run,
    // new rows one rowsInserted at the end.
    void upsert(const QVector<Connection> &changed);
    void clear();

    // Open connections have their duration measured up to this wall time (live: "now";
    // file: end of the session). Emits dataChanged for the duration column of open rows.
    void setReferenceTimeNs(qint64 wallNs);
    qint64 referenceTimeNs() const { return m_referenceNs; }

    const Connection &connectionAt(int row) const { return m_rows.at(row); }
    const QVector<Connection> &connections() const { return m_rows; }
    int rowForId(qint64 id) const { return m_rowById.value(id, -1); }

private:
    QVariant displayData(const Connection &c, int column) const;
    QVariant sortData(const Connection &c, int column) const;
    QString toolTip(const Connection &c, int column) const;
    void emitRowRuns(QVector<int> rows, int firstColumn, int lastColumn);

    QVector<Connection> m_rows;
    QHash<qint64, int> m_rowById;
    qint64 m_referenceNs = 0;
};

} // namespace tcpscope
