// SPDX-License-Identifier: GPL-3.0-or-later
// Packets as CSV (RFC 4180) or JSON (one array of objects): every field the session stores for
// a packet, one row per packet, streamed (PacketExportWriter never holds more than a buffer).
// Flags are written by name so the files read without the source at hand: tcp_flags
// "SYN|ACK", analysis "retransmission|dup_ack" (Wireshark's tcp.analysis.* names). The columns
// are documented in docs/SESSION_FORMAT.md ("Packet export").
#pragma once

#include "analysis/peer_transit.h"
#include "export/table_writer.h"
#include "model/packet.h"

#include <QStringList>

namespace tcpscope {

QStringList packetExportColumns();

// "FIN|SYN|RST|PSH|ACK|URG|ECE|CWR" subset in bit order; "" for none. The parser takes the
// same names (any order, case-insensitive) and fails on an unknown one.
QString tcpFlagNames(quint8 flags);
bool tcpFlagsFromNames(const QString &names, quint8 *flags);
// "retransmission|fast_retransmission|..." in bit order; "" for none. Inverse as above.
QString analysisFlagNames(quint32 flags);
bool analysisFlagsFromNames(const QString &names, quint32 *flags);
class PacketExportWriter
{
public:
    PacketExportWriter(QIODevice &out, ExportFormat format, const TextOptions &text = {});
    bool begin();
    // mark: the packet's one-way delay to or from the other end of its connection, or its loss
    // (analysis/peer_transit.h); columns peer_delay_ns (empty when not matched) and peer_lost.
    bool write(const Packet &packet, const PeerTransitMark &mark = {});
    bool finish();
    QString error() const { return m_table.error(); }
    qint64 rows() const { return m_table.rows(); }

private:
    TableWriter m_table;
};

} // namespace tcpscope
