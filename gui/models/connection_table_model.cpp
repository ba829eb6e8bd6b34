// SPDX-License-Identifier: GPL-3.0-or-later
#include "models/connection_table_model.h"

#include "analysis/peers.h"
#include "models/session_job.h"
#include "util/format.h"

#include <QBrush>
#include <QColor>
#include <QFont>

#include <algorithm>

namespace tcpscope {

namespace {

const char *const kHeaders[ConnectionTableModel::ColumnCount] = {
    "ID",      "Process",      "PID",      "Role",     "Family",    "Local",  "Remote",
    "Peer",    "State",        "Start",    "Duration", "Handshake", "Sent",   "Received",
    "Retrans", "SRTT",         "SRTT min", "SRTT max", "cwnd max",  "Resent", "RST",
    "Drops",   "Close reason", "States",   "Owner",    "Host",
};

const char *const kHeaderTips[ConnectionTableModel::ColumnCount] = {
    "Session-local connection id",
    "Owning process name (comm)",
    "Owning process id (tgid)",
    "client (connect), server (accepted) or listener",
    "Address family",
    "Local address and port",
    "Remote address and port",
    "The other end of this connection when it is in the session too (the other local socket, "
    "or the other host's in a merged session): its connection id; double-click it or "
    "right-click ▸ Go to Peer to select it",
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
    "Who owns the socket beyond the process: its container (and Kubernetes pod) or systemd unit, "
    "read from its cgroup path; the tooltip has the path and the network namespace",
    "The machine the socket is on (the host the session was captured on)",
};

bool hasStats(const Connection &c)
{
    return c.haveCloseStats;
}

bool containsAll(const QVector<qint64> &haystack, const QVector<qint64> &needles)
{
    const QSet<qint64> all(haystack.cbegin(), haystack.cend());
    return std::all_of(needles.cbegin(), needles.cend(),
                       [&](qint64 id) { return all.contains(id); });
}

} // namespace

ConnectionTableModel::ConnectionTableModel(QObject *parent)
    : QAbstractTableModel(parent), m_filterJob(new SessionJob(this)),
      m_peerJob(new SessionJob(this))
{
    connect(m_filterJob, &SessionJob::runningChanged, this,
            &ConnectionTableModel::filteringChanged);
}

QStringList ConnectionTableModel::filterColumns(int column)
{
    switch (column) {
    case ColLocal:
        return {QStringLiteral("local_addr"), QStringLiteral("local_port")};
    case ColRemote:
        return {QStringLiteral("remote_addr"), QStringLiteral("remote_port")};
    case ColPeer:
    case ColDuration:
    case ColRetrans:
    case ColResets:
    case ColDrops:
    case ColStart:
    case ColStates:
    case ColOwner:
    case ColHost:
        return {}; // no field of the filter language tests these values
    default: {
        const QString sql = sqlSortColumn(column);
        return sql.isEmpty() ? QStringList() : QStringList{sql};
    }
    }
}

bool ConnectionTableModel::isFiltering() const
{
    return m_filterJob->isRunning();
}

namespace {
// The connections a connection filter selects: one pass over the summaries (no histories).
QSet<qint64> matchingIds(const Session &session, const DisplayFilter &filter,
                         const std::atomic<bool> &cancel)
{
    QSet<qint64> ids;
    const FilterContext context = filterContextForSession(session, filter);
    session.forEachConnection(
        [&](const Connection &c) {
            if (filter.matches(c, context))
                ids.insert(c.id);
            return !cancel.load(std::memory_order_relaxed);
        },
        false);
    return ids;
}
} // namespace

void ConnectionTableModel::evaluateExpression()
{
    m_filterJob->cancel();
    m_exprPending = false;
    if (m_parsed.kind != ParsedFilter::Expression || !m_session) {
        m_exprIds.clear();
        return;
    }
    const DisplayFilter filter = m_parsed.filter;
    if (m_session->connectionCount() <= kSyncPassRows) {
        const std::atomic<bool> never{false};
        m_exprIds = matchingIds(*m_session, filter, never);
        return;
    }
    // The rows of the previous filter stay until the matches arrive.
    m_exprPending = true;
    auto result = std::make_shared<QSet<qint64>>();
    m_filterJob->start(
        m_session->path(),
        [filter, result](const Session &session, const std::atomic<bool> &cancel) {
            *result = matchingIds(session, filter, cancel);
        },
        [this, result](const QString &error) {
            m_exprPending = false;
            m_exprIds = std::move(*result);
            if (!error.isEmpty())
                emit notice(tr("Could not filter the connections: %1").arg(error));
            requery();
            emit filterChanged();
        });
}

void ConnectionTableModel::computePeers()
{
    if (!m_session) {
        m_peers.clear();
        m_peersReady = false;
        return;
    }
    auto apply = [this](QHash<qint64, qint64> peers) {
        const bool changed = peers != m_peers;
        m_peers = std::move(peers);
        m_peersReady = true;
        if (changed && !m_ids.isEmpty()) {
            emit dataChanged(index(0, ColPeer), index(int(m_ids.size()) - 1, ColPeer),
                             {Qt::DisplayRole});
            emit peersChanged();
        } else if (changed) {
            emit peersChanged();
        }
    };
    if (m_session->connectionCount() <= kSyncPassRows) {
        apply(sessionPeers(*m_session));
        return;
    }
    if (m_peerJob->isRunning())
        return; // live growth: the running pass is followed by the next refresh
    auto result = std::make_shared<QHash<qint64, qint64>>();
    m_peerJob->start(
        m_session->path(),
        [result](const Session &session, const std::atomic<bool> &cancel) {
            *result = sessionPeers(session, &cancel);
        },
        [apply, result](const QString &) { apply(std::move(*result)); });
}

QString ConnectionTableModel::sqlSortColumn(int column)
{
    // Columns whose shown value is not one stored column (duration: end - start, or "now" for
    // open ones; RST: sent + received) have no SQL order and are not sortable.
    static const char *const kSql[ColumnCount] = {
        "id",         "comm",         "pid",          "role",           "family",
        "local_addr", "remote_addr",  nullptr,        "state",          "start_ns",
        nullptr,      "handshake_ns", "bytes_sent",   "bytes_received", "retransmits",
        "srtt_us",    "srtt_us_min",  "srtt_us_max",  "cwnd_max",       "kernel_retransmits",
        nullptr,      "drops",        "close_reason", "states",         nullptr,
        nullptr};
    if (column < 0 || column >= ColumnCount || !kSql[column])
        return {};
    return QString::fromLatin1(kSql[column]);
}

int ConnectionTableModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_ids.size());
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
    if (role == Qt::ToolTipRole) {
        QString tip = QString::fromLatin1(kHeaderTips[section]);
        if (sqlSortColumn(section).isEmpty())
            tip += QStringLiteral(" (not sortable)");
        return tip;
    }
    return {};
}

