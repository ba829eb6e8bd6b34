// SPDX-License-Identifier: GPL-3.0-or-later
// Handshake and termination stages from a connection's state history (see termination.h for
// what the kernel reports around TIME_WAIT and what the durations therefore mean).
#include "analysis/termination.h"

#include <algorithm>
#include <cerrno>

namespace tcpscope {

namespace {

// TCP_TIMEWAIT_LEN (include/net/tcp.h): how long Linux keeps a timewait minisocket. Fixed.
constexpr qint64 kTimeWaitLenNs = 60'000'000'000;

// Time of the first change into `to` (optionally only from `from`) at or after index `start`;
// -1 when there is none. Repeated X -> X changes (the kernel reports some) count at the first.
qint64 firstInto(const QVector<StateChange> &h, TcpState to, int start = 0,
                 TcpState from = TcpState::Unknown, int *index = nullptr)
{
    for (int i = std::max(start, 0); i < h.size(); ++i) {
        if (h[i].to == to && h[i].from != to && (from == TcpState::Unknown || h[i].from == from)) {
            if (index)
                *index = i;
            return h[i].timeNs;
        }
    }
    return -1;
}

// The first change out of the state entered at index i (i.e. into something else), or -1.
qint64 leaving(const QVector<StateChange> &h, int i, int *index = nullptr)
{
    const TcpState state = h[i].to;
    for (int j = i + 1; j < h.size(); ++j) {
        if (h[j].to != state) {
            if (index)
                *index = j;
            return h[j].timeNs;
        }
    }
    return -1;
}

QString duration(qint64 ns)
{
    if (ns < 1'000)
        return QStringLiteral("%1 ns").arg(ns);
    if (ns < 1'000'000)
        return QStringLiteral("%1 \u00b5s").arg(double(ns) / 1e3, 0, 'g', 3);
    if (ns < 1'000'000'000)
        return QStringLiteral("%1 ms").arg(double(ns) / 1e6, 0, 'g', 3);
    return QStringLiteral("%1 s").arg(double(ns) / 1e9, 0, 'g', 3);
}

bool wasEstablished(const Connection &c)
{
    return std::any_of(c.history.cbegin(), c.history.cend(),
                       [](const StateChange &s) { return s.to == TcpState::Established; });
}

} // namespace

QString closerName(Closer closer)
{
    switch (closer) {
    case Closer::Local:
        return QStringLiteral("local");
    case Closer::Remote:
        return QStringLiteral("remote");
    case Closer::Both:
        return QStringLiteral("simultaneous");
    case Closer::Unknown:
        break;
    }
    return QStringLiteral("unknown");
}

HandshakeInfo handshakeOf(const Connection &conn)
{
    HandshakeInfo h;
    h.latencyNs = conn.handshakeNs;
    h.synRetransmits = conn.kernel.synRetransmits;
    h.synAckRetransmits = conn.kernel.synAckRetransmits;
    h.refused = conn.closeReason == CloseReason::Refused;
    h.timedOut = conn.closeReason == CloseReason::Timeout && !wasEstablished(conn);
    return h;
}

TerminationInfo terminationOf(const Connection &conn, qint64 sessionEndNs)
{
    TerminationInfo t;
    const QVector<StateChange> &h = conn.history;

    // Who sent the first FIN: our FIN takes us into FIN_WAIT1, the peer's into CLOSE_WAIT;
    // FIN_WAIT1 -> CLOSING means the two FINs crossed.
    int finWait1 = -1, closeWait = -1;
    const qint64 localFinNs = firstInto(h, TcpState::FinWait1, 0, TcpState::Unknown, &finWait1);
    const qint64 remoteFinNs = firstInto(h, TcpState::CloseWait, 0, TcpState::Unknown, &closeWait);
    int closing = -1;
    const qint64 closingNs =
        finWait1 >= 0 ? firstInto(h, TcpState::Closing, finWait1, TcpState::FinWait1, &closing)
                      : -1;
    if (closingNs >= 0)
        t.firstCloser = Closer::Both;
    else if (localFinNs >= 0 && (remoteFinNs < 0 || localFinNs <= remoteFinNs))
        t.firstCloser = Closer::Local;
    else if (remoteFinNs >= 0)
        t.firstCloser = Closer::Remote;

    // RST rather than FIN: the tracker's classification (sk_err ECONNRESET, or a data state
    // straight to CLOSE), or a reset the kernel traced on this socket before it closed.
    const int err = conn.skErr < 0 ? -conn.skErr : conn.skErr;
    const bool peerErr = conn.haveCloseStats && (err == ECONNRESET || err == EPIPE);
    const bool tracedReset =
        !conn.isOpen() && (conn.kernel.resetsReceived > 0 || conn.kernel.resetsSent > 0);
    t.reset = conn.closeReason == CloseReason::Reset || (tracedReset && wasEstablished(conn));
    t.resetByPeer = t.reset && (conn.kernel.resetsReceived > 0 || peerErr);

    if (t.firstCloser == Closer::Remote) {
        // Observed exactly: the peer's FIN (CLOSE_WAIT) to ours (LAST_ACK).
        const qint64 ourFin = leaving(h, closeWait);
        if (ourFin >= 0)
            t.halfClosedNs = std::max<qint64>(0, ourFin - remoteFinNs);
        else if (conn.isOpen() && sessionEndNs > 0)
            t.halfClosedNs = std::max<qint64>(0, sessionEndNs - remoteFinNs); // still open
    } else if (t.firstCloser == Closer::Both) {
        t.halfClosedNs = std::max<qint64>(0, closingNs - localFinNs);
    } else if (t.firstCloser == Closer::Local) {
        // Our FIN to the hand-off to the timewait minisocket (see termination.h), or to the
        // end of the capture while the full socket still waits.
        int i = finWait1;
        qint64 handOff = -1;
        while (handOff < 0) {
            int next = -1;
            const qint64 at = leaving(h, i, &next);
            if (at < 0)
                break;
            const TcpState to = h[next].to;
            if (to == TcpState::Close || to == TcpState::TimeWait || to == TcpState::Closing)
                handOff = at;
            i = next;
        }
        if (handOff >= 0)
            t.halfClosedNs = std::max<qint64>(0, handOff - localFinNs);
        else if (conn.isOpen() && sessionEndNs > 0)
            t.halfClosedNs = std::max<qint64>(0, sessionEndNs - localFinNs);
    }

    int finWait2 = -1;
    if (const qint64 fw2 = firstInto(h, TcpState::FinWait2, 0, TcpState::Unknown, &finWait2);
        fw2 >= 0) {
        const qint64 left = leaving(h, finWait2);
        if (left >= 0)
            t.finWait2Ns = std::max<qint64>(0, left - fw2);
        else if (sessionEndNs > 0)
            t.finWait2Ns = std::max<qint64>(0, sessionEndNs - fw2); // still there at the end
    }

    int timeWait = -1;
    if (const qint64 tw = firstInto(h, TcpState::TimeWait, 0, TcpState::Unknown, &timeWait);
        tw >= 0) {
        // A history that does report TIME_WAIT (another kernel, or a future timewait trace).
        const qint64 left = leaving(h, timeWait);
        if (left >= 0) {
            t.timeWaitNs = std::max<qint64>(0, left - tw);
        } else if (sessionEndNs > 0) {
            t.timeWaitNs = std::max<qint64>(0, sessionEndNs - tw);
            t.timeWaitOngoing = true;
        }
    } else if (!conn.isOpen() && !t.reset && h.size() >= 1 && h.last().to == TcpState::Close &&
               (h.last().from == TcpState::FinWait2 || h.last().from == TcpState::Closing)) {
        // Handed to the timewait minisocket at the change to CLOSE; it lives TCP_TIMEWAIT_LEN.
        t.timeWaitInferred = true;
        const qint64 until = conn.endNs + kTimeWaitLenNs;
        if (sessionEndNs > 0 && sessionEndNs < until) {
            t.timeWaitNs = std::max<qint64>(0, sessionEndNs - conn.endNs);
            t.timeWaitOngoing = true;
        } else {
            t.timeWaitNs = kTimeWaitLenNs;
        }
    }
    return t;
}

QString describeTermination(const TerminationInfo &info)
{
    QStringList parts;
    if (info.reset)
        parts << (info.resetByPeer ? QStringLiteral("RST received") : QStringLiteral("RST sent"));
    switch (info.firstCloser) {
    case Closer::Local:
        parts << QStringLiteral("local FIN first");
        break;
    case Closer::Remote:
        parts << QStringLiteral("remote FIN first");
        break;
    case Closer::Both:
        parts << QStringLiteral("simultaneous close");
        break;
    case Closer::Unknown:
        break;
    }
    if (info.halfClosedNs >= 0)
        parts << QStringLiteral("%1 half-closed").arg(duration(info.halfClosedNs));
    if (info.finWait2Ns >= 0)
        parts << QStringLiteral("FIN_WAIT2 %1").arg(duration(info.finWait2Ns));
    if (info.timeWaitNs >= 0) {
        QString tw = QStringLiteral("TIME_WAIT %1").arg(duration(info.timeWaitNs));
        if (info.timeWaitOngoing)
            tw += QStringLiteral(" (ongoing)");
        if (info.timeWaitInferred)
            tw += QStringLiteral(" (kernel timewait socket, not traced)");
        parts << tw;
    }
    return parts.join(QStringLiteral(", "));
}

} // namespace tcpscope
