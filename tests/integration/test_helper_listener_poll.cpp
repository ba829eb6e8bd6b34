// SPDX-License-Identifier: GPL-3.0-or-later
// The helper's ListenerPoll on its own: real sock_diag dumps of listeners this test creates
// (no root needed: a process may dump its own network namespace), and crafted netlink replies
// that are short, lie about their lengths or carry errors — none may yield a wrong record.
#include "listener_poll.h"

#include <QTest>
#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <optional>
#include <sys/socket.h>
#include <unistd.h>

using tcpscope::helper::ListenerPoll;
using Status = ListenerPoll::ReplyStatus;
using Bytes = std::vector<std::uint8_t>;

namespace {

constexpr std::uint32_t kSeq = 7;

// A listening socket of this process on loopback, closed by the destructor.
struct Listener
{
    int fd = -1;
    unsigned port = 0;
    std::uint64_t cookie = 0;
    Listener(int family, int backlog)
    {
        fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_storage ss{};
        socklen_t len = 0;
        if (family == AF_INET6) {
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
        if (::bind(fd, reinterpret_cast<sockaddr *>(&ss), len) != 0 || ::listen(fd, backlog) != 0)
            qFatal("listener: %s", std::strerror(errno));
        ::getsockname(fd, reinterpret_cast<sockaddr *>(&ss), &len);
        port = ntohs(family == AF_INET6 ? reinterpret_cast<sockaddr_in6 *>(&ss)->sin6_port
                                        : reinterpret_cast<sockaddr_in *>(&ss)->sin_port);
        socklen_t cl = sizeof cookie;
        ::getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &cl);
    }
    ~Listener() { ::close(fd); }
};

std::optional<ts_listener_sample> find(const std::vector<ts_listener_sample> &v, unsigned port)
{
    const auto it = std::find_if(v.begin(), v.end(), [&](const auto &s) { return s.port == port; });
    return it == v.end() ? std::nullopt : std::optional(*it);
}

// Netlink message builders for crafted replies.
void put(Bytes &b, const void *p, std::size_t n)
{
    const auto *c = static_cast<const std::uint8_t *>(p);
    b.insert(b.end(), c, c + n);
    b.resize(NLMSG_ALIGN(b.size()), 0);
}
Bytes header(std::uint16_t type, std::uint32_t payloadLen, std::uint32_t seq = kSeq)
{
    nlmsghdr h{};
    h.nlmsg_len = NLMSG_LENGTH(payloadLen);
    h.nlmsg_type = type;
    h.nlmsg_seq = seq;
    h.nlmsg_flags = NLM_F_MULTI;
    Bytes b;
    put(b, &h, sizeof h);
    return b;
}
// A SOCK_DIAG_BY_FAMILY message for a listener, optionally with an SKMEMINFO attribute of
// `memWords` u32 values (drops = 42 at index SK_MEMINFO_DROPS when present).
Bytes diag(std::uint8_t family, std::uint8_t state, std::uint64_t cookie, int memWords,
           std::uint32_t seq = kSeq)
{
    inet_diag_msg m{};
    m.idiag_family = family;
    m.idiag_state = state;
    m.idiag_rqueue = 3;
    m.idiag_wqueue = 5;
    m.id.idiag_sport = htons(8080);
    m.id.idiag_cookie[0] = std::uint32_t(cookie);
    m.id.idiag_cookie[1] = std::uint32_t(cookie >> 32);
    m.id.idiag_src[0] = htonl(INADDR_LOOPBACK);
    Bytes attr;
    if (memWords > 0) {
        rtattr a{};
        a.rta_type = INET_DIAG_SKMEMINFO;
        a.rta_len = RTA_LENGTH(memWords * 4);
        std::vector<std::uint32_t> words(memWords, 1);
        if (memWords > SK_MEMINFO_DROPS)
            words[SK_MEMINFO_DROPS] = 42;
        attr.insert(attr.end(), reinterpret_cast<std::uint8_t *>(&a),
                    reinterpret_cast<std::uint8_t *>(&a) + sizeof a);
        attr.insert(attr.end(), reinterpret_cast<std::uint8_t *>(words.data()),
                    reinterpret_cast<std::uint8_t *>(words.data()) + memWords * 4);
        attr.resize(RTA_ALIGN(attr.size()), 0);
    }
    Bytes b = header(SOCK_DIAG_BY_FAMILY, NLMSG_ALIGN(sizeof m) + attr.size(), seq);
    put(b, &m, sizeof m);
    b.insert(b.end(), attr.begin(), attr.end());
    return b;
}
Bytes done(int status = 0)
{
    Bytes b = header(NLMSG_DONE, sizeof(int));
    put(b, &status, sizeof status);
    return b;
}
Bytes error(int err)
{
    Bytes b = header(NLMSG_ERROR, sizeof(nlmsgerr));
    nlmsgerr e{};
    e.error = err;
    put(b, &e, sizeof e);
    return b;
}
Bytes cat(std::initializer_list<Bytes> parts)
{
    Bytes out;
    for (const Bytes &p : parts)
        out.insert(out.end(), p.begin(), p.end());
    return out;
}

} // namespace

