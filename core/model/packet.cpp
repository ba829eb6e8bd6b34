// SPDX-License-Identifier: GPL-3.0-or-later
#include "model/packet.h"

extern "C" {
#include "tcpscope_records.h"
}

#include <QStringList>

#include <array>
#include <utility>

namespace tcpscope {

namespace {

// Display order of the summary: what went missing first, then how the sender reacted, then the
// receiver's side (window), then the notes. Plain "Retransmission" is left out when a more
// specific kind is present, as Wireshark's Info column does.
constexpr std::array<AnalysisFlag, 17> kSummaryOrder = {
    AnalysisMalformed,
    AnalysisPortsReused,
    AnalysisPreviousSegmentNotCaptured,
    AnalysisAckedUnseenSegment,
    AnalysisFastRetransmission,
    AnalysisSpuriousRetransmission,
    AnalysisRetransmission,
    AnalysisOutOfOrder,
    AnalysisDuplicateAck,
    AnalysisZeroWindowProbe,
    AnalysisZeroWindowProbeAck,
    AnalysisZeroWindow,
    AnalysisWindowFull,
    AnalysisWindowUpdate,
    AnalysisKeepAlive,
    AnalysisKeepAliveAck,
    AnalysisReset,
};

constexpr quint32 kProblemFlags = AnalysisRetransmission | AnalysisFastRetransmission |
                                  AnalysisSpuriousRetransmission | AnalysisDuplicateAck |
                                  AnalysisOutOfOrder | AnalysisPreviousSegmentNotCaptured |
                                  AnalysisAckedUnseenSegment | AnalysisZeroWindow |
                                  AnalysisWindowFull | AnalysisReset | AnalysisMalformed;

} // namespace

QString analysisFlagName(AnalysisFlag flag)
{
    switch (flag) {
    case AnalysisRetransmission:
        return QStringLiteral("Retransmission");
    case AnalysisFastRetransmission:
        return QStringLiteral("Fast retransmission");
    case AnalysisSpuriousRetransmission:
        return QStringLiteral("Spurious retransmission");
    case AnalysisDuplicateAck:
        return QStringLiteral("Dup ACK");
    case AnalysisOutOfOrder:
        return QStringLiteral("Out-of-order");
    case AnalysisPreviousSegmentNotCaptured:
        return QStringLiteral("Previous segment not captured");
    case AnalysisZeroWindow:
        return QStringLiteral("Zero window");
    case AnalysisZeroWindowProbe:
        return QStringLiteral("Zero window probe");
    case AnalysisZeroWindowProbeAck:
        return QStringLiteral("Zero window probe ACK");
    case AnalysisWindowFull:
        return QStringLiteral("Window full");
    case AnalysisWindowUpdate:
        return QStringLiteral("Window update");
    case AnalysisKeepAlive:
        return QStringLiteral("Keep-alive");
    case AnalysisKeepAliveAck:
        return QStringLiteral("Keep-alive ACK");
    case AnalysisReset:
        return QStringLiteral("RST");
    case AnalysisAckedUnseenSegment:
        return QStringLiteral("ACKed unseen segment");
    case AnalysisMalformed:
        return QStringLiteral("Malformed");
    case AnalysisPortsReused:
        return QStringLiteral("TCP port numbers reused");
    }
    return QStringLiteral("Unknown (0x%1)").arg(quint32(flag), 0, 16);
}

QString analysisSummary(quint32 flags, quint32 dupAckNum)
{
    QStringList parts;
    for (const AnalysisFlag flag : kSummaryOrder) {
        if (!(flags & flag))
            continue;
        if (flag == AnalysisRetransmission &&
            (flags & (AnalysisFastRetransmission | AnalysisSpuriousRetransmission)))
            continue;
        if (flag == AnalysisDuplicateAck && dupAckNum > 0)
            parts << QStringLiteral("Dup ACK #%1").arg(dupAckNum);
        else
            parts << analysisFlagName(flag);
    }
    return parts.join(QStringLiteral(", "));
}

bool analysisIsProblem(quint32 flags)
{
    return (flags & kProblemFlags) != 0;
}

void PacketCounts::add(const Packet &p)
{
    const bool out = p.isOutgoing();
    ++(out ? packetsOut : packetsIn);
    if (p.parseStatus != TS_PARSE_OK)
        return; // header fields past the failing point are not trusted, nor analysed
    (out ? payloadBytesOut : payloadBytesIn) += p.payloadLen;
    const quint32 f = p.analysis;
    retransmissions += (f & AnalysisRetransmission) != 0;
    fastRetransmissions += (f & AnalysisFastRetransmission) != 0;
    spuriousRetransmissions += (f & AnalysisSpuriousRetransmission) != 0;
    dupAcks += (f & AnalysisDuplicateAck) != 0;
    outOfOrder += (f & AnalysisOutOfOrder) != 0;
    lostSegments += (f & AnalysisPreviousSegmentNotCaptured) != 0;
    zeroWindows += (f & AnalysisZeroWindow) != 0;
    zeroWindowProbes += (f & AnalysisZeroWindowProbe) != 0;
    windowFull += (f & AnalysisWindowFull) != 0;
    windowUpdates += (f & AnalysisWindowUpdate) != 0;
    keepAlives += (f & AnalysisKeepAlive) != 0;
    resets += (f & AnalysisReset) != 0;
}

PacketCounts PacketCounts::withTotalsOf(const PacketCounts &totals) const
{
    PacketCounts c = totals;
    c.irttNs = irttNs;
    c.mssLocal = mssLocal;
    c.mssRemote = mssRemote;
    c.wscaleLocal = wscaleLocal;
    c.wscaleRemote = wscaleRemote;
    c.sackPermitted = sackPermitted;
    c.timestamps = timestamps;
    c.isnLocal = isnLocal;
    c.isnRemote = isnRemote;
    return c;
}

} // namespace tcpscope
