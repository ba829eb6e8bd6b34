// SPDX-License-Identifier: GPL-3.0-or-later
// computeOverview on constructed sessions: exact bins, counts and the ids behind every bar.
#include "analysis/overview.h"
#include "test_addresses.h"

#include <QtTest>

using namespace tcpscope;

namespace {
constexpr qint64 kOrigin = 1'700'000'000'000'000'000;
constexpr qint64 kMs = 1'000'000;
constexpr qint64 kSec = 1'000'000'000;

Connection conn(qint64 id, const QString &comm, ConnectionRole role, qint64 startMs, qint64 endMs)
{
    Connection c;
    c.id = id;
    c.comm = comm;
    c.pid = quint32(100 + id);
    c.role = role;
    c.localAddr = test::ip(QStringLiteral("127.0.0.1"));
    c.localPort = quint16(40000 + id);
    c.remoteAddr = test::ip(QStringLiteral("10.0.0.%1").arg(id % 3));
    c.remotePort = 443;
    c.startNs = kOrigin + startMs * kMs;
    c.endNs = endMs < 0 ? 0 : kOrigin + endMs * kMs;
    return c;
}

KernelEvent kevent(qint64 id, qint64 atMs, KernelEventKind kind, quint16 segs = 1, qint32 err = 0)
{
    KernelEvent e;
    e.connectionId = id;
    e.timeNs = kOrigin + atMs * kMs;
    e.kind = kind;
    e.segs = segs;
    e.err = err;
    return e;
}

DropEvent drop(qint64 id, qint64 atMs, const QString &reason)
{
    DropEvent d;
    d.connectionId = id;
    d.timeNs = kOrigin + atMs * kMs;
    d.reasonName = reason;
    return d;
}

TcpSample sample(qint64 id, qint64 atMs, quint32 srttUs, quint64 acked = 0)
{
    TcpSample s;
    s.connectionId = id;
    s.timeNs = kOrigin + atMs * kMs;
    s.srttUs = srttUs;
    s.bytesAcked = acked;
    return s;
}

QVector<qint64> ids(std::initializer_list<qint64> list)
{
    return QVector<qint64>(list);
}
} // namespace

class TestOverview : public QObject
{
    Q_OBJECT
private slots:
    void binWidth()
    {
        QCOMPARE(overviewBinSeconds(10, 1200), 1.0);
        QCOMPARE(overviewBinSeconds(1200, 1200), 1.0);
        QCOMPARE(overviewBinSeconds(1201, 1200), 2.0);
        QCOMPARE(overviewBinSeconds(3600, 1200), 5.0);
        QCOMPARE(overviewBinSeconds(86400, 1200), 120.0);
    }

    void perSecondSeries()
    {
        QVector<Connection> cs;
        cs << conn(1, QStringLiteral("nginx"), ConnectionRole::Listener, 0, -1)    // not counted
           << conn(2, QStringLiteral("curl"), ConnectionRole::Client, 100, 2500)   // 0 .. 2
           << conn(3, QStringLiteral("curl"), ConnectionRole::Client, 900, 1100)   // 0 .. 1
           << conn(4, QStringLiteral("wget"), ConnectionRole::Client, 3200, -1)    // 3 .. open
           << conn(5, QStringLiteral("ssh"), ConnectionRole::Client, -5000, 1500); // predates
        KernelData k;
        k.events << kevent(2, 200, KernelEventKind::Retransmit, 3)
                 << kevent(3, 950, KernelEventKind::Retransmit, 1)
                 << kevent(2, 2100, KernelEventKind::Retransmit, 2,
                           -11) // failed send: not on the wire
                 << kevent(4, 3300, KernelEventKind::SynAckRetransmit, 1)
                 << kevent(2, 2400, KernelEventKind::ResetSent)
                 << kevent(0, 2450, KernelEventKind::ResetReceived)
                 << kevent(5, 1500, KernelEventKind::ResetReceived)
                 << kevent(2, 500, KernelEventKind::CongestionState);
        const Overview ov =
            computeOverview(OverviewInput::of(cs, k, kOrigin, kOrigin + 4 * kSec, true));
        QCOMPARE(ov.binSeconds, 1.0);
        QCOMPARE(ov.binCount, 4);
        QCOMPARE(ov.connectionCount, 4);
        QCOMPARE(ov.opened.size(), 4);
        QCOMPARE(ov.opened[0].value, 2.0);
        QCOMPARE(ov.opened[0].ids, ids({2, 3}));
        QCOMPARE(ov.opened[1].value, 0.0);
        QCOMPARE(ov.opened[3].ids, ids({4}));
        QCOMPARE(ov.closed[1].ids, ids({3, 5}));
        QCOMPARE(ov.closed[2].ids, ids({2}));
        QCOMPARE(ov.active, (QVector<double>{3, 3, 1, 1}));
        QCOMPARE(ov.activeIds(0, 0), ids({2, 3, 5}));
        QCOMPARE(ov.activeIds(2, 3), ids({2, 4}));
        QCOMPARE(ov.retransmits[0].value, 4.0);
        QCOMPARE(ov.retransmits[0].ids, ids({2, 3}));
        QCOMPARE(ov.retransmits[2].value, 0.0);
        QCOMPARE(ov.retransmits[3].ids, ids({4}));
        QCOMPARE(ov.retransmitTotal, quint64(5));
        QCOMPARE(ov.resetsSent[2].ids, ids({2}));
        QCOMPARE(ov.resetsReceived[2].value, 1.0); // unjoined: counted, no id
        QVERIFY(ov.resetsReceived[2].ids.isEmpty());
        QCOMPARE(ov.resetsReceived[1].ids, ids({5}));
    }

