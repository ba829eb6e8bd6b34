// SPDX-License-Identifier: GPL-3.0-or-later
#include "session/chunk_codec.h"

#include "model/address.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <memory>
#include <zstd.h>

extern "C" {
#include "tcpscope_records.h"
}

namespace tcpscope::chunk {

// The layout is little-endian as the machines tcpscope runs on (x86-64, arm64) are.
static_assert(std::endian::native == std::endian::little);

namespace {

constexpr quint8 kLayout = 1;
constexpr quint8 kKindPackets = 1;
constexpr quint8 kKindSamples = 2;
constexpr int kHeaderBytes = 1 + 1 + 2 + 4 + 8 + 8;
constexpr int kTupleBytes = 1 + 16 + 16 + 2 + 2;
constexpr quint32 kMaxCount = 1 << 20;

// Per-packet bits.
constexpr quint8 kOut = 1;         // direction Out
constexpr quint8 kOwnTuple = 2;    // addresses/ports stored (not the chunk's tuple)
constexpr quint8 kHasInFlight = 4; // bytesInFlight known
constexpr quint8 kHasScaled = 8;   // scaledWindow known
constexpr quint8 kHasAckRtt = 16;  // ackRttNs known
constexpr quint8 kKnownBits = 31;

// An encoded chunk being written: values go in at a cursor, the buffer grows by doubling
// (QByteArray::append per value was a tenth of the session writer's time).
struct Out
{
    QByteArray bytes;
    qsizetype used = 0;

    explicit Out(qsizetype expected) : bytes(std::max<qsizetype>(expected, 64), Qt::Uninitialized)
    {
    }
    char *room(qsizetype n)
    {
        if (used + n > bytes.size())
            bytes.resize(std::max(bytes.size() * 2, used + n));
        char *at = bytes.data() + used;
        used += n;
        return at;
    }
    void append(const char *data, qsizetype n)
    {
        if (n > 0)
            std::memcpy(room(n), data, size_t(n));
    }
    template <typename T> void put(T v) { std::memcpy(room(sizeof v), &v, sizeof v); }
    void put(const std::array<quint8, 16> &a) { std::memcpy(room(16), a.data(), 16); }
    // One column: f(record) for every record, as T.
    template <typename T, typename R, typename F> void column(const QVector<R> &records, F f)
    {
        char *at = room(records.size() * qsizetype(sizeof(T)));
        for (const R &r : records) {
            const T v = static_cast<T>(f(r));
            std::memcpy(at, &v, sizeof v);
            at += sizeof v;
        }
    }
    QByteArray take()
    {
        bytes.resize(used);
        return std::move(bytes);
    }
};

struct In
{
    const char *p;
    qint64 left;

