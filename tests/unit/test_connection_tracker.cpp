// SPDX-License-Identifier: GPL-3.0-or-later
#include "connection_tracker.h"
#include "record_builders.h"

#include <QTest>
#include <cerrno>

using namespace tcpscope;
using namespace testrec;

class TestConnectionTracker : public QObject
{
    Q_OBJECT

private slots:
    void normalClientClose();
    void serverSide();
    void resetAfterEstablished();
    void refused();
    void synTimeout();
    void simultaneousClose();
    void ipv6Addresses();
    void sockIdReuseAfterClose();
    void closeStatsAfterClose();
    void ownerKeptWhenRecordHasNone();
    void listenerClosed();
    void takeChangedIsIncremental();
    void statesPathMidConnection();
};

namespace {
constexpr qint64 kOffset = 1'700'000'000'000'000'000; // wall = mono + offset
const Endpoint kClient{AF_INET, "127.0.0.1", 40000, "127.0.0.1", 8080};
const Endpoint kServer{AF_INET, "127.0.0.1", 8080, "127.0.0.1", 40000};
} // namespace

void TestConnectionTracker::normalClientClose()
{
    ConnectionTracker t;
    t.setClockOffset(kOffset);
    Endpoint bound = kClient;
    bound.lport = 0; // connect() has not picked the port yet at CLOSE->SYN_SENT on some paths
    t.onStateChange(change(1, 1000, CLOSE, SYN_SENT, bound));
    t.onStateChange(change(1, 51000, SYN_SENT, ESTABLISHED, kClient, 0));
    t.onStateChange(change(1, 2'000'000, ESTABLISHED, FIN_WAIT1, kClient));
    t.onStateChange(change(1, 2'100'000, FIN_WAIT1, FIN_WAIT2, kClient, 0));
    t.onStateChange(change(1, 2'200'000, FIN_WAIT2, CLOSE, kClient, 0));
    t.onCloseStats(closeStats(1, 2'200'000, FIN_WAIT2, 0, 1234, 5678));

    QCOMPARE(t.size(), 1);
    const Connection &c = *t.find(1);
    QCOMPARE(c.role, ConnectionRole::Client);
    QCOMPARE(c.pid, 100u);
    QCOMPARE(c.comm, QStringLiteral("client"));
    QCOMPARE(c.ownerSource, quint8(TS_OWNER_CURRENT));
    QCOMPARE(c.family(), AddressFamily::IPv4);
    QCOMPARE(c.localAddr.toString(), QStringLiteral("127.0.0.1"));
    QCOMPARE(c.localPort, quint16(40000));
    QCOMPARE(c.remotePort, quint16(8080));
    QCOMPARE(c.startNs, kOffset + 1000);
    QCOMPARE(c.endNs, kOffset + 2'200'000);
    QCOMPARE(c.handshakeNs, qint64(50000));
    QCOMPARE(c.durationMs(), 2.199);
    QCOMPARE(c.state, TcpState::Close);
    QCOMPARE(c.closeReason, CloseReason::Fin);
    QVERIFY(c.haveCloseStats);
    QCOMPARE(c.bytesSent, 1234u);
    QCOMPARE(c.bytesReceived, 5678u);
    QCOMPARE(c.retransmits, 3u);
    QCOMPARE(c.srttUs, 45u);
    QCOMPARE(c.history.size(), 5);
    QCOMPARE(c.history[1].ctxComm, QStringLiteral("swapper/0"));
    QCOMPARE(c.statesPath(), QStringLiteral("SYN_SENT>ESTABLISHED>FIN_WAIT1>FIN_WAIT2>CLOSE"));
}

