// SPDX-License-Identifier: GPL-3.0-or-later
#include "detect/detector_context.h"

#include "model/address.h"

#include <algorithm>

namespace tcpscope::detail {

Alert DetectorContext::builtin(const char *kind, qint64 timeNs, const QString &subject) const
{
    Alert a;
    a.kind = QLatin1String(kind);
    a.severity = m_config.severity(a.kind);
    a.timeNs = timeNs;
    a.subject = subject;
    return a;
}

void DetectorContext::raise(Alert alert)
{
    const QString key = alert.kind + QChar(0x1f) + alert.subject;
    Throttle &t = m_throttles[key];
    const qint64 throttleNs = paramNs("alert.throttle");
    // Records come in time order within a reorder window, not strictly: an alert a little
    // older than the last one of its kind and subject is a repeat too.
    if (t.lastNs != 0 && qAbs(alert.timeNs - t.lastNs) < throttleNs) {
        ++t.suppressed;
        ++m_suppressed;
        if (m_suppressedAlerts.size() < kMaxSuppressedKept)
            m_suppressedAlerts.append(std::move(alert));
        return;
    }
    alert.suppressed = t.suppressed;
    t.suppressed = 0;
    t.lastNs = alert.timeNs;
    if (alert.connections.size() > Alert::kMaxEvidence)
        alert.connections.resize(Alert::kMaxEvidence);
    if (alert.packets.size() > Alert::kMaxEvidence)
        alert.packets.resize(Alert::kMaxEvidence);
    ++m_raised;
    m_pending.append(std::move(alert));
}

bool DetectorContext::countedCopy(ConnInfo &info, const Packet &p)
{
    if (p.direction == PacketDirection::Out)
        return true;
    if (info.peerIsLocal < 0)
        info.peerIsLocal = m_localSockets.contains(SocketEnds::of(info.c).reversed()) ? 1 : 0;
    return info.peerIsLocal == 0;
}

ConnInfo &DetectorContext::noteConnection(const Connection &c)
{
    ConnInfo &info = m_connections[c.id];
    info.c = c;
    info.c.history.clear();
    // Addresses may appear only in a later update (a socket that binds late): every update.
    if (c.role == ConnectionRole::Listener)
        m_listeners.insert(c.localPort, {endpointText(c.localAddr, c.localPort), c.id});
    else if (!c.localAddr.isNull() && !c.remoteAddr.isNull())
        m_localSockets.insert(SocketEnds::of(c), c.id);
    return info;
}

void DetectorContext::forget(qint64 id)
{
    auto it = m_connections.find(id);
    if (it == m_connections.end())
        return;
    const Connection &c = it->c;
    if (c.role == ConnectionRole::Listener) {
        auto l = m_listeners.find(c.localPort);
        if (l != m_listeners.end() && l->second == id)
            m_listeners.erase(l);
    } else {
        auto s = m_localSockets.find(SocketEnds::of(c));
        if (s != m_localSockets.end() && s.value() == id)
            m_localSockets.erase(s);
    }
    m_connections.erase(it);
}

QVector<qint64> DetectorContext::staleConnections(qint64 nowNs) const
{
    QVector<qint64> old;
    for (auto it = m_connections.cbegin(); it != m_connections.cend(); ++it)
        if (it->closed && nowNs - it->lastNs > 60'000'000'000)
            old.append(it.key());
    return old;
}

void DetectorContext::sweep(qint64 nowNs)
{
    for (auto it = m_throttles.begin(); it != m_throttles.end();) {
        if (nowNs - it->lastNs > 2 * paramNs("alert.throttle"))
            it = m_throttles.erase(it);
        else
            ++it;
    }
}

QVector<Alert> DetectorContext::takeAlerts()
{
    QVector<Alert> out;
    out.swap(m_pending);
    std::stable_sort(out.begin(), out.end(),
                     [](const Alert &a, const Alert &b) { return a.timeNs < b.timeNs; });
    return out;
}

QVector<Alert> DetectorContext::takeSuppressed()
{
    QVector<Alert> out;
    out.swap(m_suppressedAlerts);
    return out;
}

} // namespace tcpscope::detail
