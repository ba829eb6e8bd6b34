// SPDX-License-Identifier: GPL-3.0-or-later
// bench_churn_driver: loopback connection churn at a fixed rate for bench_churn.sh, without any
// capture of its own (so a recorder and a reference tool can be measured against what it made).
//   bench_churn_driver --port P --rate N --seconds D [--clients K] [--servers S] [--bytes B]
// One server port P on 127.0.0.1 (S threads, each an epoll loop on its own SO_REUSEPORT
// listener of that port) and K client processes, each making N/K cycles per second for D
// seconds, paced from a common start (a client that falls behind catches up as fast as it can).
// A cycle: connect, B bytes each way (default 64), the client closes first (its side goes to
// TIME_WAIT), the server closes on EOF. Client k connects from 127.0.0.(k+2) with
// IP_BIND_ADDRESS_NO_PORT, so each client has its own ephemeral port range: at 30k cycles/s one
// source address would run out of ports before net.ipv4.tcp_tw_reuse frees TIME_WAIT tuples
// (after 1 s), and tuples are still reused every few seconds.
// Prints one line of key=value pairs: made (completed cycles), failed, seconds (first cycle to
// last client done), rate (made/seconds), accepted and served (server side), port.
#include <arpa/inet.h>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <netinet/in.h>
#include <string>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

double now()
{
    timespec t{};
    clock_gettime(CLOCK_MONOTONIC, &t);
    return double(t.tv_sec) + double(t.tv_nsec) / 1e9;
}

void sleepUntil(double when)
{
    const double d = when - now();
    if (d > 0) {
        timespec t{time_t(d), long((d - double(time_t(d))) * 1e9)};
        nanosleep(&t, nullptr);
    }
}

sockaddr_in loopbackAddr(uint32_t host, unsigned port)
{
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(host);
    a.sin_port = htons(uint16_t(port));
    return a;
}

bool sendAll(int fd, const char *buf, std::size_t n)
{
    std::size_t off = 0;
    while (off < n) {
        const ssize_t w = send(fd, buf + off, n - off, MSG_NOSIGNAL);
        if (w <= 0)
            return false;
        off += std::size_t(w);
    }
    return true;
}

bool readExactly(int fd, char *buf, std::size_t n)
{
    std::size_t got = 0;
    while (got < n) {
        const ssize_t r = recv(fd, buf + got, n - got, 0);
        if (r <= 0)
            return false;
        got += std::size_t(r);
    }
    return true;
}

// One client process: `perSecond` cycles per second from `start` until `end`; writes
// "made failed last_end_time" to `out`.
void client(int index, unsigned port, double perSecond, double start, double end, std::size_t bytes,
            int out)
{
    prctl(PR_SET_NAME, "churn_client");
    const sockaddr_in server = loopbackAddr(INADDR_LOOPBACK, port);
    const sockaddr_in source = loopbackAddr(INADDR_LOOPBACK + 2 + uint32_t(index), 0);
    std::vector<char> buf(bytes, 'x');
    unsigned long made = 0, failed = 0;
    sleepUntil(start);
    for (unsigned long i = 0;; ++i) {
        const double due = start + double(i) / perSecond;
        if (due >= end)
            break;
        sleepUntil(due);
        const int fd = socket(AF_INET, SOCK_STREAM, 0);
        const int one = 1;
        bool ok = fd >= 0 &&
                  setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one) == 0 &&
                  bind(fd, reinterpret_cast<const sockaddr *>(&source), sizeof source) == 0 &&
                  connect(fd, reinterpret_cast<const sockaddr *>(&server), sizeof server) == 0;
        if (ok && bytes > 0)
            ok = sendAll(fd, buf.data(), bytes) && readExactly(fd, buf.data(), bytes);
        if (fd >= 0)
            close(fd); // the client closes first: TIME_WAIT on its side
        if (ok)
            ++made;
        else
            ++failed;
    }
    char line[128];
    const int n = std::snprintf(line, sizeof line, "%lu %lu %.6f\n", made, failed, now());
    [[maybe_unused]] const ssize_t w = write(out, line, std::size_t(n));
    close(out);
}

struct Conn
{
    std::size_t got = 0;
    bool answered = false;
};

