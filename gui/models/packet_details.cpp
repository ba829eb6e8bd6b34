// SPDX-License-Identifier: GPL-3.0-or-later
#include "models/packet_details.h"

#include "analysis/tcp_options.h"
#include "filter/fields.h"
#include "filter/filter_expression.h"
#include "tcpscope_records.h"
#include "util/format.h"
#include "util/packet_format.h"

#include <QDateTime>
#include <QObject>

namespace tcpscope {

namespace {

DetailNode node(const QString &text, QVector<DetailNode> children = {})
{
    DetailNode n;
    n.text = text;
    n.children = std::move(children);
    return n;
}

DetailNode node(const QString &text, const QString &filter)
{
    DetailNode n;
    n.text = text;
    n.filter = filter;
    return n;
}

QString eq(const char *field, const QString &value)
{
    return QStringLiteral("%1 == %2").arg(QLatin1String(field), value);
}

QString eq(const char *field, qint64 value)
{
    return eq(field, QString::number(value));
}

// tcp.analysis.retransmission, ...: the filter field testing an analysis flag.
QString analysisField(quint32 flag)
{
    for (const filter::FieldInfo &f : filter::fields())
        if (f.id == filter::FieldId::AnalysisFlag && f.bit == flag)
            return f.name;
    return {};
}

DetailNode problemNode(const QString &text)
{
    DetailNode n = node(text);
    n.problem = true;
    return n;
}

QString yesNo(bool on)
{
    return on ? QStringLiteral("Set") : QStringLiteral("Not set");
}

QString absoluteTime(qint64 ns)
{
    const QDateTime t = QDateTime::fromMSecsSinceEpoch(ns / 1'000'000);
    return QStringLiteral("%1%2 %3")
        .arg(t.toString(QStringLiteral("yyyy-MM-dd hh:mm:ss.zzz")))
        .arg((ns / 1000) % 1000, 3, 10, QLatin1Char('0'))
        .arg(t.timeZoneAbbreviation());
}

QString interfaceName(const Packet &p, const PacketContext &ctx)
{
    for (const InterfaceInfo &i : ctx.interfaces)
        if (i.ifindex == p.ifindex && !i.name.isEmpty())
            return QStringLiteral("%1 (index %2)").arg(i.name).arg(p.ifindex);
    return QStringLiteral("index %1").arg(p.ifindex);
}

QString ecnName(quint8 ecn)
{
    static const char *const names[4] = {"Not-ECT", "ECT(1)", "ECT(0)",
                                         "CE (congestion experienced)"};
    return QLatin1String(names[ecn & 3]);
}

QString nsText(qint64 ns)
{
    return ns < 0 ? QStringLiteral("unknown") : fmt::durationMs(double(ns) / 1e6);
}

DetailNode frameSection(const Packet &p, const PacketContext &ctx)
{
    DetailNode f = node(QStringLiteral("Frame %1: %2 bytes at the hook, %3 on %4")
                            .arg(p.id)
                            .arg(p.skbLen)
                            .arg(p.isOutgoing() ? QStringLiteral("sent (egress)")
                                                : QStringLiteral("received (ingress)"),
                                 interfaceName(p, ctx)));
    f.children << node(QStringLiteral("Arrival time: %1").arg(absoluteTime(p.timeNs)))
               << node(QStringLiteral("Time since session start: %1 s")
                           .arg(pfmt::relativeTime(p.timeNs, ctx.originNs)))
               << node(QStringLiteral("Interface: %1").arg(interfaceName(p, ctx)),
                       ctx.interfaces.isEmpty()
                           ? QString()
                           : eq("iface.name", filterStringLiteral(interfaceName(p, ctx))))
               << node(QStringLiteral("Direction: %1")
                           .arg(p.isOutgoing()
                                    ? QStringLiteral("out (TC egress, sent by the local socket)")
                                    : QStringLiteral(
                                          "in (TC ingress, received by the local socket)")),
                       eq("packet.direction",
                          p.isOutgoing() ? QStringLiteral("out") : QStringLiteral("in")))
               << node(QStringLiteral("skb length: %1 bytes").arg(p.skbLen));
    if (p.gsoSegs > 1)
        f.children << node(
            QStringLiteral("GSO: %1 segments of %2 bytes").arg(p.gsoSegs).arg(p.gsoSize));
    else
        f.children << node(QStringLiteral("GSO: not segmented"));
    f.children << node(
        QStringLiteral("Socket: %1, kernel state %2")
            .arg(p.sockId ? QStringLiteral("0x%1").arg(p.sockId, 0, 16) : QStringLiteral("none"),
                 pfmt::sockStateText(p.sockState)));
    if (ctx.connection) {
        const Connection &c = *ctx.connection;
        f.children
            << node(QStringLiteral("Connection %1: %2").arg(c.id).arg(fmt::connectionLabel(c)),
                    eq("conn.id", c.id))
            << node(QStringLiteral("Process: %1 (pid %2)")
                        .arg(c.comm.isEmpty() ? QStringLiteral("?") : c.comm)
                        .arg(c.pid),
                    eq("proc.name", filterStringLiteral(c.comm)));
    } else {
        f.children << node(QStringLiteral("Connection: not joined to a known connection"));
    }
    f.children << node(
        QStringLiteral("Parse status: %1").arg(pfmt::parseStatusText(p.parseStatus)));
    if (p.parseStatus != TS_PARSE_OK)
        f.children.last().problem = true;
    return f;
}

DetailNode ipSection(const Packet &p)
{
    const QString src = pfmt::address(p.srcAddr);
    const QString dst = pfmt::address(p.dstAddr);
    const bool v6 = p.srcAddr.isV6();
    DetailNode ip = node(QStringLiteral("Internet Protocol Version %1, Src: %2, Dst: %3")
                             .arg(int(p.family()))
                             .arg(src, dst));
    ip.children << node(QStringLiteral("Version: %1").arg(int(p.family())))
                << node(QStringLiteral("Header length: %1 bytes%2")
                            .arg(p.ipHdrLen)
                            .arg(v6 && p.ipHdrLen > 40 ? QStringLiteral(" (with extension headers)")
                                                       : QString()))
                << node(QStringLiteral("%1: 0x%2 (DSCP %3, ECN %4)")
                            .arg(v6 ? QStringLiteral("Traffic class")
                                    : QStringLiteral("Type of service"))
                            .arg(p.tos, 2, 16, QLatin1Char('0'))
                            .arg(p.tos >> 2)
                            .arg(ecnName(p.tos)));
    if (v6)
        ip.children << node(
            QStringLiteral("Flow label: 0x%1").arg(p.ipId & 0xfffff, 5, 16, QLatin1Char('0')));
    else
        ip.children << node(QStringLiteral("Identification: 0x%1 (%2)")
                                .arg(p.ipId & 0xffff, 4, 16, QLatin1Char('0'))
                                .arg(p.ipId & 0xffff));
    QStringList frag;
    if (p.ipFrag & 1)
        frag << QStringLiteral("Don't fragment");
    if (p.ipFrag & 2)
        frag << QStringLiteral("More fragments");
    if (p.ipFrag & 4)
        frag << QStringLiteral("Fragment offset ≠ 0");
    ip.children << node(QStringLiteral("Fragment flags: %1")
                            .arg(frag.isEmpty() ? QStringLiteral("none")
                                                : frag.join(QStringLiteral(", "))))
                << node(QStringLiteral("%1: %2")
                            .arg(v6 ? QStringLiteral("Hop limit") : QStringLiteral("Time to live"))
                            .arg(p.ttl))
                << node(QStringLiteral("Source address: %1").arg(src),
                        eq(v6 ? "ipv6.src" : "ip.src", src))
                << node(QStringLiteral("Destination address: %1").arg(dst),
                        eq(v6 ? "ipv6.dst" : "ip.dst", dst));
    if (p.vlanTci != 0 || p.vlanDepth > 0)
        ip.children << node(QStringLiteral("VLAN: id %1, priority %2 (%3 tag(s) in the packet)")
                                .arg(p.vlanTci & 0xfff)
                                .arg(p.vlanTci >> 13)
                                .arg(p.vlanDepth));
    else
        ip.children << node(QStringLiteral("VLAN: none"));
    return ip;
}

DetailNode optionsNode(const Packet &p)
{
    const TcpOptions parsed = parseTcpOptions(p.options);
    DetailNode opts = node(QStringLiteral("Options: %1 bytes").arg(p.options.size()));
    for (const TcpOption &o : parsed.all) {
        const QString value = tcpOptionValueText(o);
        QString text = tcpOptionName(o.kind);
        if (!value.isEmpty())
            text += QStringLiteral(": ") + value;
        if (o.kind > 1)
            text += QStringLiteral("  (kind %1, length %2)").arg(o.kind).arg(o.length);
        opts.children << node(text);
    }
    if (!parsed.error.isEmpty())
        opts.children << problemNode(QStringLiteral("Option parse error: %1").arg(parsed.error));
    if (opts.children.isEmpty())
        opts.text = QStringLiteral("Options: none");
    if (!parsed.error.isEmpty())
        opts.problem = true;
    return opts;
}

DetailNode tcpSection(const Packet &p)
{
    const bool hasAck = p.tcpFlags & TS_TCP_ACK;
    DetailNode tcp =
        node(QStringLiteral(
                 "Transmission Control Protocol, Src Port: %1, Dst Port: %2, Seq: %3%4, Len: %5")
                 .arg(p.srcPort)
                 .arg(p.dstPort)
                 .arg(p.relSeq)
                 .arg(hasAck ? QStringLiteral(", Ack: %1").arg(p.relAck) : QString())
                 .arg(p.payloadLen));
    tcp.children
        << node(QStringLiteral("Source port: %1").arg(p.srcPort), eq("tcp.srcport", p.srcPort))
        << node(QStringLiteral("Destination port: %1").arg(p.dstPort), eq("tcp.dstport", p.dstPort))
        << node(QStringLiteral("Sequence number: %1 (relative), raw %2").arg(p.relSeq).arg(p.seq),
                eq("tcp.seq", p.relSeq))
        << node(hasAck ? QStringLiteral("Acknowledgment number: %1 (relative), raw %2")
                             .arg(p.relAck)
                             .arg(p.ack)
                       : QStringLiteral("Acknowledgment number: not set (ACK flag off), raw %1")
                             .arg(p.ack),
                hasAck ? eq("tcp.ack", p.relAck) : QStringLiteral("!tcp.ack"))
        << node(QStringLiteral("Header length: %1 bytes (%2)")
                    .arg(p.tcpHdrLen)
                    .arg(p.tcpHdrLen / 4));
    static const char *const names[8] = {"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"};
    DetailNode flags = node(QStringLiteral("Flags: 0x%1 (%2)")
                                .arg(p.tcpFlags, 2, 16, QLatin1Char('0'))
                                .arg(pfmt::flagsText(p.tcpFlags)));
    flags.filter = eq("tcp.flags", QStringLiteral("0x%1").arg(p.tcpFlags, 2, 16, QLatin1Char('0')));
    static const char *const fields[8] = {"tcp.flags.fin",  "tcp.flags.syn", "tcp.flags.reset",
                                          "tcp.flags.push", "tcp.flags.ack", "tcp.flags.urg",
                                          "tcp.flags.ece",  "tcp.flags.cwr"};
    for (int bit = 7; bit >= 0; --bit)
        flags.children << node(QStringLiteral("%1: %2")
                                   .arg(QLatin1String(names[bit]))
                                   .arg(yesNo(p.tcpFlags & (1u << bit))),
                               eq(fields[bit], (p.tcpFlags & (1u << bit)) ? 1 : 0));
    tcp.children << flags
                 << node(QStringLiteral("Window: %1 (raw)").arg(p.window),
                         eq("tcp.window_size_value", p.window));
    if (p.scaledWindow >= 0)
        tcp.children << node(
            QStringLiteral("Calculated window size: %1 bytes%2")
                .arg(p.scaledWindow)
                .arg(p.window
                         ? QStringLiteral(" (scaling factor %1)").arg(p.scaledWindow / p.window)
                         : QString()),
            eq("tcp.window_size", p.scaledWindow));
    else
        tcp.children << node(QStringLiteral(
            "Calculated window size: unknown (window scale not seen in the handshake)"));
    tcp.children << node(QStringLiteral("Urgent pointer: %1").arg(p.urgPtr)) << optionsNode(p)
                 << node(QStringLiteral("Payload length: %1 bytes").arg(p.payloadLen),
                         eq("tcp.len", p.payloadLen));
    if (!p.payload.isEmpty()) {
        DetailNode snap = node(QStringLiteral("Payload snapshot: %1 of %2 bytes")
                                   .arg(p.payload.size())
                                   .arg(p.payloadLen));
        for (const QString &line : pfmt::hexDump(p.payload)) {
            DetailNode l = node(line);
            l.monospace = true;
            snap.children << l;
        }
        tcp.children << snap;
    } else if (p.payloadLen > 0) {
        tcp.children << node(
            QStringLiteral("Payload snapshot: not captured (Capture ▸ Options… sets its size)"));
    }
    return tcp;
}

DetailNode analysisSection(const Packet &p, const PacketContext &ctx)
{
    const QString summary = pfmt::analysisText(p);
    DetailNode a = node(QStringLiteral("TCP analysis%1")
                            .arg(summary.isEmpty() ? QString() : QStringLiteral(": ") + summary));
    a.problem = analysisIsProblem(p.analysis) || pfmt::isMalformed(p);
    if (p.analysis != 0)
        a.filter = QStringLiteral("tcp.analysis.flags");
    for (int bit = 0; bit < 32; ++bit) {
        const auto flag = AnalysisFlag(1u << bit);
        if (!(p.analysis & flag))
            continue;
        QString text = analysisFlagName(flag);
        if (flag == AnalysisDuplicateAck && p.dupAckNum > 0)
            text += QStringLiteral(" #%1").arg(p.dupAckNum);
        DetailNode n = node(text, analysisField(flag));
        n.problem = analysisIsProblem(flag);
        a.children << n;
    }
    if (p.analysis == 0)
        a.children << node(QStringLiteral("No analysis flags"),
                           QStringLiteral("!tcp.analysis.flags"));
    a.children << node(QStringLiteral("Bytes in flight: %1")
                           .arg(p.bytesInFlight >= 0 ? QString::number(p.bytesInFlight)
                                                     : QStringLiteral("unknown")),
                       p.bytesInFlight >= 0 ? eq("tcp.analysis.bytes_in_flight", p.bytesInFlight)
                                            : QString());
    if (p.ackRttNs >= 0)
        a.children << node(QStringLiteral("ACK RTT: %1 (time to the segment it acknowledges)")
                               .arg(nsText(p.ackRttNs)));
    if (ctx.connection) {
        const PacketCounts &c = ctx.connection->packets;
        auto optInt = [](qint64 v) {
            return v < 0 ? QStringLiteral("not offered") : QString::number(v);
        };
        DetailNode conn = node(QStringLiteral("Connection %1").arg(ctx.connection->id));
        conn.children
            << node(QStringLiteral("Initial RTT (handshake): %1").arg(nsText(c.irttNs)))
            << node(QStringLiteral("MSS: local %1, remote %2")
                        .arg(optInt(c.mssLocal), optInt(c.mssRemote)))
            << node(QStringLiteral("Window scale: local %1, remote %2")
                        .arg(optInt(c.wscaleLocal), optInt(c.wscaleRemote)))
            << node(QStringLiteral("SACK permitted: %1")
                        .arg(c.sackPermitted ? QStringLiteral("yes (both sides)")
                                             : QStringLiteral("no")))
            << node(QStringLiteral("Timestamps: %1")
                        .arg(c.timestamps ? QStringLiteral("yes (both sides)")
                                          : QStringLiteral("no")))
            << node(QStringLiteral(
                        "Packets: %1 in, %2 out; retransmissions %3, dup ACKs %4, zero windows %5")
                        .arg(c.packetsIn)
                        .arg(c.packetsOut)
                        .arg(c.retransmissions)
                        .arg(c.dupAcks)
                        .arg(c.zeroWindows));
        a.children << conn;
    }
    return a;
}

} // namespace

QString oneWayDelayText(qint64 ns)
{
    const QString sign = ns < 0 ? QStringLiteral("−") : QString();
    const qint64 a = ns < 0 ? -ns : ns;
    if (a < 1000)
        return QStringLiteral("%1%2 ns").arg(sign).arg(a);
    if (a < 10'000)
        return QStringLiteral("%1%2 µs").arg(sign).arg(a / 1000.0, 0, 'f', 2);
    if (a < 1'000'000)
        return QStringLiteral("%1%2 µs").arg(sign).arg(a / 1000.0, 0, 'f', 1);
    return sign + fmt::durationMs(a / 1e6);
}

QString peerTransitText(const Packet &packet, const PeerTransitMark &mark)
{
    if (mark.lost)
        return QStringLiteral("Not received by the peer (lost in transit)");
    if (!mark.matched())
        return QString();
    return packet.isOutgoing()
               ? QStringLiteral("Received by the peer after %1").arg(oneWayDelayText(mark.delayNs))
               : QStringLiteral("Sent by the peer %1 earlier").arg(oneWayDelayText(mark.delayNs));
}

QVector<DetailNode> packetDetails(const Packet &packet, const PacketContext &context)
{
    QVector<DetailNode> sections;
    if (packet.parseStatus != TS_PARSE_OK)
        sections << problemNode(
            QStringLiteral(
                "Malformed packet: %1 — fields after that point were not parsed and read as 0")
                .arg(pfmt::parseStatusText(packet.parseStatus)));
    sections << frameSection(packet, context) << ipSection(packet) << tcpSection(packet)
             << analysisSection(packet, context);
    if (context.peerConnectionId > 0) {
        // The other end of the connection: where this packet went or came from.
        DetailNode peer;
        peer.text =
            QStringLiteral("Peer: connection %1 (the other end)").arg(context.peerConnectionId);
        peer.filter = QStringLiteral("conn.peer == %1").arg(context.peerConnectionId);
        DetailNode line;
        if (!context.transit) {
            line.text = QStringLiteral("One-way delay: not computed yet");
        } else if (const QString text = peerTransitText(packet, *context.transit);
                   !text.isEmpty()) {
            line.text = text;
            if (context.transit->lost) {
                line.problem = true;
                line.filter = QStringLiteral("peer.lost");
            } else {
                if (context.transit->delayNs >= 0)
                    line.filter = QStringLiteral("peer.delay >= %1us")
                                      .arg(double(context.transit->delayNs) / 1000.0, 0, 'f', 3);
                line.children << DetailNode{QStringLiteral("%1 packet: %2")
                                                .arg(packet.isOutgoing()
                                                         ? QStringLiteral("Received as the peer's")
                                                         : QStringLiteral("Sent as the peer's"))
                                                .arg(context.transit->peerPacketId),
                                            {},
                                            false,
                                            false,
                                            QString()};
            }
        } else {
            line.text = packet.isOutgoing()
                            ? QStringLiteral("Not matched with a packet the peer received (the "
                                             "peer's capture may have ended first)")
                            : QStringLiteral("Not matched with a packet the peer sent");
        }
        peer.children << line;
        sections << peer;
    }
    return sections;
}

} // namespace tcpscope
