// SPDX-License-Identifier: GPL-3.0-or-later
#include "detect/transfer_health.h"

#include "model/address.h"

#include <algorithm>

namespace tcpscope::detail {

namespace {

// a + b without overflow (times near the end of qint64 from a hostile file).
qint64 addSat(qint64 a, qint64 b)
{
    qint64 r;
    return __builtin_add_overflow(a, b, &r)
               ? (b > 0 ? std::numeric_limits<qint64>::max() : std::numeric_limits<qint64>::min())
               : r;
}

} // namespace

void TransferHealth::onStateChange(const Connection &c, const StateChange &change)
{
    if (change.to != TcpState::Close)
        return;
    // A stall ends with its connection.
    for (auto it = m_stalls.begin(); it != m_stalls.end();) {
        if (it->connections.contains(c.id)) {
            checkStall(it.key(), *it, change.timeNs);
            it = m_stalls.erase(it);
        } else {
            ++it;
        }
    }
}

void TransferHealth::onPacket(const Packet &p)
{
    if (p.payloadLen > 0 && p.connectionId > 0 && m_retransmitOn)
        countSegments(p);
    const quint32 f = p.analysis;
    if (!(f & (AnalysisRetransmission | AnalysisZeroWindow) ||
          (m_stalls.size() > 0 && !(p.tcpFlags & TS_TCP_RST))))
        return;
    // The receiving socket's copy of a segment a local socket sent is not counted again.
    const bool secondLocalCopy = p.direction == PacketDirection::In &&
                                 m_ctx.isLocalSocket({p.srcAddr, p.srcPort, p.dstAddr, p.dstPort});
    if (f & AnalysisRetransmission && m_retransmitOn && !secondLocalCopy &&
        !(m_kernelRetransmits && p.direction == PacketDirection::Out))
        onRetransmission(p.connectionId, p.timeNs, 1, p.id);
    if (m_stallOn)
        onWindow(p, endpointText(p.srcAddr, p.srcPort), endpointText(p.dstAddr, p.dstPort));
}

void TransferHealth::onEvent(const KernelEvent &e)
{
    if (e.kind != KernelEventKind::Retransmit || e.err != 0)
        return;
    m_kernelRetransmits = true;
    if (m_retransmitOn && !(e.tcpFlags & TS_TCP_SYN))
        onRetransmission(e.connectionId, e.timeNs, std::max<int>(1, e.segs), 0);
}

void TransferHealth::sweep(qint64 nowNs)
{
    const qint64 windowNs = m_ctx.paramNs("retransmit_spike.window");
    m_retransConn.sweep(nowNs, windowNs);
    m_retransRemote.sweep(nowNs, windowNs);
    for (auto it = m_remoteSegments.begin(); it != m_remoteSegments.end();) {
        if (nowNs - it->lastNs() > 2 * windowNs)
            it = m_remoteSegments.erase(it);
        else
            ++it;
    }
    for (auto it = m_stalls.begin(); it != m_stalls.end();) {
        if (nowNs - it->lastNs > 600'000'000'000)
            it = m_stalls.erase(it);
        else
            ++it;
    }
}

// Retransmissions ----------------------------------------------------------------------------

void TransferHealth::countSegments(const Packet &p)
{
    ConnInfo *info = m_ctx.connection(p.connectionId);
    if (!info || !m_ctx.countedCopy(*info, p))
        return;
    const qint64 windowNs = m_ctx.paramNs("retransmit_spike.window");
    const quint64 n = std::max<quint64>(1, p.gsoSegs);
    info->segments.add(p.timeNs, windowNs, n);
    if (!info->c.remoteAddr.isNull())
        m_remoteSegments[info->c.remoteAddr].add(p.timeNs, windowNs, n);
}

// Enough retransmissions, and (when the segments sent are known) a large enough share of them:
// a fast transfer resends a few segments in every second without anything wrong.
bool TransferHealth::retransmitsHigh(int retransmits, double minCount, const RateCounter *segments,
                                     qint64 nowNs) const
{
    if (retransmits < minCount)
        return false;
    const quint64 sent =
        segments ? segments->sum(nowNs, m_ctx.paramNs("retransmit_spike.window")) : 0;
    return sent == 0 || retransmits >= m_ctx.param("retransmit_spike.min_ratio") * double(sent);
}

QString TransferHealth::shareText(int retransmits, const RateCounter *sent, qint64 nowNs) const
{
    const quint64 n = sent ? sent->sum(nowNs, m_ctx.paramNs("retransmit_spike.window")) : 0;
    if (n == 0)
        return {};
    return QStringLiteral(" (%1 % of %2 segments sent)")
        .arg(100.0 * retransmits / double(n), 0, 'f', 1)
        .arg(n);
}

void TransferHealth::onRetransmission(qint64 connId, qint64 timeNs, int segments, qint64 packetId)
{
    if (connId <= 0)
        return;
    const ConnInfo *info = std::as_const(m_ctx).connection(connId);
    const Connection *c = info ? &info->c : nullptr;
    const RateCounter *sent = info ? &info->segments : nullptr;
    const qint64 windowNs = m_ctx.paramNs("retransmit_spike.window");
    const QString connKey = QString::number(connId);
    Window &w = m_retransConn.at(connKey);
    w.expire(timeNs, windowNs);
    w.add({timeNs, connId, quint32(packetId), quint32(segments)});
    if (retransmitsHigh(w.size(), m_ctx.param("retransmit_spike.min_per_connection"), sent,
                        timeNs)) {
        Alert a = m_ctx.builtin("retransmit_spike", timeNs, QStringLiteral("conn ") + connKey);
        a.connections = {connId};
        if (c)
            a.remote = endpointText(c->remoteAddr, c->remotePort);
        a.summary = QStringLiteral("%1 retransmissions in %2%3 on %4")
                        .arg(w.size())
                        .arg(durationText(w.spanNs()), shareText(w.size(), sent, timeNs),
                             c ? connectionLabel(*c) : QStringLiteral("conn ") + connKey);
        w.clear();
        m_ctx.raise(std::move(a));
    }
    if (!c || c->remoteAddr.isNull())
        return;
    const QString remote = c->remoteAddr.toString();
    Window &r = m_retransRemote.at(remote);
    r.expire(timeNs, windowNs);
    r.add({timeNs, connId, 0, quint32(segments)});
    auto rs = m_remoteSegments.constFind(c->remoteAddr);
    const RateCounter *remoteSent = rs != m_remoteSegments.constEnd() ? &*rs : nullptr;
    if (retransmitsHigh(r.size(), m_ctx.param("retransmit_spike.min_per_remote"), remoteSent,
                        timeNs)) {
        Alert a = m_ctx.builtin("retransmit_spike", timeNs, remote);
        a.remote = remote;
        a.connections = r.connections();
        a.summary =
            QStringLiteral("%1 retransmissions toward %2 in %3%4 over %5 connection%6")
                .arg(r.size())
                .arg(remote, durationText(r.spanNs()), shareText(r.size(), remoteSent, timeNs))
                .arg(a.connections.size())
                .arg(a.connections.size() == 1 ? QString() : QStringLiteral("s"));
        r.clear();
        m_ctx.raise(std::move(a));
    }
}

// Zero windows ------------------------------------------------------------------------------

// A stall starts with a segment advertising window 0 and ends with one from the same sender
// advertising more (or the connection closing).
void TransferHealth::onWindow(const Packet &p, const QString &src, const QString &dst)
{
    const QString key = src + QLatin1Char('>') + dst;
    if (p.analysis & AnalysisZeroWindow) {
        ZeroWindowStall &s = m_stalls[key];
        if (s.startNs == 0) {
            s.startNs = p.timeNs;
            m_nextStallNs = std::min(
                m_nextStallNs, addSat(s.startNs, m_ctx.paramNs("zero_window_stall.min_duration")));
            s.summary = QStringLiteral("%1 advertised a zero window to %2").arg(src, dst);
        }
        s.lastNs = p.timeNs;
        if (p.connectionId > 0)
            s.connections.insert(p.connectionId);
        if (s.packets.size() < Alert::kMaxEvidence)
            s.packets.append(p.id);
        return;
    }
    auto it = m_stalls.find(key);
    if (it == m_stalls.end() || p.window == 0 || (p.tcpFlags & TS_TCP_SYN))
        return;
    checkStall(it.key(), *it, p.timeNs); // measured up to the reopening segment
    m_stalls.erase(it);
}

void TransferHealth::checkStalls(qint64 nowNs)
{
    m_nextStallNs = std::numeric_limits<qint64>::max();
    const qint64 minNs = m_ctx.paramNs("zero_window_stall.min_duration");
    for (auto it = m_stalls.begin(); it != m_stalls.end(); ++it) {
        checkStall(it.key(), *it, nowNs);
        if (!it->fired)
            m_nextStallNs = std::min(m_nextStallNs, addSat(it->startNs, minNs));
    }
}

void TransferHealth::checkStall(const QString &key, ZeroWindowStall &s, qint64 nowNs)
{
    const qint64 minNs = m_ctx.paramNs("zero_window_stall.min_duration");
    if (s.fired || nowNs - s.startNs < minNs)
        return;
    s.fired = true;
    Alert a = m_ctx.builtin("zero_window_stall", addSat(s.startNs, minNs), key);
    a.connections = QVector<qint64>(s.connections.begin(), s.connections.end());
    std::sort(a.connections.begin(), a.connections.end());
    a.packets = s.packets;
    const qsizetype gt = key.indexOf(QLatin1Char('>'));
    a.remote = key.mid(gt + 1);
    // Name the socket that stopped reading (its local end is the advertiser), else any.
    QString who;
    for (qint64 id : a.connections) {
        const ConnInfo *info = std::as_const(m_ctx).connection(id);
        if (!info)
            continue;
        const bool advertiser = endpointText(info->c.localAddr, info->c.localPort) == key.left(gt);
        if (who.isEmpty() || advertiser)
            who = (advertiser ? QStringLiteral("; not reading: ") : QStringLiteral("; on ")) +
                  connectionLabel(info->c);
        if (advertiser)
            break;
    }
    a.summary = QStringLiteral("%1 for %2 or more%3").arg(s.summary, durationText(minNs), who);
    m_ctx.raise(std::move(a));
}

} // namespace tcpscope::detail
