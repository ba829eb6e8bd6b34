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

#include <cstdint>
#include <functional>
#include <memory>
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

    qsizetype held() const { return m_held; }
    quint64 oldestNs() const; // time of the oldest record held; 0 when none is
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
    // Keys in increasing (ts, seq) order, taken from the front. The helper's streams are nearly
    // in order (each ring buffer in reservation order, rings drained one after the other), so
    // almost every key extends a run: pushing and releasing cost a few compares, where one
    // binary heap over the ~100k records a 500 ms window holds under churn cost a cache miss
    // per level for every record (a fifth of the ingest thread).
    struct Run
    {
        std::vector<Key> keys;
        std::size_t head = 0;
        bool empty() const { return head == keys.size(); }
    };
    // More runs than this and a key that fits none goes into the heap: order stays exact,
    // a stream that is far from ordered only costs what the heap costs.
    static constexpr std::size_t kMaxRuns = 16;

    void place(const Key &key);
    // Index of the run whose front is the oldest held key, kMaxRuns for the heap's top, or -1
    // when nothing is held.
    int oldest() const;
    const Key &front(int from) const; // the oldest key of run `from` (or of the heap)
    void releaseUpTo(quint64 limitNs);
    void release(int from);
    quint32 store(const wire::Record &record);
    void releaseSlot(quint32 slot); // hands the record in slot to the sink and frees the slot

    // Held records are stored in the bytes their type uses. Every type but a packet with a
    // payload snapshot fits in kSmallBytes (the largest, a tcp_probe sample, takes 168), so
    // under churn the window holds ~170 bytes per record instead of sizeof(wire::Record) (424,
    // sized for a full snapshot): 500 ms of a connection storm is ~200 000 records.
    static constexpr std::size_t kSmallBytes = 168;
    struct Small
    {
        std::uint16_t type = 0;
        alignas(8) unsigned char bytes[kSmallBytes];
    };
    static constexpr quint32 kLargeSlot = 0x8000'0000u; // slot flag: in m_large, not m_small

    // Slots in fixed blocks that are never moved: a window that grows under a storm takes one
    // more block instead of copying every held record into a vector twice the size (which
    // briefly held both, and kept up to twice the room it needed).
    template <typename T> class SlotPool
    {
    public:
        static constexpr quint32 kBlockSlots = 4096;
        quint32 take()
        {
            if (m_free.empty()) {
                if (m_size % kBlockSlots == 0)
                    m_blocks.push_back(std::make_unique<T[]>(kBlockSlots));
                return m_size++;
            }
            const quint32 slot = m_free.back();
            m_free.pop_back();
            return slot;
        }
        void give(quint32 slot) { m_free.push_back(slot); }
        T &operator[](quint32 slot) { return m_blocks[slot / kBlockSlots][slot % kBlockSlots]; }

    private:
        std::vector<std::unique_ptr<T[]>> m_blocks;
        std::vector<quint32> m_free;
        quint32 m_size = 0;
    };

    Sink m_sink;
    quint64 m_windowNs;
    std::vector<Run> m_runs;
    std::vector<Key> m_heap; // min-heap on (ts, seq): keys that fit no run
    qsizetype m_held = 0;
    SlotPool<Small> m_small;
    SlotPool<wire::Record> m_large;
    wire::Record m_out; // the record being handed to the sink
    quint64 m_seq = 0;
    quint64 m_newestNs = 0;
    quint64 m_releasedNs = 0; // time of the newest record released so far
    quint64 m_inversions = 0;
    quint64 m_maxInversionNs = 0;
    quint64 m_late = 0;
    quint64 m_maxLateNs = 0;
};

} // namespace tcpscope
