// SPDX-License-Identifier: GPL-3.0-or-later
#include "analysis/endpoints.h"

#include "analysis/connection_figures.h"
#include "filter/filter_expression.h"
#include "session/session.h"

#include <QHash>
#include <QSet>

#include <algorithm>
#include <vector>

namespace tcpscope {

namespace {

struct Group
{
    Endpoint row;
    QSet<quint32> pids;
    std::vector<quint32> rtts;
};

class Grouper
{
public:
    explicit Grouper(EndpointGrouping grouping) : m_grouping(grouping) {}

    void add(const Connection &c)
    {
        if (c.role == ConnectionRole::Listener)
            return;
        QString key, side;
        QStringList columns; // the connection columns whose values make the group
        switch (m_grouping) {
        case EndpointGrouping::RemoteAddress:
            if (c.remoteAddr.isNull())
                return;
            key = c.remoteAddr.toString();
            columns = {QStringLiteral("remote_addr")};
            break;
        case EndpointGrouping::Port:
            if (c.role == ConnectionRole::Server) {
                key = QString::number(c.localPort);
                side = QStringLiteral("local");
                columns = {QStringLiteral("local_port"), QStringLiteral("role")};
            } else {
                key = QString::number(c.remotePort);
                side = QStringLiteral("remote");
                columns = {QStringLiteral("remote_port"), QStringLiteral("role")};
            }
            break;
        case EndpointGrouping::Process:
            key = c.comm;
            columns = {QStringLiteral("comm")};
            break;
        }
        ++m_connections;
        // A client and an unknown-role socket are told apart by role in the filter, so they
        // are two groups.
        const QString id =
            key + QLatin1Char('\n') + side + QLatin1Char('\n') +
            (columns.contains(QStringLiteral("role")) ? connectionRoleName(c.role) : QString());
        auto it = m_groups.find(id);
        if (it == m_groups.end()) {
            it = m_groups.insert(id, Group{});
            it->row.key = key;
            it->row.side = side;
            it->row.filter = connectionColumnsFilter(columns, c);
        }
        Group &g = *it;
        Endpoint &e = g.row;
        ++e.connections;
        if (c.isOpen())
            ++e.open;
        if (c.pid != 0)
            g.pids.insert(c.pid);
        e.bytesOut += connectionBytesOut(c);
        e.bytesIn += connectionBytesIn(c);
        e.retransmits += connectionRetransmits(c);
        e.resets += connectionResets(c);
        if (c.handshakeNs >= 0)
            ++e.handshakes;
        if (const quint32 rtt = connectionRttUs(c); rtt > 0)
            g.rtts.push_back(rtt);
    }

    EndpointTable finish()
    {
        EndpointTable table;
        table.grouping = m_grouping;
        table.connections = m_connections;
        table.rows.reserve(m_groups.size());
        for (Group &g : m_groups) {
            Endpoint e = std::move(g.row);
            e.processes = g.pids.size();
            e.rttCount = qint64(g.rtts.size());
            if (!g.rtts.empty()) {
                std::sort(g.rtts.begin(), g.rtts.end());
                // Nearest rank: the smallest value with at least p of the values at or below it.
                auto rank = [&g](int percent) {
                    const size_t n = g.rtts.size();
                    const size_t r = (n * size_t(percent) + 99) / 100;
                    return qint64(g.rtts[std::max<size_t>(r, 1) - 1]);
                };
                e.rttP50Us = rank(50);
                e.rttP90Us = rank(90);
                e.rttMaxUs = qint64(g.rtts.back());
            }
            table.rows.append(std::move(e));
        }
        std::sort(table.rows.begin(), table.rows.end(), [](const Endpoint &a, const Endpoint &b) {
            if (a.connections != b.connections)
                return a.connections > b.connections;
            if (a.key != b.key)
                return a.key < b.key;
            return a.side < b.side;
        });
        return table;
    }

private:
    EndpointGrouping m_grouping;
    QHash<QString, Group> m_groups;
    qint64 m_connections = 0;
};

} // namespace

QString endpointGroupingName(EndpointGrouping grouping)
{
    switch (grouping) {
    case EndpointGrouping::RemoteAddress:
        return QStringLiteral("Remote addresses");
    case EndpointGrouping::Port:
        return QStringLiteral("Ports");
    case EndpointGrouping::Process:
        return QStringLiteral("Processes");
    }
    return {};
}

EndpointTable computeEndpoints(std::span<const Connection> connections, EndpointGrouping grouping)
{
    Grouper g(grouping);
    for (const Connection &c : connections)
        g.add(c);
    return g.finish();
}

EndpointTable computeEndpoints(const Session &session, EndpointGrouping grouping,
                               const QVector<qint64> *only, const std::atomic<bool> *cancel)
{
    Grouper g(grouping);
    session.forEachConnection(
        [&](const Connection &c) {
            if (cancel && cancel->load(std::memory_order_relaxed))
                return false;
            if (!only || std::binary_search(only->cbegin(), only->cend(), c.id))
                g.add(c);
            return true;
        },
        false);
    return g.finish();
}

} // namespace tcpscope
