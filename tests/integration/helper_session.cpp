// SPDX-License-Identifier: GPL-3.0-or-later
#include "helper_session.h"

#include <arpa/inet.h>
#include <cstring>
#include <ctime>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QTest>
#include <QThread>

#include <unistd.h>

namespace tcpscope::test {

QString binDir()
{
    return QCoreApplication::applicationDirPath();
}

QString helperPath()
{
    const QByteArray env = qgetenv("TCPSCOPE_HELPER");
    return env.isEmpty() ? binDir() + "/tcpscope-helper" : QString::fromLocal8Bit(env);
}

unsigned readPort(QProcess &p)
{
    // The line may already be buffered (read along with earlier output): then don't wait.
    if (!p.canReadLine() && !p.waitForReadyRead(5000))
        return 0;
    const QByteArray line = p.readLine().trimmed(); // "port N"
    return line.startsWith("port ") ? line.mid(5).toUInt() : 0;
}

// Starts a helper and completes the handshake: Hello checked, Start sent, first Stats seen
// (the helper attaches before its first Stats). Skips if the kernel cannot load BPF.
bool requireHelperEnvironment(QStringList *tracefsBefore)
{
    // QSKIP/QVERIFY only leave the function they are in; their underlying calls let the test's
    // initTestCase return on our false instead.
    if (geteuid() != 0) {
        QTest::qSkip("NOT ROOT: helper integration tests need root (real BPF + real traffic). "
                     "Run `sudo ctest -L integration` - these tests did NOT run.",
                     __FILE__, __LINE__);
        return false;
    }
    const QString helper = helperPath();
    if (!QTest::qVerify(QFileInfo(helper).isExecutable(), "helper is executable",
                        qPrintable(helper), __FILE__, __LINE__))
        return false;
    const QString traffic = binDir() + "/ts_traffic";
    if (!QTest::qVerify(QFileInfo(traffic).isExecutable(), "ts_traffic is executable",
                        qPrintable(traffic), __FILE__, __LINE__))
        return false;
    *tracefsBefore = tracefsMounts();
    return true;
}

bool startStreaming(HelperProcess &helper, const QString &mode, QStringList args,
                    const wire::StartOptions &start, wire::Hello *helloOut,
                    const std::function<void()> &beforeStart)
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
        const auto e = wire::decodeError(frame->payload, err);
        const QString text = QString::fromStdString(e ? e->text() : err);
        if (e && e->code == wire::ErrorCode::KernelUnsupported) {
            QTest::qSkip(
                qPrintable("BPF UNAVAILABLE ON THIS KERNEL - integration test NOT RUN: " + text),
                __FILE__, __LINE__);
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
    if (helloOut)
        *helloOut = *hello;
    if (beforeStart)
        beforeStart();
    helper.send(wire::encodeStart(start));
    for (;;) {
        frame = helper.readFrame(10000, &error);
        if (!frame)
            qFatal("no Stats after Start: %s", qPrintable(error + " / " + helper.stderrText()));
        if (frame->type == wire::MessageType::Stats)
            return true;
    }
}

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
    (void)bind(fd, reinterpret_cast<sockaddr *>(&ss), len);
    (void)getsockname(fd, reinterpret_cast<sockaddr *>(&ss), &len);
    close(fd);
    return ntohs(v6 ? reinterpret_cast<sockaddr_in6 *>(&ss)->sin6_port
                    : reinterpret_cast<sockaddr_in *>(&ss)->sin_port);
}

