// SPDX-License-Identifier: GPL-3.0-or-later
#include "charts/state_palette.h"

namespace tcpscope {

bool stateHasSegment(TcpState state)
{
    return state != TcpState::Close;
}

StatePhase phaseOf(TcpState state)
{
    switch (state) {
    case TcpState::SynSent:
    case TcpState::SynRecv:
    case TcpState::NewSynRecv:
        return StatePhase::Handshake;
    case TcpState::Established:
        return StatePhase::Established;
    case TcpState::FinWait1:
    case TcpState::FinWait2:
    case TcpState::CloseWait:
    case TcpState::LastAck:
    case TcpState::Closing:
        return StatePhase::Closing;
    case TcpState::TimeWait:
        return StatePhase::TimeWait;
    case TcpState::Listen:
        return StatePhase::Listen;
    default:
        return StatePhase::Other;
    }
}

QColor phaseColor(StatePhase phase)
{
    switch (phase) {
    case StatePhase::Handshake:
        return QColor(0xE6, 0x9F, 0x00); // orange
    case StatePhase::Established:
        return QColor(0x00, 0x9E, 0x73); // bluish green
    case StatePhase::Closing:
        return QColor(0xD5, 0x5E, 0x00); // vermillion
    case StatePhase::TimeWait:
        return QColor(0x9A, 0xA5, 0xB1); // grey
    case StatePhase::Listen:
        return QColor(0x56, 0xB4, 0xE9); // sky blue
    case StatePhase::Other:
        return QColor(0xCC, 0x79, 0xA7); // reddish purple
    }
    return Qt::black;
}

QString phaseLabel(StatePhase phase)
{
    switch (phase) {
    case StatePhase::Handshake:
        return QStringLiteral("Handshake (SYN_SENT/SYN_RECV)");
    case StatePhase::Established:
        return QStringLiteral("ESTABLISHED");
    case StatePhase::Closing:
        return QStringLiteral("Closing (FIN_WAIT/CLOSE_WAIT/LAST_ACK/CLOSING)");
    case StatePhase::TimeWait:
        return QStringLiteral("TIME_WAIT");
    case StatePhase::Listen:
        return QStringLiteral("LISTEN");
    case StatePhase::Other:
        return QStringLiteral("Other/unknown");
    }
    return {};
}

} // namespace tcpscope
