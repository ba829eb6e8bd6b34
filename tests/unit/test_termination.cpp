// SPDX-License-Identifier: GPL-3.0-or-later
// Handshake and termination stages from state histories as this kernel reports them (the
// transition sequences and gaps below are taken from real recordings on 6.18: the full socket
// goes FIN_WAIT2 -> CLOSE or CLOSING -> CLOSE when the timewait minisocket takes over, an
// orphaned FIN_WAIT2 12 us after FIN_WAIT1 -> FIN_WAIT2, repeated FIN_WAIT1 -> FIN_WAIT1).
#include "analysis/termination.h"
#include "connection_tracker.h"
#include "record_builders.h"

#include <QTest>
#include <cerrno>

using namespace tcpscope;
using namespace testrec;

class TestTermination : public QObject
{
    Q_OBJECT

private slots:
    void localCloseOrphaned();
    void localCloseTimeWaitBoundedBySession();
    void remoteClose();
    void simultaneousClose();
    void resetReceived();
    void resetSent();
    void halfClosedOngoing();
    void finWait2Ongoing();
    void timeWaitInHistory();
    void refusedAndTimedOut();
    void handshake();
    void names();
};

namespace {
constexpr quint64 kUs = 1'000;
constexpr quint64 kMs = 1'000'000;
constexpr quint64 kSec = 1'000'000'000;
const Endpoint kClient{AF_INET, "127.0.0.1", 33874, "127.0.0.1", 5998};
const Endpoint kServer{AF_INET, "127.0.0.1", 5998, "127.0.0.1", 33874};

struct Path
{
    quint64 at;
    __u8 from;
    __u8 to;
};

// One socket through the tracker (clock offset 0: wall ns = record ns).
Connection run(const Endpoint &ep, std::initializer_list<Path> path, __s32 skErr = 0,
               bool closeStats = false)
{
    ConnectionTracker tracker;
    __u8 last = 0;
    quint64 lastAt = 0;
    for (const Path &p : path) {
        tracker.onStateChange(change(1, p.at, p.from, p.to, ep));
        last = p.from;
        lastAt = p.at;
    }
    if (closeStats)
        tracker.onCloseStats(testrec::closeStats(1, lastAt, last, skErr));
    return *tracker.find(1);
}

// Server side of /tmp/loss.tcpscope: the application closed first, the socket was orphaned
// and handed to the minisocket 12 us after FIN_WAIT2, 9 ms before the peer's FIN.
Connection orphanedServer()
{
    return run(kServer, {{1 * kSec, LISTEN, SYN_RECV},
                         {1 * kSec + 10 * kUs, SYN_RECV, ESTABLISHED},
                         {1 * kSec + 4 * kMs, ESTABLISHED, FIN_WAIT1},
                         {1 * kSec + 4 * kMs + 5 * kUs, FIN_WAIT1, FIN_WAIT1},
                         {1 * kSec + 6 * kMs, FIN_WAIT1, FIN_WAIT2},
                         {1 * kSec + 6 * kMs + 12 * kUs, FIN_WAIT2, CLOSE}});
}
} // namespace

void TestTermination::localCloseOrphaned()
{
    const Connection c = orphanedServer();
    QCOMPARE(c.closeReason, CloseReason::Fin);
    const TerminationInfo t = terminationOf(c, 0); // no session end: nothing bounds TIME_WAIT
    QCOMPARE(t.firstCloser, Closer::Local);
    QVERIFY(!t.reset);
    QVERIFY(!t.resetByPeer);
    QCOMPARE(t.halfClosedNs, qint64(2 * kMs + 12 * kUs)); // FIN_WAIT1 to the hand-off
    QCOMPARE(t.finWait2Ns, qint64(12 * kUs));
    QVERIFY(t.timeWaitInferred);
    QCOMPARE(t.timeWaitNs, qint64(60 * kSec));
    QVERIFY(!t.timeWaitOngoing);
    QCOMPARE(describeTermination(t),
             QStringLiteral("local FIN first, 2.01 ms half-closed, FIN_WAIT2 12 \u00b5s, "
                            "TIME_WAIT 60 s (kernel timewait socket, not traced)"));
}