bool collect(HelperProcess &helper, Capture &cap, int timeoutMs, const std::function<bool()> &done)
{
    QElapsedTimer t;
    t.start();
    while (!done()) {
        if (t.elapsed() > timeoutMs)
            return false;
        QString error;
        const auto frame = helper.readFrame(int(timeoutMs - t.elapsed()), &error);
        if (!frame) {
            if (error.contains("closed the socket"))
                cap.helperClosed = true;
            return false;
        }
        if (frame->type == wire::MessageType::Stats) {
            ++cap.statsFrames;
            std::string err;
            const auto stats = wire::decodeStats(frame->payload, err);
            if (stats) {
                cap.packetsFiltered = stats->packetsFiltered;
                cap.packetsLost = stats->packetLostTotal();
                cap.lost = stats->lostTotal();
                cap.missedRuns = stats->missedRuns;
            }
            if (!stats || stats->lostTotal() != 0)
                qWarning("stats: %s lost=%llu", err.c_str(),
                         stats ? (unsigned long long)stats->lostTotal() : 0ull);
            continue;
        }
        if (frame->type != wire::MessageType::Records)
            continue;
        std::string err;
        const bool ok = wire::forEachRecord(
            frame->payload,
            [&](const wire::Record &r) {
                if (r.type == TS_REC_STATE_CHANGE)
                    cap.add(r.stateChange);
                else if (r.type == TS_REC_CLOSE_STATS)
                    cap.add(r.closeStats);
                else if (r.type == TS_REC_INTERFACE)
                    cap.interfaces.push_back(r.interface);
                else if (r.type == TS_REC_TCP_SAMPLE)
                    cap.samples.push_back(r.tcpSample);
                else if (r.type == TS_REC_TCP_EVENT)
                    cap.events.push_back(r.tcpEvent);
                else if (r.type == TS_REC_DROP)
                    cap.drops.push_back(r.drop);
                else if (r.type == TS_REC_LISTENER)
                    cap.listeners.push_back(r.listener);
                else if (r.type == TS_REC_REASON_NAME)
                    cap.reasonNames[{r.reasonName.table, r.reasonName.value}] = std::string(
                        r.reasonName.name, strnlen(r.reasonName.name, sizeof r.reasonName.name));
                if (r.type == TS_REC_PACKET_SNAP)
                    cap.snaps.push_back(r.packetSnap);
                if (const ts_packet *p = r.asPacket())
                    cap.packets.push_back(*p);
            },
            err);
        if (!ok)
            qFatal("bad Records frame: %s", err.c_str());
    }
    return true;
}

bool stopAndDrain(HelperProcess &helper, Capture &cap, int timeoutMs)
{
    if (!helper.send(wire::encodeStop()))
        return false;
    collect(helper, cap, timeoutMs, [] { return false; });
    return cap.helperClosed;
}

std::uint64_t monotonicNs()
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return std::uint64_t(ts.tv_sec) * 1000000000ull + std::uint64_t(ts.tv_nsec);
}

// Stops (or has already killed) the helper and proves nothing of it stayed in the kernel.
void verifyNothingLeft(const BpfObjects &ours, const QStringList &tracefsBefore)
{
    QVERIFY2(!ours.progIds.isEmpty() && !ours.linkIds.isEmpty(),
             "helper held no BPF program/link fds while streaming");
    BpfObjects left;
    QString bpftoolError;
    // Program release is deferred (RCU): allow ~3 s. bpftool itself can fail for a moment when
    // another process's program or link vanishes while it walks the ids: retry that too, and
    // only report a failure that persists.
    for (int i = 0; i < 300; ++i) {
        bpftoolError.clear();
        left = stillLoaded(ours, &bpftoolError);
        if (bpftoolError.isEmpty() && left.progIds.isEmpty() && left.linkIds.isEmpty())
            break;
        QThread::msleep(10);
    }
    QVERIFY2(bpftoolError.isEmpty(), qPrintable(bpftoolError));
    QVERIFY2(left.progIds.isEmpty(), "a BPF program of ours is still loaded");
    QVERIFY2(left.linkIds.isEmpty(), "a BPF link of ours is still attached");
    QCOMPARE(tracefsMounts(), tracefsBefore);
    const QStringList others = loadedTcpscopePrograms();
    if (!others.isEmpty()) // someone else's helper may legitimately be running
        qInfo("note: other tcpscope programs loaded (not ours): %s", qPrintable(others.join(", ")));
}

pid_t helperChildOf(qint64 recorderPid)
{
    const QByteArray parent = "\nPPid:\t" + QByteArray::number(recorderPid) + "\n";
    for (const QString &pid : QDir(QStringLiteral("/proc")).entryList(QDir::Dirs)) {
        QFile status(QStringLiteral("/proc/%1/status").arg(pid));
        if (pid.toInt() <= 0 || !status.open(QIODevice::ReadOnly))
            continue;
        const QByteArray text = status.readAll();
        if (text.startsWith("Name:\ttcpscope-helpe") && text.contains(parent))
            return pid_t(pid.toInt());
    }
    return 0;
}

bool processGone(pid_t pid)
{
    QFile status(QStringLiteral("/proc/%1/status").arg(pid));
    if (!status.open(QIODevice::ReadOnly))
        return true;
    return status.readAll().contains("\nState:\tZ");
}

} // namespace tcpscope::test