void TestConnectionTracker::serverSide()
{
    ConnectionTracker t;
    // Accepted socket: cloned from the listener, so its first change is LISTEN->SYN_RECV; on
    // loopback the hook runs in the client's context but the owner is the listening process.
    ts_state_change first =
        change(7, 100, LISTEN, SYN_RECV, kServer, 200, "server", TS_OWNER_LISTENER);
    std::strncpy(first.ctx_comm, "client", sizeof first.ctx_comm);
    first.ctx_pid = 100;
    t.onStateChange(first);
    t.onStateChange(
        change(7, 400, SYN_RECV, ESTABLISHED, kServer, 200, "server", TS_OWNER_LISTENER));
    t.onStateChange(change(7, 1000, ESTABLISHED, CLOSE_WAIT, kServer, 200, "server"));
    t.onStateChange(change(7, 2000, CLOSE_WAIT, LAST_ACK, kServer, 200, "server"));
    t.onStateChange(change(7, 3000, LAST_ACK, CLOSE, kServer, 0));
    const Connection &c = *t.find(1);
    QCOMPARE(c.role, ConnectionRole::Server);
    QCOMPARE(c.pid, 200u);
    QCOMPARE(c.comm, QStringLiteral("server"));
    QCOMPARE(c.history[0].ctxPid, 100u);
    // The accepted socket is created at the final ACK: no handshake latency is observable.
    QCOMPARE(c.handshakeNs, qint64(-1));
    QCOMPARE(c.closeReason, CloseReason::Fin);
    QCOMPARE(c.statesPath(), QStringLiteral("SYN_RECV>ESTABLISHED>CLOSE_WAIT>LAST_ACK>CLOSE"));
}

void TestConnectionTracker::resetAfterEstablished()
{
    ConnectionTracker t;
    t.onStateChange(change(2, 10, CLOSE, SYN_SENT, kClient));
    t.onStateChange(change(2, 20, SYN_SENT, ESTABLISHED, kClient));
    t.onStateChange(change(2, 30, ESTABLISHED, CLOSE, kClient));
    QCOMPARE(t.find(1)->closeReason, CloseReason::Reset); // abort without FIN states
    t.onCloseStats(closeStats(2, 30, ESTABLISHED, 0));
    QCOMPARE(t.find(1)->closeReason, CloseReason::Reset);

    // A peer RST seen through sk_err, even from CLOSE_WAIT.
    t.onStateChange(change(3, 10, CLOSE, SYN_SENT, kClient));
    t.onStateChange(change(3, 20, SYN_SENT, ESTABLISHED, kClient));
    t.onStateChange(change(3, 25, ESTABLISHED, CLOSE_WAIT, kClient));
    t.onStateChange(change(3, 30, CLOSE_WAIT, CLOSE, kClient));
    t.onCloseStats(closeStats(3, 30, CLOSE_WAIT, ECONNRESET));
    QCOMPARE(t.find(2)->closeReason, CloseReason::Reset);
    QCOMPARE(t.find(2)->skErr, ECONNRESET);
}

void TestConnectionTracker::refused()
{
    ConnectionTracker t;
    t.onStateChange(change(4, 10, CLOSE, SYN_SENT, kClient));
    t.onStateChange(change(4, 20, SYN_SENT, CLOSE, kClient, 0));
    QCOMPARE(t.find(1)->closeReason, CloseReason::Aborted); // until the stats say why
    t.onCloseStats(closeStats(4, 20, SYN_SENT, ECONNREFUSED));
    const Connection &c = *t.find(1);
    QCOMPARE(c.closeReason, CloseReason::Refused);
    QCOMPARE(c.handshakeNs, qint64(-1));
    QCOMPARE(c.role, ConnectionRole::Client);
    QCOMPARE(c.statesPath(), QStringLiteral("SYN_SENT>CLOSE"));
}

void TestConnectionTracker::synTimeout()
{
    ConnectionTracker t;
    t.onStateChange(change(5, 10, CLOSE, SYN_SENT, kClient));
    t.onStateChange(change(5, 20, SYN_SENT, CLOSE, kClient));
    t.onCloseStats(closeStats(5, 20, SYN_SENT, ETIMEDOUT));
    QCOMPARE(t.find(1)->closeReason, CloseReason::Timeout);
}

