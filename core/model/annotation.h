// SPDX-License-Identifier: GPL-3.0-or-later
// A note a user leaves in a session for whoever opens it next ("the stall starts here"): on a
// connection, on one of its packets, or on a stretch of time. Kept in the session file's
// `annotations` table (format 4.3) when the view is saved.
#pragma once

#include <QString>
#include <QtGlobal>

namespace tcpscope {

struct Annotation
{
    qint64 connectionId = 0; // 0 = not on a connection
    qint64 packetId = 0;     // 0 = not on a packet
    qint64 startNs = 0;      // wall ns it refers to (the packet's time, the connection's start)
    qint64 endNs = 0;        // end of a time range; 0 = a moment
    QString text;            // at most kMaxText characters
    QString author;
    qint64 createdNs = 0; // wall ns when it was written

    static constexpr int kMaxText = 4096;
    static constexpr int kMaxAuthor = 256;
    static constexpr int kMaxPerSession = 10000;

    bool operator==(const Annotation &) const = default;
};

} // namespace tcpscope
