// SPDX-License-Identifier: GPL-3.0-or-later
#include "capture/clock_sync.h"

#include <algorithm>

namespace tcpscope {

std::uint64_t ClockSync::probeSent(qint64 localNs)
{
    m_outstandingId = m_nextId++;
    m_outstanding = true;
    m_lastSentNs = localNs;
    return m_outstandingId;
}

bool ClockSync::replyReceived(std::uint64_t id, qint64 remoteNs, qint64 localNs)
{
    if (!m_outstanding || id != m_outstandingId)
        return false;
    m_outstanding = false;
    const qint64 roundTrip = localNs - m_lastSentNs;
    if (roundTrip < 0 || roundTrip > kMaxRoundTripNs)
        return false;
    const qint64 error = (roundTrip + 1) / 2;
    const qint64 offset = remoteNs - (m_lastSentNs + roundTrip / 2);
    const bool inBurst = m_samples < kStartProbes;
    ++m_samples;
    if (inBurst) {
        // The burst is taken as one measurement: its best sample.
        if (!m_started || error < m_errorNs) {
            m_offsetNs = offset;
            m_errorNs = error;
        }
        m_started = true;
        return true;
    }
    // Later: the true offset at this moment lies within this sample's interval, so the one in
    // use is off by at most |offset - used| + error. Only samples about as precise as the burst
    // count (a reply that waited behind a queue of records says little about the clocks).
    if (error > std::max<qint64>(4 * m_errorNs, kPreciseNs))
        return true;
    m_driftNs = std::max(m_driftNs, qAbs(offset - m_offsetNs));
    m_laterBoundNs = std::max(m_laterBoundNs, qAbs(offset - m_offsetNs) + error);
    return true;
}

} // namespace tcpscope
