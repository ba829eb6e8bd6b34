// SPDX-License-Identifier: GPL-3.0-or-later
// Real loopback traffic for the integration tests (helper and `tcpscope record`), as separate
// processes with distinct comm names (ts_server / ts_client) so process attribution can be
// checked on both ends. No Qt: plain sockets.
//   ts_traffic server 4|6 SEND EXPECT [autobind]
//                                             prints "port N", serves one client, exits 0;
//                                             autobind: listen() without bind() (kernel picks)
//   ts_traffic client 4|6 PORT SEND EXPECT prints "port N" (its local port), exits 0
//   ts_traffic refused 4|6 PORT           exits 0 iff connect() fails with ECONNREFUSED
//   ts_traffic burst 4|6 N                N connect/accept/close cycles as fast as possible
//   ts_traffic sink 4|6 [BACKLOG]         prints "port N", reads one client until EOF, exits 0
//                                         (listen backlog 4 unless given)
//   ts_traffic stream 4|6 PORT MILLIS     prints "port N", sends as fast as it can for MILLIS ms
//   ts_traffic scan 4|6 FIRST N             connect() to ports FIRST..FIRST+N-1 (closed ones
//                                         are refused), prints "refused K"
//   ts_traffic abort 4|6 N                 N connections whose server side closes with
//                                         SO_LINGER 0 (a RST instead of a FIN)
//   ts_traffic stall 4|6 MILLIS            a server that never reads and a client that sends
//                                         until the server's window is 0, then holds the
//                                         connection MILLIS ms; prints "port N" (server's)
//   ts_traffic http 4|6 N                  prints "port N", answers N HTTP/1.0 requests with a
//                                         short page (for curl), closing after each
//   ts_traffic churn 4|6 N [RATE]         prints "port N" (its listener), waits for a line on
//                                         stdin, then N cycles (at most RATE per second when
//                                         given) of connect, 64 bytes each way,
//                                         client closes first (its ports then sit in TIME_WAIT
//                                         and are reused: net.ipv4.tcp_tw_reuse)
//   ts_traffic serve 4|6 N SEND EXPECT     prints "port N", serves N clients one after another
//                                         with the protocol below (client closes first)
//   ts_traffic clients 4|6 PORT N SEND EXPECT
//                                         N clients one after another, each with the protocol
//                                         below
// The address is loopback unless TS_TRAFFIC_ADDR names another one (an address of a network
// namespace the test made): servers bind it, clients connect to it.
// Protocol: client sends SEND bytes, server reads EXPECT bytes then sends its SEND bytes, the
// client reads them and closes first; the server closes after seeing EOF.
#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <netinet/in.h>
#include <string>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace {

int fail(const char *what)
{
    std::fprintf(stderr, "ts_traffic: %s: %s\n", what, std::strerror(errno));
    return 1;
}

socklen_t loopback(bool v6, unsigned port, sockaddr_storage &ss)
{
    std::memset(&ss, 0, sizeof ss);
    const char *addr = std::getenv("TS_TRAFFIC_ADDR");
    if (v6) {
        auto *a = reinterpret_cast<sockaddr_in6 *>(&ss);
        a->sin6_family = AF_INET6;
        a->sin6_addr = in6addr_loopback;
        if (addr && *addr && inet_pton(AF_INET6, addr, &a->sin6_addr) != 1)
            a->sin6_addr = in6addr_loopback;
        a->sin6_port = htons(static_cast<uint16_t>(port));
        return sizeof *a;
    }
    auto *a = reinterpret_cast<sockaddr_in *>(&ss);
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (addr && *addr && inet_pton(AF_INET, addr, &a->sin_addr) != 1)
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a->sin_port = htons(static_cast<uint16_t>(port));
    return sizeof *a;
}

unsigned localPort(int fd)
{
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    getsockname(fd, reinterpret_cast<sockaddr *>(&ss), &len);
    return ntohs(ss.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6 *>(&ss)->sin6_port
                                          : reinterpret_cast<sockaddr_in *>(&ss)->sin_port);
}

