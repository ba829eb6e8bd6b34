// SPDX-License-Identifier: GPL-3.0-or-later
// How far a remote helper's clock is from this machine's, measured the way NTP does over the
// capture's own connection (for a remote capture, the SSH session): the app sends ClockProbe,
// the helper answers with its CLOCK_REALTIME, and the app times the round trip. A reply read at
// local times [sent, received] says the remote clock read R somewhere in that interval, so
//   offset = R - (sent + received) / 2   (remote minus local)
// is wrong by at most half the round trip. A burst of probes before Start keeps the sample with
// the shortest round trip: that offset converts the whole capture to this machine's clock.
// Probes repeat while capturing. The true offset at a later sample lies within that sample's
// own interval, so the offset in use is off by at most |its offset - the one in use| plus half
// its round trip: the stated error is the largest of those bounds and the burst's own (half the
// best starting round trip). Later samples much less precise than the burst (a reply that
// waited behind queued records) are left out of it.
#pragma once

#include <QtGlobal>

#include <algorithm>

#include <cstdint>

namespace tcpscope {

class ClockSync
{
public:
    static constexpr int kStartProbes = 8;                    // the burst before Start
    static constexpr qint64 kRefreshNs = 10'000'000'000;      // one probe every 10 s after
    static constexpr qint64 kMaxRoundTripNs = 30'000'000'000; // slower answers are ignored
    // A later sample counts when its error is at most 4 x the burst's, or this.
    static constexpr qint64 kPreciseNs = 1'000'000;

    // The id to send in the next ClockProbe; localNs: this machine's CLOCK_REALTIME now. One
    // probe is outstanding at a time (a new one replaces it).
    std::uint64_t probeSent(qint64 localNs);
    // A ClockReply: its id, the remote CLOCK_REALTIME it carried and this machine's
    // CLOCK_REALTIME when it was read. False for a reply to no outstanding probe (stale or
    // unknown id) or a round trip below 0 or above kMaxRoundTripNs: nothing is learnt from it.
    bool replyReceived(std::uint64_t id, qint64 remoteNs, qint64 localNs);

    bool started() const { return m_samples >= kStartProbes; } // the burst is answered
    bool probing() const { return m_outstanding; }
    bool refreshDue(qint64 localNs) const
    {
        return started() && !m_outstanding && localNs - m_lastSentNs >= kRefreshNs;
    }
    // Remote minus local, from the best sample of the burst (0 before).
    qint64 offsetNs() const { return m_offsetNs; }
    // Bound on offsetNs's error so far (see above); -1 before the first sample.
    qint64 errorNs() const { return m_started ? std::max(m_errorNs, m_laterBoundNs) : -1; }
    // The largest distance of a later precise sample's offset from the one in use.
    qint64 driftNs() const { return m_driftNs; }
    int samples() const { return m_samples; }

private:
    std::uint64_t m_nextId = 1;
    std::uint64_t m_outstandingId = 0;
    bool m_outstanding = false;
    qint64 m_lastSentNs = 0;
    int m_samples = 0;
    bool m_started = false; // a first sample was taken
    qint64 m_offsetNs = 0;
    qint64 m_errorNs = 0;
    qint64 m_driftNs = 0;
    qint64 m_laterBoundNs = 0;
};

} // namespace tcpscope
