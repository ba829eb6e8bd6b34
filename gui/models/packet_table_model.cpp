// SPDX-License-Identifier: GPL-3.0-or-later
#include "models/packet_table_model.h"

#include "models/filter_text.h"
#include "models/packet_details.h"
#include "session/session.h"
#include "tcpscope_records.h"
#include "util/packet_format.h"

#include <QBrush>
#include <QColor>
#include <QFont>
#include <QHash>
#include <QThread>

#include <algorithm>
#include <limits>
#include <numeric>

namespace tcpscope {

namespace {

constexpr quint32 kNoteFlags =
    AnalysisWindowUpdate | AnalysisKeepAlive | AnalysisKeepAliveAck | AnalysisZeroWindowProbeAck;

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

PacketTableModel::PacketTableModel(QObject *parent)
    : QAbstractTableModel(parent), m_scan(new PacketScanJob(this)),
      m_transitJob(new PeerTransitJob(this))
{
    connect(m_scan, &PacketScanJob::finished, this, &PacketTableModel::finishScan);
    connect(m_transitJob, &PeerTransitJob::finished, this, &PacketTableModel::finishTransit);
}

PacketTableModel::~PacketTableModel() = default;

int PacketTableModel::rowCount(const QModelIndex &parent) const
{
    if (parent.isValid())
        return 0;
    return int(m_memoryMode ? m_rows.size() : m_pagedRows);
}

int PacketTableModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

const Packet &PacketTableModel::rowPacket(int row) const
{
    return m_memoryMode ? m_rows.at(row) : m_pages.at(row);
}

Packet PacketTableModel::packetAt(int row) const
{
    if (row < 0 || row >= rowCount())
        return {};
    return rowPacket(row);
}

int PacketTableModel::rowOfPacket(qint64 packetId) const
{
    if (!m_memoryMode)
        return int(m_pages.rowOfId(packetId));
    const auto it = std::find_if(m_rows.cbegin(), m_rows.cend(),
                                 [&](const Packet &p) { return p.id == packetId; });
    return it == m_rows.cend() ? -1 : int(it - m_rows.cbegin());
}

QVariant PacketTableModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Packet &p = rowPacket(index.row());
    switch (role) {
    case Qt::DisplayRole:
        return display(p, index.column());
    case SortRole:
        return sortValue(p, index.column());
    case PacketIdRole:
        return p.id;
    case Qt::ToolTipRole:
        return toolTip(p, index.column());
    case Qt::BackgroundRole: {
        const QColor c = rowColors(p).background;
        return c.isValid() ? QVariant(QBrush(c)) : QVariant();
    }
    case Qt::ForegroundRole: {
        if (index.column() == ColPeerDelay) {
            const auto mark = transitMark(p);
            if (mark && mark->lost)
                return QBrush(QColor(0xb0, 0x20, 0x20));
        }
        const QColor c = rowColors(p).foreground;
        return c.isValid() ? QVariant(QBrush(c)) : QVariant();
    }
    case Qt::TextAlignmentRole:
        switch (index.column()) {
        case ColNo:
        case ColTime:
        case ColConnection:
        case ColSeq:
        case ColAck:
        case ColWindow:
        case ColLength:
        case ColPeerDelay:
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
    case ColPeerDelay: {
        const auto mark = transitMark(p);
        if (!mark)
            return {};
        if (mark->lost)
            return tr("✗ not received");
        return mark->matched() ? QVariant(oneWayDelayText(mark->delayNs)) : QVariant();
    }
    }
    return {};
}

qint64 PacketTableModel::peerOf(qint64 connectionId) const
{
    return m_transit ? m_transit->peers.value(connectionId, 0) : 0;
}

std::optional<PeerTransitMark> PacketTableModel::transitMark(const Packet &p) const
{
    if (!m_transit || !m_transit->transits.contains(p.connectionId))
        return std::nullopt;
    return m_transit->marks.value(p.id);
}

void PacketTableModel::startTransit()
{
    if (!m_session) {
        m_transitJob->cancel();
        return;
    }
    m_transitPackets = m_pages.count();
    m_transitStarted.start();
    m_transitJob->start(m_session->path(), m_connections);
}

void PacketTableModel::finishTransit(const std::shared_ptr<const PeerTransitResult> &result)
{
    m_transit = result;
    if (m_transit->tooLarge)
        emit notice(tr("One-way delays are computed for selected connections only in a session "
                       "of more than %1 packets")
                        .arg(PeerTransitJob::kMaxAllPackets));
    if (m_sortColumn == ColPeerDelay && m_memoryMode) {
        emit layoutAboutToBeChanged();
        sortMemoryRows();
        emit layoutChanged();
    }
    if (rowCount() > 0)
        emit dataChanged(index(0, ColPeerDelay), index(rowCount() - 1, ColPeerDelay));
    emit transitChanged();
}

QVariant PacketTableModel::sortValue(const Packet &p, int column) const
{
    switch (column) {
    case ColNo:
        return p.id;
    case ColTime:
        return p.timeNs;
    case ColConnection:
        return p.connectionId;
    case ColDirection:
        return int(p.direction);
    case ColFlags:
        return int(p.tcpFlags);
    case ColSeq:
        return p.relSeq;
    case ColAck:
        return p.relAck;
    case ColWindow:
        return p.scaledWindow >= 0 ? p.scaledWindow : qint64(p.window);
    case ColLength:
        return p.payloadLen;
    case ColAnalysis:
        return p.analysis;
    case ColPeerDelay: {
        const auto mark = transitMark(p);
        if (!mark || (!mark->lost && !mark->matched()))
            return {};
        return mark->lost ? std::numeric_limits<qint64>::max() : mark->delayNs;
    }
    }
    return {};
}

QString PacketTableModel::toolTip(const Packet &p, int column) const
{
    switch (column) {
    case ColDirection:
        return p.isOutgoing() ? tr("Sent by the local socket: %1 → %2")
                                    .arg(pfmt::source(p), pfmt::destination(p))
                              : tr("Received by the local socket: %1 → %2")
                                    .arg(pfmt::source(p), pfmt::destination(p));
    case ColWindow:
        if (p.scaledWindow >= 0 && p.scaledWindow != p.window)
            return tr("Raw header value %1, scaled to %2 bytes").arg(p.window).arg(p.scaledWindow);
        if (p.scaledWindow >= 0)
            return tr("Raw header value %1 (no scaling)").arg(p.window);
        return tr("Raw header value %1; the window scale is not known (handshake not seen)")
            .arg(p.window);
    case ColSeq:
    case ColAck:
        return tr("Relative to the first sequence number of this direction. Absolute: seq %1, ack "
                  "%2")
            .arg(p.seq)
            .arg(p.ack);
    case ColTime:
        return tr("Seconds since the start of the session");
    case ColAnalysis:
        if (pfmt::isMalformed(p))
            return tr("Parse status: %1").arg(pfmt::parseStatusText(p.parseStatus));
        return {};
    case ColPeerDelay: {
        const qint64 peer = peerOf(p.connectionId);
        if (!m_transit)
            return m_transitJob->isRunning() ? tr("Computing the one-way delays…") : QString();
        if (peer <= 0)
            return tr("The other end of connection %1 is not in the session").arg(p.connectionId);
        const auto mark = transitMark(p);
        if (!mark)
            return {};
        if (mark->lost)
            return tr("Sent and never received by the other end (connection %1), although it "
                      "received later packets: lost in the network")
                .arg(peer);
        if (!mark->matched())
            return tr("Not matched with a packet of the other end (connection %1)").arg(peer);
        return p.isOutgoing() ? tr("Received by the other end (connection %1, packet %2) after %3")
                                    .arg(peer)
                                    .arg(mark->peerPacketId)
                                    .arg(oneWayDelayText(mark->delayNs))
                              : tr("Sent by the other end (connection %1, packet %2) %3 earlier")
                                    .arg(peer)
                                    .arg(mark->peerPacketId)
                                    .arg(oneWayDelayText(mark->delayNs));
    }
    }
    return {};
}

QVariant PacketTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal)
        return {};
    static const char *const names[ColumnCount] = {"No.",   "Time",     "Conn",         "Dir",
                                                   "Flags", "Seq",      "Ack",          "Window",
                                                   "Len",   "Analysis", "One-way delay"};
    // The last tooltip is one string split over three lines, not a missing comma.
    // NOLINTBEGIN(bugprone-suspicious-missing-comma)
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
        "Analysis: problems red (retransmission, dup ACK, zero window, ...), notes grey",
        "Time from the send by one end to the receive by the other, when both ends of the "
        "connection are in the session (across hosts it includes their clock difference); "
        "✗ not received: sent and lost in the network"};
    // NOLINTEND(bugprone-suspicious-missing-comma)
    if (section < 0 || section >= ColumnCount)
        return {};
    if (role == Qt::DisplayRole)
        return tr(names[section]);
    if (role == Qt::ToolTipRole)
        return tr(tips[section]);
    return {};
}

