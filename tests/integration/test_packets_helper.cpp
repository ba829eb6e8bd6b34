// SPDX-License-Identifier: GPL-3.0-or-later
// Integration: packets.bpf.c through the real tcpscope-helper on the real kernel. Loopback
// transfers between separate processes (IPv4 and IPv6) must give packets that carry the socket
// ids of the lifecycle records on both ends with the exact payload bytes; a refused connect its
// SYN and RST; the kernel-side port filter must leave other traffic out; interfaces created
// later are attached; and nothing of ours stays on any interface after the helper is gone, in
// tcx mode and in the clsact fallback (where a killed helper's filter is removed by the next);
// two captures at once do not disturb each other in either mode.
// Needs root; skips loudly otherwise.
#include "helper_session.h"

#include <QDir>
#include <QProcess>
#include <QScopeGuard>
#include <QTest>
#include <QThread>
#include <csignal>
#include <sys/socket.h>

using namespace tcpscope;
using namespace tcpscope::test;

namespace {

constexpr unsigned kClientSends = 200000;
constexpr unsigned kServerSends = 65432;

struct Sums
{
    std::uint64_t in = 0, out = 0;
    int syn = 0, synAck = 0, fin = 0, rst = 0;
};

Sums sumsFor(const Capture &cap, std::uint64_t sockId)
{
    Sums s;
    for (const ts_packet &p : cap.packets) {
        if (p.sock_id != sockId || p.parse_status != TS_PARSE_OK)
            continue;
        (p.direction == TS_DIR_INGRESS ? s.in : s.out) += p.payload_len;
        const bool syn = p.tcp_flags & TS_TCP_SYN, ack = p.tcp_flags & TS_TCP_ACK;
        s.syn += syn && !ack;
        s.synAck += syn && ack;
        s.fin += bool(p.tcp_flags & TS_TCP_FIN);
        s.rst += bool(p.tcp_flags & TS_TCP_RST);
    }
    return s;
}

QString tcFilters()
{
    QString all;
    for (const QString &dev : QDir("/sys/class/net").entryList(QDir::Dirs | QDir::NoDotAndDotDot))
        for (const char *dir : {"ingress", "egress"}) {
            QProcess tc;
            tc.start("tc", {"filter", "show", "dev", dev, dir});
            tc.waitForFinished(5000);
            const QString out = QString::fromLocal8Bit(tc.readAllStandardOutput()).trimmed();
            if (!out.isEmpty())
                all += dev + " " + dir + ": " + out + "\n";
        }
    return all;
}

// Interfaces that carry a clsact qdisc.
QStringList clsactDevices()
{
    QProcess tc;
    tc.start("tc", {"qdisc", "show"});
    tc.waitForFinished(5000);
    QStringList devs;
    for (const QString &line : QString::fromLocal8Bit(tc.readAllStandardOutput()).split('\n'))
        if (line.startsWith("qdisc clsact "))
            devs << line.section(' ', 4, 4);
    return devs;
}

// A refused connect to a closed loopback port: its SYN is the one packet every capture of lo
// must show.
unsigned refusedConnect()
{
    const unsigned port = closedPort(false);
    QProcess refused;
    refused.start(binDir() + "/ts_traffic", {"refused", "4", QString::number(port)});
    refused.waitForFinished(10000);
    return port;
}

bool sawSynTo(HelperProcess &helper, unsigned port)
{
    Capture cap;
    return collect(helper, cap, 5000, [&] {
        for (const ts_packet &p : cap.packets)
            if (p.dport == port && (p.tcp_flags & TS_TCP_SYN) && p.direction == TS_DIR_EGRESS)
                return true;
        return false;
    });
}

void run(const QString &cmd, const QStringList &args)
{
    QProcess p;
    p.start(cmd, args);
    if (!p.waitForFinished(10000) || p.exitCode() != 0)
        qFatal("%s %s failed: %s", qPrintable(cmd), qPrintable(args.join(' ')),
               p.readAllStandardError().constData());
}

} // namespace

class TestPacketsHelper : public QObject
{
    Q_OBJECT
    QStringList m_tracefsBefore;

private slots:
    void initTestCase() { requireHelperEnvironment(&m_tracefsBefore); }

    void transferJoinsBothSockets_data()
    {
        QTest::addColumn<bool>("v6");
        QTest::newRow("IPv4") << false;
        QTest::newRow("IPv6") << true;
    }

