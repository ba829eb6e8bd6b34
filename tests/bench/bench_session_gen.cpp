// SPDX-License-Identifier: GPL-3.0-or-later
// bench_session_gen: writes a large, realistic session file through the real SessionWriter, for
// the session benchmarks (bench_session.sh) and for trying the GUI on a big capture.
//   bench_session_gen -o FILE [--connections N] [--bulk B] [--bulk-packets P] [--minutes M]
//                     [--seed S]
// N short request/response connections (client or server side, some lossy, some refused) and B
// long bulk transfers of about P packets each, spread over M minutes, interleaved in time order
// as a capture would deliver them. Every packet goes through TcpAnalyzer, so the analysis fields
// (relative seq/ack, bytes in flight, ACK RTT, retransmission flags) are the real ones; kernel
// samples and events accompany the bulk transfers and the lossy connections. Prints what it wrote.
#include "analysis/tcp_analyzer.h"
#include "model/address.h"
#include "model/connection.h"
#include "session/session.h"
#include "session/session_writer.h"
#include "test_addresses.h"

extern "C" {
#include "tcpscope_records.h"
}

#include <QCoreApplication>
#include <QFile>
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <queue>
#include <random>
#include <string>
#include <vector>

namespace {

using namespace tcpscope;

struct Options
{
    QString output;
    qint64 connections = 200'000;
    int bulk = 30;
    qint64 bulkPackets = 100'000;
    double minutes = 13;
    unsigned seed = 1;
};

bool parse(int argc, char **argv, Options &o)
{
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (i + 1 >= argc)
            return false;
        const char *v = argv[++i];
        if (a == "-o" || a == "--output")
            o.output = QString::fromLocal8Bit(v);
        else if (a == "--connections")
            o.connections = std::atoll(v);
        else if (a == "--bulk")
            o.bulk = std::atoi(v);
        else if (a == "--bulk-packets")
            o.bulkPackets = std::atoll(v);
        else if (a == "--minutes")
            o.minutes = std::atof(v);
        else if (a == "--seed")
            o.seed = unsigned(std::atoi(v));
        else
            return false;
    }
    return !o.output.isEmpty() && o.connections >= 0 && o.bulk >= 0 && o.bulkPackets > 10 &&
           o.minutes > 0;
}

constexpr qint64 kSecond = 1'000'000'000;
constexpr quint32 kMss = 1448;

// One generated connection and where its script stands.
struct Flow
{
    Connection conn;
    TcpAnalyzer analyzer;
    quint32 localIsn = 0;
    quint32 remoteIsn = 0;
    quint32 sent = 0;     // payload bytes sent so far (local -> remote)
    quint32 received = 0; // remote -> local
    qint64 rttNs = 0;
    qint64 step = 0;  // position in the script
    qint64 total = 0; // packets the script has (bulk: about bulkPackets)
    bool bulk = false;
    bool lossy = false;
    bool refused = false;
    qint64 nextSampleNs = 0;
};

struct Event
{
    qint64 timeNs;
    std::size_t flow;
    bool operator>(const Event &o) const { return timeNs > o.timeNs; }
};

class Generator
{
public:
    Generator(const Options &o, SessionWriter &writer) : m_o(o), m_writer(writer), m_rng(o.seed) {}

    void run();

private:
    void startFlow(qint64 startNs, bool bulk);
    void stepFlow(std::size_t index, qint64 nowNs);
    void emitPacket(Flow &f, qint64 nowNs, PacketDirection dir, quint8 flags, quint32 payload,
                    bool resend = false);
    void emitSample(Flow &f, qint64 nowNs);
    void changeState(Flow &f, qint64 nowNs, TcpState to);
    void finish(Flow &f, qint64 nowNs, CloseReason reason);
    void flushBatches(bool force);

    const Options &m_o;
    SessionWriter &m_writer;
    std::mt19937_64 m_rng;
    std::vector<Flow> m_flows;
    std::priority_queue<Event, std::vector<Event>, std::greater<>> m_queue;
    QVector<Packet> m_packets;
    KernelData m_kernel;
    qint64 m_nextPacketId = 1;
    quint64 m_batches = 0;
    qint64 m_startNs = 0;
    qint64 m_endNs = 0;

public:
    quint64 packetsWritten = 0;
    quint64 samplesWritten = 0;
    quint64 eventsWritten = 0;
    quint64 stateChanges = 0;
};