    // n values of T, or null when the buffer is shorter.
    template <typename T> const char *take(qint64 n)
    {
        const qint64 bytes = n * qint64(sizeof(T));
        if (n < 0 || bytes > left)
            return nullptr;
        const char *at = p;
        p += bytes;
        left -= bytes;
        return at;
    }
    template <typename T> bool one(T *out)
    {
        const char *at = take<T>(1);
        if (at)
            std::memcpy(out, at, sizeof(T));
        return at != nullptr;
    }
};

template <typename T> T at(const char *column, qint64 i)
{
    T v;
    std::memcpy(&v, column + i * qint64(sizeof(T)), sizeof(T));
    return v;
}

void putHeader(Out &o, quint8 kind, quint32 count, qint64 firstId, qint64 firstTs)
{
    o.put<quint8>(kLayout);
    o.put<quint8>(kind);
    o.put<quint16>(0);
    o.put<quint32>(count);
    o.put<qint64>(firstId);
    o.put<qint64>(firstTs);
}

bool getHeader(In &in, quint8 kind, quint32 *count, qint64 *firstId, qint64 *firstTs,
               QString *error)
{
    quint8 layout = 0, k = 0;
    quint16 reserved = 0;
    if (!in.one(&layout) || !in.one(&k) || !in.one(&reserved) || !in.one(count) ||
        !in.one(firstId) || !in.one(firstTs)) {
        *error = QStringLiteral("chunk shorter than its header");
        return false;
    }
    if (layout != kLayout || k != kind) {
        *error = QStringLiteral("unknown chunk layout %1/%2").arg(layout).arg(k);
        return false;
    }
    if (*count == 0 || *count > kMaxCount) {
        *error = QStringLiteral("chunk claims %1 records").arg(*count);
        return false;
    }
    return true;
}

// Where a joined packet's addresses come from: the chunk's tuple, oriented by direction.
void derive(const Tuple &t, bool out, Packet *p)
{
    p->srcAddr = out ? t.local : t.remote;
    p->dstAddr = out ? t.remote : t.local;
    p->srcPort = out ? t.localPort : t.remotePort;
    p->dstPort = out ? t.remotePort : t.localPort;
}

bool ownTuple(const Tuple &t, const Packet &p)
{
    if (t.local.isNull())
        return true;
    Packet d;
    derive(t, p.direction == PacketDirection::Out, &d);
    return d.srcAddr != p.srcAddr || d.dstAddr != p.dstAddr || d.srcPort != p.srcPort ||
           d.dstPort != p.dstPort;
}

} // namespace

Tuple tupleOf(const Connection &c)
{
    Tuple t;
    if (!c.localAddr.isNull() && c.remoteAddr.family() == c.localAddr.family()) {
        t.local = c.localAddr;
        t.remote = c.remoteAddr;
        t.localPort = c.localPort;
        t.remotePort = c.remotePort;
    } else {
        t = {};
    }
    return t;
}

QByteArray encodePackets(const QVector<Packet> &ps, const Tuple &tuple)
{
    // Fixed columns and the usual options; tuples and payload snapshots grow it.
    Out o(kHeaderBytes + kTupleBytes + ps.size() * 120);
    const qint64 firstId = ps.isEmpty() ? 0 : ps.first().id;
    const qint64 firstTs = ps.isEmpty() ? 0 : ps.first().timeNs;
    putHeader(o, kKindPackets, quint32(ps.size()), firstId, firstTs);
    o.put<quint8>(quint8(tuple.local.family()));
    o.put(tuple.local.bytes());
    o.put(tuple.remote.bytes());
    o.put<quint16>(tuple.localPort);
    o.put<quint16>(tuple.remotePort);
    qint64 prevId = firstId;
    o.column<quint32>(ps, [&prevId](const Packet &p) {
        const qint64 d = p.id - prevId;
        prevId = p.id;
        return d;
    });
    quint64 prevTs = quint64(firstTs);
    o.column<quint64>(ps, [&prevTs](const Packet &p) {
        const quint64 d = quint64(p.timeNs) - prevTs;
        prevTs = quint64(p.timeNs);
        return d;
    });
    o.column<quint8>(ps, [&tuple](const Packet &p) {
        return quint8((p.isOutgoing() ? kOut : 0) | (ownTuple(tuple, p) ? kOwnTuple : 0) |
                      (p.bytesInFlight >= 0 ? kHasInFlight : 0) |
                      (p.scaledWindow >= 0 ? kHasScaled : 0) | (p.ackRttNs >= 0 ? kHasAckRtt : 0));
    });
    // seq/ack against the previous packet of the same direction: steps of one MSS or so.
    quint32 prevSeq[2] = {0, 0}, prevAck[2] = {0, 0};
    o.column<quint32>(ps, [&prevSeq](const Packet &p) {
        const quint32 d = p.seq - prevSeq[p.isOutgoing()];
        prevSeq[p.isOutgoing()] = p.seq;
        return d;
    });
    o.column<quint32>(ps, [&prevAck](const Packet &p) {
        const quint32 d = p.ack - prevAck[p.isOutgoing()];
        prevAck[p.isOutgoing()] = p.ack;
        return d;
    });
    // seq - relSeq is the direction's ISN: the same for every packet of a direction.
    o.column<quint32>(ps, [](const Packet &p) { return p.seq - p.relSeq; });
    o.column<quint32>(ps, [](const Packet &p) { return p.ack - p.relAck; });
    o.column<quint64>(ps, [](const Packet &p) { return p.sockId; });
    o.column<quint32>(ps, [](const Packet &p) { return p.ifindex; });
    o.column<quint8>(ps, [](const Packet &p) { return p.parseStatus; });
    o.column<quint8>(ps, [](const Packet &p) { return p.sockState; });
    o.column<quint8>(ps, [](const Packet &p) { return p.tcpFlags; });
    o.column<quint16>(ps, [](const Packet &p) { return p.window; });
    o.column<quint16>(ps, [](const Packet &p) { return p.urgPtr; });
    o.column<quint32>(ps, [](const Packet &p) { return p.payloadLen; });
    o.column<quint32>(ps, [](const Packet &p) { return p.skbLen; });
    o.column<quint16>(ps, [](const Packet &p) { return p.gsoSegs; });
    o.column<quint16>(ps, [](const Packet &p) { return p.gsoSize; });
    o.column<quint8>(ps, [](const Packet &p) { return p.ttl; });
    o.column<quint8>(ps, [](const Packet &p) { return p.tos; });
    o.column<quint16>(ps, [](const Packet &p) { return p.vlanTci; });
    o.column<quint8>(ps, [](const Packet &p) { return p.vlanDepth; });
    o.column<quint8>(ps, [](const Packet &p) { return p.ipFrag; });
    o.column<quint32>(ps, [](const Packet &p) { return p.ipId; });
    o.column<quint8>(ps, [](const Packet &p) { return p.ipHdrLen; });
    o.column<quint8>(ps, [](const Packet &p) { return p.tcpHdrLen; });
    o.column<quint32>(ps, [](const Packet &p) { return p.analysis; }); // AnalysisFlag bits
    o.column<quint32>(ps, [](const Packet &p) { return p.dupAckNum; });
    // Unknown (-1, or a negative value no analysis can mean) is stored as 0 with its bit clear.
    o.column<qint64>(ps, [](const Packet &p) { return std::max<qint64>(p.bytesInFlight, 0); });
    o.column<qint64>(ps, [](const Packet &p) { return std::max<qint64>(p.scaledWindow, 0); });
    o.column<qint64>(ps, [](const Packet &p) { return std::max<qint64>(p.ackRttNs, 0); });
    auto optLen = [](const Packet &p) {
        return std::min<qsizetype>(p.options.size(), TS_TCP_OPTIONS_MAX);
    };
    auto snapLen = [](const Packet &p) {
        return std::min<qsizetype>(p.payload.size(), TS_SNAP_MAX);
    };
    o.column<quint8>(ps, optLen);
    o.column<quint16>(ps, snapLen);
    for (const Packet &p : ps) {
        if (!ownTuple(tuple, p))
            continue;
        o.put<quint8>(quint8(p.family()));
        o.put(p.srcAddr.bytes());
        o.put(p.dstAddr.bytes());
        o.put<quint16>(p.srcPort);
        o.put<quint16>(p.dstPort);
    }
    for (const Packet &p : ps)
        o.append(p.options.constData(), optLen(p));
    for (const Packet &p : ps)
        o.append(p.payload.constData(), snapLen(p));
    return o.take();
}

bool decodePackets(const QByteArray &raw, qint64 connectionId, QVector<Packet> *out, quint64 *bad,
                   QString *error)
{
    In in{raw.constData(), raw.size()};
    quint32 n = 0;
    qint64 firstId = 0, firstTs = 0;
    if (!getHeader(in, kKindPackets, &n, &firstId, &firstTs, error))
        return false;
    if (firstId < 1 || firstId > (qint64(1) << 52)) { // ids then never overflow below
        *error = QStringLiteral("packet chunk starts at id %1").arg(firstId);
        return false;
    }
    Tuple tuple;
    const char *t = in.take<char>(kTupleBytes);
    if (!t) {
        *error = QStringLiteral("packet chunk shorter than its tuple");
        return false;
    }
    AddressFamily family = AddressFamily::None;
    if (!familyFromNumber(quint8(t[0]), &family)) {
        *error = QStringLiteral("packet chunk with address family %1").arg(quint8(t[0]));
        return false;
    }
    tuple.local = IpAddress(family, reinterpret_cast<const quint8 *>(t + 1));
    tuple.remote = IpAddress(family, reinterpret_cast<const quint8 *>(t + 17));
    std::memcpy(&tuple.localPort, t + 33, 2);
    std::memcpy(&tuple.remotePort, t + 35, 2);
    const char *c[33];
    static constexpr int kSizes[33] = {4, 8, 1, 4, 4, 4, 4, 8, 4, 1, 1, 1, 2, 2, 4, 4, 2,
                                       2, 1, 1, 2, 1, 1, 4, 1, 1, 4, 4, 8, 8, 8, 1, 2};
    for (int i = 0; i < 33; ++i) {
        c[i] = in.take<char>(qint64(n) * kSizes[i]);
        if (!c[i]) {
            *error = QStringLiteral("packet chunk shorter than its %1 columns").arg(n);
            return false;
        }
    }
    qint64 own = 0, optBytes = 0, snapBytes = 0;
    for (qint64 i = 0; i < n; ++i) {
        const quint8 bits = at<quint8>(c[2], i);
        own += (bits & kOwnTuple) ? 1 : 0;
        const quint8 ol = at<quint8>(c[31], i);
        const quint16 sl = at<quint16>(c[32], i);
        if (ol > TS_TCP_OPTIONS_MAX || sl > TS_SNAP_MAX || (bits & ~kKnownBits)) {
            *error = QStringLiteral("packet chunk record %1 has invalid lengths or bits").arg(i);
            return false;
        }
        optBytes += ol;
        snapBytes += sl;
    }
    const char *tuples = in.take<char>(own * kTupleBytes);
    const char *opts = tuples ? in.take<char>(optBytes) : nullptr;
    const char *snaps = opts ? in.take<char>(snapBytes) : nullptr;
    if (!snaps || in.left != 0) {
        *error = QStringLiteral("packet chunk size does not match its contents");
        return false;
    }
    out->reserve(out->size() + n);
    qint64 id = firstId;
    quint64 ts = quint64(firstTs);
    quint32 prevSeq[2] = {0, 0}, prevAck[2] = {0, 0};
    for (qint64 i = 0; i < n; ++i) {
        const quint32 dId = at<quint32>(c[0], i);
        if ((i == 0) != (dId == 0)) {
            *error = QStringLiteral("packet chunk ids are not increasing");
            return false;
        }
        id += dId;
        ts += at<quint64>(c[1], i);
        const quint8 bits = at<quint8>(c[2], i);
        const bool outgoing = bits & kOut;
        Packet p;
        p.id = id;
        p.connectionId = connectionId;
        p.timeNs = qint64(ts);
        if (p.timeNs < 0) {
            ++*bad;
            p.timeNs = 0;
        }
        p.direction = outgoing ? PacketDirection::Out : PacketDirection::In;
        prevSeq[outgoing] += at<quint32>(c[3], i);
        prevAck[outgoing] += at<quint32>(c[4], i);
        p.seq = prevSeq[outgoing];
        p.ack = prevAck[outgoing];
        p.relSeq = p.seq - at<quint32>(c[5], i);
        p.relAck = p.ack - at<quint32>(c[6], i);
        p.sockId = at<quint64>(c[7], i);
        p.ifindex = at<quint32>(c[8], i);
        p.parseStatus = at<quint8>(c[9], i);
        if (p.parseStatus > TS_PARSE_TRUNC_OPTIONS) {
            ++*bad;
            p.parseStatus = TS_PARSE_OK;
        }
        p.sockState = at<quint8>(c[10], i);
        if (p.sockState > quint8(TcpState::NewSynRecv)) {
            ++*bad;
            p.sockState = 0;
        }
        p.tcpFlags = at<quint8>(c[11], i);
        p.window = at<quint16>(c[12], i);
        p.urgPtr = at<quint16>(c[13], i);
        p.payloadLen = at<quint32>(c[14], i);
        p.skbLen = at<quint32>(c[15], i);
        p.gsoSegs = at<quint16>(c[16], i);
        p.gsoSize = at<quint16>(c[17], i);
        p.ttl = at<quint8>(c[18], i);
        p.tos = at<quint8>(c[19], i);
        p.vlanTci = at<quint16>(c[20], i);
        p.vlanDepth = at<quint8>(c[21], i);
        p.ipFrag = at<quint8>(c[22], i);
        if (p.ipFrag > 7) {
            ++*bad;
            p.ipFrag = 0;
        }
        p.ipId = at<quint32>(c[23], i);
        p.ipHdrLen = at<quint8>(c[24], i);
        p.tcpHdrLen = at<quint8>(c[25], i);
        p.analysis = at<quint32>(c[26], i);
        if (p.analysis & ~kAnalysisFlagsAll) {
            ++*bad;
            p.analysis &= kAnalysisFlagsAll;
        }
        p.dupAckNum = at<quint32>(c[27], i);
        auto optional = [&](int col, quint8 bit) -> qint64 {
            const qint64 v = at<qint64>(c[col], i);
            if (!(bits & bit))
                return -1;
            if (v < 0) {
                ++*bad;
                return -1;
            }
            return v;
        };
        p.bytesInFlight = optional(28, kHasInFlight);
        p.scaledWindow = optional(29, kHasScaled);
        if (p.scaledWindow > (qint64(65535) << 14)) {
            ++*bad;
            p.scaledWindow = -1;
        }
        p.ackRttNs = optional(30, kHasAckRtt);
        const quint8 ol = at<quint8>(c[31], i);
        const quint16 sl = at<quint16>(c[32], i);
        p.options = TcpOptionBytes(opts, ol);
        opts += ol;
        p.payload = QByteArray(snaps, sl);
        snaps += sl;
        if (bits & kOwnTuple) {
            AddressFamily f = AddressFamily::None;
            const auto *bytes = reinterpret_cast<const quint8 *>(tuples);
            familyFromNumber(bytes[0], &f);
            p.srcAddr = IpAddress(f, bytes + 1);
            p.dstAddr = IpAddress(f, bytes + 17);
            std::memcpy(&p.srcPort, tuples + 33, 2);
            std::memcpy(&p.dstPort, tuples + 35, 2);
            tuples += kTupleBytes;
            if (f == AddressFamily::None) { // no family: the packet cannot be shown
                ++*bad;
                continue;
            }
        } else if (tuple.local.isNull()) {
            *error = QStringLiteral("packet chunk record %1 has no addresses").arg(i);
            return false;
        } else {
            derive(tuple, outgoing, &p);
        }
        out->append(std::move(p));
    }
    return true;
}

QByteArray encodeSamples(const QVector<TcpSample> &ss)
{
    Out o(kHeaderBytes + ss.size() * (8 + 2 + 1 + 14 * 4 + 3 * 8));
    const qint64 firstTs = ss.isEmpty() ? 0 : ss.first().timeNs;
    putHeader(o, kKindSamples, quint32(ss.size()), 0, firstTs);
    quint64 prevTs = quint64(firstTs);
    o.column<quint64>(ss, [&prevTs](const TcpSample &s) {
        const quint64 d = quint64(s.timeNs) - prevTs;
        prevTs = quint64(s.timeNs);
        return d;
    });
    o.column<quint16>(ss, [](const TcpSample &s) { return s.fields; });
    o.column<quint8>(ss, [](const TcpSample &s) { return s.caState; });
    for (quint32 TcpSample::*m :
         {&TcpSample::srttUs, &TcpSample::rttvarUs, &TcpSample::minRttUs, &TcpSample::cwnd,
          &TcpSample::ssthresh, &TcpSample::sndWnd, &TcpSample::rcvWnd, &TcpSample::packetsOut,
          &TcpSample::retransOut, &TcpSample::lostOut, &TcpSample::sackedOut, &TcpSample::inFlight,
          &TcpSample::mss, &TcpSample::totalRetrans})
        o.column<quint32>(ss, [m](const TcpSample &s) { return s.*m; });
    for (quint64 TcpSample::*m :
         {&TcpSample::bytesAcked, &TcpSample::bytesReceived, &TcpSample::deliveryRate})
        o.column<quint64>(ss, [m](const TcpSample &s) { return s.*m; });
    return o.take();
}

bool decodeSamples(const QByteArray &raw, qint64 connectionId, QVector<TcpSample> *out,
                   quint64 *bad, QString *error)
{
    In in{raw.constData(), raw.size()};
    quint32 n = 0;
    qint64 firstId = 0, firstTs = 0;
    if (!getHeader(in, kKindSamples, &n, &firstId, &firstTs, error))
        return false;
    const char *ts = in.take<quint64>(n);
    const char *fields = in.take<quint16>(n);
    const char *ca = in.take<quint8>(n);
    const char *u32s = in.take<quint32>(qint64(n) * 14);
    const char *u64s = in.take<quint64>(qint64(n) * 3);
    if (!ts || !fields || !ca || !u32s || !u64s || in.left != 0) {
        *error = QStringLiteral("sample chunk size does not match its %1 records").arg(n);
        return false;
    }
    quint32 TcpSample::*const m32[14] = {
        &TcpSample::srttUs,  &TcpSample::rttvarUs,    &TcpSample::minRttUs,
        &TcpSample::cwnd,    &TcpSample::ssthresh,    &TcpSample::sndWnd,
        &TcpSample::rcvWnd,  &TcpSample::packetsOut,  &TcpSample::retransOut,
        &TcpSample::lostOut, &TcpSample::sackedOut,   &TcpSample::inFlight,
        &TcpSample::mss,     &TcpSample::totalRetrans};
    quint64 TcpSample::*const m64[3] = {&TcpSample::bytesAcked, &TcpSample::bytesReceived,
                                        &TcpSample::deliveryRate};
    out->reserve(out->size() + n);
    quint64 t = quint64(firstTs);
    for (qint64 i = 0; i < n; ++i) {
        t += at<quint64>(ts, i);
        TcpSample s;
        s.connectionId = connectionId;
        s.timeNs = qint64(t);
        if (s.timeNs < 0) {
            ++*bad;
            s.timeNs = 0;
        }
        s.fields = at<quint16>(fields, i);
        for (int k = 0; k < 14; ++k)
            s.*m32[k] = at<quint32>(u32s, qint64(k) * n + i);
        for (int k = 0; k < 3; ++k)
            s.*m64[k] = at<quint64>(u64s, qint64(k) * n + i);
        if (s.mss > 65535) {
            ++*bad;
            s.mss = 0;
        }
        s.caState = at<quint8>(ca, i);
        if (s.caState > 4) { // no such congestion state: the sample is left out
            ++*bad;
            continue;
        }
        out->append(s);
    }
    return true;
}

QByteArray compress(const QByteArray &raw, Codec codec)
{
    if (codec == CodecNone)
        return raw;
    // One compression context per thread, reused: ZSTD_compress() would allocate and set up a
    // fresh one per chunk, which costs more than compressing a short connection's few packets.
    // Same level and parameters, so the output is byte for byte what ZSTD_compress() makes.
    thread_local const std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx *)> context(
        ZSTD_createCCtx(), ZSTD_freeCCtx);
    QByteArray out(qsizetype(ZSTD_compressBound(size_t(raw.size()))), Qt::Uninitialized);
    const size_t n = context ? ZSTD_compressCCtx(context.get(), out.data(), size_t(out.size()),
                                                 raw.constData(), size_t(raw.size()), kZstdLevel)
                             : ZSTD_compress(out.data(), size_t(out.size()), raw.constData(),
                                             size_t(raw.size()), kZstdLevel);
    if (ZSTD_isError(n))
        return raw; // cannot happen with a bound-sized buffer; stored uncompressed would be wrong
    out.resize(qsizetype(n));
    return out;
}

