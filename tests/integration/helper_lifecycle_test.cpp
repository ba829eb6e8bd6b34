// SPDX-License-Identifier: GPL-3.0-or-later
// Integration: the real tcpscope-helper on the real kernel, with real loopback traffic between a
// separate server process and client process. Needs root; skips loudly otherwise.
#include "helper_capture.h"
#include "helper_process.h"

#include <QCoreApplication>
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
#include <functional>
#include <map>
#include <optional>
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

QString binDir()
{
    return QCoreApplication::applicationDirPath();
}

QString helperPath()
{
    const QByteArray env = qgetenv("TCPSCOPE_HELPER");
    return env.isEmpty() ? binDir() + "/tcpscope-helper" : QString::fromLocal8Bit(env);
}

struct Traffic
{
    int family = AF_INET;
    qint64 serverPid = 0, clientPid = 0, refusedPid = 0;
    unsigned serverPort = 0, clientPort = 0, refusedPort = 0;
};

unsigned readPort(QProcess &p)
{
    if (!p.waitForReadyRead(5000))
        return 0;
    const QByteArray line = p.readLine().trimmed(); // "port N"
    return line.startsWith("port ") ? line.mid(5).toUInt() : 0;
}

// A port nobody listens on: bind an ephemeral port and release it.
unsigned closedPort(bool v6)
{
    const int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
    sockaddr_storage ss{};
    socklen_t len;
    if (v6) {
        auto *a = reinterpret_cast<sockaddr_in6 *>(&ss);
        a->sin6_family = AF_INET6;
        a->sin6_addr = in6addr_loopback;
        len = sizeof *a;
    } else {
        auto *a = reinterpret_cast<sockaddr_in *>(&ss);
        a->sin_family = AF_INET;
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof *a;
    }
    bind(fd, reinterpret_cast<sockaddr *>(&ss), len);
    getsockname(fd, reinterpret_cast<sockaddr *>(&ss), &len);
    close(fd);
    return ntohs(v6 ? reinterpret_cast<sockaddr_in6 *>(&ss)->sin6_port
                    : reinterpret_cast<sockaddr_in *>(&ss)->sin_port);
}

} // namespace

class TestHelperLifecycle : public QObject
{
    Q_OBJECT

    QStringList m_tracefsBefore;

    // Starts a helper and completes the handshake: Hello checked, Start sent, first Stats seen
    // (the helper attaches before its first Stats). Skips if the kernel cannot load BPF.
    bool startStreaming(HelperProcess &helper, const QString &mode, QStringList args = {})
    {
        if (mode == "tracepoint")
            args << "--force-tracepoint";
        QString error;
        if (!helper.start(helperPath(), args, &error))
            qFatal("cannot start helper: %s", qPrintable(error));
        auto frame = helper.readFrame(15000, &error);
        if (!frame)
            qFatal("no Hello from helper: %s", qPrintable(error + " / " + helper.stderrText()));
        std::string err;
        if (frame->type == wire::MessageType::Error) {
            const QString text = QString::fromStdString(wire::decodeError(frame->payload, err).value_or(""));
            if (text.contains("cannot load BPF")) {
                QTest::qSkip(qPrintable("BPF UNAVAILABLE ON THIS KERNEL - integration test NOT RUN: "
                                        + text), __FILE__, __LINE__);
                return false;
            }
            qFatal("helper refused: %s", qPrintable(text));
        }
        if (frame->type != wire::MessageType::Hello)
            qFatal("first frame is not Hello");
        const auto hello = wire::decodeHello(frame->payload, err);
        if (!hello || hello->probes.empty())
            qFatal("bad Hello: %s", err.c_str());
        if (QString::fromStdString(hello->probes[0].status) != mode)
            qFatal("helper used %s, expected %s (%s)", hello->probes[0].status.c_str(),
                   qPrintable(mode), hello->probes[0].detail.c_str());
        if (hello->monotonicNs == 0 || hello->realtimeNs < 1600000000ull * 1000000000ull)
            qFatal("Hello clocks look wrong");
        helper.send(wire::encodeStart({}));
        for (;;) {
            frame = helper.readFrame(10000, &error);
            if (!frame)
                qFatal("no Stats after Start: %s", qPrintable(error + " / " + helper.stderrText()));
            if (frame->type == wire::MessageType::Stats)
                return true;
        }
    }

