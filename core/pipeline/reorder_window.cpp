// SPDX-License-Identifier: GPL-3.0-or-later
#include "pipeline/reorder_window.h"

#include <algorithm>
#include <cstring>

namespace tcpscope {

namespace {

// std::*_heap builds a max-heap: "greater" puts the oldest record on top.
bool later(quint64 aTs, quint64 aSeq, quint64 bTs, quint64 bSeq)
{
    return aTs != bTs ? aTs > bTs : aSeq > bSeq;
}

} // namespace

ReorderWindow::ReorderWindow(Sink sink, quint64 windowNs)
    : m_sink(std::move(sink)), m_windowNs(windowNs)
{
}

quint64 ReorderWindow::orderTime(const wire::Record &r)
{
    switch (r.type) {
    case TS_REC_INTERFACE:   // the helper's own word about attach points, not an event
    case TS_REC_REASON_NAME: // a name table sent once at the start
        return 0;
    default:
        return r.header.ts_ns;
    }
}

void ReorderWindow::push(const wire::Record &record)
{
    const quint64 ts = orderTime(record);
    if (ts == 0) {
        m_sink(record);
        return;
    }
    if (ts < m_newestNs) {
        ++m_inversions;
        m_maxInversionNs = std::max(m_maxInversionNs, m_newestNs - ts);
    }
    if (ts < m_releasedNs) {
        // Later than the window: what is newer has been handed on already. Passing it on now
        // keeps it (the consumers clamp); holding it would change nothing about its lateness.
        ++m_late;
        m_maxLateNs = std::max(m_maxLateNs, m_releasedNs - ts);
        m_sink(record);
        return;
    }
    place(Key{ts, m_seq++, store(record)});
    ++m_held;
    m_newestNs = std::max(m_newestNs, ts);
    if (m_newestNs > m_windowNs)
        releaseUpTo(m_newestNs - m_windowNs);
}

void ReorderWindow::place(const Key &key)
{
    // The run with the newest last key not newer than this one (its seq is the largest yet, so
    // an equal time sorts after): the other runs stay open for keys older than that.
    Run *best = nullptr;
    Run *spare = nullptr;
    for (Run &r : m_runs) {
        if (r.empty()) {
            spare = spare ? spare : &r;
            continue;
        }
        if (r.keys.back().ts <= key.ts && (!best || r.keys.back().ts > best->keys.back().ts))
            best = &r;
    }
    if (!best && spare) {
        spare->keys.clear();
        spare->head = 0;
        best = spare;
    }
    if (!best && m_runs.size() < kMaxRuns)
        best = &m_runs.emplace_back();
    if (best) {
        best->keys.push_back(key);
        return;
    }
    m_heap.push_back(key);
    std::push_heap(m_heap.begin(), m_heap.end(),
                   [](const Key &a, const Key &b) { return later(a.ts, a.seq, b.ts, b.seq); });
}

int ReorderWindow::oldest() const
{
    int best = -1;
    const Key *min = nullptr;
    for (std::size_t i = 0; i < m_runs.size(); ++i) {
        const Run &r = m_runs[i];
        if (r.empty())
            continue;
        const Key &k = r.keys[r.head];
        if (!min || later(min->ts, min->seq, k.ts, k.seq)) {
            min = &k;
            best = int(i);
        }
    }
    if (!m_heap.empty() &&
        (!min || later(min->ts, min->seq, m_heap.front().ts, m_heap.front().seq)))
        best = int(kMaxRuns);
    return best;
}

const ReorderWindow::Key &ReorderWindow::front(int from) const
{
    if (from == int(kMaxRuns))
        return m_heap.front();
    const Run &r = m_runs[std::size_t(from)];
    return r.keys[r.head];
}

quint64 ReorderWindow::oldestNs() const
{
    const int from = oldest();
    return from < 0 ? 0 : front(from).ts;
}

void ReorderWindow::advanceTo(quint64 monoNs)
{
    if (monoNs > m_windowNs)
        releaseUpTo(monoNs - m_windowNs);
}

void ReorderWindow::flush()
{
    for (int from = oldest(); from >= 0; from = oldest())
        release(from);
    // A stream that ends gives up its order: what comes after a flush is late.
}

void ReorderWindow::releaseUpTo(quint64 limitNs)
{
    for (int from = oldest(); from >= 0; from = oldest()) {
        if (front(from).ts > limitNs)
            break;
        release(from);
    }
}

void ReorderWindow::release(int from)
{
    Key top;
    if (from == int(kMaxRuns)) {
        std::pop_heap(m_heap.begin(), m_heap.end(),
                      [](const Key &a, const Key &b) { return later(a.ts, a.seq, b.ts, b.seq); });
        top = m_heap.back();
        m_heap.pop_back();
    } else {
        Run &r = m_runs[std::size_t(from)];
        top = r.keys[r.head++];
        // Drop the consumed front now and then, so a run that never empties stays bounded.
        if (r.empty()) {
            r.keys.clear();
            r.head = 0;
        } else if (r.head >= 4096 && r.head * 2 >= r.keys.size()) {
            r.keys.erase(r.keys.begin(), r.keys.begin() + std::ptrdiff_t(r.head));
            r.head = 0;
        }
    }
    --m_held;
    m_releasedNs = std::max(m_releasedNs, top.ts);
    releaseSlot(top.slot);
}

quint32 ReorderWindow::store(const wire::Record &record)
{
    // Every type but a snapshot is at most kSmallBytes (the wire decoder checks each record's
    // size against its struct); an unknown type never gets here.
    static_assert(sizeof(ts_state_change) <= kSmallBytes && sizeof(ts_close_stats) <= kSmallBytes &&
                  sizeof(ts_packet) <= kSmallBytes && sizeof(ts_interface) <= kSmallBytes &&
                  sizeof(ts_tcp_sample) <= kSmallBytes && sizeof(ts_tcp_event) <= kSmallBytes &&
                  sizeof(ts_drop) <= kSmallBytes && sizeof(ts_listener_sample) <= kSmallBytes &&
                  sizeof(ts_reason_name) <= kSmallBytes);
    static_assert(kSmallBytes <= sizeof(ts_packet_snap)); // the union the bytes are read from
    if (record.type == TS_REC_PACKET_SNAP) {
        const quint32 slot = m_large.take();
        m_large[slot] = record;
        return slot | kLargeSlot;
    }
    const quint32 slot = m_small.take();
    Small &s = m_small[slot];
    s.type = record.type;
    std::memcpy(s.bytes, &record.header, kSmallBytes);
    return slot;
}

void ReorderWindow::releaseSlot(quint32 slot)
{
    // The sink may push nothing back into this window (it runs the consumers only), so the
    // slot can be reused as soon as its record is handed on.
    if (slot & kLargeSlot) {
        slot &= ~kLargeSlot;
        m_large.give(slot);
        m_sink(m_large[slot]);
        return;
    }
    const Small &s = m_small[slot];
    m_out.type = s.type;
    std::memcpy(&m_out.header, s.bytes, kSmallBytes);
    m_small.give(slot);
    m_sink(m_out);
}

} // namespace tcpscope
