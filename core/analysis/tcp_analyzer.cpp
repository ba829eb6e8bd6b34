// SPDX-License-Identifier: GPL-3.0-or-later
// The rules, their order and their state mirror Wireshark's tcp_analyze_sequence_number() (the
// 4.0 series, which Debian 12's tshark runs), so that per-packet flags and the counts derived
// from them agree with `tshark -Y tcp.analysis.*` on a capture of the same packets. Each rule is
// spelled out in plain words in docs/ANALYSIS.md; deviations are listed there too.
#include "analysis/tcp_analyzer.h"

#include "analysis/tcp_options.h"
#include "tcpscope_records.h"

#include <algorithm>
#include <vector>

namespace tcpscope {

namespace {

// Wireshark: a retransmission within 20 ms of the second (or later) duplicate ACK that asks for
// exactly its sequence number is a fast retransmission.
constexpr quint64 kFastRetransmissionWindowNs = 20'000'000;
// Out-of-order threshold while the handshake RTT is unknown (Wireshark's 3 ms).
constexpr quint64 kDefaultOutOfOrderThresholdNs = 3'000'000;
// Wireshark stops remembering unacknowledged segments past this many (ACKs not seen).
constexpr std::size_t kMaxUnackedSegments = 10000;
// RFC 7323: a larger shift is treated as 14.
constexpr int kMaxWindowShift = 14;
// Window scale states besides a shift count (Wireshark's values).
constexpr int kScaleUnknown = -1; // handshake not seen: scaled window unknown
constexpr int kScaleOff = -2;     // handshake seen, scaling not in use: window is as sent
// "No window seen yet": never equal to a 16-bit window (Wireshark initialises to G_MAXUINT32).
constexpr quint32 kNoWindow = 0xffffffffu;
// Wireshark parks a side's dup ACK counter at -1 (unsigned) once an "ACKed unseen segment" was
// reported against it, to report a stalled gap only once. Unsigned, so it also counts as ">= 2"
// for the fast retransmission rule, as in tshark 4.0.
constexpr quint32 kDupAckUnseenParked = 0xffffffffu;

// Serial-number arithmetic (RFC 1982), as Wireshark's GT_SEQ/LT_SEQ/LE_SEQ.
bool ltSeq(quint32 a, quint32 b)
{
    return static_cast<qint32>(a - b) < 0;
}
bool gtSeq(quint32 a, quint32 b)
{
    return static_cast<qint32>(b - a) < 0;
}
bool leSeq(quint32 a, quint32 b)
{
    return static_cast<qint32>(b - a) >= 0;
}

// Time since `then`, unsigned like Wireshark's: a packet stamped before the reference (the two
// directions come through different CPUs) counts as "long after", never as "just now".
quint64 elapsedNs(qint64 now, qint64 then)
{
    return static_cast<quint64>(now - then);
}

// Bytes the SACK blocks of one packet report as received, as Wireshark's bytes-in-flight counts
// them: only the first three blocks (its store is 1-based with room for three). Options that do
// not parse cleanly up to the SACK option count as no SACK.
quint32 sackedBytes(const TcpOptionBytes &options)
{
    const quint8 *o = options.bytes();
    const int len = int(options.size());
    int i = 0;
    while (i < len) {
        if (o[i] == 0)
            break;
        if (o[i] == 1) {
            ++i;
            continue;
        }
        if (i + 1 >= len || o[i + 1] < 2 || i + o[i + 1] > len)
            break;
        if (o[i] == 5) {
            quint32 sum = 0;
            const int blocks = std::min((o[i + 1] - 2) / 8, 3);
            for (int b = 0; b < blocks; ++b) {
                const quint8 *p = o + i + 2 + 8 * b;
                const quint32 left = (quint32(p[0]) << 24) | (p[1] << 16) | (p[2] << 8) | p[3];
                const quint32 right = (quint32(p[4]) << 24) | (p[5] << 16) | (p[6] << 8) | p[7];
                sum += right - left;
            }
            return sum;
        }
        i += o[i + 1];
    }
    return 0;
}

struct Segment
{
    quint32 seq = 0;
    quint32 nextSeq = 0; // seq + length (+1 for SYN/FIN)
    qint64 timeNs = 0;
};

// What one direction (the sender of the packets) has shown so far.
struct Flow
{
    bool baseSet = false;
    quint32 base = 0; // ISN, or first seq - 1 without a SYN

