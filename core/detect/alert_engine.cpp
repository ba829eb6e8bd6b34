// SPDX-License-Identifier: GPL-3.0-or-later
// The engine: it keeps what it learns of the connections (detector_context.h), puts each batch
// in time order and hands every record to the detectors that watch that kind of record, moves
// record time on and now and then sweeps what went quiet. The detectors themselves live in
// their own files, grouped by what they watch:
//   listener_pressure     syn_flood
//   connection_outcomes   handshake_slow, rst_storm, refused_burst, port_scan, time_wait_buildup
//   transfer_health       retransmit_spike, zero_window_stall
//   drop_surge            drop_surge
// and the rules file's own rules in rule_matcher.
#include "detect/alert_engine.h"

#include "detect/connection_outcomes.h"
#include "detect/detector_context.h"
#include "detect/drop_surge.h"
#include "detect/listener_pressure.h"
#include "detect/rule_matcher.h"
#include "detect/transfer_health.h"

#include <algorithm>

namespace tcpscope {

namespace {

using detail::ConnInfo;

// One record looked at, in time order: a state change (connection index + history index),
// a packet, a kernel event, a drop, a listener sample, or a connection to test against the
// connection rules (its latest values).
enum class ItemType : quint8
{
    State,
    Packet,
    Event,
    Drop,
    Listener,
    ConnectionRules,
};

struct Item
{
    qint64 timeNs;
    ItemType type;
    int index;
    int sub;
};

} // namespace

struct AlertEngine::Private
{
    explicit Private(const AlertConfig &config)
        : ctx(config), listenerPressure(ctx), outcomes(ctx), transfer(ctx), dropSurge(ctx),
          rules(config.rules(), [this](Alert a) { ctx.raise(std::move(a)); })
    {
    }

    detail::DetectorContext ctx;
    // The detectors, each with its own windows. A record goes to them in this order (so alerts
    // of one record time come out in a fixed order).
    detail::ListenerPressure listenerPressure;
    detail::ConnectionOutcomes outcomes;
    detail::TransferHealth transfer;
    detail::DropSurge dropSurge;
    detail::RuleMatcher rules; // the rules file's own rules

    quint64 items = 0;
    qint64 nowNs = 0;
    qint64 lastSweepNs = 0;

    ConnInfo &noteConnection(const Connection &c)
    {
        ConnInfo &info = ctx.noteConnection(c);
        rules.addConnection(c);
        return info;
    }

    void forget(qint64 id)
    {
        const ConnInfo *info = std::as_const(ctx).connection(id);
        if (!info)
            return;
        if (info->c.role == ConnectionRole::Listener)
            listenerPressure.forgetListener(id);
        rules.removeConnection(id);
        ctx.forget(id);
    }

    void onStateChange(const ConnInfo &info, const StateChange &change)
    {
        listenerPressure.onStateChange(info.c, change);
        transfer.onStateChange(info.c, change);
        outcomes.onStateChange(info.c, change);
    }

    void onPacket(const Packet &p)
    {
        listenerPressure.onPacket(p);
        outcomes.onPacket(p);
        transfer.onPacket(p);
    }

    void onEvent(const KernelEvent &e)
    {
        listenerPressure.onEvent(e);
        transfer.onEvent(e);
    }

    void onDrop(const DropEvent &d)
    {
        dropSurge.onDrop(d);
        outcomes.onDrop(d);
        listenerPressure.onDrop(d);
    }