    void logHistograms()
    {
        QVector<Connection> cs;
        const qint64 hs[] = {150'000, 200'000, 250'000, 1'999'000, 3'000'000, -1};
        for (int i = 0; i < 6; ++i) {
            cs << conn(i + 1, QStringLiteral("c"), ConnectionRole::Client, 10, 20);
            cs.last().handshakeNs = hs[i];
            cs.last().srttUs = quint32(i == 5 ? 0 : 40 * (i + 1));
        }
        Overview ov = computeOverview(OverviewInput::of(cs, {}, kOrigin, kOrigin + kSec, true));
        // 0.1 .. 5 ms in 1-2-5 steps: [0.1,0.2) [0.2,0.5) [0.5,1) [1,2) [2,5)
        QCOMPARE(ov.handshake.edges, (QVector<double>{0.1, 0.2, 0.5, 1, 2, 5}));
        QCOMPARE(ov.handshake.bins.size(), 5);
        QCOMPARE(ov.handshake.bins[0].ids, ids({1}));
        QCOMPARE(ov.handshake.bins[1].ids, ids({2, 3})); // 0.2 is on the edge: the bin it starts
        QCOMPARE(ov.handshake.bins[2].value, 0.0);
        QCOMPARE(ov.handshake.bins[3].ids, ids({4}));
        QCOMPARE(ov.handshake.bins[4].ids, ids({5}));
        QCOMPARE(ov.handshake.total(), 5.0);
        QCOMPARE(ov.handshake.bins[0].label, QStringLiteral("100–200 µs"));
        QCOMPARE(ov.handshake.bins[3].label, QStringLiteral("1–2 ms"));
        // No samples: per-connection srtt 40,80,120,160,200 µs.
        QVERIFY(!ov.rttFromSamples);
        QCOMPARE(ov.rtt.unit, QStringLiteral("connections"));
        QCOMPARE(ov.rtt.edges, (QVector<double>{0.02, 0.05, 0.1, 0.2, 0.5}));
        QCOMPARE(ov.rtt.bins[0].ids, ids({1}));
        QCOMPARE(ov.rtt.bins[1].ids, ids({2}));
        QCOMPARE(ov.rtt.bins[2].ids, ids({3, 4}));
        QCOMPARE(ov.rtt.bins[3].ids, ids({5}));

        // With samples the distribution counts samples, ids per bin once.
        KernelData k;
        k.samples << sample(2, 1, 1000) << sample(2, 2, 1500) << sample(3, 3, 1200)
                  << sample(2, 4, 6000) << sample(3, 5, 0); // srtt 0: no RTT yet
        ov = computeOverview(OverviewInput::of(cs, k, kOrigin, kOrigin + kSec, true));
        QVERIFY(ov.rttFromSamples);
        QCOMPARE(ov.rtt.unit, QStringLiteral("samples"));
        QCOMPARE(ov.rtt.edges, (QVector<double>{1, 2, 5, 10}));
        QCOMPARE(ov.rtt.bins[0].value, 3.0);
        QCOMPARE(ov.rtt.bins[0].ids, ids({2, 3}));
        QCOMPARE(ov.rtt.bins[1].value, 0.0);
        QCOMPARE(ov.rtt.bins[2].ids, ids({2}));
        QCOMPARE(ov.sampleCount, quint64(5));
    }

    void dropsByReason()
    {
        QVector<Connection> cs{conn(1, QStringLiteral("a"), ConnectionRole::Client, 0, 10),
                               conn(2, QStringLiteral("b"), ConnectionRole::Client, 0, 10)};
        KernelData k;
        k.drops << drop(0, 1, QStringLiteral("NO_SOCKET"))
                << drop(1, 2, QStringLiteral("TCP_OLD_DATA"))
                << drop(0, 3, QStringLiteral("NO_SOCKET"))
                << drop(2, 4, QStringLiteral("TCP_OLD_DATA"))
                << drop(1, 5, QStringLiteral("TCP_OLD_DATA"))
                << drop(2, 6, QStringLiteral("NO_SOCKET")) << drop(2, 7, QString())
                << drop(1, 8, QStringLiteral("OTHERHOST"));
        k.drops.last().reason = 0;
        k.drops[6].reason = 77;
        const Overview ov =
            computeOverview(OverviewInput::of(cs, k, kOrigin, kOrigin + kSec, true));
        QCOMPARE(ov.dropTotal, quint64(8));
        QCOMPARE(ov.dropsByReason.size(), 4);
        QCOMPARE(ov.dropsByReason[0].label,
                 QStringLiteral("NO_SOCKET")); // 3, tie with TCP_OLD_DATA: by name
        QCOMPARE(ov.dropsByReason[0].value, 3.0);
        QCOMPARE(ov.dropsByReason[0].ids, ids({2}));
        QCOMPARE(ov.dropsByReason[1].label, QStringLiteral("TCP_OLD_DATA"));
        QCOMPARE(ov.dropsByReason[1].ids, ids({1, 2}));
        QCOMPARE(ov.dropsByReason[2].label, QStringLiteral("OTHERHOST"));
        QCOMPARE(ov.dropsByReason[3].label, QStringLiteral("reason 77"));
    }

    void topRankings()
    {
        QVector<Connection> cs;
        auto add = [&](qint64 id, const QString &comm, quint64 bytes, quint32 retrans,
                       ConnectionRole role = ConnectionRole::Client) {
            cs << conn(id, comm, role, 0, 10);
            cs.last().haveCloseStats = true;
            cs.last().bytesSent = bytes;
            cs.last().retransmits = retrans;
        };
        add(1, QStringLiteral("curl"), 1000, 0);
        add(2, QStringLiteral("curl"), 500, 2);
        add(3, QStringLiteral("wget"), 1500, 0); // ties with curl's 1500: name order
        add(4, QStringLiteral("iperf3"), 9000, 1);
        add(5, QStringLiteral("sshd"), 10, 0, ConnectionRole::Server);
        add(6, QStringLiteral("nginx"), 99999, 9, ConnectionRole::Listener); // listeners never rank
        add(7, QStringLiteral("idle"), 0, 0);                                // nothing: not listed
        KernelData k;
        k.samples << sample(7, 1, 100, 4000); // but an open connection's samples count
        k.events << kevent(3, 5, KernelEventKind::Retransmit, 4); // kernel events beat close stats
        OverviewOptions options;
        options.topN = 3;
        const Overview ov =
            computeOverview(OverviewInput::of(cs, k, kOrigin, kOrigin + kSec, true), options);
        QCOMPARE(ov.topProcessesByBytes.size(), 3);
        QCOMPARE(ov.topProcessesByBytes[0].label, QStringLiteral("iperf3"));
        QCOMPARE(ov.topProcessesByBytes[1].label, QStringLiteral("idle"));
        QCOMPARE(ov.topProcessesByBytes[1].value, 4000.0);
        QCOMPARE(ov.topProcessesByBytes[2].label, QStringLiteral("curl"));
        QCOMPARE(ov.topProcessesByBytes[2].ids, ids({1, 2}));
        QCOMPARE(ov.topProcessesByRetransmits.size(), 3);
        QCOMPARE(ov.topProcessesByRetransmits[0].label, QStringLiteral("wget"));
        QCOMPARE(ov.topProcessesByRetransmits[0].value, 4.0);
        QCOMPARE(ov.topProcessesByRetransmits[1].label, QStringLiteral("curl"));
        QCOMPARE(ov.topProcessesByRetransmits[1].ids, ids({2}));
        QCOMPARE(ov.topProcessesByRetransmits[2].label, QStringLiteral("iperf3"));
        // Remotes: clients by addr:port, the server by its peer's address only.
        QCOMPARE(ov.topRemotesByBytes[0].label,
                 QStringLiteral("10.0.0.1:443")); // 1 (1000), 4 (9000), 7 (4000)
        QCOMPARE(ov.topRemotesByBytes[0].ids, ids({1, 4, 7}));
        QCOMPARE(ov.topRemotesByBytes[0].value, 14000.0);
        QCOMPARE(ov.topRemotesByBytes[1].label, QStringLiteral("10.0.0.0:443")); // 3 (1500)
        QCOMPARE(ov.topRemotesByBytes[2].label,
                 QStringLiteral("10.0.0.2:443")); // 2 (500) > the server's 10
        bool serverSeen = false;
        for (const OverviewBar &b :
             computeOverview(OverviewInput::of(cs, k, kOrigin, kOrigin + kSec, true))
                 .topRemotesByBytes)
            serverSeen |= b.label == QStringLiteral("10.0.0.2") && b.ids == ids({5});
        QVERIFY(serverSeen);
    }

    void emptyAndLongSessions()
    {
        const Overview empty = computeOverview(OverviewInput::of({}, {}, 0, 0, false));
        QCOMPARE(empty.binCount, 1);
        QVERIFY(empty.handshake.bins.isEmpty());
        QVERIFY(empty.dropsByReason.isEmpty());
        QVector<Connection> cs{conn(1, QStringLiteral("a"), ConnectionRole::Client, 0, 3'000'000)};
        const Overview ov =
            computeOverview(OverviewInput::of(cs, {}, kOrigin, kOrigin + 3000 * kSec, true));
        QCOMPARE(ov.binSeconds, 5.0);
        QCOMPARE(ov.binCount, 600);
        QCOMPARE(ov.closed[599].ids, ids({1})); // the end is in the last bin
        QCOMPARE(ov.active[300], 1.0);
    }
};

QTEST_GUILESS_MAIN(TestOverview)
#include "test_overview.moc"
