// SPDX-License-Identifier: GPL-3.0-or-later
#include "model/kernel.h"

#include <array>

namespace tcpscope {

namespace {

// Index = KernelEventKind value (the kernel's ts_tcp_event_kind numbering); 0 is not a kind.
constexpr std::array<const char *, 6> kEventKindNames = {
    nullptr, "retransmit", "synack-retransmit", "rst-sent", "rst-received", "cong-state",
};

// Index = TCP_CA_* (include/net/tcp.h: enum tcp_ca_state).
constexpr std::array<const char *, 5> kCaStateNames = {"Open", "Disorder", "CWR", "Recovery",
                                                       "Loss"};

} // namespace

QString kernelEventKindName(KernelEventKind kind)
{
    const auto i = static_cast<std::size_t>(kind);
    if (i == 0 || i >= kEventKindNames.size())
        return QStringLiteral("unknown(%1)").arg(i);
    return QString::fromLatin1(kEventKindNames[i]);
}

bool kernelEventKindFromName(const QString &name, KernelEventKind *kind)
{
    for (std::size_t i = 1; i < kEventKindNames.size(); ++i) {
        if (name == QLatin1String(kEventKindNames[i])) {
            if (kind)
                *kind = static_cast<KernelEventKind>(i);
            return true;
        }
    }
    return false;
}

QString caStateName(quint8 caState)
{
    if (caState < kCaStateNames.size())
        return QString::fromLatin1(kCaStateNames[caState]);
    return QStringLiteral("CA(%1)").arg(caState);
}

} // namespace tcpscope