    static bool collect(HelperProcess &helper, Capture &cap, int timeoutMs,
                        const std::function<bool()> &done)
    {
        QElapsedTimer t;
        t.start();
        while (!done()) {
            if (t.elapsed() > timeoutMs)
                return false;
            QString error;
            const auto frame = helper.readFrame(int(timeoutMs - t.elapsed()), &error);
            if (!frame)
                return false;
            if (frame->type == wire::MessageType::Stats) {
                ++cap.statsFrames;
                std::string err;
                const auto stats = wire::decodeStats(frame->payload, err);
                if (!stats || stats->lostTotal() != 0)
                    qWarning("stats: %s lost=%llu", err.c_str(),
                             stats ? (unsigned long long)stats->lostTotal() : 0ull);
                continue;
            }
            if (frame->type != wire::MessageType::Records)
                continue;
            std::string err;
            const bool ok = wire::forEachRecord(frame->payload, [&](const wire::Record &r) {
                if (r.type == TS_REC_STATE_CHANGE)
                    cap.add(r.stateChange);
                else if (r.type == TS_REC_CLOSE_STATS)
                    cap.add(r.closeStats);
            }, err);
            if (!ok)
                qFatal("bad Records frame: %s", err.c_str());
        }
        return true;
    }

    static Traffic runTraffic(bool v6)
    {
        Traffic t;
        t.family = v6 ? AF_INET6 : AF_INET;
        const QString fam = v6 ? "6" : "4";
        const QString traffic = binDir() + "/helper_traffic";
        QProcess server, client, refused;
        server.start(traffic, {"server", fam, QString::number(kServerSends),
                               QString::number(kClientSends)});
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

    // Stops (or has already killed) the helper and proves nothing of it stayed in the kernel.
    void verifyNothingLeft(const BpfObjects &ours)
    {
        QVERIFY2(!ours.progIds.isEmpty() && !ours.linkIds.isEmpty(),
                 "helper held no BPF program/link fds while streaming");
        BpfObjects left;
        QString bpftoolError;
        for (int i = 0; i < 300; ++i) { // program release is deferred (RCU): allow ~3 s
            left = stillLoaded(ours, &bpftoolError);
            if (left.progIds.isEmpty() && left.linkIds.isEmpty())
                break;
            QThread::msleep(10);
        }
        QVERIFY2(bpftoolError.isEmpty(), qPrintable(bpftoolError));
        QVERIFY2(left.progIds.isEmpty(), "a BPF program of ours is still loaded");
        QVERIFY2(left.linkIds.isEmpty(), "a BPF link of ours is still attached");
        QCOMPARE(tracefsMounts(), m_tracefsBefore);
        const QStringList others = loadedTcpscopePrograms();
        if (!others.isEmpty()) // someone else's helper may legitimately be running
            qInfo("note: other tcpscope programs loaded (not ours): %s", qPrintable(others.join(", ")));
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
    void initTestCase()
    {
        if (geteuid() != 0)
            QSKIP("NOT ROOT: helper integration tests need root (real BPF + real traffic). "
                  "Run `sudo ctest -L integration` - these tests did NOT run.");
        QVERIFY2(QFileInfo(helperPath()).isExecutable(), qPrintable(helperPath()));
        QVERIFY(QFileInfo(binDir() + "/helper_traffic").isExecutable());
        m_tracefsBefore = tracefsMounts();
    }

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
                return cap.closed(client) && cap.closed(server) && cap.closed(listener)
                       && cap.closed(refused);
            };
            QVERIFY2(collect(helper, cap, 10000, found),
                     qPrintable(QStringLiteral("missing records (client %1 server %2 listener %3 "
                                               "refused %4) helper stderr: %5")
                                    .arg(client).arg(server).arg(listener).arg(refused)
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
        verifyNothingLeft(ours);
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
        verifyNothingLeft(ours);
    }

    void exitPaths_data()
    {
        QTest::addColumn<QString>("how");
        QTest::newRow("SIGTERM") << "SIGTERM";
        QTest::newRow("SIGINT") << "SIGINT";
        QTest::newRow("hangup") << "hangup";
        QTest::newRow("malformed") << "malformed";
    }
    void exitPaths()
    {
        QFETCH(QString, how);
        HelperProcess helper;
        if (!startStreaming(helper, "tp_btf"))
            return;
        const BpfObjects ours = bpfObjectsOf(helper.pid());
        if (how == "SIGTERM")
            helper.kill(SIGTERM);
        else if (how == "SIGINT")
            helper.kill(SIGINT);
        else if (how == "hangup")
            helper.closeSocket();
        else
            helper.send({0, 0, 0, 0, 9, 0, 0, 0}); // unknown message type 9
        if (how == "malformed") {
            QString error;
            std::optional<wire::Frame> f;
            do // Records/Stats may precede the Error frame
                f = helper.readFrame(5000, &error);
            while (f && f->type != wire::MessageType::Error);
            QVERIFY2(f, qPrintable(error));
            std::string err;
            QVERIFY(QString::fromStdString(*wire::decodeError(f->payload, err))
                        .contains("unknown message type 9"));
        }
        QCOMPARE(helper.waitExit(5000), 0);
        verifyNothingLeft(ours);
    }

    // A server that was listening before the capture started: the helper's /proc scan seeds the
    // listener map, so its accepted socket still belongs to the server, not the client.
    void preexistingListenerIsAttributed()
    {
        QProcess server;
        server.start(binDir() + "/helper_traffic",
                     {"server", "4", QString::number(kServerSends), QString::number(kClientSends)});
        const unsigned port = readPort(server);
        const qint64 serverPid = server.processId(); // QProcess forgets it once finished
        QVERIFY(port != 0);
        HelperProcess helper;
        if (!startStreaming(helper, "tp_btf"))
            return;
        QProcess client;
        client.start(binDir() + "/helper_traffic", {"client", "4", QString::number(port),
                                                    QString::number(kClientSends),
                                                    QString::number(kServerSends)});
        QVERIFY(client.waitForFinished(10000) && client.exitCode() == 0);
        QVERIFY(server.waitForFinished(10000) && server.exitCode() == 0);
        Capture cap;
        int accepted = -1, listener = -1;
        QVERIFY2(collect(helper, cap, 10000, [&] {
                     accepted = cap.find([&](const ts_state_change &c) {
                         return c.family == AF_INET && c.oldstate == 10 && c.newstate == 3
                                && c.sport == port;
                     });
                     listener = cap.find([&](const ts_state_change &c) {
                         return c.family == AF_INET && c.oldstate == 10 && c.newstate == 7
                                && c.sport == port;
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

    // --listen: socket created 0660, a client that is neither root nor the helper's uid gets an
    // Error frame, the helper keeps serving, and SIGTERM removes the socket.
    void listenModeChecksPeer()
    {
        const QString path = QDir::tempPath() + QStringLiteral("/ts_helper_test_%1.sock").arg(getpid());
        QFile::remove(path);
        QProcess helper;
        helper.start(helperPath(), {"--listen", path});
        struct stat st{};
        for (int i = 0; i < 500 && ::stat(QFile::encodeName(path).constData(), &st) != 0; ++i)
            QThread::msleep(10);
        QVERIFY2(S_ISSOCK(st.st_mode), qPrintable(path));
        QCOMPARE(st.st_mode & 0777, mode_t(0660));
        // Let "nobody" reach the socket so the SO_PEERCRED check is what stops it.
        QVERIFY(::chmod(QFile::encodeName(path).constData(), 0666) == 0);
        const QByteArray cpath = QFile::encodeName(path);
        const pid_t child = fork();
        if (child == 0) {
            if (setgid(65534) != 0 || setuid(65534) != 0)
                _exit(10);
            const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
            sockaddr_un addr{};
            addr.sun_family = AF_UNIX;
            std::strncpy(addr.sun_path, cpath.constData(), sizeof addr.sun_path - 1);
            if (::connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0)
                _exit(11);
            wire::FrameDecoder d;
            std::uint8_t buf[4096];
            wire::Frame f;
            for (;;) {
                const ssize_t n = recv(fd, buf, sizeof buf, 0);
                if (n <= 0)
                    _exit(12);
                d.feed({buf, std::size_t(n)});
                if (d.next(f) == wire::FrameDecoder::Status::Frame)
                    break;
            }
            std::string err;
            const auto text = wire::decodeError(f.payload, err);
            _exit(f.type == wire::MessageType::Error && text && text->find("neither root") != std::string::npos ? 0 : 13);
        }
        int status = 0;
        QCOMPARE(waitpid(child, &status, 0), child);
        QVERIFY2(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                 qPrintable(QStringLiteral("unprivileged client not refused: %1 %2").arg(status)
                                .arg(QString::fromLocal8Bit(helper.readAllStandardError()))));
        // Still serving: root gets a Hello.
        const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, cpath.constData(), sizeof addr.sun_path - 1);
        QVERIFY(::connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) == 0);
        std::uint8_t hdr[8];
        QCOMPARE(recv(fd, hdr, sizeof hdr, MSG_WAITALL), ssize_t(8));
        QCOMPARE(int(hdr[4]), int(wire::MessageType::Hello));
        ::close(fd);
        helper.terminate(); // SIGTERM
        QVERIFY(helper.waitForFinished(5000));
        QCOMPARE(helper.exitStatus(), QProcess::NormalExit);
        QCOMPARE(helper.exitCode(), 0);
        QVERIFY(!QFile::exists(path));
    }

    // A one-page ring buffer cannot hold a burst: reserve failures must show up in Stats, so
    // that everything the program tried to emit is either delivered or counted as lost.
    void lossesAreCounted()
    {
        HelperProcess helper;
        if (!startStreaming(helper, "tp_btf", {"--ringbuf-kib", "4"}))
            return;
        constexpr int kConnections = 300;
        QProcess burst;
        burst.start(binDir() + "/helper_traffic", {"burst", "4", QString::number(kConnections)});
        QVERIFY(burst.waitForFinished(20000) && burst.exitCode() == 0);
        QThread::msleep(100); // let the last closes (FIN/ACK processing) happen
        std::uint64_t delivered = 0, lost = 0, statsAfter = 0;
        std::vector<std::uint64_t> perCpu;
        QElapsedTimer t;
        t.start();
        while (statsAfter < 2 && t.elapsed() < 5000) { // two Stats: the second is after all
            QString error;
            const auto f = helper.readFrame(3000, &error);
            QVERIFY2(f, qPrintable(error));
            std::string err;
            if (f->type == wire::MessageType::Records) {
                wire::forEachRecord(f->payload, [&](const wire::Record &) { ++delivered; }, err);
            } else if (f->type == wire::MessageType::Stats) {
                const auto s = wire::decodeStats(f->payload, err);
                QVERIFY(s);
                lost = s->lostTotal();
                perCpu = s->lostPerCpu;
                ++statsAfter;
            }
        }
        // Per connection: 5 state changes + close stats on each side.
        const std::uint64_t expected = kConnections * 12ull + 3;
        qInfo("burst of %d connections: delivered %llu, lost %llu (per CPU: %zu counters)",
              kConnections, (unsigned long long)delivered, (unsigned long long)lost, perCpu.size());
        QVERIFY(!perCpu.empty() && perCpu.size() >= std::size_t(sysconf(_SC_NPROCESSORS_ONLN)));
        QVERIFY2(lost > 0, "a 4 KiB ring buffer absorbed the whole burst: no loss provoked");
        QVERIFY2(delivered + lost >= expected, "records vanished without being counted as lost");
        QVERIFY(helper.send(wire::encodeStop()));
        QCOMPARE(helper.waitExit(5000), 0);
    }

    void withoutPrivilegesExplainsAndExits77()
    {
        HelperProcess helper;
        QString error;
        QVERIFY(helper.start(helperPath(), {}, &error, 65534)); // nobody
        QCOMPARE(helper.waitExit(5000), 77);
        const QString text = helper.stderrText();
        QCOMPARE(text.count('\n'), 0);
        QVERIFY2(text.startsWith("tcpscope-helper: needs root or CAP_BPF, CAP_PERFMON and "
                                 "CAP_NET_ADMIN (try: sudo setcap cap_bpf,cap_perfmon,cap_net_admin+ep"),
                 qPrintable(text));
    }
};

QTEST_GUILESS_MAIN(TestHelperLifecycle)
#include "helper_lifecycle_test.moc"
