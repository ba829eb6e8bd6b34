// SPDX-License-Identifier: GPL-3.0-or-later
// tcpinfo.bpf.c loaded directly through TcpInfoLoader (no helper, no wire), on the real kernel in
// both modes (tp_btf and classic tracepoints): one probe report per hook in a fixed order; socket
// ids of samples and RST events equal the sockets' SO_COOKIE; the active reset of a linger-0
// close is oriented from the closing socket; the peer's RST_RECEIVED names the peer; a SYN to a
// closed port yields a NO_SOCKET drop on lo and an RST without socket (IPv4, and IPv6 behind a
// destination-options header). The reason-name tables are compared with bpftool's independent
// dump of the kernel BTF. (BPF_PROG_TEST_RUN cannot run tp_btf programs, so real loopback
// traffic drives them.) Root only; skips loudly otherwise.
#include "reason_names.h"
#include "tcpinfo_loader.h"
#include "tcpscope_records.h"
#include "tracefs.h"

#include <QProcess>
#include <QTest>
#include <arpa/inet.h>
#include <bpf/libbpf.h>
#include <cstring>
#include <map>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

using namespace tcpscope;

namespace {

constexpr int kSoCookie = 57; // SO_COOKIE

struct Fd
{
    int fd = -1;
    explicit Fd(int f = -1) : fd(f) {}
    Fd(const Fd &) = delete;
    Fd &operator=(const Fd &) = delete;
    ~Fd()
    {
        if (fd >= 0)
            ::close(fd);
    }
};

std::uint64_t cookieOf(int fd)
{
    std::uint64_t c = 0;
    socklen_t len = sizeof c;
    return getsockopt(fd, SOL_SOCKET, kSoCookie, &c, &len) == 0 ? c : 0;
}

std::uint16_t portOf(int fd)
{
    sockaddr_in a{};
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len);
    return ntohs(a.sin_port);
}

sockaddr_in loopback(std::uint16_t port)
{
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

struct Records
{
    std::vector<ts_tcp_sample> samples;
    std::vector<ts_tcp_event> events;
    std::vector<ts_drop> drops;
};

int onRecord(void *ctx, void *data, std::size_t size)
{
    auto *r = static_cast<Records *>(ctx);
    const auto *h = static_cast<const ts_record_header *>(data);
    if (size < sizeof *h || h->size != size)
        return 0;
    if (h->type == TS_REC_TCP_SAMPLE && size == sizeof(ts_tcp_sample))
        r->samples.push_back(*static_cast<const ts_tcp_sample *>(data));
    else if (h->type == TS_REC_TCP_EVENT && size == sizeof(ts_tcp_event))
        r->events.push_back(*static_cast<const ts_tcp_event *>(data));
    else if (h->type == TS_REC_DROP && size == sizeof(ts_drop))
        r->drops.push_back(*static_cast<const ts_drop *>(data));
    return 0;
}

// enum name -> (value -> name without prefix), parsed from `bpftool btf dump ... format raw`.
std::map<std::uint32_t, std::string> bpftoolEnum(const QString &raw, const QString &enumName,
                                                 const QString &prefix)
{
    std::map<std::uint32_t, std::string> out;
    const QStringList lines = raw.split('\n');
    for (int i = 0; i < lines.size(); ++i) {
        if (!lines[i].contains("ENUM '" + enumName + "'"))
            continue;
        for (int j = i + 1; j < lines.size() && lines[j].startsWith('\t'); ++j) {
            const QString l = lines[j].trimmed(); // 'SKB_DROP_REASON_NO_SOCKET' val=3
            const int q = l.indexOf('\'', 1);
            QString name = l.mid(1, q - 1);
            if (name.startsWith(prefix))
                name = name.mid(prefix.size());
            out[l.mid(l.indexOf("val=") + 4).toUInt()] = name.toStdString();
        }
        break;
    }
    return out;
}

} // namespace

