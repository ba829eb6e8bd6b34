// SPDX-License-Identifier: GPL-3.0-or-later
#include "models/cell_filters.h"

#include "filter/fields.h"
#include "filter/filter_expression.h"
#include "models/connection_table_model.h"
#include "models/packet_table_model.h"
#include "tcpscope_records.h"

#include <QStringList>

namespace tcpscope {

QString connectionCellFilter(const Connection &c, int tableColumn)
{
    const QStringList columns = ConnectionTableModel::filterColumns(tableColumn);
    return columns.isEmpty() ? QString() : connectionColumnsFilter(columns, c);
}

QString packetCellFilter(const Packet &p, int tableColumn)
{
    auto eq = [](const char *field, qint64 value) {
        return QStringLiteral("%1 == %2").arg(QLatin1String(field)).arg(value);
    };
    switch (tableColumn) {
    case PacketTableModel::ColConnection:
        return p.connectionId > 0 ? eq("conn.id", p.connectionId) : QStringLiteral("!conn.id");
    case PacketTableModel::ColDirection:
        return p.isOutgoing() ? QStringLiteral("packet.direction == out")
                              : QStringLiteral("packet.direction == in");
    case PacketTableModel::ColFlags:
        return QStringLiteral("tcp.flags == 0x%1").arg(p.tcpFlags, 2, 16, QLatin1Char('0'));
    case PacketTableModel::ColSeq:
        return eq("tcp.seq", p.relSeq);
    case PacketTableModel::ColAck:
        return (p.tcpFlags & TS_TCP_ACK) ? eq("tcp.ack", p.relAck) : QStringLiteral("!tcp.ack");
    case PacketTableModel::ColWindow:
        return eq("tcp.window_size", p.scaledWindow >= 0 ? p.scaledWindow : qint64(p.window));
    case PacketTableModel::ColLength:
        return eq("tcp.len", p.payloadLen);
    case PacketTableModel::ColAnalysis: {
        // Every flag of the packet (a fast retransmission is also a retransmission).
        QStringList flags;
        for (const filter::FieldInfo &f : filter::fields())
            if (f.id == filter::FieldId::AnalysisFlag && (p.analysis & f.bit))
                flags << f.name;
        return flags.isEmpty() ? QStringLiteral("!tcp.analysis.flags")
                               : flags.join(QLatin1String(" && "));
    }
    default:
        return {};
    }
}

} // namespace tcpscope