void PacketTableModel::setSession(std::shared_ptr<const Session> session)
{
    m_session = std::move(session);
    m_connections.clear();
    m_transit.reset();
    rebuild();
    startTransit();
}

void PacketTableModel::setConnections(const QVector<qint64> &ids)
{
    // Not QList::operator==: Qt 6.4 memcmp()s a null pointer for two empty lists, one never
    // allocated (harmless, but undefined behaviour that UBSan stops the tests on).
    if (std::equal(ids.cbegin(), ids.cend(), m_connections.cbegin(), m_connections.cend()))
        return;
    m_connections = ids;
    m_transit.reset();
    rebuild();
    startTransit();
}

void PacketTableModel::setOriginNs(qint64 originNs)
{
    if (originNs == m_originNs)
        return;
    m_originNs = originNs;
    if (rowCount() > 0)
        emit dataChanged(index(0, ColTime), index(rowCount() - 1, ColTime), {Qt::DisplayRole});
}

void PacketTableModel::setProblemsOnly(bool on)
{
    if (on == m_filter.problemsOnly)
        return;
    m_filter.problemsOnly = on;
    rebuild();
}

void PacketTableModel::setFilterText(const QString &text)
{
    const QString trimmed = text.simplified();
    if (trimmed == m_filterText)
        return;
    m_filterText = trimmed;
    const ParsedFilter parsed = parseFilterText(trimmed, FilterTarget::Packets);
    m_filter.words.clear();
    m_filter.expression = DisplayFilter();
    m_filter.context.reset();
    m_filter.invalid = parsed.kind == ParsedFilter::Invalid;
    if (parsed.kind == ParsedFilter::Words)
        m_filter.words = parsed.words.split(QLatin1Char(' '), Qt::SkipEmptyParts);
    else if (parsed.kind == ParsedFilter::Expression)
        m_filter.expression = parsed.filter;
    rebuild();
}