bool sendAll(int fd, std::size_t n)
{
    std::vector<char> buf(n, 'x');
    std::size_t off = 0;
    while (off < n) {
        const ssize_t w = send(fd, buf.data() + off, n - off, MSG_NOSIGNAL);
        if (w <= 0)
            return false;
        off += static_cast<std::size_t>(w);
    }
    return true;
}

bool readExactly(int fd, std::size_t n)
{
    char buf[65536];
    std::size_t got = 0;
    while (got < n) {
        const ssize_t r = recv(fd, buf, sizeof buf, 0);
        if (r <= 0)
            return false;
        got += static_cast<std::size_t>(r);
    }
    return got == n;
}

// One client of the protocol: SEND bytes, read EXPECT bytes, close first.
bool clientExchange(bool v6, const sockaddr_storage &ss, socklen_t len, std::size_t send,
                    std::size_t expect)
{
    const int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
    const bool ok = fd >= 0 && connect(fd, reinterpret_cast<const sockaddr *>(&ss), len) == 0 &&
                    sendAll(fd, send) && readExactly(fd, expect);
    if (fd >= 0)
        close(fd);
    return ok;
}

// One accepted client of the protocol: read EXPECT bytes, send SEND bytes, wait for its FIN.
bool serveExchange(int listener, std::size_t send, std::size_t expect)
{
    const int c = accept(listener, nullptr, nullptr);
    if (c < 0)
        return false;
    char b;
    const bool ok = readExactly(c, expect) && sendAll(c, send) && recv(c, &b, 1, 0) == 0;
    close(c);
    return ok;
}

} // namespace

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    const std::string mode = argv[1];
    const bool v6 = std::strcmp(argv[2], "6") == 0;
    // comm is what BPF records as the owner's name; make each role unmistakable.
    prctl(PR_SET_NAME, mode == "server" || mode == "serve" ? "ts_server" : "ts_client");
    setvbuf(stdout, nullptr, _IONBF, 0);
    sockaddr_storage ss{};
    const int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return fail("socket");

    if (mode == "server" && (argc == 5 || (argc == 6 && std::strcmp(argv[5], "autobind") == 0))) {
        const int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (argc == 5 && bind(fd, reinterpret_cast<sockaddr *>(&ss), loopback(v6, 0, ss)) != 0)
            return fail("bind");
        if (listen(fd, 4) != 0)
            return fail("listen");
        std::printf("port %u\n", localPort(fd));
        const int c = accept(fd, nullptr, nullptr);
        if (c < 0)
            return fail("accept");
        if (!readExactly(c, std::strtoul(argv[4], nullptr, 10)))
            return fail("read");
        if (!sendAll(c, std::strtoul(argv[3], nullptr, 10)))
            return fail("send");
        char b;
        if (recv(c, &b, 1, 0) != 0) // wait for the client's FIN: it closes first
            return fail("expected EOF");
        close(c);
        close(fd);
        return 0;
    }
    if (mode == "sink" && (argc == 3 || argc == 4)) {
        const int backlog = argc == 4 ? std::atoi(argv[3]) : 4;
        if (bind(fd, reinterpret_cast<sockaddr *>(&ss), loopback(v6, 0, ss)) != 0 ||
            listen(fd, backlog))
            return fail("bind/listen");
        std::printf("port %u\n", localPort(fd));
        const int c = accept(fd, nullptr, nullptr);
        if (c < 0)
            return fail("accept");
        char buf[65536];
        ssize_t r;
        while ((r = recv(c, buf, sizeof buf, 0)) > 0) {
        }
        close(c);
        close(fd);
        return r == 0 ? 0 : fail("recv");
    }
    if (mode == "serve" && argc == 6) {
        const int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, reinterpret_cast<sockaddr *>(&ss), loopback(v6, 0, ss)) != 0 ||
            listen(fd, 64) != 0)
            return fail("bind/listen");
        std::printf("port %u\n", localPort(fd));
        const std::size_t send = std::strtoul(argv[4], nullptr, 10);
        const std::size_t expect = std::strtoul(argv[5], nullptr, 10);
        for (unsigned long i = 0, n = std::strtoul(argv[3], nullptr, 10); i < n; ++i) {
            if (!serveExchange(fd, send, expect))
                return fail("serve");
        }
        close(fd);
        return 0;
    }
    if (mode == "burst" && argc == 4) {
        // One process, no data: the point is many state changes in a few milliseconds.
        if (bind(fd, reinterpret_cast<sockaddr *>(&ss), loopback(v6, 0, ss)) != 0 || listen(fd, 64))
            return fail("bind/listen");
        const socklen_t len = loopback(v6, localPort(fd), ss);
        for (unsigned long i = 0, n = std::strtoul(argv[3], nullptr, 10); i < n; ++i) {
            const int c = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
            if (connect(c, reinterpret_cast<sockaddr *>(&ss), len) != 0)
                return fail("connect");
            const int a = accept(fd, nullptr, nullptr);
            close(c);
            close(a);
        }
        close(fd);
        return 0;
    }
    if (mode == "churn" && (argc == 4 || argc == 5)) {
        if (bind(fd, reinterpret_cast<sockaddr *>(&ss), loopback(v6, 0, ss)) != 0 ||
            listen(fd, 64) != 0)
            return fail("bind/listen");
        std::printf("port %u\n", localPort(fd));
        char line[16];
        if (!std::fgets(line, sizeof line, stdin))
            return fail("stdin");
        const socklen_t len = loopback(v6, localPort(fd), ss);
        const double rate = argc == 5 ? std::strtod(argv[4], nullptr) : 0;
        timespec start{};
        clock_gettime(CLOCK_MONOTONIC, &start);
        for (unsigned long i = 0, n = std::strtoul(argv[3], nullptr, 10); i < n; ++i) {
            if (rate > 0) {
                // Paced from the start, not per cycle: short stalls are caught up.
                const double due = double(i) / rate;
                timespec now{};
                clock_gettime(CLOCK_MONOTONIC, &now);
                const double elapsed =
                    double(now.tv_sec - start.tv_sec) + double(now.tv_nsec - start.tv_nsec) / 1e9;
                if (due > elapsed)
                    usleep(useconds_t((due - elapsed) * 1e6));
            }
            const int c = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
            if (c < 0 || connect(c, reinterpret_cast<sockaddr *>(&ss), len) != 0)
                return fail("connect");
            const int a = accept(fd, nullptr, nullptr);
            if (a < 0 || !sendAll(c, 64) || !readExactly(a, 64) || !sendAll(a, 64) ||
                !readExactly(c, 64))
                return fail("exchange");
            close(c); // the client closes first: TIME_WAIT on the client's port
            char b;
            if (recv(a, &b, 1, 0) != 0)
                return fail("expected EOF");
            close(a);
        }
        close(fd);
        return 0;
    }
    if (mode == "scan" && argc == 5) {
        close(fd);
        const unsigned first = std::strtoul(argv[3], nullptr, 10);
        const unsigned n = std::strtoul(argv[4], nullptr, 10);
        unsigned refused = 0;
        for (unsigned p = first; p < first + n && p < 65536; ++p) {
            const int c = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
            if (c < 0)
                return fail("socket");
            const socklen_t l = loopback(v6, p, ss);
            if (connect(c, reinterpret_cast<sockaddr *>(&ss), l) != 0 && errno == ECONNREFUSED)
                ++refused;
            close(c);
        }
        std::printf("refused %u\n", refused);
        return 0;
    }
    if (mode == "http" && argc == 4) {
        if (bind(fd, reinterpret_cast<sockaddr *>(&ss), loopback(v6, 0, ss)) != 0 || listen(fd, 64))
            return fail("bind/listen");
        std::printf("port %u\n", localPort(fd));
        static const char page[] = "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n"
                                   "Content-Length: 6\r\n\r\nhello\n";
        for (unsigned long i = 0, n = std::strtoul(argv[3], nullptr, 10); i < n; ++i) {
            const int c = accept(fd, nullptr, nullptr);
            if (c < 0)
                return fail("accept");
            char buf[4096];
            std::size_t got = 0;
            // Read the request up to its blank line, then answer and close.
            while (got < sizeof buf - 1) {
                const ssize_t r = recv(c, buf + got, sizeof buf - 1 - got, 0);
                if (r <= 0)
                    break;
                got += std::size_t(r);
                buf[got] = 0;
                if (std::strstr(buf, "\r\n\r\n"))
                    break;
            }
            send(c, page, sizeof page - 1, MSG_NOSIGNAL);
            close(c);
        }
        close(fd);
        return 0;
    }
    if (mode == "abort" && argc == 4) {
        if (bind(fd, reinterpret_cast<sockaddr *>(&ss), loopback(v6, 0, ss)) != 0 || listen(fd, 64))
            return fail("bind/listen");
        const socklen_t len = loopback(v6, localPort(fd), ss);
        for (unsigned long i = 0, n = std::strtoul(argv[3], nullptr, 10); i < n; ++i) {
            const int c = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
            if (c < 0 || connect(c, reinterpret_cast<sockaddr *>(&ss), len) != 0)
                return fail("connect");
            const int a = accept(fd, nullptr, nullptr);
            if (a < 0)
                return fail("accept");
            const linger lg{1, 0}; // close() sends a RST
            setsockopt(a, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
            close(a);
            char b;
            recv(c, &b, 1, 0); // the client sees the reset
            close(c);
        }
        close(fd);
        return 0;
    }
    if (mode == "stall" && argc == 4) {
        // A small receive buffer fills at once; the server then never reads.
        const int small = 4096;
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
        if (bind(fd, reinterpret_cast<sockaddr *>(&ss), loopback(v6, 0, ss)) != 0 || listen(fd, 4))
            return fail("bind/listen");
        std::printf("port %u\n", localPort(fd));
        const socklen_t len = loopback(v6, localPort(fd), ss);
        const int c = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (c < 0)
            return fail("socket");
        (void)connect(c, reinterpret_cast<sockaddr *>(&ss), len);
        const int a = accept(fd, nullptr, nullptr);
        if (a < 0)
            return fail("accept");
        const std::vector<char> buf(65536, 'x');
        const auto until =
            std::chrono::steady_clock::now() + std::chrono::milliseconds(std::atol(argv[3]));
        while (std::chrono::steady_clock::now() < until) {
            if (send(c, buf.data(), buf.size(), MSG_NOSIGNAL) < 0 && errno != EAGAIN &&
                errno != EINPROGRESS)
                return fail("send");
            usleep(20000);
        }
        const linger lg{1, 0}; // no waiting for the unsent data at the end
        setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        close(c);
        close(a);
        close(fd);
        return 0;
    }
    const unsigned port = argc >= 4 ? std::strtoul(argv[3], nullptr, 10) : 0;
    const socklen_t len = loopback(v6, port, ss);
    if (mode == "client" && argc == 6) {
        if (connect(fd, reinterpret_cast<sockaddr *>(&ss), len) != 0)
            return fail("connect");
        std::printf("port %u\n", localPort(fd));
        if (!sendAll(fd, std::strtoul(argv[4], nullptr, 10)))
            return fail("send");
        if (!readExactly(fd, std::strtoul(argv[5], nullptr, 10)))
            return fail("read");
        close(fd);
        return 0;
    }
    if (mode == "clients" && argc == 7) {
        close(fd);
        const std::size_t send = std::strtoul(argv[5], nullptr, 10);
        const std::size_t expect = std::strtoul(argv[6], nullptr, 10);
        for (unsigned long i = 0, n = std::strtoul(argv[4], nullptr, 10); i < n; ++i) {
            if (!clientExchange(v6, ss, len, send, expect))
                return fail("client");
        }
        return 0;
    }
    if (mode == "stream" && argc == 5) {
        if (connect(fd, reinterpret_cast<sockaddr *>(&ss), len) != 0)
            return fail("connect");
        std::printf("port %u\n", localPort(fd));
        const std::vector<char> buf(65536, 'x');
        const auto until =
            std::chrono::steady_clock::now() + std::chrono::milliseconds(std::atol(argv[4]));
        while (std::chrono::steady_clock::now() < until) {
            if (send(fd, buf.data(), buf.size(), MSG_NOSIGNAL) <= 0)
                return fail("send");
        }
        close(fd);
        return 0;
    }
    if (mode == "refused" && argc == 4) {
        if (connect(fd, reinterpret_cast<sockaddr *>(&ss), len) == 0)
            return 3;
        return errno == ECONNREFUSED ? 0 : fail("connect (expected ECONNREFUSED)");
    }
    return 2;
}
