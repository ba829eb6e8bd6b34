// SPDX-License-Identifier: GPL-3.0-or-later
// Loopback traffic for the `tcpscope record` integration test, as separate processes with
// their own comm names (rec_server / rec_client). No Qt, plain sockets.
//   record_traffic server 4|6 SEND EXPECT       prints "port N", serves one client, exits 0
//   record_traffic client 4|6 PORT SEND EXPECT  prints "port N" (its local port), exits 0
//   record_traffic refused 4|6 PORT             exits 0 iff connect() fails with ECONNREFUSED
// The client sends SEND bytes; the server reads EXPECT bytes, answers with its SEND bytes and
// closes after the client's FIN, so the client closes first (active close).
#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <netinet/in.h>
#include <string>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace {

int fail(const char *what)
{
    std::fprintf(stderr, "record_traffic: %s: %s\n", what, std::strerror(errno));
    return 1;
}

socklen_t loopback(bool v6, unsigned port, sockaddr_storage &ss)
{
    std::memset(&ss, 0, sizeof ss);
    if (v6) {
        auto *a = reinterpret_cast<sockaddr_in6 *>(&ss);
        a->sin6_family = AF_INET6;
        a->sin6_addr = in6addr_loopback;
        a->sin6_port = htons(static_cast<uint16_t>(port));
        return sizeof *a;
    }
    auto *a = reinterpret_cast<sockaddr_in *>(&ss);
    a->sin_family = AF_INET;
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

bool sendBytes(int fd, std::size_t n)
{
    const std::vector<char> buf(n, 'r');
    std::size_t off = 0;
    while (off < n) {
        const ssize_t w = send(fd, buf.data() + off, n - off, MSG_NOSIGNAL);
        if (w <= 0)
            return false;
        off += std::size_t(w);
    }
    return true;
}

bool readBytes(int fd, std::size_t n)
{
    char buf[65536];
    std::size_t got = 0;
    while (got < n) {
        const ssize_t r = recv(fd, buf, std::min(sizeof buf, n - got), 0);
        if (r <= 0)
            return false;
        got += std::size_t(r);
    }
    return true;
}

bool readUntilEof(int fd)
{
    char buf[4096];
    for (;;) {
        const ssize_t r = recv(fd, buf, sizeof buf, 0);
        if (r == 0)
            return true;
        if (r < 0)
            return false;
    }
}

std::size_t number(const char *s)
{
    return std::strtoull(s, nullptr, 10);
}

} // namespace

int main(int argc, char **argv)
{
    if (argc < 3) {
        std::fprintf(stderr, "usage: record_traffic server|client|refused 4|6 ...\n");
        return 2;
    }
    const std::string mode = argv[1];
    const bool v6 = std::strcmp(argv[2], "6") == 0;
    // Before any socket exists, so every record of ours carries the new name.
    prctl(PR_SET_NAME, mode == "server" ? "rec_server" : "rec_client");
    setvbuf(stdout, nullptr, _IONBF, 0);
    sockaddr_storage ss{};

    if (mode == "server" && argc == 5) {
        const int l = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
        if (l < 0 || bind(l, reinterpret_cast<sockaddr *>(&ss), loopback(v6, 0, ss)) != 0 ||
            listen(l, 4) != 0)
            return fail("listen");
        std::printf("port %u\n", localPort(l));
        const int c = accept(l, nullptr, nullptr);
        if (c < 0)
            return fail("accept");
        if (!readBytes(c, number(argv[4])) || !sendBytes(c, number(argv[3])) || !readUntilEof(c))
            return fail("server exchange");
        close(c);
        close(l);
        return 0;
    }
    if (mode == "client" && argc == 6) {
        const int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
        const socklen_t len = loopback(v6, unsigned(number(argv[3])), ss);
        if (fd < 0 || connect(fd, reinterpret_cast<sockaddr *>(&ss), len) != 0)
            return fail("connect");
        std::printf("port %u\n", localPort(fd));
        if (!sendBytes(fd, number(argv[4])) || !readBytes(fd, number(argv[5])))
            return fail("client exchange");
        close(fd);
        return 0;
    }
    if (mode == "refused" && argc == 4) {
        const int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
        const socklen_t len = loopback(v6, unsigned(number(argv[3])), ss);
        if (fd < 0)
            return fail("socket");
        if (connect(fd, reinterpret_cast<sockaddr *>(&ss), len) == 0) {
            std::fprintf(stderr, "record_traffic: connect to port %s unexpectedly succeeded\n",
                         argv[3]);
            return 1;
        }
        return errno == ECONNREFUSED ? 0 : fail("connect");
    }
    std::fprintf(stderr, "record_traffic: bad arguments\n");
    return 2;
}
