// SPDX-License-Identifier: GPL-3.0-or-later
// Groups TCP states into the few phases a person reads on the timeline and gives each a fixed
// colour (Okabe-Ito palette: distinguishable with the common colour-vision deficiencies).
#pragma once

#include "model/connection.h"

#include <QColor>
#include <QString>

namespace tcpscope {

enum class StatePhase : int
{
    Handshake = 0, // SYN_SENT, SYN_RECV, NEW_SYN_RECV
    Established = 1,
    Closing = 2, // FIN_WAIT1/2, CLOSE_WAIT, LAST_ACK, CLOSING
    TimeWait = 3,
    Listen = 4,
    Other = 5, // UNKNOWN (a state we never saw being entered)
};
constexpr int kStatePhaseCount = 6;

// Nullopt-like: returns false for CLOSE, which ends a bar instead of drawing a segment.
bool stateHasSegment(TcpState state);
StatePhase phaseOf(TcpState state);
QColor phaseColor(StatePhase phase);
QString phaseLabel(StatePhase phase); // legend text, e.g. "Handshake (SYN_SENT/SYN_RECV)"

} // namespace tcpscope
