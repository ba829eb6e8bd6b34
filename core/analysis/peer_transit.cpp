// SPDX-License-Identifier: GPL-3.0-or-later
#include "analysis/peer_transit.h"

#include "analysis/peers.h"
#include "analysis/tcp_options.h"
#include "session/session.h"

#include <algorithm>

extern "C" {
#include "tcpscope_records.h"
}

namespace tcpscope {

namespace {

// Sequence numbers as 64-bit offsets: each packet's 32-bit number is taken as the nearest to the
// previous one of its stream (a stream never jumps 2 GB between two packets).
struct Unwrapper
{
    qint64 last = 0;
    qint64 operator()(quint32 seq)
    {
        last += qint32(seq - quint32(last));
        return last;
    }
};

struct Send
{
    const TransitSegment *seg;
    qint64 start, end; // byte range (data sends)
    qint64 lastRecvNs = PeerTransitMark::kNone;
    qint64 lastRecvId = 0;
};

using PureKey = QPair<quint64, quint64>;

PureKey pureKey(const TransitSegment &s)
{
    return {(quint64(s.seq) << 32) | s.ack, (quint64(s.flags) << 48) | (quint64(s.window) << 32) |
                                                (s.hasTsVal ? s.tsVal : 0) |
                                                (s.hasTsVal ? (1ull << 56) : 0)};
}

// Picks among candidate sends: the latest sent no later than the receive, else the latest sent
// no later than the receive plus the clock slack, else the earliest; with latest false the
// earliest (identical copies arrive in the order sent). -1 when there is none.
int pick(const QVector<Send> &sends, const QVector<int> &candidates, qint64 recvNs, qint64 slack,
         bool latest)
{
    int latestBefore = -1, latestWithinSlack = -1, earliest = -1;
    for (int i : candidates) {
        const qint64 t = sends[i].seg->timeNs;
        if (t <= recvNs && (latestBefore < 0 || t > sends[latestBefore].seg->timeNs))
            latestBefore = i;
        if (t <= recvNs + slack &&
            (latestWithinSlack < 0 || t > sends[latestWithinSlack].seg->timeNs))
            latestWithinSlack = i;
        if (earliest < 0 || t < sends[earliest].seg->timeNs)
            earliest = i;
    }
    if (!latest)
        return earliest;
    return latestBefore >= 0 ? latestBefore : latestWithinSlack >= 0 ? latestWithinSlack : earliest;
}

void matchDirection(const QVector<const TransitSegment *> &sent,
                    const QVector<const TransitSegment *> &received, qint64 receiverFirstNs,
                    const TransitOptions &options, QHash<qint64, PeerTransitMark> *marks,
                    TransitDirection *dir)
{
    const qint64 slack = options.sameHost ? 0 : options.clockSlackNs;
    dir->sent = quint64(sent.size());
    if (sent.isEmpty())
        return;
    const quint32 base = sent.first()->seq;

    QVector<Send> sends;
    sends.reserve(sent.size());
    QVector<int> data; // indexes of data sends, by start
    QHash<PureKey, QVector<int>> pure;
    qint64 maxLen = 0;
    Unwrapper unwrapSent{qint64(base)};
    for (const TransitSegment *s : sent) {
        const qint64 start = unwrapSent(s->seq);
        sends.append(Send{s, start, start + s->length});
        const int i = int(sends.size() - 1);
        if (s->length > 0) {
            data.append(i);
            maxLen = std::max<qint64>(maxLen, s->length);
        } else {
            pure[pureKey(*s)].append(i);
        }
    }
    std::stable_sort(data.begin(), data.end(),
                     [&](int l, int r) { return sends[l].start < sends[r].start; });

    QVector<qint64> delays;
    QVector<bool> pureTaken(sends.size(), false);
    Unwrapper unwrapRecv{qint64(base)};
    QVector<int> candidates;
    for (const TransitSegment *r : received) {
        const qint64 rStart = unwrapRecv(r->seq);
        int chosenLast = -1; // the latest-sent send this packet was matched with
        auto take = [&](int i) {
            Send &s = sends[i];
            if (s.lastRecvNs == PeerTransitMark::kNone || r->timeNs >= s.lastRecvNs) {
                s.lastRecvNs = r->timeNs;
                s.lastRecvId = r->packetId;
            }
            if (chosenLast < 0 || s.seg->timeNs > sends[chosenLast].seg->timeNs)
                chosenLast = i;
        };
        if (r->length == 0) {
            candidates.clear();
            for (int i : pure.value(pureKey(*r)))
                if (!pureTaken[i])
                    candidates.append(i);
            const int i = pick(sends, candidates, r->timeNs, slack, false);
            if (i >= 0) {
                pureTaken[i] = true;
                take(i);
            }
        } else {
            const qint64 rEnd = rStart + r->length;
            qint64 pos = rStart;
            while (pos < rEnd) {
                // Data sends whose range holds pos: start <= pos < end.
                auto upper = std::upper_bound(data.cbegin(), data.cend(), pos,
                                              [&](qint64 v, int i) { return v < sends[i].start; });
                candidates.clear();
                for (auto it = upper; it != data.cbegin();) {
                    --it;
                    const Send &s = sends[*it];
                    if (s.start + maxLen <= pos)
                        break;
                    if (s.end <= pos)
                        continue;
                    if (r->hasTsVal && s.seg->hasTsVal && r->tsVal != s.seg->tsVal)
                        continue;
                    candidates.append(*it);
                }
                const int i = pick(sends, candidates, r->timeNs, slack, true);
                if (i < 0) {
                    // Nothing sent holds these bytes: go on from the next send's start.
                    pos = upper == data.cend() ? rEnd : std::min(rEnd, sends[*upper].start);
                    continue;
                }
                take(i);
                pos = std::min(rEnd, sends[i].end);
            }
        }
        if (chosenLast >= 0) {
            const Send &s = sends[chosenLast];
            PeerTransitMark &m = (*marks)[r->packetId];
            m.delayNs = r->timeNs - s.seg->timeNs;
            m.peerPacketId = s.seg->packetId;
            delays.append(m.delayNs);
        }
    }

    qint64 latestReceivedSend = std::numeric_limits<qint64>::min();
    for (const Send &s : std::as_const(sends))
        if (s.lastRecvNs != PeerTransitMark::kNone)
            latestReceivedSend = std::max(latestReceivedSend, s.seg->timeNs);
    for (const Send &s : std::as_const(sends)) {
        if (s.lastRecvNs != PeerTransitMark::kNone) {
            PeerTransitMark &m = (*marks)[s.seg->packetId];
            m.delayNs = s.lastRecvNs - s.seg->timeNs;
            m.peerPacketId = s.lastRecvId;
            ++dir->received;
        } else if (s.seg->timeNs < latestReceivedSend &&
                   (options.sameHost || s.seg->timeNs >= receiverFirstNs - slack)) {
            (*marks)[s.seg->packetId].lost = true;
            ++dir->lost;
        }
    }

    dir->delays = quint64(delays.size());
    if (!delays.isEmpty()) {
        const auto [mn, mx] = std::minmax_element(delays.cbegin(), delays.cend());
        dir->minNs = *mn;
        dir->maxNs = *mx;
        auto mid = delays.begin() + delays.size() / 2;
        std::nth_element(delays.begin(), mid, delays.end());
        dir->medianNs = *mid;
    }
}

} // namespace

TransitSegment transitSegment(const Packet &p)
{
    TransitSegment s;
    s.packetId = p.id;
    s.timeNs = p.timeNs;
    s.seq = p.seq;
    s.ack = p.ack;
    s.flags = p.tcpFlags;
    s.window = p.window;
    s.length =
        p.payloadLen + ((p.tcpFlags & TS_TCP_SYN) ? 1 : 0) + ((p.tcpFlags & TS_TCP_FIN) ? 1 : 0);
    s.outgoing = p.isOutgoing();
    if (!p.options.isEmpty()) {
        const TcpOptions o = parseTcpOptions(p.options);
        if (o.tsVal) {
            s.hasTsVal = true;
            s.tsVal = *o.tsVal;
        }
    }
    return s;
}

PeerTransit matchPeerTransit(qint64 aId, const QVector<TransitSegment> &a, qint64 bId,
                             const QVector<TransitSegment> &b, const TransitOptions &options)
{
    PeerTransit t;
    t.connectionId = aId;
    t.peerId = bId;
    QVector<const TransitSegment *> aOut, aIn, bOut, bIn;
    for (const TransitSegment &s : a)
        (s.outgoing ? aOut : aIn).append(&s);
    for (const TransitSegment &s : b)
        (s.outgoing ? bOut : bIn).append(&s);
    auto firstNs = [](const QVector<TransitSegment> &v) {
        qint64 first = std::numeric_limits<qint64>::max();
        for (const TransitSegment &s : v)
            first = std::min(first, s.timeNs);
        return first;
    };
    matchDirection(aOut, bIn, firstNs(b), options, &t.marks, &t.outbound);
    matchDirection(bOut, aIn, firstNs(a), options, &t.marks, &t.inbound);
    return t;
}

PeerTransit sessionPeerTransit(const Session &session, qint64 connectionId, qint64 peerId,
                               const std::atomic<bool> *cancel)
{
    PeerTransit none;
    none.connectionId = connectionId;
    const auto a = session.connection(connectionId);
    const auto b = session.connection(peerId);
    if (!a || !b || connectionId == peerId)
        return none;
    auto read = [&](qint64 id, QVector<TransitSegment> *out) {
        bool stopped = false;
        session.forEachPacket(id, [&](const Packet &p) {
            if (cancel && cancel->load(std::memory_order_relaxed)) {
                stopped = true;
                return false;
            }
            out->append(transitSegment(p));
            return true;
        });
        return !stopped;
    };
    QVector<TransitSegment> pa, pb;
    if (!read(connectionId, &pa) || !read(peerId, &pb)) {
        none.cancelled = true;
        return none;
    }
    TransitOptions options;
    options.sameHost = a->hostId == b->hostId;
    options.clockSlackNs = sessionClockSlack(session, a->hostId, b->hostId);
    return matchPeerTransit(connectionId, pa, peerId, pb, options);
}

QHash<qint64, PeerTransitMark> sessionTransitMarks(const Session &session,
                                                   const std::atomic<bool> *cancel)
{
    QHash<qint64, PeerTransitMark> marks;
    const QHash<qint64, qint64> peers = sessionPeers(session, cancel);
    for (auto it = peers.cbegin(); it != peers.cend(); ++it) {
        if (it.key() > it.value())
            continue; // each pair once
        if (cancel && cancel->load(std::memory_order_relaxed))
            break;
        const PeerTransit t = sessionPeerTransit(session, it.key(), it.value(), cancel);
        marks.insert(t.marks);
    }
    return marks;
}

} // namespace tcpscope