bool decompress(const QByteArray &data, int codec, qint64 rawBytes, QByteArray *out, QString *error)
{
    if (rawBytes <= 0 || rawBytes > kMaxRawBytes) {
        *error = QStringLiteral("chunk claims %1 bytes").arg(rawBytes);
        return false;
    }
    if (codec == CodecNone) {
        if (data.size() != rawBytes) {
            *error = QStringLiteral("uncompressed chunk of %1 bytes, expected %2")
                         .arg(data.size())
                         .arg(rawBytes);
            return false;
        }
        *out = data;
        return true;
    }
    if (codec != CodecZstd) {
        *error = QStringLiteral("chunk codec %1 is unknown").arg(codec);
        return false;
    }
    const unsigned long long size = ZSTD_getFrameContentSize(data.constData(), size_t(data.size()));
    if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN ||
        size != quint64(rawBytes)) {
        *error = QStringLiteral("compressed chunk is damaged (its size does not match)");
        return false;
    }
    out->resize(qsizetype(rawBytes));
    const size_t n =
        ZSTD_decompress(out->data(), size_t(rawBytes), data.constData(), size_t(data.size()));
    if (ZSTD_isError(n) || qint64(n) != rawBytes) {
        *error = QStringLiteral("compressed chunk is damaged (%1)")
                     .arg(QString::fromLatin1(ZSTD_isError(n) ? ZSTD_getErrorName(n) : "short"));
        return false;
    }
    return true;
}

} // namespace tcpscope::chunk
