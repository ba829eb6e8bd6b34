// SPDX-License-Identifier: GPL-3.0-or-later
#include "pipeline/record_pipeline.h"

#include <algorithm>

namespace tcpscope {

RecordPipeline::RecordPipeline(quint64 windowNs)
    : m_window([this](const wire::Record &r) { dispatch(r); }, windowNs)
{
}

void RecordPipeline::setClockOffset(qint64 monoToWallNs)
{
    m_offsetNs = monoToWallNs;
    m_packets.setClockOffset(monoToWallNs); // and the tracker's
    m_kernel.setClockOffset(monoToWallNs);
}

void RecordPipeline::push(const wire::Record &record)
{
    m_window.push(record);
}

void RecordPipeline::advanceTo(quint64 monoNs)
{
    m_window.advanceTo(monoNs);
    // Held packets wait in record time; a quiet stream still moves it on, but only up to what
    // the window has released, or a group would expire before its connection's record.
    if (monoNs <= m_window.windowNs())
        return;
    const quint64 released = monoNs - m_window.windowNs();
    m_packets.advanceTo(released);
    m_kernel.advanceTo(released);
}

void RecordPipeline::flushAll()
{
    m_window.flush();
    m_packets.flushAll();
    m_kernel.flushAll();
}

bool RecordPipeline::flushStep(quint64 stepNs)
{
    const quint64 oldest = m_window.oldestNs();
    if (oldest == 0)
        return false;
    advanceTo(oldest + m_window.windowNs() + stepNs);
    return true;
}

QVector<qint64> RecordPipeline::evict()
{
    // The clock is record time, so a backlog being drained does not evict early.
    const quint64 nowMono = std::max(m_packets.nowMonoNs(), m_kernel.nowMonoNs());
    if (nowMono == 0)
        return {};
    const QVector<Connection> gone = m_tracker.evictClosed(qint64(nowMono) + m_offsetNs);
    if (gone.isEmpty())
        return {};
    m_packets.forget(gone);
    m_kernel.forget(gone);
    QVector<qint64> ids;
    ids.reserve(gone.size());
    for (const Connection &c : gone)
        ids.push_back(c.id);
    return ids;
}

void RecordPipeline::dispatch(const wire::Record &r)
{
    switch (r.type) {
    case TS_REC_STATE_CHANGE:
        m_packets.onStateChange(r.stateChange);
        m_kernel.onStateChange(r.stateChange); // after: the connection exists now
        return;
    case TS_REC_CLOSE_STATS:
        m_packets.onCloseStats(r.closeStats);
        return;
    case TS_REC_PACKET:
    case TS_REC_PACKET_SNAP: {
        std::span<const quint8> snap;
        if (r.type == TS_REC_PACKET_SNAP)
            snap = std::span<const quint8>(
                r.packetSnap.data, std::min<std::size_t>(r.packetSnap.snap_len, TS_SNAP_MAX));
        m_packets.onPacket(*r.asPacket(), snap);
        return;
    }
    case TS_REC_INTERFACE:
        m_packets.onInterface(r.interface);
        return;
    case TS_REC_TCP_SAMPLE:
        m_kernel.onSample(r.tcpSample);
        return;
    case TS_REC_TCP_EVENT:
        m_kernel.onEvent(r.tcpEvent);
        return;
    case TS_REC_DROP:
        m_kernel.onDrop(r.drop);
        return;
    case TS_REC_LISTENER:
        m_kernel.onListener(r.listener);
        return;
    case TS_REC_REASON_NAME:
        m_kernel.onReasonName(r.reasonName);
        return;
    default:
        return;
    }
}

} // namespace tcpscope