void PacketTableModel::rebuild()
{
    cancelScan();
    beginResetModel();
    m_pages.reset(m_session, m_connections);
    m_rows.clear();
    m_truncated = false;
    const bool sorted = m_sortColumn != ColNo || m_sortOrder != Qt::AscendingOrder;
    const bool small = m_pages.count() <= kMemoryRows;
    m_memoryMode = m_filter.isActive() || (sorted && small);
    m_pagedRows = m_memoryMode ? 0 : m_pages.count();
    // The expression's context is built where the packets are read: here for a small list,
    // on the scan's worker for a large one.
    m_filter.context.reset();
    if (m_memoryMode && small && m_filter.hasExpression() && m_session)
        m_filter.context = packetFilterContext(*m_session, m_filter.expression, m_connections);
    if (m_memoryMode && small)
        loadMemoryRows();
    endResetModel();
    if (m_memoryMode && !small)
        startScan();
    else if (sorted && !small)
        emit notice(tr("%1 packets are listed in capture order: select fewer connections or filter "
                       "to sort them")
                        .arg(m_pages.count()));
}

void PacketTableModel::loadMemoryRows()
{
    const QVector<Packet> all = m_pages.read(0, m_pages.count());
    m_rows.reserve(all.size());
    for (const Packet &p : all)
        if (m_filter.accepts(p))
            m_rows.append(p);
    sortMemoryRows();
}

void PacketTableModel::startScan()
{
    if (!m_session)
        return;
    // The filter is shared with the worker, which sets its context (read only afterwards).
    auto filter = std::make_shared<PacketQuickFilter>(m_filter);
    const QVector<qint64> connections = m_connections;
    std::function<void(const Session &)> prepare;
    if (filter->hasExpression())
        prepare = [filter, connections](const Session &session) {
            filter->context = packetFilterContext(session, filter->expression, connections);
        };
    m_scan->start(
        m_session->path(), m_connections, [filter](const Packet &p) { return filter->accepts(p); },
        kMaxMatches, prepare);
    emit scanningChanged(true);
}

void PacketTableModel::finishScan(const PacketScanResult &result)
{
    beginResetModel();
    m_rows = result.matches;
    m_truncated = result.truncated;
    sortMemoryRows();
    endResetModel();
    emit scanningChanged(false);
    if (!result.error.isEmpty())
        emit notice(tr("Could not filter the packets: %1").arg(result.error));
    else if (m_truncated)
        emit notice(tr("Showing the first %1 matching packets").arg(kMaxMatches));
}

void PacketTableModel::cancelScan()
{
    if (!m_scan->isRunning())
        return;
    m_scan->cancel();
    emit scanningChanged(false);
}

void PacketTableModel::sortMemoryRows()
{
    std::stable_sort(m_rows.begin(), m_rows.end(),
                     [this](const Packet &a, const Packet &b) { return lessThan(a, b); });
}

