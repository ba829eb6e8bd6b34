// SPDX-License-Identifier: GPL-3.0-or-later
#include "connection_tracker.h"
#include "model/address.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace tcpscope {

namespace {

TcpState toState(__u8 value)
{
    return value <= static_cast<__u8>(TcpState::NewSynRecv) ? static_cast<TcpState>(value)
                                                            : TcpState::Unknown;
}

bool isZero(const __u8 (&addr)[16])
{
    return std::all_of(std::begin(addr), std::end(addr), [](__u8 b) { return b == 0; });
}

// Why a connection ended: the socket error the kernel recorded wins, else the path into CLOSE.
CloseReason classifyClose(const Connection &c)
{
    if (c.haveCloseStats) {
        switch (c.skErr < 0 ? -c.skErr : c.skErr) { // tolerate -errno
        case ECONNREFUSED:
            return CloseReason::Refused;
        case ETIMEDOUT:
            return CloseReason::Timeout;
        case ECONNRESET:
            return CloseReason::Reset;
        default:
            break;
        }
    }
    const TcpState last = c.history.isEmpty() ? TcpState::Unknown : c.history.last().from;
    switch (last) {
    case TcpState::Listen:
        return CloseReason::Listener;
    case TcpState::SynSent:
    case TcpState::SynRecv:
    case TcpState::NewSynRecv:
        return CloseReason::Aborted;
    // Straight from a data state to CLOSE without FIN handshake states: an abort (RST).
    case TcpState::Established:
    case TcpState::CloseWait:
        return CloseReason::Reset;
    case TcpState::FinWait1:
    case TcpState::FinWait2:
    case TcpState::TimeWait:
    case TcpState::Closing:
    case TcpState::LastAck:
        return CloseReason::Fin;
    default:
        return CloseReason::Aborted;
    }
}

} // namespace

void ConnectionTracker::markChanged(qint64 id)
{
    if (!m_changedSet.contains(id)) {
        m_changedSet.insert(id);
        m_changed.append(id);
    }
}

void ConnectionTracker::rememberClosed(const Connection &c)
{
    // A pointer id that lives again and closes again names its newest connection.
    m_closedBySock.insert(c.sockId, c.id);
    m_closedOrder.emplace_back(c.endNs, c.id);
}

void ConnectionTracker::addTombstone(quint64 sockId)
{
    if (sockId == 0 || m_tombstones.contains(sockId))
        return;
    m_tombstones.insert(sockId);
    m_tombstoneOrder.push_back(sockId);
    while (qsizetype(m_tombstoneOrder.size()) > m_limits.maxTombstones) {
        m_tombstones.remove(m_tombstoneOrder.front());
        m_tombstoneOrder.pop_front();
    }
}

QVector<Connection> ConnectionTracker::evictClosed(qint64 nowWallNs)
{
    QVector<Connection> out;
    while (!m_closedOrder.empty()) {
        const auto [endNs, id] = m_closedOrder.front();
        const bool due = nowWallNs - endNs >= m_limits.graceNs;
        const bool over = qsizetype(m_closedOrder.size()) > m_limits.maxClosed;
        // A pending change is a row not yet handed on: it goes after the next takeChanged().
        if ((!due && !over) || m_changedSet.contains(id))
            break;
        m_closedOrder.pop_front();
        const auto it = m_connections.find(id);
        if (it == m_connections.end())
            continue;
        if (m_closedBySock.value(it->second.sockId) == id)
            m_closedBySock.remove(it->second.sockId);
        // A socket that lives again (pointer ids) is open under a new connection: no tombstone.
        if (!m_openBySock.contains(it->second.sockId))
            addTombstone(it->second.sockId);
        ++m_evicted;
        if (!due)
            ++m_evictedEarly;
        out.append(std::move(it->second));
        m_connections.erase(it);
    }
    return out;
}

Connection &ConnectionTracker::connectionFor(const ts_state_change &rec, qint64 wallNs)
{
    const auto it = m_openBySock.constFind(rec.sock_id);
    if (it != m_openBySock.cend())
        return m_connections.at(*it);
    // First change of this socket, or the socket (cookie/pointer) lives again after CLOSE: its
    // records are this connection's from now on, not late ones of an evicted predecessor.
    m_tombstones.remove(rec.sock_id);
    Connection conn;
    conn.id = m_nextId++;
    conn.sockId = rec.sock_id;
    conn.startNs = wallNs;
    const qint64 id = conn.id;
    m_openBySock.insert(rec.sock_id, id);
    return m_connections.emplace(id, std::move(conn)).first->second;
}

const QString &ConnectionTracker::commText(const char (&comm)[TS_COMM_LEN])
{
    RecentTexts<TS_COMM_LEN>::Key key;
    std::memcpy(key.data(), comm, TS_COMM_LEN);
    return m_comms.text(key, [&comm] {
        return QString::fromUtf8(comm, static_cast<qsizetype>(strnlen(comm, TS_COMM_LEN)));
    });
}