const QVector<Connection> &ConnectionTableModel::page(int pageIndex) const
{
    const auto it = m_pages.constFind(pageIndex);
    if (it != m_pages.cend())
        return *it;
    if (m_pageOrder.size() >= kMaxCachedPages)
        m_pages.remove(m_pageOrder.takeFirst());
    const QVector<qint64> ids = m_ids.mid(qsizetype(pageIndex) * kPageRows, kPageRows);
    // The States column shows the path of state changes, which lives in the history.
    QVector<Connection> rows =
        m_session ? m_session->connections(ids, true) : QVector<Connection>();
    // A row the session does not answer for (a damaged page) still needs its id in place.
    if (rows.size() != ids.size()) {
        QHash<qint64, Connection> byId;
        for (Connection &c : rows)
            byId.insert(c.id, std::move(c));
        rows.clear();
        for (qint64 id : ids) {
            Connection c = byId.value(id);
            c.id = id;
            rows.append(std::move(c));
        }
    }
    m_pageOrder.append(pageIndex);
    return *m_pages.insert(pageIndex, std::move(rows));
}

Connection ConnectionTableModel::connectionAt(int row) const
{
    if (row < 0 || row >= m_ids.size())
        return {};
    return page(row / kPageRows).at(row % kPageRows);
}

std::optional<Connection> ConnectionTableModel::connection(qint64 id) const
{
    return m_session ? m_session->connection(id) : std::nullopt;
}

int ConnectionTableModel::rowForId(qint64 id) const
{
    return int(m_ids.indexOf(id));
}

qint64 ConnectionTableModel::totalCount() const
{
    return m_session ? m_session->connectionCount() : 0;
}

