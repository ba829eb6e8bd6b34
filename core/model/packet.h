// SPDX-License-Identifier: GPL-3.0-or-later
// Value types for TCP packets seen at TC ingress/egress and for their analysis (Wireshark's
// expert-info taxonomy). Produced by the ingest path (ConnectionTracker + TcpAnalyzer, live) or
// SessionReader (from a file); consumed by the session writer, exporters (CSV/JSON counts,
// pcapng) and the GUI (packet list, details, sequence graph, timeline markers).
#pragma once

#include "model/address.h"

#include <QByteArray>
#include <QMetaType>
#include <QString>
#include <QVector>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <vector>

namespace tcpscope {

// Direction relative to the local socket of the connection the packet belongs to.
enum class PacketDirection : quint8
{
    In = 0,  // TC ingress: received by the local socket
    Out = 1, // TC egress: sent by the local socket
};

// Wireshark's tcp.analysis.* flags (same meaning; see docs/ANALYSIS.md for the exact rules).
enum AnalysisFlag : quint32
{
    AnalysisRetransmission = 1u << 0, // tcp.analysis.retransmission
    // tcp.analysis.fast_retransmission and tcp.analysis.spurious_retransmission (each also sets
    // Retransmission)
    AnalysisFastRetransmission = 1u << 1,
    AnalysisSpuriousRetransmission = 1u << 2,
    AnalysisDuplicateAck = 1u << 3,               // tcp.analysis.duplicate_ack (dupAckNum = n)
    AnalysisOutOfOrder = 1u << 4,                 // tcp.analysis.out_of_order
    AnalysisPreviousSegmentNotCaptured = 1u << 5, // tcp.analysis.lost_segment
    AnalysisZeroWindow = 1u << 6,                 // tcp.analysis.zero_window
    AnalysisZeroWindowProbe = 1u << 7,            // tcp.analysis.zero_window_probe
    AnalysisZeroWindowProbeAck = 1u << 8,         // tcp.analysis.zero_window_probe_ack
    AnalysisWindowFull = 1u << 9,                 // tcp.analysis.window_full
    AnalysisWindowUpdate = 1u << 10,              // tcp.analysis.window_update
    AnalysisKeepAlive = 1u << 11,                 // tcp.analysis.keep_alive
    AnalysisKeepAliveAck = 1u << 12,              // tcp.analysis.keep_alive_ack
    AnalysisReset = 1u << 13,                     // RST flag set (Wireshark: "Connection reset")
    AnalysisAckedUnseenSegment = 1u << 14,        // tcp.analysis.ack_lost_segment
    AnalysisMalformed = 1u << 15,                 // parse status != OK: header fields not trusted
    AnalysisPortsReused = 1u << 16,               // tcp.analysis.reused_ports: SYN starting a new
                                                  //   connection on a tuple used before
};
// Every defined flag bit (what a stored analysis value may contain).
constexpr quint32 kAnalysisFlagsAll = (AnalysisPortsReused << 1) - 1;
// "Retransmission", "Fast retransmission", ..., "Dup ACK" (no number) for one flag bit.
QString analysisFlagName(AnalysisFlag flag);
// All flags of a packet in Wireshark's wording, comma separated; "Dup ACK #n" with dupAckNum.
QString analysisSummary(quint32 flags, quint32 dupAckNum);
// True when any flag means a problem (Wireshark's warning/error severity: retransmissions, dup
// ACKs, out-of-order, lost segments, zero window, window full, RST, malformed). The GUI paints
// those red; window updates and keep-alives are notes.
bool analysisIsProblem(quint32 flags);

struct SackBlock
{
    quint32 left = 0; // absolute sequence numbers as on the wire
    quint32 right = 0;
    bool operator==(const SackBlock &) const = default;
};

// One option as it appeared on the wire, for the details pane and pcapng reconstruction.
struct TcpOption
{
    quint8 kind = 0;
    quint8 length = 0; // the length byte (1 for EOL/NOP, which have none)
    QByteArray value;  // the bytes after kind/length (truncated to what is present)
    bool operator==(const TcpOption &) const = default;
};

// Result of parsing raw TCP option bytes (core/analysis/tcp_options.h). Parsing never reads past
// the given bytes; a bogus or truncated option stops parsing and sets error (what was parsed
// before it stays valid).
struct TcpOptions
{
    std::optional<quint16> mss;        // kind 2
    std::optional<quint8> windowScale; // kind 3 (shift count as sent, may exceed 14)
    bool sackPermitted = false;        // kind 4
    QVector<SackBlock> sackBlocks;     // kind 5
    std::optional<quint32> tsVal;      // kind 8
    std::optional<quint32> tsEcr;
    QVector<quint8> unknownKinds; // kinds other than 0,1,2,3,4,5,8 (e.g. 30 MPTCP, 34 TFO)
    QVector<TcpOption> all;       // every option in wire order, EOL/NOP included
    QString error;                // empty = all bytes parsed cleanly
};

// The raw TCP option bytes of one packet: at most 40, the most a TCP header holds (what the
// kernel side copies, TS_TCP_OPTIONS_MAX). Kept inside the Packet, so recording a packet
// allocates nothing for its options. Longer input is cut at 40 bytes.
class TcpOptionBytes
{
public:
    static constexpr qsizetype kMax = 40;

