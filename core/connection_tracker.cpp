// SPDX-License-Identifier: GPL-3.0-or-later
#include "connection_tracker.h"
#include "model/address.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace tcpscope {

namespace {

constexpr std::size_t kRecentlyClosedMax = 4096;

QString commText(const char (&comm)[TS_COMM_LEN])
{
    return QString::fromUtf8(comm, static_cast<qsizetype>(strnlen(comm, TS_COMM_LEN)));
}

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

void ConnectionTracker::rememberClosed(quint64 sockId, qint64 id)
{
    if (!m_recentlyClosed.contains(sockId))
        m_recentOrder.push_back(sockId);
    m_recentlyClosed.insert(sockId, id);
    while (m_recentOrder.size() > kRecentlyClosedMax) {
        m_recentlyClosed.remove(m_recentOrder.front());
        m_recentOrder.pop_front();
    }
}

Connection &ConnectionTracker::connectionFor(const ts_state_change &rec, qint64 wallNs)
{
    const auto it = m_openBySock.constFind(rec.sock_id);
    if (it != m_openBySock.cend())
        return m_connections[*it - 1];
    // First change of this socket, or the socket (cookie/pointer) lives again after CLOSE.
    Connection conn;
    conn.id = m_nextId++;
    conn.sockId = rec.sock_id;
    conn.startNs = wallNs;
    m_connections.append(std::move(conn));
    m_openBySock.insert(rec.sock_id, m_connections.last().id);
    return m_connections.last();
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
    const int family = familyFromAf(rec.family);
    if (c.family == 0 || rec.sport != 0 || rec.dport != 0 || !isZero(rec.saddr)) {
        // Ports and addresses fill in as the socket binds/connects; never overwrite with zeros.
        c.family = family;
        if (rec.sport != 0 || c.localAddr.isEmpty() || !isZero(rec.saddr)) {
            c.localAddr = addressText(family, rec.saddr);
            if (rec.sport != 0)
                c.localPort = rec.sport;
        }
        if (rec.dport != 0 || c.remoteAddr.isEmpty()) {
            c.remoteAddr = addressText(family, rec.daddr);
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
                c.handshakeNs = wallNs - h->timeNs;
                break;
            }
        }
    }

    if (to == TcpState::Close) {
        c.endNs = wallNs;
        c.closeReason = classifyClose(c);
        m_openBySock.remove(rec.sock_id);
        rememberClosed(rec.sock_id, c.id);
    }
    markChanged(c.id);
}

void ConnectionTracker::onCloseStats(const ts_close_stats &rec)
{
    qint64 id = m_openBySock.value(rec.sock_id, 0);
    if (id == 0)
        id = m_recentlyClosed.value(rec.sock_id, 0);
    if (id <= 0 || id > m_connections.size()) {
        ++m_orphanStats;
        return;
    }
    Connection &c = m_connections[id - 1];
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
    return id != 0 ? id : m_recentlyClosed.value(sockId, 0);
}

Connection *ConnectionTracker::findMutable(qint64 id)
{
    if (id <= 0 || id > m_connections.size())
        return nullptr;
    return &m_connections[id - 1];
}

qint64 ConnectionTracker::addFromPacket(Connection conn)
{
    conn.id = m_nextId++;
    if (conn.sockId != 0 && !m_openBySock.contains(conn.sockId))
        m_openBySock.insert(conn.sockId, conn.id);
    m_connections.append(std::move(conn));
    markChanged(m_connections.last().id);
    return m_connections.last().id;
}

QVector<Connection> ConnectionTracker::takeChanged()
{
    std::sort(m_changed.begin(), m_changed.end());
    QVector<Connection> out;
    out.reserve(m_changed.size());
    for (qint64 id : std::as_const(m_changed))
        out.append(m_connections[id - 1]);
    m_changed.clear();
    m_changedSet.clear();
    return out;
}

QVector<Connection> ConnectionTracker::all() const
{
    return m_connections;
}

const Connection *ConnectionTracker::find(qint64 id) const
{
    if (id <= 0 || id > m_connections.size())
        return nullptr;
    return &m_connections[id - 1];
}

} // namespace tcpscope
