// SPDX-License-Identifier: GPL-3.0-or-later
#include "filter/fields.h"

#include "export/packet_export.h"
#include "model/connection.h"

#include <QHash>

#include <algorithm>
#include <bit>

extern "C" {
#include "tcpscope_records.h"
}

namespace tcpscope::filter {

namespace {

QVector<FieldInfo> buildFields()
{
    QVector<FieldInfo> f;
    auto add = [&f](const char *name, FieldId id, FieldType type, bool connections, bool multi,
                    const char *description) {
        FieldInfo info{QLatin1String(name),       id, type, connections, multi, 0, EnumKind::None,
                       QLatin1String(description)};
        f.append(info);
        return &f.last();
    };
    using T = FieldType;
    using I = FieldId;
    // Addresses and ports. On a connection, "either end" is the local and the remote end.
    add("ip.addr", I::IpAddr, T::Address4, true, true,
        "IPv4 source or destination (a connection: local or remote address)");
    add("ip.src", I::IpSrc, T::Address4, false, false, "IPv4 source address");
    add("ip.dst", I::IpDst, T::Address4, false, false, "IPv4 destination address");
    add("ipv6.addr", I::Ipv6Addr, T::Address6, true, true,
        "IPv6 source or destination (a connection: local or remote address)");
    add("ipv6.src", I::Ipv6Src, T::Address6, false, false, "IPv6 source address");
    add("ipv6.dst", I::Ipv6Dst, T::Address6, false, false, "IPv6 destination address");
    add("tcp.port", I::TcpPort, T::Integer, true, true,
        "TCP source or destination port (a connection: local or remote port)");
    add("tcp.srcport", I::TcpSrcPort, T::Integer, false, false, "TCP source port");
    add("tcp.dstport", I::TcpDstPort, T::Integer, false, false, "TCP destination port");
    // TCP header.
    add("tcp.flags", I::TcpFlags, T::Integer, false, false,
        "TCP flags as a number (FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10, URG 0x20, "
        "ECE 0x40, CWR 0x80)");
    struct FlagField
    {
        const char *name;
        quint32 bit;
        const char *description;
    };
    const FlagField flagFields[] = {
        {"tcp.flags.fin", TS_TCP_FIN, "FIN flag (1 set, 0 not set)"},
        {"tcp.flags.syn", TS_TCP_SYN, "SYN flag (1 set, 0 not set)"},
        {"tcp.flags.reset", TS_TCP_RST, "RST flag (1 set, 0 not set)"},
        {"tcp.flags.push", TS_TCP_PSH, "PSH flag (1 set, 0 not set)"},
        {"tcp.flags.ack", TS_TCP_ACK, "ACK flag (1 set, 0 not set)"},
        {"tcp.flags.urg", TS_TCP_URG, "URG flag (1 set, 0 not set)"},
        {"tcp.flags.ece", TS_TCP_ECE, "ECE flag (1 set, 0 not set)"},
        {"tcp.flags.cwr", TS_TCP_CWR, "CWR flag (1 set, 0 not set)"},
    };
    for (const FlagField &ff : flagFields)
        add(ff.name, I::TcpFlagBit, T::Bool, false, false, ff.description)->bit = ff.bit;
    add("tcp.seq", I::TcpSeq, T::Integer, false, false,
        "sequence number relative to the direction's initial one (as Wireshark shows it)");
    add("tcp.ack", I::TcpAck, T::Integer, false, false,
        "acknowledgment number relative to the peer's initial sequence (only with ACK set)");
    add("tcp.seq_raw", I::TcpSeqRaw, T::Integer, false, false, "sequence number as on the wire");
    add("tcp.ack_raw", I::TcpAckRaw, T::Integer, false, false,
        "acknowledgment number as on the wire (only with ACK set)");
    add("tcp.len", I::TcpLen, T::Bytes, false, false, "TCP payload length");
    add("tcp.window_size", I::TcpWindowSize, T::Bytes, false, false,
        "receive window, scaled (the header value when the scale is not known)");
    add("tcp.window_size_value", I::TcpWindowSizeValue, T::Bytes, false, false,
        "receive window as in the header (not scaled)");
    // Packet analysis (Wireshark's rules, docs/ANALYSIS.md). Names from the packet export's
    // flag names; RST and malformed are not Wireshark analysis fields (tcp.flags.reset covers
    // the first).
    for (quint32 bit = 1; bit <= kAnalysisFlagsAll && bit != 0; bit <<= 1) {
        if (bit == AnalysisReset || bit == AnalysisMalformed)
            continue;
        const QString name = QStringLiteral("tcp.analysis.") + analysisFlagNames(bit);
        const QString description =
            QStringLiteral("analysis: %1").arg(analysisFlagName(AnalysisFlag(bit)));
        FieldInfo info{name, I::AnalysisFlag, T::Flag,    false, false,
                       bit,  EnumKind::None,  description};
        f.append(info);
    }
    add("tcp.analysis.flags", I::AnalysisAnyFlag, T::Flag, false, false,
        "any of the tcp.analysis flags above");
    add("tcp.analysis.duplicate_ack_num", I::AnalysisDupAckNum, T::Integer, false, false,
        "n of \"Dup ACK #n\" (duplicate ACKs only)");
    add("tcp.analysis.ack_rtt", I::AnalysisAckRtt, T::Time, false, false,
        "time from a segment to the ACK acknowledging it (on that ACK)");
    add("tcp.analysis.bytes_in_flight", I::AnalysisBytesInFlight, T::Bytes, false, false,
        "bytes sent and not yet acknowledged, after this segment (when known)");
    add("frame.time_relative", I::FrameTimeRelative, T::Time, false, false,
        "time since the first packet of the session's pcapng export");
    add("iface.name", I::IfaceName, T::Text, false, false,
        "interface the packet was captured on (lo, eth0, ...)");
    add("packet.direction", I::PacketDirection, T::Enum, false, false,
        "in (received by the local socket) or out (sent by it)")
        ->enumKind = EnumKind::Direction;
    // The socket's owner and lifecycle: on a packet, those of the packet's connection.
    add("proc.pid", I::ProcPid, T::Integer, true, false, "process owning the socket");
    add("proc.name", I::ProcName, T::Text, true, false, "process name (comm) owning the socket");
    add("conn.id", I::ConnId, T::Integer, true, false, "connection id in the session");
    add("conn.state", I::ConnState, T::Enum, true, false,
        "last TCP state (ESTABLISHED, CLOSE, TIME_WAIT, ...)")
        ->enumKind = EnumKind::State;
    add("conn.role", I::ConnRole, T::Enum, true, false, "client, server, listener or unknown")
        ->enumKind = EnumKind::Role;
    add("conn.close_reason", I::ConnCloseReason, T::Enum, true, false,
        "open, fin, rst, refused, timeout, aborted or listener-closed")
        ->enumKind = EnumKind::CloseReason;
    add("conn.duration", I::ConnDuration, T::Time, true, false,
        "first state change to close (open: to the end of the session)");
    add("conn.handshake_time", I::ConnHandshakeTime, T::Time, true, false,
        "SYN_SENT/SYN_RECV to ESTABLISHED (when observed)");
    add("conn.bytes_sent", I::ConnBytesSent, T::Bytes, true, false,
        "bytes sent and acknowledged, from the kernel at close");
    add("conn.bytes_received", I::ConnBytesReceived, T::Bytes, true, false,
        "bytes received, from the kernel at close");
    add("conn.local_addr", I::ConnLocalAddr, T::Address, true, false,
        "local address (IPv4 or IPv6)");
    add("conn.local_port", I::ConnLocalPort, T::Integer, true, false, "local port");
    add("conn.remote_addr", I::ConnRemoteAddr, T::Address, true, false,
        "remote address (IPv4 or IPv6)");
    add("conn.remote_port", I::ConnRemotePort, T::Integer, true, false, "remote port");
    // The other end of the connection (analysis/peers.h) and what it received of this one's
    // packets (analysis/peer_transit.h).
    add("conn.peer", I::ConnPeer, T::Integer, true, false,
        "id of the connection that is the other end of this one (both ends captured)");
    add("peer.delay", I::PeerDelay, T::Time, false, false,
        "one-way delay: from the send by one end to the receive by the other (either packet)");
    add("peer.lost", I::PeerLost, T::Bool, false, false,
        "1: sent and never received by the other end (lost in the network)");
    // The kernel's view.
    add("kernel.srtt", I::KernelSrtt, T::Time, true, false,
        "smoothed RTT the kernel reported at close");
    add("kernel.srtt_min", I::KernelSrttMin, T::Time, true, false,
        "lowest smoothed RTT over the kernel samples");
    add("kernel.srtt_max", I::KernelSrttMax, T::Time, true, false,
        "highest smoothed RTT over the kernel samples");
    add("kernel.cwnd", I::KernelCwnd, T::Integer, true, false,
        "largest congestion window over the kernel samples (packets)");
    add("kernel.retransmits", I::KernelRetransmits, T::Integer, true, false,
        "segments the kernel retransmitted");
    add("drop.reason", I::DropReason, T::Text, true, true,
        "reason of each kernel drop joined to the connection (NO_SOCKET, TCP_CSUM, ...)");
    add("rst.reason", I::RstReason, T::Text, true, true,
        "reason the kernel gave for each RST it sent on the connection");
    // Who owns the socket beyond the process: read from the cgroup path and the network
    // namespace recorded with the session.
    add("cgroup.path", I::CgroupPath, T::Text, true, false,
        "cgroup v2 path of the socket's owner (/system.slice/nginx.service)");
    add("container.id", I::ContainerId, T::Text, true, false,
        "container id (64 hex digits) named by the cgroup path: docker, containerd, CRI-O, podman");
    add("k8s.pod_uid", I::PodUid, T::Text, true, false,
        "Kubernetes pod UID named by the cgroup path");
    add("systemd.unit", I::SystemdUnit, T::Text, true, false,
        "innermost systemd service or scope of the cgroup path");
    add("netns", I::Netns, T::Text, true, false,
        "network namespace: its ip netns name, else its inode number");
    add("host.name", I::HostName, T::Text, true, false,
        "name of the machine the socket is on (its host in a merged session)");
    return f;
}

int editDistance(const QString &a, const QString &b)
{
    QVector<int> prev(b.size() + 1), cur(b.size() + 1);
    for (int j = 0; j <= b.size(); ++j)
        prev[j] = j;
    for (int i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (int j = 1; j <= b.size(); ++j) {
            const int subst = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, subst});
        }
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

} // namespace

const QVector<FieldInfo> &fields()
{
    static const QVector<FieldInfo> all = buildFields();
    return all;
}

const FieldInfo *findField(const QString &name)
{
    static const QHash<QString, const FieldInfo *> byName = [] {
        QHash<QString, const FieldInfo *> h;
        for (const FieldInfo &f : fields())
            h.insert(f.name, &f);
        return h;
    }();
    return byName.value(name, nullptr);
}

QString suggestField(const QString &name)
{
    // The nearest name within a few edits; a name the input is a prefix of counts as near.
    QString best;
    int bestDistance = 4;
    for (const FieldInfo &f : fields()) {
        int d = editDistance(name.toLower(), f.name);
        if (d >= bestDistance && f.name.startsWith(name) && name.size() >= 3)
            d = bestDistance - 1;
        if (d < bestDistance) {
            bestDistance = d;
            best = f.name;
        }
    }
    return best;
}

QString typeName(FieldType type)
{
    switch (type) {
    case FieldType::Flag:
        return QStringLiteral("flag");
    case FieldType::Bool:
        return QStringLiteral("boolean");
    case FieldType::Integer:
        return QStringLiteral("number");
    case FieldType::Bytes:
        return QStringLiteral("bytes");
    case FieldType::Time:
        return QStringLiteral("time");
    case FieldType::Address4:
        return QStringLiteral("IPv4 address");
    case FieldType::Address6:
        return QStringLiteral("IPv6 address");
    case FieldType::Address:
        return QStringLiteral("address");
    case FieldType::Text:
        return QStringLiteral("string");
    case FieldType::Enum:
        return QStringLiteral("name");
    }
    return QString();
}

int enumCount(EnumKind kind)
{
    switch (kind) {
    case EnumKind::State:
        return int(TcpState::NewSynRecv) + 1;
    case EnumKind::Role:
        return int(ConnectionRole::Listener) + 1;
    case EnumKind::CloseReason:
        return int(CloseReason::Listener) + 1;
    case EnumKind::Direction:
        return 2;
    case EnumKind::None:
        break;
    }
    return 0;
}

QString enumName(EnumKind kind, int value)
{
    switch (kind) {
    case EnumKind::State:
        return tcpStateName(TcpState(value));
    case EnumKind::Role:
        return connectionRoleName(ConnectionRole(value));
    case EnumKind::CloseReason:
        return closeReasonName(CloseReason(value));
    case EnumKind::Direction:
        return value == int(tcpscope::PacketDirection::Out) ? QStringLiteral("out")
                                                            : QStringLiteral("in");
    case EnumKind::None:
        break;
    }
    return QString();
}

} // namespace tcpscope::filter
