// SPDX-License-Identifier: GPL-3.0-or-later
// The packet list's quick filter ("problems only", words) and the scan that applies it to a
// session's packets without holding them: on a worker thread, through its own Session handle
// (so the GUI thread's queries never wait behind it), keeping only the matches.
#pragma once

#include "model/packet.h"

#include <QString>
#include <QStringList>
#include <QVector>

#include <atomic>
#include <functional>

namespace tcpscope {

struct PacketQuickFilter
{
    bool problemsOnly = false;
    QStringList words; // lower case; all must appear in the packet's text

    bool isActive() const { return problemsOnly || !words.isEmpty(); }
    bool accepts(const Packet &p) const;
    bool operator==(const PacketQuickFilter &) const = default;
};

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
PacketScanResult scanPackets(const QString &path, const QVector<qint64> &connections,
                             const std::function<bool(const Packet &)> &keep, qint64 cap,
                             const std::atomic<bool> &cancel);

} // namespace tcpscope
