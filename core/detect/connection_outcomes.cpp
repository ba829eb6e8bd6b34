// SPDX-License-Identifier: GPL-3.0-or-later
#include "detect/connection_outcomes.h"

#include "model/address.h"

#include <algorithm>
#include <vector>

namespace tcpscope::detail {

void ConnectionOutcomes::onStateChange(const Connection &c, const StateChange &change)
{
    if (change.to == TcpState::Established &&
        (change.from == TcpState::SynSent || change.from == TcpState::SynRecv) &&
        c.handshakeNs >= 0 && m_ctx.on("handshake_slow"))
        onHandshake(c, change.timeNs);
    if (change.to == TcpState::TimeWait && m_ctx.on("time_wait_buildup") &&
        !c.remoteAddr.isNull()) {
        const QString remote = endpointText(c.remoteAddr, c.remotePort);
        m_ctx.countAndRaise(m_timeWaits, "time_wait_buildup", "time_wait_buildup.window",
                            "time_wait_buildup.min_sockets", remote, remote,
                            {change.timeNs, c.id, 0}, [&](int n, const QString &span) {
                                return QStringLiteral("%1 sockets toward %2 entered TIME_WAIT "
                                                      "in %3; each holds a local port for "
                                                      "about a minute")
                                    .arg(n)
                                    .arg(remote, span);
                            });
    }
    if (change.to != TcpState::Close)
        return;
    // The connection ended: why, and what that says.
    const bool established = c.handshakeNs >= 0;
    if (c.closeReason == CloseReason::Reset && !c.remoteAddr.isNull() && m_ctx.on("rst_storm") &&
        firstOfLocalPair(c, change.timeNs)) {
        const QString remoteAddr = c.remoteAddr.toString();
        m_ctx.countAndRaise(
            m_resets, "rst_storm", "rst_storm.window", "rst_storm.min_resets", remoteAddr,
            remoteAddr, {change.timeNs, c.id, 0}, [&](int n, const QString &span) {
                return QStringLiteral("%1 connections with %2 ended by a reset in %3")
                    .arg(n)
                    .arg(remoteAddr, span);
            });
    }
    if (c.closeReason == CloseReason::Refused && c.role == ConnectionRole::Client &&
        m_ctx.on("refused_burst")) {
        const QString remote = endpointText(c.remoteAddr, c.remotePort);
        m_ctx.countAndRaise(m_refused, "refused_burst", "refused_burst.window",
                            "refused_burst.min_refused", remote, remote, {change.timeNs, c.id, 0},
                            [&](int n, const QString &span) {
                                return QStringLiteral("%1 connections to %2 refused in %3")
                                    .arg(n)
                                    .arg(remote, span);
                            });
    }
    if (c.role == ConnectionRole::Client && !established &&
        (c.closeReason == CloseReason::Refused || c.closeReason == CloseReason::Timeout ||
         c.closeReason == CloseReason::Aborted))
        onClosedPort(c.remoteAddr.toString(), c.remotePort, change.timeNs, c.id);
}

void ConnectionOutcomes::onDrop(const DropEvent &d)
{
    const bool syn = (d.tcpFlags & TS_TCP_SYN) && !(d.tcpFlags & TS_TCP_ACK);
    if (syn && d.reasonName == QLatin1String("NO_SOCKET"))
        onClosedPort(d.srcAddr.toString(), d.dstPort, d.timeNs, 0);
}

void ConnectionOutcomes::sweep(qint64 nowNs)
{
    m_scanPorts.sweep(nowNs, m_ctx.paramNs("port_scan.window"));
    m_resets.sweep(nowNs, m_ctx.paramNs("rst_storm.window"));
    m_refused.sweep(nowNs, m_ctx.paramNs("refused_burst.window"));
    m_timeWaits.sweep(nowNs, m_ctx.paramNs("time_wait_buildup.window"));
    for (auto it = m_resetPairs.begin(); it != m_resetPairs.end();) {
        if (nowNs - it.value() > m_ctx.paramNs("rst_storm.window"))
            it = m_resetPairs.erase(it);
        else
            ++it;
    }
}

// Both sockets of a connection with both ends here end with the same reset: true for the
// first of the two (and for every connection whose other end is elsewhere).
bool ConnectionOutcomes::firstOfLocalPair(const Connection &c, qint64 timeNs)
{
    if (!m_ctx.isLocalSocket(SocketEnds::of(c).reversed()))
        return true;
    const QString here = endpointText(c.localAddr, c.localPort);
    const QString there = endpointText(c.remoteAddr, c.remotePort);
    const QString pair =
        here < there ? here + QLatin1Char('|') + there : there + QLatin1Char('|') + here;
    auto it = m_resetPairs.find(pair);
    if (it != m_resetPairs.end() && qAbs(timeNs - it.value()) <= m_ctx.paramNs("rst_storm.window"))
        return false;
    m_resetPairs.insert(pair, timeNs);
    return true;
}

void ConnectionOutcomes::onHandshake(const Connection &c, qint64 timeNs)
{
    const qint64 h = c.handshakeNs;
    const qint64 minNs = m_ctx.paramNs("handshake_slow.min_time");
    const int minSamples = int(m_ctx.param("handshake_slow.min_samples"));
    bool slow = false;
    qint64 median = -1;
    if (h >= minNs) {
        if (int(m_handshakes.size()) >= minSamples && !m_handshakes.empty()) {
            std::vector<qint64> sorted(m_handshakes.begin(), m_handshakes.end());
            std::nth_element(sorted.begin(), sorted.begin() + sorted.size() / 2, sorted.end());
            median = sorted[sorted.size() / 2];
            slow = double(h) >= m_ctx.param("handshake_slow.factor") * double(median);
        } else {
            slow = true;
        }
    }
    m_handshakes.push_back(h);
    if (m_handshakes.size() > 1001)
        m_handshakes.pop_front();
    if (!slow)
        return;
    const QString remote = endpointText(c.remoteAddr, c.remotePort);
    Alert a = m_ctx.builtin(
        "handshake_slow", timeNs,
        c.role == ConnectionRole::Server ? endpointText(c.localAddr, c.localPort) : remote);
    a.remote = remote;
    a.connections = {c.id};
    a.summary = QStringLiteral("handshake of %1 took %2").arg(connectionLabel(c), durationText(h));
    if (median >= 0)
        a.summary += QStringLiteral(" (median %1)").arg(durationText(median));
    m_ctx.raise(std::move(a));
}

void ConnectionOutcomes::onClosedPortReset(const Packet &p)
{
    onClosedPort(p.dstAddr.toString(), p.srcPort, p.timeNs, 0);
}

// A remote's port found closed or filtered (a refused or unanswered connect, a SYN the kernel
// had no socket for).
void ConnectionOutcomes::onClosedPort(const QString &remoteAddr, quint16 port, qint64 timeNs,
                                      qint64 connId)
{
    if (remoteAddr.isEmpty() || !m_ctx.on("port_scan"))
        return;
    Window &w = m_scanPorts.at(remoteAddr);
    w.expire(timeNs, m_ctx.paramNs("port_scan.window"));
    w.add({timeNs, connId, port});
    if (w.distinct() >= m_ctx.param("port_scan.min_ports")) {
        Alert a = m_ctx.builtin("port_scan", timeNs, remoteAddr);
        a.remote = remoteAddr;
        a.connections = w.connections();
        a.summary = QStringLiteral("%1 closed or filtered ports reached between this host and %2 "
                                   "in %3")
                        .arg(w.distinct())
                        .arg(remoteAddr, durationText(w.spanNs()));
        w.clear();
        m_ctx.raise(std::move(a));
    }
}

} // namespace tcpscope::detail
