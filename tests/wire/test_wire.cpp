// SPDX-License-Identifier: GPL-3.0-or-later
// Wire format: round trips of every message, batching at the size limit, incremental decoding,
// and rejection of every malformed input class the decoder is supposed to catch.
#include "wire.h"

#include <QTest>

#include <cstring>

using namespace tcpscope::wire;
using Bytes = std::vector<std::uint8_t>;

namespace {

ts_state_change makeState(std::uint64_t id)
{
    ts_state_change s{};
    s.hdr.type = TS_REC_STATE_CHANGE;
    s.hdr.size = sizeof s;
    s.hdr.cpu = 1;
    s.hdr.ts_ns = 1000 + id;
    s.sock_id = id;
    s.pid = 4242;
    s.family = 10;
    s.sport = 8080;
    s.dport = 51000;
    s.oldstate = 2;
    s.newstate = 1;
    s.owner_source = TS_OWNER_LISTENER;
    s.saddr[15] = 1;
    std::memcpy(s.comm, "ts_server", 10);
    return s;
}

ts_close_stats makeClose(std::uint64_t id)
{
    ts_close_stats c{};
    c.hdr.type = TS_REC_CLOSE_STATS;
    c.hdr.size = sizeof c;
    c.sock_id = id;
    c.bytes_acked = 100000;
    c.bytes_received = 54321;
    c.sk_err = 111;
    c.oldstate = 9;
    return c;
}

template <typename T> std::span<const std::uint8_t> asBytes(const T &v)
{
    return {reinterpret_cast<const std::uint8_t *>(&v), sizeof v};
}

// Splits an encoded frame into (type, payload) through the real decoder.
Frame decodeOne(const Bytes &encoded)
{
    FrameDecoder d;
    d.feed(encoded);
    Frame f;
    if (d.next(f) != FrameDecoder::Status::Frame)
        qFatal("decodeOne: %s", d.error().c_str());
    if (d.buffered() != 0)
        qFatal("decodeOne: trailing bytes");
    return f;
}

Bytes header(std::uint32_t len, std::uint16_t type, std::uint16_t flags)
{
    Bytes h(8);
    for (int i = 0; i < 4; ++i)
        h[i] = std::uint8_t(len >> (8 * i));
    h[4] = std::uint8_t(type);
    h[5] = std::uint8_t(type >> 8);
    h[6] = std::uint8_t(flags);
    h[7] = std::uint8_t(flags >> 8);
    return h;
}

Hello sampleHello()
{
    Hello h;
    h.monotonicNs = 123456789;
    h.realtimeNs = 1764300000000000000ull;
    h.kernelRelease = "6.18.44-fc";
    h.hostname = "box";
    h.probes = {{"inet_sock_set_state", "tp_btf", ""},
                {"inet_sock_set_state", "tracepoint", "forced by --force-tracepoint"}};
    return h;
}

HostOwners sampleOwners()
{
    HostOwners o;
    o.cgroups = {{1, "/"},
                 {4242, "/system.slice"},
                 {4243, "/system.slice/nginx.service"},
                 {9000000001ull, "/kubepods.slice/kubepods-burstable.slice"}};
    o.netns = {{4026532001u, "blue"}, {4026532002u, "red"}};
    return o;
}

StartOptions ownerStart()
{
    StartOptions o;
    o.cgroupIds = {4243, 9000000001ull};
    o.netnsInodes = {4026532001u};
    o.pids = {1, 4194304};
    o.comms = {"nginx", "0123456789abcde"};
    return o;
}

} // namespace

class TestWire : public QObject
{
    Q_OBJECT
private slots:
    void recordSizesArePinned()
    {
        QCOMPARE(sizeof(ts_record_header), std::size_t(16));
        QCOMPARE(sizeof(ts_state_change), std::size_t(120));
        QCOMPARE(sizeof(ts_close_stats), std::size_t(72));
    }

    void frameHeaderIsLittleEndian()
    {
        const Bytes f = encodeTextError("x");
        QCOMPARE(f.size(), std::size_t(8 + 4 + 1));
        QCOMPARE(f[0], std::uint8_t(5)); // length 5 (u32 len + 1 byte)
        QCOMPARE(f[1], std::uint8_t(0));
        QCOMPARE(f[4], std::uint8_t(MessageType::TextError));
        QCOMPARE(f[6], std::uint8_t(0));
    }

    void helloRoundTrip()
    {
        const Hello in = sampleHello();
        const Frame f = decodeOne(encodeHello(in));
        QCOMPARE(f.type, MessageType::Hello);
        std::string err;
        const auto out = decodeHello(f.payload, err);
        QVERIFY2(out, err.c_str());
        QCOMPARE(out->protocolVersion, kProtocolVersion);
        QCOMPARE(out->recordVersion, std::uint16_t(TS_RECORD_VERSION));
        QCOMPARE(out->monotonicNs, in.monotonicNs);
        QCOMPARE(out->realtimeNs, in.realtimeNs);
        QCOMPARE(out->kernelRelease, in.kernelRelease);
        QCOMPARE(out->hostname, in.hostname);
        QCOMPARE(out->probes.size(), std::size_t(2));
        QCOMPARE(out->probes[1].detail, in.probes[1].detail);
        QCOMPARE(out->probes[0].status, std::string("tp_btf"));
    }

    void startStopErrorStatsRoundTrip()
    {
        std::string err;
        Frame f = decodeOne(encodeStart({}));
        QCOMPARE(f.type, MessageType::Start);
        QVERIFY(decodeStart(f.payload, err));
        f = decodeOne(encodeStop());
        QCOMPARE(f.type, MessageType::Stop);
        QVERIFY(f.payload.empty());
        QVERIFY(decodeStop(f.payload, err));
        f = decodeOne(encodeTextError("peer uid 1000 not allowed"));
        QCOMPARE(f.type, MessageType::TextError);
        QCOMPARE(*decodeTextError(f.payload, err), std::string("peer uid 1000 not allowed"));
        Stats s;
        s.monotonicNs = 77;
        s.recordsSent = 1234;
        s.missedRuns = 0x0102030405060708ull; // every byte distinct: catches a misplaced field
        s.lostPerCpu = {0, 5, 7};
        f = decodeOne(encodeStats(s));
        QCOMPARE(f.type, MessageType::Stats);
        const auto out = decodeStats(f.payload, err);
        QVERIFY2(out, err.c_str());
        QCOMPARE(out->monotonicNs, std::uint64_t(77));
        QCOMPARE(out->recordsSent, std::uint64_t(1234));
        QCOMPARE(out->missedRuns, s.missedRuns);
        QCOMPARE(out->lostPerCpu, s.lostPerCpu);
        // Ring buffer losses only; skipped program runs are reported beside them.
        QCOMPARE(out->lostTotal(), std::uint64_t(12));
    }