void Generator::startFlow(qint64 startNs, bool bulk)
{
    Flow f;
    f.bulk = bulk;
    f.lossy = !bulk && m_rng() % 50 == 0;
    f.refused = !bulk && m_rng() % 200 == 0;
    Connection &c = f.conn;
    c.id = qint64(m_flows.size()) + 1;
    c.sockId = 0x100000000ull + quint64(c.id) * 7919;
    const bool server = !bulk && m_rng() % 3 == 0;
    c.role = server ? ConnectionRole::Server : ConnectionRole::Client;
    static const char *const kComms[] = {"curl", "nginx", "firefox", "sshd", "postgres", "apt"};
    c.comm = QString::fromLatin1(kComms[m_rng() % 6]);
    c.pid = 1000 + quint32(m_rng() % 5000);
    c.ownerSource = server ? TS_OWNER_LISTENER : TS_OWNER_CURRENT;
    c.netnsIno = 4026531840u;
    const quint32 host = quint32(m_rng() % 250) + 1;
    const bool v6 = m_rng() % 5 == 0;
    c.localAddr = test::ip(v6 ? QStringLiteral("2001:db8::1") : QStringLiteral("192.0.2.1"));
    c.remoteAddr = test::ip(v6 ? QStringLiteral("2001:db8:1::%1").arg(host, 0, 16)
                               : QStringLiteral("198.51.100.%1").arg(host));
    c.localPort = server ? 443 : quint16(32768 + m_rng() % 28000);
    c.remotePort = server ? quint16(32768 + m_rng() % 28000) : (bulk ? 5201 : 443);
    c.startNs = startNs;
    f.localIsn = quint32(m_rng());
    f.remoteIsn = quint32(m_rng());
    f.rttNs = qint64(200'000 + m_rng() % 40'000'000); // 0.2 .. 40 ms
    f.total = bulk ? m_o.bulkPackets : 12 + qint64(m_rng() % 40);
    f.nextSampleNs = startNs;
    m_flows.push_back(std::move(f));
    Flow &added = m_flows.back();
    changeState(added, startNs, server ? TcpState::SynRecv : TcpState::SynSent);
    m_writer.writeConnection(added.conn);
    m_queue.push({startNs, m_flows.size() - 1});
}

void Generator::changeState(Flow &f, qint64 nowNs, TcpState to)
{
    StateChange s;
    s.timeNs = nowNs;
    s.from = f.conn.history.isEmpty() ? TcpState::Close : f.conn.state;
    s.to = to;
    s.ctxPid = f.conn.pid;
    s.ctxComm = f.conn.comm;
    f.conn.history.append(s);
    f.conn.state = to;
    ++stateChanges;
}

void Generator::emitPacket(Flow &f, qint64 nowNs, PacketDirection dir, quint8 flags,
                           quint32 payload, bool resend)
{
    Packet p;
    p.id = m_nextPacketId++;
    p.connectionId = f.conn.id;
    p.timeNs = nowNs;
    p.sockId = f.conn.sockId;
    p.ifindex = 2;
    p.direction = dir;
    p.sockState = quint8(f.conn.state);
    const bool out = dir == PacketDirection::Out;
    p.srcAddr = out ? f.conn.localAddr : f.conn.remoteAddr;
    p.dstAddr = out ? f.conn.remoteAddr : f.conn.localAddr;
    p.srcPort = out ? f.conn.localPort : f.conn.remotePort;
    p.dstPort = out ? f.conn.remotePort : f.conn.localPort;
    quint32 &mine = out ? f.sent : f.received;
    const quint32 isn = out ? f.localIsn : f.remoteIsn;
    const quint32 peerIsn = out ? f.remoteIsn : f.localIsn;
    const quint32 peerBytes = out ? f.received : f.sent;
    const bool syn = flags & TS_TCP_SYN;
    p.seq = isn + (syn ? 0 : 1) + (resend && mine >= payload ? mine - payload : mine);
    p.ack = (flags & TS_TCP_ACK) ? peerIsn + 1 + peerBytes : 0;
    p.tcpFlags = flags;
    p.window = quint16(502 + m_rng() % 10);
    p.payloadLen = payload;
    p.ipHdrLen = f.conn.localAddr.isV6() ? 40 : 20;
    p.tcpHdrLen = syn ? 40 : 32;
    p.skbLen = p.ipHdrLen + p.tcpHdrLen + payload + 14;
    p.ttl = 64;
    p.ipId = quint32(m_rng() & 0xffff);
    if (syn) {
        // MSS, SACK permitted, timestamps, NOP, window scale 7
        const quint8 opts[] = {2, 4, 0x05, 0xa8, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7};
        p.options = QByteArray(reinterpret_cast<const char *>(opts), sizeof opts);
    } else {
        const quint32 tsval = quint32(nowNs / 1'000'000);
        const quint8 opts[] = {1,
                               1,
                               8,
                               10,
                               quint8(tsval >> 24),
                               quint8(tsval >> 16),
                               quint8(tsval >> 8),
                               quint8(tsval),
                               0,
                               0,
                               0,
                               1};
        p.options = QByteArray(reinterpret_cast<const char *>(opts), sizeof opts);
    }
    if (!resend)
        mine += payload + ((flags & TS_TCP_FIN) ? 1 : 0);
    f.analyzer.analyze(p);
    m_packets.append(p);
    ++packetsWritten;
}

void Generator::emitSample(Flow &f, qint64 nowNs)
{
    TcpSample s;
    s.connectionId = f.conn.id;
    s.timeNs = nowNs;
    s.srttUs = quint32(f.rttNs / 1000 + m_rng() % 200);
    s.rttvarUs = quint32(f.rttNs / 4000);
    s.minRttUs = quint32(f.rttNs / 1000);
    s.cwnd = 10 + quint32(m_rng() % 300);
    s.ssthresh = f.lossy ? 20 : 0;
    s.sndWnd = 64 * 1024 * 7;
    s.rcvWnd = 64 * 1024 * 6;
    s.packetsOut = quint32(m_rng() % 64);
    s.inFlight = s.packetsOut;
    s.mss = kMss;
    s.bytesAcked = f.sent;
    s.bytesReceived = f.received;
    s.deliveryRate = 100'000'000 + m_rng() % 1'000'000'000;
    s.fields = TS_SAMPLE_RTT | TS_SAMPLE_MIN_RTT | TS_SAMPLE_CWND | TS_SAMPLE_WINDOWS |
               TS_SAMPLE_INFLIGHT | TS_SAMPLE_MSS | TS_SAMPLE_RATE | TS_SAMPLE_BYTES;
    m_kernel.samples.append(s);
    KernelSummary &k = f.conn.kernel;
    ++k.samples;
    k.srttUsMin = k.srttUsMin == 0 ? s.srttUs : std::min(k.srttUsMin, s.srttUs);
    k.srttUsMax = std::max(k.srttUsMax, s.srttUs);
    k.cwndMax = std::max(k.cwndMax, s.cwnd);
    ++samplesWritten;
}

void Generator::finish(Flow &f, qint64 nowNs, CloseReason reason)
{
    changeState(f, nowNs, TcpState::Close);
    f.conn.endNs = nowNs;
    f.conn.closeReason = reason;
    f.conn.haveCloseStats = true;
    f.conn.bytesSent = f.sent;
    f.conn.bytesReceived = f.received;
    f.conn.segsOut = quint32(f.analyzer.counts().packetsOut);
    f.conn.segsIn = quint32(f.analyzer.counts().packetsIn);
    f.conn.retransmits = f.analyzer.counts().retransmissions;
    f.conn.srttUs = quint32(f.rttNs / 1000);
    f.conn.minRttUs = quint32(f.rttNs / 1000);
    if (reason == CloseReason::Refused)
        f.conn.skErr = 111;
    f.conn.packets = f.analyzer.counts();
    f.analyzer = TcpAnalyzer(); // the generator keeps only what the file needs
}

// The scripts: a request/response exchange, a bulk transfer, a refused connect. Each call
// emits the packets of one step and schedules the next.
void Generator::stepFlow(std::size_t index, qint64 nowNs)
{
    Flow &f = m_flows[index];
    const bool client = f.conn.role == ConnectionRole::Client;
    const auto out = client ? PacketDirection::Out : PacketDirection::In; // the initiator
    const auto in = client ? PacketDirection::In : PacketDirection::Out;
    const qint64 half = f.rttNs / 2;
    qint64 next = nowNs + half;
    const qint64 s = f.step++;
    if (s == 0) {
        emitPacket(f, nowNs, out, TS_TCP_SYN, 0);
    } else if (s == 1) {
        if (f.refused) {
            emitPacket(f, nowNs, in, TS_TCP_RST | TS_TCP_ACK, 0);
            finish(f, nowNs, CloseReason::Refused);
            m_writer.writeConnection(f.conn);
            return;
        }
        emitPacket(f, nowNs, in, TS_TCP_SYN | TS_TCP_ACK, 0);
    } else if (s == 2) {
        emitPacket(f, nowNs, out, TS_TCP_ACK, 0);
        f.conn.handshakeNs = nowNs - f.conn.startNs;
        changeState(f, nowNs, TcpState::Established);
        m_writer.writeConnection(f.conn);
    } else if (s < f.total - 3) {
        // data: the initiator sends (bulk) or the other side answers (request/response)
        const bool fromInitiator = f.bulk || s == 3;
        const auto dataDir = fromInitiator ? out : in;
        const auto ackDir = fromInitiator ? in : out;
        const quint32 len = f.bulk || s > 3 ? kMss : 200 + quint32(m_rng() % 400);
        const bool lose = (f.lossy || f.bulk) && m_rng() % 400 == 0;
        if ((s & 1) == 1 || s == 3) {
            emitPacket(f, nowNs, dataDir, TS_TCP_ACK | TS_TCP_PSH, len);
            if (lose) {
                emitPacket(f, nowNs + f.rttNs, dataDir, TS_TCP_ACK | TS_TCP_PSH, len, true);
                KernelEvent e;
                e.connectionId = f.conn.id;
                e.timeNs = nowNs + f.rttNs;
                e.kind = KernelEventKind::Retransmit;
                e.state = quint8(TcpState::Established);
                e.segs = 1;
                e.srttUs = quint32(f.rttNs / 1000);
                e.cwnd = 10;
                m_kernel.events.append(e);
                ++f.conn.kernel.retransmits;
                ++eventsWritten;
            }
        } else {
            emitPacket(f, nowNs, ackDir, TS_TCP_ACK, 0);
        }
        next = nowNs + (f.bulk ? 20'000 + qint64(m_rng() % 20'000) : half / 4 + 1);
        if (f.bulk && nowNs >= f.nextSampleNs) {
            emitSample(f, nowNs);
            f.nextSampleNs = nowNs + 1'000'000; // the default 1000 us sample interval
        }
    } else if (s == f.total - 3) {
        emitPacket(f, nowNs, out, TS_TCP_FIN | TS_TCP_ACK, 0);
        changeState(f, nowNs, client ? TcpState::FinWait1 : TcpState::CloseWait);
    } else if (s == f.total - 2) {
        emitPacket(f, nowNs, in, TS_TCP_FIN | TS_TCP_ACK, 0);
        changeState(f, nowNs, client ? TcpState::FinWait2 : TcpState::LastAck);
    } else {
        emitPacket(f, nowNs, out, TS_TCP_ACK, 0);
        if (!f.bulk && f.lossy)
            emitSample(f, nowNs);
        finish(f, nowNs, CloseReason::Fin);
        m_writer.writeConnection(f.conn);
        return;
    }
    m_queue.push({next, index});
}