const QVector<Connection> &ConnectionTableModel::connections() const
{
    if (!m_allLoaded && m_session) {
        m_all = m_session->allConnections(true);
    }
    m_allLoaded = true;
    return m_all;
}

QVariant ConnectionTableModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const int col = index.column();
    if (role == ConnectionIdRole)
        return m_ids.at(index.row());
    if (role == Qt::TextAlignmentRole) {
        switch (col) {
        case ColId:
        case ColPid:
        case ColPeer:
        case ColDuration:
        case ColHandshake:
        case ColSent:
        case ColReceived:
        case ColRetrans:
        case ColSrtt:
        case ColSrttMin:
        case ColSrttMax:
        case ColCwndMax:
        case ColKernelRetrans:
        case ColResets:
        case ColDrops:
            return QVariant(Qt::AlignRight | Qt::AlignVCenter);
        default:
            return QVariant(Qt::AlignLeft | Qt::AlignVCenter);
        }
    }
    if (role != Qt::DisplayRole && role != Qt::ToolTipRole && role != Qt::ForegroundRole &&
        role != Qt::FontRole)
        return {};
    const Connection &c = page(index.row() / kPageRows).at(index.row() % kPageRows);
    switch (role) {
    case Qt::DisplayRole:
        return displayData(c, col);
    case Qt::ToolTipRole:
        return toolTip(c, col);
    case Qt::ForegroundRole:
        if (col == ColCloseReason) {
            switch (c.closeReason) {
            case CloseReason::Reset:
            case CloseReason::Refused:
            case CloseReason::Timeout:
            case CloseReason::Aborted:
                return QBrush(QColor(0xb0, 0x20, 0x20));
            default:
                break;
            }
        }
        if ((col == ColRetrans && c.retransmits > 0) ||
            (col == ColKernelRetrans && c.kernel.retransmits > 0) ||
            (col == ColResets && c.kernel.resetsSent + c.kernel.resetsReceived > 0) ||
            (col == ColDrops && c.kernel.drops > 0))
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
    case ColId:
        return c.id;
    case ColProcess:
        return c.comm;
    case ColPid:
        return c.pid ? QVariant(c.pid) : QVariant(QString());
    case ColRole:
        return connectionRoleName(c.role);
    case ColFamily:
        return fmt::familyName(c.family);
    case ColLocal:
        return fmt::endpoint(c.localAddr, c.localPort);
    case ColRemote:
        if (c.role == ConnectionRole::Listener)
            return QString();
        return fmt::endpoint(c.remoteAddr, c.remotePort);
    case ColPeer: {
        const qint64 peer = peerOf(c.id);
        return peer > 0 ? QVariant(peer) : QVariant(QString());
    }
    case ColState:
        return tcpStateName(c.state);
    case ColStart:
        return c.startNs ? fmt::wallTime(c.startNs) : QString();
    case ColDuration:
        if (c.isOpen() && m_referenceNs <= c.startNs)
            return QString();
        return fmt::durationMs(c.durationMs(c.isOpen() ? m_referenceNs : 0));
    case ColHandshake:
        return c.handshakeNs >= 0 ? fmt::durationMs(c.handshakeNs / 1e6) : QString();
    case ColSent:
        return hasStats(c) ? fmt::bytes(c.bytesSent) : QString();
    case ColReceived:
        return hasStats(c) ? fmt::bytes(c.bytesReceived) : QString();
    case ColRetrans:
        return hasStats(c) ? QVariant(c.retransmits) : QVariant(QString());
    case ColSrtt:
        return hasStats(c) && c.srttUs ? fmt::durationMs(c.srttUs / 1000.0) : QString();
    case ColSrttMin:
        return c.kernel.srttUsMin ? fmt::durationMs(c.kernel.srttUsMin / 1000.0) : QString();
    case ColSrttMax:
        return c.kernel.srttUsMax ? fmt::durationMs(c.kernel.srttUsMax / 1000.0) : QString();
    case ColCwndMax:
        return c.kernel.cwndMax ? QVariant(c.kernel.cwndMax) : QVariant(QString());
    // Counts: blank rather than 0, so the rows where something happened stand out.
    case ColKernelRetrans:
        return c.kernel.retransmits ? QVariant(c.kernel.retransmits) : QVariant(QString());
    case ColResets:
        if (c.kernel.resetsSent + c.kernel.resetsReceived == 0)
            return QString();
        return QStringLiteral("%1↑ %2↓").arg(c.kernel.resetsSent).arg(c.kernel.resetsReceived);
    case ColDrops:
        return c.kernel.drops ? QVariant(c.kernel.drops) : QVariant(QString());
    case ColCloseReason:
        return closeReasonName(c.closeReason);
    case ColStates:
        return c.statesPath();
    case ColHost:
        // Each connection's own host in a session of several (tcpscope merge).
        return m_hostNames.size() > 1 ? m_hostNames.value(c.hostId) : m_host;
    case ColOwner: {
        // The most specific owner the path names: container (with its pod), else the unit.
        const auto a = m_attributions.constFind(c.cgroupId);
        if (a == m_attributions.cend())
            return {};
        if (!a->containerId.isEmpty()) {
            QString s = (a->runtime.isEmpty() ? QStringLiteral("container ")
                                              : a->runtime + QLatin1Char(' ')) +
                        a->containerId.left(12);
            if (!a->podUid.isEmpty())
                s += QStringLiteral(" (pod %1)").arg(a->podUid.left(8));
            return s;
        }
        if (!a->podUid.isEmpty())
            return QStringLiteral("pod %1").arg(a->podUid.left(8));
        if (!a->systemdUnit.isEmpty())
            return a->systemdUnit;
        return m_owners.cgroupPaths.value(c.cgroupId);
    }
    default:
        return {};
    }
}