    // The Stats payload layout, byte by byte, so helper and app cannot drift apart silently.
    void statsLayoutIsPinned()
    {
        Stats s;
        s.monotonicNs = 1;
        s.recordsSent = 2;
        s.missedRuns = 3;
        s.lostPerCpu = {4};
        s.packetLostPerCpu = {5, 6};
        s.packetsFiltered = 7;
        s.readerDropped = 9;
        const Bytes p = decodeOne(encodeStats(s)).payload;
        QCOMPARE(p.size(), std::size_t(8 + 8 + 8 + 4 + 8 + 4 + 16 + 8 + 8));
        QCOMPARE(p[36], std::uint8_t(2)); // packet loss CPU count after the lifecycle counters
        QCOMPARE(p[40], std::uint8_t(5));
        QCOMPARE(p[48], std::uint8_t(6));
        QCOMPARE(p[56], std::uint8_t(7)); // packetsFiltered
        QCOMPARE(p[64], std::uint8_t(9)); // readerDropped last
        std::string perr;
        const auto back = decodeStats(p, perr);
        QVERIFY2(back.has_value(), perr.c_str());
        QCOMPARE(back->packetLostPerCpu, s.packetLostPerCpu);
        QCOMPARE(back->packetsFiltered, std::uint64_t(7));
        QCOMPARE(back->readerDropped, std::uint64_t(9));
        QCOMPARE(back->lostTotal(), std::uint64_t(4 + 5 + 6));
        QCOMPARE(back->packetLostTotal(), std::uint64_t(11));
        QCOMPARE(p[0], std::uint8_t(1));
        QCOMPARE(p[8], std::uint8_t(2));
        QCOMPARE(p[16], std::uint8_t(3)); // missedRuns after recordsSent
        QCOMPARE(p[24], std::uint8_t(1)); // CPU count
        QCOMPARE(p[28], std::uint8_t(4));
        // A payload of an older layout (here: without missedRuns, 2 CPUs) does not parse.
        Bytes old(p.begin(), p.begin() + 16);
        old.insert(old.end(), {2, 0, 0, 0});
        old.resize(old.size() + 16, 1);
        std::string err;
        QVERIFY(!decodeStats(old, err));
        QVERIFY(!err.empty());
        // Zero CPUs is valid (a helper that cannot read the counters still reports skipped runs).
        s.lostPerCpu.clear();
        s.packetLostPerCpu.clear();
        const auto out = decodeStats(decodeOne(encodeStats(s)).payload, err);
        QVERIFY2(out, err.c_str());
        QCOMPARE(out->missedRuns, std::uint64_t(3));
        QCOMPARE(out->lostTotal(), std::uint64_t(0));
    }

    void oversizeStringsAreTruncatedOnEncode()
    {
        const std::string big(kMaxString + 100, 'e');
        std::string err;
        const auto out = decodeTextError(decodeOne(encodeTextError(big)).payload, err);
        QVERIFY2(out, err.c_str());
        QCOMPARE(out->size(), kMaxString);
        const auto typed =
            decodeError(decodeOne(encodeError({ErrorCode::Internal, big, big, {}})).payload, err);
        QVERIFY2(typed, err.c_str());
        QCOMPARE(typed->primary.size(), kMaxString);
        QCOMPARE(typed->secondary.size(), kMaxString);
        const auto log =
            decodeLog(decodeOne(encodeLog({LogMessage::Level::Info, big})).payload, err);
        QVERIFY2(log, err.c_str());
        QCOMPARE(log->text.size(), kMaxString);
    }

    void errorRoundTrip()
    {
        std::string err;
        const ErrorMessage plain{ErrorCode::PacketsUnavailable,
                                 "cannot capture packets",
                                 "could not attach to any network interface",
                                 {}};
        Frame f = decodeOne(encodeError(plain));
        QCOMPARE(f.type, MessageType::Error);
        auto out = decodeError(f.payload, err);
        QVERIFY2(out, err.c_str());
        QVERIFY(*out == plain);
        QCOMPARE(out->text(), std::string("cannot capture packets (could not attach to any "
                                          "network interface)"));
        // Layout: u16 code | string | string | u8 list | u16 index.
        QCOMPARE(f.payload[0], std::uint8_t(7));
        QCOMPARE(f.payload.size(),
                 std::size_t(2 + 4 + plain.primary.size() + 4 + plain.secondary.size() + 1 + 2));
        const ErrorMessage filter{ErrorCode::BadFilter, "the capture filter is invalid",
                                  "filter network 3: address bits set beyond the prefix length",
                                  FilterPosition{FilterPosition::List::Nets, 3}};
        out = decodeError(decodeOne(encodeError(filter)).payload, err);
        QVERIFY2(out, err.c_str());
        QVERIFY(*out == filter);
        // Without secondary text, the primary alone.
        out = decodeError(
            decodeOne(encodeError({ErrorCode::Permission, "refusing client", "", {}})).payload,
            err);
        QVERIFY2(out, err.c_str());
        QCOMPARE(out->text(), std::string("refusing client"));
        // A code this build does not know is kept as its value, not refused: a newer helper's
        // reason is still shown (and decides nothing).
        Bytes p = decodeOne(encodeError(plain)).payload;
        p[0] = 0xe7;
        p[1] = 0x03; // 999
        out = decodeError(p, err);
        QVERIFY2(out, err.c_str());
        QCOMPARE(static_cast<std::uint16_t>(out->code), std::uint16_t(999));
        QCOMPARE(errorCodeName(out->code), std::string("unknown(999)"));
        QCOMPARE(errorCodeName(ErrorCode::TcpInfoUnavailable), std::string("TcpInfoUnavailable"));
    }

