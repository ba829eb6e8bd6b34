// SPDX-License-Identifier: GPL-3.0-or-later
// The one path every record takes from the helper's stream to connections, packets and the
// kernel's view: reorder window (timestamp order) -> ConnectionTracker -> PacketJoiner (and its
// per-connection TcpAnalyzer) -> KernelJoiner. LiveCapture feeds it from the socket; tests and
// benchmarks feed it records directly, so they exercise exactly what a capture runs.
// Not thread-safe: owned by one thread (LiveCapture's ingest thread).
#pragma once

#include "connection_tracker.h"
#include "kernel_joiner.h"
#include "packet_joiner.h"
#include "pipeline/reorder_window.h"
#include "wire.h"

namespace tcpscope {

class RecordPipeline
{
public:
    explicit RecordPipeline(quint64 windowNs = ReorderWindow::kDefaultWindowNs);
    RecordPipeline(const RecordPipeline &) = delete;
    RecordPipeline &operator=(const RecordPipeline &) = delete;

    // wall ns = record monotonic ns + offset (from the helper's Hello clocks).
    void setClockOffset(qint64 monoToWallNs);

    // One record, in arrival order; it reaches the consumers once the window releases it.
    void push(const wire::Record &record);
    // The helper's clock (Stats): releases what is older than the window, and moves the
    // joiners' hold clock to the released point (never ahead of the records they have seen).
    void advanceTo(quint64 monoNs);
    // End of the stream: the window is emptied, then every held packet and kernel record is
    // decided (joined, own connection or unjoined).
    void flushAll();
    // The same in steps, for a caller that takes what each step decided before the next (so
    // the end of a busy stream is not one batch of everything held): releases the next stepNs
    // of held records as if the clock had moved on. False, releasing nothing, once the window
    // is empty; flushAll() then decides what the joiners still hold.
    bool flushStep(quint64 stepNs);

    // The publish step: rows, packets (timestamp order, ids assigned) and kernel data decided
    // since the previous call. Take packets and kernel data before the changed rows: delivering
    // them changes their connections.
    QVector<Packet> takePackets() { return m_packets.takePackets(); }
    KernelData takeKernelData() { return m_kernel.takeData(); }
    QVector<Connection> takeChanged() { return m_tracker.takeChanged(); }
    // Drops closed connections whose grace period is over (record time) and the joiners' state
    // for them. Call after the changed rows were taken: an evicted connection's row is final.
    // Returns the ids of the connections evicted (for the session writer to forget).
    QVector<qint64> evict();

    // Records later than the window, and records naming an evicted connection's socket.
    quint64 lateRecords() const { return m_window.late(); }
    quint64 evictedLateRecords() const { return m_packets.packetsLate() + m_kernel.late(); }

    ConnectionTracker &tracker() { return m_tracker; }
    const ConnectionTracker &tracker() const { return m_tracker; }
    PacketJoiner &packets() { return m_packets; }
    const PacketJoiner &packets() const { return m_packets; }
    KernelJoiner &kernel() { return m_kernel; }
    const KernelJoiner &kernel() const { return m_kernel; }
    ReorderWindow &window() { return m_window; }
    const ReorderWindow &window() const { return m_window; }

private:
    void dispatch(const wire::Record &record);

    ConnectionTracker m_tracker;
    PacketJoiner m_packets{m_tracker};
    KernelJoiner m_kernel{m_tracker, m_packets};
    ReorderWindow m_window;
    qint64 m_offsetNs = 0;
};

} // namespace tcpscope