void TestTermination::localCloseTimeWaitBoundedBySession()
{
    const Connection c = orphanedServer();
    const TerminationInfo t = terminationOf(c, c.endNs + 10 * kSec);
    QVERIFY(t.timeWaitInferred);
    QCOMPARE(t.timeWaitNs, qint64(10 * kSec));
    QVERIFY(t.timeWaitOngoing);
    QVERIFY(describeTermination(t).contains(QLatin1String("TIME_WAIT 10 s (ongoing)")));
    const TerminationInfo later = terminationOf(c, c.endNs + 600 * kSec);
    QCOMPARE(later.timeWaitNs, qint64(60 * kSec));
    QVERIFY(!later.timeWaitOngoing);
}

void TestTermination::remoteClose()
{
    // Client side of the same recording: the peer's FIN, ours 9 ms later, its ACK.
    const Connection c = run(kClient, {{1 * kSec, CLOSE, SYN_SENT},
                                       {1 * kSec + 100 * kUs, SYN_SENT, ESTABLISHED},
                                       {1 * kSec + 6 * kMs, ESTABLISHED, CLOSE_WAIT},
                                       {1 * kSec + 15 * kMs, CLOSE_WAIT, LAST_ACK},
                                       {1 * kSec + 15 * kMs + 100 * kUs, LAST_ACK, CLOSE}});
    const TerminationInfo t = terminationOf(c, c.endNs + 100 * kSec);
    QCOMPARE(t.firstCloser, Closer::Remote);
    QVERIFY(!t.reset);
    QCOMPARE(t.halfClosedNs, qint64(9 * kMs));
    QCOMPARE(t.finWait2Ns, qint64(-1));
    QCOMPARE(t.timeWaitNs, qint64(-1)); // the side that closed last has no TIME_WAIT
    QVERIFY(!t.timeWaitInferred);
    QCOMPARE(describeTermination(t), QStringLiteral("remote FIN first, 9 ms half-closed"));
}

void TestTermination::simultaneousClose()
{
    const Connection c = run(kClient, {{1 * kSec, CLOSE, SYN_SENT},
                                       {1 * kSec + 100 * kUs, SYN_SENT, ESTABLISHED},
                                       {2 * kSec, ESTABLISHED, FIN_WAIT1},
                                       {2 * kSec + 30 * kUs, FIN_WAIT1, CLOSING},
                                       {2 * kSec + 31 * kUs, CLOSING, CLOSING},
                                       {2 * kSec + 80 * kUs, CLOSING, CLOSE}});
    const TerminationInfo t = terminationOf(c, c.endNs + 1 * kSec);
    QCOMPARE(t.firstCloser, Closer::Both);
    QCOMPARE(t.halfClosedNs, qint64(30 * kUs));
    QVERIFY(t.timeWaitInferred); // CLOSING -> CLOSE is the hand-off to TIME_WAIT too
    QCOMPARE(t.timeWaitNs, qint64(1 * kSec));
    QVERIFY(t.timeWaitOngoing);
    QVERIFY(describeTermination(t).startsWith(QStringLiteral("simultaneous close, 30 \u00b5s")));
}

void TestTermination::resetReceived()
{
    const Connection c = run(kClient,
                             {{1 * kSec, CLOSE, SYN_SENT},
                              {1 * kSec + 100 * kUs, SYN_SENT, ESTABLISHED},
                              {3 * kSec, ESTABLISHED, CLOSE}},
                             ECONNRESET, true);
    QCOMPARE(c.closeReason, CloseReason::Reset);
    const TerminationInfo t = terminationOf(c, 10 * kSec);
    QVERIFY(t.reset);
    QVERIFY(t.resetByPeer);
    QCOMPARE(t.firstCloser, Closer::Unknown);
    QCOMPARE(t.halfClosedNs, qint64(-1));
    QCOMPARE(t.timeWaitNs, qint64(-1)); // a reset socket skips TIME_WAIT
    QCOMPARE(describeTermination(t), QStringLiteral("RST received"));
}

