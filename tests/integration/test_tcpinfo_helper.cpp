// SPDX-License-Identifier: GPL-3.0-or-later
// Integration: tcpinfo.bpf.c and the listener poll through the real tcpscope-helper on
// the real kernel with real loopback traffic. Needs root; skips loudly otherwise.
//   bulk transfer  -> tcp_probe samples on both sockets, joined by socket cookie
//   induced loss   -> retransmits on the sender, equal to the kernel's TcpRetransSegs delta
//   closed port    -> drop named NO_SOCKET + RST sent + refused connect
// (full backlog -> listener samples: test_helper_listener.cpp)
// No assertion depends on timing: only counts and values the kernel reports.
#include "helper_kernel_counters.h"
#include "helper_session.h"
#include "helper_tcpinfo.h"

#include <QProcess>
#include <QTest>
#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace tcpscope;
using namespace tcpscope::test;

namespace {
constexpr int kTcpListen = 10, kTcpClose = 7, kTcpSynSent = 2;
} // namespace

class TestTcpInfoHelper : public QObject
{
    Q_OBJECT

    QStringList m_tracefsBefore;
    bool m_probesShown = false;

    // Starts a tcpinfo-only helper; the Hello's probe report is printed once.
    bool start(HelperProcess &helper, const QString &mode, std::uint32_t intervalUs)
    {
        wire::Hello hello;
        if (!startStreaming(helper, mode, {}, tcpinfoOnly(intervalUs), &hello))
            return false;
        if (!m_probesShown) {
            m_probesShown = true;
            for (const auto &p : hello.probes)
                qInfo("probe %s = %s %s", p.name.c_str(), p.status.c_str(), p.detail.c_str());
        }
        return true;
    }
    // Stop, drain, exit 0, nothing left in the kernel.
    void finish(HelperProcess &helper, Capture &cap, const BpfObjects &ours)
    {
        QVERIFY2(stopAndDrain(helper, cap, 10000), qPrintable(helper.stderrText()));
        QCOMPARE(helper.waitExit(5000), 0);
        verifyNothingLeft(ours, m_tracefsBefore);
    }
    // Fails loudly when the helper sent nothing of the kernel view at all (no reason tables).
    static bool requireTcpInfo(const Capture &cap, const HelperProcess &helper)
    {
        return QTest::qVerify(!cap.reasonNames.empty(), "helper sent reason name tables",
                              qPrintable("no ts_reason_name records: this helper build has no "
                                         "tcpinfo support (tcpinfo.bpf.c / loader missing?) "
                                         "stderr: " +
                                         helper.stderrText()),
                              __FILE__, __LINE__);
    }

    struct LossRun
    {
        Bulk bulk;
        Sides sides;
        Capture cap;
        long long nftDropped = 0;
        std::uint64_t t0 = 0, t1 = 0, kernelDelta = 0;
    };
    bool lossRun(const std::function<QString(unsigned)> &match, LossRun &run);
    void compareWithKernel(const LossRun &run, std::uint64_t oursTotal);

    // One bulk transfer under a helper with the given interval; returns (client, server) sample
    // counts and checks the samples when full is set.
    void bulkOnce(const QString &mode, std::uint32_t intervalUs, bool full, std::size_t *clientN,
                  std::size_t *serverN);

private slots:
    void initTestCase()
    {
        if (!requireHelperEnvironment(&m_tracefsBefore))
            return;
        NftDropRule::removeStale();
    }

    // (a) samples for both sockets of a bulk transfer; interval 0 gives more than the maximum.
    void bulkTransferSamples_data()
    {
        QTest::addColumn<QString>("mode");
        QTest::newRow("tp_btf") << "tp_btf";
        QTest::newRow("tracepoint") << "tracepoint";
    }
    void bulkTransferSamples()
    {
        QFETCH(QString, mode);
        std::size_t c0 = 0, s0 = 0, cMax = 0, sMax = 0;
        bulkOnce(mode, 0, true, &c0, &s0);
        if (QTest::currentTestFailed())
            return;
        bulkOnce(mode, wire::StartOptions::kMaxSampleIntervalUs, false, &cMax, &sMax);
        if (QTest::currentTestFailed())
            return;
        qInfo("%s samples, interval 0: client %zu server %zu; interval %u us: client %zu "
              "server %zu",
              qPrintable(mode), c0, s0, wire::StartOptions::kMaxSampleIntervalUs, cMax, sMax);
        QVERIFY(cMax >= 1 && sMax >= 1);
        QVERIFY2(c0 + s0 > cMax + sMax, "rate limit has no effect: interval 0 gave no more "
                                        "samples than the maximum interval");
    }

