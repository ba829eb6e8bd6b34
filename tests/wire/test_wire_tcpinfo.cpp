// SPDX-License-Identifier: GPL-3.0-or-later
// Protocol v3: the kTcpInfo start flag and the sample interval appended to Start, and
// the kernel's-view records (types 6..10) in Records payloads: exact sizes and field offsets
// (BPF, helper and app must agree byte for byte), round trips of a payload mixing every record
// type through the batcher and the stream decoder, and rejection of malformed ones.
#include "wire.h"

#include <QTest>

#include <cstddef>
#include <cstring>
#include <limits>

using namespace tcpscope::wire;
using Bytes = std::vector<std::uint8_t>;

namespace {

template <typename T> void appendRecord(Bytes &out, const T &v)
{
    const auto *p = reinterpret_cast<const std::uint8_t *>(&v);
    out.insert(out.end(), p, p + sizeof v);
}

template <typename T> T header(std::uint16_t type, std::uint64_t ts)
{
    T v{};
    auto *h = reinterpret_cast<ts_record_header *>(&v);
    h->type = type;
    h->size = sizeof v;
    h->cpu = 1;
    h->ts_ns = ts;
    return v;
}

// Every field gets a distinct value so that a field read from the wrong offset shows.
ts_tcp_sample makeSample(std::uint64_t id)
{
    auto s = header<ts_tcp_sample>(TS_REC_TCP_SAMPLE, 6000 + id);
    s.sock_id = id;
    s.bytes_acked = 0x1122334455667788ull;
    s.bytes_received = 1234567;
    s.delivery_rate = 987654321;
    s.srtt_us = 41;
    s.rttvar_us = 12;
    s.min_rtt_us = 30;
    s.snd_cwnd = 10;
    s.snd_ssthresh = TS_SSTHRESH_INFINITE;
    s.snd_wnd = 65535;
    s.rcv_wnd = 131072;
    s.packets_out = 7;
    s.retrans_out = 1;
    s.lost_out = 2;
    s.sacked_out = 3;
    s.in_flight = 3;
    s.mss_cache = 32768;
    s.snd_nxt = 0xdeadbeef;
    s.snd_una = 0xdeadbe00;
    s.total_retrans = 5;
    s.data_len = 1448;
    s.fields = TS_SAMPLE_RTT | TS_SAMPLE_CWND | TS_SAMPLE_MSS | TS_SAMPLE_BYTES;
    s.family = 2;
    s.sport = 40000;
    s.dport = 5201;
    s.state = 1;
    s.ca_state = 4;
    s.saddr[0] = 127;
    s.saddr[3] = 1;
    s.daddr[0] = 127;
    s.daddr[3] = 2;
    return s;
}

ts_tcp_event makeEvent(std::uint64_t id, std::uint8_t kind)
{
    auto e = header<ts_tcp_event>(TS_REC_TCP_EVENT, 7000 + id);
    e.sock_id = id;
    e.reason = kind == TS_EV_RST_SENT ? 2 : TS_REASON_NONE;
    e.seq = 0xabcdef01;
    e.err = -11;
    e.total_retrans = 9;
    e.srtt_us = 77;
    e.snd_cwnd = 4;
    e.segs = 3;
    e.family = 10;
    e.sport = 5201;
    e.dport = 40000;
    e.kind = kind;
    e.sk_state = 1;
    e.old_ca_state = 0;
    e.new_ca_state = 4;
    e.tcp_flags = TS_TCP_SYN;
    e.saddr[15] = 1;
    e.daddr[15] = 1;
    return e;
}

ts_drop makeDrop(std::uint64_t id)
{
    auto d = header<ts_drop>(TS_REC_DROP, 8000 + id);
    d.sock_id = id;
    d.location = 0xffffffff81234567ull;
    d.reason = 3;
    d.ifindex = 1;
    d.seq = 100;
    d.ack_seq = 0;
    d.payload_len = 0;
    d.family = 2;
    d.sport = 40001;
    d.dport = 9;
    d.tcp_flags = TS_TCP_SYN;
    d.sk_state = 0;
    d.saddr[0] = 127;
    d.daddr[0] = 127;
    return d;
}

ts_listener_sample makeListener(std::uint64_t id)
{
    auto l = header<ts_listener_sample>(TS_REC_LISTENER, 9000 + id);
    l.sock_id = id;
    l.drops = 0x0102030405060708ull;
    l.backlog = 2;
    l.max_backlog = 1;
    l.netns_ino = 4026531833u;
    l.family = 10;
    l.port = 8080;
    l.addr[15] = 1;
    return l;
}

ts_reason_name makeReason(std::uint16_t table, std::uint32_t value, const char *name)
{
    auto r = header<ts_reason_name>(TS_REC_REASON_NAME, 10000 + value);
    r.table = table;
    r.value = value;
    std::snprintf(r.name, sizeof r.name, "%s", name);
    return r;
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

Bytes startPayload(const StartOptions &o)
{
    return decodeOne(encodeStart(o)).payload;
}

// The little-endian u32 that ends `back` bytes before the payload's end.
std::uint32_t u32FromEnd(const Bytes &p, std::size_t back)
{
    const std::size_t n = p.size() - back;
    return std::uint32_t(p[n - 4]) | std::uint32_t(p[n - 3]) << 8 | std::uint32_t(p[n - 2]) << 16 |
           std::uint32_t(p[n - 1]) << 24;
}

} // namespace

class TestWireTcpInfo : public QObject
{
    Q_OBJECT
private slots:
    void recordSizesAndOffsetsArePinned()
    {
        QCOMPARE(sizeof(ts_tcp_sample), std::size_t(168));
        QCOMPARE(sizeof(ts_tcp_event), std::size_t(96));
        QCOMPARE(sizeof(ts_drop), std::size_t(96));
        QCOMPARE(sizeof(ts_listener_sample), std::size_t(64));
        QCOMPARE(sizeof(ts_reason_name), std::size_t(88));
        // Offsets of the fields that follow padding-prone runs of small members: an implicit
        // hole here would differ between clang -target bpf and the host compiler.
        QCOMPARE(offsetof(ts_tcp_sample, sock_id), std::size_t(16));
        QCOMPARE(offsetof(ts_tcp_sample, srtt_us), std::size_t(48));
        QCOMPARE(offsetof(ts_tcp_sample, fields), std::size_t(116));
        QCOMPARE(offsetof(ts_tcp_sample, state), std::size_t(124));
        QCOMPARE(offsetof(ts_tcp_sample, saddr), std::size_t(136));
        QCOMPARE(offsetof(ts_tcp_sample, daddr), std::size_t(152));
        QCOMPARE(offsetof(ts_tcp_event, reason), std::size_t(24));
        QCOMPARE(offsetof(ts_tcp_event, segs), std::size_t(48));
        QCOMPARE(offsetof(ts_tcp_event, kind), std::size_t(56));
        QCOMPARE(offsetof(ts_tcp_event, saddr), std::size_t(64));
        QCOMPARE(offsetof(ts_drop, location), std::size_t(24));
        QCOMPARE(offsetof(ts_drop, reason), std::size_t(32));
        QCOMPARE(offsetof(ts_drop, family), std::size_t(52));
        QCOMPARE(offsetof(ts_drop, tcp_flags), std::size_t(58));
        QCOMPARE(offsetof(ts_drop, saddr), std::size_t(64));
        QCOMPARE(offsetof(ts_listener_sample, drops), std::size_t(24));
        QCOMPARE(offsetof(ts_listener_sample, backlog), std::size_t(32));
        QCOMPARE(offsetof(ts_listener_sample, netns_ino), std::size_t(40));
        QCOMPARE(offsetof(ts_listener_sample, port), std::size_t(46));
        QCOMPARE(offsetof(ts_listener_sample, addr), std::size_t(48));
        QCOMPARE(offsetof(ts_reason_name, value), std::size_t(20));
        QCOMPARE(offsetof(ts_reason_name, name), std::size_t(24));
        // Record type numbers are part of the protocol.
        QCOMPARE(int(TS_REC_TCP_SAMPLE), 6);
        QCOMPARE(int(TS_REC_TCP_EVENT), 7);
        QCOMPARE(int(TS_REC_DROP), 8);
        QCOMPARE(int(TS_REC_LISTENER), 9);
        QCOMPARE(int(TS_REC_REASON_NAME), 10);
    }

