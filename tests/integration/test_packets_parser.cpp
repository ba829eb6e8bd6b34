// SPDX-License-Identifier: GPL-3.0-or-later
// packets.bpf.c's header parser on crafted frames, run in the kernel with BPF_PROG_TEST_RUN:
// VLAN and QinQ, IPv4 with options and fragments, IPv6 extension-header chains, every kind of
// TCP option byte, and frames truncated or lying at each layer. The records come back through
// the program's real ring buffer. Needs root (loading BPF); skips loudly otherwise.
#include "packets.skel.h"
#include "tcpscope_records.h"

#include <QTest>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>
#include <vector>

namespace {

using Bytes = std::vector<std::uint8_t>;

void put16(Bytes &b, std::uint16_t v)
{
    b.push_back(v >> 8);
    b.push_back(v & 0xff);
}
void put32(Bytes &b, std::uint32_t v)
{
    put16(b, v >> 16);
    put16(b, v & 0xffff);
}

Bytes ethernet(std::uint16_t type, const std::vector<std::uint16_t> &vlanTypes = {})
{
    Bytes b(12, 0x02);
    for (std::uint16_t tpid : vlanTypes) {
        put16(b, tpid);
        put16(b, 0x0064); // TCI: VLAN 100
    }
    put16(b, type);
    return b;
}

// TCP header with data offset covering `options` (padded to 4 bytes unless doffOverride).
Bytes tcp(const Bytes &options, int doffOverride = -1, std::uint8_t flags = 0x18)
{
    Bytes b;
    put16(b, 40000);
    put16(b, 443);
    put32(b, 0x11223344);
    put32(b, 0x55667788);
    Bytes opts = options;
    while (opts.size() % 4)
        opts.push_back(0);
    const int doff = doffOverride >= 0 ? doffOverride : int(5 + opts.size() / 4);
    b.push_back(std::uint8_t(doff << 4));
    b.push_back(flags);
    put16(b, 1234); // window
    put16(b, 0);    // checksum
    put16(b, 7);    // urgent pointer
    b.insert(b.end(), opts.begin(), opts.end());
    return b;
}

Bytes ipv4(const Bytes &l4, int ihlWords = 5, std::uint16_t frag = 0x4000, int totOverride = -1)
{
    Bytes b;
    b.push_back(std::uint8_t(0x40 | ihlWords));
    b.push_back(0xb8); // DSCP 46, ECN 0
    const int ihl = ihlWords * 4 > 20 ? ihlWords * 4 : 20;
    put16(b, std::uint16_t(totOverride >= 0 ? totOverride : int(ihl + l4.size())));
    put16(b, 0xbeef);
    put16(b, frag);
    b.push_back(61); // TTL
    b.push_back(6);  // TCP
    put16(b, 0);
    put32(b, 0x0a000001);
    put32(b, 0x0a000002);
    while (int(b.size()) < ihl)
        b.push_back(1); // IP options: NOPs
    b.insert(b.end(), l4.begin(), l4.end());
    return b;
}

Bytes ipv6(const Bytes &afterHeader, std::uint8_t next, std::uint16_t payloadLen)
{
    Bytes b = {0x6b, 0x81, 0x23, 0x45}; // traffic class 0xb8, flow label 0x12345
    put16(b, payloadLen);
    b.push_back(next);
    b.push_back(64);
    for (int i = 0; i < 15; ++i)
        b.push_back(0);
    b.push_back(1); // ::1
    for (int i = 0; i < 15; ++i)
        b.push_back(0);
    b.push_back(2); // ::2
    b.insert(b.end(), afterHeader.begin(), afterHeader.end());
    return b;
}

Bytes cat(Bytes a, const Bytes &b)
{
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

} // namespace

class TestPacketsParser : public QObject
{
    Q_OBJECT
    packets_bpf *m_skel = nullptr;
    ring_buffer *m_rb = nullptr;
    std::vector<ts_packet> m_got;

    static int onSample(void *ctx, void *data, size_t size)
    {
        auto *self = static_cast<TestPacketsParser *>(ctx);
        if (size >= sizeof(ts_packet)) {
            ts_packet p;
            std::memcpy(&p, data, sizeof p);
            self->m_got.push_back(p);
        }
        return 0;
    }

