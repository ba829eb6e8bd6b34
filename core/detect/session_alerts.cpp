// SPDX-License-Identifier: GPL-3.0-or-later
#include "detect/session_alerts.h"

#include "export/session_export.h"
#include "session/session.h"

#include <algorithm>

namespace tcpscope {

namespace {

// Packets per replay slice: about what a live capture publishes in one step at a high rate.
constexpr int kSlicePackets = 4096;

struct StateRef
{
    qint64 timeNs;
    int connection;
    int change;
};

// c as the live pipeline would have published it after its first `changes` state changes:
// the handshake and the close are not known before they happen.
Connection asOf(const Connection &c, int changes)
{
    Connection v = c;
    v.history = c.history.mid(0, changes);
    const bool closed = !v.history.isEmpty() && v.history.last().to == TcpState::Close;
    if (!closed) {
        // Before its end a connection's counters were smaller; the file has only the final
        // ones, so a rule on them sees them at the close (not at the first state change).
        v.endNs = 0;
        v.closeReason = CloseReason::Open;
        v.haveCloseStats = false;
        v.bytesSent = v.bytesReceived = 0;
        v.segsIn = v.segsOut = v.retransmits = 0;
        v.packets = PacketCounts();
        v.kernel = KernelSummary();
    }
    const bool established =
        std::any_of(v.history.begin(), v.history.end(),
                    [](const StateChange &s) { return s.to == TcpState::Established; });
    if (!established && c.handshakeNs >= 0)
        v.handshakeNs = -1;
    if (!v.history.isEmpty())
        v.state = v.history.last().to;
    return v;
}

template <typename T> QVector<T> takeUpTo(const QVector<T> &all, qsizetype *next, qint64 cutNs)
{
    const qsizetype from = *next;
    while (*next < all.size() && all.at(*next).timeNs <= cutNs)
        ++*next;
    return all.mid(from, *next - from);
}

} // namespace

void replaySession(const Session &session, const ReplaySlice &fn, const std::atomic<bool> *cancel)
{
    const QVector<Connection> connections = session.allConnections(true);
    QVector<StateRef> states;
    for (int i = 0; i < connections.size(); ++i) {
        const Connection &c = connections.at(i);
        // A socket that predates the capture (a listener, an open connection) has no state
        // change to be delivered with: it is given at its start, as the capture announced it.
        if (c.history.isEmpty())
            states.append({c.startNs, i, -1});
        for (int h = 0; h < c.history.size(); ++h)
            states.append({c.history.at(h).timeNs, i, h});
    }
    std::stable_sort(states.begin(), states.end(),
                     [](const StateRef &a, const StateRef &b) { return a.timeNs < b.timeNs; });
    KernelData kernel = session.kernelEvents();
    auto byTime = [](const auto &a, const auto &b) { return a.timeNs < b.timeNs; };
    std::stable_sort(kernel.events.begin(), kernel.events.end(), byTime);
    std::stable_sort(kernel.drops.begin(), kernel.drops.end(), byTime);
    std::stable_sort(kernel.listeners.begin(), kernel.listeners.end(), byTime);

    bool stopped = false;
    qsizetype nextState = 0, nextEvent = 0, nextDrop = 0, nextListener = 0;
    QVector<int> seen(connections.size(), 0); // state changes given so far, per connection
    auto deliver = [&](const QVector<Packet> &packets, qint64 cutNs) {
        QVector<int> touched;
        while (nextState < states.size() && states.at(nextState).timeNs <= cutNs) {
            const StateRef &s = states.at(nextState++);
            touched.append(s.connection);
            seen[s.connection] = std::max(seen[s.connection], s.change + 1);
        }
        std::sort(touched.begin(), touched.end());
        touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
        QVector<Connection> changed;
        changed.reserve(touched.size());
        for (int i : std::as_const(touched))
            changed.append(asOf(connections.at(i), seen[i]));
        KernelData slice;
        slice.events = takeUpTo(kernel.events, &nextEvent, cutNs);
        slice.drops = takeUpTo(kernel.drops, &nextDrop, cutNs);
        slice.listeners = takeUpTo(kernel.listeners, &nextListener, cutNs);
        if (!fn(changed, packets, slice))
            stopped = true;
    };

    QVector<Packet> buffer;
    buffer.reserve(kSlicePackets);
    session.forEachPacket(-1, [&](const Packet &p) {
        if (cancel && cancel->load(std::memory_order_relaxed)) {
            stopped = true;
            return false;
        }
        buffer.append(p);
        if (buffer.size() < kSlicePackets)
            return true;
        qint64 cut = buffer.last().timeNs;
        for (const Packet &b : std::as_const(buffer))
            cut = std::max(cut, b.timeNs);
        deliver(buffer, cut);
        buffer.clear();
        return !stopped;
    });
    if (!stopped)
        deliver(buffer, std::numeric_limits<qint64>::max());
}

QVector<Alert> detectAlerts(const Session &session, const AlertConfig &config, ReplayStats *stats,
                            const std::function<bool(const Alert &)> &onAlert,
                            const std::atomic<bool> *cancel)
{
    AlertEngine engine(config);
    QVector<Alert> alerts;
    bool stopped = false;
    auto take = [&] {
        for (Alert &a : engine.takeAlerts()) {
            if (stopped)
                break;
            if (onAlert && !onAlert(a))
                stopped = true;
            alerts.append(std::move(a));
        }
    };
    replaySession(
        session,
        [&](const QVector<Connection> &changed, const QVector<Packet> &packets,
            const KernelData &kernel) {
            engine.addBatch(changed, packets, kernel);
            take();
            return !stopped;
        },
        cancel);
    stopped = stopped || (cancel && cancel->load());
    if (!stopped) {
        // Stalls still going on at the end are measured up to the session's end.
        const qint64 end = sessionEndNs(session);
        if (end > 0)
            engine.advanceTo(end);
        take();
    }
    if (stats) {
        stats->items = engine.itemsSeen();
        stats->suppressed = engine.alertsSuppressed();
        stats->error = session.error();
    }
    return alerts;
}

} // namespace tcpscope
