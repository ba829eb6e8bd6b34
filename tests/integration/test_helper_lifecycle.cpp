// SPDX-License-Identifier: GPL-3.0-or-later
// Integration: the real tcpscope-helper on the real kernel, with real loopback traffic between a
// separate server process and client process. Needs root; skips loudly otherwise.
#include "helper_session.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QTest>
#include <QThread>
#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace tcpscope;
using namespace tcpscope::test;

namespace {

constexpr unsigned kClientSends = 100000;
constexpr unsigned kServerSends = 54321;

struct Traffic
{
    int family = AF_INET;
    qint64 serverPid = 0, clientPid = 0, refusedPid = 0;
    unsigned serverPort = 0, clientPort = 0, refusedPort = 0;
};
} // namespace
class TestHelperLifecycle : public QObject
{
    Q_OBJECT

    QStringList m_tracefsBefore;

    static Traffic runTraffic(bool v6)
    {
        Traffic t;
        t.family = v6 ? AF_INET6 : AF_INET;
        const QString fam = v6 ? "6" : "4";
        const QString traffic = binDir() + "/ts_traffic";
        QProcess server, client, refused;
        server.start(traffic,
                     {"server", fam, QString::number(kServerSends), QString::number(kClientSends)});
        t.serverPort = readPort(server);
        t.serverPid = server.processId();
        client.start(traffic, {"client", fam, QString::number(t.serverPort),
                               QString::number(kClientSends), QString::number(kServerSends)});
        t.clientPort = readPort(client);
        t.clientPid = client.processId();
        const bool ok = client.waitForFinished(10000) && server.waitForFinished(10000);
        if (!ok || client.exitCode() != 0 || server.exitCode() != 0)
            qFatal("traffic failed: client %d %s / server %d %s", client.exitCode(),
                   client.readAllStandardError().constData(), server.exitCode(),
                   server.readAllStandardError().constData());
        t.refusedPort = closedPort(v6);
        refused.start(traffic, {"refused", fam, QString::number(t.refusedPort)});
        refused.waitForStarted();
        t.refusedPid = refused.processId();
        if (!refused.waitForFinished(10000) || refused.exitCode() != 0)
            qFatal("refused connect did not get ECONNREFUSED: %s",
                   refused.readAllStandardError().constData());
        return t;
    }
    static void checkSide(const Capture &cap, int conn, qint64 pid, const char *comm,
                          const std::vector<int> &expectedStates)
    {
        QVERIFY2(conn >= 0, "no records for socket");
        std::vector<int> states;
        for (const auto &r : cap.conns[conn].changes) {
            QVERIFY2(r.pid == std::uint32_t(pid),
                     qPrintable(QStringLiteral("wrong owner pid: %1").arg(cap.describe(conn))));
            QCOMPARE(QString::fromLatin1(r.comm), QString::fromLatin1(comm));
            QVERIFY(r.cgroup_id != 0);
            QVERIFY(r.netns_ino != 0);
            states.push_back(r.newstate);
        }
        QVERIFY2(states == expectedStates, qPrintable(cap.describe(conn)));
    }
private slots:
    void initTestCase() { requireHelperEnvironment(&m_tracefsBefore); }
    void lifecycle_data()
    {
        QTest::addColumn<QString>("mode");
        QTest::newRow("tp_btf") << "tp_btf";
        QTest::newRow("tracepoint") << "tracepoint";
    }

