// SPDX-License-Identifier: GPL-3.0-or-later
// Session: packets and samples stored in compressed chunks (format 4).
#include "session/session_private.h"

namespace tcpscope {

bool Session::Private::chunkPackets(qint64, qint64, qint64,
                                    const std::function<bool(const Packet &)> &) const
{
    return fail(QStringLiteral("packet chunks need format 4 support"));
}

bool Session::Private::chunkPacketsFromId(qint64, qint64,
                                          const std::function<bool(const Packet &)> &) const
{
    return fail(QStringLiteral("packet chunks need format 4 support"));
}

bool Session::Private::chunkSamples(qint64, const std::function<bool(const TcpSample &)> &) const
{
    return fail(QStringLiteral("sample chunks need format 4 support"));
}

} // namespace tcpscope
