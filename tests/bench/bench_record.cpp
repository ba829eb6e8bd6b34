// SPDX-License-Identifier: GPL-3.0-or-later
// bench_record: the whole capture path (BPF -> ring buffer -> tcpscope-helper -> socket ->
// ConnectionTracker -> SQLite) under generated loopback connection churn. Prints records/s
// received and written, and the kernel's lost-record count. Needs root (it runs the helper).
//   bench_record [--seconds D] [--rate N] [--threads T] [-o FILE]
// N connect/close cycles per second in total (0 = as fast as the threads can), from T threads.
#include "capture/live_capture.h"
#include "session/session_reader.h"

#include <QCoreApplication>
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
        else if ((a == "-o" || a == "--output") && hasValue)
            o.output = QString::fromLocal8Bit(argv[++i]);
        else
            return false;
    }
    return o.seconds > 0 && o.rate >= 0 && o.threads > 0 && o.threads <= 64;
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
                     "usage: bench_record [--seconds D] [--rate N] [--threads T] [-o FILE]\n"
                     "  N connect/close per second in total (default 5000, 0 = unthrottled)\n");
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

    tcpscope::LiveCapture capture;
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
    for (int i = 0; i < opt.threads; ++i)
        threads.emplace_back(churn, addr, opt.rate > 0 ? double(opt.rate) / opt.threads : 0.0, end,
                             std::ref(done), std::ref(failed));
    for (std::size_t i = 1; i < threads.size(); ++i)
        threads[i].join();
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
    QCoreApplication::processEvents(); // deliver a queued failed() from the ingest thread
    if (!failure.isEmpty())
        std::fprintf(stderr, "bench_record: capture failed: %s\n", qPrintable(failure));

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