    void startDefaults()
    {
        QCOMPARE(kProtocolVersion, std::uint16_t(6));
        const StartOptions d;
        QVERIFY(d.flags & StartOptions::kTcpInfo);
        QVERIFY(d.flags & StartOptions::kPackets);
        QCOMPARE(d.sampleIntervalUs, StartOptions::kDefaultSampleIntervalUs);
        QVERIFY(StartOptions::kDefaultSampleIntervalUs <= StartOptions::kMaxSampleIntervalUs);
        QVERIFY(StartOptions::kKnownFlags & StartOptions::kTcpInfo);
        QCOMPARE(d.maxStallMs, StartOptions::kDefaultMaxStallMs);
        QVERIFY(d.maxStallMs >= 1 && d.maxStallMs <= StartOptions::kMaxStallMs);
    }

    void startTcpInfoRoundTrip_data()
    {
        QTest::addColumn<quint32>("flags");
        QTest::addColumn<quint32>("interval");
        const quint32 max = StartOptions::kMaxSampleIntervalUs;
        QTest::newRow("tcpinfo only, every sample") << quint32(StartOptions::kTcpInfo) << 0u;
        QTest::newRow("tcpinfo only, 1 us") << quint32(StartOptions::kTcpInfo) << 1u;
        QTest::newRow("tcpinfo + packets, default")
            << quint32(StartOptions::kTcpInfo | StartOptions::kPackets)
            << quint32(StartOptions::kDefaultSampleIntervalUs);
        QTest::newRow("tcpinfo, max interval") << quint32(StartOptions::kTcpInfo) << max;
        QTest::newRow("no tcpinfo, interval still carried")
            << quint32(StartOptions::kPackets) << 10000u;
        QTest::newRow("nothing but lifecycle") << 0u << 0u;
    }
    void startTcpInfoRoundTrip()
    {
        QFETCH(quint32, flags);
        QFETCH(quint32, interval);
        StartOptions o;
        o.flags = flags;
        o.sampleIntervalUs = interval;
        o.ports = {5201};
        o.interfaces = {"lo"};
        const Bytes p = startPayload(o);
        // The interval comes just before the maximum stall, followed by the four owner lists'
        // counts (u16 each, all 0 here).
        QCOMPARE(u32FromEnd(p, 12), std::uint32_t(interval));
        QCOMPARE(u32FromEnd(p, 8), o.maxStallMs);
        QCOMPARE(u32FromEnd(p, 4), 0u);
        QCOMPARE(u32FromEnd(p, 0), 0u);
        std::string err;
        const auto back = decodeStart(p, err);
        QVERIFY2(back.has_value(), err.c_str());
        QVERIFY(*back == o);
        QCOMPARE(back->sampleIntervalUs, std::uint32_t(interval));
        QCOMPARE(back->flags, std::uint32_t(flags));
    }