    // (b) induced loss: retransmits joined to the sender, totals equal to TcpRetransSegs.
    void inducedLossRetransmits();
    void synAckRetransmit();
    // (c) closed port: drop reason NO_SOCKET, RST sent, refused connect.
    void closedPortDropAndReset_data() { bulkTransferSamples_data(); }
    void closedPortDropAndReset();
    // The programs stay attached from the load-time probe on, but emit nothing before Start.
    void nothingBeforeStart_data() { bulkTransferSamples_data(); }
    void nothingBeforeStart();
    // (e) SIGKILL leaves nothing behind (Stop is covered by every test's finish()).
    void killedHelperLeavesNothing()
    {
        HelperProcess helper;
        if (!start(helper, "tp_btf", 0))
            return;
        const BpfObjects ours = bpfObjectsOf(helper.pid());
        runBulk(false); // programs busy when killed
        helper.kill(SIGKILL);
        QCOMPARE(helper.waitExit(5000), 128 + SIGKILL);
        verifyNothingLeft(ours, m_tracefsBefore);
    }

    void cleanupTestCase() { NftDropRule::removeStale(); }
};

void TestTcpInfoHelper::bulkOnce(const QString &mode, std::uint32_t intervalUs, bool full,
                                 std::size_t *clientN, std::size_t *serverN)
{
    HelperProcess helper;
    if (!start(helper, mode, intervalUs))
        return;
    const BpfObjects ours = bpfObjectsOf(helper.pid());
    const Bulk b = runBulk(false);
    Capture cap;
    Sides s;
    QVERIFY2(collect(helper, cap, 10000,
                     [&] {
                         s = findSides(cap, b);
                         return cap.closed(s.client) && cap.closed(s.server);
                     }),
             qPrintable(helper.stderrText()));
    finish(helper, cap, ours);
    if (!requireTcpInfo(cap, helper))
        return;
    const std::uint64_t clientId = cap.conns[s.client].id, serverId = cap.conns[s.server].id;
    auto cs = samplesOf(cap, clientId), ss = samplesOf(cap, serverId);
    // The classic tracepoint's tcp_probe carries the cookie too, but lifecycle in tracepoint
    // mode may have had to use the pointer: there the app joins by 4-tuple, and so do we.
    if (mode == "tracepoint" && (cs.empty() || ss.empty())) {
        qInfo("tracepoint mode: samples not joined by id (client %zu server %zu), joining by "
              "4-tuple",
              cs.size(), ss.size());
        cs.clear();
        ss.clear();
        for (const auto &x : cap.samples) {
            if (x.sport == b.clientPort && x.dport == b.serverPort)
                cs.push_back(x);
            if (x.sport == b.serverPort && x.dport == b.clientPort)
                ss.push_back(x);
        }
    }
    *clientN = cs.size();
    *serverN = ss.size();
    QVERIFY2(!cs.empty() && !ss.empty(),
             qPrintable(QStringLiteral("samples: client %1, server %2, all %3")
                            .arg(cs.size())
                            .arg(ss.size())
                            .arg(cap.samples.size())));
    if (!full)
        return;
    const std::uint16_t need =
        mode == "tp_btf" ? (TS_SAMPLE_RTT | TS_SAMPLE_CWND | TS_SAMPLE_MSS | TS_SAMPLE_BYTES)
                         : (TS_SAMPLE_RTT | TS_SAMPLE_CWND);
    for (const auto *side : {&cs, &ss}) {
        const bool isClient = side == &cs;
        for (const auto &x : *side) {
            QVERIFY2((x.fields & need) == need,
                     qPrintable(QStringLiteral("fields 0x%1").arg(x.fields, 0, 16)));
            QVERIFY2(x.srtt_us > 0, "srtt 0 on an established loopback connection");
            QVERIFY(x.snd_cwnd > 0);
            if (x.fields & TS_SAMPLE_MSS)
                QVERIFY(x.mss_cache > 0);
            QCOMPARE(int(x.family), AF_INET);
            QCOMPARE(unsigned(x.sport), isClient ? b.clientPort : b.serverPort);
            QCOMPARE(unsigned(x.dport), isClient ? b.serverPort : b.clientPort);
            QVERIFY(x.hdr.ts_ns > 0);
        }
    }
    // The sender's acknowledged bytes and the receiver's received bytes only grow.
    if (ss.front().fields & TS_SAMPLE_BYTES) {
        for (std::size_t i = 1; i < ss.size(); ++i)
            QVERIFY(ss[i].bytes_acked >= ss[i - 1].bytes_acked);
        for (std::size_t i = 1; i < cs.size(); ++i)
            QVERIFY(cs[i].bytes_received >= cs[i - 1].bytes_received);
        QVERIFY2(ss.back().bytes_acked > ss.front().bytes_acked,
                 qPrintable(QStringLiteral("server bytes_acked %1 -> %2 over %3 samples")
                                .arg(ss.front().bytes_acked)
                                .arg(ss.back().bytes_acked)
                                .arg(ss.size())));
        QVERIFY(cs.back().bytes_received > cs.front().bytes_received);
        QVERIFY(ss.back().bytes_acked <= cap.conns[s.server].close->bytes_acked);
        QCOMPARE(cap.conns[s.server].close->bytes_acked, std::uint64_t(kBulkBytes));
    }
    qInfo("%s server: %zu samples, srtt %u us cwnd %u mss %u acked %llu; client: %zu samples",
          qPrintable(mode), ss.size(), ss.back().srtt_us, ss.back().snd_cwnd, ss.back().mss_cache,
          (unsigned long long)ss.back().bytes_acked, cs.size());
}