    void transferJoinsBothSockets()
    {
        QFETCH(bool, v6);
        HelperProcess helper;
        if (!startStreaming(helper, "tp_btf"))
            return;
        const BpfObjects ours = bpfObjectsOf(helper.pid());
        const QString fam = v6 ? "6" : "4";
        const QString traffic = binDir() + "/ts_traffic";
        QProcess server, client, refused;
        server.start(traffic,
                     {"server", fam, QString::number(kServerSends), QString::number(kClientSends)});
        const unsigned serverPort = readPort(server);
        client.start(traffic, {"client", fam, QString::number(serverPort),
                               QString::number(kClientSends), QString::number(kServerSends)});
        const unsigned clientPort = readPort(client);
        QVERIFY(client.waitForFinished(10000) && server.waitForFinished(10000));
        QCOMPARE(client.exitCode(), 0);
        const unsigned closed = closedPort(v6);
        refused.start(traffic, {"refused", fam, QString::number(closed)});
        QVERIFY(refused.waitForFinished(10000));
        QCOMPARE(refused.exitCode(), 0);

        Capture cap;
        std::uint64_t clientId = 0, serverId = 0, refusedId = 0;
        const int family = v6 ? 10 : 2;
        auto done = [&] {
            for (const auto &c : cap.conns) {
                const ts_state_change &f = c.changes.front();
                if (f.family != family)
                    continue;
                if (f.newstate == 2 && f.dport == serverPort) // sport is bound after SYN_SENT
                    clientId = c.id;
                if (f.sport == serverPort && f.dport == clientPort && f.newstate != 10)
                    serverId = c.id;
                if (f.newstate == 2 && f.dport == closed)
                    refusedId = c.id;
            }
            const Sums a = sumsFor(cap, clientId), b = sumsFor(cap, serverId);
            return clientId && serverId && refusedId && a.in == kServerSends &&
                   a.out == kClientSends && b.in == kClientSends && b.out == kServerSends &&
                   sumsFor(cap, refusedId).rst == 1;
        };
        const bool complete = collect(helper, cap, 10000, done);
        const Sums a = sumsFor(cap, clientId), b = sumsFor(cap, serverId),
                   r = sumsFor(cap, refusedId);
        const QString state = QStringLiteral("client %1: in %2 out %3; server %4: in %5 out %6; "
                                             "%7 packets")
                                  .arg(clientId)
                                  .arg(a.in)
                                  .arg(a.out)
                                  .arg(serverId)
                                  .arg(b.in)
                                  .arg(b.out)
                                  .arg(cap.packets.size());
        QVERIFY2(complete, qPrintable(state));
        QVERIFY2(clientId != 0 && !(clientId & TS_SOCK_ID_PTR_FLAG), "client has a cookie id");
        // The client's handshake is its own: SYN out with its cookie, FIN both ways.
        QVERIFY2(a.syn == 1 && a.synAck == 1, qPrintable(state));
        QVERIFY2(a.fin >= 2 && b.fin >= 2, qPrintable(state));
        // The refused connect: its SYN left with the client's id and the RST came back to it.
        QCOMPARE(r.syn, 1);
        QCOMPARE(r.rst, 1);
        // The SYN-ACK was sent by a request socket (no cookie of its own): reported with its
        // state so the app joins it by 4-tuple.
        bool synAckSeen = false;
        for (const ts_packet &p : cap.packets)
            if (p.direction == TS_DIR_EGRESS && p.sport == serverPort && p.dport == clientPort &&
                (p.tcp_flags & (TS_TCP_SYN | TS_TCP_ACK)) == (TS_TCP_SYN | TS_TCP_ACK)) {
                synAckSeen = true;
                QCOMPARE(p.sock_id, std::uint64_t(0));
                QCOMPARE(int(p.sock_state), 12); // TCP_NEW_SYN_RECV
                QCOMPARE(int(p.family), family);
                QVERIFY(p.opt_len >= 4); // at least MSS
                QCOMPARE(int(p.options[0] == 2 || p.options[0] == 1), 1);
            }
        QVERIFY(synAckSeen);
        bool loSeen = false;
        for (const ts_interface &i : cap.interfaces)
            loSeen = loSeen || (QByteArray(i.name) == "lo" && i.attach == TS_ATTACH_TCX);
        QVERIFY2(loSeen, "no interface record for lo attached with tcx");
        helper.send(wire::encodeStop());
        QVERIFY(helper.waitExit(10000) >= 0);
        verifyNothingLeft(ours, m_tracefsBefore);
        QVERIFY2(tcFilters().isEmpty(), qPrintable(tcFilters()));
    }

