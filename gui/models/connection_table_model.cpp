// SPDX-License-Identifier: GPL-3.0-or-later
#include "models/connection_table_model.h"

#include "util/format.h"

#include <QBrush>
#include <QColor>
#include <QFont>

#include <algorithm>

namespace tcpscope {

namespace {

const char *const kHeaders[ConnectionTableModel::ColumnCount] = {
    "ID", "Process", "PID", "Role", "Family", "Local", "Remote", "State", "Start", "Duration",
    "Handshake", "Sent", "Received", "Retrans", "SRTT", "SRTT min", "SRTT max", "cwnd max", "Resent",
    "RST", "Drops", "Close reason", "States",
};

const char *const kHeaderTips[ConnectionTableModel::ColumnCount] = {
    "Session-local connection id",
    "Owning process name (comm)",
    "Owning process id (tgid)",
    "client (connect), server (accepted) or listener",
    "Address family",
    "Local address and port",
    "Remote address and port",
    "Current (or last) TCP state",
    "Local time of the first state change seen",
    "Lifetime: first state change to CLOSE (open: up to now / session end)",
    "SYN_SENT/SYN_RECV to ESTABLISHED",
    "Bytes sent and acknowledged by the peer (known when the connection closed)",
    "Bytes received in order (known when the connection closed)",
    "Total retransmitted segments",
    "Smoothed round-trip time at close",
    "Lowest smoothed RTT of the kernel's samples (tcp_probe)",
    "Highest smoothed RTT of the kernel's samples (tcp_probe)",
    "Largest congestion window of the kernel's samples, in packets",
    "Segments the kernel retransmitted, traced as they happened (SYN and SYN-ACK resends included)",
    "RST segments sent + received by this socket, as the kernel traced them",
    "Incoming packets of this connection the kernel dropped (reasons in the Kernel metrics tab)",
    "How the connection ended",
    "Every state the connection went through",
};

bool hasStats(const Connection &c) { return c.haveCloseStats; }

} // namespace

ConnectionTableModel::ConnectionTableModel(QObject *parent) : QAbstractTableModel(parent) {}

int ConnectionTableModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int ConnectionTableModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant ConnectionTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || section < 0 || section >= ColumnCount)
        return QAbstractTableModel::headerData(section, orientation, role);
    if (role == Qt::DisplayRole)
        return QString::fromLatin1(kHeaders[section]);
    if (role == Qt::ToolTipRole)
        return QString::fromLatin1(kHeaderTips[section]);
    return {};
}

QVariant ConnectionTableModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Connection &c = m_rows.at(index.row());
    const int col = index.column();
    switch (role) {
    case Qt::DisplayRole:
        return displayData(c, col);
    case SortRole:
        return sortData(c, col);
    case ConnectionIdRole:
        return c.id;
    case Qt::ToolTipRole:
        return toolTip(c, col);
    case Qt::TextAlignmentRole:
        switch (col) {
        case ColId: case ColPid: case ColDuration: case ColHandshake: case ColSent:
        case ColReceived: case ColRetrans: case ColSrtt: case ColSrttMin: case ColSrttMax:
        case ColCwndMax: case ColKernelRetrans: case ColResets: case ColDrops:
            return QVariant(Qt::AlignRight | Qt::AlignVCenter);
        default:
            return QVariant(Qt::AlignLeft | Qt::AlignVCenter);
        }
    case Qt::ForegroundRole:
        if (col == ColCloseReason) {
            switch (c.closeReason) {
            case CloseReason::Reset: case CloseReason::Refused: case CloseReason::Timeout:
            case CloseReason::Aborted:
                return QBrush(QColor(0xb0, 0x20, 0x20));
            default: break;
            }
        }
        if ((col == ColRetrans && c.retransmits > 0) || (col == ColKernelRetrans && c.kernel.retransmits > 0) ||
            (col == ColResets && c.kernel.resetsSent + c.kernel.resetsReceived > 0) || (col == ColDrops && c.kernel.drops > 0))
            return QBrush(QColor(0xb0, 0x20, 0x20));
        if (col == ColDuration && c.isOpen())
            return QBrush(QColor(0x60, 0x60, 0x60));
        return {};
    case Qt::FontRole:
        if (col == ColDuration && c.isOpen()) {
            QFont f;
            f.setItalic(true);
            return f;
        }
        return {};
    default:
        return {};
    }
}

