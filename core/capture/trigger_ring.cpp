// SPDX-License-Identifier: GPL-3.0-or-later
#include "capture/trigger_ring.h"

#include <algorithm>

namespace tcpscope {

QString TriggerSettings::alertKind() const
{
    const QString t = trigger.trimmed();
    if (t.startsWith(QLatin1String("kind:")))
        return t.mid(5).trimmed();
    return QStringLiteral("trigger");
}

QString TriggerSettings::ruleText() const
{
    const QString t = trigger.trimmed();
    if (t.startsWith(QLatin1String("kind:")))
        return {};
    return QStringLiteral("alert trigger severity=low when ") + t;
}

TriggerRing::TriggerRing(const TriggerSettings &settings) : m_settings(settings) {}

bool TriggerRing::isTrigger(const Alert &alert) const
{
    return alert.kind == m_settings.alertKind();
}

bool TriggerRing::trigger(const Alert &alert)
{
    // One line per trigger, on one line whatever the subject holds.
    QString line =
        QStringLiteral("%1 %2 at %3").arg(alert.kind, alert.subject, rfc3339Ns(alert.timeNs));
    line.replace(QLatin1Char('\n'), QLatin1Char(' ')).replace(QLatin1Char('\r'), QLatin1Char(' '));
    const qint64 start = alert.timeNs - m_settings.preNs;
    const qint64 end = alert.timeNs + m_settings.postNs;
    // Inside a window already: nothing new is kept; the window counts the trigger (its list of
    // triggers stays short: a flood of them is one line "... and N more").
    for (KeptWindow &o : m_windows) {
        if (o.startNs <= start && end <= o.endNs) {
            noteTrigger(o, line);
            return false;
        }
    }
    KeptWindow w{start, end, {line}};
    // Merge with every window it overlaps; the list stays disjoint and in time order.
    QVector<KeptWindow> merged;
    merged.reserve(m_windows.size() + 1);
    for (const KeptWindow &o : std::as_const(m_windows)) {
        if (o.endNs < w.startNs || o.startNs > w.endNs) {
            merged.append(o);
            continue;
        }
        w.startNs = std::min(w.startNs, o.startNs);
        w.endNs = std::max(w.endNs, o.endNs);
        QStringList lines = o.triggers;
        for (const QString &l : std::as_const(w.triggers))
            noteTriggerIn(lines, l);
        w.triggers = lines;
    }
    merged.append(w);
    std::sort(merged.begin(), merged.end(),
              [](const KeptWindow &a, const KeptWindow &b) { return a.startNs < b.startNs; });
    m_windows = std::move(merged);
    // What the ring holds inside the window is due: moved out by the next take(), once for
    // all the triggers of a publish step (a flood extends the window many times).
    m_rescan = true;
    return true;
}

void TriggerRing::noteTrigger(KeptWindow &w, const QString &line)
{
    noteTriggerIn(w.triggers, line);
}

void TriggerRing::noteTriggerIn(QStringList &lines, const QString &line)
{
    // The first kMaxTriggerLines triggers by name, then one line counting the rest.
    static const QString more = QStringLiteral("... and %1 more");
    if (lines.size() < kMaxTriggerLines) {
        lines.append(line);
        return;
    }
    qint64 extra = 1;
    if (lines.size() > kMaxTriggerLines) {
        extra += lines.last().section(QLatin1Char(' '), 2, 2).toLongLong();
        lines.removeLast();
    }
    lines.append(more.arg(extra));
}

const KeptWindow *TriggerRing::windowAt(qint64 timeNs) const
{
    // Windows are disjoint and in time order: the one starting last at or before timeNs.
    auto it = std::upper_bound(m_windows.cbegin(), m_windows.cend(), timeNs,
                               [](qint64 t, const KeptWindow &w) { return t < w.startNs; });
    if (it == m_windows.cbegin())
        return nullptr;
    --it;
    return timeNs <= it->endNs ? &*it : nullptr;
}

void TriggerRing::keep(Entry &&e)
{
    ++m_kept;
    if (auto *p = std::get_if<Packet>(&e.record))
        m_duePackets.append(std::move(*p));
    else
        m_dueSamples.append(std::get<TcpSample>(e.record));
}

void TriggerRing::add(const QVector<Packet> &packets, const QVector<TcpSample> &samples)
{
    for (const Packet &p : packets) {
        Entry e{p.timeNs, p.memoryBytes(), p};
        if (windowAt(p.timeNs)) {
            keep(std::move(e));
            continue;
        }
        m_bytes += e.bytes;
        m_ring.push_back(std::move(e));
    }
    for (const TcpSample &s : samples) {
        Entry e{s.timeNs, qint64(sizeof(TcpSample)), s};
        if (windowAt(s.timeNs)) {
            keep(std::move(e));
            continue;
        }
        m_bytes += e.bytes;
        m_ring.push_back(std::move(e));
    }
    while (m_bytes > m_settings.ringBytes && !m_ring.empty()) {
        m_bytes -= m_ring.front().bytes;
        m_ring.pop_front();
        ++m_discarded;
    }
}

void TriggerRing::take(QVector<Packet> *packets, QVector<TcpSample> *samples)
{
    if (m_rescan) {
        m_rescan = false;
        std::deque<Entry> rest;
        for (Entry &e : m_ring) {
            if (windowAt(e.timeNs)) {
                m_bytes -= e.bytes;
                keep(std::move(e));
            } else {
                rest.push_back(std::move(e));
            }
        }
        m_ring.swap(rest);
    }
    std::stable_sort(m_duePackets.begin(), m_duePackets.end(),
                     [](const Packet &a, const Packet &b) { return a.id < b.id; });
    std::stable_sort(m_dueSamples.begin(), m_dueSamples.end(),
                     [](const TcpSample &a, const TcpSample &b) { return a.timeNs < b.timeNs; });
    *packets = std::move(m_duePackets);
    *samples = std::move(m_dueSamples);
    m_duePackets = {};
    m_dueSamples = {};
}

qint64 TriggerRing::spanHeldNs() const
{
    if (m_ring.empty())
        return 0;
    qint64 lo = m_ring.front().timeNs, hi = lo;
    // Arrival order is nearly time order: the ends are close to the extremes.
    for (auto it = m_ring.begin(); it != m_ring.end() && it - m_ring.begin() < 1000; ++it)
        lo = std::min(lo, it->timeNs);
    for (auto it = m_ring.rbegin(); it != m_ring.rend() && it - m_ring.rbegin() < 1000; ++it)
        hi = std::max(hi, it->timeNs);
    return hi - lo;
}

} // namespace tcpscope