class TestTcpInfoParser : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase()
    {
        if (geteuid() != 0)
            QSKIP("NOT ROOT - tcpinfo BPF test NOT RUN (needs root to load BPF)");
    }

    void reasonNamesMatchBpftool()
    {
        std::string error;
        const std::vector<ts_reason_name> names = helper::kernelReasonNames(error);
        QVERIFY2(error.empty(), error.c_str());
        QProcess bpftool;
        bpftool.start("/usr/sbin/bpftool",
                      {"btf", "dump", "file", "/sys/kernel/btf/vmlinux", "format", "raw"});
        if (!bpftool.waitForStarted(5000))
            QSKIP("bpftool not runnable: cannot cross-check reason names");
        QVERIFY(bpftool.waitForFinished(60000));
        const QString raw = QString::fromUtf8(bpftool.readAllStandardOutput());
        const auto drops = bpftoolEnum(raw, "skb_drop_reason", "SKB_DROP_REASON_");
        const auto rsts = bpftoolEnum(raw, "sk_rst_reason", "SK_RST_REASON_");
        QVERIFY(!drops.empty() && !rsts.empty());
        std::map<std::uint32_t, std::string> ours[3];
        for (const ts_reason_name &n : names) {
            QCOMPARE(n.hdr.type, std::uint16_t(TS_REC_REASON_NAME));
            QCOMPARE(n.hdr.size, std::uint16_t(sizeof n));
            QVERIFY(n.table == TS_REASONS_SKB_DROP || n.table == TS_REASONS_SK_RST);
            QVERIFY(std::memchr(n.name, 0, sizeof n.name)); // NUL-terminated
            ours[n.table][n.value] = n.name;
        }
        QCOMPARE(ours[TS_REASONS_SKB_DROP], drops);
        QCOMPARE(ours[TS_REASONS_SK_RST], rsts);
        QCOMPARE(ours[TS_REASONS_SKB_DROP][3], std::string("NO_SOCKET")); // its value on 6.18
        qInfo("%zu drop reasons, %zu reset reasons, equal to bpftool's dump", drops.size(),
              rsts.size());
    }

    void hooks_data()
    {
        QTest::addColumn<bool>("forceTracepoint");
        QTest::newRow("tp_btf") << false;
        QTest::newRow("tracepoint") << true;
    }

    void hooks()
    {
        QFETCH(bool, forceTracepoint);
        helper::Tracefs tracefs;
        helper::TcpInfoLoader loader;
        std::string error;
        QVERIFY2(loader.load(forceTracepoint, 1u << 20, -1, tracefs, error), error.c_str());
        const char *expected[] = {"tcp_probe",      "tcp_retransmit_skb", "tcp_retransmit_synack",
                                  "tcp_send_reset", "tcp_receive_reset",  "tcp_cong_state_set",
                                  "kfree_skb"};
        QCOMPARE(loader.reports().size(), std::size(expected));
        for (std::size_t i = 0; i < std::size(expected); ++i) {
            const wire::ProbeReport &r = loader.reports()[i];
            qInfo("%s = %s (%s)", r.name.c_str(), r.status.c_str(), r.detail.c_str());
            QCOMPARE(r.name, std::string(expected[i]));
            // Every hook exists on this 6.18 kernel (checked by hand with bpftool), in both modes.
            QCOMPARE(r.status, std::string(forceTracepoint ? "tracepoint" : "tp_btf"));
        }
        QVERIFY2(loader.configure(0, error) && loader.attach(error), error.c_str());

        Records rec;
        ring_buffer *rb = ring_buffer__new(loader.eventsFd(), onRecord, &rec, nullptr);
        QVERIFY(rb);
        auto pump = [&](auto &&done) {
            // The loader's programs wake a reader only once half the ring is full (as the
            // helper, this reader consumes on a timer): poll, then consume what is there.
            for (int i = 0; i < 100 && !done(); ++i) {
                ring_buffer__poll(rb, 50);
                ring_buffer__consume(rb);
            }
            return done();
        };

        // A connection with data both ways, then an abortive close (SO_LINGER 0) by the client.
        Fd srv(::socket(AF_INET, SOCK_STREAM, 0));
        sockaddr_in any = loopback(0);
        QVERIFY(::bind(srv.fd, reinterpret_cast<sockaddr *>(&any), sizeof any) == 0);
        QVERIFY(::listen(srv.fd, 4) == 0);
        const std::uint16_t srvPort = portOf(srv.fd);
        Fd cli(::socket(AF_INET, SOCK_STREAM, 0));
        sockaddr_in to = loopback(srvPort);
        QVERIFY(::connect(cli.fd, reinterpret_cast<sockaddr *>(&to), sizeof to) == 0);
        Fd acc(::accept(srv.fd, nullptr, nullptr));
        QVERIFY(acc.fd >= 0);
        const std::uint64_t cliCookie = cookieOf(cli.fd), accCookie = cookieOf(acc.fd);
        const std::uint16_t cliPort = portOf(cli.fd);
        QVERIFY(cliCookie && accCookie);
        char buf[4096] = {};
        for (int i = 0; i < 4; ++i) {
            QCOMPARE(::send(cli.fd, buf, sizeof buf, 0), ssize_t(sizeof buf));
            QVERIFY(::recv(acc.fd, buf, sizeof buf, MSG_WAITALL) == ssize_t(sizeof buf));
            QCOMPARE(::send(acc.fd, buf, 100, 0), ssize_t(100));
            QVERIFY(::recv(cli.fd, buf, 100, MSG_WAITALL) == 100);
        }
        const linger lin{1, 0};
        QVERIFY(setsockopt(cli.fd, SOL_SOCKET, SO_LINGER, &lin, sizeof lin) == 0);
        ::close(cli.fd);
        cli.fd = -1;

        // SYN to a port nobody listens on (bound but not listening: it stays closed).
        Fd hole(::socket(AF_INET, SOCK_STREAM, 0));
        QVERIFY(::bind(hole.fd, reinterpret_cast<sockaddr *>(&any), sizeof any) == 0);
        const std::uint16_t closedPort = portOf(hole.fd);
        Fd refused(::socket(AF_INET, SOCK_STREAM, 0));
        sockaddr_in closed = loopback(closedPort);
        QVERIFY(::connect(refused.fd, reinterpret_cast<sockaddr *>(&closed), sizeof closed) != 0);
        QCOMPARE(errno, ECONNREFUSED);

        // The same over IPv6 with a destination-options extension header before TCP.
        Fd hole6(::socket(AF_INET6, SOCK_STREAM, 0));
        sockaddr_in6 any6{};
        any6.sin6_family = AF_INET6;
        any6.sin6_addr = in6addr_loopback;
        QVERIFY(::bind(hole6.fd, reinterpret_cast<sockaddr *>(&any6), sizeof any6) == 0);
        sockaddr_in6 bound6{};
        socklen_t len6 = sizeof bound6;
        getsockname(hole6.fd, reinterpret_cast<sockaddr *>(&bound6), &len6);
        const std::uint16_t closedPort6 = ntohs(bound6.sin6_port);
        Fd refused6(::socket(AF_INET6, SOCK_STREAM, 0));
        const std::uint8_t dstopts[8] = {0, 0, 1, 4, 0, 0, 0, 0}; // PadN: 8-byte header
        QVERIFY(setsockopt(refused6.fd, IPPROTO_IPV6, IPV6_DSTOPTS, dstopts, sizeof dstopts) == 0);
        QVERIFY(::connect(refused6.fd, reinterpret_cast<sockaddr *>(&bound6), sizeof bound6) != 0);
        QCOMPARE(errno, ECONNREFUSED);

        const ts_tcp_event *rstOut = nullptr, *rstIn = nullptr, *rstNoSock = nullptr;
        const ts_drop *drop = nullptr, *drop6 = nullptr;
        bool cliSample = false, accSample = false;
        auto done = [&] {
            rstOut = rstIn = rstNoSock = nullptr;
            drop = nullptr;
            cliSample = accSample = false;
            for (const ts_tcp_sample &s : rec.samples) {
                const bool good = s.fields == 0x1ff && s.srtt_us > 0 && s.snd_cwnd > 0 &&
                                  s.mss_cache > 0 && s.state == 1 /* ESTABLISHED */;
                cliSample |=
                    good && s.sock_id == cliCookie && s.sport == cliPort && s.dport == srvPort;
                accSample |=
                    good && s.sock_id == accCookie && s.sport == srvPort && s.dport == cliPort;
            }
            for (const ts_tcp_event &e : rec.events) {
                if (e.kind == TS_EV_RST_SENT && e.sock_id == cliCookie)
                    rstOut = &e;
                if (e.kind == TS_EV_RST_RECEIVED && e.sock_id == accCookie)
                    rstIn = &e;
                if (e.kind == TS_EV_RST_SENT && e.sport == closedPort)
                    rstNoSock = &e;
            }
            drop6 = nullptr;
            for (const ts_drop &d : rec.drops) {
                if (d.dport == closedPort && (d.tcp_flags & TS_TCP_SYN))
                    drop = &d;
                if (d.family == AF_INET6 && d.dport == closedPort6 && (d.tcp_flags & TS_TCP_SYN))
                    drop6 = &d;
            }
            return rstOut && rstIn && rstNoSock && drop && drop6 && cliSample && accSample;
        };
        const bool all = pump(done);
        ring_buffer__free(rb);
        QVERIFY2(all, qPrintable(QStringLiteral("client sample %1, server sample %2, RST out %3, "
                                                "RST in %4, RST without socket %5, drop %6, "
                                                "IPv6 drop behind a DSTOPTS header %7")
                                     .arg(cliSample)
                                     .arg(accSample)
                                     .arg(rstOut != nullptr)
                                     .arg(rstIn != nullptr)
                                     .arg(rstNoSock != nullptr)
                                     .arg(drop != nullptr)
                                     .arg(drop6 != nullptr)));
        // Active reset: no packet answered, so the closing socket's own tuple.
        QCOMPARE(rstOut->sport, cliPort);
        QCOMPARE(rstOut->dport, srvPort);
        QCOMPARE(rstOut->family, std::uint16_t(AF_INET));
        QVERIFY(rstOut->reason != TS_REASON_NONE);
        QCOMPARE(rstIn->sport, srvPort);
        QCOMPARE(rstIn->dport, cliPort);
        // The reply to a packet without socket: local side = the closed port, no socket id.
        QCOMPARE(rstNoSock->sock_id, std::uint64_t(0));
        QCOMPARE(rstNoSock->dport, portOf(refused.fd));
        QCOMPARE(drop->reason, 3u);  // SKB_DROP_REASON_NO_SOCKET on this kernel
        QCOMPARE(drop->ifindex, 1u); // lo
        QCOMPARE(drop->sock_id, std::uint64_t(0));
        const std::uint8_t lo[4] = {127, 0, 0, 1};
        QVERIFY(std::memcmp(drop->daddr, lo, 4) == 0 && std::memcmp(drop->saddr, lo, 4) == 0);
        QCOMPARE(drop6->reason, 3u);
        QCOMPARE(drop6->sport, [&] {
            sockaddr_in6 a{};
            socklen_t l = sizeof a;
            getsockname(refused6.fd, reinterpret_cast<sockaddr *>(&a), &l);
            return ntohs(a.sin6_port);
        }());
        std::vector<std::uint64_t> lost;
        QVERIFY(loader.addLost(lost));
        std::uint64_t missed = 0;
        QVERIFY(loader.readMissedRuns(missed));
        qInfo("%zu samples, %zu events, %zu drops (all traffic on the host); lost %llu",
              rec.samples.size(), rec.events.size(), rec.drops.size(),
              static_cast<unsigned long long>(lost.empty() ? 0 : lost[0]));
    }
};

QTEST_GUILESS_MAIN(TestTcpInfoParser)
#include "test_tcpinfo_parser.moc"
