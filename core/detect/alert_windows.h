// SPDX-License-Identifier: GPL-3.0-or-later
// The counting the detectors (core/detect, fed by alert_engine.cpp) are built from: hits in a
// sliding window of record time per subject (how many, how many distinct values, which
// connections), a bounded set of such windows, and a cheap bucketed count of segments sent.
// Internal to the detectors; record time only, never the clock of the machine running them.
#pragma once

#include "detect/alert.h"

#include <QHash>
#include <QSet>
#include <QString>
#include <QVector>

#include <algorithm>
#include <array>
#include <climits>
#include <deque>

namespace tcpscope::detail {

// Hits within a sliding window of record time; optionally how many distinct values
// (ports, sources) they carry.
struct Hit
{
    qint64 timeNs;
    qint64 connectionId;
    quint32 value;
    quint32 count = 1; // a kernel event of several segments, a listener's drop delta
};

class Window
{
public:
    void add(const Hit &hit)
    {
        m_hits.push_back(hit);
        m_distinct[hit.value] += hit.count;
        m_total += hit.count;
    }
    void expire(qint64 nowNs, qint64 windowNs)
    {
        while (!m_hits.empty() && m_hits.front().timeNs <= nowNs - windowNs) {
            const Hit &h = m_hits.front();
            auto it = m_distinct.find(h.value);
            if (it != m_distinct.end() && (it.value() -= h.count) == 0)
                m_distinct.erase(it);
            m_total -= h.count;
            m_hits.pop_front();
        }
    }
    void clear()
    {
        m_hits.clear();
        m_distinct.clear();
        m_total = 0;
    }
    int size() const { return int(std::min<quint64>(m_total, INT_MAX)); }
    int distinct() const { return int(m_distinct.size()); }
    bool empty() const { return m_hits.empty(); }
    // How long the hits in the window span (they arrive in time order only within the
    // capture's reorder window, so not necessarily the first and the last).
    qint64 spanNs() const
    {
        if (m_hits.empty())
            return 0;
        qint64 lo = m_hits.front().timeNs, hi = lo;
        for (const Hit &h : m_hits) {
            lo = std::min(lo, h.timeNs);
            hi = std::max(hi, h.timeNs);
        }
        return hi - lo;
    }
    // Distinct connection ids of the hits, newest first, at most Alert::kMaxEvidence.
    QVector<qint64> connections() const
    {
        QVector<qint64> ids;
        QSet<qint64> seen;
        for (auto it = m_hits.rbegin(); it != m_hits.rend() && ids.size() < Alert::kMaxEvidence;
             ++it) {
            if (it->connectionId > 0 && !seen.contains(it->connectionId)) {
                seen.insert(it->connectionId);
                ids.append(it->connectionId);
            }
        }
        std::sort(ids.begin(), ids.end());
        return ids;
    }
    // The value carried by most hits and how many carry it.
    std::pair<quint32, quint64> mostCommon() const
    {
        quint32 best = 0;
        quint64 count = 0;
        for (auto it = m_distinct.begin(); it != m_distinct.end(); ++it) {
            if (it.value() > count) {
                best = it.key();
                count = it.value();
            }
        }
        return {best, count};
    }

private:
    std::deque<Hit> m_hits;
    QHash<quint32, quint64> m_distinct; // value -> hits (counts) carrying it
    quint64 m_total = 0;
};

// Windows by subject, swept of stale subjects now and then.
class Windows
{
public:
    // The subject's window. Beyond kMaxSubjects (a flood from spoofed sources) a new subject
    // gets a scratch window that is not kept: memory stays bounded, the subjects already
    // tracked still alert.
    Window &at(const QString &key)
    {
        auto it = m_map.find(key);
        if (it != m_map.end())
            return *it;
        if (m_map.size() >= kMaxSubjects) {
            ++m_refused;
            m_scratch.clear();
            return m_scratch;
        }
        return m_map[key];
    }
    // The subject's window if it has one (never a scratch window).
    Window *find(const QString &key)
    {
        auto it = m_map.find(key);
        return it != m_map.end() ? &*it : nullptr;
    }
    quint64 refused() const { return m_refused; }
    void sweep(qint64 nowNs, qint64 windowNs)
    {
        for (auto it = m_map.begin(); it != m_map.end();) {
            it->expire(nowNs, windowNs);
            if (it->empty())
                it = m_map.erase(it);
            else
                ++it;
        }
    }

private:
    static constexpr qsizetype kMaxSubjects = 50000;
    QHash<QString, Window> m_map;
    Window m_scratch;
    quint64 m_refused = 0;
};

// Segments sent over roughly the last window, in 8 buckets: the denominator of a
// retransmission share, cheap enough to update for every data packet.
class RateCounter
{
public:
    void add(qint64 timeNs, qint64 windowNs, quint64 n)
    {
        const qint64 b = timeNs / bucketNs(windowNs);
        const int i = int(((b % kBuckets) + kBuckets) % kBuckets);
        if (m_bucket[i] != b) {
            m_bucket[i] = b;
            m_count[i] = 0;
        }
        m_count[i] += n;
        m_last = std::max(m_last, timeNs);
    }
    quint64 sum(qint64 nowNs, qint64 windowNs) const
    {
        const qint64 b = nowNs / bucketNs(windowNs);
        quint64 total = 0;
        for (int i = 0; i < kBuckets; ++i)
            if (m_bucket[i] > b - kBuckets && m_bucket[i] <= b)
                total += m_count[i];
        return total;
    }
    qint64 lastNs() const { return m_last; }

private:
    static constexpr int kBuckets = 8;
    static qint64 bucketNs(qint64 windowNs) { return std::max<qint64>(1, windowNs / kBuckets); }
    std::array<qint64, kBuckets> m_bucket{-1, -1, -1, -1, -1, -1, -1, -1};
    std::array<quint64, kBuckets> m_count{};
    qint64 m_last = 0;
};

} // namespace tcpscope::detail