QString ConnectionTableModel::toolTip(const Connection &c, int column) const
{
    switch (column) {
    case ColProcess:
    case ColPid:
    case ColOwner: {
        const QString path = m_owners.cgroupPaths.value(c.cgroupId);
        const QString netns = m_owners.netnsNames.value(c.netnsIno);
        QStringList lines{QStringLiteral("%1 (pid %2)").arg(c.comm).arg(c.pid)};
        lines << QStringLiteral("cgroup %1%2")
                     .arg(c.cgroupId)
                     .arg(path.isEmpty() ? QString() : QStringLiteral(": ") + path);
        if (const auto a = m_attributions.constFind(c.cgroupId); a != m_attributions.cend()) {
            if (!a->systemdUnit.isEmpty())
                lines << QStringLiteral("systemd unit: %1").arg(a->systemdUnit);
            if (!a->containerId.isEmpty())
                lines << QStringLiteral("container: %1%2")
                             .arg(a->containerId, a->runtime.isEmpty()
                                                      ? QString()
                                                      : QStringLiteral(" (%1)").arg(a->runtime));
            if (!a->podUid.isEmpty())
                lines << QStringLiteral("Kubernetes pod: %1, QoS %2").arg(a->podUid, a->qos);
        }
        lines << QStringLiteral("network namespace %1%2")
                     .arg(c.netnsIno)
                     .arg(netns.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(netns));
        return lines.join(QLatin1Char('\n'));
    }
    case ColStart:
        return c.startNs ? fmt::wallDateTime(c.startNs) : QString();
    case ColDuration:
        if (c.isOpen())
            return QStringLiteral("Still open (measured up to %1)")
                .arg(m_referenceNs ? fmt::wallTime(m_referenceNs) : QStringLiteral("?"));
        return QStringLiteral("%1 → %2").arg(fmt::wallTime(c.startNs), fmt::wallTime(c.endNs));
    case ColSent:
    case ColReceived:
        if (!hasStats(c))
            return QStringLiteral("Known when the connection closes");
        return QStringLiteral("%1 bytes sent (acked), %2 bytes received; %3 segments out, %4 in")
            .arg(c.bytesSent)
            .arg(c.bytesReceived)
            .arg(c.segsOut)
            .arg(c.segsIn);
    case ColSrtt:
        return hasStats(c)
                   ? QStringLiteral("srtt %1 µs, min RTT %2 µs").arg(c.srttUs).arg(c.minRttUs)
                   : QString();
    case ColKernelRetrans:
        return QStringLiteral("%1 segments resent (%2 SYN, %3 SYN-ACK)")
            .arg(c.kernel.retransmits)
            .arg(c.kernel.synRetransmits)
            .arg(c.kernel.synAckRetransmits);
    case ColResets:
        return QStringLiteral("%1 RST sent, %2 RST received")
            .arg(c.kernel.resetsSent)
            .arg(c.kernel.resetsReceived);
    case ColSrttMin:
    case ColSrttMax:
    case ColCwndMax:
        return QStringLiteral("%1 kernel samples: srtt %2–%3 µs, cwnd up to %4")
            .arg(c.kernel.samples)
            .arg(c.kernel.srttUsMin)
            .arg(c.kernel.srttUsMax)
            .arg(c.kernel.cwndMax);
    case ColStates: {
        // The page holds no histories; a tooltip is one row, asked for when hovered.
        const std::optional<Connection> full = connection(c.id);
        QStringList lines;
        for (const StateChange &sc : full ? full->history : c.history)
            lines << QStringLiteral("%1  %2 → %3")
                         .arg(fmt::wallTime(sc.timeNs), tcpStateName(sc.from), tcpStateName(sc.to));
        return lines.join(QLatin1Char('\n'));
    }
    default: {
        const QVariant v = displayData(c, column);
        return v.toString();
    }
    }
}