    void advance(qint64 timeNs)
    {
        if (timeNs <= nowNs)
            return;
        nowNs = timeNs;
        transfer.advance(nowNs);
        if (nowNs - lastSweepNs < 5'000'000'000)
            return;
        lastSweepNs = nowNs;
        // Each detector sweeps its windows with their own lengths, so a subject seen once (a
        // spoofed source) is forgotten as soon as its hit leaves the window.
        listenerPressure.sweep(nowNs);
        outcomes.sweep(nowNs);
        transfer.sweep(nowNs);
        dropSurge.sweep(nowNs);
        rules.sweep(nowNs);
        // Closed connections are kept a minute for late packets, then forgotten.
        for (qint64 id : ctx.staleConnections(nowNs))
            forget(id);
        ctx.sweep(nowNs);
    }
};

AlertEngine::AlertEngine(const AlertConfig &config) : d(std::make_unique<Private>(config)) {}

AlertEngine::~AlertEngine() = default;

void AlertEngine::addBatch(const QVector<Connection> &changed, const QVector<Packet> &packets,
                           const KernelData &kernel)
{
    Private &p = *d;
    QVector<Item> items;
    items.reserve(packets.size() + kernel.events.size() + kernel.drops.size() +
                  kernel.listeners.size() + changed.size() * 2);
    const bool connRules = p.rules.hasConnectionRules();
    for (int i = 0; i < changed.size(); ++i) {
        const Connection &c = changed.at(i);
        ConnInfo &info = p.noteConnection(c);
        qint64 last = c.startNs;
        for (int h = info.historySeen; h < c.history.size(); ++h) {
            items.append({c.history.at(h).timeNs, ItemType::State, i, h});
            last = std::max(last, c.history.at(h).timeNs);
        }
        if (!c.history.isEmpty())
            last = std::max(last, c.history.last().timeNs);
        info.historySeen = std::max<int>(info.historySeen, int(c.history.size()));
        info.lastNs = std::max(info.lastNs, last);
    }
    for (int i = 0; i < packets.size(); ++i)
        items.append({packets.at(i).timeNs, ItemType::Packet, i, 0});
    for (int i = 0; i < kernel.events.size(); ++i)
        items.append({kernel.events.at(i).timeNs, ItemType::Event, i, 0});
    for (int i = 0; i < kernel.drops.size(); ++i)
        items.append({kernel.drops.at(i).timeNs, ItemType::Drop, i, 0});
    for (int i = 0; i < kernel.listeners.size(); ++i)
        items.append({kernel.listeners.at(i).timeNs, ItemType::Listener, i, 0});
    std::stable_sort(items.begin(), items.end(),
                     [](const Item &a, const Item &b) { return a.timeNs < b.timeNs; });
    // Connection rules test each changed connection as it is at the end of the batch (its
    // counters may have crossed a threshold without a state change): at the batch's newest
    // record time.
    if (connRules) {
        qint64 end = items.isEmpty() ? p.nowNs : items.last().timeNs;
        for (const Connection &c : changed)
            if (!c.history.isEmpty())
                end = std::max(end, c.history.last().timeNs);
        for (int i = 0; i < changed.size(); ++i)
            items.append({end, ItemType::ConnectionRules, i, 0});
    }
    const bool packetRules = p.rules.hasPacketRules();
    const detail::RuleMatcher::FindConnection findConnection =
        [&p](qint64 id) -> const Connection * {
        const ConnInfo *info = std::as_const(p.ctx).connection(id);
        return info ? &info->c : nullptr;
    };
    for (const Item &item : std::as_const(items)) {
        ++p.items;
        p.advance(item.timeNs);
        switch (item.type) {
        case ItemType::State: {
            const Connection &c = changed.at(item.index);
            if (ConnInfo *info = p.ctx.connection(c.id)) {
                const StateChange &change = c.history.at(item.sub);
                info->closed = info->closed || change.to == TcpState::Close;
                p.onStateChange(*info, change);
            }
            break;
        }
        case ItemType::ConnectionRules:
            p.rules.onConnection(changed.at(item.index), item.timeNs);
            break;
        case ItemType::Packet: {
            const Packet &packet = packets.at(item.index);
            p.onPacket(packet);
            if (packetRules)
                p.rules.onPacket(packet, findConnection);
            if (packet.connectionId > 0) {
                if (ConnInfo *info = p.ctx.connection(packet.connectionId))
                    info->lastNs = std::max(info->lastNs, item.timeNs);
            }
            break;
        }
        case ItemType::Event:
            p.onEvent(kernel.events.at(item.index));
            break;
        case ItemType::Drop:
            p.onDrop(kernel.drops.at(item.index));
            break;
        case ItemType::Listener:
            p.listenerPressure.onListener(kernel.listeners.at(item.index));
            break;
        }
    }
}

void AlertEngine::advanceTo(qint64 nowNs)
{
    d->advance(nowNs);
}

QVector<Alert> AlertEngine::takeAlerts()
{
    return d->ctx.takeAlerts();
}

QVector<Alert> AlertEngine::takeSuppressed()
{
    return d->ctx.takeSuppressed();
}

void AlertEngine::forgetConnections(const QVector<qint64> &ids)
{
    for (qint64 id : ids)
        d->forget(id);
}

quint64 AlertEngine::alertsRaised() const
{
    return d->ctx.alertsRaised();
}

quint64 AlertEngine::alertsSuppressed() const
{
    return d->ctx.alertsSuppressed();
}

quint64 AlertEngine::itemsSeen() const
{
    return d->items;
}

} // namespace tcpscope
