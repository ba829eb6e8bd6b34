// SPDX-License-Identifier: GPL-3.0-or-later
#include "models/packet_table_model.h"

#include "models/packet_store.h"
#include "tcpscope_records.h"
#include "util/packet_format.h"

#include <QBrush>
#include <QColor>
#include <QFont>
#include <QHash>

#include <algorithm>
#include <numeric>

namespace tcpscope {

namespace {

constexpr quint32 kNoteFlags = AnalysisWindowUpdate | AnalysisKeepAlive | AnalysisKeepAliveAck |
                               AnalysisZeroWindowProbeAck;

// Wireshark's taste, toned for a light theme: problems stand out red with dark text, notes
// recede, handshake and teardown get a faint tint so a connection's phases are visible.
struct RowColors
{
    QColor background;
    QColor foreground;
};

RowColors rowColors(const Packet &p)
{
    if (analysisIsProblem(p.analysis) || pfmt::isMalformed(p))
        return {QColor(0xff, 0xc8, 0xc8), QColor(0x3a, 0x00, 0x00)};
    if (p.tcpFlags & TS_TCP_RST)
        return {QColor(0xff, 0xe0, 0xc8), QColor(0x30, 0x18, 0x00)};
    if (p.analysis & kNoteFlags)
        return {QColor(0xf2, 0xf2, 0xf2), QColor(0x70, 0x70, 0x70)};
    if (p.tcpFlags & TS_TCP_SYN)
        return {QColor(0xe2, 0xf0, 0xdc), QColor(0x10, 0x20, 0x10)};
    if (p.tcpFlags & TS_TCP_FIN)
        return {QColor(0xe4, 0xe4, 0xec), QColor(0x10, 0x10, 0x20)};
    return {};
}

} // namespace

PacketTableModel::PacketTableModel(PacketStore *store, QObject *parent)
    : QAbstractTableModel(parent), m_store(store)
{
    connect(m_store, &PacketStore::reset, this, &PacketTableModel::rebuild);
    connect(m_store, &PacketStore::appended, this, &PacketTableModel::onAppended);
    rebuild();
}

int PacketTableModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int PacketTableModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

const Packet &PacketTableModel::packetAt(int row) const
{
    return m_store->at(m_rows.at(row));
}

int PacketTableModel::rowOfPacket(qint64 packetId) const
{
    const int storeIndex = m_store->indexOfId(packetId);
    if (storeIndex < 0)
        return -1;
    const auto it = std::find(m_rows.cbegin(), m_rows.cend(), storeIndex);
    return it == m_rows.cend() ? -1 : int(it - m_rows.cbegin());
}

QVariant PacketTableModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Packet &p = packetAt(index.row());
    switch (role) {
    case Qt::DisplayRole:
        return display(p, index.column());
    case SortRole:
        return sortValue(p, index.column());
    case PacketIdRole:
        return p.id;
    case StoreIndexRole:
        return m_rows.at(index.row());
    case Qt::ToolTipRole:
        return toolTip(p, index.column());
    case Qt::BackgroundRole: {
        const QColor c = rowColors(p).background;
        return c.isValid() ? QVariant(QBrush(c)) : QVariant();
    }
    case Qt::ForegroundRole: {
        const QColor c = rowColors(p).foreground;
        return c.isValid() ? QVariant(QBrush(c)) : QVariant();
    }
    case Qt::TextAlignmentRole:
        switch (index.column()) {
        case ColNo: case ColTime: case ColConnection: case ColSeq: case ColAck: case ColWindow: case ColLength:
            return QVariant(Qt::AlignRight | Qt::AlignVCenter);
        default:
            return QVariant(Qt::AlignLeft | Qt::AlignVCenter);
        }
    default:
        return {};
    }
}

QVariant PacketTableModel::display(const Packet &p, int column) const
{
    switch (column) {
    case ColNo:
        return p.id;
    case ColTime:
        return pfmt::relativeTime(p.timeNs, m_originNs);
    case ColConnection:
        return p.connectionId > 0 ? QVariant(p.connectionId) : QVariant(QStringLiteral("–"));
    case ColDirection:
        return pfmt::directionText(p.direction);
    case ColFlags:
        return pfmt::flagsText(p.tcpFlags);
    case ColSeq:
        return p.relSeq;
    case ColAck:
        return (p.tcpFlags & TS_TCP_ACK) ? QVariant(p.relAck) : QVariant();
    case ColWindow:
        return pfmt::windowText(p);
    case ColLength:
        return p.payloadLen;
    case ColAnalysis:
        return pfmt::analysisText(p);
    }
    return {};
}

