// SPDX-License-Identifier: GPL-3.0-or-later
// Integration: how the real tcpscope-helper ends and defends itself - signals, hang-up, bad
// frames, --listen peer checks, missing privileges - and that ring-buffer losses are counted.
// Needs root; skips loudly otherwise.
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

class TestHelperControl : public QObject
{
    Q_OBJECT

    QStringList m_tracefsBefore;

private slots:
    void initTestCase() { requireHelperEnvironment(&m_tracefsBefore); }
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
            helper.send({0, 0, 0, 0, 99, 0, 0, 0}); // unknown message type 99
        if (how == "malformed") {
            QString error;
            std::optional<wire::Frame> f;
            do // Records/Stats/Log may precede the Error frame
                f = helper.readFrame(5000, &error);
            while (f && f->type != wire::MessageType::Error);
            QVERIFY2(f, qPrintable(error));
            std::string err;
            const auto e = wire::decodeError(f->payload, err);
            QVERIFY2(e, err.c_str());
            QCOMPARE(e->code, wire::ErrorCode::Protocol);
            QVERIFY2(QString::fromStdString(e->secondary).contains("unknown message type 99"),
                     e->secondary.c_str());
        }
        QCOMPARE(helper.waitExit(5000), 0);
        verifyNothingLeft(ours, m_tracefsBefore);
    }
    // --listen: socket created 0660, a client that is neither root nor the helper's uid gets an
    // Error frame, the helper keeps serving, and SIGTERM removes the socket.
    void listenModeChecksPeer()
    {
        const QString path =
            QDir::tempPath() + QStringLiteral("/ts_helper_test_%1.sock").arg(getpid());
        QFile::remove(path);
        QProcess helper;
        helper.start(helperPath(), {"--listen", path});
        struct stat st
        {
        };
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
            const auto e = wire::decodeError(f.payload, err);
            _exit(f.type == wire::MessageType::Error && e &&
                          e->code == wire::ErrorCode::Permission &&
                          e->secondary.find("neither root") != std::string::npos
                      ? 0
                      : 13);
        }
        int status = 0;
        QCOMPARE(waitpid(child, &status, 0), child);
        QVERIFY2(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                 qPrintable(QStringLiteral("unprivileged client not refused: %1 %2")
                                .arg(status)
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

    // A client that connects and never sends Start gets an Error after the helper's timeout
    // and the helper goes on serving the next client (its single slot is not held forever).
    void silentClientTimesOut()
    {
        const QString path =
            QDir::tempPath() + QStringLiteral("/ts_helper_silent_%1.sock").arg(getpid());
        QFile::remove(path);
        QProcess helper;
        helper.start(helperPath(), {"--listen", path});
        const QByteArray cpath = QFile::encodeName(path);
        struct stat st
        {
        };
        for (int i = 0; i < 500 && ::stat(cpath.constData(), &st) != 0; ++i)
            QThread::msleep(10);
        QVERIFY2(S_ISSOCK(st.st_mode), qPrintable(path));
        const auto connectTo = [&cpath] {
            const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
            sockaddr_un addr{};
            addr.sun_family = AF_UNIX;
            std::strncpy(addr.sun_path, cpath.constData(), sizeof addr.sun_path - 1);
            return ::connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) == 0 ? fd : -1;
        };
        const int silent = connectTo();
        QVERIFY(silent >= 0);
        timeval tv{20, 0}; // the helper's timeout is 10 s; never hang the suite
        setsockopt(silent, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        wire::FrameDecoder d;
        std::vector<wire::Frame> frames;
        std::uint8_t buf[4096];
        for (;;) {
            const ssize_t n = recv(silent, buf, sizeof buf, 0);
            if (n <= 0)
                break;
            d.feed({buf, std::size_t(n)});
            wire::Frame f;
            while (d.next(f) == wire::FrameDecoder::Status::Frame)
                // Warnings and the host's owners report are not part of this story.
                if (f.type != wire::MessageType::Log && f.type != wire::MessageType::HostOwners)
                    frames.push_back(std::move(f));
        }
        ::close(silent);
        QCOMPARE(frames.size(), std::size_t(2));
        QCOMPARE(frames[0].type, wire::MessageType::Hello);
        QCOMPARE(frames[1].type, wire::MessageType::Error);
        std::string err;
        const auto e = wire::decodeError(frames[1].payload, err);
        QVERIFY2(e, err.c_str());
        QCOMPARE(e->code, wire::ErrorCode::Protocol);
        QVERIFY2(e->primary.find("no Start from the client") != std::string::npos,
                 e->primary.c_str());
        const int next = connectTo();
        QVERIFY(next >= 0);
        std::uint8_t hdr[8];
        QCOMPARE(recv(next, hdr, sizeof hdr, MSG_WAITALL), ssize_t(8));
        QCOMPARE(int(hdr[4]), int(wire::MessageType::Hello));
        ::close(next);
        helper.terminate();
        QVERIFY(helper.waitForFinished(5000));
        QCOMPARE(helper.exitCode(), 0);
    }

    // A client of the previous protocol gets a refusal it can read (the plain-text frame every
    // version decodes) naming both versions, and the helper exits without attaching anything.
    void olderClientRefused()
    {
        HelperProcess helper;
        QString error;
        QVERIFY2(helper.start(helperPath(), {}, &error), qPrintable(error));
        auto f = helper.readFrame(15000, &error);
        QVERIFY2(f, qPrintable(error + " / " + helper.stderrText()));
        std::string err;
        if (f->type == wire::MessageType::Error) {
            const auto e = wire::decodeError(f->payload, err);
            if (e && e->code == wire::ErrorCode::KernelUnsupported)
                QSKIP(qPrintable("BPF UNAVAILABLE ON THIS KERNEL: " +
                                 QString::fromStdString(e->text())));
        }
        QCOMPARE(f->type, wire::MessageType::Hello);
        std::vector<std::uint8_t> start = wire::encodeStart({});
        start[wire::kHeaderSize + sizeof wire::kMagic] = 4; // protocol 4, low byte
        QVERIFY(helper.send(start));
        do
            f = helper.readFrame(5000, &error);
        while (f && f->type == wire::MessageType::HostOwners);
        QVERIFY2(f, qPrintable(error));
        QCOMPARE(f->type, wire::MessageType::TextError);
        const auto text = wire::decodeTextError(f->payload, err);
        QVERIFY2(text, err.c_str());
        QCOMPARE(QString::fromStdString(*text),
                 QStringLiteral("tcpscope-helper: tcpscope speaks protocol 4, this tcpscope-helper "
                                "needs 6: install matching versions of tcpscope and "
                                "tcpscope-helper"));
        QCOMPARE(helper.waitExit(5000), 0);
    }

    // A one-page ring buffer cannot hold a burst: reserve failures must show up in Stats, so
    // that everything the program tried to emit is either delivered or counted as lost. The
    // helper is stopped (SIGSTOP) during the burst so that it cannot drain the ring meanwhile:
    // a fast reader on an idle machine otherwise absorbs a burst now and then.
    void lossesAreCounted()
    {
        HelperProcess helper;
        if (!startStreaming(helper, "tp_btf", {"--ringbuf-kib", "4"}))
            return;
        constexpr int kConnections = 300;
        helper.kill(SIGSTOP);
        QProcess burst;
        burst.start(binDir() + "/ts_traffic", {"burst", "4", QString::number(kConnections)});
        const bool burstOk = burst.waitForFinished(20000) && burst.exitCode() == 0;
        QThread::msleep(100); // let the last closes (FIN/ACK processing) happen
        helper.kill(SIGCONT);
        QVERIFY(burstOk);
        std::uint64_t delivered = 0, lost = 0, missed = 0, statsAfter = 0;
        std::vector<std::uint64_t> perCpu;
        QElapsedTimer t;
        t.start();
        while (statsAfter < 2 && t.elapsed() < 5000) { // two Stats: the second is after all
            QString error;
            const auto f = helper.readFrame(3000, &error);
            QVERIFY2(f, qPrintable(error));
            std::string err;
            if (f->type == wire::MessageType::Records) {
                wire::forEachRecord(
                    f->payload, [&](const wire::Record &) { ++delivered; }, err);
            } else if (f->type == wire::MessageType::Stats) {
                const auto s = wire::decodeStats(f->payload, err);
                QVERIFY(s);
                lost = s->lostTotal();
                missed = s->missedRuns;
                perCpu = s->lostPerCpu;
                ++statsAfter;
            }
        }
        // Per connection: 5 state changes + close stats on each side.
        const std::uint64_t expected = kConnections * 12ull + 3;
        qInfo("burst of %d connections: delivered %llu, lost %llu (per CPU: %zu counters), "
              "skipped program runs %llu",
              kConnections, (unsigned long long)delivered, (unsigned long long)lost, perCpu.size(),
              (unsigned long long)missed);
        QVERIFY(!perCpu.empty() && perCpu.size() >= std::size_t(sysconf(_SC_NPROCESSORS_ONLN)));
        QVERIFY2(lost > 0, "a 4 KiB ring buffer absorbed the whole burst: no loss provoked");
        // A run the kernel skipped never tried to emit: at most a state change + close stats.
        QVERIFY2(delivered + lost + 2 * missed >= expected,
                 "records vanished without being counted as lost");
        QVERIFY(helper.send(wire::encodeStop()));
        QCOMPARE(helper.waitExit(5000), 0);
    }

    void userRingBufferSizeIsCapped()
    {
        // A user may run the capability-bearing helper directly: it refuses to pin more kernel
        // memory than its cap, before it even looks at its privileges.
        HelperProcess helper;
        QString error;
        QVERIFY(helper.start(helperPath(), {"--ringbuf-kib", "1048576"}, &error, 65534));
        QCOMPARE(helper.waitExit(5000), 64);
        const QString text = helper.stderrText();
        QVERIFY2(text.contains("--ringbuf-kib 1048576") && text.contains("32768 KiB") &&
                     text.contains("not root"),
                 qPrintable(text));
        HelperProcess packets;
        QVERIFY(packets.start(helperPath(), {"--packet-ringbuf-kib", "65536"}, &error, 65534));
        QCOMPARE(packets.waitExit(5000), 64);
        QVERIFY2(packets.stderrText().contains("--packet-ringbuf-kib 65536"),
                 qPrintable(packets.stderrText()));
        // Within the cap the next check decides (nobody has no capabilities: 77).
        HelperProcess small;
        QVERIFY(small.start(helperPath(), {"--tcpinfo-ringbuf-kib", "32768"}, &error, 65534));
        QCOMPARE(small.waitExit(5000), 77);
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
                                 "CAP_NET_ADMIN (try: sudo setcap "
                                 "cap_bpf,cap_perfmon,cap_net_admin,cap_sys_ptrace+ep"),
                 qPrintable(text));
    }
};

QTEST_GUILESS_MAIN(TestHelperControl)
#include "test_helper_control.moc"
