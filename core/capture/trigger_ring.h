// SPDX-License-Identifier: GPL-3.0-or-later
// Triggered capture: packets and kernel samples wait in memory, in a ring bounded in bytes, and
// only those around a trigger (an alert of a given kind, or a display filter matching) reach
// the session file: the window from `pre` before to `post` after each trigger. Overlapping
// windows merge; each window remembers which triggers opened it. Lifecycles, summaries, kernel
// events, drops and alerts are always written (the capture does that, not this class).
//
// Owned by the capture's ingest thread; not thread-safe.
#pragma once

#include "detect/alert.h"
#include "model/connection.h"

#include <QString>
#include <QStringList>
#include <QVector>

#include <deque>
#include <optional>
#include <variant>

namespace tcpscope {

struct TriggerSettings
{
    // "kind:KIND" (an alert kind: a detector or a rule of the rules file), or a display filter
    // expression (becomes a rule named "trigger" that the capture's detectors evaluate).
    QString trigger;
    qint64 preNs = 5'000'000'000;
    qint64 postNs = 5'000'000'000;
    qint64 ringBytes = 128LL * 1024 * 1024;

    // The alert kind that triggers: KIND of "kind:KIND", else "trigger".
    QString alertKind() const;
    // The rule text to add to the rules when trigger is an expression, else empty.
    QString ruleText() const;
};

class TriggerRing
{
public:
    explicit TriggerRing(const TriggerSettings &settings);

    // True when the alert is a trigger.
    bool isTrigger(const Alert &alert) const;
    // Opens (or extends and merges) the window around the alert's time. False when an
    // existing window already covered it (only counted then).
    bool trigger(const Alert &alert);

    // New records, in any order. Those inside a window are due at once; the rest wait in the
    // ring, the oldest dropped when it is over its byte budget.
    void add(const QVector<Packet> &packets, const QVector<TcpSample> &samples);
    // What is due for the file (inside a window), each in packet id / time order.
    void take(QVector<Packet> *packets, QVector<TcpSample> *samples);

    const QVector<KeptWindow> &windows() const { return m_windows; }
    qint64 bytesHeld() const { return m_bytes; }
    // How much record time the ring holds now (its newest minus its oldest record).
    qint64 spanHeldNs() const;
    // Records not kept: dropped from the ring outside every window, or still waiting in it
    // (at the end of a capture: never kept). Not losses: nobody asked for them.
    quint64 discarded() const { return m_discarded + quint64(m_ring.size()); }
    quint64 kept() const { return m_kept; }

private:
    struct Entry
    {
        qint64 timeNs;
        qint64 bytes;
        std::variant<Packet, TcpSample> record;
    };
    static constexpr int kMaxTriggerLines = 20;
    const KeptWindow *windowAt(qint64 timeNs) const;
    static void noteTrigger(KeptWindow &w, const QString &line);
    static void noteTriggerIn(QStringList &lines, const QString &line);
    void keep(Entry &&e);

    TriggerSettings m_settings;
    std::deque<Entry> m_ring; // arrival order
    qint64 m_bytes = 0;
    QVector<KeptWindow> m_windows; // disjoint, in time order
    QVector<Packet> m_duePackets;
    QVector<TcpSample> m_dueSamples;
    quint64 m_discarded = 0;
    quint64 m_kept = 0;
    bool m_rescan = false; // a window opened or grew since the last take()
};

} // namespace tcpscope