void TestTermination::resetSent()
{
    // The application closed with unread data: ESTABLISHED -> CLOSE, RST sent, no sk_err.
    Connection c = run(kServer,
                       {{1 * kSec, LISTEN, SYN_RECV},
                        {1 * kSec + 10 * kUs, SYN_RECV, ESTABLISHED},
                        {2 * kSec, ESTABLISHED, CLOSE}},
                       0, true);
    c.kernel.resetsSent = 1;
    TerminationInfo t = terminationOf(c, 10 * kSec);
    QVERIFY(t.reset);
    QVERIFY(!t.resetByPeer);
    QCOMPARE(describeTermination(t), QStringLiteral("RST sent"));
    // A FIN close that also saw a traced RST (e.g. the peer reset during FIN_WAIT1).
    Connection f = run(kClient, {{1 * kSec, CLOSE, SYN_SENT},
                                 {1 * kSec + 100 * kUs, SYN_SENT, ESTABLISHED},
                                 {2 * kSec, ESTABLISHED, FIN_WAIT1},
                                 {2 * kSec + 1 * kMs, FIN_WAIT1, CLOSE}});
    f.kernel.resetsReceived = 1;
    t = terminationOf(f, 10 * kSec);
    QVERIFY(t.reset);
    QVERIFY(t.resetByPeer);
    QCOMPARE(t.firstCloser, Closer::Local);
    QCOMPARE(t.halfClosedNs, qint64(1 * kMs));
    QVERIFY(!t.timeWaitInferred); // FIN_WAIT1 -> CLOSE is not the hand-off
    QCOMPARE(describeTermination(t),
             QStringLiteral("RST received, local FIN first, 1 ms half-closed"));
}

void TestTermination::halfClosedOngoing()
{
    // The peer sent FIN, we keep sending: half-closed when the capture ended.
    const Connection c = run(kClient, {{1 * kSec, CLOSE, SYN_SENT},
                                       {1 * kSec + 100 * kUs, SYN_SENT, ESTABLISHED},
                                       {2 * kSec, ESTABLISHED, CLOSE_WAIT}});
    QVERIFY(c.isOpen());
    const TerminationInfo t = terminationOf(c, 5 * kSec);
    QCOMPARE(t.firstCloser, Closer::Remote);
    QCOMPARE(t.halfClosedNs, qint64(3 * kSec));
    QCOMPARE(terminationOf(c, 0).halfClosedNs, qint64(-1)); // no end to measure against
}

void TestTermination::finWait2Ongoing()
{
    // Not orphaned (the application still holds the socket): FIN_WAIT2 stays on the full socket.
    const Connection c = run(kClient, {{1 * kSec, CLOSE, SYN_SENT},
                                       {1 * kSec + 100 * kUs, SYN_SENT, ESTABLISHED},
                                       {2 * kSec, ESTABLISHED, FIN_WAIT1},
                                       {2 * kSec + 50 * kUs, FIN_WAIT1, FIN_WAIT2}});
    const TerminationInfo t = terminationOf(c, 7 * kSec);
    QCOMPARE(t.firstCloser, Closer::Local);
    QCOMPARE(t.finWait2Ns, qint64(5 * kSec - 50 * kUs));
    QCOMPARE(t.halfClosedNs, qint64(5 * kSec));
    QCOMPARE(t.timeWaitNs, qint64(-1));
}

