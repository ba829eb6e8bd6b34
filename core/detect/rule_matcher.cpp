// SPDX-License-Identifier: GPL-3.0-or-later
#include "detect/rule_matcher.h"

#include "detect/detector_text.h"
#include "model/address.h"

namespace tcpscope::detail {

namespace {

// The value of a count's grouping field for a packet (its own fields first) or a connection.
QString groupValue(const QString &field, const Packet *p, const Connection *c)
{
    if (p) {
        if (field == QLatin1String("ip.src"))
            return p->srcAddr.toString();
        if (field == QLatin1String("ip.dst"))
            return p->dstAddr.toString();
        if (field == QLatin1String("tcp.srcport"))
            return QString::number(p->srcPort);
        if (field == QLatin1String("tcp.dstport"))
            return QString::number(p->dstPort);
    }
    if (field == QLatin1String("conn.id"))
        return c ? QString::number(c->id) : (p ? QString::number(p->connectionId) : QString());
    if (!c)
        return QStringLiteral("(no connection)");
    if (field == QLatin1String("conn.remote_addr"))
        return c->remoteAddr.toString();
    if (field == QLatin1String("conn.remote_port"))
        return QString::number(c->remotePort);
    if (field == QLatin1String("conn.local_addr"))
        return c->localAddr.toString();
    if (field == QLatin1String("conn.local_port"))
        return QString::number(c->localPort);
    if (field == QLatin1String("proc.name"))
        return c->comm;
    if (field == QLatin1String("proc.pid"))
        return QString::number(c->pid);
    return {};
}

} // namespace

RuleMatcher::RuleMatcher(const QVector<AlertRule> &rules, Raise raise)
    : m_rules(rules), m_state(rules.size()), m_raise(std::move(raise))
{
    for (const AlertRule &r : m_rules) {
        const bool connections = r.filter.target() == FilterTarget::Connections;
        m_connectionRules = m_connectionRules || connections;
        m_packetRules = m_packetRules || r.filter.target() == FilterTarget::Packets;
        m_needsConnections = m_needsConnections || connections || r.filter.needsConnections();
    }
}

void RuleMatcher::addConnection(const Connection &c)
{
    if (m_needsConnections)
        m_context.addConnection(c);
}

void RuleMatcher::removeConnection(qint64 id)
{
    for (RuleState &r : m_state)
        r.matchedConnections.remove(id);
    m_context.removeConnection(id);
}

void RuleMatcher::onPacket(const Packet &p, const FindConnection &findConnection)
{
    if (m_context.originNs == 0)
        m_context.originNs = p.timeNs; // frame.time_relative counts from the first packet
    const Connection *c = nullptr;
    bool looked = false;
    for (int i = 0; i < m_rules.size(); ++i) {
        const DisplayFilter &f = m_rules.at(i).filter;
        if (f.target() != FilterTarget::Packets || !f.matches(p, m_context))
            continue;
        if (!looked) {
            c = findConnection(p.connectionId);
            looked = true;
        }
        onMatch(i, p.timeNs, &p, c);
    }
}

void RuleMatcher::onConnection(const Connection &c, qint64 timeNs)
{
    m_context.sessionEndNs = timeNs;
    for (int i = 0; i < m_rules.size(); ++i) {
        const DisplayFilter &f = m_rules.at(i).filter;
        if (f.target() != FilterTarget::Connections || m_state[i].matchedConnections.contains(c.id))
            continue;
        if (!f.matches(c, m_context))
            continue;
        m_state[i].matchedConnections.insert(c.id);
        onMatch(i, timeNs, nullptr, &c);
    }
}

void RuleMatcher::sweep(qint64 nowNs)
{
    for (int i = 0; i < m_state.size(); ++i)
        m_state[i].windows.sweep(nowNs, m_rules.at(i).windowNs);
}

void RuleMatcher::onMatch(int ruleIndex, qint64 timeNs, const Packet *p, const Connection *c)
{
    const AlertRule &rule = m_rules.at(ruleIndex);
    Alert a;
    a.kind = rule.name;
    a.custom = true;
    a.severity = rule.severity;
    a.timeNs = timeNs;
    if (c && !c->remoteAddr.isNull())
        a.remote = endpointText(c->remoteAddr, c->remotePort);
    const qint64 connId = c ? c->id : (p ? p->connectionId : 0);
    if (!rule.counted) {
        a.subject = QStringLiteral("conn %1").arg(connId);
        if (connId > 0)
            a.connections = {connId};
        if (p)
            a.packets = {p->id};
        a.summary =
            QStringLiteral("%1 matched %2")
                .arg(rule.expression.trimmed(),
                     c ? connectionLabel(*c) : QStringLiteral("packet %1").arg(p ? p->id : 0));
        m_raise(std::move(a));
        return;
    }
    const QString group = rule.groupField.isEmpty() ? QString() : groupValue(rule.groupField, p, c);
    Window &w = m_state[ruleIndex].windows.at(group);
    w.expire(timeNs, rule.windowNs);
    w.add({timeNs, connId, 0});
    const bool over =
        rule.atLeast ? quint64(w.size()) >= rule.threshold : quint64(w.size()) > rule.threshold;
    if (!over)
        return;
    a.subject = rule.groupField.isEmpty() ? QStringLiteral("all")
                                          : rule.groupField + QStringLiteral(" == ") + group;
    a.connections = w.connections();
    if (a.connections.size() != 1)
        a.remote.clear();
    a.summary = QStringLiteral("%1 × (%2)%3 in %4")
                    .arg(w.size())
                    .arg(rule.expression.trimmed(),
                         rule.groupField.isEmpty()
                             ? QString()
                             : QStringLiteral(" with %1 %2").arg(rule.groupField, group),
                         durationText(w.spanNs()));
    w.clear();
    m_raise(std::move(a));
}

} // namespace tcpscope::detail