    void startFlagsByteLayout()
    {
        StartOptions o;
        o.flags = StartOptions::kTcpInfo;
        o.sampleIntervalUs = 0x01020304;
        o.maxStallMs = 0x00050607;
        const Bytes p = startPayload(o);
        // magic(8) protocol(2) records(2) flags(4) snapLen(2) 3 empty lists(6) interval(4)
        // maxStall(4) 4 empty owner lists(8)
        QCOMPARE(p.size(), std::size_t(40));
        QCOMPARE(p[12], std::uint8_t(StartOptions::kTcpInfo));
        QCOMPARE(p[13], std::uint8_t(0));
        QCOMPARE(p[24], std::uint8_t(0x04));
        QCOMPARE(p[27], std::uint8_t(0x01));
        QCOMPARE(p[28], std::uint8_t(0x07));
        QCOMPARE(p[30], std::uint8_t(0x05));
    }

    void startRejectsBadIntervalAndFlags()
    {
        auto rejects = [](const Bytes &p, const char *needle) {
            std::string e;
            const bool ok = decodeStart(p, e).has_value();
            QVERIFY2(!ok, needle);
            QVERIFY2(QString::fromStdString(e).contains(QLatin1String(needle)), e.c_str());
        };
        StartOptions o;
        o.sampleIntervalUs = StartOptions::kMaxSampleIntervalUs + 1;
        rejects(startPayload(o), "sample interval");
        o.sampleIntervalUs = std::numeric_limits<std::uint32_t>::max();
        rejects(startPayload(o), "exceeds");
        o = StartOptions{};
        o.maxStallMs = 0;
        rejects(startPayload(o), "maximum stall");
        o.maxStallMs = StartOptions::kMaxStallMs + 1;
        rejects(startPayload(o), "maximum stall");
        // A v3 Start (no maximum stall appended) is short, and says so instead of using garbage.
        Bytes p = startPayload(StartOptions{});
        p.erase(p.end() - 4, p.end());
        std::string e;
        QVERIFY(!decodeStart(p, e));
        QVERIFY(!e.empty());
        // Last field cut in the middle.
        p = startPayload(StartOptions{});
        p.pop_back();
        e.clear();
        QVERIFY(!decodeStart(p, e));
        // Extra bytes after the last field.
        p = startPayload(StartOptions{});
        p.push_back(0);
        e.clear();
        QVERIFY(!decodeStart(p, e));
        // The next flag bit after kTcpInfo is unknown.
        p = startPayload(StartOptions{});
        p[12] |= std::uint8_t(StartOptions::kTcpInfo << 1);
        rejects(p, "flags");
        // Payload snapshots still need packets, with or without tcpinfo.
        o = StartOptions{};
        o.flags = StartOptions::kTcpInfo | StartOptions::kPayload;
        o.snapLen = 16;
        rejects(startPayload(o), "without packet capture");
    }