    TcpOptionBytes() = default;
    TcpOptionBytes(const void *data, qsizetype len)
    {
        if (!data || len <= 0)
            return;
        m_size = quint8(std::min(len, kMax));
        std::memcpy(m_bytes.data(), data, m_size);
    }
    // Implicit, so option bytes can be given as a QByteArray (tests, the v1-v3 reader).
    TcpOptionBytes(const QByteArray &bytes) // NOLINT(google-explicit-constructor)
        : TcpOptionBytes(bytes.constData(), bytes.size())
    {
    }

    qsizetype size() const { return m_size; }
    bool isEmpty() const { return m_size == 0; }
    void clear() { m_size = 0; }
    const char *constData() const { return reinterpret_cast<const char *>(m_bytes.data()); }
    const quint8 *bytes() const { return m_bytes.data(); }
    const char *cbegin() const { return constData(); }
    const char *cend() const { return constData() + m_size; }
    const char *begin() const { return cbegin(); }
    const char *end() const { return cend(); }
    char operator[](qsizetype i) const { return constData()[i]; }
    QByteArray toByteArray() const { return QByteArray(constData(), m_size); }

    friend bool operator==(const TcpOptionBytes &a, const TcpOptionBytes &b)
    {
        return a.m_size == b.m_size &&
               std::memcmp(a.m_bytes.data(), b.m_bytes.data(), a.m_size) == 0;
    }

private:
    std::array<quint8, kMax> m_bytes{};
    quint8 m_size = 0;
};

struct Packet
{
    AddressFamily family() const { return srcAddr.family(); }

    qint64 id = 0;           // 1-based, capture order within the session
    qint64 connectionId = 0; // Connection::id it joined, 0 = not joined to any connection
    qint64 timeNs = 0;       // wall clock ns since the epoch
    quint64 sockId = 0;      // ts_packet.sock_id as the kernel reported it
    quint32 ifindex = 0;
    PacketDirection direction = PacketDirection::In;
    quint8 parseStatus = 0; // enum ts_parse_status
    quint8 sockState = 0;   // ts_packet.sock_state
    // As on the wire (not oriented to a connection); a packet always has its family's addresses.
    IpAddress srcAddr = IpAddress::any(AddressFamily::IPv4);
    IpAddress dstAddr = IpAddress::any(AddressFamily::IPv4);
    quint16 srcPort = 0;
    quint16 dstPort = 0;
    quint32 seq = 0; // absolute, as on the wire
    quint32 ack = 0;
    quint8 tcpFlags = 0; // TS_TCP_* bits
    quint16 window = 0;  // raw header value
    quint16 urgPtr = 0;
    quint32 payloadLen = 0;
    quint32 skbLen = 0;
    quint16 gsoSegs = 0;
    quint16 gsoSize = 0;
    quint8 ttl = 0;
    quint8 tos = 0;
    quint16 vlanTci = 0;
    quint8 vlanDepth = 0;
    quint8 ipFrag = 0;
    quint32 ipId = 0;
    quint8 ipHdrLen = 0;
    quint8 tcpHdrLen = 0;
    TcpOptionBytes options; // raw option bytes (<= 40)
    QByteArray payload;     // payload snapshot (<= 256 bytes), empty when not captured