// A bulk transfer under a helper with an nft drop rule (built from the server's port) in place
// from before the client connects until it is done; kernel RetransSegs read around it.
bool TestTcpInfoHelper::lossRun(const std::function<QString(unsigned)> &match, LossRun &run)
{
    HelperProcess helper;
    if (!start(helper, "tp_btf", wire::StartOptions::kDefaultSampleIntervalUs))
        return false;
    const BpfObjects ours = bpfObjectsOf(helper.pid());
    NftDropRule rule;
    QString nftError;
    std::optional<std::uint64_t> before, after;
    run.bulk = runBulk(false, [&](unsigned port) {
        if (!rule.installMatch(match(port), &nftError))
            qFatal("cannot install nft rule: %s", qPrintable(nftError));
        before = kernelCounter("/proc/net/snmp", "Tcp", "RetransSegs");
        run.t0 = monotonicNs();
    });
    run.nftDropped = rule.dropped();
    rule.remove();
    if (!QTest::qVerify(collect(helper, run.cap, 10000,
                                [&] {
                                    run.sides = findSides(run.cap, run.bulk);
                                    return run.cap.closed(run.sides.client) &&
                                           run.cap.closed(run.sides.server);
                                }),
                        "collect", qPrintable(helper.stderrText()), __FILE__, __LINE__))
        return false;
    after = kernelCounter("/proc/net/snmp", "Tcp", "RetransSegs");
    run.t1 = monotonicNs();
    finish(helper, run.cap, ours);
    if (QTest::currentTestFailed() || !requireTcpInfo(run.cap, helper))
        return false;
    if (!QTest::qVerify(before && after, "RetransSegs", "cannot read /proc/net/snmp", __FILE__,
                        __LINE__) ||
        !QTest::qVerify(run.nftDropped > 0, "nftDropped > 0", "the nft rule dropped nothing",
                        __FILE__, __LINE__))
        return false;
    run.kernelDelta = *after - *before;
    return true;
}

// Everything the helper saw retransmitted in the run's window equals the kernel's counter.
void TestTcpInfoHelper::compareWithKernel(const LossRun &run, std::uint64_t oursTotal)
{
    const Bulk &b = run.bulk;
    const RetransWindow w = retransInWindow(run.cap, run.t0, run.t1, [&](const ts_tcp_event &e) {
        return (e.sport == b.serverPort && e.dport == b.clientPort) ||
               (e.sport == b.clientPort && e.dport == b.serverPort);
    });
    qInfo("kernel Tcp RetransSegs delta %llu; helper saw %llu in the window (ours %llu, "
          "others %lld, +%llu in other netns)",
          (unsigned long long)run.kernelDelta, (unsigned long long)w.segs,
          (unsigned long long)oursTotal, (long long)w.segs - (long long)oursTotal,
          (unsigned long long)w.otherNetns);
    if (!w.others.isEmpty())
        qWarning("retransmits of OTHER connections in the window (other tests or developers on "
                 "this host; the kernel counter includes them too): %s",
                 qPrintable(w.others.join(", ")));
    // A lost record or a skipped program run (counted over all of the helper's programs) can
    // only make the helper see fewer: say so, and let the comparison decide.
    const QString losses = QStringLiteral("helper reported %1 lost records, %2 skipped runs")
                               .arg(run.cap.lost)
                               .arg(run.cap.missedRuns);
    if (run.cap.lost != 0 || run.cap.missedRuns != 0)
        qWarning("%s during the run", qPrintable(losses));
    QVERIFY2(run.kernelDelta >= oursTotal, "kernel counted fewer than our connection alone");
    QVERIFY2(w.segs == run.kernelDelta,
             qPrintable(QStringLiteral("retransmits seen by the helper in the window (%1) != "
                                       "kernel RetransSegs delta (%2); ours %3, others: %4; %5")
                            .arg(w.segs)
                            .arg(run.kernelDelta)
                            .arg(oursTotal)
                            .arg(w.others.join(", "), losses)));
}

