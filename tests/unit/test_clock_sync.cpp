// SPDX-License-Identifier: GPL-3.0-or-later
// ClockSync: the NTP-style offset of a remote clock from probes with known round trips, the
// best sample of the starting burst, stale and useless replies, and the error bound growing
// with drift seen by later precise samples only.
#include "capture/clock_sync.h"

#include <QTest>

using namespace tcpscope;

namespace {

constexpr qint64 kMs = 1'000'000;

// One probe whose reply leaves the helper `out` after it was sent and arrives `back` later;
// the remote clock reads local + skew.
bool exchange(ClockSync &c, qint64 &now, qint64 skew, qint64 out, qint64 back)
{
    const std::uint64_t id = c.probeSent(now);
    const qint64 remote = now + out + skew;
    now += out + back;
    return c.replyReceived(id, remote, now);
}

} // namespace

class TestClockSync : public QObject
{
    Q_OBJECT
private slots:
    void burstKeepsTheShortestRoundTrip()
    {
        ClockSync c;
        qint64 now = 1'700'000'000'000'000'000;
        const qint64 skew = 5000 * kMs; // the remote clock is 5 s ahead
        QCOMPARE(c.errorNs(), qint64(-1));
        // Asymmetric, slow exchanges first; the third is fast and symmetric.
        const qint64 legs[][2] = {{30 * kMs, 2 * kMs}, {1 * kMs, 20 * kMs}, {100'000, 100'000},
                                  {5 * kMs, 5 * kMs},  {1 * kMs, 3 * kMs},  {2 * kMs, 2 * kMs},
                                  {4 * kMs, 1 * kMs},  {3 * kMs, 3 * kMs}};
        for (int i = 0; i < ClockSync::kStartProbes; ++i) {
            QVERIFY(!c.started());
            QVERIFY(exchange(c, now, skew, legs[i][0], legs[i][1]));
        }
        QVERIFY(c.started());
        QCOMPARE(c.offsetNs(), skew);           // symmetric: exact
        QCOMPARE(c.errorNs(), qint64(100'000)); // half its 200 us round trip
        // The true offset is always within the bound, whatever the asymmetry.
        ClockSync d;
        now += kMs;
        for (int i = 0; i < ClockSync::kStartProbes; ++i)
            QVERIFY(exchange(d, now, -skew, 9 * kMs, 1 * kMs));
        QVERIFY(qAbs(d.offsetNs() + skew) <= d.errorNs());
        QCOMPARE(d.errorNs(), 5 * kMs);
    }

    void staleAndUselessRepliesTeachNothing()
    {
        ClockSync c;
        qint64 now = 1000 * kMs;
        QVERIFY(!c.replyReceived(1, now, now)); // nothing outstanding
        const std::uint64_t first = c.probeSent(now);
        const std::uint64_t second = c.probeSent(now + kMs); // replaces the first
        QVERIFY(!c.replyReceived(first, now, now + 2 * kMs));
        QVERIFY(c.replyReceived(second, now + 2 * kMs, now + 3 * kMs));
        QVERIFY(!c.replyReceived(second, now, now + 4 * kMs)); // answered already
        // A round trip beyond the limit, or negative (the local clock stepped back).
        const std::uint64_t slow = c.probeSent(now);
        QVERIFY(!c.replyReceived(slow, now, now + ClockSync::kMaxRoundTripNs + 1));
        const std::uint64_t back = c.probeSent(now);
        QVERIFY(!c.replyReceived(back, now, now - 1));
        QCOMPARE(c.samples(), 1);
    }

    void driftWidensTheBound()
    {
        ClockSync c;
        qint64 now = 1000 * kMs;
        for (int i = 0; i < ClockSync::kStartProbes; ++i)
            QVERIFY(exchange(c, now, 0, 200'000, 200'000));
        QCOMPARE(c.errorNs(), qint64(200'000));
        QVERIFY(!c.refreshDue(now));
        now += ClockSync::kRefreshNs;
        QVERIFY(c.refreshDue(now));
        // A reply that waited behind queued records: too imprecise to count.
        QVERIFY(exchange(c, now, 50 * kMs, 200'000, 400 * kMs));
        QCOMPARE(c.errorNs(), qint64(200'000));
        QCOMPARE(c.driftNs(), qint64(0));
        // A precise one 3 ms off: the offset in use may now be 3 ms + 0.2 ms wrong.
        now += ClockSync::kRefreshNs;
        QVERIFY(exchange(c, now, 3 * kMs, 200'000, 200'000));
        QCOMPARE(c.driftNs(), 3 * kMs);
        QCOMPARE(c.errorNs(), 3 * kMs + 200'000);
        QCOMPARE(c.offsetNs(), qint64(0)); // the offset in use does not change mid-capture
        // Back in agreement: the bound keeps the largest seen.
        now += ClockSync::kRefreshNs;
        QVERIFY(exchange(c, now, 0, 200'000, 200'000));
        QCOMPARE(c.errorNs(), 3 * kMs + 200'000);
    }
};

QTEST_GUILESS_MAIN(TestClockSync)
#include "test_clock_sync.moc"
