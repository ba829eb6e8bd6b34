// SPDX-License-Identifier: GPL-3.0-or-later
#include "pipeline/reorder_window.h"

#include <algorithm>

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
    quint32 slot;
    if (!m_free.empty()) {
        slot = m_free.back();
        m_free.pop_back();
        m_slots[slot] = record;
    } else {
        slot = quint32(m_slots.size());
        m_slots.push_back(record);
    }
    m_heap.push_back(Key{ts, m_seq++, slot});
    std::push_heap(m_heap.begin(), m_heap.end(),
                   [](const Key &a, const Key &b) { return later(a.ts, a.seq, b.ts, b.seq); });
    m_newestNs = std::max(m_newestNs, ts);
    if (m_newestNs > m_windowNs)
        releaseUpTo(m_newestNs - m_windowNs);
}

void ReorderWindow::advanceTo(quint64 monoNs)
{
    if (monoNs > m_windowNs)
        releaseUpTo(monoNs - m_windowNs);
}

void ReorderWindow::flush()
{
    while (!m_heap.empty())
        releaseTop();
    // A stream that ends gives up its order: what comes after a flush is late.
}

void ReorderWindow::releaseUpTo(quint64 limitNs)
{
    while (!m_heap.empty() && m_heap.front().ts <= limitNs)
        releaseTop();
}

void ReorderWindow::releaseTop()
{
    std::pop_heap(m_heap.begin(), m_heap.end(),
                  [](const Key &a, const Key &b) { return later(a.ts, a.seq, b.ts, b.seq); });
    const Key top = m_heap.back();
    m_heap.pop_back();
    m_releasedNs = std::max(m_releasedNs, top.ts);
    m_free.push_back(top.slot);
    // The sink may push nothing back into this window (it runs the consumers only).
    m_sink(m_slots[top.slot]);
}

} // namespace tcpscope