void TestTcpInfoHelper::inducedLossRetransmits()
{
    if (!NftDropRule::available())
        QSKIP("nft NOT AVAILABLE: induced-loss test NOT RUN (install nftables)");
    LossRun run;
    // 5 % of the server's packets (data, SYN-ACK, FIN) are dropped on input: it retransmits.
    if (!lossRun(
            [](unsigned port) {
                return QStringLiteral("tcp sport %1 numgen random mod 100 < 5").arg(port);
            },
            run))
        return;
    const Bulk &b = run.bulk;
    const Capture &cap = run.cap;
    const std::uint64_t serverId = cap.conns[run.sides.server].id;
    const std::uint64_t clientId = cap.conns[run.sides.client].id;
    const ts_close_stats &serverClose = *cap.conns[run.sides.server].close;
    std::uint64_t ourSegs = 0, ourSynAcks = 0, ourFailed = 0, lastTotal = 0, clientSegs = 0;
    for (const auto &e : cap.events) {
        const bool ourTuple = e.sport == b.serverPort && e.dport == b.clientPort;
        if (e.kind == TS_EV_RETRANSMIT && ourTuple) {
            QCOMPARE(e.sock_id, serverId); // joined to the sender's socket
            if (e.err != 0)
                ++ourFailed; // not sent: the kernel does not count it either
            else
                ourSegs += e.segs;
            lastTotal = std::max<std::uint64_t>(lastTotal, e.total_retrans);
        }
        // The server's ACKs are dropped too: the client may resend its request or its FIN.
        if (e.kind == TS_EV_RETRANSMIT && e.sock_id == clientId && e.err == 0)
            clientSegs += e.segs;
        if (e.kind == TS_EV_SYNACK_RETRANSMIT && ourTuple)
            ++ourSynAcks;
    }
    qInfo("loss: nft dropped %lld packets; server: %llu segments retransmitted (+%llu SYN-ACK, "
          "%llu failed), close total_retrans %u; client: %llu resent",
          run.nftDropped, (unsigned long long)ourSegs, (unsigned long long)ourSynAcks,
          (unsigned long long)ourFailed, serverClose.total_retrans, (unsigned long long)clientSegs);
    QVERIFY2(ourSegs > 0, "no retransmit events on the sender although packets were dropped");
    // Per connection, exact: the kernel's own cumulative counter of the socket (a SYN-ACK
    // resent by the request socket is inherited by the accepted socket).
    QCOMPARE(ourSegs + ourSynAcks, std::uint64_t(serverClose.total_retrans));
    QCOMPARE(lastTotal, std::uint64_t(serverClose.total_retrans));
    const auto serverSamples = samplesOf(cap, serverId);
    if (!serverSamples.empty())
        QVERIFY(serverSamples.back().total_retrans <= serverClose.total_retrans);
    QCOMPARE(clientSegs, std::uint64_t(cap.conns[run.sides.client].close->total_retrans));
    compareWithKernel(run, ourSegs + ourSynAcks + clientSegs);
}