QVariant ConnectionTableModel::displayData(const Connection &c, int column) const
{
    switch (column) {
    case ColId: return c.id;
    case ColProcess: return c.comm;
    case ColPid: return c.pid ? QVariant(c.pid) : QVariant(QString());
    case ColRole: return connectionRoleName(c.role);
    case ColFamily: return fmt::familyName(c.family);
    case ColLocal: return fmt::endpoint(c.localAddr, c.localPort);
    case ColRemote:
        if (c.role == ConnectionRole::Listener)
            return QString();
        return fmt::endpoint(c.remoteAddr, c.remotePort);
    case ColState: return tcpStateName(c.state);
    case ColStart: return c.startNs ? fmt::wallTime(c.startNs) : QString();
    case ColDuration:
        if (c.isOpen() && m_referenceNs <= c.startNs)
            return QString();
        return fmt::durationMs(c.durationMs(c.isOpen() ? m_referenceNs : 0));
    case ColHandshake: return c.handshakeNs >= 0 ? fmt::durationMs(c.handshakeNs / 1e6) : QString();
    case ColSent: return hasStats(c) ? fmt::bytes(c.bytesSent) : QString();
    case ColReceived: return hasStats(c) ? fmt::bytes(c.bytesReceived) : QString();
    case ColRetrans: return hasStats(c) ? QVariant(c.retransmits) : QVariant(QString());
    case ColSrtt: return hasStats(c) && c.srttUs ? fmt::durationMs(c.srttUs / 1000.0) : QString();
    case ColSrttMin: return c.kernel.srttUsMin ? fmt::durationMs(c.kernel.srttUsMin / 1000.0) : QString();
    case ColSrttMax: return c.kernel.srttUsMax ? fmt::durationMs(c.kernel.srttUsMax / 1000.0) : QString();
    case ColCwndMax: return c.kernel.cwndMax ? QVariant(c.kernel.cwndMax) : QVariant(QString());
    // Counts: blank rather than 0, so the rows where something happened stand out.
    case ColKernelRetrans: return c.kernel.retransmits ? QVariant(c.kernel.retransmits) : QVariant(QString());
    case ColResets:
        if (c.kernel.resetsSent + c.kernel.resetsReceived == 0)
            return QString();
        return QStringLiteral("%1↑ %2↓").arg(c.kernel.resetsSent).arg(c.kernel.resetsReceived);
    case ColDrops: return c.kernel.drops ? QVariant(c.kernel.drops) : QVariant(QString());
    case ColCloseReason: return closeReasonName(c.closeReason);
    case ColStates: return c.statesPath();
    default: return {};
    }
}

QVariant ConnectionTableModel::sortData(const Connection &c, int column) const
{
    switch (column) {
    case ColId: return c.id;
    case ColPid: return c.pid;
    case ColLocal: return QStringLiteral("%1/%2").arg(c.localAddr).arg(c.localPort, 5, 10, QLatin1Char('0'));
    case ColRemote: return QStringLiteral("%1/%2").arg(c.remoteAddr).arg(c.remotePort, 5, 10, QLatin1Char('0'));
    case ColState: return int(c.state);
    case ColStart: return c.startNs;
    case ColDuration: return c.isOpen() && m_referenceNs <= c.startNs ? -1.0 : c.durationMs(c.isOpen() ? m_referenceNs : 0);
    case ColHandshake: return c.handshakeNs;
    // Connections without stats sort below every real value, including 0.
    case ColSent: return hasStats(c) ? qint64(c.bytesSent) : qint64(-1);
    case ColReceived: return hasStats(c) ? qint64(c.bytesReceived) : qint64(-1);
    case ColRetrans: return hasStats(c) ? qint64(c.retransmits) : qint64(-1);
    case ColSrtt: return hasStats(c) ? qint64(c.srttUs) : qint64(-1);
    case ColFamily: return c.family;
    // No kernel value sorts below every real one.
    case ColSrttMin: return c.kernel.srttUsMin ? qint64(c.kernel.srttUsMin) : qint64(-1);
    case ColSrttMax: return c.kernel.srttUsMax ? qint64(c.kernel.srttUsMax) : qint64(-1);
    case ColCwndMax: return c.kernel.cwndMax ? qint64(c.kernel.cwndMax) : qint64(-1);
    case ColKernelRetrans: return qint64(c.kernel.retransmits);
    case ColResets: return qint64(c.kernel.resetsSent + c.kernel.resetsReceived);
    case ColDrops: return qint64(c.kernel.drops);
    default: return displayData(c, column);
    }
}

