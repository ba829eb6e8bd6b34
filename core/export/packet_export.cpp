// SPDX-License-Identifier: GPL-3.0-or-later
#include "export/packet_export.h"

#include "model/address.h"
#include "session/session_schema.h"

#include <bit>
#include <iterator>

namespace tcpscope {

namespace {

const char *const kTcpFlagNames[8] = {"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"};

// Bit i of Packet::analysis; the names of Wireshark's tcp.analysis.* fields where one exists.
const char *const kAnalysisNames[17] = {
    "retransmission",
    "fast_retransmission",
    "spurious_retransmission",
    "duplicate_ack",
    "out_of_order",
    "lost_segment",
    "zero_window",
    "zero_window_probe",
    "zero_window_probe_ack",
    "window_full",
    "window_update",
    "keep_alive",
    "keep_alive_ack",
    "reset",
    "ack_lost_segment",
    "malformed",
    "reused_ports",
};
static_assert(std::size(kAnalysisNames) == std::bit_width(kAnalysisFlagsAll),
              "one export name per analysis flag");

template <std::size_t N> QString namesOf(quint32 bits, const char *const (&names)[N])
{
    QStringList parts;
    for (std::size_t i = 0; i < N; ++i) {
        if (bits & (1u << i))
            parts << QLatin1String(names[i]);
    }
    return parts.join(QLatin1Char('|'));
}

template <std::size_t N>
bool bitsOf(const QString &text, const char *const (&names)[N], quint32 *bits)
{
    *bits = 0;
    if (text.isEmpty())
        return true;
    for (const QString &part : text.split(QLatin1Char('|'))) {
        bool found = false;
        for (std::size_t i = 0; i < N && !found; ++i) {
            if (part.compare(QLatin1String(names[i]), Qt::CaseInsensitive) == 0) {
                *bits |= 1u << i;
                found = true;
            }
        }
        if (!found)
            return false;
    }
    return true;
}

Cell hex(const QByteArray &bytes)
{
    return Cell::text(QString::fromLatin1(bytes.toHex()));
}

// -1 means "not known" in the analysis fields.
Cell known(qint64 v)
{
    return v >= 0 ? Cell::num(v) : Cell{};
}

QVector<Cell> cells(const Packet &p, const PeerTransitMark &mark)
{
    return {
        Cell::num(p.id),
        Cell::num(p.connectionId),
        Cell::num(p.timeNs),
        Cell::unum(p.sockId),
        Cell::unum(p.ifindex),
        Cell::text(p.direction == PacketDirection::Out ? QStringLiteral("out")
                                                       : QStringLiteral("in")),
        Cell::unum(p.parseStatus),
        Cell::text(schema::sockStateName(p.sockState)),
        Cell::num(qint64(p.family())),
        Cell::text(p.srcAddr.toString()),
        Cell::unum(p.srcPort),
        Cell::text(p.dstAddr.toString()),
        Cell::unum(p.dstPort),
        Cell::unum(p.seq),
        Cell::unum(p.ack),
        Cell::text(tcpFlagNames(p.tcpFlags)),
        Cell::unum(p.window),
        Cell::unum(p.urgPtr),
        Cell::unum(p.payloadLen),
        Cell::unum(p.skbLen),
        Cell::unum(p.gsoSegs),
        Cell::unum(p.gsoSize),
        Cell::unum(p.ttl),
        Cell::unum(p.tos),
        Cell::unum(p.vlanTci),
        Cell::unum(p.vlanDepth),
        Cell::unum(p.ipFrag),
        Cell::unum(p.ipId),
        Cell::unum(p.ipHdrLen),
        Cell::unum(p.tcpHdrLen),
        hex(p.options.toByteArray()),
        hex(p.payload),
        Cell::text(analysisFlagNames(p.analysis)),
        Cell::unum(p.dupAckNum),
        Cell::unum(p.relSeq),
        Cell::unum(p.relAck),
        known(p.bytesInFlight),
        known(p.scaledWindow),
        known(p.ackRttNs),
        mark.matched() ? Cell::num(mark.delayNs) : Cell{},
        Cell::num(mark.lost ? 1 : 0),
    };
}

} // namespace

QStringList packetExportColumns()
{
    return {QStringLiteral("id"),
            QStringLiteral("connection_id"),
            QStringLiteral("time_ns"),
            QStringLiteral("sock_id"),
            QStringLiteral("ifindex"),
            QStringLiteral("direction"),
            QStringLiteral("parse_status"),
            QStringLiteral("sock_state"),
            QStringLiteral("family"),
            QStringLiteral("src_addr"),
            QStringLiteral("src_port"),
            QStringLiteral("dst_addr"),
            QStringLiteral("dst_port"),
            QStringLiteral("seq"),
            QStringLiteral("ack"),
            QStringLiteral("tcp_flags"),
            QStringLiteral("window"),
            QStringLiteral("urg_ptr"),
            QStringLiteral("payload_len"),
            QStringLiteral("skb_len"),
            QStringLiteral("gso_segs"),
            QStringLiteral("gso_size"),
            QStringLiteral("ttl"),
            QStringLiteral("tos"),
            QStringLiteral("vlan_tci"),
            QStringLiteral("vlan_depth"),
            QStringLiteral("ip_frag"),
            QStringLiteral("ip_id"),
            QStringLiteral("ip_hdr_len"),
            QStringLiteral("tcp_hdr_len"),
            QStringLiteral("options"),
            QStringLiteral("payload"),
            QStringLiteral("analysis"),
            QStringLiteral("dup_ack_num"),
            QStringLiteral("rel_seq"),
            QStringLiteral("rel_ack"),
            QStringLiteral("bytes_in_flight"),
            QStringLiteral("scaled_window"),
            QStringLiteral("ack_rtt_ns"),
            QStringLiteral("peer_delay_ns"),
            QStringLiteral("peer_lost")};
}

QString tcpFlagNames(quint8 flags)
{
    return namesOf(flags, kTcpFlagNames);
}

bool tcpFlagsFromNames(const QString &names, quint8 *flags)
{
    quint32 bits = 0;
    const bool ok = bitsOf(names, kTcpFlagNames, &bits);
    *flags = quint8(bits);
    return ok;
}

QString analysisFlagNames(quint32 flags)
{
    return namesOf(flags, kAnalysisNames);
}

bool analysisFlagsFromNames(const QString &names, quint32 *flags)
{
    return bitsOf(names, kAnalysisNames, flags);
}

PacketExportWriter::PacketExportWriter(QIODevice &out, ExportFormat format, const TextOptions &text)
    : m_table(out, format, packetExportColumns(), text)
{
}

bool PacketExportWriter::begin()
{
    return m_table.begin();
}

bool PacketExportWriter::write(const Packet &packet, const PeerTransitMark &mark)
{
    return m_table.row(cells(packet, mark));
}

bool PacketExportWriter::finish()
{
    return m_table.finish();
}

} // namespace tcpscope
