// SPDX-License-Identifier: GPL-3.0-or-later
// The packet list's filter ("problems only", and the filter box: a display-filter expression or
// plain words, models/filter_text.h) and the scan that applies it to a session's packets without
// holding them: on a worker thread, through its own Session handle (so the GUI thread's queries
// never wait behind it), keeping only the matches.
#pragma once

#include "filter/display_filter.h"
#include "model/packet.h"

#include <QString>
#include <QStringList>
#include <QVector>

#include <atomic>
#include <functional>
#include <memory>

namespace tcpscope {

class Session;

struct PacketQuickFilter
{
    bool problemsOnly = false;
    QStringList words; // lower case; all must appear in the packet's text
    // A packet filter expression (not empty) and what it reads besides the packet (the
    // packets' connections, ...: packetFilterContext). invalid: an expression that does not
    // compile, which nothing passes.
    DisplayFilter expression;
    std::shared_ptr<const FilterContext> context;
    bool invalid = false;

    bool hasExpression() const { return !expression.isEmpty(); }
    bool isActive() const { return problemsOnly || !words.isEmpty() || hasExpression() || invalid; }
    bool accepts(const Packet &p) const;
};

// What filter needs to test the packets of these connections (empty: the whole session): only
// those connections' summaries and kernel events, not the session's.
std::shared_ptr<const FilterContext> packetFilterContext(const Session &session,
                                                         const DisplayFilter &filter,
                                                         const QVector<qint64> &connections);

struct PacketScanResult
{
    QVector<Packet> matches; // in capture order
    qint64 scanned = 0;
    bool truncated = false; // stopped at the cap
    bool cancelled = false;
    QString error; // the session could not be opened
};

// Opens path and keeps the packets of these connections (empty = all) that keep() accepts, at
// most cap of them. Polls cancel between packets. Runs on any thread.
// prepare (may be empty) runs first, on the opened session (to build a filter's context there,
// on the worker).
PacketScanResult scanPackets(const QString &path, const QVector<qint64> &connections,
                             const std::function<bool(const Packet &)> &keep, qint64 cap,
                             const std::atomic<bool> &cancel,
                             const std::function<void(const Session &)> &prepare = {});

} // namespace tcpscope