QString ConnectionTableModel::toolTip(const Connection &c, int column) const
{
    switch (column) {
    case ColProcess:
    case ColPid:
        return QStringLiteral("%1 (pid %2), cgroup %3, netns %4").arg(c.comm).arg(c.pid).arg(c.cgroupId).arg(c.netnsIno);
    case ColStart:
        return c.startNs ? fmt::wallDateTime(c.startNs) : QString();
    case ColDuration:
        if (c.isOpen())
            return QStringLiteral("Still open (measured up to %1)").arg(m_referenceNs ? fmt::wallTime(m_referenceNs) : QStringLiteral("?"));
        return QStringLiteral("%1 → %2").arg(fmt::wallTime(c.startNs), fmt::wallTime(c.endNs));
    case ColSent:
    case ColReceived:
        if (!hasStats(c))
            return QStringLiteral("Known when the connection closes");
        return QStringLiteral("%1 bytes sent (acked), %2 bytes received; %3 segments out, %4 in")
            .arg(c.bytesSent).arg(c.bytesReceived).arg(c.segsOut).arg(c.segsIn);
    case ColSrtt:
        return hasStats(c) ? QStringLiteral("srtt %1 µs, min RTT %2 µs").arg(c.srttUs).arg(c.minRttUs) : QString();
    case ColKernelRetrans:
        return QStringLiteral("%1 segments resent (%2 SYN, %3 SYN-ACK)").arg(c.kernel.retransmits).arg(c.kernel.synRetransmits).arg(c.kernel.synAckRetransmits);
    case ColResets:
        return QStringLiteral("%1 RST sent, %2 RST received").arg(c.kernel.resetsSent).arg(c.kernel.resetsReceived);
    case ColSrttMin:
    case ColSrttMax:
    case ColCwndMax:
        return QStringLiteral("%1 kernel samples: srtt %2–%3 µs, cwnd up to %4").arg(c.kernel.samples).arg(c.kernel.srttUsMin).arg(c.kernel.srttUsMax).arg(c.kernel.cwndMax);
    case ColStates: {
        QStringList lines;
        for (const StateChange &sc : c.history)
            lines << QStringLiteral("%1  %2 → %3").arg(fmt::wallTime(sc.timeNs), tcpStateName(sc.from), tcpStateName(sc.to));
        return lines.join(QLatin1Char('\n'));
    }
    default: {
        const QVariant v = displayData(c, column);
        return v.toString();
    }
    }
}

void ConnectionTableModel::setConnections(const QVector<Connection> &connections)
{
    beginResetModel();
    m_rows = connections;
    m_rowById.clear();
    m_rowById.reserve(m_rows.size());
    for (int i = 0; i < m_rows.size(); ++i)
        m_rowById.insert(m_rows.at(i).id, i);
    endResetModel();
}

void ConnectionTableModel::clear()
{
    setConnections({});
}

void ConnectionTableModel::upsert(const QVector<Connection> &changed)
{
    QVector<int> updatedRows;
    QVector<Connection> added;
    for (const Connection &c : changed) {
        const auto it = m_rowById.constFind(c.id);
        if (it != m_rowById.constEnd()) {
            m_rows[*it] = c;
            updatedRows.append(*it);
        } else {
            added.append(c);
        }
    }
    emitRowRuns(std::move(updatedRows), 0, ColumnCount - 1);
    if (added.isEmpty())
        return;
    // A batch may repeat an id; keep only its last version.
    QHash<qint64, int> lastIndex;
    for (int i = 0; i < added.size(); ++i)
        lastIndex.insert(added.at(i).id, i);
    QVector<Connection> unique;
    for (int i = 0; i < added.size(); ++i)
        if (lastIndex.value(added.at(i).id) == i)
            unique.append(added.at(i));
    const int first = int(m_rows.size());
    beginInsertRows({}, first, first + int(unique.size()) - 1);
    for (const Connection &c : unique) {
        m_rowById.insert(c.id, int(m_rows.size()));
        m_rows.append(c);
    }
    endInsertRows();
}

void ConnectionTableModel::setReferenceTimeNs(qint64 wallNs)
{
    if (wallNs == m_referenceNs)
        return;
    m_referenceNs = wallNs;
    QVector<int> open;
    for (int i = 0; i < m_rows.size(); ++i)
        if (m_rows.at(i).isOpen())
            open.append(i);
    emitRowRuns(std::move(open), ColDuration, ColDuration);
}

void ConnectionTableModel::emitRowRuns(QVector<int> rows, int firstColumn, int lastColumn)
{
    if (rows.isEmpty())
        return;
    std::sort(rows.begin(), rows.end());
    rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
    int runStart = rows.first();
    int prev = runStart;
    for (int i = 1; i <= rows.size(); ++i) {
        if (i < rows.size() && rows.at(i) == prev + 1) {
            prev = rows.at(i);
            continue;
        }
        emit dataChanged(index(runStart, firstColumn), index(prev, lastColumn));
        if (i < rows.size())
            runStart = prev = rows.at(i);
    }
}

} // namespace tcpscope
