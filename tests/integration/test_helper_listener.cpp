// SPDX-License-Identifier: GPL-3.0-or-later
// Integration: the helper's sock_diag listener poll on the real kernel. A listener with
// listen(backlog = 1) that never accepts is hammered with connects: its samples must show the
// accept queue at its limit and the drop counter growing, carry the socket cookie that both
// SO_COOKIE and the lifecycle records give, and agree with nstat's ListenOverflows/ListenDrops.
// Also reports whether this kernel names those drops TCP_LISTEN_OVERFLOW in kfree_skb.
// Needs root; skips loudly otherwise. No assertion depends on timing.
#include "helper_kernel_counters.h"
#include "helper_session.h"
#include "helper_tcpinfo.h"

#include <QTest>
#include <algorithm>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace tcpscope;
using namespace tcpscope::test;

namespace {
constexpr int kTcpListen = 10;
}

class TestHelperListener : public QObject
{
    Q_OBJECT

    QStringList m_tracefsBefore;

private slots:
    void initTestCase() { requireHelperEnvironment(&m_tracefsBefore); }

    void fullBacklogListener()
    {
        HelperProcess helper;
        if (!startStreaming(helper, "tp_btf", {},
                            tcpinfoOnly(wire::StartOptions::kDefaultSampleIntervalUs)))
            return;
        const BpfObjects ours = bpfObjectsOf(helper.pid());
        // The listener lives in this process: we know its cookie (SO_COOKIE) independently.
        const int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof addr;
        QVERIFY(::bind(lfd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) == 0);
        QVERIFY(::listen(lfd, 1) == 0);
        ::getsockname(lfd, reinterpret_cast<sockaddr *>(&addr), &len);
        const unsigned port = ntohs(addr.sin_port);
        std::uint64_t cookie = 0;
        socklen_t cookieLen = sizeof cookie;
        QVERIFY(::getsockopt(lfd, SOL_SOCKET, SO_COOKIE, &cookie, &cookieLen) == 0);

        Capture cap;
        auto ofListener = [&](const ts_listener_sample &l) { return l.port == port; };
        // First sight of the listener, before any connection: backlog 0, no drops.
        QVERIFY2(collect(helper, cap, 5000,
                         [&] {
                             return std::any_of(cap.listeners.begin(), cap.listeners.end(),
                                                ofListener);
                         }),
                 "no listener sample for a new listener");
        const auto first = *std::find_if(cap.listeners.begin(), cap.listeners.end(), ofListener);
        QCOMPARE(first.sock_id, cookie); // idiag_cookie == SO_COOKIE (sock_gen_cookie)
        QCOMPARE(first.max_backlog, 1u);
        QCOMPARE(first.family, std::uint16_t(AF_INET));
        QCOMPARE(first.netns_ino, ownNetns());
        QCOMPARE(first.drops, std::uint64_t(0));

        const auto ovBefore = kernelCounter("/proc/net/netstat", "TcpExt", "ListenOverflows");
        const auto dropsBefore = kernelCounter("/proc/net/netstat", "TcpExt", "ListenDrops");
        constexpr int kConnects = 8;
        std::vector<int> clients;
        for (int i = 0; i < kConnects; ++i) {
            const int c = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            (void)::connect(c, reinterpret_cast<sockaddr *>(&addr), sizeof addr);
            clients.push_back(c);
        }
        // Wait for what must happen, not for a time: the queue full and drops counted.
        std::uint32_t maxBacklog = 0;
        std::uint64_t maxDrops = 0;
        const bool full = collect(helper, cap, 10000, [&] {
            for (const auto &l : cap.listeners)
                if (ofListener(l)) {
                    maxBacklog = std::max<std::uint32_t>(maxBacklog, l.backlog);
                    maxDrops = std::max<std::uint64_t>(maxDrops, l.drops);
                }
            return maxBacklog >= 1 && maxDrops >= 1;
        });
        for (int c : clients)
            ::close(c);
        const auto ovAfter = kernelCounter("/proc/net/netstat", "TcpExt", "ListenOverflows");
        const auto dropsAfter = kernelCounter("/proc/net/netstat", "TcpExt", "ListenDrops");
        ::close(lfd);
        // The listener's own state changes carry the same cookie (bpf_get_socket_cookie).
        int lconn = -1;
        collect(helper, cap, 5000, [&] {
            lconn = cap.find([&](const ts_state_change &c) {
                return c.family == AF_INET && c.newstate == kTcpListen && c.sport == port;
            });
            return cap.closed(lconn);
        });
        QVERIFY2(stopAndDrain(helper, cap, 10000), qPrintable(helper.stderrText()));
        QCOMPARE(helper.waitExit(5000), 0);
        verifyNothingLeft(ours, m_tracefsBefore);
        QVERIFY2(full, qPrintable(QStringLiteral("listener samples never showed a full queue with "
                                                 "drops: max backlog %1, max drops %2")
                                      .arg(maxBacklog)
                                      .arg(maxDrops)));
        QVERIFY2(lconn >= 0, "no lifecycle record of the listener");
        QCOMPARE(cap.conns[lconn].id, cookie);
        for (const auto &l : cap.listeners)
            if (ofListener(l)) {
                QCOMPARE(l.sock_id, cookie);
                QVERIFY(l.backlog <= l.max_backlog + 1); // the kernel's "full" is backlog > max
            }
        QVERIFY(maxBacklog >= first.max_backlog);
        QVERIFY(maxDrops > first.drops);
        // nstat: this namespace's counters, so other listeners may add to them (>=, not ==).
        QVERIFY2(ovBefore && ovAfter && dropsBefore && dropsAfter, "cannot read /proc/net/netstat");
        const std::uint64_t ovDelta = *ovAfter - *ovBefore, dropDelta = *dropsAfter - *dropsBefore;
        qInfo("listener port %u: max backlog %u/%u, drops %llu; nstat ListenOverflows +%llu, "
              "ListenDrops +%llu",
              port, maxBacklog, first.max_backlog, (unsigned long long)maxDrops,
              (unsigned long long)ovDelta, (unsigned long long)dropDelta);
        QVERIFY(ovDelta >= 1);
        QVERIFY2(dropDelta >= maxDrops,
                 "listener reported more drops than the kernel's ListenDrops");
        // Does this kernel report the overflow as a kfree_skb drop? Check, don't assume.
        const auto overflow = cap.reasonValue(TS_REASONS_SKB_DROP, "TCP_LISTEN_OVERFLOW");
        std::map<QString, int> reasons;
        for (const auto &d : cap.drops)
            if (d.dport == port)
                ++reasons[cap.reasonName(TS_REASONS_SKB_DROP, d.reason)];
        QStringList text;
        for (const auto &[name, n] : reasons)
            text << QStringLiteral("%1 x%2").arg(name).arg(n);
        qInfo("kfree_skb drops to the listener port: %s (TCP_LISTEN_OVERFLOW in the enum: %s)",
              qPrintable(text.isEmpty() ? QString("none") : text.join(", ")),
              overflow ? "yes" : "no");
        if (overflow && reasons.count("TCP_LISTEN_OVERFLOW"))
            QVERIFY(std::uint64_t(reasons["TCP_LISTEN_OVERFLOW"]) <= ovDelta);
    }
};

QTEST_GUILESS_MAIN(TestHelperListener)
#include "test_helper_listener.moc"