class TestListenerPoll : public QObject
{
    Q_OBJECT
private slots:
    void realListenersFirstSeenChangedAndGone()
    {
        ListenerPoll poll;
        std::string err;
        QVERIFY2(poll.open(err), err.c_str());
        QCOMPARE(poll.intervalMs(), 100);
        Listener v4(AF_INET, 1), v6(AF_INET6, 7);
        const auto first = poll.poll();
        const auto s4 = find(first, v4.port), s6 = find(first, v6.port);
        QVERIFY2(s4 && s6, "new listeners not reported on first sight");
        QCOMPARE(s4->sock_id, v4.cookie); // idiag_cookie is the socket cookie
        QCOMPARE(s6->sock_id, v6.cookie);
        QCOMPARE(s4->max_backlog, 1u);
        QCOMPARE(s6->max_backlog, 7u);
        QCOMPARE(s4->backlog, 0u);
        QCOMPARE(s4->drops, std::uint64_t(0));
        QCOMPARE(int(s4->family), AF_INET);
        QCOMPARE(int(s6->family), AF_INET6);
        QCOMPARE(int(s4->addr[0]), 127);
        QCOMPARE(int(s6->addr[15]), 1);
        QCOMPARE(s4->hdr.type, std::uint16_t(TS_REC_LISTENER));
        QCOMPARE(s4->hdr.size, std::uint16_t(sizeof(ts_listener_sample)));
        timespec now{};
        clock_gettime(CLOCK_MONOTONIC, &now);
        QVERIFY(s4->hdr.ts_ns <= std::uint64_t(now.tv_sec) * 1000000000ull + now.tv_nsec);
        QVERIFY(s4->netns_ino != 0);
        // Nothing changed: nothing reported.
        const auto second = poll.poll();
        QVERIFY(!find(second, v4.port) && !find(second, v6.port));
        // Fill the v4 queue past its limit: backlog and drops change, reported once each.
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        to.sin_port = htons(std::uint16_t(v4.port));
        std::vector<int> clients;
        for (int i = 0; i < 4; ++i) {
            clients.push_back(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
            (void)::connect(clients.back(), reinterpret_cast<sockaddr *>(&to), sizeof to);
        }
        const auto third = poll.poll(); // loopback handshakes complete inside connect()
        const auto full = find(third, v4.port);
        QVERIFY2(full, "changed backlog not reported");
        QVERIFY(full->backlog >= full->max_backlog);
        QVERIFY(full->drops >= 1);
        QVERIFY(!find(third, v6.port));
        for (int c : clients)
            ::close(c);
        QCOMPARE(poll.failedPolls(), std::uint64_t(0));
        const std::size_t known = poll.listenerCount();
        ::close(v6.fd);
        v6.fd = -1;
        poll.poll();
        QCOMPARE(poll.listenerCount(), known - 1); // vanished listener forgotten
    }

    void notOpenYieldsNothing()
    {
        ListenerPoll poll;
        QVERIFY(!poll.isOpen());
        QVERIFY(poll.poll().empty());
    }

    void wellFormedReply()
    {
        std::vector<ts_listener_sample> parsed;
        const Bytes reply = cat(
            {diag(AF_INET, 10, 0x1122334455ull, SK_MEMINFO_VARS), diag(AF_INET, 10, 9, 0), done()});
        QCOMPARE(ListenerPoll::parseReply(reply, kSeq, AF_INET, parsed), Status::Done);
        QCOMPARE(parsed.size(), std::size_t(2));
        QCOMPARE(parsed[0].sock_id, 0x1122334455ull);
        QCOMPARE(parsed[0].drops, std::uint64_t(42));
        QCOMPARE(parsed[0].backlog, 3u);
        QCOMPARE(parsed[0].max_backlog, 5u);
        QCOMPARE(parsed[0].port, std::uint16_t(8080));
        QCOMPARE(int(parsed[0].addr[0]), 127);
        QCOMPARE(parsed[1].drops, std::uint64_t(0)); // no SKMEMINFO: no drop counter
        parsed.clear();
        QCOMPARE(ListenerPoll::parseReply(diag(AF_INET, 10, 1, 0), kSeq, AF_INET, parsed),
                 Status::More); // no DONE yet
        QCOMPARE(parsed.size(), std::size_t(1));
    }

    void hostileReplies_data()
    {
        QTest::addColumn<QByteArray>("reply");
        QTest::addColumn<int>("family");
        QTest::addColumn<int>("status");
        QTest::addColumn<int>("records");
        auto q = [](const Bytes &b) {
            return QByteArray(reinterpret_cast<const char *>(b.data()), int(b.size()));
        };
        const Bytes good = diag(AF_INET, 10, 5, SK_MEMINFO_VARS);
        QTest::newRow("empty") << QByteArray() << AF_INET << int(Status::More) << 0;
        QTest::newRow("runt after a message")
            << q(good) + QByteArray(8, 0) << AF_INET << int(Status::Failed) << 1;
        Bytes lying = good;
        reinterpret_cast<nlmsghdr *>(lying.data())->nlmsg_len = lying.size() + 64;
        QTest::newRow("length beyond the datagram")
            << q(lying) << AF_INET << int(Status::Failed) << 0;
        Bytes tiny = good;
        reinterpret_cast<nlmsghdr *>(tiny.data())->nlmsg_len = sizeof(nlmsghdr) - 1;
        QTest::newRow("length below the header") << q(tiny) << AF_INET << int(Status::Failed) << 0;
        Bytes shortMsg = header(SOCK_DIAG_BY_FAMILY, 8);
        shortMsg.resize(shortMsg.size() + 8, 0);
        QTest::newRow("diag message shorter than inet_diag_msg")
            << q(cat({shortMsg, done()})) << AF_INET << int(Status::Done) << 0;
        QTest::newRow("wrong family skipped")
            << q(cat({diag(AF_INET6, 10, 5, 0), done()})) << AF_INET << int(Status::Done) << 0;
        QTest::newRow("not listening skipped")
            << q(cat({diag(AF_INET, 1, 5, 0), done()})) << AF_INET << int(Status::Done) << 0;
        QTest::newRow("stale sequence skipped")
            << q(cat({diag(AF_INET, 10, 5, 0, kSeq - 1), done()})) << AF_INET << int(Status::Done)
            << 0;
        QTest::newRow("short SKMEMINFO: no drops read")
            << q(cat({diag(AF_INET, 10, 5, SK_MEMINFO_DROPS), done()})) << AF_INET
            << int(Status::Done) << 1;
        Bytes badAttr = diag(AF_INET, 10, 5, SK_MEMINFO_VARS);
        auto *attr = reinterpret_cast<rtattr *>(badAttr.data() +
                                                NLMSG_LENGTH(NLMSG_ALIGN(sizeof(inet_diag_msg))));
        attr->rta_len = 0xfff0; // attribute longer than its message
        QTest::newRow("attribute length beyond message")
            << q(cat({badAttr, done()})) << AF_INET << int(Status::Done) << 1;
        QTest::newRow("error reply") << q(error(-EINVAL)) << AF_INET << int(Status::Failed) << 0;
        QTest::newRow("IPv6 without inet_diag handler")
            << q(error(-ENOENT)) << AF_INET6 << int(Status::NoFamily) << 0;
        QTest::newRow("IPv4 ENOENT is an error")
            << q(error(-ENOENT)) << AF_INET << int(Status::Failed) << 0;
        QTest::newRow("dump aborted by the kernel")
            << q(cat({good, done(-EINTR)})) << AF_INET << int(Status::Failed) << 1;
        Bytes truncatedError = header(NLMSG_ERROR, 0);
        QTest::newRow("error reply without body")
            << q(truncatedError) << AF_INET << int(Status::Failed) << 0;
    }
    void hostileReplies()
    {
        QFETCH(QByteArray, reply);
        QFETCH(int, family);
        QFETCH(int, status);
        QFETCH(int, records);
        std::vector<ts_listener_sample> parsed;
        const auto got = ListenerPoll::parseReply(
            {reinterpret_cast<const std::uint8_t *>(reply.constData()), std::size_t(reply.size())},
            kSeq, std::uint8_t(family), parsed);
        QCOMPARE(int(got), status);
        QCOMPARE(int(parsed.size()), records);
        for (const auto &s : parsed) {
            QCOMPARE(s.sock_id, std::uint64_t(5));
            QVERIFY(s.drops == 0 || s.drops == 42);
        }
    }
};

QTEST_APPLESS_MAIN(TestListenerPoll)
#include "test_helper_listener_poll.moc"