    void startIntervalBoundaryAccepted()
    {
        StartOptions o;
        o.sampleIntervalUs = StartOptions::kMaxSampleIntervalUs;
        std::string e;
        QVERIFY2(decodeStart(startPayload(o), e).has_value(), e.c_str());
    }

    // One Records payload with every record type, through RecordBatcher, the stream decoder
    // (fed byte by byte) and forEachRecord: everything arrives in order, intact.
    void recordsMixingAllTypesRoundTrip()
    {
        ts_state_change st{};
        st.hdr.type = TS_REC_STATE_CHANGE;
        st.hdr.size = sizeof st;
        st.sock_id = 1;
        st.newstate = 10;
        ts_close_stats cs{};
        cs.hdr.type = TS_REC_CLOSE_STATS;
        cs.hdr.size = sizeof cs;
        cs.sock_id = 1;
        cs.total_retrans = 4;
        ts_packet pk{};
        pk.hdr.type = TS_REC_PACKET;
        pk.hdr.size = sizeof pk;
        pk.sock_id = 2;
        pk.seq = 77;
        ts_packet_snap sn{};
        sn.pkt.hdr.type = TS_REC_PACKET_SNAP;
        sn.pkt.hdr.size = sizeof sn;
        sn.pkt.sock_id = 2;
        sn.snap_len = 3;
        sn.data[2] = 0x5a;
        ts_interface in{};
        in.hdr.type = TS_REC_INTERFACE;
        in.hdr.size = sizeof in;
        in.ifindex = 1;
        std::memcpy(in.name, "lo", 3);

        const ts_reason_name rn = makeReason(TS_REASONS_SKB_DROP, 3, "NO_SOCKET");
        const ts_reason_name rr = makeReason(TS_REASONS_SK_RST, 2, "NO_SOCKET");
        const ts_tcp_sample sa = makeSample(11);
        const ts_tcp_event ev = makeEvent(11, TS_EV_RETRANSMIT);
        const ts_tcp_event rst = makeEvent(0, TS_EV_RST_SENT);
        const ts_drop dr = makeDrop(0);
        const ts_listener_sample li = makeListener(12);

        Bytes all;
        RecordBatcher b;
        auto add = [&](const auto &rec) {
            Bytes one;
            appendRecord(one, rec);
            QVERIFY(b.add(one));
            all.insert(all.end(), one.begin(), one.end());
        };
        add(rn);
        add(rr);
        add(st);
        add(sa);
        add(ev);
        add(rst);
        add(dr);
        add(li);
        add(cs);
        add(pk);
        add(sn);
        add(in);
        QCOMPARE(b.count(), std::size_t(12));
        const Bytes frame = b.takeFrame();
        QVERIFY(b.empty());
        FrameDecoder d;
        Frame f;
        for (std::uint8_t byte : frame) {
            QCOMPARE(d.next(f), FrameDecoder::Status::NeedMore);
            d.feed({&byte, 1});
        }
        QCOMPARE(d.next(f), FrameDecoder::Status::Frame);
        QCOMPARE(f.type, MessageType::Records);
        QCOMPARE(f.payload, all);
        QCOMPARE(f.payload.size(), 2 * sizeof(ts_reason_name) + sizeof(ts_state_change) +
                                       sizeof(ts_tcp_sample) + 2 * sizeof(ts_tcp_event) +
                                       sizeof(ts_drop) + sizeof(ts_listener_sample) +
                                       sizeof(ts_close_stats) + sizeof(ts_packet) +
                                       sizeof(ts_packet_snap) + sizeof(ts_interface));

        std::vector<Record> got;
        std::string err;
        std::size_t skipped = 0;
        QVERIFY2(forEachRecord(
                     f.payload, [&](const Record &r) { got.push_back(r); }, err, &skipped),
                 err.c_str());
        QCOMPARE(skipped, std::size_t(0));
        const std::vector<std::uint16_t> types = {10, 10, 1, 6, 7, 7, 8, 9, 2, 3, 4, 5};
        QCOMPARE(got.size(), types.size());
        for (std::size_t i = 0; i < types.size(); ++i)
            QCOMPARE(got[i].type, types[i]);
        QCOMPARE(std::memcmp(&got[0].reasonName, &rn, sizeof rn), 0);
        QCOMPARE(QByteArray(got[0].reasonName.name), QByteArray("NO_SOCKET"));
        QCOMPARE(got[1].reasonName.table, std::uint16_t(TS_REASONS_SK_RST));
        QCOMPARE(std::memcmp(&got[3].tcpSample, &sa, sizeof sa), 0);
        QCOMPARE(got[3].tcpSample.bytes_acked, sa.bytes_acked);
        QCOMPARE(got[3].tcpSample.snd_ssthresh, TS_SSTHRESH_INFINITE);
        QCOMPARE(std::memcmp(&got[4].tcpEvent, &ev, sizeof ev), 0);
        QCOMPARE(got[4].tcpEvent.err, -11);
        QCOMPARE(got[4].tcpEvent.reason, TS_REASON_NONE);
        QCOMPARE(got[5].tcpEvent.kind, std::uint8_t(TS_EV_RST_SENT));
        QCOMPARE(got[5].tcpEvent.reason, std::uint32_t(2));
        QCOMPARE(std::memcmp(&got[6].drop, &dr, sizeof dr), 0);
        QCOMPARE(got[6].drop.location, dr.location);
        QCOMPARE(std::memcmp(&got[7].listener, &li, sizeof li), 0);
        QCOMPARE(got[7].listener.drops, li.drops);
        QCOMPARE(got[8].closeStats.total_retrans, 4u);
        QVERIFY(got[9].asPacket() && got[9].asPacket()->seq == 77);
        QVERIFY(got[10].asPacket() && got[10].packetSnap.data[2] == 0x5a);
        QCOMPARE(got[11].interface.ifindex, 1u);
        QVERIFY(!got[3].asPacket());
    }