// The first SYN-ACK is dropped: the listener resends it (event on the listener's socket, tuple
// of the request), the client may resend its SYN; both sockets' total_retrans say so exactly.
void TestTcpInfoHelper::synAckRetransmit()
{
    if (!NftDropRule::available())
        QSKIP("nft NOT AVAILABLE: SYN-ACK test NOT RUN (install nftables)");
    LossRun run;
    if (!lossRun(
            [](unsigned port) {
                return QStringLiteral("tcp sport %1 tcp flags & (syn | ack) == syn | ack numgen "
                                      "inc mod 2 == 0")
                    .arg(port);
            },
            run))
        return;
    const Bulk &b = run.bulk;
    const Capture &cap = run.cap;
    const int listener = cap.find([&](const ts_state_change &c) {
        return c.family == AF_INET && c.newstate == kTcpListen && c.sport == b.serverPort;
    });
    QVERIFY2(listener >= 0, "no lifecycle record of the listener");
    const std::uint64_t clientId = cap.conns[run.sides.client].id;
    const std::uint64_t serverId = cap.conns[run.sides.server].id;
    // Besides the handshake, either side may resend data on its own (a tail loss probe on
    // loopback now and then): counted per socket, since total_retrans includes it too.
    std::uint64_t synAcks = 0, clientSyns = 0, clientOther = 0, serverData = 0;
    for (const auto &e : cap.events) {
        if (e.kind == TS_EV_SYNACK_RETRANSMIT && e.sport == b.serverPort) {
            QCOMPARE(unsigned(e.dport), b.clientPort);
            QCOMPARE(e.sock_id, cap.conns[listener].id); // the listener, not yet a connection
            ++synAcks;
        }
        if (e.kind != TS_EV_RETRANSMIT || e.err != 0)
            continue;
        if (e.sock_id == clientId)
            ((e.tcp_flags & TS_TCP_SYN) ? clientSyns : clientOther) += e.segs;
        if (e.sock_id == serverId) {
            QVERIFY2(!(e.tcp_flags & TS_TCP_SYN), "accepted socket resent a SYN");
            serverData += e.segs;
        }
    }
    qInfo("SYN-ACK dropped %lld time(s): %llu SYN-ACK retransmit(s) on the listener, %llu SYN "
          "retransmit(s) by the client; other resends: client %llu, server %llu",
          run.nftDropped, (unsigned long long)synAcks, (unsigned long long)clientSyns,
          (unsigned long long)clientOther, (unsigned long long)serverData);
    QVERIFY(synAcks >= 1);
    // The accepted socket inherits the request socket's SYN-ACK resends in total_retrans.
    QCOMPARE(std::uint64_t(cap.conns[run.sides.server].close->total_retrans), synAcks + serverData);
    QCOMPARE(std::uint64_t(cap.conns[run.sides.client].close->total_retrans),
             clientSyns + clientOther);
    compareWithKernel(run, synAcks + serverData + clientSyns + clientOther);
}

