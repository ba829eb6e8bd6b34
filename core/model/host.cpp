// SPDX-License-Identifier: GPL-3.0-or-later
#include "model/host.h"

namespace tcpscope {

namespace {
constexpr const char *kMethodNames[] = {"none", "recorded", "user", "handshakes"};
} // namespace

QString offsetMethodName(OffsetMethod m)
{
    const auto i = std::size_t(m);
    return i < std::size(kMethodNames) ? QLatin1String(kMethodNames[i]) : QStringLiteral("none");
}

bool offsetMethodFromName(const QString &name, OffsetMethod *out)
{
    for (std::size_t i = 0; i < std::size(kMethodNames); ++i) {
        if (name == QLatin1String(kMethodNames[i])) {
            *out = static_cast<OffsetMethod>(i);
            return true;
        }
    }
    return false;
}

} // namespace tcpscope
