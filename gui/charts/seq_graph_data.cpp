// SPDX-License-Identifier: GPL-3.0-or-later
#include "charts/seq_graph_data.h"

#include "analysis/tcp_options.h"
#include "tcpscope_records.h"

#include <algorithm>

namespace tcpscope {

namespace {
constexpr quint32 kRetransmissionFlags =
    AnalysisRetransmission | AnalysisFastRetransmission | AnalysisSpuriousRetransmission;
// Problems of a data segment that are not retransmissions (Wireshark warnings on segments).
constexpr quint32 kSegmentProblemFlags = AnalysisOutOfOrder | AnalysisPreviousSegmentNotCaptured |
                                         AnalysisWindowFull | AnalysisZeroWindowProbe |
                                         AnalysisMalformed;

template <typename T> void sortByX(QVector<T> &v)
{
    const auto byX = [](const T &a, const T &b) { return a.x < b.x; };
    if (!std::is_sorted(v.cbegin(), v.cend(), byX))
        std::stable_sort(v.begin(), v.end(), byX);
}
} // namespace

void SeqGraphData::reset(PacketDirection dataDirection, qint64 originNs)
{
    *this = SeqGraphData();
    m_dataDirection = dataDirection;
    m_originNs = originNs;
}

PacketDirection SeqGraphData::directionWithMorePayload(const QVector<Packet> &packets)
{
    quint64 in = 0, out = 0;
    for (const Packet &p : packets)
        (p.isOutgoing() ? out : in) += p.payloadLen;
    return in > out ? PacketDirection::In : PacketDirection::Out;
}

double SeqGraphData::unwrapped(quint32 relative, qint64 &reference) const
{
    // The value nearest to the last one seen: a 32-bit relative number wraps after 4 GiB, and
    // a retransmission may lie behind the reference.
    const qint64 value = reference + qint32(relative - quint32(reference));
    reference = std::max(reference, value);
    return double(value);
}

std::optional<quint32> SeqGraphData::dataBase(const Packet &p)
{
    if (m_base)
        return m_base;
    // The analyzer's relative numbers give the data direction's ISN: seq - relSeq of its own
    // packets, ack - relAck of the other direction's ACKs (relAck is relative to the ISN of
    // the side being acknowledged). Everything after uses absolute numbers minus this base,
    // so the graph stays consistent even where the relative fields were not filled.
    if (p.direction == m_dataDirection && p.parseStatus == TS_PARSE_OK)
        m_base = p.seq - p.relSeq;
    else if (p.direction != m_dataDirection && (p.tcpFlags & TS_TCP_ACK) &&
             p.parseStatus == TS_PARSE_OK)
        m_base = p.ack - p.relAck;
    return m_base;
}

void SeqGraphData::extend(double x, double y)
{
    if (!m_hasExtent) {
        m_minX = m_maxX = x;
        m_minY = m_maxY = y;
        m_hasExtent = true;
        return;
    }
    m_minX = std::min(m_minX, x);
    m_maxX = std::max(m_maxX, x);
    m_minY = std::min(m_minY, y);
    m_maxY = std::max(m_maxY, y);
}

void SeqGraphData::reserve(qsizetype packets)
{
    m_packets.reserve(packets);
    m_places.reserve(packets);
    m_indexById.reserve(packets);
}

void SeqGraphData::add(const Packet &p)
{
    if (m_indexById.contains(p.id))
        return;
    m_indexById.insert(p.id, int(m_packets.size()));
    m_packets.append(p);
    m_places.append(SeqBar());
    SeqBar &place = m_places.last();
    if (p.parseStatus != TS_PARSE_OK)
        return; // header fields not trusted: listed, never drawn
    const double x = double(p.timeNs - m_originNs) / 1e9;
    const std::optional<quint32> base = dataBase(p);
    const auto mark = [&](SeqMarkKind kind, double y) {
        m_marks[int(kind)].append({x, y, p.id});
        extend(x, y);
    };

    if (p.direction == m_dataDirection) {
        if (!base)
            return;
        const double y0 = unwrapped(p.seq - *base, m_seqRef);
        const double y1 = y0 + p.payloadLen;
        if (p.payloadLen > 0) {
            SeqBarKind kind = SeqBarKind::Data;
            if (p.analysis & kRetransmissionFlags)
                kind = SeqBarKind::Retransmission;
            else if (p.analysis & kSegmentProblemFlags)
                kind = SeqBarKind::Problem;
            m_bars[int(kind)].append({x, y0, y1, p.id});
            place = {x, y0, y1, p.id};
            extend(x, y0);
            extend(x, y1);
        }
        if (p.tcpFlags & TS_TCP_SYN)
            mark(SeqMarkKind::Syn, y0);
        if (p.tcpFlags & TS_TCP_FIN)
            mark(SeqMarkKind::Fin, y1);
        if (p.tcpFlags & TS_TCP_RST)
            mark(SeqMarkKind::Rst, y0);
        if (p.payloadLen == 0 && (p.tcpFlags & (TS_TCP_SYN | TS_TCP_FIN | TS_TCP_RST)))
            place = {x, y0, y0, p.id};
        return;
    }

    // The other direction: its ACKs, windows and SACK blocks acknowledge the data direction.
    if (!(p.tcpFlags & TS_TCP_ACK) || !base) {
        // A bare SYN (we are the server side of an upload) or an RST without ACK: no position in
        // the data direction's sequence space; shown at the bottom / at the highest ACK.
        const double y = (p.tcpFlags & TS_TCP_SYN) ? 0.0 : double(m_ackRef);
        if (p.tcpFlags & TS_TCP_SYN)
            mark(SeqMarkKind::Syn, y);
        if (p.tcpFlags & TS_TCP_RST)
            mark(SeqMarkKind::Rst, y);
        if (p.tcpFlags & (TS_TCP_SYN | TS_TCP_RST))
            place = {x, y, y, p.id};
        return;
    }
    const qint64 sackRef = m_ackRef;
    const double ack = unwrapped(p.ack - *base, m_ackRef);
    // Scaled window when the analyzer knows the scale; the raw value otherwise (as Wireshark).
    const double window = p.scaledWindow >= 0 ? double(p.scaledWindow) : double(p.window);
    m_acks.append({x, ack, p.id});
    m_windows.append({x, ack + window, p.id});
    place = {x, ack, ack, p.id};
    extend(x, ack);
    m_maxWindowY = std::max(m_maxWindowY, ack + window);
    if (p.analysis & AnalysisDuplicateAck)
        mark(SeqMarkKind::DupAck, ack);
    if (p.analysis & AnalysisZeroWindow)
        mark(SeqMarkKind::ZeroWindow, ack);
    if (p.tcpFlags & TS_TCP_SYN)
        mark(SeqMarkKind::Syn, ack);
    if (p.tcpFlags & TS_TCP_FIN)
        mark(SeqMarkKind::Fin, ack);
    if (p.tcpFlags & TS_TCP_RST)
        mark(SeqMarkKind::Rst, ack);
    if (!p.options.isEmpty()) {
        const TcpOptions options = parseTcpOptions(p.options);
        for (const SackBlock &block : options.sackBlocks) {
            qint64 ref = std::max(sackRef, qint64(ack));
            const double left = unwrapped(block.left - *base, ref);
            const double right = left + double(quint32(block.right - block.left));
            m_bars[int(SeqBarKind::Sack)].append({x, left, right, p.id});
            extend(x, left);
            extend(x, right);
        }
    }
}

void SeqGraphData::finish()
{
    for (auto &bars : m_bars)
        sortByX(bars);
    for (auto &marks : m_marks)
        sortByX(marks);
    sortByX(m_acks);
    sortByX(m_windows);
}

const Packet *SeqGraphData::packet(qint64 id) const
{
    const auto it = m_indexById.constFind(id);
    return it == m_indexById.cend() ? nullptr : &m_packets.at(*it);
}

std::optional<SeqBar> SeqGraphData::placeOf(qint64 packetId) const
{
    const auto it = m_indexById.constFind(packetId);
    if (it == m_indexById.cend() || m_places.at(*it).packetId == 0)
        return std::nullopt;
    return m_places.at(*it);
}

} // namespace tcpscope