void TestTcpInfoHelper::closedPortDropAndReset()
{
    QFETCH(QString, mode);
    HelperProcess helper;
    if (!start(helper, mode, wire::StartOptions::kDefaultSampleIntervalUs))
        return;
    const BpfObjects ours = bpfObjectsOf(helper.pid());
    Capture cap;
    for (const bool v6 : {false, true}) {
        const int family = v6 ? AF_INET6 : AF_INET;
        const unsigned port = closedPort(v6);
        QProcess refused;
        refused.start(binDir() + "/ts_traffic", {"refused", v6 ? "6" : "4", QString::number(port)});
        QVERIFY(refused.waitForFinished(10000));
        QCOMPARE(refused.exitCode(), 0); // ECONNREFUSED
        int conn = -1;
        const ts_drop *drop = nullptr;
        const ts_tcp_event *rst = nullptr, *rstIn = nullptr;
        auto done = [&] {
            conn = cap.find([&](const ts_state_change &c) {
                return c.family == family && c.oldstate == kTcpClose && c.newstate == kTcpSynSent &&
                       c.dport == port;
            });
            drop = nullptr;
            rst = rstIn = nullptr;
            for (const auto &d : cap.drops)
                if (d.family == family && d.dport == port && (d.tcp_flags & TS_TCP_SYN))
                    drop = &d;
            for (const auto &e : cap.events) {
                if (e.kind == TS_EV_RST_SENT && e.family == family && e.sport == port)
                    rst = &e;
                if (e.kind == TS_EV_RST_RECEIVED && conn >= 0 && e.sock_id == cap.conns[conn].id)
                    rstIn = &e;
            }
            return cap.closed(conn) && drop && rst && rstIn;
        };
        QVERIFY2(collect(helper, cap, 10000, done),
                 qPrintable(QStringLiteral("IPv%1: refused conn %2, drop %3, RST sent %4, RST "
                                           "received %5; %6 drops, %7 events; stderr %8")
                                .arg(v6 ? 6 : 4)
                                .arg(conn)
                                .arg(drop != nullptr)
                                .arg(rst != nullptr)
                                .arg(rstIn != nullptr)
                                .arg(cap.drops.size())
                                .arg(cap.events.size())
                                .arg(helper.stderrText())));
        if (!requireTcpInfo(cap, helper))
            return;
        // Lifecycle: SYN_SENT -> CLOSE with ECONNREFUSED.
        QCOMPARE(cap.conns[conn].close->sk_err, ECONNREFUSED);
        const unsigned clientPort = cap.conns[conn].changes.back().sport;
        // The drop: the client's SYN, named by the kernel's own enum (value looked up, not 3).
        const auto noSocket = cap.reasonValue(TS_REASONS_SKB_DROP, "NO_SOCKET");
        QVERIFY2(noSocket.has_value(), "skb_drop_reason table has no NO_SOCKET");
        QVERIFY2(drop->reason == *noSocket,
                 qPrintable("drop reason " + cap.reasonName(TS_REASONS_SKB_DROP, drop->reason)));
        QCOMPARE(unsigned(drop->sport), clientPort);
        QCOMPARE(drop->sock_id, std::uint64_t(0)); // no socket: that is the point
        // The RST for that tuple, sent by the "closed port" side.
        QCOMPARE(unsigned(rst->dport), clientPort);
        QCOMPARE(rst->sock_id, std::uint64_t(0));
        const bool rstTable =
            std::any_of(cap.reasonNames.begin(), cap.reasonNames.end(),
                        [](const auto &kv) { return kv.first.first == TS_REASONS_SK_RST; });
        if (rstTable) // kernels with enum sk_rst_reason name why the RST was sent
            QCOMPARE(cap.reasonName(TS_REASONS_SK_RST, rst->reason), QString("NO_SOCKET"));
        else
            qInfo("kernel has no sk_rst_reason enum: RST reason not checked");
        QCOMPARE(unsigned(rstIn->sport), clientPort);
        qInfo("%s IPv%d closed port %u: drop %s at 0x%llx, RST reason %s", qPrintable(mode),
              v6 ? 6 : 4, port, qPrintable(cap.reasonName(TS_REASONS_SKB_DROP, drop->reason)),
              (unsigned long long)drop->location,
              qPrintable(rstTable ? cap.reasonName(TS_REASONS_SK_RST, rst->reason) : "-"));
    }
    finish(helper, cap, ours);
}

// A connection refused between Hello and Start (a drop and a reset the tcpinfo programs would
// report) leaves nothing in the stream; one refused after Start does.
void TestTcpInfoHelper::nothingBeforeStart()
{
    QFETCH(QString, mode);
    auto refuse = [](unsigned port) {
        QProcess refused;
        refused.start(binDir() + "/ts_traffic", {"refused", "4", QString::number(port)});
        return refused.waitForFinished(10000) && refused.exitCode() == 0;
    };
    const unsigned early = closedPort(false);
    unsigned late = closedPort(false);
    for (int i = 0; i < 10 && late == early; ++i)
        late = closedPort(false);
    QVERIFY(late != early);
    HelperProcess helper;
    bool refusedEarly = false;
    if (!startStreaming(helper, mode, {}, tcpinfoOnly(wire::StartOptions::kDefaultSampleIntervalUs),
                        nullptr, [&] { refusedEarly = refuse(early); }))
        return;
    QVERIFY(refusedEarly);
    const BpfObjects ours = bpfObjectsOf(helper.pid());
    QVERIFY(refuse(late));
    Capture cap;
    auto seen = [&cap](unsigned port) {
        bool drop = false, rst = false;
        for (const auto &d : cap.drops)
            drop = drop || (d.family == AF_INET && d.dport == port);
        for (const auto &e : cap.events)
            rst = rst || (e.kind == TS_EV_RST_SENT && e.family == AF_INET && e.sport == port);
        return std::make_pair(drop, rst);
    };
    QVERIFY2(collect(helper, cap, 10000, [&] { return seen(late) == std::make_pair(true, true); }),
             qPrintable(helper.stderrText()));
    QVERIFY(requireTcpInfo(cap, helper));
    QCOMPARE(seen(early), std::make_pair(false, false));
    finish(helper, cap, ours);
}

QTEST_GUILESS_MAIN(TestTcpInfoHelper)
#include "test_tcpinfo_helper.moc"