    bool haveNextSeq = false;
    quint32 nextSeq = 0;      // highest seq + len seen
    qint64 nextSeqTimeNs = 0; // when nextSeq last advanced

    bool haveMaxSeqToBeAcked = false;
    quint32 maxSeqToBeAcked = 0; // end of the contiguous data seen

    bool haveLastAck = false;
    quint32 lastAck = 0; // ack field of this direction's last packet (raw, as Wireshark)
    qint64 lastAckTimeNs = 0;
    quint32 window = kNoWindow; // raw window of this direction's last packet
    bool windowInSyn = false;   // ... which came in a SYN, so is never scaled
    quint32 dupAckNum = 0;      // or kDupAckUnseenParked
    quint32 sackedBytes = 0;    // SACKed by this direction's last packet
    quint32 lastSegmentFlags = 0;

    int winScale = kScaleUnknown;
    bool validBytesInFlight = true;
    std::vector<Segment> unacked; // in sending order
    // Lowest seq and highest nextSeq of `unacked`, relative to base (as Wireshark compares them),
    // kept up to date on every change so bytes in flight costs O(1) per packet.
    quint32 spanFirst = 0;
    quint32 spanLast = 0;

    void addUnacked(const Segment &s)
    {
        const quint32 first = s.seq - base;
        const quint32 last = s.nextSeq - base;
        spanFirst = unacked.empty() ? first : std::min(spanFirst, first);
        spanLast = unacked.empty() ? last : std::max(spanLast, last);
        unacked.push_back(s);
    }

    // Options this side put in its SYN / SYN-ACK.
    bool sackOffered = false;
    bool timestampsOffered = false;
};

} // namespace

struct TcpAnalyzer::State
{
    Flow flows[2]; // index = PacketDirection (In = received: the remote side's flow)
    PacketCounts counts;
    bool haveSynTime = false;
    qint64 synTimeNs = 0; // most recent SYN without ACK
    qint64 irttNs = 0;    // 0 = not known yet (as Wireshark's ts_first_rtt)