void ConnectionTracker::onStateChange(const ts_state_change &rec)
{
    const qint64 wallNs = static_cast<qint64>(rec.hdr.ts_ns) + m_offsetNs;
    Connection &c = connectionFor(rec, wallNs);
    const TcpState from = toState(rec.oldstate);
    const TcpState to = toState(rec.newstate);

    // Owner: keep what we know when a later record could not attribute the socket.
    if (rec.pid != 0) {
        c.pid = rec.pid;
        c.comm = commText(rec.comm);
        c.ownerSource = rec.owner_source;
        c.cgroupId = rec.cgroup_id;
    }
    if (rec.netns_ino != 0)
        c.netnsIno = rec.netns_ino;
    const AddressFamily family = familyFromAf(rec.family);
    if (c.localAddr.isNull() || rec.sport != 0 || rec.dport != 0 || !isZero(rec.saddr)) {
        // Ports and addresses fill in as the socket binds/connects; never overwrite with zeros.
        if (rec.sport != 0 || c.localAddr.family() != family || !isZero(rec.saddr)) {
            c.localAddr = IpAddress(family, rec.saddr);
            if (rec.sport != 0)
                c.localPort = rec.sport;
        }
        if (rec.dport != 0 || c.remoteAddr.family() != family) {
            c.remoteAddr = IpAddress(family, rec.daddr);
            c.remotePort = rec.dport;
        }
    }

    if (c.role == ConnectionRole::Unknown) {
        if (to == TcpState::SynSent || from == TcpState::SynSent)
            c.role = ConnectionRole::Client;
        else if (to == TcpState::SynRecv || to == TcpState::NewSynRecv || from == TcpState::SynRecv)
            c.role = ConnectionRole::Server;
        else if (to == TcpState::Listen || from == TcpState::Listen)
            c.role = ConnectionRole::Listener;
    }

    StateChange change;
    change.timeNs = wallNs;
    change.from = from;
    change.to = to;
    change.ctxPid = rec.ctx_pid;
    change.ctxComm = commText(rec.ctx_comm);
    c.history.append(change);
    c.state = to;

    if (to == TcpState::Established && c.handshakeNs < 0) {
        // Only a connecting socket sees its handshake: SYN_SENT -> ESTABLISHED is one round
        // trip. An accepted socket is cloned from the listener when the final ACK arrives, so
        // its SYN_RECV -> ESTABLISHED spans microseconds of the same softirq, not the handshake;
        // reporting that as a latency would mislead. Servers keep -1 (unknown).
        for (auto h = c.history.crbegin(); h != c.history.crend(); ++h) {
            if (h->to == TcpState::SynSent) {
                // Clamped: a change later than the reorder window may carry an older time.
                c.handshakeNs = std::max<qint64>(0, wallNs - h->timeNs);
                break;
            }
        }
    }

    if (to == TcpState::Close) {
        c.endNs = wallNs;
        c.closeReason = classifyClose(c);
        m_openBySock.remove(rec.sock_id);
        rememberClosed(c);
    }
    markChanged(c.id);
}

void ConnectionTracker::onCloseStats(const ts_close_stats &rec)
{
    Connection *found = findMutable(idForSock(rec.sock_id));
    if (!found) {
        ++m_orphanStats;
        return;
    }
    Connection &c = *found;
    c.haveCloseStats = true;
    c.bytesSent = rec.bytes_acked;
    c.bytesReceived = rec.bytes_received;
    c.segsIn = rec.segs_in;
    c.segsOut = rec.segs_out;
    c.retransmits = rec.total_retrans;
    c.srttUs = rec.srtt_us;
    c.minRttUs = rec.min_rtt_us;
    c.skErr = rec.sk_err;
    if (!c.isOpen())
        c.closeReason = classifyClose(c);
    markChanged(c.id);
}

qint64 ConnectionTracker::idForSock(quint64 sockId) const
{
    if (sockId == 0)
        return 0;
    const qint64 id = m_openBySock.value(sockId, 0);
    return id != 0 ? id : m_closedBySock.value(sockId, 0);
}

Connection *ConnectionTracker::findMutable(qint64 id)
{
    const auto it = m_connections.find(id);
    return it == m_connections.end() ? nullptr : &it->second;
}

qint64 ConnectionTracker::addFromPacket(Connection conn)
{
    conn.id = m_nextId++;
    const qint64 id = conn.id;
    if (conn.sockId != 0 && !m_openBySock.contains(conn.sockId))
        m_openBySock.insert(conn.sockId, id);
    m_connections.emplace(id, std::move(conn));
    markChanged(id);
    return id;
}

QVector<Connection> ConnectionTracker::takeChanged()
{
    std::sort(m_changed.begin(), m_changed.end());
    QVector<Connection> out;
    out.reserve(m_changed.size());
    for (qint64 id : std::as_const(m_changed)) {
        if (const Connection *c = find(id))
            out.append(*c);
    }
    m_changed.clear();
    m_changedSet.clear();
    return out;
}

QVector<Connection> ConnectionTracker::all() const
{
    QVector<Connection> out;
    out.reserve(qsizetype(m_connections.size()));
    for (const auto &entry : m_connections)
        out.append(entry.second);
    std::sort(out.begin(), out.end(),
              [](const Connection &a, const Connection &b) { return a.id < b.id; });
    return out;
}

const Connection *ConnectionTracker::find(qint64 id) const
{
    const auto it = m_connections.find(id);
    return it == m_connections.end() ? nullptr : &it->second;
}

} // namespace tcpscope