    // Exact sizes are enforced per type: one byte less or one record-alignment more is refused,
    // and so is a record of a known type cut at the end of the payload.
    void newRecordTypesRejectWrongSizes_data()
    {
        QTest::addColumn<int>("type");
        QTest::addColumn<int>("size");
        QTest::newRow("tcp_sample") << int(TS_REC_TCP_SAMPLE) << int(sizeof(ts_tcp_sample));
        QTest::newRow("tcp_event") << int(TS_REC_TCP_EVENT) << int(sizeof(ts_tcp_event));
        QTest::newRow("drop") << int(TS_REC_DROP) << int(sizeof(ts_drop));
        QTest::newRow("listener") << int(TS_REC_LISTENER) << int(sizeof(ts_listener_sample));
        QTest::newRow("reason_name") << int(TS_REC_REASON_NAME) << int(sizeof(ts_reason_name));
    }
    void newRecordTypesRejectWrongSizes()
    {
        QFETCH(int, type);
        QFETCH(int, size);
        for (const int delta : {-1, +8, -8}) {
            Bytes p(std::size_t(size + 8), 0);
            ts_record_header h{};
            h.type = std::uint16_t(type);
            h.size = std::uint16_t(size + delta);
            std::memcpy(p.data(), &h, sizeof h);
            std::string err;
            int n = 0;
            QVERIFY(!forEachRecord(
                p, [&](const Record &) { ++n; }, err));
            QCOMPARE(n, 0);
            QVERIFY2(QString::fromStdString(err).contains(QStringLiteral("expected %1").arg(size)),
                     err.c_str());
        }
        // Correct size, but the payload ends inside the record: earlier records still arrive.
        Bytes p;
        appendRecord(p, makeListener(1));
        Bytes cut(std::size_t(size), 0);
        ts_record_header h{};
        h.type = std::uint16_t(type);
        h.size = std::uint16_t(size);
        std::memcpy(cut.data(), &h, sizeof h);
        p.insert(p.end(), cut.begin(), cut.end() - 1);
        std::string err;
        int n = 0;
        QVERIFY(!forEachRecord(
            p, [&](const Record &) { ++n; }, err));
        QCOMPARE(n, 1);
        QVERIFY2(QString::fromStdString(err).contains("remaining"), err.c_str());
    }