    void portFilterLeavesOtherTrafficOut()
    {
        const unsigned wanted = closedPort(false);
        wire::StartOptions start;
        start.ports = {std::uint16_t(wanted)};
        HelperProcess helper;
        if (!startStreaming(helper, "tp_btf", {}, start))
            return;
        const QString traffic = binDir() + "/ts_traffic";
        QProcess refused, server, client;
        server.start(traffic, {"server", "4", "1000", "1000"});
        const unsigned other = readPort(server);
        client.start(traffic, {"client", "4", QString::number(other), "1000", "1000"});
        QVERIFY(client.waitForFinished(10000) && server.waitForFinished(10000));
        refused.start(traffic, {"refused", "4", QString::number(wanted)});
        QVERIFY(refused.waitForFinished(10000));
        Capture cap;
        auto done = [&] {
            int rst = 0;
            for (const ts_packet &p : cap.packets)
                rst += (p.tcp_flags & TS_TCP_RST) != 0;
            return rst >= 1 && cap.packetsFiltered > 0;
        };
        QVERIFY2(collect(helper, cap, 5000, done),
                 "RST of the wanted port or filtered count missing");
        for (const ts_packet &p : cap.packets)
            QVERIFY2(
                p.sport == wanted || p.dport == wanted,
                qPrintable(
                    QStringLiteral("packet %1->%2 passed the filter").arg(p.sport).arg(p.dport)));
        helper.send(wire::encodeStop());
        QVERIFY(helper.waitExit(10000) >= 0);
    }

    void newInterfaceIsAttached()
    {
        HelperProcess helper;
        if (!startStreaming(helper, "tp_btf"))
            return;
        QProcess leftover; // a veth left by an aborted run (normally none: its error is ignored)
        leftover.start("ip", {"link", "del", "tsv0"});
        leftover.waitForFinished(5000);
        run("ip", {"link", "add", "tsv0", "type", "veth", "peer", "name", "tsv1"});
        Capture cap;
        auto seen = [&](const char *name, int attach) {
            for (const ts_interface &i : cap.interfaces)
                if (QByteArray(i.name) == name && i.attach == attach)
                    return true;
            return false;
        };
        const bool attached = collect(helper, cap, 5000, [&] {
            return seen("tsv0", TS_ATTACH_TCX) && seen("tsv1", TS_ATTACH_TCX);
        });
        run("ip", {"link", "del", "tsv0"});
        QVERIFY2(attached, "veth created after the start was not attached");
        QVERIFY2(collect(helper, cap, 5000, [&] { return seen("tsv0", TS_ATTACH_NONE); }),
                 "no detach record after the veth was deleted");
        helper.send(wire::encodeStop());
        QVERIFY(helper.waitExit(10000) >= 0);
    }

    void clsactFallbackCleansUp()
    {
        if (!clsactDevices().isEmpty())
            QSKIP("a clsact qdisc already exists here: cannot tell ours from another's");
        // A SIGKILLed clsact helper cannot remove its filters or the qdiscs it created ...
        {
            HelperProcess helper;
            if (!startStreaming(helper, "tp_btf", {"--force-clsact"}))
                return;
            QVERIFY2(tcFilters().contains("ts_tc_ingress"), qPrintable(tcFilters()));
            helper.kill(SIGKILL);
            QVERIFY(helper.waitExit(10000) >= 0);
            QVERIFY2(tcFilters().contains("ts_tc_ingress"),
                     "expected a stale filter after SIGKILL");
            QVERIFY2(clsactDevices().contains("lo"), "expected a stale qdisc after SIGKILL");
        }
        // ... the next helper removes them before attaching its own, and a clean exit leaves
        // no filter and no qdisc on any interface.
        HelperProcess helper;
        if (!startStreaming(helper, "tp_btf", {"--force-clsact"}))
            return;
        const QString during = tcFilters();
        QCOMPARE(during.count("ts_tc_ingress:["),
                 QDir("/sys/class/net").entryList(QDir::Dirs | QDir::NoDotAndDotDot).size());
        helper.send(wire::encodeStop());
        QVERIFY(helper.waitExit(10000) >= 0);
        QVERIFY2(tcFilters().isEmpty(), qPrintable(tcFilters()));
        QVERIFY2(clsactDevices().isEmpty(), qPrintable(clsactDevices().join(' ')));
    }

