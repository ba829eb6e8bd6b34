// SPDX-License-Identifier: GPL-3.0-or-later
// The custom rules of a rules file (display filters, optionally counted over a window and
// grouped by a field), tested against the records the detectors see. Internal to the
// AlertEngine, which feeds it in record time order and throttles what it raises.
#pragma once

#include "detect/alert.h"
#include "detect/alert_rules.h"
#include "detect/alert_windows.h"
#include "filter/display_filter.h"
#include "model/connection.h"
#include "model/packet.h"

#include <QSet>
#include <QVector>

#include <functional>

namespace tcpscope::detail {

class RuleMatcher
{
public:
    using Raise = std::function<void(Alert)>;
    using FindConnection = std::function<const Connection *(qint64 id)>;

    RuleMatcher(const QVector<AlertRule> &rules, Raise raise);

    bool hasPacketRules() const { return m_packetRules; }
    bool hasConnectionRules() const { return m_connectionRules; }
    // Whether the filters need connections' values (a packet rule on conn.* fields).
    bool needsConnections() const { return m_needsConnections; }

    void addConnection(const Connection &c);
    void removeConnection(qint64 id);
    // Packet rules; findConnection is asked for the packet's connection only on a match.
    void onPacket(const Packet &p, const FindConnection &findConnection);
    // Connection rules, with the connection as it is at timeNs; each connection fires once.
    void onConnection(const Connection &c, qint64 timeNs);
    // Forgets the groups whose counts left their window.
    void sweep(qint64 nowNs);

private:
    struct RuleState
    {
        Windows windows;
        QSet<qint64> matchedConnections;
    };
    void onMatch(int ruleIndex, qint64 timeNs, const Packet *p, const Connection *c);

    QVector<AlertRule> m_rules;
    QVector<RuleState> m_state;
    FilterContext m_context;
    Raise m_raise;
    bool m_packetRules = false;
    bool m_connectionRules = false;
    bool m_needsConnections = false;
};

} // namespace tcpscope::detail