    // Runs the ingress program on one frame; the record it emitted, if any.
    std::optional<ts_packet> run(const Bytes &frame)
    {
        m_got.clear();
        ring_buffer__consume(m_rb);
        m_got.clear();
        Bytes data = frame;
        DECLARE_LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = data.data(),
                            .data_size_in = std::uint32_t(data.size()), .repeat = 1);
        const int err = bpf_prog_test_run_opts(bpf_program__fd(m_skel->progs.ts_tc_ingress), &opts);
        if (err)
            qFatal("BPF_PROG_TEST_RUN of a %zu-byte frame failed: %s", data.size(), strerror(-err));
        if (int(opts.retval) != -1)
            qFatal("program changed the verdict: %d", int(opts.retval));
        ring_buffer__consume(m_rb);
        if (m_got.size() > 1)
            qFatal("one frame gave %zu records", m_got.size());
        if (m_got.empty())
            return std::nullopt;
        return m_got.front();
    }

private slots:
    void initTestCase()
    {
        if (geteuid() != 0)
            QSKIP("NOT ROOT - BPF parser test NOT RUN (needs root to load BPF)");
        m_skel = packets_bpf__open_and_load();
        QVERIFY2(m_skel, "cannot load packets.bpf.c");
        m_rb = ring_buffer__new(bpf_map__fd(m_skel->maps.pkt_events), &onSample, this, nullptr);
        QVERIFY(m_rb);
    }
    void cleanupTestCase()
    {
        ring_buffer__free(m_rb);
        packets_bpf__destroy(m_skel);
    }

    void ipv4WithIpOptionsAndAllTcpOptions()
    {
        const Bytes opts = {2,  4,  0x05, 0xb4,                     // MSS 1460
                            1,  3,  3,    7,                        // NOP, window scale 7
                            4,  2,                                  // SACK permitted
                            8,  10, 0,    0,    0, 1,  0, 0, 0, 2,  // timestamps
                            5,  10, 0,    0,    0, 10, 0, 0, 0, 20, // one SACK block
                            99, 2};                                 // unknown kind 99
        const Bytes payload(100, 'x');
        const auto p = run(cat(ethernet(0x0800), ipv4(cat(tcp(opts), payload), 7)));
        QVERIFY(p);
        QCOMPARE(int(p->parse_status), int(TS_PARSE_OK));
        QCOMPARE(int(p->family), 2);
        QCOMPARE(int(p->ip_hdr_len), 28);
        QCOMPARE(int(p->ip_ttl), 61);
        QCOMPARE(int(p->ip_tos), 0xb8);
        QCOMPARE(p->ip_id, 0xbeefu);
        QCOMPARE(int(p->ip_frag), 1); // DF
        QCOMPARE(int(p->sport), 40000);
        QCOMPARE(int(p->dport), 443);
        QCOMPARE(p->seq, 0x11223344u);
        QCOMPARE(p->ack_seq, 0x55667788u);
        QCOMPARE(int(p->tcp_flags), 0x18);
        QCOMPARE(int(p->window), 1234);
        QCOMPARE(int(p->urg_ptr), 7);
        QCOMPARE(int(p->tcp_hdr_len), 20 + 32);
        QCOMPARE(int(p->opt_len), 32);
        QVERIFY(std::memcmp(p->options, opts.data(), opts.size()) == 0);
        QCOMPARE(p->payload_len, 100u);
        QCOMPARE(p->sock_id, 0ull); // nothing listens on 10.0.0.2:443 here
        QCOMPARE(int(p->direction), int(TS_DIR_INGRESS));
    }

    void vlanAndQinQ()
    {
        auto p = run(cat(ethernet(0x0800, {0x8100}), ipv4(tcp({}))));
        QVERIFY(p);
        QCOMPARE(int(p->vlan_depth), 1);
        QCOMPARE(int(p->vlan_tci), 100);
        QCOMPARE(int(p->parse_status), int(TS_PARSE_OK));
        p = run(cat(ethernet(0x0800, {0x88a8, 0x8100}), ipv4(tcp({}))));
        QVERIFY(p);
        QCOMPARE(int(p->vlan_depth), 2);
        QCOMPARE(int(p->dport), 443);
    }

