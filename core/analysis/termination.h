// SPDX-License-Identifier: GPL-3.0-or-later
// Handshake and termination stages of one connection, derived from its state history, close
// stats and kernel events (issue 4): who closed first, FIN vs RST, time spent in FIN_WAIT2 /
// TIME_WAIT / half-closed, SYN and SYN-ACK retransmits, refused / timed-out connects.
#pragma once

#include "model/connection.h"

namespace tcpscope {

enum class Closer : quint8 {
    Unknown = 0,  // not closed, or not enough history
    Local = 1,    // this socket sent FIN first (ESTABLISHED -> FIN_WAIT1)
    Remote = 2,   // the peer's FIN came first (ESTABLISHED -> CLOSE_WAIT)
    Both = 3,     // simultaneous close (FIN_WAIT1 -> CLOSING)
};
QString closerName(Closer closer); // "unknown","local","remote","simultaneous"

struct HandshakeInfo
{
    qint64 latencyNs = -1;       // Connection::handshakeNs
    quint32 synRetransmits = 0;  // from kernel events
    quint32 synAckRetransmits = 0;
    bool refused = false;        // CloseReason::Refused
    bool timedOut = false;       // CloseReason::Timeout before ESTABLISHED
};

struct TerminationInfo
{
    Closer firstCloser = Closer::Unknown;
    bool reset = false;          // ended by RST (sent or received) rather than FIN
    bool resetByPeer = false;    // the RST came from the peer (RST received)
    qint64 halfClosedNs = -1;    // first FIN -> second FIN (FIN_WAIT2 or CLOSE_WAIT time); -1 n/a
    qint64 finWait2Ns = -1;      // time in FIN_WAIT2; -1 not entered
    qint64 timeWaitNs = -1;      // time in TIME_WAIT as observed (to CLOSE, else to session end)
    bool timeWaitOngoing = false;// TIME_WAIT still running when the capture ended
};

HandshakeInfo handshakeOf(const Connection &conn);
// sessionEndNs bounds states still running at the end of the capture.
TerminationInfo terminationOf(const Connection &conn, qint64 sessionEndNs);
// One line for tables/tooltips/`info`: "local FIN first, 1.2 ms half-closed, TIME_WAIT 60 s".
QString describeTermination(const TerminationInfo &info);

} // namespace tcpscope
