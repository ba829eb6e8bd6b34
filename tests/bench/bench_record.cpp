// SPDX-License-Identifier: GPL-3.0-or-later
// bench_record: the whole capture path (BPF -> ring buffer -> tcpscope-helper -> socket ->
// ConnectionTracker -> SQLite) under generated loopback connection churn. Prints records/s
// received and written, the kernel's lost-record count and the memory the recorder needed
// (peak RSS of this process, which runs LiveCapture in-process). Needs root (helper).
//   bench_record [--seconds D] [--rate N] [--threads T] [--bulk B] [--bulk-mbps M]
//                [--rotate SIZE|DURATION] [--keep N] [--no-read] [-o FILE]
// N connect/close cycles per second in total (0 = as fast as the threads can), from T threads;
// B long-lived connections streaming M MB/s each all along (default 0; M 16, 0 = unthrottled).
// --no-read skips reading the session back (a long run's file is large; reading it would
// dominate the time).
#include "capture/live_capture.h"
#include "session/session_reader.h"

#include <QCoreApplication>
#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>
#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <netinet/in.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace std::chrono;

namespace {

struct Options
{
    double seconds = 5;
    int rate = 5000;
    int threads = 4;
    int bulk = 0;
    int bulkMbps = 16;
    bool read = true;
    tcpscope::RotationLimits rotation;
    QString output;
};

bool parse(int argc, char **argv, Options &o)
{
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        const bool hasValue = i + 1 < argc;
        if (a == "--seconds" && hasValue)
            o.seconds = std::atof(argv[++i]);
        else if (a == "--rate" && hasValue)
            o.rate = std::atoi(argv[++i]);
        else if (a == "--threads" && hasValue)
            o.threads = std::atoi(argv[++i]);
        else if (a == "--bulk" && hasValue)
            o.bulk = std::atoi(argv[++i]);
        else if (a == "--bulk-mbps" && hasValue)
            o.bulkMbps = std::atoi(argv[++i]);
        else if (a == "--no-read")
            o.read = false;
        else if (a == "--rotate" && hasValue) {
            QString why;
            const auto r = tcpscope::parseRotation(QString::fromLocal8Bit(argv[++i]), &why);
            if (!r)
                return false;
            o.rotation.maxBytes = r->maxBytes;
            o.rotation.maxDurationMs = r->maxDurationMs;
        } else if (a == "--keep" && hasValue)
            o.rotation.keep = std::atoi(argv[++i]);
        else if ((a == "-o" || a == "--output") && hasValue)
            o.output = QString::fromLocal8Bit(argv[++i]);
        else
            return false;
    }
    return o.seconds > 0 && o.rate >= 0 && o.threads > 0 && o.threads <= 64 && o.bulk >= 0 &&
           o.bulk <= 64 && o.rotation.keep >= 0;
}

// kB value of one line of /proc/self/status ("VmHWM:", "VmRSS:").
long statusKb(const char *field)
{
    QFile f(QStringLiteral("/proc/self/status"));
    if (!f.open(QIODevice::ReadOnly))
        return -1;
    const QByteArray key(field);
    for (const QByteArray &line : f.readAll().split('\n')) {
        if (line.startsWith(key))
            return line.mid(key.size()).trimmed().split(' ').value(0).toLong();
    }
    return -1;
}

// A long-lived connection streaming data until `end`: a sender writes 16 KiB every
// 16 / mbps ms (16 KiB per millisecond = ~16 MB/s; mbps 0 = as fast as loopback takes it), the
// accepted side reads and discards.
void bulkSender(sockaddr_in addr, steady_clock::time_point end, int mbps,
                std::atomic<quint64> &bytes)
{
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0) {
        if (fd >= 0)
            close(fd);
        return;
    }
    std::vector<char> chunk(16 * 1024, 'x');
    auto next = steady_clock::now();
    while (steady_clock::now() < end) {
        const ssize_t n = send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL);
        if (n <= 0)
            break;
        bytes += quint64(n);
        if (mbps <= 0)
            continue;
        next += duration_cast<steady_clock::duration>(duration<double, std::milli>(16.0 / mbps));
        std::this_thread::sleep_until(next);
    }
    close(fd);
}

void bulkSink(int listenFd, int count)
{
    std::vector<std::thread> readers;
    for (int i = 0; i < count; ++i) {
        const int c = accept(listenFd, nullptr, nullptr);
        if (c < 0)
            break;
        readers.emplace_back([c] {
            std::vector<char> buf(256 * 1024);
            while (recv(c, buf.data(), buf.size(), 0) > 0) {
            }
            close(c);
        });
    }
    for (std::thread &t : readers)
        t.join();
}

// Accepts and closes at once: the server closes first, so client ports never pile up in
// TIME_WAIT and a long run does not exhaust the ephemeral range.
void acceptLoop(int listenFd, std::atomic<bool> &stop)
{
    while (!stop) {
        const int c = accept(listenFd, nullptr, nullptr);
        if (c >= 0)
            close(c);
    }
}