    void clsactFallbackKeepsOthersFilters()
    {
        if (!clsactDevices().isEmpty())
            QSKIP("a clsact qdisc already exists here: cannot tell ours from another's");
        // Someone else's qdisc and filter on lo: the helper adds its filter beside theirs and
        // removes only its own, also when it finds them after a killed helper of ours.
        // A classic-BPF cls_bpf filter that matches nothing stands in for theirs (cls_bpf is
        // the one classifier every kernel that runs the helper has).
        QCOMPARE(QProcess::execute("tc", {"qdisc", "add", "dev", "lo", "clsact"}), 0);
        auto cleanup = qScopeGuard([] {
            QProcess::execute("tc", {"qdisc", "del", "dev", "lo", "clsact"});
        });
        QCOMPARE(QProcess::execute("tc", {"filter", "add", "dev", "lo", "ingress", "pref", "7",
                                          "protocol", "all", "bpf", "bytecode", "1,6 0 0 0,"}),
                 0);
        for (bool kill : {true, false}) {
            HelperProcess helper;
            if (!startStreaming(helper, "tp_btf", {"--force-clsact"}))
                return;
            QVERIFY2(tcFilters().contains("ts_tc_ingress"), qPrintable(tcFilters()));
            if (kill)
                helper.kill(SIGKILL);
            else
                helper.send(wire::encodeStop());
            QVERIFY(helper.waitExit(10000) >= 0);
        }
        QVERIFY2(!tcFilters().contains("ts_tc_"), qPrintable(tcFilters()));
        QVERIFY2(tcFilters().contains("bytecode"), qPrintable(tcFilters()));
        QVERIFY(clsactDevices().contains("lo"));
        // The other interfaces had no qdisc before: none is left there.
        QCOMPARE(clsactDevices(), QStringList{"lo"});
    }

    void twoCapturesAtOnce_data()
    {
        QTest::addColumn<bool>("clsact");
        QTest::newRow("tcx") << false;
        QTest::newRow("clsact") << true;
    }

    void twoCapturesAtOnce()
    {
        // Two captures on the same interfaces see the same packets; one ending (cleanly, or
        // killed and cleaned up after by a third) takes nothing from the other.
        QFETCH(bool, clsact);
        if (clsact && !clsactDevices().isEmpty())
            QSKIP("a clsact qdisc already exists here: cannot tell ours from another's");
        const QStringList args = clsact ? QStringList{"--force-clsact"} : QStringList{};
        const int interfaces =
            QDir("/sys/class/net").entryList(QDir::Dirs | QDir::NoDotAndDotDot).size();
        HelperProcess first, second;
        if (!startStreaming(first, "tp_btf", args) || !startStreaming(second, "tp_btf", args))
            return;
        if (clsact)
            QCOMPARE(tcFilters().count("ts_tc_ingress:["), 2 * interfaces);
        unsigned port = refusedConnect();
        QVERIFY2(sawSynTo(first, port), "the first capture lost packets to the second");
        QVERIFY(sawSynTo(second, port));

        second.send(wire::encodeStop());
        QVERIFY(second.waitExit(10000) >= 0);
        if (clsact)
            QCOMPARE(tcFilters().count("ts_tc_ingress:["), interfaces);
        port = refusedConnect();
        QVERIFY2(sawSynTo(first, port), "the first capture stopped seeing packets when the "
                                        "second ended");

        // The first is killed; a third capture removes what it left, and only that.
        first.kill(SIGKILL);
        QVERIFY(first.waitExit(10000) >= 0);
        HelperProcess third;
        if (!startStreaming(third, "tp_btf", args))
            return;
        if (clsact)
            QCOMPARE(tcFilters().count("ts_tc_ingress:["), interfaces);
        port = refusedConnect();
        QVERIFY(sawSynTo(third, port));
        third.send(wire::encodeStop());
        QVERIFY(third.waitExit(10000) >= 0);
        QVERIFY2(tcFilters().isEmpty(), qPrintable(tcFilters()));
        QVERIFY2(clsactDevices().isEmpty(), qPrintable(clsactDevices().join(' ')));
    }

    void tcxLinksGoWithAKilledHelper()
    {
        HelperProcess helper;
        if (!startStreaming(helper, "tp_btf"))
            return;
        const BpfObjects ours = bpfObjectsOf(helper.pid());
        QVERIFY(ours.linkIds.size() >= 3); // lifecycle + ingress/egress of lo at least
        helper.kill(SIGKILL);
        QVERIFY(helper.waitExit(10000) >= 0);
        verifyNothingLeft(ours, m_tracefsBefore);
        QVERIFY2(tcFilters().isEmpty(), qPrintable(tcFilters()));
    }
};

QTEST_GUILESS_MAIN(TestPacketsHelper)
#include "test_packets_helper.moc"
