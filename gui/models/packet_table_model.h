// SPDX-License-Identifier: GPL-3.0-or-later
// The packet list: a view onto a PacketStore restricted to the selected connections (all when
// none is selected). Rows are store indices, so changing the selection or the filter copies
// ints, never packets. Sorting and the quick filter ("problems only", words) live here rather
// than in a QSortFilterProxyModel, which would re-map every row of a large capture on each
// change. Live packets are appended as rows at the end.
#pragma once

#include "model/packet.h"

#include <QAbstractTableModel>
#include <QSet>
#include <QStringList>
#include <QVector>

namespace tcpscope {

class PacketStore;

class PacketTableModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column { ColNo, ColTime, ColConnection, ColDirection, ColFlags, ColSeq, ColAck, ColWindow, ColLength, ColAnalysis, ColumnCount };
    enum Role {
        PacketIdRole = Qt::UserRole + 1, // qint64 Packet::id
        StoreIndexRole,                  // int index into the PacketStore
        SortRole,                        // raw value of the cell
    };

    explicit PacketTableModel(PacketStore *store, QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    void sort(int column, Qt::SortOrder order = Qt::AscendingOrder) override;

    // Empty = every packet of the session.
    void setConnections(const QVector<qint64> &ids);
    QVector<qint64> connections() const { return m_connections; }
    void setOriginNs(qint64 originNs);
    // Only packets whose analysis is a problem (retransmissions, dup ACKs, zero window, ...).
    void setProblemsOnly(bool on);
    bool problemsOnly() const { return m_problemsOnly; }
    // Words (case-insensitive) that must all appear in a row's text, e.g. "dup syn" or "retrans".
    void setFilterText(const QString &text);

    const Packet &packetAt(int row) const;
    int rowOfPacket(qint64 packetId) const; // -1 when not shown
    // Packets the selection covers before the quick filter (for "N of M shown").
    int unfilteredCount() const { return m_unfiltered; }

private:
    void rebuild();
    void onAppended(int first, int count);
    bool accepts(const Packet &p) const;
    bool lessThan(int a, int b) const;
    QVariant display(const Packet &p, int column) const;
    QVariant sortValue(const Packet &p, int column) const;
    QString toolTip(const Packet &p, int column) const;

    PacketStore *m_store;
    QVector<int> m_rows; // store indices
    QVector<qint64> m_connections;
    QSet<qint64> m_connectionSet;
    qint64 m_originNs = 0;
    bool m_problemsOnly = false;
    QStringList m_words;
    int m_sortColumn = ColNo;
    Qt::SortOrder m_sortOrder = Qt::AscendingOrder;
    int m_unfiltered = 0;
};

} // namespace tcpscope