QVariant PacketTableModel::sortValue(const Packet &p, int column) const
{
    switch (column) {
    case ColNo: return p.id;
    case ColTime: return p.timeNs;
    case ColConnection: return p.connectionId;
    case ColDirection: return int(p.direction);
    case ColFlags: return int(p.tcpFlags);
    case ColSeq: return p.relSeq;
    case ColAck: return p.relAck;
    case ColWindow: return p.scaledWindow >= 0 ? p.scaledWindow : qint64(p.window);
    case ColLength: return p.payloadLen;
    case ColAnalysis: return p.analysis;
    }
    return {};
}

QString PacketTableModel::toolTip(const Packet &p, int column) const
{
    switch (column) {
    case ColDirection:
        return p.isOutgoing() ? tr("Sent by the local socket: %1 → %2").arg(pfmt::source(p), pfmt::destination(p))
                              : tr("Received by the local socket: %1 → %2").arg(pfmt::source(p), pfmt::destination(p));
    case ColWindow:
        if (p.scaledWindow >= 0 && p.scaledWindow != p.window)
            return tr("Raw header value %1, scaled to %2 bytes").arg(p.window).arg(p.scaledWindow);
        if (p.scaledWindow >= 0)
            return tr("Raw header value %1 (no scaling)").arg(p.window);
        return tr("Raw header value %1; the window scale is not known (handshake not seen)").arg(p.window);
    case ColSeq:
    case ColAck:
        return tr("Relative to the first sequence number of this direction. Absolute: seq %1, ack %2").arg(p.seq).arg(p.ack);
    case ColTime:
        return tr("Seconds since the start of the session");
    case ColAnalysis:
        if (pfmt::isMalformed(p))
            return tr("Parse status: %1").arg(pfmt::parseStatusText(p.parseStatus));
        return {};
    }
    return {};
}

QVariant PacketTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal)
        return {};
    static const char *const names[ColumnCount] = {"No.", "Time", "Conn", "Dir", "Flags", "Seq", "Ack", "Window", "Len", "Analysis"};
    static const char *const tips[ColumnCount] = {
        "Packet number in capture order",
        "Seconds since the start of the session (µs precision)",
        "Connection id (as in the connection table)",
        "Direction relative to the local socket: → sent, ← received",
        "TCP flags",
        "Relative sequence number",
        "Relative acknowledgement number",
        "Receive window (scaled when the scale is known; raw value in the tooltip)",
        "TCP payload bytes",
        "Analysis: problems red (retransmission, dup ACK, zero window, ...), notes grey"};
    if (section < 0 || section >= ColumnCount)
        return {};
    if (role == Qt::DisplayRole)
        return tr(names[section]);
    if (role == Qt::ToolTipRole)
        return tr(tips[section]);
    return {};
}

void PacketTableModel::setConnections(const QVector<qint64> &ids)
{
    if (ids == m_connections)
        return;
    m_connections = ids;
    m_connectionSet = QSet<qint64>(ids.cbegin(), ids.cend());
    rebuild();
}

void PacketTableModel::setOriginNs(qint64 originNs)
{
    if (originNs == m_originNs)
        return;
    m_originNs = originNs;
    if (!m_rows.isEmpty())
        emit dataChanged(index(0, ColTime), index(int(m_rows.size()) - 1, ColTime), {Qt::DisplayRole});
}

void PacketTableModel::setProblemsOnly(bool on)
{
    if (on == m_problemsOnly)
        return;
    m_problemsOnly = on;
    rebuild();
}

void PacketTableModel::setFilterText(const QString &text)
{
    const QStringList words = text.toLower().split(QLatin1Char(' '), Qt::SkipEmptyParts);
    if (words == m_words)
        return;
    m_words = words;
    rebuild();
}