void TestConnectionTracker::simultaneousClose()
{
    ConnectionTracker t;
    t.onStateChange(change(6, 10, CLOSE, SYN_SENT, kClient));
    t.onStateChange(change(6, 20, SYN_SENT, ESTABLISHED, kClient));
    t.onStateChange(change(6, 30, ESTABLISHED, FIN_WAIT1, kClient));
    t.onStateChange(change(6, 40, FIN_WAIT1, CLOSING, kClient));
    t.onStateChange(change(6, 50, CLOSING, TIME_WAIT, kClient));
    t.onStateChange(change(6, 60, TIME_WAIT, CLOSE, kClient));
    t.onCloseStats(closeStats(6, 60, TIME_WAIT, 0, 10, 10));
    const Connection &c = *t.find(1);
    QCOMPARE(c.closeReason, CloseReason::Fin);
    QCOMPARE(c.statesPath(),
             QStringLiteral("SYN_SENT>ESTABLISHED>FIN_WAIT1>CLOSING>TIME_WAIT>CLOSE"));
    // A repeated report of the same state (seen on real kernels) is kept in the history but
    // not repeated in the path.
    t.onStateChange(change(16, 10, CLOSE, SYN_SENT, kClient));
    t.onStateChange(change(16, 20, SYN_SENT, ESTABLISHED, kClient));
    t.onStateChange(change(16, 30, ESTABLISHED, FIN_WAIT1, kClient));
    t.onStateChange(change(16, 31, FIN_WAIT1, FIN_WAIT1, kClient));
    t.onStateChange(change(16, 40, FIN_WAIT1, FIN_WAIT2, kClient));
    t.onStateChange(change(16, 50, FIN_WAIT2, CLOSE, kClient));
    QCOMPARE(t.find(2)->history.size(), 6);
    QCOMPARE(t.find(2)->statesPath(),
             QStringLiteral("SYN_SENT>ESTABLISHED>FIN_WAIT1>FIN_WAIT2>CLOSE"));
}

void TestConnectionTracker::ipv6Addresses()
{
    ConnectionTracker t;
    const Endpoint v6{AF_INET6, "2001:db8::1", 443, "fe80::1:2", 55555};
    t.onStateChange(change(8, 10, CLOSE, SYN_SENT, v6));
    const Endpoint mapped{AF_INET6, "::ffff:10.0.0.1", 1, "::1", 2};
    t.onStateChange(change(9, 10, CLOSE, SYN_SENT, mapped));
    QCOMPARE(t.find(1)->family(), AddressFamily::IPv6);
    QCOMPARE(t.find(1)->localAddr.toString(), QStringLiteral("2001:db8::1"));
    QCOMPARE(t.find(1)->remoteAddr.toString(), QStringLiteral("fe80::1:2"));
    QCOMPARE(t.find(1)->remotePort, quint16(55555));
    QCOMPARE(t.find(2)->localAddr.toString(), QStringLiteral("::ffff:10.0.0.1"));
    QCOMPARE(t.find(2)->remoteAddr.toString(), QStringLiteral("::1"));
}

void TestConnectionTracker::sockIdReuseAfterClose()
{
    ConnectionTracker t;
    t.onStateChange(change(10, 10, CLOSE, SYN_SENT, kClient));
    t.onStateChange(change(10, 20, SYN_SENT, CLOSE, kClient));
    Endpoint other = kClient;
    other.lport = 40001;
    t.onStateChange(change(10, 30, CLOSE, SYN_SENT, other, 300, "again"));
    t.onStateChange(change(10, 40, SYN_SENT, ESTABLISHED, other, 0));
    QCOMPARE(t.size(), 2);
    QVERIFY(!t.find(1)->isOpen());
    QVERIFY(t.find(2)->isOpen());
    QCOMPARE(t.find(2)->localPort, quint16(40001));
    QCOMPARE(t.find(2)->comm, QStringLiteral("again"));
    QCOMPARE(t.find(2)->history.size(), 2);
    QCOMPARE(t.find(2)->startNs, qint64(30));
}