// One server thread: accepts on its own listener, reads `bytes`, answers `bytes`, closes on
// EOF. Runs until `stop` and every connection it accepted is closed.
void server(int listenFd, std::size_t bytes, std::atomic<bool> &stop,
            std::atomic<unsigned long> &accepted, std::atomic<unsigned long> &served)
{
    const int ep = epoll_create1(0);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = listenFd;
    epoll_ctl(ep, EPOLL_CTL_ADD, listenFd, &ev);
    std::vector<Conn> conns(1024);
    std::vector<char> buf(std::max<std::size_t>(bytes, 4096), 'y');
    long open = 0;
    epoll_event events[256];
    while (!stop || open > 0) {
        const int n = epoll_wait(ep, events, 256, 50);
        for (int i = 0; i < n; ++i) {
            const int fd = events[i].data.fd;
            if (fd == listenFd) {
                for (;;) {
                    const int c = accept4(listenFd, nullptr, nullptr, SOCK_NONBLOCK);
                    if (c < 0)
                        break;
                    ++accepted;
                    ++open;
                    if (std::size_t(c) >= conns.size())
                        conns.resize(std::size_t(c) * 2);
                    conns[std::size_t(c)] = Conn{};
                    epoll_event cev{};
                    cev.events = EPOLLIN;
                    cev.data.fd = c;
                    epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
                    if (bytes == 0)
                        conns[std::size_t(c)].answered = true;
                }
                continue;
            }
            Conn &c = conns[std::size_t(fd)];
            for (;;) {
                const ssize_t r = recv(fd, buf.data(), buf.size(), 0);
                if (r > 0) {
                    c.got += std::size_t(r);
                    if (!c.answered && c.got >= bytes) {
                        c.answered = true;
                        sendAll(fd, buf.data(), bytes);
                    }
                    continue;
                }
                if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
                    if (r == 0 && c.answered)
                        ++served;
                    epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
                    close(fd);
                    --open;
                }
                break;
            }
        }
    }
    close(ep);
}

int usage()
{
    std::fprintf(stderr, "usage: bench_churn_driver --port P --rate N --seconds D [--clients K] "
                         "[--servers S] [--bytes B]\n");
    return 2;
}

} // namespace

int main(int argc, char **argv)
{
    unsigned port = 0;
    double rate = 0, seconds = 0;
    int clients = 4, servers = 2;
    long bytes = 64;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        if (a == "--port")
            port = unsigned(std::strtoul(argv[i + 1], nullptr, 10));
        else if (a == "--rate")
            rate = std::strtod(argv[i + 1], nullptr);
        else if (a == "--seconds")
            seconds = std::strtod(argv[i + 1], nullptr);
        else if (a == "--clients")
            clients = std::atoi(argv[i + 1]);
        else if (a == "--servers")
            servers = std::atoi(argv[i + 1]);
        else if (a == "--bytes")
            bytes = std::atol(argv[i + 1]);
        else
            return usage();
    }
    if (argc % 2 != 1 || port == 0 || port > 65535 || rate <= 0 || seconds <= 0 || clients < 1 ||
        clients > 200 || servers < 1 || servers > 16 || bytes < 0 || bytes > 1 << 20)
        return usage();

    std::vector<int> listeners;
    for (int s = 0; s < servers; ++s) {
        const int l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        const int one = 1;
        const sockaddr_in a = loopbackAddr(INADDR_LOOPBACK, port);
        if (l < 0 || setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
            setsockopt(l, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0 ||
            bind(l, reinterpret_cast<const sockaddr *>(&a), sizeof a) != 0 ||
            listen(l, 4096) != 0) {
            std::fprintf(stderr, "bench_churn_driver: listen on port %u: %s\n", port,
                         std::strerror(errno));
            return 1;
        }
        listeners.push_back(l);
    }

    // Clients are forked before any thread exists; they start together half a second from now.
    const double start = now() + 0.5;
    const double end = start + seconds;
    std::vector<int> pipes;
    std::vector<pid_t> pids;
    for (int k = 0; k < clients; ++k) {
        int p[2];
        if (pipe(p) != 0)
            return 1;
        const pid_t pid = fork();
        if (pid == 0) {
            close(p[0]);
            for (int l : listeners)
                close(l);
            client(k, port, rate / clients, start, end, std::size_t(bytes), p[1]);
            _exit(0);
        }
        close(p[1]);
        pipes.push_back(p[0]);
        pids.push_back(pid);
    }

    std::atomic<bool> stop{false};
    std::atomic<unsigned long> accepted{0}, served{0};
    std::vector<std::thread> threads;
    threads.reserve(listeners.size());
    for (int l : listeners)
        threads.emplace_back(server, l, std::size_t(bytes), std::ref(stop), std::ref(accepted),
                             std::ref(served));

    unsigned long made = 0, failed = 0;
    double last = start;
    for (std::size_t k = 0; k < pipes.size(); ++k) {
        char line[128] = {};
        const ssize_t n = read(pipes[k], line, sizeof line - 1);
        unsigned long m = 0, f = 0;
        double t = 0;
        if (n > 0 && std::sscanf(line, "%lu %lu %lf", &m, &f, &t) == 3) {
            made += m;
            failed += f;
            last = std::max(last, t);
        }
        close(pipes[k]);
        waitpid(pids[k], nullptr, 0);
    }
    // Let the servers see the last EOFs, then stop them.
    const double grace = now() + 2;
    while (served < made && now() < grace)
        usleep(10000);
    stop = true;
    for (std::thread &t : threads)
        t.join();
    for (int l : listeners)
        close(l);
    const double took = last - start;
    std::printf("made=%lu failed=%lu seconds=%.3f rate=%.0f accepted=%lu served=%lu port=%u\n",
                made, failed, took, took > 0 ? double(made) / took : 0.0, accepted.load(),
                served.load(), port);
    return 0;
}