    void analyze(Packet &p);
    void handshakeOptions(const Packet &p, Flow &fwd, Flow &rev);
};

TcpAnalyzer::TcpAnalyzer() : d(std::make_unique<State>()) {}
TcpAnalyzer::~TcpAnalyzer() = default;
TcpAnalyzer::TcpAnalyzer(TcpAnalyzer &&) noexcept = default;
TcpAnalyzer &TcpAnalyzer::operator=(TcpAnalyzer &&) noexcept = default;

void TcpAnalyzer::analyze(Packet &packet)
{
    if (!d) // moved-from: start over rather than crash
        d = std::make_unique<State>();
    d->analyze(packet);
}

const PacketCounts &TcpAnalyzer::counts() const
{
    static const PacketCounts empty;
    return d ? d->counts : empty;
}

void TcpAnalyzer::State::handshakeOptions(const Packet &p, Flow &fwd, Flow &rev)
{
    const TcpOptions opts = parseTcpOptions(p.options);
    const bool local = p.isOutgoing();
    const bool ack = p.tcpFlags & TS_TCP_ACK;
    // The raw ISN of this side's SYN (or SYN-ACK): the first one seen (a retransmitted SYN
    // carries the same number).
    qint64 &isn = local ? counts.isnLocal : counts.isnRemote;
    if (isn < 0)
        isn = p.seq;
    if (opts.mss)
        (local ? counts.mssLocal : counts.mssRemote) = *opts.mss;
    if (opts.windowScale) {
        (local ? counts.wscaleLocal : counts.wscaleRemote) = *opts.windowScale;
        fwd.winScale = std::min<int>(*opts.windowScale, kMaxWindowShift);
    }
    // Scaling is in use only when both SYNs carry the option (RFC 7323 2.2), decided as
    // Wireshark's verify_tcp_window_scaling(): a SYN without it turns scaling off both ways; a
    // SYN-ACK with it answering a SYN without it does not turn it on.
    if (fwd.winScale == kScaleUnknown) {
        fwd.winScale = kScaleOff;
        rev.winScale = kScaleOff;
    } else if (ack && rev.winScale == kScaleOff) {
        fwd.winScale = kScaleOff;
    }
    fwd.sackOffered = fwd.sackOffered || opts.sackPermitted;
    fwd.timestampsOffered = fwd.timestampsOffered || opts.tsVal.has_value();
    counts.sackPermitted = fwd.sackOffered && rev.sackOffered;
    counts.timestamps = fwd.timestampsOffered && rev.timestampsOffered;
}

void TcpAnalyzer::State::analyze(Packet &p)
{
    const bool out = p.isOutgoing();
    p.analysis = 0;
    p.dupAckNum = 0;
    p.relSeq = 0;
    p.relAck = 0;
    p.bytesInFlight = -1;
    p.scaledWindow = -1;
    p.ackRttNs = -1;

    if (p.parseStatus != TS_PARSE_OK) {
        // Fields past the failing point are zero or garbage: flag it, learn nothing from it.
        p.analysis = AnalysisMalformed;
        counts.add(p);
        return;
    }

    Flow &fwd = flows[out ? 1 : 0];
    Flow &rev = flows[out ? 0 : 1];
    const quint8 tcpFlags = p.tcpFlags;
    const bool syn = tcpFlags & TS_TCP_SYN;
    const bool fin = tcpFlags & TS_TCP_FIN;
    const bool rst = tcpFlags & TS_TCP_RST;
    const bool ackFlag = tcpFlags & TS_TCP_ACK;
    const bool synFinRst = syn || fin || rst;
    const quint32 seq = p.seq;
    const quint32 ack = p.ack;
    const quint32 seglen = p.payloadLen; // a GSO super-packet is one segment, as in tcpdump
    const quint32 window = p.window;
    const qint64 now = p.timeNs;

    // Relative numbers: from the ISN when the SYN is seen, else the first seq seen counts as 1;
    // the reverse base comes from the first ACK when that direction's SYN was not seen.
    if (!fwd.baseSet) {
        fwd.base = syn ? seq : seq - 1;
        fwd.baseSet = true;
    }
    if (!rev.baseSet && ackFlag) {
        rev.base = ack - 1;
        rev.baseSet = true;
    }
    if (ackFlag)
        rev.validBytesInFlight = true;

    quint32 f = 0;
    const bool atNextSeq = fwd.haveNextSeq && seq == fwd.nextSeq;
    const bool repeatsAck = fwd.haveLastAck && ack == fwd.lastAck;

    if (seglen == 1 && atNextSeq && rev.window == 0) {
        // One byte at the next sequence number into a zero window.
        f |= AnalysisZeroWindowProbe;
    } else {
        if (window == 0 && !synFinRst)
            f |= AnalysisZeroWindow;
        if (fwd.haveNextSeq && gtSeq(seq, fwd.nextSeq) && !rst) {
            f |= AnalysisPreviousSegmentNotCaptured;
            fwd.validBytesInFlight = false; // until the other side ACKs again
        }
        if (seglen <= 1 && fwd.haveNextSeq && seq == fwd.nextSeq - 1 && !synFinRst)
            f |= AnalysisKeepAlive;
        if (seglen == 0 && window != 0 && window != fwd.window && atNextSeq && repeatsAck &&
            !synFinRst)
            f |= AnalysisWindowUpdate;
        if (seglen > 0 && rev.winScale != kScaleUnknown && rev.haveLastAck && !synFinRst) {
            const int shift = rev.winScale == kScaleOff || rev.windowInSyn ? 0 : rev.winScale;
            if (seq + seglen == rev.lastAck + (rev.window << shift))
                f |= AnalysisWindowFull;
        }

        const bool pureRepeat =
            seglen == 0 && window == fwd.window && atNextSeq && repeatsAck && !synFinRst;
        if (pureRepeat && window != 0 && (rev.lastSegmentFlags & AnalysisKeepAlive)) {
            f |= AnalysisKeepAliveAck;
        } else if (pureRepeat && window == 0 && (rev.lastSegmentFlags & AnalysisZeroWindowProbe)) {
            f |= AnalysisZeroWindowProbeAck;
        } else if (pureRepeat && window != 0) {
            fwd.dupAckNum = fwd.dupAckNum == kDupAckUnseenParked ? 1 : fwd.dupAckNum + 1;
            f |= AnalysisDuplicateAck;
            p.dupAckNum = fwd.dupAckNum;
        }
    }
    if (!fwd.haveLastAck || ack != fwd.lastAck)
        fwd.dupAckNum = 0;

    // The other side's data acknowledged beyond what we saw of it. Reported once per gap: if
    // the other side sent more since (the limit is behind its highest seq), the limit catches
    // up; if not, its dup ACK counter is parked so that repeated ACKs of the same gap are quiet
    // until it sends an ACK of its own that moves (tshark 4.0's behaviour, verified on crafted
    // captures).
    if (ackFlag && rev.haveMaxSeqToBeAcked && gtSeq(ack, rev.maxSeqToBeAcked)) {
        if (ltSeq(rev.maxSeqToBeAcked, rev.nextSeq)) {
            rev.maxSeqToBeAcked = rev.nextSeq;
            f |= AnalysisAckedUnseenSegment;
        } else {
            if (rev.dupAckNum == 0)
                f |= AnalysisAckedUnseenSegment;
            rev.dupAckNum = kDupAckUnseenParked;
        }
    }

    // Retransmission family: data (or SYN/FIN) that does not advance the sequence number.
    if ((seglen > 0 || syn || fin) && !(f & AnalysisKeepAlive)) {
        bool notAdvanced = fwd.haveNextSeq && ltSeq(seq, fwd.nextSeq);
        // New data starting one byte back (after a one-byte zero window probe) is not a
        // retransmission.
        if (seglen > 1 && fwd.haveNextSeq && fwd.nextSeq - 1 == seq)
            notAdvanced = false;
        const quint64 oooThreshold =
            irttNs > 0 ? static_cast<quint64>(irttNs) : kDefaultOutOfOrderThresholdNs;
        const quint32 segEnd = seq + seglen + (syn || fin ? 1 : 0);
        if (seglen > 0 && rev.haveLastAck && rev.lastAck != 0 && leSeq(seq + seglen, rev.lastAck)) {
            // Every byte was already acknowledged (checked first, as tshark 4.0 does).
            f |= AnalysisSpuriousRetransmission | AnalysisRetransmission;
        } else if (notAdvanced && rev.dupAckNum >= 2 && rev.lastAck == seq &&
                   elapsedNs(now, rev.lastAckTimeNs) < kFastRetransmissionWindowNs) {
            f |= AnalysisFastRetransmission | AnalysisRetransmission;
        } else if (notAdvanced && elapsedNs(now, fwd.nextSeqTimeNs) < oooThreshold &&
                   fwd.nextSeq != segEnd) {
            f |= AnalysisOutOfOrder;
        } else if (notAdvanced) {
            f |= AnalysisRetransmission;
        }
    }

    quint32 nextSeq = seq + seglen;
    if ((seglen > 0 || syn || fin) && fwd.unacked.size() < kMaxUnackedSegments) {
        if (syn || fin)
            nextSeq += 1;
        fwd.addUnacked(Segment{seq, nextSeq, now});
    }
    // Zero window probes do not advance the expected sequence number.
    if (!(f & AnalysisZeroWindowProbe)) {
        if (!fwd.haveNextSeq || gtSeq(nextSeq, fwd.nextSeq)) {
            fwd.haveNextSeq = true;
            fwd.nextSeq = nextSeq;
            fwd.nextSeqTimeNs = now;
        }
        if (!fwd.haveMaxSeqToBeAcked || seq == fwd.maxSeqToBeAcked) {
            fwd.haveMaxSeqToBeAcked = true;
            fwd.maxSeqToBeAcked = fwd.nextSeq;
        }
    }

    fwd.window = window;
    fwd.windowInSyn = syn;
    fwd.sackedBytes = p.options.isEmpty() ? 0 : sackedBytes(p.options);
    fwd.haveLastAck = true;
    fwd.lastAck = ack;
    fwd.lastAckTimeNs = now;
    fwd.lastSegmentFlags = f;

    // Drop the other side's segments this acknowledges; an exact match gives the ACK RTT (of the
    // first transmission when the segment was sent more than once).
    {
        bool matched = false;
        auto &list = rev.unacked;
        std::size_t kept = 0;
        for (Segment &s : list) {
            if (ack == s.nextSeq) {
                if (!matched) {
                    matched = true;
                    // A record later than the reorder window can be stamped before the
                    // segment it acknowledges (two CPUs): never a negative round trip.
                    p.ackRttNs = std::max<qint64>(0, now - s.timeNs);
                }
                continue;
            }
            if (gtSeq(ack, s.seq) && leSeq(ack, s.nextSeq))
                s.seq = ack; // partly acknowledged
            else if (!gtSeq(s.nextSeq, ack))
                continue; // acknowledged before
            const quint32 first = s.seq - rev.base;
            const quint32 last = s.nextSeq - rev.base;
            rev.spanFirst = kept == 0 ? first : std::min(rev.spanFirst, first);
            rev.spanLast = kept == 0 ? last : std::max(rev.spanLast, last);
            list[kept++] = s;
        }
        list.resize(kept);
    }

    // Bytes in flight after this data segment: span of this side's unacknowledged segments,
    // less what the other side's last packet SACKed (unsigned, as Wireshark: an underflow fails
    // the plausibility check), less the virtual byte of a SYN or FIN.
    if (seglen != 0 && !fwd.unacked.empty() && fwd.validBytesInFlight) {
        const quint32 inFlight = fwd.spanLast - fwd.spanFirst - rev.sackedBytes;
        if (inFlight > 0 && inFlight < 2'000'000'000u)
            p.bytesInFlight = qint64(inFlight) - (syn || fin ? 1 : 0);
    }

    if (syn)
        handshakeOptions(p, fwd, rev);

    if (rst)
        f |= AnalysisReset;

    // iRTT: SYN to the first pure ACK (Wireshark's ts_first_rtt); after this packet's analysis,
    // so it only affects the out-of-order threshold of later packets.
    if (syn && !ackFlag) {
        haveSynTime = true;
        synTimeNs = now;
    } else if (ackFlag && !syn && haveSynTime && irttNs == 0) {
        // At least 1: 0 means "not known yet" here, and a late record must not make it negative.
        irttNs = std::max<qint64>(1, now - synTimeNs);
        counts.irttNs = irttNs;
    }

    p.analysis = f;
    p.relSeq = seq - fwd.base;
    p.relAck = ackFlag && rev.baseSet ? ack - rev.base : 0;
    if (syn)
        p.scaledWindow = window; // the window in a SYN is never scaled
    else if (fwd.winScale >= 0)
        p.scaledWindow = qint64(window) << fwd.winScale;
    else if (fwd.winScale == kScaleOff)
        p.scaledWindow = window;

    counts.add(p);
}

} // namespace tcpscope