    void lifecycle()
    {
        QFETCH(QString, mode);
        HelperProcess helper;
        if (!startStreaming(helper, mode))
            return;
        const BpfObjects ours = bpfObjectsOf(helper.pid());
        if (mode == "tracepoint") // our tracefs mount must stay private to the helper
            QCOMPARE(tracefsMounts(), m_tracefsBefore);

        for (const bool v6 : {false, true}) {
            const Traffic t = runTraffic(v6);
            Capture cap;
            int client = -1, server = -1, listener = -1, refused = -1;
            auto found = [&] {
                const auto fam = [&](const ts_state_change &c) { return c.family == t.family; };
                client = cap.find([&](const ts_state_change &c) {
                    return fam(c) && c.oldstate == 7 && c.newstate == 2 && c.dport == t.serverPort;
                });
                server = cap.find([&](const ts_state_change &c) {
                    return fam(c) && c.oldstate == 10 && c.newstate == 3 && c.sport == t.serverPort;
                });
                listener = cap.find([&](const ts_state_change &c) {
                    return fam(c) && c.oldstate == 7 && c.newstate == 10 && c.sport == t.serverPort;
                });
                refused = cap.find([&](const ts_state_change &c) {
                    return fam(c) && c.oldstate == 7 && c.newstate == 2 && c.dport == t.refusedPort;
                });
                return cap.closed(client) && cap.closed(server) && cap.closed(listener) &&
                       cap.closed(refused);
            };
            QVERIFY2(collect(helper, cap, 10000, found),
                     qPrintable(QStringLiteral("missing records (client %1 server %2 listener %3 "
                                               "refused %4) helper stderr: %5")
                                    .arg(client)
                                    .arg(server)
                                    .arg(listener)
                                    .arg(refused)
                                    .arg(helper.stderrText())));
            const int ipv = v6 ? 6 : 4;
            qInfo("%s IPv%d client: %s", qPrintable(mode), ipv, qPrintable(cap.describe(client)));
            qInfo("%s IPv%d server: %s", qPrintable(mode), ipv, qPrintable(cap.describe(server)));

            // Client side: connect() in ts_client; it closes first (active close).
            checkSide(cap, client, t.clientPid, "ts_client", {2, 1, 4, 5, 7});
            // Accepted side: ts_server, even though on loopback these transitions run in the
            // client's context.
            checkSide(cap, server, t.serverPid, "ts_server", {3, 1, 8, 9, 7});
            checkSide(cap, listener, t.serverPid, "ts_server", {10, 7});
            QCOMPARE(int(cap.conns[client].changes.front().owner_source), int(TS_OWNER_CURRENT));
            QCOMPARE(int(cap.conns[server].changes.front().owner_source), int(TS_OWNER_LISTENER));
            QCOMPARE(int(cap.conns[server].changes.back().owner_source), int(TS_OWNER_REMEMBERED));

            // Ports and addresses on the ESTABLISHED records (4-tuple complete there).
            const std::uint8_t *loop = nullptr;
            static const std::uint8_t v4loop[4] = {127, 0, 0, 1};
            static const std::uint8_t v6loop[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
            loop = v6 ? v6loop : v4loop;
            const std::size_t alen = v6 ? 16 : 4;
            const auto c = cap.conns[client].changes[1], s = cap.conns[server].changes[1];
            QCOMPARE(unsigned(c.sport), t.clientPort);
            QCOMPARE(unsigned(c.dport), t.serverPort);
            QCOMPARE(unsigned(s.sport), t.serverPort);
            QCOMPARE(unsigned(s.dport), t.clientPort);
            QVERIFY(std::memcmp(c.saddr, loop, alen) == 0 && std::memcmp(c.daddr, loop, alen) == 0);
            QVERIFY(std::memcmp(s.saddr, loop, alen) == 0 && std::memcmp(s.daddr, loop, alen) == 0);

            // Exact payload byte counts, each side.
            const ts_close_stats &cc = *cap.conns[client].close, &sc = *cap.conns[server].close;
            QCOMPARE(cc.bytes_acked, std::uint64_t(kClientSends));
            QCOMPARE(cc.bytes_received, std::uint64_t(kServerSends));
            QCOMPARE(sc.bytes_acked, std::uint64_t(kServerSends));
            QCOMPARE(sc.bytes_received, std::uint64_t(kClientSends));
            QCOMPARE(cc.sk_err, 0);
            QCOMPARE(sc.sk_err, 0);
            QVERIFY(cc.segs_out > 0 && cc.segs_in > 0 && cc.srtt_us > 0 && cc.min_rtt_us > 0);
            QCOMPARE(int(cc.oldstate), 5); // FIN_WAIT2 -> CLOSE (time-wait takes over)
            QCOMPARE(int(sc.oldstate), 9); // LAST_ACK -> CLOSE

            // Refused: SYN_SENT -> CLOSE with ECONNREFUSED, owned by the connecting process.
            checkSide(cap, refused, t.refusedPid, "ts_client", {2, 7});
            QCOMPARE(cap.conns[refused].close->sk_err, ECONNREFUSED);
            QCOMPARE(cap.conns[refused].close->bytes_acked, std::uint64_t(0));
        }

        QVERIFY(helper.send(wire::encodeStop()));
        QCOMPARE(helper.waitExit(5000), 0);
        verifyNothingLeft(ours, m_tracefsBefore);
    }

    void killedHelperLeavesNothing_data() { lifecycle_data(); }
    void killedHelperLeavesNothing()
    {
        QFETCH(QString, mode);
        HelperProcess helper;
        if (!startStreaming(helper, mode))
            return;
        const BpfObjects ours = bpfObjectsOf(helper.pid());
        helper.kill(SIGKILL);
        QCOMPARE(helper.waitExit(5000), 128 + SIGKILL);
        verifyNothingLeft(ours, m_tracefsBefore);
    }
    // listen() without bind(): the port is chosen after the LISTEN transition, so the program
    // must still connect the first accepted socket to its listener.
    void autoboundListenerIsAttributed_data() { lifecycle_data(); }
    void autoboundListenerIsAttributed()
    {
        QFETCH(QString, mode);
        HelperProcess helper;
        if (!startStreaming(helper, mode))
            return;
        QProcess server, client;
        server.start(binDir() + "/ts_traffic", {"server", "6", QString::number(kServerSends),
                                                QString::number(kClientSends), "autobind"});
        const unsigned port = readPort(server);
        const qint64 serverPid = server.processId();
        QVERIFY(port != 0);
        client.start(binDir() + "/ts_traffic",
                     {"client", "6", QString::number(port), QString::number(kClientSends),
                      QString::number(kServerSends)});
        QVERIFY(client.waitForFinished(10000) && client.exitCode() == 0);
        QVERIFY(server.waitForFinished(10000) && server.exitCode() == 0);
        Capture cap;
        int accepted = -1;
        QVERIFY2(collect(helper, cap, 10000,
                         [&] {
                             accepted = cap.find([&](const ts_state_change &c) {
                                 return c.oldstate == 10 && c.newstate == 3 && c.sport == port;
                             });
                             return cap.closed(accepted);
                         }),
                 qPrintable(helper.stderrText()));
        checkSide(cap, accepted, serverPid, "ts_server", {3, 1, 8, 9, 7});
        QCOMPARE(int(cap.conns[accepted].changes.front().owner_source), int(TS_OWNER_LISTENER));
        QVERIFY(helper.send(wire::encodeStop()));
        QCOMPARE(helper.waitExit(5000), 0);
    }

    // A server that was listening before the capture started: the helper's /proc scan seeds the
    // listener map, so its accepted socket still belongs to the server, not the client.
    void preexistingListenerIsAttributed()
    {
        QProcess server;
        server.start(binDir() + "/ts_traffic",
                     {"server", "4", QString::number(kServerSends), QString::number(kClientSends)});
        const unsigned port = readPort(server);
        const qint64 serverPid = server.processId(); // QProcess forgets it once finished
        QVERIFY(port != 0);
        HelperProcess helper;
        if (!startStreaming(helper, "tp_btf"))
            return;
        QProcess client;
        client.start(binDir() + "/ts_traffic",
                     {"client", "4", QString::number(port), QString::number(kClientSends),
                      QString::number(kServerSends)});
        QVERIFY(client.waitForFinished(10000) && client.exitCode() == 0);
        QVERIFY(server.waitForFinished(10000) && server.exitCode() == 0);
        Capture cap;
        int accepted = -1, listener = -1;
        QVERIFY2(collect(helper, cap, 10000,
                         [&] {
                             accepted = cap.find([&](const ts_state_change &c) {
                                 return c.family == AF_INET && c.oldstate == 10 &&
                                        c.newstate == 3 && c.sport == port;
                             });
                             listener = cap.find([&](const ts_state_change &c) {
                                 return c.family == AF_INET && c.oldstate == 10 &&
                                        c.newstate == 7 && c.sport == port;
                             });
                             return cap.closed(accepted) && cap.closed(listener);
                         }),
                 qPrintable(helper.stderrText()));
        qInfo("pre-existing server: %s", qPrintable(cap.describe(accepted)));
        checkSide(cap, accepted, serverPid, "ts_server", {3, 1, 8, 9, 7});
        QCOMPARE(int(cap.conns[accepted].changes.front().owner_source), int(TS_OWNER_LISTENER));
        // The listener itself was never seen being created: its close is attributed by the scan.
        checkSide(cap, listener, serverPid, "ts_server", {7});
        QCOMPARE(int(cap.conns[listener].changes.front().owner_source), int(TS_OWNER_SCAN));
        QCOMPARE(cap.conns[accepted].close->bytes_received, std::uint64_t(kClientSends));
        QVERIFY(helper.send(wire::encodeStop()));
        QCOMPARE(helper.waitExit(5000), 0);
    }
};

QTEST_GUILESS_MAIN(TestHelperLifecycle)
#include "test_helper_lifecycle.moc"