void Generator::flushBatches(bool force)
{
    if (force || m_packets.size() >= 4096) {
        m_writer.writePackets(m_packets);
        m_packets.clear();
        // The writer drops (and counts) what exceeds its queue budget, as a live capture must;
        // a generator can wait instead, so every record it makes reaches the file.
        if (++m_batches % 32 == 0)
            m_writer.flush();
    }
    if (force || m_kernel.samples.size() + m_kernel.events.size() >= 1024) {
        m_writer.writeKernelData(m_kernel);
        m_kernel = KernelData();
    }
}

void Generator::run()
{
    m_startNs = 1'796'000'000LL * kSecond; // a fixed day, so runs are comparable
    const qint64 span = qint64(m_o.minutes * 60 * double(kSecond));
    m_endNs = m_startNs + span;

    SessionInfo info;
    info.kernelRelease = QStringLiteral("6.18.0-generated");
    info.hostname = QStringLiteral("bench-session-gen");
    info.tcpscopeVersion = QStringLiteral(TCPSCOPE_VERSION);
    info.probes = {QStringLiteral("inet_sock_set_state=tp_btf"), QStringLiteral("packets=tcx"),
                   QStringLiteral("tcp_probe=tp_btf")};
    info.startedNs = m_startNs;
    info.packetsCaptured = true;
    info.kernelMetrics = true;
    info.sampleIntervalUs = 1000;
    InterfaceInfo eth;
    eth.ifindex = 2;
    eth.name = QStringLiteral("eth0");
    eth.attach = TS_ATTACH_TCX;
    info.interfaces = {eth};
    m_writer.setInfo(info);

    // Start times: short connections uniformly over the span, bulk ones spread out.
    std::vector<std::pair<qint64, bool>> starts;
    starts.reserve(std::size_t(m_o.connections + m_o.bulk));
    std::uniform_int_distribution<qint64> when(0, span - 30 * kSecond > 0 ? span - 30 * kSecond
                                                                          : span);
    for (qint64 i = 0; i < m_o.connections; ++i)
        starts.emplace_back(m_startNs + when(m_rng), false);
    for (int i = 0; i < m_o.bulk; ++i)
        starts.emplace_back(m_startNs + span * i / std::max(1, m_o.bulk + 1), true);
    std::sort(starts.begin(), starts.end());
    m_flows.reserve(starts.size());

    std::size_t nextStart = 0;
    while (nextStart < starts.size() || !m_queue.empty()) {
        if (nextStart < starts.size() &&
            (m_queue.empty() || starts[nextStart].first <= m_queue.top().timeNs)) {
            startFlow(starts[nextStart].first, starts[nextStart].second);
            ++nextStart;
        } else {
            const Event e = m_queue.top();
            m_queue.pop();
            stepFlow(e.flow, e.timeNs);
            m_endNs = std::max(m_endNs, e.timeNs);
        }
        flushBatches(false);
    }
    flushBatches(true);
    info.stoppedNs = m_endNs + kSecond;
    info.packetsReceived = packetsWritten;
    info.samplesReceived = samplesWritten;
    info.kernelEventsReceived = eventsWritten;
    info.recordsReceived = packetsWritten + samplesWritten + eventsWritten + stateChanges;
    m_writer.setInfo(info);
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    Options o;
    if (!parse(argc, argv, o)) {
        std::fprintf(stderr, "usage: bench_session_gen -o FILE [--connections N] [--bulk B] "
                             "[--bulk-packets P] [--minutes M] [--seed S]\n");
        return 2;
    }
    if (QFile::exists(o.output)) {
        std::fprintf(stderr, "bench_session_gen: %s exists; give a new file name\n",
                     qPrintable(o.output));
        return 2;
    }
    QString error;
    auto writer = SessionWriter::create(o.output, &error);
    if (!writer) {
        std::fprintf(stderr, "bench_session_gen: %s\n", qPrintable(error));
        return 1;
    }
    const auto t0 = std::chrono::steady_clock::now();
    Generator gen(o, *writer);
    gen.run();
    if (!writer->close(&error)) {
        std::fprintf(stderr, "bench_session_gen: %s\n", qPrintable(error));
        return 1;
    }
    // What the writer could not keep up with is counted in the file: a benchmark session must
    // hold every record it claims.
    if (const auto written = Session::open(o.output, &error)) {
        if (written->info().writerDropped > 0) {
            std::fprintf(stderr, "bench_session_gen: the writer dropped %llu records\n",
                         qulonglong(written->info().writerDropped));
            return 1;
        }
    } else {
        std::fprintf(stderr, "bench_session_gen: %s\n", qPrintable(error));
        return 1;
    }
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const quint64 records =
        gen.packetsWritten + gen.samplesWritten + gen.eventsWritten + gen.stateChanges;
    std::printf("wrote %s: %lld connections, %llu packets, %llu samples, %llu kernel events, "
                "%llu state changes = %llu records, %lld bytes (%.1f bytes/record) in %.1f s\n",
                qPrintable(o.output), qlonglong(o.connections + o.bulk),
                qulonglong(gen.packetsWritten), qulonglong(gen.samplesWritten),
                qulonglong(gen.eventsWritten), qulonglong(gen.stateChanges), qulonglong(records),
                qlonglong(QFile(o.output).size()),
                records ? double(QFile(o.output).size()) / double(records) : 0.0, secs);
    return 0;
}