void TestConnectionTracker::closeStatsAfterClose()
{
    ConnectionTracker t;
    t.onStateChange(change(11, 10, CLOSE, SYN_SENT, kClient));
    t.onStateChange(change(11, 20, SYN_SENT, ESTABLISHED, kClient));
    t.onStateChange(change(11, 30, ESTABLISHED, FIN_WAIT1, kClient));
    t.onStateChange(change(11, 40, FIN_WAIT1, FIN_WAIT2, kClient));
    t.onStateChange(change(11, 50, FIN_WAIT2, CLOSE, kClient));
    // Another socket's records in between, then the late stats.
    t.onStateChange(change(12, 55, CLOSE, SYN_SENT, kServer));
    QVERIFY(!t.find(1)->haveCloseStats);
    (void)t.takeChanged();
    t.onCloseStats(closeStats(11, 56, FIN_WAIT2, 0, 100, 200));
    const QVector<Connection> changed = t.takeChanged();
    QCOMPARE(changed.size(), 1);
    QCOMPARE(changed[0].id, qint64(1));
    QVERIFY(changed[0].haveCloseStats);
    QCOMPARE(changed[0].bytesSent, 100u);
    QCOMPARE(changed[0].bytesReceived, 200u);
    // Stats for a socket we never saw are counted, not invented.
    t.onCloseStats(closeStats(999, 60, ESTABLISHED));
    QCOMPARE(t.orphanCloseStats(), 1u);
    QVERIFY(t.takeChanged().isEmpty());
}

void TestConnectionTracker::ownerKeptWhenRecordHasNone()
{
    ConnectionTracker t;
    t.onStateChange(change(13, 10, CLOSE, SYN_SENT, kClient, 4242, "curl"));
    t.onStateChange(change(13, 20, SYN_SENT, ESTABLISHED, kClient, 0, ""));
    QCOMPARE(t.find(1)->pid, 4242u);
    QCOMPARE(t.find(1)->comm, QStringLiteral("curl"));
    QCOMPARE(t.find(1)->ownerSource, quint8(TS_OWNER_CURRENT));
}

void TestConnectionTracker::listenerClosed()
{
    ConnectionTracker t;
    Endpoint listen{AF_INET, "0.0.0.0", 8080, "0.0.0.0", 0};
    t.onStateChange(change(14, 10, CLOSE, LISTEN, listen, 200, "server"));
    t.onStateChange(change(14, 90, LISTEN, CLOSE, listen, 200, "server"));
    QCOMPARE(t.find(1)->role, ConnectionRole::Listener);
    QCOMPARE(t.find(1)->closeReason, CloseReason::Listener);
    QCOMPARE(closeReasonName(t.find(1)->closeReason), QStringLiteral("listener-closed"));
    QCOMPARE(t.find(1)->localPort, quint16(8080));
    // A listener that predates the capture is first seen closing.
    t.onStateChange(change(15, 95, LISTEN, CLOSE, listen, 200, "server"));
    QCOMPARE(t.find(2)->role, ConnectionRole::Listener);
    QCOMPARE(t.find(2)->closeReason, CloseReason::Listener);
    QCOMPARE(t.find(2)->statesPath(), QStringLiteral("LISTEN>CLOSE"));
}

void TestConnectionTracker::takeChangedIsIncremental()
{
    ConnectionTracker t;
    t.onStateChange(change(20, 10, CLOSE, SYN_SENT, kClient));
    t.onStateChange(change(21, 10, CLOSE, SYN_SENT, kClient));
    t.onStateChange(change(20, 20, SYN_SENT, ESTABLISHED, kClient));
    QVector<Connection> changed = t.takeChanged();
    QCOMPARE(changed.size(), 2);
    QCOMPARE(changed[0].id, qint64(1));
    QCOMPARE(changed[1].id, qint64(2));
    QCOMPARE(changed[0].history.size(), 2);
    QVERIFY(t.takeChanged().isEmpty());
    t.onStateChange(change(21, 30, SYN_SENT, ESTABLISHED, kClient));
    changed = t.takeChanged();
    QCOMPARE(changed.size(), 1);
    QCOMPARE(changed[0].id, qint64(2));
    QCOMPARE(t.all().size(), 2);
}

void TestConnectionTracker::statesPathMidConnection()
{
    // Capture started while the connection was already established.
    ConnectionTracker t;
    t.onStateChange(change(30, 10, ESTABLISHED, FIN_WAIT1, kClient));
    QCOMPARE(t.find(1)->statesPath(), QStringLiteral("ESTABLISHED>FIN_WAIT1"));
    QCOMPARE(t.find(1)->role, ConnectionRole::Unknown);
    QCOMPARE(t.find(1)->handshakeNs, qint64(-1));
}

QTEST_GUILESS_MAIN(TestConnectionTracker)
#include "test_connection_tracker.moc"
