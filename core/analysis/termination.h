// SPDX-License-Identifier: GPL-3.0-or-later
// Handshake and termination stages of one connection, derived from its state history, close
// stats and kernel events: who closed first, FIN vs RST, time spent in FIN_WAIT2 /
// TIME_WAIT / half-closed, SYN and SYN-ACK retransmits, refused / timed-out connects.
//
// What the kernel really reports (checked on 6.18 with real recordings): inet_sock_set_state
// follows the FULL socket only. When it enters TIME_WAIT the kernel replaces it by a timewait
// minisocket and the full socket goes FIN_WAIT2 -> CLOSE (or CLOSING -> CLOSE); TIME_WAIT itself
// is never reported. An orphaned socket (the application already called close()) is handed over
// the same way as soon as its FIN is ACKed, before the peer's FIN: then FIN_WAIT2 -> CLOSE comes
// while the peer is still sending (seen on loopback: 12 us after FIN_WAIT2, the peer's FIN 9 ms
// later). Therefore, for a connection closed locally first:
//   - finWait2Ns is the time the full socket spent in FIN_WAIT2 (the minisocket's share of an
//     orphaned FIN_WAIT2 is not seen);
//   - halfClosedNs runs from our FIN (FIN_WAIT1) to the hand-off (CLOSING/TIME_WAIT/CLOSE): a
//     lower bound when the socket was orphaned;
//   - timeWaitNs is measured when a history does contain TIME_WAIT; otherwise it is inferred
//     from the hand-off: the kernel keeps the minisocket TCP_TIMEWAIT_LEN (60 s, fixed), so
//     timeWaitNs = min(60 s, sessionEnd - hand-off) with timeWaitInferred set.
// For a connection closed remotely first everything is observed: CLOSE_WAIT -> LAST_ACK is the
// half-closed time, LAST_ACK -> CLOSE the wait for the last ACK.
#pragma once

#include "model/connection.h"

namespace tcpscope {

enum class Closer : quint8
{
    Unknown = 0, // not closed, or not enough history
    Local = 1,   // this socket sent FIN first (ESTABLISHED -> FIN_WAIT1)
    Remote = 2,  // the peer's FIN came first (ESTABLISHED -> CLOSE_WAIT)
    Both = 3,    // simultaneous close (FIN_WAIT1 -> CLOSING)
};
QString closerName(Closer closer); // "unknown","local","remote","simultaneous"

struct HandshakeInfo
{
    qint64 latencyNs = -1;      // Connection::handshakeNs
    quint32 synRetransmits = 0; // from kernel events
    quint32 synAckRetransmits = 0;
    bool refused = false;  // CloseReason::Refused
    bool timedOut = false; // CloseReason::Timeout before ESTABLISHED
};

struct TerminationInfo
{
    Closer firstCloser = Closer::Unknown;
    bool reset = false;            // ended by RST (sent or received) rather than FIN
    bool resetByPeer = false;      // the RST came from the peer (RST received)
    qint64 halfClosedNs = -1;      // first FIN -> second FIN (FIN_WAIT2 or CLOSE_WAIT time); -1 n/a
    qint64 finWait2Ns = -1;        // time in FIN_WAIT2; -1 not entered
    qint64 timeWaitNs = -1;        // time in TIME_WAIT as observed (to CLOSE, else to session end)
    bool timeWaitOngoing = false;  // TIME_WAIT still running when the capture ended
    bool timeWaitInferred = false; // timeWaitNs from the hand-off + TCP_TIMEWAIT_LEN, not traced
};

HandshakeInfo handshakeOf(const Connection &conn);
// sessionEndNs bounds states still running at the end of the capture.
TerminationInfo terminationOf(const Connection &conn, qint64 sessionEndNs);
// One line for tables/tooltips/`info`: "local FIN first, 1.2 ms half-closed, TIME_WAIT 60 s".
QString describeTermination(const TerminationInfo &info);

} // namespace tcpscope
