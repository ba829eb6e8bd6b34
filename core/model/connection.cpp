// SPDX-License-Identifier: GPL-3.0-or-later
#include "model/connection.h"

#include <QDateTime>

#include <algorithm>
#include <array>

namespace tcpscope {

namespace {

// Index = kernel TCP_* value; names as ss(8) and libbpf-tools tcpstates print them.
constexpr std::array<const char *, 13> kStateNames = {
    "UNKNOWN", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",    "TIME_WAIT",
    "CLOSE",   "CLOSE_WAIT",  "LAST_ACK", "LISTEN",   "CLOSING",   "NEW_SYN_RECV",
};

constexpr std::array<const char *, 7> kReasonNames = {
    "open", "fin", "rst", "refused", "timeout", "aborted", "listener-closed",
};

constexpr std::array<const char *, 4> kRoleNames = {"unknown", "client", "server", "listener"};

template <typename Enum, std::size_t N>
Enum fromName(const std::array<const char *, N> &names, const QString &name, Enum fallback)
{
    for (std::size_t i = 0; i < N; ++i) {
        if (name == QLatin1String(names[i]))
            return static_cast<Enum>(i);
    }
    return fallback;
}

} // namespace

const char *tcpStateNameAscii(TcpState state)
{
    const auto i = static_cast<std::size_t>(state);
    return i < kStateNames.size() ? kStateNames[i] : kStateNames[0];
}

QString tcpStateName(TcpState state)
{
    return QString::fromLatin1(tcpStateNameAscii(state));
}

TcpState tcpStateFromName(const QString &name)
{
    return fromName(kStateNames, name, TcpState::Unknown);
}

QString closeReasonName(CloseReason reason)
{
    const auto i = static_cast<std::size_t>(reason);
    return QString::fromLatin1(i < kReasonNames.size() ? kReasonNames[i] : kReasonNames[0]);
}

CloseReason closeReasonFromName(const QString &name)
{
    return fromName(kReasonNames, name, CloseReason::Open);
}

QString connectionRoleName(ConnectionRole role)
{
    const auto i = static_cast<std::size_t>(role);
    return QString::fromLatin1(i < kRoleNames.size() ? kRoleNames[i] : kRoleNames[0]);
}

ConnectionRole connectionRoleFromName(const QString &name)
{
    return fromName(kRoleNames, name, ConnectionRole::Unknown);
}

double Connection::durationMs(qint64 nowNs) const
{
    qint64 end = endNs;
    if (end == 0)
        end = nowNs;
    if (end <= 0 || startNs <= 0 || end < startNs)
        return 0.0;
    return static_cast<double>(end - startNs) / 1e6;
}

QString Connection::statesPath() const
{
    QStringList parts;
    if (history.isEmpty())
        return tcpStateName(state);
    // The first 'from' is a real state only when the socket existed before we saw it (e.g. a
    // capture started mid-connection); CLOSE->SYN_SENT is the normal birth and starts at SYN_SENT.
    // An accepted socket is cloned from its listener, so its first change reads LISTEN->SYN_RECV
    // although the socket itself never listened.
    const TcpState firstFrom = history.first().from;
    const bool clonedFromListener =
        firstFrom == TcpState::Listen && history.first().to == TcpState::SynRecv;
    if (firstFrom != TcpState::Unknown && firstFrom != TcpState::Close && !clonedFromListener)
        parts << tcpStateName(firstFrom);
    // The kernel sometimes reports a change to the state a socket is already in (e.g.
    // FIN_WAIT1>FIN_WAIT1 when close() races the FIN); the path lists states entered, once.
    for (const StateChange &change : history) {
        const QString name = tcpStateName(change.to);
        if (parts.isEmpty() || parts.last() != name)
            parts << name;
    }
    return parts.join(QLatin1Char('>'));
}

QString interruptionText(const Interruption &i)
{
    const auto iso = [](qint64 ns) {
        return QDateTime::fromMSecsSinceEpoch(ns / 1'000'000, Qt::UTC).toString(Qt::ISODateWithMs);
    };
    QString text = iso(i.startNs);
    if (i.endNs > 0)
        text += QStringLiteral(" .. %1 (%2 s)")
                    .arg(iso(i.endNs))
                    .arg(double(std::max<qint64>(i.endNs - i.startNs, 0)) / 1e9, 0, 'f', 1);
    else
        text += QStringLiteral(" .. the end");
    text += QStringLiteral(": ") + i.reason;
    text += i.recordsLost >= 0 ? QStringLiteral("; %1 records lost").arg(i.recordsLost)
                               : QStringLiteral("; records lost: unknown");
    return text;
}

} // namespace tcpscope