void churn(sockaddr_in addr, double perSecond, steady_clock::time_point end,
           std::atomic<quint64> &done, std::atomic<quint64> &failed)
{
    const auto interval = perSecond > 0 ? duration<double>(1.0 / perSecond) : duration<double>(0);
    auto next = steady_clock::now();
    char byte;
    while (steady_clock::now() < end) {
        const int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0 || connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0) {
            ++failed;
        } else {
            [[maybe_unused]] auto n = recv(fd, &byte, 1, 0); // wait for the server's FIN
            ++done;
        }
        if (fd >= 0)
            close(fd);
        if (perSecond > 0) {
            next += duration_cast<steady_clock::duration>(interval);
            std::this_thread::sleep_until(next);
        }
    }
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv); // helperPath(): tcpscope-helper next to this binary
    Options opt;
    if (!parse(argc, argv, opt)) {
        std::fprintf(stderr,
                     "usage: bench_record [--seconds D] [--rate N] [--threads T] [--bulk B]\n"
                     "                    [--bulk-mbps M]\n"
                     "                    [--rotate SIZE|DURATION] [--keep N] [--no-read] "
                     "[-o FILE]\n"
                     "  N connect/close per second in total (default 5000, 0 = unthrottled)\n"
                     "  B long-lived connections streaming M MB/s each (default 0; M default 16,\n"
                     "    0 = as fast as loopback takes it)\n");
        return 2;
    }
    if (geteuid() != 0)
        std::fprintf(stderr,
                     "bench_record: not root - the helper will probably refuse to load BPF\n");
    QTemporaryDir dir;
    const QString file =
        opt.output.isEmpty() ? dir.filePath(QStringLiteral("bench.tcpscope")) : opt.output;

    const int l = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (l < 0 || bind(l, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0 ||
        listen(l, 4096) != 0 || getsockname(l, reinterpret_cast<sockaddr *>(&addr), &len) != 0) {
        std::perror("bench_record: listen");
        return 1;
    }

    // The bulk connections' own listener, so the churn listener's accept loop stays simple.
    const int bl = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in bulkAddr{};
    bulkAddr.sin_family = AF_INET;
    bulkAddr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    len = sizeof bulkAddr;
    if (bl < 0 || bind(bl, reinterpret_cast<sockaddr *>(&bulkAddr), sizeof bulkAddr) != 0 ||
        listen(bl, 64) != 0 ||
        getsockname(bl, reinterpret_cast<sockaddr *>(&bulkAddr), &len) != 0) {
        std::perror("bench_record: listen (bulk)");
        return 1;
    }

    const long rssBeforeKb = statusKb("VmRSS:");
    tcpscope::LiveCapture capture;
    capture.setRotation(opt.rotation);
    QString error;
    const auto captureStart = steady_clock::now();
    if (!capture.start(file, &error)) {
        std::fprintf(stderr, "bench_record: cannot start capture: %s\n", qPrintable(error));
        return 1;
    }
    QString failure;
    QObject::connect(&capture, &tcpscope::LiveCapture::failed, &app,
                     [&failure](const QString &reason) { failure = reason; });
    const double attachSeconds = duration<double>(steady_clock::now() - captureStart).count();
    std::atomic<bool> stopAccept{false};
    std::atomic<quint64> done{0}, failed{0};
    std::vector<std::thread> threads;
    threads.emplace_back(acceptLoop, l, std::ref(stopAccept));
    const auto churnStart = steady_clock::now();
    const auto end =
        churnStart + duration_cast<steady_clock::duration>(duration<double>(opt.seconds));
    std::atomic<quint64> bulkBytes{0};
    std::thread sink(bulkSink, bl, opt.bulk);
    std::vector<std::thread> bulk;
    bulk.reserve(std::size_t(std::max(opt.bulk, 0)));
    for (int i = 0; i < opt.bulk; ++i)
        bulk.emplace_back(bulkSender, bulkAddr, end, opt.bulkMbps, std::ref(bulkBytes));
    for (int i = 0; i < opt.threads; ++i)
        threads.emplace_back(churn, addr, opt.rate > 0 ? double(opt.rate) / opt.threads : 0.0, end,
                             std::ref(done), std::ref(failed));
    // Resident memory over the run: a recorder that keeps every connection grows steadily, a
    // bounded one levels off once closed connections are evicted as fast as they come.
    std::vector<std::pair<double, long>> rssTrace;
    std::atomic<bool> churnDone{false};
    std::thread monitor([&] {
        const auto step = duration<double>(std::max(1.0, opt.seconds / 10));
        auto next = churnStart + duration_cast<steady_clock::duration>(step);
        while (!churnDone) {
            std::this_thread::sleep_for(milliseconds(100));
            if (steady_clock::now() < next)
                continue;
            rssTrace.emplace_back(duration<double>(steady_clock::now() - churnStart).count(),
                                  statusKb("VmRSS:"));
            next += duration_cast<steady_clock::duration>(step);
        }
    });
    for (std::size_t i = 1; i < threads.size(); ++i)
        threads[i].join();
    for (std::thread &t : bulk)
        t.join();
    sink.join();
    churnDone = true;
    monitor.join();
    close(bl);
    const double churnSeconds = duration<double>(steady_clock::now() - churnStart).count();
    stopAccept = true;
    shutdown(l, SHUT_RDWR); // wakes the blocked accept()
    threads[0].join();
    close(l);

    const auto stopBegin = steady_clock::now();
    capture.stop(); // drains the helper, commits the last batch, checkpoints the file
    const auto stopEnd = steady_clock::now();
    const double totalSeconds = duration<double>(stopEnd - churnStart).count();
    const double drainSeconds = duration<double>(stopEnd - stopBegin).count();
    // Peak RSS now, before anything reads the session back.
    const long peakKb = statusKb("VmHWM:");
    QCoreApplication::processEvents(); // deliver a queued failed() from the ingest thread
    if (!failure.isEmpty())
        std::fprintf(stderr, "bench_record: capture failed: %s\n", qPrintable(failure));
    const tcpscope::CaptureStats stats = capture.stats();
    std::printf("memory:   peak RSS %.1f MiB (%.1f MiB before the capture); RSS over the run:",
                peakKb / 1024.0, rssBeforeKb / 1024.0);
    for (const auto &[t, kb] : rssTrace)
        std::printf(" %.0fs=%.0f", t, kb / 1024.0);
    std::printf(" MiB\n");
    std::printf("held:     %llu connections seen, %llu in memory at the end, %llu evicted (%llu "
                "early), %llu late records; bulk %.1f MB sent\n",
                (unsigned long long)stats.connectionsSeen,
                (unsigned long long)stats.connectionsHeld,
                (unsigned long long)stats.connectionsEvicted,
                (unsigned long long)stats.connectionsEvictedEarly,
                (unsigned long long)stats.lateRecords, bulkBytes / 1e6);
    std::printf("order:    %llu records arrived after a newer one (largest inversion %.3f ms), "
                "%llu later than the %.0f ms reorder window (largest %.3f ms)\n",
                (unsigned long long)stats.recordsReordered, stats.maxInversionNs / 1e6,
                (unsigned long long)stats.recordsBeyondWindow, stats.reorderWindowNs / 1e6,
                stats.maxBeyondWindowNs / 1e6);
    std::printf("capture:  %llu records, %llu packets, %llu lost, %llu files, %.1f MiB written\n",
                (unsigned long long)stats.recordsReceived,
                (unsigned long long)stats.packetsReceived, (unsigned long long)stats.lostRecords,
                (unsigned long long)stats.filesWritten, stats.bytesWritten / 1048576.0);
    if (!opt.read || opt.rotation.active())
        return 0;

    const auto session = tcpscope::SessionReader::read(file, &error);
    if (!session) {
        std::fprintf(stderr, "bench_record: session unreadable: %s\n", qPrintable(error));
        return 1;
    }
    quint64 changes = 0;
    for (const tcpscope::Connection &c : session->connections)
        changes += quint64(c.history.size());

    std::printf("churn:    %llu connect/close cycles in %.2f s (%.0f/s, target %s, %d threads), "
                "%llu failed\n",
                (unsigned long long)done.load(), churnSeconds, done / churnSeconds,
                opt.rate > 0 ? qPrintable(QString::number(opt.rate) + QStringLiteral("/s"))
                             : "unthrottled",
                opt.threads, (unsigned long long)failed.load());
    std::printf("capture:  %llu records received in %.2f s = %.0f records/s (kernel -> SQLite), "
                "drain at stop %.2f s\n",
                (unsigned long long)session->info.recordsReceived, totalSeconds,
                session->info.recordsReceived / totalSeconds, drainSeconds);
    std::printf(
        "start:    helper spawned, BPF loaded and attached in %.2f s (not part of the rate)\n",
        attachSeconds);
    const auto &info = session->info;
    const quint64 missed = std::min(info.missedProgramRuns, info.lostRecords);
    std::printf("lost:     %llu records (ring buffer full %llu, skipped program runs %llu)%s\n",
                (unsigned long long)info.lostRecords,
                (unsigned long long)(info.lostRecords - missed), (unsigned long long)missed,
                info.lostRecords ? "  <-- the session is incomplete" : "");
    std::printf("session:  %lld connections, %llu state changes, %.1f MiB -> %s\n",
                (long long)session->connections.size(), (unsigned long long)changes,
                QFileInfo(file).size() / 1048576.0,
                opt.output.isEmpty() ? "(temporary, removed)" : qPrintable(file));
    return 0;
}
