// SPDX-License-Identifier: GPL-3.0-or-later
// The fields of the display-filter language: one table of names, types, one-line descriptions and
// where each field applies. Wireshark's names where Wireshark has the field (ip.addr, tcp.port,
// tcp.analysis.retransmission, ...), tcpscope's own for what only the kernel knows (proc.*,
// conn.*, kernel.*, drop.reason, rst.reason, iface.name). docs/FILTERS.md documents every entry.
#pragma once

#include <QString>
#include <QVector>

namespace tcpscope::filter {

// What a field's values are and so which literals and operators it takes.
enum class FieldType : quint8
{
    Flag,     // present or not (tcp.analysis.*): tested on its own, no comparison
    Bool,     // 0 or 1 (tcp.flags.syn); on its own: true when 1
    Integer,  // unsigned number, decimal or 0x hex
    Bytes,    // a number of bytes; size units (1500, 64KiB, 1.5MB)
    Time,     // a duration in ns; time units (10ms, 1.5s, 250us; a bare number is seconds)
    Address4, // IPv4 address, CIDR allowed
    Address6, // IPv6 address, CIDR allowed
    Address,  // either family (conn.local_addr, conn.remote_addr)
    Text,     // a string (proc.name, iface.name, drop.reason)
    Enum,     // one of a fixed set of names (conn.state, conn.role, ...)
};

// Which value a field reads; the evaluator switches on it (no lookup by name after compiling).
enum class FieldId : quint8
{
    IpAddr,
    IpSrc,
    IpDst,
    Ipv6Addr,
    Ipv6Src,
    Ipv6Dst,
    TcpPort,
    TcpSrcPort,
    TcpDstPort,
    TcpFlags,
    TcpFlagBit, // tcp.flags.syn, ...: FieldInfo::bit is the TS_TCP_* bit
    TcpSeq,
    TcpAck,
    TcpSeqRaw,
    TcpAckRaw,
    TcpLen,
    TcpWindowSize,
    TcpWindowSizeValue,
    AnalysisFlag, // tcp.analysis.retransmission, ...: FieldInfo::bit is the AnalysisFlag bit
    AnalysisAnyFlag,
    AnalysisDupAckNum,
    AnalysisAckRtt,
    AnalysisBytesInFlight,
    FrameTimeRelative,
    IfaceName,
    PacketDirection,
    ProcPid,
    ProcName,
    ConnId,
    ConnState,
    ConnRole,
    ConnCloseReason,
    ConnDuration,
    ConnHandshakeTime,
    ConnBytesSent,
    ConnBytesReceived,
    ConnLocalAddr,
    ConnLocalPort,
    ConnRemoteAddr,
    ConnRemotePort,
    KernelSrtt,
    KernelSrttMin,
    KernelSrttMax,
    KernelCwnd,
    KernelRetransmits,
    DropReason,
    RstReason,
    CgroupPath,
    ContainerId,
    PodUid,
    SystemdUnit,
    Netns,
    HostName,
    ConnPeer,
    PeerDelay,
    PeerLost,
};

// The enumerations an Enum field names (its names come from the model's name functions).
enum class EnumKind : quint8
{
    None,
    State,       // tcpStateName
    Role,        // connectionRoleName
    CloseReason, // closeReasonName
    Direction,   // "in", "out"
};

struct FieldInfo
{
    QString name;
    FieldId id;
    FieldType type;
    bool connections; // usable in a connection filter (every field is usable on packets)
    bool multiValued; // several values at once (ip.addr, tcp.port, drop.reason, ...)
    quint32 bit = 0;  // TcpFlagBit / AnalysisFlag: the bit tested
    EnumKind enumKind = EnumKind::None;
    QString description; // one line, for completion popups and docs
};

// Every field, in documentation order.
const QVector<FieldInfo> &fields();
// nullptr when name is not a field (exact, case-sensitive as in Wireshark).
const FieldInfo *findField(const QString &name);
// The closest field name to a misspelt one ("tcp.prot" -> "tcp.port"); empty when none is close.
QString suggestField(const QString &name);
// "number", "bytes", "time", "IPv4 address", ... for messages and docs.
QString typeName(FieldType type);

// The names of an enumeration in value order, and the count of values.
int enumCount(EnumKind kind);
QString enumName(EnumKind kind, int value);

} // namespace tcpscope::filter
