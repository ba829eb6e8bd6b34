// SPDX-License-Identifier: GPL-3.0-or-later
// Puts the helper's records back into timestamp order before anything interprets them.
//
// The kernel side writes three ring buffers (lifecycle, packets, tcpinfo). Each is filled in
// reservation order, so records of two CPUs interleave with small inversions, and the helper
// drains the three one after the other, so a whole batch of one ring can arrive after newer
// records of another. The tracker, the joiners and the analysis all reason about "before" and
// "after" (a SYN after a close starts a new connection, an ACK's RTT is its time minus its
// segment's), so they must see record time order, not arrival order.
//
// A record is held until a record (or the helper's clock, advanceTo) at least windowNs newer
// has been seen, then released oldest first (ties in arrival order). A record older than one
// already released is later than the window: it is released at once, in arrival order, and
// counted (late(), maxLateNs()); the consumers clamp what they derive from it (no negative
// durations). Records without a time of their own (interfaces, reason names) pass straight
// through. Not thread-safe: owned by the ingest thread.
#pragma once

#include "wire.h"

#include <QtGlobal>

#include <functional>
#include <vector>

namespace tcpscope {

class ReorderWindow
{
public:
    // The default window: well above the largest inversion measured on this project's test
    // machine under a connection storm (see docs/ARCHITECTURE.md "Record order").
    static constexpr quint64 kDefaultWindowNs = 500'000'000;

    using Sink = std::function<void(const wire::Record &)>;

    explicit ReorderWindow(Sink sink, quint64 windowNs = kDefaultWindowNs);

    void setWindowNs(quint64 windowNs) { m_windowNs = windowNs; }
    quint64 windowNs() const { return m_windowNs; }

    void push(const wire::Record &record);
    // Record time has reached monoNs (the helper's clock): release what is older than the window.
    void advanceTo(quint64 monoNs);
    // End of the stream: everything held goes out, in order.
    void flush();

    qsizetype held() const { return qsizetype(m_heap.size()); }
    quint64 newestNs() const { return m_newestNs; }
    // Records that arrived after a newer one (released in time order all the same).
    quint64 inversions() const { return m_inversions; }
    // The largest inversion seen: newest record time before it minus its own time.
    quint64 maxInversionNs() const { return m_maxInversionNs; }
    // Records later than the window (older than one already released): in arrival order.
    quint64 late() const { return m_late; }
    quint64 maxLateNs() const { return m_maxLateNs; } // how far behind the released order

    // The record time used for ordering; 0 = not ordered (passes straight through).
    static quint64 orderTime(const wire::Record &record);

private:
    struct Key
    {
        quint64 ts;
        quint64 seq;
        quint32 slot;
    };
    void releaseUpTo(quint64 limitNs);
    void releaseTop();

    Sink m_sink;
    quint64 m_windowNs;
    std::vector<Key> m_heap; // min-heap on (ts, seq)
    std::vector<wire::Record> m_slots;
    std::vector<quint32> m_free;
    quint64 m_seq = 0;
    quint64 m_newestNs = 0;
    quint64 m_releasedNs = 0; // time of the newest record released so far
    quint64 m_inversions = 0;
    quint64 m_maxInversionNs = 0;
    quint64 m_late = 0;
    quint64 m_maxLateNs = 0;
};

} // namespace tcpscope