    // The batcher refuses a record whose header size disagrees with the ring-buffer sample.
    void batcherChecksNewRecordSizes()
    {
        RecordBatcher b;
        ts_tcp_sample s = makeSample(1);
        Bytes one;
        appendRecord(one, s);
        QVERIFY(b.add(one));
        s.hdr.size = sizeof s - 8;
        Bytes bad;
        appendRecord(bad, s);
        QVERIFY(!b.add(bad));
        QCOMPARE(b.count(), std::size_t(1));
    }

    // A flood of samples is split into frames under kMaxPayload; none is lost or duplicated.
    void batcherSplitsSampleFlood()
    {
        RecordBatcher b;
        const std::size_t n = (kMaxPayload / sizeof(ts_tcp_sample)) * 2 + 17;
        for (std::size_t i = 0; i < n; ++i) {
            Bytes one;
            appendRecord(one, makeSample(i + 1));
            QVERIFY(b.add(one));
        }
        std::size_t frames = 0, seen = 0;
        std::uint64_t expectId = 1;
        while (!b.empty()) {
            const Frame f = decodeOne(b.takeFrame());
            QVERIFY(f.payload.size() <= kMaxPayload);
            ++frames;
            std::string err;
            QVERIFY(forEachRecord(
                f.payload,
                [&](const Record &r) {
                    QCOMPARE(r.type, std::uint16_t(TS_REC_TCP_SAMPLE));
                    QCOMPARE(r.tcpSample.sock_id, expectId);
                    ++expectId;
                    ++seen;
                },
                err));
        }
        QCOMPARE(seen, n);
        QCOMPARE(frames, std::size_t(3));
    }
};

QTEST_APPLESS_MAIN(TestWireTcpInfo)
#include "test_wire_tcpinfo.moc"
