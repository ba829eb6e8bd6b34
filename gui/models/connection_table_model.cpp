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

int ConnectionTableModel::column(const char *key)
{
    const QVector<ViewColumn> &columns = viewColumns();
    for (int i = 0; i < columns.size(); ++i)
        if (qstrcmp(columns.at(i).key, key) == 0)
            return i;
    qFatal("no connection table column '%s'", key);
}

const QVector<ConnectionTableModel::ViewColumn> &ConnectionTableModel::viewColumns()
{
    using M = ConnectionTableModel;
    // The stored columns a table column shows, by their names in connection_columns.cpp.
    const auto stored = [](auto... names) {
        return QVector<const ConnectionColumn *>{&connectionColumn(names)...};
    };
    // Tooltips several columns share.
    const auto kernelTip = [](const M &, const Connection &c) -> QString {
        return QStringLiteral("%1 kernel samples: srtt %2–%3 µs, cwnd up to %4")
            .arg(c.kernel.samples)
            .arg(c.kernel.srttUsMin)
            .arg(c.kernel.srttUsMax)
            .arg(c.kernel.cwndMax);
    };
    const auto statsTip = [](const M &, const Connection &c) -> QString {
        if (!hasStats(c))
            return QStringLiteral("Known when the connection closes");
        return QStringLiteral("%1 bytes sent (acked), %2 bytes received; %3 segments out, %4 in")
            .arg(c.bytesSent)
            .arg(c.bytesReceived)
            .arg(c.segsOut)
            .arg(c.segsIn);
    };
    const auto ownerTip = [](const M &m, const Connection &c) { return m.ownerToolTip(c); };
    // Counts and kernel metrics are blank rather than 0 (unknown, or nothing happened), so the
    // rows where something happened stand out.
    static const QVector<ViewColumn> columns{
        {.key = "id",
         .header = "ID",
         .tip = "Session-local connection id",
         .numeric = true,
         .stored = stored("id"),
         .sorts = true,
         .widthSample = "99999",
         .display = [](const M &, const Connection &c) -> QVariant { return c.id; }},
        {.key = "process",
         .header = "Process",
         .tip = "Owning process name (comm)",
         .stored = stored("comm"),
         .sorts = true,
         .widthSample = "processname123",
         .display = [](const M &, const Connection &c) -> QVariant { return c.comm; },
         .toolTip = ownerTip},
        {.key = "pid",
         .header = "PID",
         .tip = "Owning process id (tgid)",
         .numeric = true,
         .stored = stored("pid"),
         .sorts = true,
         .widthSample = "4194304",
         .display = [](const M &, const Connection &c) -> QVariant {
             return c.pid ? QVariant(c.pid) : QVariant(QString());
         },
         .toolTip = ownerTip},
        {.key = "role",
         .header = "Role",
         .tip = "client (connect), server (accepted) or listener",
         .stored = stored("role"),
         .sorts = true,
         .widthSample = "listener",
         .display = [](const M &, const Connection &c) -> QVariant {
             return connectionRoleName(c.role);
         }},
        {.key = "family",
         .header = "Family",
         .tip = "Address family",
         .stored = stored("family"),
         .sorts = true,
         .widthSample = "IPv6",
         .display = [](const M &, const Connection &c) -> QVariant {
             return fmt::familyName(c.family);
         }},
        {.key = "local",
         .header = "Local",
         .tip = "Local address and port",
         .stored = stored("local_addr", "local_port"),
         .sorts = true,
         .widthSample = "255.255.255.255:65535",
         .display = [](const M &, const Connection &c) -> QVariant {
             return fmt::endpoint(c.localAddr, c.localPort);
         }},
        {.key = "remote",
         .header = "Remote",
         .tip = "Remote address and port",
         .stored = stored("remote_addr", "remote_port"),
         .sorts = true,
         .widthSample = "255.255.255.255:65535",
         .display = [](const M &, const Connection &c) -> QVariant {
             if (c.role == ConnectionRole::Listener)
                 return QString();
             return fmt::endpoint(c.remoteAddr, c.remotePort);
         }},
        {.key = "peer",
         .header = "Peer",
         .tip = "The other end of this connection when it is in the session too (the other "
                "local socket, or the other host's in a merged session): its connection id; "
                "double-click it or right-click ▸ Go to Peer to select it",
         .numeric = true,
         .widthSample = "99999",
         .display = [](const M &m, const Connection &c) -> QVariant {
             const qint64 peer = m.peerOf(c.id);
             return peer > 0 ? QVariant(peer) : QVariant(QString());
         }},
        {.key = "state",
         .header = "State",
         .tip = "Current (or last) TCP state",
         .stored = stored("state"),
         .sorts = true,
         .widthSample = "ESTABLISHED",
         .display = [](const M &, const Connection &c) -> QVariant {
             return tcpStateName(c.state);
         }},
        {.key = "start",
         .header = "Start",
         .tip = "Local time of the first state change seen",
         .stored = stored("start_ns"),
         .sorts = true,
         .widthSample = "00:00:00.000",
         .display = [](const M &, const Connection &c) -> QVariant {
             return c.startNs ? fmt::wallTime(c.startNs) : QString();
         },
         .toolTip = [](const M &, const Connection &c) -> QString {
             return c.startNs ? fmt::wallDateTime(c.startNs) : QString();
         }},
        {.key = "duration",
         .header = "Duration",
         .tip = "Lifetime: first state change to CLOSE (open: up to now / session end)",
         .numeric = true,
         .stored = stored("start_ns", "end_ns"),
         .widthSample = "999.9 ms",
         .display = [](const M &m, const Connection &c) -> QVariant {
             if (c.isOpen() && m.m_referenceNs <= c.startNs)
                 return QString();
             return fmt::durationMs(c.durationMs(c.isOpen() ? m.m_referenceNs : 0));
         },
         .toolTip = [](const M &m, const Connection &c) -> QString {
             if (c.isOpen())
                 return QStringLiteral("Still open (measured up to %1)")
                     .arg(m.m_referenceNs ? fmt::wallTime(m.m_referenceNs) : QStringLiteral("?"));
             return QStringLiteral("%1 → %2").arg(fmt::wallTime(c.startNs), fmt::wallTime(c.endNs));
         },
         .provisional = [](const Connection &c) { return c.isOpen(); }},
        {.key = "handshake",
         .header = "Handshake",
         .tip = "SYN_SENT/SYN_RECV to ESTABLISHED",
         .numeric = true,
         .stored = stored("handshake_ns"),
         .sorts = true,
         .widthSample = "99.99 ms",
         .display = [](const M &, const Connection &c) -> QVariant {
             return c.handshakeNs >= 0 ? fmt::durationMs(c.handshakeNs / 1e6) : QString();
         }},
        {.key = "sent",
         .header = "Sent",
         .tip = "Bytes sent and acknowledged by the peer (known when the connection closed)",
         .numeric = true,
         .stored = stored("bytes_sent"),
         .sorts = true,
         .widthSample = "999.9 KiB",
         .display = [](const M &, const Connection &c) -> QVariant {
             return hasStats(c) ? fmt::bytes(c.bytesSent) : QString();
         },
         .toolTip = statsTip},
        {.key = "received",
         .header = "Received",
         .tip = "Bytes received in order (known when the connection closed)",
         .numeric = true,
         .stored = stored("bytes_received"),
         .sorts = true,
         .widthSample = "999.9 KiB",
         .display = [](const M &, const Connection &c) -> QVariant {
             return hasStats(c) ? fmt::bytes(c.bytesReceived) : QString();
         },
         .toolTip = statsTip},
        {.key = "retrans",
         .header = "Retrans",
         .tip = "Total retransmitted segments",
         .numeric = true,
         .stored = stored("retransmits"),
         .sorts = true,
         .widthSample = "Retrans",
         .display = [](const M &, const Connection &c) -> QVariant {
             return hasStats(c) ? QVariant(c.retransmits) : QVariant(QString());
         },
         .alarming = [](const Connection &c) { return c.retransmits > 0; }},
        {.key = "srtt",
         .header = "SRTT",
         .tip = "Smoothed round-trip time at close",
         .numeric = true,
         .stored = stored("srtt_us"),
         .sorts = true,
         .widthSample = "99.99 ms",
         .display = [](const M &, const Connection &c) -> QVariant {
             return hasStats(c) && c.srttUs ? fmt::durationMs(c.srttUs / 1000.0) : QString();
         },
         .toolTip = [](const M &, const Connection &c) -> QString {
             return hasStats(c)
                        ? QStringLiteral("srtt %1 µs, min RTT %2 µs").arg(c.srttUs).arg(c.minRttUs)
                        : QString();
         }},
        {.key = "srtt_min",
         .header = "SRTT min",
         .tip = "Lowest smoothed RTT of the kernel's samples (tcp_probe)",
         .numeric = true,
         .stored = stored("srtt_us_min"),
         .sorts = true,
         .widthSample = "99.99 ms",
         .display = [](const M &, const Connection &c) -> QVariant {
             return c.kernel.srttUsMin ? fmt::durationMs(c.kernel.srttUsMin / 1000.0) : QString();
         },
         .toolTip = kernelTip},
        {.key = "srtt_max",
         .header = "SRTT max",
         .tip = "Highest smoothed RTT of the kernel's samples (tcp_probe)",
         .numeric = true,
         .stored = stored("srtt_us_max"),
         .sorts = true,
         .widthSample = "99.99 ms",
         .display = [](const M &, const Connection &c) -> QVariant {
             return c.kernel.srttUsMax ? fmt::durationMs(c.kernel.srttUsMax / 1000.0) : QString();
         },
         .toolTip = kernelTip},
        {.key = "cwnd_max",
         .header = "cwnd max",
         .tip = "Largest congestion window of the kernel's samples, in packets",
         .numeric = true,
         .stored = stored("cwnd_max"),
         .sorts = true,
         .widthSample = "99999",
         .display = [](const M &, const Connection &c) -> QVariant {
             return c.kernel.cwndMax ? QVariant(c.kernel.cwndMax) : QVariant(QString());
         },
         .toolTip = kernelTip},
        {.key = "kernel_retrans",
         .header = "Resent",
         .tip = "Segments the kernel retransmitted, traced as they happened (SYN and SYN-ACK "
                "resends included)",
         .numeric = true,
         .stored = stored("kernel_retransmits"),
         .sorts = true,
         .widthSample = "99999",
         .display = [](const M &, const Connection &c) -> QVariant {
             return c.kernel.retransmits ? QVariant(c.kernel.retransmits) : QVariant(QString());
         },
         .toolTip = [](const M &, const Connection &c) -> QString {
             return QStringLiteral("%1 segments resent (%2 SYN, %3 SYN-ACK)")
                 .arg(c.kernel.retransmits)
                 .arg(c.kernel.synRetransmits)
                 .arg(c.kernel.synAckRetransmits);
         },
         .alarming = [](const Connection &c) { return c.kernel.retransmits > 0; }},
        {.key = "resets",
         .header = "RST",
         .tip = "RST segments sent + received by this socket, as the kernel traced them",
         .numeric = true,
         .stored = stored("resets_sent", "resets_received"),
         .widthSample = "99↑ 99↓",
         .display = [](const M &, const Connection &c) -> QVariant {
             if (c.kernel.resetsSent + c.kernel.resetsReceived == 0)
                 return QString();
             return QStringLiteral("%1↑ %2↓").arg(c.kernel.resetsSent).arg(c.kernel.resetsReceived);
         },
         .toolTip = [](const M &, const Connection &c) -> QString {
             return QStringLiteral("%1 RST sent, %2 RST received")
                 .arg(c.kernel.resetsSent)
                 .arg(c.kernel.resetsReceived);
         },
         .alarming =
             [](const Connection &c) { return c.kernel.resetsSent + c.kernel.resetsReceived > 0; }},
        {.key = "drops",
         .header = "Drops",
         .tip = "Incoming packets of this connection the kernel dropped (reasons in the Kernel "
                "metrics tab)",
         .numeric = true,
         .stored = stored("drops"),
         .sorts = true,
         .widthSample = "99999",
         .display = [](const M &, const Connection &c) -> QVariant {
             return c.kernel.drops ? QVariant(c.kernel.drops) : QVariant(QString());
         },
         .alarming = [](const Connection &c) { return c.kernel.drops > 0; }},
        {.key = "close_reason",
         .header = "Close reason",
         .tip = "How the connection ended",
         .stored = stored("close_reason"),
         .sorts = true,
         .widthSample = "listener-closed",
         .display = [](const M &, const Connection &c) -> QVariant {
             return closeReasonName(c.closeReason);
         },
         .alarming =
             [](const Connection &c) {
                 return c.closeReason == CloseReason::Reset ||
                        c.closeReason == CloseReason::Refused ||
                        c.closeReason == CloseReason::Timeout ||
                        c.closeReason == CloseReason::Aborted;
             }},
        {.key = "states",
         .header = "States",
         .tip = "Every state the connection went through",
         .stored = stored("states"),
         .sorts = true,
         .widthSample = "SYN_SENT>ESTABLISHED>FIN_WAIT1>FIN_WAIT2",
         .display = [](const M &, const Connection &c) -> QVariant { return c.statesPath(); },
         .toolTip = [](const M &m, const Connection &c) -> QString {
             // The page holds no histories; a tooltip is one row, asked for when hovered.
             const std::optional<Connection> full = m.connection(c.id);
             QStringList lines;
             for (const StateChange &sc : full ? full->history : c.history)
                 lines << QStringLiteral("%1  %2 → %3")
                              .arg(fmt::wallTime(sc.timeNs), tcpStateName(sc.from),
                                   tcpStateName(sc.to));
             return lines.join(QLatin1Char('\n'));
         }},
        {.key = "owner",
         .header = "Owner",
         .tip = "Who owns the socket beyond the process: its container (and Kubernetes pod) or "
                "systemd unit, read from its cgroup path; the tooltip has the path and the "
                "network namespace",
         .stored = stored("cgroup_id"),
         .widthSample = "user@1000.service",
         .display = [](const M &m, const Connection &c) { return m.ownerCell(c); },
         .toolTip = ownerTip},
        {.key = "host",
         .header = "Host",
         .tip = "The machine the socket is on (the host the session was captured on)",
         .stored = stored("host_id"),
         .display = [](const M &m, const Connection &c) -> QVariant {
             // Each connection's own host in a session of several (tcpscope merge).
             return m.m_hostNames.size() > 1 ? m.m_hostNames.value(c.hostId) : m.m_host;
         }},
    };
    return columns;
}

QVariant ConnectionTableModel::ownerCell(const Connection &c) const
{
    // The most specific owner the path names: container (with its pod), else the unit.
    const auto a = m_attributions.constFind(c.cgroupId);
    if (a == m_attributions.cend())
        return {};
    if (!a->containerId.isEmpty()) {
        QString s =
            (a->runtime.isEmpty() ? QStringLiteral("container ") : a->runtime + QLatin1Char(' ')) +
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

QString ConnectionTableModel::ownerToolTip(const Connection &c) const
{
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