void TestTermination::timeWaitInHistory()
{
    // A history that does report TIME_WAIT is measured, not inferred.
    const Connection c = run(kClient, {{1 * kSec, CLOSE, SYN_SENT},
                                       {1 * kSec + 100 * kUs, SYN_SENT, ESTABLISHED},
                                       {2 * kSec, ESTABLISHED, FIN_WAIT1},
                                       {2 * kSec + 50 * kUs, FIN_WAIT1, FIN_WAIT2},
                                       {3 * kSec, FIN_WAIT2, TIME_WAIT},
                                       {63 * kSec, TIME_WAIT, CLOSE}});
    TerminationInfo t = terminationOf(c, 100 * kSec);
    QCOMPARE(t.halfClosedNs, qint64(1 * kSec)); // our FIN to the peer's (TIME_WAIT)
    QCOMPARE(t.finWait2Ns, qint64(1 * kSec - 50 * kUs));
    QCOMPARE(t.timeWaitNs, qint64(60 * kSec));
    QVERIFY(!t.timeWaitInferred);
    QVERIFY(!t.timeWaitOngoing);
    const Connection open = run(kClient, {{2 * kSec, ESTABLISHED, FIN_WAIT1},
                                          {2 * kSec + 50 * kUs, FIN_WAIT1, FIN_WAIT2},
                                          {3 * kSec, FIN_WAIT2, TIME_WAIT}});
    t = terminationOf(open, 13 * kSec);
    QCOMPARE(t.timeWaitNs, qint64(10 * kSec));
    QVERIFY(t.timeWaitOngoing);
}

void TestTermination::refusedAndTimedOut()
{
    Connection refused =
        run(kClient, {{1 * kSec, CLOSE, SYN_SENT}, {1 * kSec + 50 * kUs, SYN_SENT, CLOSE}},
            ECONNREFUSED, true);
    refused.kernel.resetsReceived = 1;
    const HandshakeInfo h = handshakeOf(refused);
    QVERIFY(h.refused);
    QVERIFY(!h.timedOut);
    QCOMPARE(h.latencyNs, qint64(-1));
    const TerminationInfo t = terminationOf(refused, 2 * kSec);
    QVERIFY(!t.reset); // never established: a refusal, not a reset connection
    QCOMPARE(t.firstCloser, Closer::Unknown);
    QCOMPARE(describeTermination(t), QString());

    Connection timedOut =
        run(kClient, {{1 * kSec, CLOSE, SYN_SENT}, {128 * kSec, SYN_SENT, CLOSE}}, ETIMEDOUT, true);
    timedOut.kernel.synRetransmits = 6;
    timedOut.kernel.retransmits = 6;
    const HandshakeInfo ht = handshakeOf(timedOut);
    QVERIFY(ht.timedOut);
    QVERIFY(!ht.refused);
    QCOMPARE(ht.synRetransmits, 6u);
    // Data retransmissions exhausted after the handshake: a timeout, but not of the connect.
    const Connection dataTimeout = run(kClient,
                                       {{1 * kSec, CLOSE, SYN_SENT},
                                        {1 * kSec + 100 * kUs, SYN_SENT, ESTABLISHED},
                                        {900 * kSec, ESTABLISHED, CLOSE}},
                                       ETIMEDOUT, true);
    QCOMPARE(dataTimeout.closeReason, CloseReason::Timeout);
    QVERIFY(!handshakeOf(dataTimeout).timedOut);
}

void TestTermination::handshake()
{
    Connection c =
        run(kClient, {{1 * kSec, CLOSE, SYN_SENT}, {2 * kSec + 100 * kUs, SYN_SENT, ESTABLISHED}});
    c.kernel.synRetransmits = 1;
    c.kernel.synAckRetransmits = 0;
    const HandshakeInfo h = handshakeOf(c);
    QCOMPARE(h.latencyNs, qint64(1 * kSec + 100 * kUs));
    QCOMPARE(h.synRetransmits, 1u);
    Connection s = orphanedServer();
    s.kernel.synAckRetransmits = 2;
    QCOMPARE(handshakeOf(s).synAckRetransmits, 2u);
    QCOMPARE(handshakeOf(s).latencyNs, qint64(-1)); // an accepted socket does not see it
}

void TestTermination::names()
{
    QCOMPARE(closerName(Closer::Unknown), QStringLiteral("unknown"));
    QCOMPARE(closerName(Closer::Local), QStringLiteral("local"));
    QCOMPARE(closerName(Closer::Remote), QStringLiteral("remote"));
    QCOMPARE(closerName(Closer::Both), QStringLiteral("simultaneous"));
    QCOMPARE(describeTermination(TerminationInfo{}), QString());
}

QTEST_GUILESS_MAIN(TestTermination)
#include "test_termination.moc"
