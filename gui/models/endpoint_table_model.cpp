// SPDX-License-Identifier: GPL-3.0-or-later
#include "models/endpoint_table_model.h"

#include "util/format.h"

#include <limits>

namespace tcpscope {

void EndpointTableModel::setTable(EndpointTable table)
{
    beginResetModel();
    m_table = std::move(table);
    endResetModel();
}

int EndpointTableModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_table.rows.size());
}

int EndpointTableModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant EndpointTableModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_table.rows.size())
        return {};
    const Endpoint &e = m_table.rows.at(index.row());
    auto rtt = [role](qint64 us) -> QVariant {
        if (role == SortRole)
            return us >= 0 ? us : std::numeric_limits<qint64>::max();
        return us >= 0 ? fmt::durationMs(double(us) / 1000.0) : QString();
    };
    auto number = [role](auto v) -> QVariant {
        return role == SortRole ? QVariant(qulonglong(v)) : QVariant(QString::number(v));
    };
    auto byteCount = [role](quint64 v) -> QVariant {
        return role == SortRole ? QVariant(qulonglong(v)) : QVariant(fmt::bytes(v));
    };
    if (role == Qt::TextAlignmentRole)
        return index.column() <= ColSide ? QVariant(int(Qt::AlignLeft | Qt::AlignVCenter))
                                         : QVariant(int(Qt::AlignRight | Qt::AlignVCenter));
    if (role == Qt::ToolTipRole)
        return e.filter.isEmpty() ? QVariant()
                                  : QVariant(tr("Its connections: %1\nDouble-click to filter "
                                                "the connection table on them")
                                                 .arg(e.filter));
    if (role != Qt::DisplayRole && role != SortRole)
        return {};
    switch (index.column()) {
    case ColKey:
        if (role == SortRole && m_table.grouping == EndpointGrouping::Port)
            return e.key.toInt();
        return e.key.isEmpty() ? tr("(unknown)") : e.key;
    case ColSide:
        return e.side == QLatin1String("local")    ? tr("served here")
               : e.side == QLatin1String("remote") ? tr("connected to")
                                                   : QString();
    case ColConnections:
        return number(e.connections);
    case ColOpen:
        return number(e.open);
    case ColProcesses:
        return number(e.processes);
    case ColBytesOut:
        return byteCount(e.bytesOut);
    case ColBytesIn:
        return byteCount(e.bytesIn);
    case ColRetransmits:
        return number(e.retransmits);
    case ColResets:
        return number(e.resets);
    case ColRttP50:
        return rtt(e.rttP50Us);
    case ColRttP90:
        return rtt(e.rttP90Us);
    case ColRttMax:
        return rtt(e.rttMaxUs);
    }
    return {};
}

QVariant EndpointTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal)
        return {};
    if (role == Qt::ToolTipRole) {
        switch (section) {
        case ColProcesses:
            return tr("Distinct process ids owning these connections");
        case ColBytesOut:
        case ColBytesIn:
            return tr("Bytes sent / received by this host's sockets (acknowledged bytes at "
                      "close, or the payload captured)");
        case ColRetransmits:
            return tr("Segments the kernel resent");
        case ColResets:
            return tr("RSTs the kernel sent and received (RST packets captured without the "
                      "kernel's view)");
        case ColRttP50:
        case ColRttP90:
        case ColRttMax:
            return tr("Over the connections' smoothed RTT (the kernel's at close, or the "
                      "largest it sampled)");
        default:
            return {};
        }
    }
    if (role != Qt::DisplayRole)
        return {};
    switch (section) {
    case ColKey:
        switch (m_table.grouping) {
        case EndpointGrouping::RemoteAddress:
            return tr("Remote address");
        case EndpointGrouping::Port:
            return tr("Port");
        case EndpointGrouping::Process:
            return tr("Process");
        }
        return {};
    case ColSide:
        return tr("Side");
    case ColConnections:
        return tr("Connections");
    case ColOpen:
        return tr("Open");
    case ColProcesses:
        return tr("PIDs");
    case ColBytesOut:
        return tr("Bytes out");
    case ColBytesIn:
        return tr("Bytes in");
    case ColRetransmits:
        return tr("Retransmits");
    case ColResets:
        return tr("Resets");
    case ColRttP50:
        return tr("RTT p50");
    case ColRttP90:
        return tr("RTT p90");
    case ColRttMax:
        return tr("RTT max");
    }
    return {};
}

} // namespace tcpscope