void ConnectionTableModel::setSession(std::shared_ptr<const Session> session)
{
    beginResetModel();
    m_session = std::move(session);
    m_all.clear();
    m_allLoaded = false;
    m_ids.clear();
    m_pages.clear();
    m_pageOrder.clear();
    m_peers.clear();
    m_peersReady = false;
    m_peerJob->cancel();
    loadOwners();
    endResetModel();
    computePeers();
    evaluateExpression();
    requery();
}

void ConnectionTableModel::loadOwners()
{
    OwnerNames fresh = m_session ? m_session->ownerNames() : OwnerNames();
    m_host = m_session ? m_session->info().hostname : QString();
    m_hostNames.clear();
    if (m_session)
        for (const HostInfo &h : m_session->hosts())
            m_hostNames.append(h.name);
    // A live refresh (4 Hz) reads the names again; the paths are parsed only when they changed.
    if (fresh.cgroupPaths != m_owners.cgroupPaths ||
        m_attributions.size() != fresh.cgroupPaths.size())
        m_attributions = attributeCgroups(fresh);
    m_owners = std::move(fresh);
}

void ConnectionTableModel::refresh()
{
    loadOwners();
    m_all.clear();
    m_allLoaded = false;
    computePeers();
    // A live session changes rows in place (a state, a close): the expression is evaluated
    // again; on the worker the rows of the previous pass stay until it is done.
    if (m_parsed.kind == ParsedFilter::Expression && !m_filterJob->isRunning())
        evaluateExpression();
    requery();
}

void ConnectionTableModel::sort(int column, Qt::SortOrder order)
{
    if (column < 0 || column >= ColumnCount)
        return;
    if (sqlSortColumn(column).isEmpty()) {
        emit notice(tr("The %1 column cannot be sorted: it is not one stored value")
                        .arg(QString::fromLatin1(kHeaders[column])));
        return;
    }
    if (column == m_sortColumn && order == m_sortOrder)
        return;
    m_sortColumn = column;
    m_sortOrder = order;
    requery();
}