bool PacketTableModel::accepts(const Packet &p) const
{
    if (m_problemsOnly && !analysisIsProblem(p.analysis) && !pfmt::isMalformed(p))
        return false;
    if (m_words.isEmpty())
        return true;
    const QString hay = QStringLiteral("%1 %2 %3 %4 %5 len=%6 conn=%7")
                            .arg(p.id)
                            .arg(p.isOutgoing() ? QStringLiteral("out") : QStringLiteral("in"),
                                 pfmt::flagsText(p.tcpFlags), pfmt::analysisText(p), pfmt::source(p) + QLatin1Char(' ') + pfmt::destination(p))
                            .arg(p.payloadLen)
                            .arg(p.connectionId)
                            .toLower();
    return std::all_of(m_words.cbegin(), m_words.cend(), [&](const QString &w) { return hay.contains(w); });
}

void PacketTableModel::rebuild()
{
    beginResetModel();
    m_rows.clear();
    if (m_connections.isEmpty()) {
        m_rows.resize(m_store->size());
        std::iota(m_rows.begin(), m_rows.end(), 0);
    } else {
        for (qint64 id : m_connections)
            m_rows += m_store->indicesOf(id);
    }
    m_unfiltered = int(m_rows.size());
    if (m_problemsOnly || !m_words.isEmpty())
        m_rows.erase(std::remove_if(m_rows.begin(), m_rows.end(), [this](int i) { return !accepts(m_store->at(i)); }), m_rows.end());
    std::stable_sort(m_rows.begin(), m_rows.end(), [this](int a, int b) { return lessThan(a, b); });
    endResetModel();
}

bool PacketTableModel::lessThan(int a, int b) const
{
    const Packet &pa = m_store->at(a);
    const Packet &pb = m_store->at(b);
    auto key = [this](const Packet &p) -> std::pair<qint64, qint64> {
        switch (m_sortColumn) {
        case ColTime: return {p.timeNs, p.id};
        case ColConnection: return {p.connectionId, p.id};
        case ColDirection: return {qint64(p.direction), p.id};
        case ColFlags: return {p.tcpFlags, p.id};
        case ColSeq: return {p.relSeq, p.id};
        case ColAck: return {p.relAck, p.id};
        case ColWindow: return {p.scaledWindow >= 0 ? p.scaledWindow : qint64(p.window), p.id};
        case ColLength: return {p.payloadLen, p.id};
        case ColAnalysis: return {p.analysis, p.id};
        default: return {p.id, 0};
        }
    };
    return m_sortOrder == Qt::AscendingOrder ? key(pa) < key(pb) : key(pb) < key(pa);
}

void PacketTableModel::sort(int column, Qt::SortOrder order)
{
    if (column < 0 || column >= ColumnCount)
        return;
    m_sortColumn = column;
    m_sortOrder = order;
    emit layoutAboutToBeChanged({}, QAbstractItemModel::VerticalSortHint);
    const QModelIndexList persistent = persistentIndexList();
    QVector<int> storeIndices;
    storeIndices.reserve(persistent.size());
    for (const QModelIndex &i : persistent)
        storeIndices.append(m_rows.at(i.row()));
    std::stable_sort(m_rows.begin(), m_rows.end(), [this](int a, int b) { return lessThan(a, b); });
    if (!persistent.isEmpty()) {
        // Only the rows someone holds on to (selection, current) need their new position.
        QHash<int, int> newRow;
        const QSet<int> wanted(storeIndices.cbegin(), storeIndices.cend());
        for (int r = 0; r < m_rows.size(); ++r)
            if (wanted.contains(m_rows.at(r)))
                newRow.insert(m_rows.at(r), r);
        QModelIndexList to;
        to.reserve(persistent.size());
        for (int k = 0; k < persistent.size(); ++k)
            to.append(index(newRow.value(storeIndices.at(k)), persistent.at(k).column()));
        changePersistentIndexList(persistent, to);
    }
    emit layoutChanged({}, QAbstractItemModel::VerticalSortHint);
}

void PacketTableModel::onAppended(int first, int count)
{
    QVector<int> added;
    for (int i = first; i < first + count; ++i) {
        const Packet &p = m_store->at(i);
        if (!m_connectionSet.isEmpty() && !m_connectionSet.contains(p.connectionId))
            continue;
        ++m_unfiltered;
        if (accepts(p))
            added.append(i);
    }
    if (added.isEmpty())
        return;
    // Appended at the end whatever the sort: rows must not jump under the user's eyes while a
    // capture runs; clicking the header sorts everything again.
    const int row = int(m_rows.size());
    beginInsertRows({}, row, row + int(added.size()) - 1);
    m_rows += added;
    endInsertRows();
}

} // namespace tcpscope
