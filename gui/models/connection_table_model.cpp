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

bool containsAll(const QVector<qint64> &haystack, const QVector<qint64> &needles)
{
    const QSet<qint64> all(haystack.cbegin(), haystack.cend());
    return std::all_of(needles.cbegin(), needles.cend(),
                       [&](qint64 id) { return all.contains(id); });
}

} // namespace

ConnectionTableModel::ConnectionTableModel(QObject *parent)
    : QAbstractTableModel(parent), m_filterJob(new SessionJob(this)),
      m_peerJob(new SessionJob(this, SessionJob::Priority::Background)),
      m_wordJob(new SessionJob(this))
{
    connect(m_filterJob, &SessionJob::runningChanged, this,
            &ConnectionTableModel::filteringChanged);
}

QStringList ConnectionTableModel::filterColumns(int column)
{
    QStringList names;
    if (column >= 0 && column < viewColumns().size())
        for (const ConnectionColumn *stored : viewColumns().at(column).stored)
            names << QLatin1String(stored->name);
    return names;
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
        false, filter.connectionFields());
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
            const int peer = column("peer");
            emit dataChanged(index(0, peer), index(int(m_ids.size()) - 1, peer), {Qt::DisplayRole});
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
    if (column < 0 || column >= viewColumns().size() || !viewColumns().at(column).sorts)
        return {};
    return QLatin1String(viewColumns().at(column).stored.first()->name);
}

int ConnectionTableModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_ids.size());
}

int ConnectionTableModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(viewColumns().size());
}

QVariant ConnectionTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || section < 0 || section >= viewColumns().size())
        return QAbstractTableModel::headerData(section, orientation, role);
    const ViewColumn &column = viewColumns().at(section);
    if (role == Qt::DisplayRole)
        return QString::fromUtf8(column.header);
    if (role == Qt::ToolTipRole) {
        QString tip = QString::fromUtf8(column.tip);
        if (!column.sorts)
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
        for (Connection &c : rows) {
            const qint64 id = c.id;
            byId.emplace(id, std::move(c)); // insert() would copy: it takes a const reference
        }
        rows.clear();
        for (qint64 id : ids) {
            Connection c = byId.value(id);
            c.id = id;
            rows.append(std::move(c));
        }
    }
    m_pageOrder.append(pageIndex);
    return *m_pages.emplace(pageIndex, std::move(rows));
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
    const ViewColumn &column = viewColumns().at(index.column());
    if (role == ConnectionIdRole)
        return m_ids.at(index.row());
    if (role == Qt::TextAlignmentRole)
        return QVariant((column.numeric ? Qt::AlignRight : Qt::AlignLeft) | Qt::AlignVCenter);
    if (role != Qt::DisplayRole && role != Qt::ToolTipRole && role != Qt::ForegroundRole &&
        role != Qt::FontRole)
        return {};
    const Connection &c = page(index.row() / kPageRows).at(index.row() % kPageRows);
    const bool provisional = column.provisional && column.provisional(c);
    switch (role) {
    case Qt::DisplayRole:
        return column.display(*this, c);
    case Qt::ToolTipRole:
        return column.toolTip ? column.toolTip(*this, c) : column.display(*this, c).toString();
    case Qt::ForegroundRole:
        if (column.alarming && column.alarming(c))
            return QBrush(QColor(0xb0, 0x20, 0x20));
        if (provisional)
            return QBrush(QColor(0x60, 0x60, 0x60));
        return {};
    case Qt::FontRole:
        if (provisional) {
            QFont f;
            f.setItalic(true);
            return f;
        }
        return {};
    default:
        return {};
    }
}

void ConnectionTableModel::readWordsAhead()
{
    // The first filter word reads every connection's filter text (a pass over the table); on a
    // large session that pass starts with the session, beside what the user does, so a word
    // typed a moment later only searches memory. Small sessions read it in a few ms when asked.
    // Normal priority: the pass is short (~0.2 s for 200k connections) and a word may follow
    // soon; at the background passes' priority, sharing a core with them, it took a second.
    m_wordJob->cancel();
    if (!m_session || m_session->connectionCount() <= kSyncPassRows)
        return;
    auto index = std::make_shared<std::shared_ptr<const WordIndex>>();
    const std::shared_ptr<const Session> shown = m_session;
    m_wordJob->start(
        m_session->path(),
        [index](const Session &session, const std::atomic<bool> &) {
            *index = session.readWordIndex();
        },
        [index, shown](const QString &) {
            // A failed read leaves nothing to adopt: the first word reads the text itself.
            if (*index)
                shown->adoptWordIndex(*index);
        });
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
    readWordsAhead();
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
    // The file changed: an index read ahead may hold the rows as they were.
    m_wordJob->cancel();
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
    if (column < 0 || column >= viewColumns().size())
        return;
    if (!viewColumns().at(column).sorts) {
        emit notice(tr("The %1 column cannot be sorted: it is not one stored value")
                        .arg(QString::fromUtf8(viewColumns().at(column).header)));
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
                            .arg(QString::fromUtf8(viewColumns().at(m_sortColumn).header),
                                 m_session->error()));
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
    const int duration = column("duration");
    for (auto it = m_pages.cbegin(); it != m_pages.cend(); ++it) {
        const int first = it.key() * kPageRows;
        for (int i = 0; i < it->size(); ++i)
            if (it->at(i).isOpen()) {
                const QModelIndex cell = index(first + i, duration);
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
    // Words before the read-ahead is done: the query reads the text itself, at the user's
    // priority; the read-ahead would only compete with it.
    if (m_parsed.kind == ParsedFilter::Words && !m_parsed.words.isEmpty())
        m_wordJob->cancel();
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