void ConnectionTableModel::requery()
{
    if (m_exprPending)
        return; // the worker's matches requery when they arrive
    QVector<qint64> ids;
    // Only the ids both the id filter and the expression accept; none accepted: no query.
    QSet<qint64> only;
    bool restricted = false;
    if (m_idFilterActive) {
        only = m_idFilter;
        restricted = true;
    }
    if (m_parsed.kind == ParsedFilter::Expression && !m_parsed.filter.isEmpty()) {
        if (restricted)
            only.intersect(m_exprIds);
        else
            only = m_exprIds;
        restricted = true;
    }
    const bool nothing = (restricted && only.isEmpty()) || m_parsed.kind == ParsedFilter::Invalid;
    if (m_session && !nothing) {
        ConnectionQuery query;
        query.sortColumn = sqlSortColumn(m_sortColumn);
        query.descending = m_sortOrder == Qt::DescendingOrder;
        query.text = m_parsed.kind == ParsedFilter::Words ? m_parsed.words : QString();
        if (restricted)
            query.ids = QVector<qint64>(only.cbegin(), only.cend());
        ids = m_session->connectionIds(query);
        // A file older than the column (v1 has no kernel columns) cannot sort by it.
        if (ids.isEmpty() && !m_session->error().isEmpty() &&
            query.sortColumn != QLatin1String("id")) {
            emit notice(tr("This session cannot be sorted by %1: %2")
                            .arg(QString::fromLatin1(kHeaders[m_sortColumn]), m_session->error()));
            query.sortColumn = QStringLiteral("id");
            ids = m_session->connectionIds(query);
        }
    }
    if (ids.size() < m_ids.size() || (ids.size() > m_ids.size() && !containsAll(ids, m_ids))) {
        // Rows went away (a filter): nothing to keep.
        beginResetModel();
        m_ids = std::move(ids);
        m_pages.clear();
        m_pageOrder.clear();
        endResetModel();
        return;
    }
    if (ids.size() > m_ids.size()) {
        // Live growth: the new rows are inserted at the end, then the layout change below moves
        // them where the sort puts them, keeping every existing row's identity.
        const QSet<qint64> known(m_ids.cbegin(), m_ids.cend());
        beginInsertRows({}, int(m_ids.size()), int(ids.size()) - 1);
        for (qint64 id : std::as_const(ids))
            if (!known.contains(id))
                m_ids.append(id);
        m_pages.clear();
        m_pageOrder.clear();
        endInsertRows();
    }
    reorder(std::move(ids));
}

void ConnectionTableModel::reorder(QVector<qint64> ids)
{
    // The same rows in a new order: a layout change keeps the selection (persistent indexes)
    // on the same connections, which is what the user expects after a click on a header.
    emit layoutAboutToBeChanged({}, QAbstractItemModel::VerticalSortHint);
    const QModelIndexList persistent = persistentIndexList();
    QVector<qint64> persistentIds;
    persistentIds.reserve(persistent.size());
    for (const QModelIndex &i : persistent)
        persistentIds.append(m_ids.value(i.row(), -1));
    m_ids = std::move(ids);
    m_pages.clear();
    m_pageOrder.clear();
    QHash<qint64, int> rowOf;
    if (!persistent.isEmpty()) {
        const QSet<qint64> wanted(persistentIds.cbegin(), persistentIds.cend());
        for (int r = 0; r < m_ids.size(); ++r)
            if (wanted.contains(m_ids.at(r)))
                rowOf.insert(m_ids.at(r), r);
    }
    QModelIndexList to;
    to.reserve(persistent.size());
    for (int k = 0; k < persistent.size(); ++k) {
        const int row = rowOf.value(persistentIds.at(k), -1);
        to.append(row < 0 ? QModelIndex() : createIndex(row, persistent.at(k).column()));
    }
    changePersistentIndexList(persistent, to);
    emit layoutChanged({}, QAbstractItemModel::VerticalSortHint);
}

void ConnectionTableModel::setReferenceTimeNs(qint64 wallNs)
{
    if (wallNs == m_referenceNs)
        return;
    m_referenceNs = wallNs;
    // Only cached rows can be on screen; the others read the new time when fetched.
    for (auto it = m_pages.cbegin(); it != m_pages.cend(); ++it) {
        const int first = it.key() * kPageRows;
        for (int i = 0; i < it->size(); ++i)
            if (it->at(i).isOpen()) {
                const QModelIndex cell = index(first + i, ColDuration);
                emit dataChanged(cell, cell, {Qt::DisplayRole, Qt::ToolTipRole});
            }
    }
}

void ConnectionTableModel::setFilterText(const QString &text)
{
    const QString trimmed = text.simplified();
    if (trimmed == m_text)
        return;
    m_text = trimmed;
    m_parsed = parseFilterText(trimmed, FilterTarget::Connections);
    evaluateExpression();
    requery();
    if (!m_exprPending)
        emit filterChanged();
}

void ConnectionTableModel::setConnectionIdFilter(const QSet<qint64> &ids, const QString &label)
{
    const bool active = !ids.isEmpty();
    if (active == m_idFilterActive && ids == m_idFilter && label == m_idLabel)
        return;
    m_idFilter = ids;
    m_idLabel = active ? label : QString();
    m_idFilterActive = active;
    requery();
    emit filterChanged();
}

} // namespace tcpscope