    void ipv6ExtensionHeaders()
    {
        // hop-by-hop (8 bytes) -> destination options (8) -> routing (8) -> TCP
        Bytes ext = {60, 0, 1, 4, 0, 0, 0, 0,  // HBH, next = dest opts
                     43, 0, 1, 4, 0, 0, 0, 0,  // dest opts, next = routing
                     6,  0, 0, 0, 0, 0, 0, 0}; // routing, next = TCP
        const Bytes seg = cat(tcp({2, 4, 0x05, 0xa0}), Bytes(10, 'y'));
        auto p = run(
            cat(ethernet(0x86dd), ipv6(cat(ext, seg), 0, std::uint16_t(ext.size() + seg.size()))));
        QVERIFY(p);
        QCOMPARE(int(p->parse_status), int(TS_PARSE_OK));
        QCOMPARE(int(p->family), 10);
        QCOMPARE(int(p->ip_hdr_len), 40 + 24);
        QCOMPARE(int(p->ip_ttl), 64);
        QCOMPARE(int(p->ip_tos), 0xb8);
        QCOMPARE(p->ip_id, 0x12345u); // flow label
        QCOMPARE(p->payload_len, 10u);
        QCOMPARE(int(p->saddr[15]), 1);
        QCOMPARE(int(p->daddr[15]), 2);
        // A non-first fragment has no TCP header: recorded as a fragment, ports untouched.
        const Bytes frag = {6, 0, 0x05, 0x01, 0, 0, 0, 1}; // offset 160, M flag
        p = run(cat(ethernet(0x86dd), ipv6(cat(frag, Bytes(40, 0)), 44, 48)));
        QVERIFY(p);
        QCOMPARE(int(p->parse_status), int(TS_PARSE_FRAGMENT));
        QCOMPARE(int(p->ip_frag), 6);
        QCOMPARE(int(p->sport), 0);
        // An extension header running past the frame.
        p = run(cat(ethernet(0x86dd), ipv6({60, 0, 1}, 0, 8)));
        QVERIFY(p);
        QCOMPARE(int(p->parse_status), int(TS_PARSE_TRUNC_EXTHDR));
        // UDP is not ours.
        QVERIFY(!run(cat(ethernet(0x86dd), ipv6(Bytes(8, 0), 17, 8))));
    }

    void malformedHeadersAreRecordedNotTrusted()
    {
        // IPv4 ihl below 5
        auto p = run(cat(ethernet(0x0800), ipv4(tcp({}), 4)));
        QVERIFY(p);
        QCOMPARE(int(p->parse_status), int(TS_PARSE_BAD_IP));
        // total length shorter than the header
        p = run(cat(ethernet(0x0800), ipv4(tcp({}), 5, 0x4000, 10)));
        QVERIFY(p);
        QCOMPARE(int(p->parse_status), int(TS_PARSE_BAD_IP));
        // non-first IPv4 fragment
        p = run(cat(ethernet(0x0800), ipv4(Bytes(20, 0), 5, 0x0010)));
        QVERIFY(p);
        QCOMPARE(int(p->parse_status), int(TS_PARSE_FRAGMENT));
        QCOMPARE(int(p->ip_frag), 4);
        // TCP header cut after 12 bytes
        Bytes cut = tcp({});
        cut.resize(12);
        p = run(cat(ethernet(0x0800), ipv4(cut)));
        QVERIFY(p);
        QCOMPARE(int(p->parse_status), int(TS_PARSE_TRUNC_TCP));
        // data offset below 5 words, and beyond the IP payload
        p = run(cat(ethernet(0x0800), ipv4(tcp({}, 3))));
        QVERIFY(p);
        QCOMPARE(int(p->parse_status), int(TS_PARSE_BAD_TCP_HDR_LEN));
        QCOMPARE(int(p->tcp_hdr_len), 12);
        p = run(cat(ethernet(0x0800), ipv4(tcp({}, 15))));
        QVERIFY(p);
        QCOMPARE(int(p->parse_status), int(TS_PARSE_BAD_TCP_HDR_LEN));
        // options area cut short by the end of the frame (IP length claims more)
        Bytes shortOpts = tcp(Bytes(40, 1));
        shortOpts.resize(20 + 12);
        p = run(cat(ethernet(0x0800), ipv4(shortOpts, 5, 0x4000, 20 + 60)));
        QVERIFY(p);
        QCOMPARE(int(p->parse_status), int(TS_PARSE_TRUNC_OPTIONS));
        QCOMPARE(int(p->opt_len), 12);
        // UDP is not ours (a frame ending inside the IPv4 header is refused by the kernel's test
        // runner itself, so the protocol check stands in for "nothing known to be TCP")
        Bytes udp = ipv4(Bytes(8, 0));
        udp[9] = 17;
        QVERIFY(!run(cat(ethernet(0x0800), udp)));
    }
};

QTEST_GUILESS_MAIN(TestPacketsParser)
#include "test_packets_parser.moc"