    // Filled by TcpAnalyzer (core/analysis/tcp_analyzer.h); stored in the session file.
    quint32 analysis = 0;      // AnalysisFlag bits
    quint32 dupAckNum = 0;     // n of "Dup ACK #n" when AnalysisDuplicateAck
    quint32 relSeq = 0;        // seq - ISN of this direction (SYN = 0); without the SYN the first
    quint32 relAck = 0;        //   seq seen is 1, as Wireshark does. relAck 0 without the ACK flag
    qint64 bytesInFlight = -1; // Wireshark's tcp.analysis.bytes_in_flight, -1 = not known
    qint64 scaledWindow = -1;  // window << scale when the scale is known, else -1
    qint64 ackRttNs = -1; // tcp.analysis.ack_rtt for ACKs that acknowledge a segment, -1 = none

    bool isOutgoing() const { return direction == PacketDirection::Out; }
    // What the packet holds in memory, for the byte budgets of queues and rings.
    qint64 memoryBytes() const { return qint64(sizeof(Packet)) + payload.size(); }
};

// Per-connection totals of the packet analysis (also columns in the connections table).
struct PacketCounts
{
    quint64 packetsIn = 0;
    quint64 packetsOut = 0;
    quint64 payloadBytesIn = 0;
    quint64 payloadBytesOut = 0;
    quint32 retransmissions = 0; // all with AnalysisRetransmission (incl. fast and spurious)
    quint32 fastRetransmissions = 0;
    quint32 spuriousRetransmissions = 0;
    quint32 dupAcks = 0;
    quint32 outOfOrder = 0;
    quint32 lostSegments = 0; // previous segment not captured
    quint32 zeroWindows = 0;
    quint32 zeroWindowProbes = 0;
    quint32 windowFull = 0;
    quint32 windowUpdates = 0;
    quint32 keepAlives = 0;
    quint32 resets = 0; // packets with RST, either direction
    qint64 irttNs = -1; // handshake iRTT (SYN -> final ACK as seen here), -1 unknown
    // Options negotiated in the handshake, per side (local = our socket's SYN or SYN-ACK).
    qint32 mssLocal = -1, mssRemote = -1;
    qint32 wscaleLocal = -1, wscaleRemote = -1; // -1 = not offered (scaling then off both ways)
    bool sackPermitted = false;                 // both sides offered it
    bool timestamps = false;                    // both sides offered it
    // Initial sequence numbers (raw, as on the wire) of our SYN or SYN-ACK and of the other
    // side's; -1 = that handshake packet was not captured. Pair the two ends of a connection
    // across hosts and NAT (core/analysis/peers.h).
    qint64 isnLocal = -1, isnRemote = -1;
    bool operator==(const PacketCounts &) const = default;

    // Counts one analysed packet (its direction, payload, analysis flags): the totals above
    // up to resets. The analyzer counts with it as it goes, the session writer the packets it
    // has stored, so a file's totals always match the packets it holds.
    void add(const Packet &p);
    // This with the per-packet totals (packetsIn .. resets) taken from `totals`.
    PacketCounts withTotalsOf(const PacketCounts &totals) const;
};

// A network interface packets were captured on (from ts_interface records).
struct InterfaceInfo
{
    quint32 ifindex = 0;
    QString name;
    quint8 attach = 0; // enum ts_interface_attach
    bool operator==(const InterfaceInfo &) const = default;
};

} // namespace tcpscope

Q_DECLARE_METATYPE(tcpscope::Packet)
Q_DECLARE_METATYPE(tcpscope::InterfaceInfo)