    void malformedErrorsRejected()
    {
        std::string err;
        const ErrorMessage base{ErrorCode::BadFilter, "bad", "worse",
                                FilterPosition{FilterPosition::List::Ports, 1}};
        const Bytes good = decodeOne(encodeError(base)).payload;
        const std::size_t listAt = good.size() - 3;
        // Primary length claiming 4 GiB; secondary longer than the payload.
        Bytes p = good;
        p[2] = p[3] = p[4] = p[5] = 0xff;
        QVERIFY(!decodeError(p, err));
        QVERIFY2(QString::fromStdString(err).contains("exceeds limit"), err.c_str());
        p = good;
        p[2 + 4 + 3] = 200; // secondary length
        err.clear();
        QVERIFY(!decodeError(p, err));
        QVERIFY(!err.empty());
        // Unknown filter list; index at or beyond the list's limit; index without a list.
        p = good;
        p[listAt] = 8;
        err.clear();
        QVERIFY(!decodeError(p, err));
        QVERIFY2(QString::fromStdString(err).contains("filter list"), err.c_str());
        p = good;
        p[listAt + 1] = std::uint8_t(kMaxFilterPorts);
        err.clear();
        QVERIFY(!decodeError(p, err));
        QVERIFY2(QString::fromStdString(err).contains("limit"), err.c_str());
        p = good;
        p[listAt] = 0;
        err.clear();
        QVERIFY(!decodeError(p, err));
        QVERIFY2(QString::fromStdString(err).contains("without a filter list"), err.c_str());
        // Empty primary text (the encoder never sends one).
        Bytes empty = {4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
        err.clear();
        QVERIFY(!decodeError(empty, err));
        QVERIFY2(QString::fromStdString(err).contains("empty"), err.c_str());
        QVERIFY(!decodeOne(encodeError({ErrorCode::Internal, "", "", {}})).payload.empty());
        QVERIFY(
            decodeError(decodeOne(encodeError({ErrorCode::Internal, "", "", {}})).payload, err));
        // Trailing bytes.
        p = good;
        p.push_back(0);
        err.clear();
        QVERIFY(!decodeError(p, err));
        QVERIFY(QString::fromStdString(err).contains("trailing"));
    }

    void logRoundTripAndRejections()
    {
        std::string err;
        const LogMessage warn{LogMessage::Level::Warning, "cannot attach to eth9: No such device"};
        Frame f = decodeOne(encodeLog(warn));
        QCOMPARE(f.type, MessageType::Log);
        auto out = decodeLog(f.payload, err);
        QVERIFY2(out, err.c_str());
        QVERIFY(*out == warn);
        out = decodeLog(decodeOne(encodeLog({LogMessage::Level::Info, "x"})).payload, err);
        QVERIFY2(out, err.c_str());
        QCOMPARE(out->level, LogMessage::Level::Info);
        // Levels other than info (1) and warning (2).
        for (std::uint8_t level : {0, 3, 255}) {
            Bytes p = f.payload;
            p[0] = level;
            err.clear();
            QVERIFY(!decodeLog(p, err));
            QVERIFY2(QString::fromStdString(err).contains("level"), err.c_str());
        }
        // Text length beyond the limit, beyond the payload; empty text; trailing bytes.
        Bytes p = f.payload;
        p[1] = p[2] = p[3] = p[4] = 0xff;
        err.clear();
        QVERIFY(!decodeLog(p, err));
        p = f.payload;
        p[1] += 1;
        err.clear();
        QVERIFY(!decodeLog(p, err));
        err.clear();
        QVERIFY(!decodeLog(Bytes{2, 0, 0, 0, 0}, err));
        QVERIFY2(QString::fromStdString(err).contains("empty"), err.c_str());
        p = f.payload;
        p.push_back('x');
        err.clear();
        QVERIFY(!decodeLog(p, err));
        err.clear();
        QVERIFY(!decodeLog(Bytes{}, err));
    }

    // The handshake's one version rule, in both directions, with the words the user sees.
    void olderProtocolRefusedClearly()
    {
        QCOMPARE(kProtocolVersion, std::uint16_t(6));
        std::string err;
        Bytes hello = decodeOne(encodeHello(sampleHello())).payload;
        hello[8] = 4; // a protocol 4 helper
        QVERIFY(!decodeHello(hello, err));
        QCOMPARE(err, std::string("tcpscope-helper speaks protocol 4, this tcpscope needs 6: "
                                  "install matching versions of tcpscope and tcpscope-helper"));
        QCOMPARE(checkPeerVersions(hello, Peer::Helper), err);
        Bytes start = decodeOne(encodeStart({})).payload;
        start[8] = 4; // a protocol 4 app
        ErrorMessage refusal;
        err.clear();
        QVERIFY(!decodeStart(start, err, &refusal));
        QCOMPARE(err, std::string("tcpscope speaks protocol 4, this tcpscope-helper needs 6: "
                                  "install matching versions of tcpscope and tcpscope-helper"));
        // Answered with a TextError (what a protocol 4 peer reads), so no code.
        QCOMPARE(refusal.code, ErrorCode::Unspecified);
        // A protocol 4 peer decodes the refusal frame as its own Error: type 6, u32 + text.
        const Bytes frame = encodeTextError(err);
        QCOMPARE(frame[4], std::uint8_t(6));
        QCOMPARE(frame.size(), std::size_t(8 + 4 + err.size()));
        // Matching versions pass; a record version mismatch is named as such.
        QVERIFY(checkPeerVersions(decodeOne(encodeStart({})).payload, Peer::App).empty());
        start = decodeOne(encodeStart({})).payload;
        start[10] = TS_RECORD_VERSION + 1;
        QVERIFY(QString::fromStdString(checkPeerVersions(start, Peer::App))
                    .startsWith("tcpscope uses record version"));
        // Too short or not tcpscope: left to the full decoder.
        QVERIFY(checkPeerVersions(std::span(start).first(9), Peer::App).empty());
    }

    void startRefusalsAreTyped()
    {
        std::string err;
        ErrorMessage refusal;
        StartOptions o;
        o.nets.push_back(NetFilter{4, 8, {10, 0, 0, 0}});
        o.nets.push_back(NetFilter{4, 8, {10, 0, 0, 1}}); // bits beyond the prefix
        QVERIFY(!decodeStart(decodeOne(encodeStart(o)).payload, err, &refusal));
        QCOMPARE(refusal.code, ErrorCode::BadFilter);
        QVERIFY(refusal.filterPosition);
        QCOMPARE(refusal.filterPosition->list, FilterPosition::List::Nets);
        QCOMPARE(refusal.filterPosition->index, std::uint16_t(1));
        QVERIFY2(QString::fromStdString(refusal.secondary).contains("filter network 1"),
                 refusal.secondary.c_str());
        // It travels: the helper sends exactly this.
        const auto sent = decodeError(decodeOne(encodeError(refusal)).payload, err);
        QVERIFY2(sent, err.c_str());
        QVERIFY(*sent == refusal);
        o = {};
        o.interfaces = {"lo", "bad/name"};
        QVERIFY(!decodeStart(decodeOne(encodeStart(o)).payload, err, &refusal));
        QCOMPARE(refusal.code, ErrorCode::BadFilter);
        QCOMPARE(refusal.filterPosition, (FilterPosition{FilterPosition::List::Interfaces, 1}));
        o = {};
        o.snapLen = 10; // without the payload flag
        QVERIFY(!decodeStart(decodeOne(encodeStart(o)).payload, err, &refusal));
        QCOMPARE(refusal.code, ErrorCode::BadStart);
        QVERIFY(!refusal.filterPosition);
        Bytes p = decodeOne(encodeStart({})).payload;
        p.pop_back();
        QVERIFY(!decodeStart(p, err, &refusal));
        QCOMPARE(refusal.code, ErrorCode::Protocol);
        p[0] = 'X';
        QVERIFY(!decodeStart(p, err, &refusal));
        QCOMPARE(refusal.code, ErrorCode::Protocol);
    }

    void recordsRoundTrip()
    {
        RecordBatcher b;
        const ts_state_change s = makeState(7);
        const ts_close_stats c = makeClose(7);
        QVERIFY(b.add(asBytes(s)));
        QVERIFY(b.add(asBytes(c)));
        QCOMPARE(b.count(), std::size_t(2));
        const Frame f = decodeOne(b.takeFrame());
        QVERIFY(b.empty());
        QVERIFY(b.takeFrame().empty());
        QCOMPARE(f.type, MessageType::Records);
        std::vector<Record> got;
        std::string err;
        std::size_t skipped = 0;
        QVERIFY(forEachRecord(
            f.payload, [&](const Record &r) { got.push_back(r); }, err, &skipped));
        QCOMPARE(got.size(), std::size_t(2));
        QCOMPARE(skipped, std::size_t(0));
        QCOMPARE(got[0].type, std::uint16_t(TS_REC_STATE_CHANGE));
        QVERIFY(std::memcmp(&got[0].stateChange, &s, sizeof s) == 0);
        QCOMPARE(got[1].type, std::uint16_t(TS_REC_CLOSE_STATS));
        QVERIFY(std::memcmp(&got[1].closeStats, &c, sizeof c) == 0);
    }

    void batcherRejectsMalformedRecords()
    {
        RecordBatcher b;
        ts_state_change s = makeState(1);
        QVERIFY(!b.add(asBytes(s).first(8))); // shorter than a header
        s.hdr.size = 64;                      // header disagrees with sample length
        QVERIFY(!b.add(asBytes(s)));
        QVERIFY(b.empty());
    }

    void batcherSplitsAtMaxPayload()
    {
        RecordBatcher b;
        const ts_state_change s = makeState(1);
        const std::size_t perFrame = kMaxPayload / sizeof s;
        const std::size_t total = perFrame * 2 + 17;
        for (std::size_t i = 0; i < total; ++i) {
            ts_state_change r = s;
            r.sock_id = i;
            QVERIFY(b.add(asBytes(r)));
        }
        QVERIFY(b.hasSealedFrame());
        QCOMPARE(b.count(), total);
        std::size_t frames = 0, seen = 0;
        std::uint64_t expectId = 0;
        while (!b.empty()) {
            const Bytes enc = b.takeFrame();
            QVERIFY(enc.size() <= kHeaderSize + kMaxPayload);
            const Frame f = decodeOne(enc);
            std::string err;
            QVERIFY(forEachRecord(
                f.payload,
                [&](const Record &r) {
                    QCOMPARE(r.stateChange.sock_id, expectId);
                    ++expectId;
                    ++seen;
                },
                err));
            ++frames;
        }
        QCOMPARE(frames, std::size_t(3));
        QCOMPARE(seen, total);
    }

    void decoderByteByByte()
    {
        Bytes stream;
        auto append = [&](const Bytes &f) { stream.insert(stream.end(), f.begin(), f.end()); };
        append(encodeHello(sampleHello()));
        append(encodeStart({}));
        RecordBatcher b;
        b.add(asBytes(makeState(3)));
        append(b.takeFrame());
        append(encodeStop());
        FrameDecoder d;
        std::vector<MessageType> types;
        for (std::uint8_t byte : stream) {
            d.feed({&byte, 1});
            Frame f;
            FrameDecoder::Status st;
            while ((st = d.next(f)) == FrameDecoder::Status::Frame)
                types.push_back(f.type);
            QVERIFY2(st == FrameDecoder::Status::NeedMore, d.error().c_str());
        }
        QCOMPARE(types, (std::vector<MessageType>{MessageType::Hello, MessageType::Start,
                                                  MessageType::Records, MessageType::Stop}));
        QCOMPARE(d.buffered(), std::size_t(0));
    }

    void decoderRejectsBadHeaders_data()
    {
        QTest::addColumn<quint32>("length");
        QTest::addColumn<quint16>("type");
        QTest::addColumn<quint16>("flags");
        QTest::addColumn<QString>("reason");
        QTest::newRow("oversize") << quint32(kMaxPayload + 1) << quint16(4) << quint16(0)
                                  << "exceeds";
        QTest::newRow("huge") << quint32(0xffffffffu) << quint16(4) << quint16(0) << "exceeds";
        QTest::newRow("type0") << quint32(0) << quint16(0) << quint16(0) << "unknown message";
        QTest::newRow("type12") << quint32(0) << quint16(12) << quint16(0) << "unknown message";
        QTest::newRow("type65535")
            << quint32(4) << quint16(0xffff) << quint16(0) << "unknown message";
        QTest::newRow("flags") << quint32(0) << quint16(3) << quint16(1) << "flags";
        QTest::newRow("flagsHigh") << quint32(0) << quint16(3) << quint16(0x8000) << "flags";
    }
    void decoderRejectsBadHeaders()
    {
        QFETCH(quint32, length);
        QFETCH(quint16, type);
        QFETCH(quint16, flags);
        QFETCH(QString, reason);
        FrameDecoder d;
        d.feed(header(length, type, flags)); // no payload: rejected on the header alone
        Frame f;
        QCOMPARE(d.next(f), FrameDecoder::Status::Error);
        QVERIFY2(QString::fromStdString(d.error()).contains(reason), d.error().c_str());
        // Sticky: a poisoned decoder never yields frames again.
        d.feed(encodeStop());
        QCOMPARE(d.next(f), FrameDecoder::Status::Error);
    }

    void decoderWaitsForPartialPayload()
    {
        const Bytes f = encodeTextError("abc");
        FrameDecoder d;
        d.feed(std::span(f).first(f.size() - 1));
        Frame out;
        QCOMPARE(d.next(out), FrameDecoder::Status::NeedMore);
        d.feed(std::span(f).last(1));
        QCOMPARE(d.next(out), FrameDecoder::Status::Frame);
    }

    // Every strict prefix of every control payload must be rejected, never crash.
    void ownerTermsInStart()
    {
        std::string err;
        const StartOptions o = ownerStart();
        QVERIFY(o.hasOwnerTerms());
        QVERIFY(!StartOptions{}.hasOwnerTerms());
        const Frame f = decodeOne(encodeStart(o));
        auto out = decodeStart(f.payload, err);
        QVERIFY2(out, err.c_str());
        QVERIFY(*out == o);
        // The owner lists follow maxStallMs: u16 n | n x u64 | u16 n | n x u32 | u16 n |
        // n x u32 | u16 n | n x string.
        const Bytes plain = decodeOne(encodeStart({})).payload;
        QCOMPARE(f.payload.size(), plain.size() + 2 * 8 + 4 + 2 * 4 + (4 + 5) + (4 + 15));
        QCOMPARE(Bytes(plain.end() - 8, plain.end()), Bytes(8, 0)); // four empty lists

        // Each list refuses a zero entry, typed with its position.
        ErrorMessage refusal;
        StartOptions bad = o;
        bad.pids = {7, 0};
        QVERIFY(!decodeStart(decodeOne(encodeStart(bad)).payload, err, &refusal));
        QCOMPARE(refusal.code, ErrorCode::BadFilter);
        QCOMPARE(refusal.filterPosition, (FilterPosition{FilterPosition::List::Pids, 1}));
        bad = o;
        bad.cgroupIds = {0};
        QVERIFY(!decodeStart(decodeOne(encodeStart(bad)).payload, err, &refusal));
        QCOMPARE(refusal.filterPosition, (FilterPosition{FilterPosition::List::Cgroups, 0}));
        bad = o;
        bad.netnsInodes = {5, 6, 0};
        QVERIFY(!decodeStart(decodeOne(encodeStart(bad)).payload, err, &refusal));
        QCOMPARE(refusal.filterPosition, (FilterPosition{FilterPosition::List::Netns, 2}));
        // A process name with a NUL, or empty.
        bad = o;
        bad.comms = {std::string("ng\0x", 4)};
        QVERIFY(!decodeStart(decodeOne(encodeStart(bad)).payload, err, &refusal));
        QCOMPARE(refusal.filterPosition, (FilterPosition{FilterPosition::List::Comms, 0}));
        bad.comms = {""};
        QVERIFY(!decodeStart(decodeOne(encodeStart(bad)).payload, err, &refusal));
        QCOMPARE(refusal.filterPosition, (FilterPosition{FilterPosition::List::Comms, 0}));
        // Counts beyond the limits (the encoder cuts them, so patch the payload).
        Bytes p = decodeOne(encodeStart({})).payload;
        const std::size_t cgroupCount = p.size() - 8;
        p[cgroupCount] = std::uint8_t(kMaxFilterCgroups + 1);
        QVERIFY(!decodeStart(p, err, &refusal));
        QCOMPARE(refusal.code, ErrorCode::BadFilter);
        QCOMPARE(refusal.filterPosition, (FilterPosition{FilterPosition::List::Cgroups, 0}));
        p = decodeOne(encodeStart({})).payload;
        p[p.size() - 2] = std::uint8_t(kMaxFilterComms + 1);
        QVERIFY(!decodeStart(p, err, &refusal));
        QCOMPARE(refusal.filterPosition, (FilterPosition{FilterPosition::List::Comms, 0}));
        // A comm longer than 15 bytes is cut on encode and refused on decode.
        bad = {};
        bad.comms = {"0123456789abcdefgh"};
        out = decodeStart(decodeOne(encodeStart(bad)).payload, err);
        QVERIFY2(out, err.c_str());
        QCOMPARE(out->comms.front(), std::string("0123456789abcde"));
        p = decodeOne(encodeStart({})).payload;
        p[p.size() - 2] = 1; // one comm of 16 bytes
        const std::uint8_t len16[4] = {16, 0, 0, 0};
        p.insert(p.end(), len16, len16 + 4);
        p.insert(p.end(), 16, 'a');
        err.clear();
        QVERIFY(!decodeStart(p, err, &refusal));
        QVERIFY(!err.empty());
        // The Error frame carries each new list and a decoder refuses unknown ones.
        for (auto list : {FilterPosition::List::Cgroups, FilterPosition::List::Netns,
                          FilterPosition::List::Pids, FilterPosition::List::Comms}) {
            const ErrorMessage e{ErrorCode::BadFilter, "the capture filter is invalid", "x",
                                 FilterPosition{list, 3}};
            const auto back = decodeError(decodeOne(encodeError(e)).payload, err);
            QVERIFY2(back, err.c_str());
            QVERIFY(*back == e);
        }
        const ErrorMessage beyond{
            ErrorCode::BadFilter, "bad", "",
            FilterPosition{FilterPosition::List::Comms, std::uint16_t(kMaxFilterComms)}};
        QVERIFY(!decodeError(decodeOne(encodeError(beyond)).payload, err));
    }

    void hostOwnersRoundTrip()
    {
        std::string err;
        const HostOwners o = sampleOwners();
        const Frame f = decodeOne(encodeHostOwners(o));
        QCOMPARE(f.type, MessageType::HostOwners);
        QCOMPARE(messageTypeName(9), std::string("HostOwners"));
        auto out = decodeHostOwners(f.payload, err);
        QVERIFY2(out, err.c_str());
        QVERIFY(*out == o);
        // Layout: u8 flags | u32 n | n x (u64, string) | u32 m | m x (u32, string).
        QCOMPARE(f.payload[0], std::uint8_t(0));
        QCOMPARE(f.payload[1], std::uint8_t(4));
        QCOMPARE(f.payload[5], std::uint8_t(1)); // id 1, little endian
        std::size_t expected = 1 + 4 + 4 + 2 * 8;
        for (const auto &c : o.cgroups)
            expected += 8 + 4 + c.path.size();
        for (const auto &n : o.netns)
            expected += n.name.size();
        QCOMPARE(f.payload.size(), expected);
        // Empty, and the no-cgroup2 flag.
        HostOwners none;
        none.flags = HostOwners::kNoCgroup2;
        out = decodeHostOwners(decodeOne(encodeHostOwners(none)).payload, err);
        QVERIFY2(out, err.c_str());
        QVERIFY(*out == none);
    }

    void clockProbeAndReply()
    {
        std::string err;
        const Frame probe = decodeOne(encodeClockProbe(0x0102030405060708ull));
        QCOMPARE(probe.type, MessageType::ClockProbe);
        QCOMPARE(messageTypeName(10), std::string("ClockProbe"));
        QCOMPARE(probe.payload.size(), std::size_t(8));
        QCOMPARE(probe.payload[0], std::uint8_t(8)); // little endian
        QCOMPARE(decodeClockProbe(probe.payload, err).value_or(0), 0x0102030405060708ull);
        const ClockReply reply{7, 1'700'000'000'123'456'789ull, 42'000'000'000ull};
        const Frame f = decodeOne(encodeClockReply(reply));
        QCOMPARE(f.type, MessageType::ClockReply);
        QCOMPARE(messageTypeName(11), std::string("ClockReply"));
        QCOMPARE(f.payload.size(), std::size_t(24));
        const auto out = decodeClockReply(f.payload, err);
        QVERIFY2(out, err.c_str());
        QVERIFY(*out == reply);
        // Short and long payloads are malformed.
        std::vector<std::uint8_t> shorter(f.payload.begin(), f.payload.end() - 1);
        QVERIFY(!decodeClockReply(shorter, err));
        QVERIFY(!err.empty());
        std::vector<std::uint8_t> longer(probe.payload);
        longer.push_back(0);
        QVERIFY(!decodeClockProbe(longer, err));
        QVERIFY(!decodeClockProbe({}, err));
    }

    void hostOwnersTruncatedByCountAndSize()
    {
        std::string err;
        HostOwners many;
        for (std::uint64_t i = 1; i <= kMaxReportCgroups + 10; ++i)
            many.cgroups.push_back({i, "/c" + std::to_string(i)});
        auto out = decodeHostOwners(decodeOne(encodeHostOwners(many)).payload, err);
        QVERIFY2(out, err.c_str());
        QCOMPARE(out->cgroups.size(), kMaxReportCgroups);
        QVERIFY(out->flags & HostOwners::kCgroupsTruncated);
        QCOMPARE(out->cgroups.back().path, "/c" + std::to_string(kMaxReportCgroups));
        // Long paths: the frame stays within kMaxPayload, the namespaces are kept.
        HostOwners big;
        for (std::uint64_t i = 1; i <= 1000; ++i)
            big.cgroups.push_back({i, "/" + std::string(2000, 'a') + std::to_string(i)});
        big.netns = {{77, "kept"}};
        const Bytes enc = encodeHostOwners(big);
        QVERIFY(!enc.empty());
        QVERIFY(enc.size() <= kHeaderSize + kMaxPayload);
        out = decodeHostOwners(decodeOne(enc).payload, err);
        QVERIFY2(out, err.c_str());
        QVERIFY(out->flags & HostOwners::kCgroupsTruncated);
        QVERIFY(out->cgroups.size() > 400 && out->cgroups.size() < 1000);
        QCOMPARE(out->netns.size(), std::size_t(1));
    }

    void hostOwnersMalformedRejected()
    {
        std::string err;
        const Bytes good = decodeOne(encodeHostOwners(sampleOwners())).payload;
        auto refused = [&](const Bytes &p, const char *what) {
            err.clear();
            if (decodeHostOwners(p, err))
                return QString("accepted: %1").arg(what);
            if (err.empty())
                return QString("no reason: %1").arg(what);
            return QString();
        };
        Bytes p = good;
        p[0] = 4; // unknown flag
        QCOMPARE(refused(p, "flag"), QString());
        p = good;
        p[1] = 0xff;
        p[2] = 0xff; // 65535 cgroups: beyond the limit
        QCOMPARE(refused(p, "count"), QString());
        p = good;
        p[1] = 200; // within the limit, beyond the payload
        QCOMPARE(refused(p, "count vs payload"), QString());
        p = good;
        p.push_back(0);
        QCOMPARE(refused(p, "trailing"), QString());
        // Bad entries: id 0, relative path, empty component, "..", a netns name with '/'.
        const std::vector<std::pair<HostOwners, const char *>> bad = {
            {HostOwners{0, {{0, "/x"}}, {}}, "id 0"},
            {HostOwners{0, {{5, "x"}}, {}}, "relative"},
            {HostOwners{0, {{5, "/a//b"}}, {}}, "empty component"},
            {HostOwners{0, {{5, "/a/"}}, {}}, "trailing slash"},
            {HostOwners{0, {{5, "/a/../b"}}, {}}, "dot dot"},
            {HostOwners{0, {{5, ""}}, {}}, "empty"},
            {HostOwners{0, {}, {{0, "n"}}}, "inode 0"},
            {HostOwners{0, {}, {{9, "a/b"}}}, "slash in name"},
            {HostOwners{0, {}, {{9, ""}}}, "empty name"},
            {HostOwners{0, {}, {{9, ".."}}}, "dot dot name"}};
        for (const auto &[owners, what] : bad)
            QCOMPARE(refused(decodeOne(encodeHostOwners(owners)).payload, what), QString());
    }

    void truncatedPayloadsAtEveryOffset()
    {
        Stats st;
        st.missedRuns = 9;
        st.lostPerCpu = {1, 2};
        const std::vector<Bytes> frames = {
            encodeHello(sampleHello()),
            encodeStart({}),
            encodeStats(st),
            encodeTextError("boom"),
            encodeError({ErrorCode::BadFilter, "boom", "why",
                         FilterPosition{FilterPosition::List::Nets, 2}}),
            encodeLog({LogMessage::Level::Warning, "careful"}),
            encodeHostOwners(sampleOwners()),
            encodeStart(ownerStart())};
        for (const Bytes &enc : frames) {
            const Frame f = decodeOne(enc);
            for (std::size_t n = 0; n < f.payload.size(); ++n) {
                const std::span<const std::uint8_t> p(f.payload.data(), n);
                std::string err;
                bool ok = true;
                switch (f.type) {
                case MessageType::Hello:
                    ok = decodeHello(p, err).has_value();
                    break;
                case MessageType::Start:
                    ok = decodeStart(p, err).has_value();
                    break;
                case MessageType::Stats:
                    ok = decodeStats(p, err).has_value();
                    break;
                case MessageType::TextError:
                    ok = decodeTextError(p, err).has_value();
                    break;
                case MessageType::Error:
                    ok = decodeError(p, err).has_value();
                    break;
                case MessageType::Log:
                    ok = decodeLog(p, err).has_value();
                    break;
                case MessageType::HostOwners:
                    ok = decodeHostOwners(p, err).has_value();
                    break;
                default:
                    QFAIL("unexpected type");
                }
                QVERIFY2(!ok,
                         qPrintable(QString("type %1 accepted prefix %2").arg(int(f.type)).arg(n)));
                QVERIFY(!err.empty());
            }
        }
    }

    void trailingBytesRejected()
    {
        std::string err;
        Bytes p = decodeOne(encodeStart({})).payload;
        p.push_back(0);
        QVERIFY(!decodeStart(p, err));
        QVERIFY(!decodeStop(Bytes{0}, err));
        Bytes h = decodeOne(encodeHello(sampleHello())).payload;
        h.push_back(0);
        err.clear();
        QVERIFY(!decodeHello(h, err));
        QVERIFY(QString::fromStdString(err).contains("trailing"));
        Stats st;
        st.missedRuns = 1;
        st.lostPerCpu = {1};
        Bytes s = decodeOne(encodeStats(st)).payload;
        QVERIFY(decodeStats(s, err));
        s.push_back(0);
        err.clear();
        QVERIFY(!decodeStats(s, err));
        QVERIFY(!err.empty());
    }

    void helloRejectsBadMagicAndVersions()
    {
        const Bytes good = decodeOne(encodeHello(sampleHello())).payload;
        std::string err;
        Bytes p = good;
        p[0] = 'X';
        QVERIFY(!decodeHello(p, err));
        QVERIFY(QString::fromStdString(err).contains("magic"));
        p = good;
        p[8] = kProtocolVersion + 1; // protocolVersion low byte
        err.clear();
        QVERIFY(!decodeHello(p, err));
        QVERIFY(QString::fromStdString(err).contains("speaks protocol"));
        p = good;
        p[10] = TS_RECORD_VERSION + 1; // recordVersion low byte
        err.clear();
        QVERIFY(!decodeHello(p, err));
        QVERIFY(QString::fromStdString(err).contains("uses record version"));
    }

    void startOptionsRoundTripAndRejections()
    {
        StartOptions o;
        o.flags = StartOptions::kPackets | StartOptions::kPayload;
        o.snapLen = 64;
        o.ports = {80, 443};
        NetFilter v4;
        v4.family = 4;
        v4.prefixLen = 8;
        v4.addr[0] = 10;
        NetFilter v6;
        v6.family = 6;
        v6.prefixLen = 128;
        v6.addr[15] = 1;
        o.nets = {v4, v6};
        o.interfaces = {"lo", "veth-test0"};
        std::string err;
        auto back = decodeStart(decodeOne(encodeStart(o)).payload, err);
        QVERIFY2(back.has_value(), err.c_str());
        QVERIFY(*back == o);

        auto rejects = [](const StartOptions &bad, const char *needle) {
            std::string e;
            const bool ok = decodeStart(decodeOne(encodeStart(bad)).payload, e).has_value();
            QVERIFY2(!ok, needle);
            QVERIFY2(QString::fromStdString(e).contains(QLatin1String(needle)), e.c_str());
        };
        StartOptions b = o;
        b.flags = StartOptions::kPayload; // payload without packets
        rejects(b, "without packet capture");
        b = o;
        b.snapLen = TS_SNAP_MAX + 1;
        rejects(b, "snapshot length");
        b = o;
        b.flags = StartOptions::kPackets; // snapLen without the payload flag
        rejects(b, "without payload flag");
        b = o;
        b.nets[0].prefixLen = 33;
        rejects(b, "prefix length");
        b = o;
        b.nets[0].addr[3] = 1; // host bits beyond /8
        rejects(b, "beyond the prefix");
        b = o;
        b.nets[0].family = 5;
        rejects(b, "address family");
        b = o;
        b.nets[0].prefixLen = 32;
        b.nets[0].addr[4] = 1; // IPv4 with bytes after the first four
        rejects(b, "first 4");
        b = o;
        b.interfaces = {"bad name"};
        rejects(b, "interface name");
        b = o;
        b.interfaces = {""};
        rejects(b, "interface name");

        // Counts over the limits (encodeStart cuts lists, so forge the count field).
        Bytes p = decodeOne(encodeStart(StartOptions{})).payload;
        p[18] = 0xff; // nPorts = 255 > kMaxFilterPorts
        err.clear();
        QVERIFY(!decodeStart(p, err));
        QVERIFY(QString::fromStdString(err).contains("exceed"));
        // Trailing bytes after the interface list.
        p = decodeOne(encodeStart(o)).payload;
        p.push_back(0);
        err.clear();
        QVERIFY(!decodeStart(p, err));
    }

    void absurdLengthsRejected()
    {
        std::string err;
        // Error text claiming 4 GiB.
        QVERIFY(!decodeTextError(Bytes{0xff, 0xff, 0xff, 0xff, 'a'}, err));
        QVERIFY(QString::fromStdString(err).contains("exceeds limit"));
        // Error text longer than the limit but present in full is still refused.
        Bytes big = {0x01, 0x10, 0, 0}; // 4097
        big.resize(4 + 4097, 'a');
        err.clear();
        QVERIFY(!decodeTextError(big, err));
        // The same in a typed Error and a Log.
        Bytes typedBig = {6, 0};
        typedBig.insert(typedBig.end(), big.begin(), big.end());
        typedBig.insert(typedBig.end(), {0, 0, 0, 0, 0, 0, 0});
        err.clear();
        QVERIFY(!decodeError(typedBig, err));
        QVERIFY2(QString::fromStdString(err).contains("exceeds limit"), err.c_str());
        Bytes logBig = {2};
        logBig.insert(logBig.end(), big.begin(), big.end());
        err.clear();
        QVERIFY(!decodeLog(logBig, err));
        QVERIFY2(QString::fromStdString(err).contains("exceeds limit"), err.c_str());
        // Within the limit but longer than the payload.
        err.clear();
        QVERIFY(!decodeTextError(Bytes{10, 0, 0, 0, 'a'}, err));
        QVERIFY(QString::fromStdString(err).contains("remaining"));
        // Hello with a hostname length of 1 MiB.
        Hello h = sampleHello();
        h.hostname = "h";
        Bytes hp = decodeOne(encodeHello(h)).payload;
        const std::size_t hostLenAt = 8 + 2 + 2 + 8 + 8 + 4 + h.kernelRelease.size();
        hp[hostLenAt + 2] = 0x10;
        err.clear();
        QVERIFY(!decodeHello(hp, err));
        QVERIFY(QString::fromStdString(err).contains("hostname"));
        // Hello with 65535 probes.
        h.probes.clear();
        hp = decodeOne(encodeHello(h)).payload;
        hp[hp.size() - 2] = 0xff;
        hp[hp.size() - 1] = 0xff;
        err.clear();
        QVERIFY(!decodeHello(hp, err));
        QVERIFY(QString::fromStdString(err).contains("probe count"));
        // Stats with 4 billion CPUs, and with a count that disagrees with the payload.
        Bytes sp(28, 0);
        sp[24] = sp[25] = sp[26] = sp[27] = 0xff;
        err.clear();
        QVERIFY(!decodeStats(sp, err));
        QVERIFY(QString::fromStdString(err).contains("CPU count"));
        sp[24] = 2;
        sp[25] = sp[26] = sp[27] = 0;
        sp.resize(28 + 8);
        err.clear();
        QVERIFY(!decodeStats(sp, err));
        // Start with reserved flags set (payload: magic, protocol, records, flags, snapLen, three
        // empty lists, sample interval, maximum stall, four empty owner lists).
        Bytes start = decodeOne(encodeStart({})).payload;
        QCOMPARE(start.size(), std::size_t(40));
        start[12] = 0x80;
        err.clear();
        QVERIFY(!decodeStart(start, err));
        QVERIFY(QString::fromStdString(err).contains("flags"));
        // Start from something that is not a tcpscope client, or another protocol version.
        start = decodeOne(encodeStart({})).payload;
        start[0] = 'X';
        err.clear();
        QVERIFY(!decodeStart(start, err));
        QVERIFY(QString::fromStdString(err).contains("magic"));
        start = decodeOne(encodeStart({})).payload;
        start[8] = 99;
        err.clear();
        QVERIFY(!decodeStart(start, err));
        QVERIFY(QString::fromStdString(err).contains("speaks protocol 99"));
    }

    void malformedRecordsRejected_data()
    {
        QTest::addColumn<QByteArray>("payload");
        QTest::addColumn<int>("delivered");
        QTest::addColumn<QString>("reason");
        auto raw = [](const auto &v) {
            return QByteArray(reinterpret_cast<const char *>(&v), sizeof v);
        };
        const ts_state_change s = makeState(1);
        ts_record_header h{};
        h.type = TS_REC_STATE_CHANGE;
        h.size = 8; // smaller than a header
        QTest::newRow("size<header") << raw(h) << 0 << "smaller than the record header";
        ts_state_change big = s;
        big.hdr.size = 200;
        QTest::newRow("size>remaining") << raw(big) << 0 << "remaining";
        ts_state_change wrong = s;
        wrong.hdr.type = TS_REC_CLOSE_STATS; // close stats must be 72 bytes, this is 120
        QTest::newRow("known type wrong size") << raw(wrong) << 0 << "expected 72";
        QTest::newRow("trailing partial header") << raw(s) + QByteArray(5, 0) << 1 << "trailing";
        QTest::newRow("second record truncated") << raw(s) + raw(s).left(100) << 1 << "remaining";
    }
    void malformedRecordsRejected()
    {
        QFETCH(QByteArray, payload);
        QFETCH(int, delivered);
        QFETCH(QString, reason);
        const std::span<const std::uint8_t> p(
            reinterpret_cast<const std::uint8_t *>(payload.constData()), payload.size());
        std::string err;
        int n = 0;
        QVERIFY(!forEachRecord(
            p, [&](const Record &) { ++n; }, err));
        QCOMPARE(n, delivered);
        QVERIFY2(QString::fromStdString(err).contains(reason), err.c_str());
    }

    void unknownRecordTypesSkipped()
    {
        Bytes p;
        ts_record_header future{};
        future.type = 99;
        future.size = 24;
        const auto fb = asBytes(future);
        p.insert(p.end(), fb.begin(), fb.end());
        p.resize(24, 0xab);
        const ts_close_stats c = makeClose(3);
        const auto cb = asBytes(c);
        p.insert(p.end(), cb.begin(), cb.end());
        std::string err;
        std::size_t skipped = 0;
        int n = 0;
        QVERIFY(forEachRecord(
            p,
            [&](const Record &r) {
                ++n;
                QCOMPARE(r.closeStats.bytes_received, std::uint64_t(54321));
            },
            err, &skipped));
        QCOMPARE(n, 1);
        QCOMPARE(skipped, std::size_t(1));
    }
};

QTEST_APPLESS_MAIN(TestWire)
#include "test_wire.moc"