bool PacketTableModel::lessThan(const Packet &pa, const Packet &pb) const
{
    auto key = [this](const Packet &p) -> std::pair<qint64, qint64> {
        switch (m_sortColumn) {
        case ColTime:
            return {p.timeNs, p.id};
        case ColConnection:
            return {p.connectionId, p.id};
        case ColDirection:
            return {qint64(p.direction), p.id};
        case ColFlags:
            return {p.tcpFlags, p.id};
        case ColSeq:
            return {p.relSeq, p.id};
        case ColAck:
            return {p.relAck, p.id};
        case ColWindow:
            return {p.scaledWindow >= 0 ? p.scaledWindow : qint64(p.window), p.id};
        case ColLength:
            return {p.payloadLen, p.id};
        case ColAnalysis:
            return {p.analysis, p.id};
        case ColPeerDelay: {
            // Unmatched first, then by delay, lost last.
            const auto mark = transitMark(p);
            if (!mark || (!mark->lost && !mark->matched()))
                return {std::numeric_limits<qint64>::min(), p.id};
            return {mark->lost ? std::numeric_limits<qint64>::max() : mark->delayNs, p.id};
        }
        default:
            return {p.id, 0};
        }
    };
    return m_sortOrder == Qt::AscendingOrder ? key(pa) < key(pb) : key(pb) < key(pa);
}

void PacketTableModel::sort(int column, Qt::SortOrder order)
{
    if (column < 0 || column >= ColumnCount || (column == m_sortColumn && order == m_sortOrder))
        return;
    m_sortColumn = column;
    m_sortOrder = order;
    if (!m_memoryMode) {
        rebuild(); // loads the rows when few enough, else says why the order stays
        return;
    }
    emit layoutAboutToBeChanged({}, QAbstractItemModel::VerticalSortHint);
    const QModelIndexList persistent = persistentIndexList();
    QVector<qint64> ids;
    ids.reserve(persistent.size());
    for (const QModelIndex &i : persistent)
        ids.append(m_rows.at(i.row()).id);
    sortMemoryRows();
    if (!persistent.isEmpty()) {
        // Only the rows someone holds on to (selection, current) need their new position.
        QHash<qint64, int> newRow;
        const QSet<qint64> wanted(ids.cbegin(), ids.cend());
        for (int r = 0; r < m_rows.size(); ++r)
            if (wanted.contains(m_rows.at(r).id))
                newRow.insert(m_rows.at(r).id, r);
        QModelIndexList to;
        to.reserve(persistent.size());
        for (int k = 0; k < persistent.size(); ++k)
            to.append(index(newRow.value(ids.at(k)), persistent.at(k).column()));
        changePersistentIndexList(persistent, to);
    }
    emit layoutChanged({}, QAbstractItemModel::VerticalSortHint);
}

void PacketTableModel::refresh()
{
    // Live: new packets get their delays from a new run (one at a time).
    if (m_session && !m_transitJob->isRunning() && m_pages.count() != m_transitPackets &&
        (!m_transitStarted.isValid() || m_transitStarted.elapsed() >= 2000))
        startTransit();
    if (m_connections.size() > 1) {
        // Rows are the connections one after the other: new packets of the first one belong in
        // the middle, so the list is read again.
        const QVector<qint64> ids = m_connections;
        qint64 total = 0;
        for (qint64 id : ids)
            total += m_session ? m_session->packetCount(id) : 0;
        if (total != m_pages.count())
            rebuild();
        return;
    }
    if (m_memoryMode) {
        // A filtered or sorted list is a snapshot; a filter scan re-runs with the new packets.
        if (m_pages.count() > kMemoryRows)
            return; // a filter scan's matches: a snapshot until the filter changes
        const qint64 before = m_pages.count();
        if (m_pages.refreshCounts() != before && m_pages.count() <= kMemoryRows) {
            // New packets may belong to connections the expression's context has not seen.
            if (m_filter.hasExpression() && m_session && m_filter.expression.needsConnections())
                m_filter.context =
                    packetFilterContext(*m_session, m_filter.expression, m_connections);
            QVector<Packet> added = m_pages.read(before, m_pages.count() - before);
            added.erase(std::remove_if(added.begin(), added.end(),
                                       [this](const Packet &p) { return !m_filter.accepts(p); }),
                        added.end());
            if (!added.isEmpty()) {
                // Appended at the end whatever the sort: rows must not jump under the user's
                // eyes while a capture runs; clicking the header sorts everything again.
                beginInsertRows({}, int(m_rows.size()), int(m_rows.size() + added.size()) - 1);
                m_rows += added;
                endInsertRows();
            }
        }
        return;
    }
    const qint64 count = m_pages.refreshCounts();
    if (count > m_pagedRows) {
        beginInsertRows({}, int(m_pagedRows), int(count) - 1);
        m_pagedRows = count;
        endInsertRows();
    }
}

} // namespace tcpscope
