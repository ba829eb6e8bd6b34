// SPDX-License-Identifier: GPL-3.0-or-later
// `tcpscope info`: the kernel's view — samples and interval, retransmit and reset totals, drops
// by reason, listener overflows, the connections with the most retransmits.
#include "cli_info_kernel.h"

#include "model/address.h"

#include "export/text_escape.h"

#include <QMap>
#include <algorithm>

extern "C" {
#include "tcpscope_records.h"
}

namespace tcpscope::cli {

QString countsLine(const QMap<QString, qint64> &counts)
{
    QList<QPair<QString, qint64>> items;
    for (auto it = counts.cbegin(); it != counts.cend(); ++it)
        items.append({it.key(), it.value()});
    std::sort(items.begin(), items.end(), [](const auto &a, const auto &b) {
        return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    QStringList parts;
    for (const auto &[name, n] : items)
        parts << QStringLiteral("%1 %2").arg(name).arg(n);
    return parts.isEmpty() ? QStringLiteral("-") : parts.join(QStringLiteral(", "));
}

namespace {

// "NO_SOCKET 3, TCP_CSUM 1" (countsLine); a value without a name shows as "reason N".
QString dropsByReason(const QVector<DropEvent> &drops, int *joined)
{
    QMap<QString, qint64> counts;
    *joined = 0;
    for (const DropEvent &d : drops) {
        const QString name = d.reasonName.isEmpty() ? QStringLiteral("reason %1").arg(d.reason)
                                                    : escapeControls(d.reasonName);
        ++counts[name];
        *joined += d.connectionId != 0 ? 1 : 0;
    }
    return countsLine(counts);
}

struct EventTotals
{
    quint64 retransSegs = 0;   // segments resent (err 0)
    quint64 synRetrans = 0;    // of those, SYN resends
    quint64 failedRetrans = 0; // resend attempts the kernel could not send (err != 0)
    quint64 synAckRetrans = 0;
    quint64 resetsSent = 0;
    quint64 resetsReceived = 0;
    quint64 congestionChanges = 0;
    quint64 joined = 0;
    QMap<QString, int> resetReasons; // RST sent: the kernel's reason where it gives one
};

EventTotals totalsOf(const QVector<KernelEvent> &events)
{
    EventTotals t;
    for (const KernelEvent &e : events) {
        t.joined += e.connectionId != 0 ? 1 : 0;
        switch (e.kind) {
        case KernelEventKind::Retransmit:
            if (e.err != 0) {
                ++t.failedRetrans;
                break;
            }
            t.retransSegs += e.segs;
            if (e.tcpFlags & TS_TCP_SYN)
                t.synRetrans += e.segs;
            break;
        case KernelEventKind::SynAckRetransmit:
            t.synAckRetrans += std::max<quint16>(e.segs, 1);
            break;
        case KernelEventKind::ResetSent:
            ++t.resetsSent;
            if (!e.reasonName.isEmpty())
                ++t.resetReasons[escapeControls(e.reasonName)];
            break;
        case KernelEventKind::ResetReceived:
            ++t.resetsReceived;
            break;
        case KernelEventKind::CongestionState:
            ++t.congestionChanges;
            break;
        }
    }
    return t;
}

} // namespace

namespace {

// The per-packet totals (packets .. resets) of k into sum, added (sign 1) or taken out (-1).
void accumulate(PacketCounts &sum, const PacketCounts &k, int sign)
{
    auto apply = [sign](auto &to, auto value) { to = sign > 0 ? to + value : to - value; };
    apply(sum.packetsIn, k.packetsIn);
    apply(sum.packetsOut, k.packetsOut);
    apply(sum.payloadBytesIn, k.payloadBytesIn);
    apply(sum.payloadBytesOut, k.payloadBytesOut);
    apply(sum.retransmissions, k.retransmissions);
    apply(sum.fastRetransmissions, k.fastRetransmissions);
    apply(sum.spuriousRetransmissions, k.spuriousRetransmissions);
    apply(sum.dupAcks, k.dupAcks);
    apply(sum.outOfOrder, k.outOfOrder);
    apply(sum.lostSegments, k.lostSegments);
    apply(sum.zeroWindows, k.zeroWindows);
    apply(sum.windowFull, k.windowFull);
    apply(sum.keepAlives, k.keepAlives);
    apply(sum.resets, k.resets);
}

} // namespace

void ConnectionTotals::finish()
{
    byState.clear();
    byReason.clear();
    byRole.clear();
    for (auto it = m_states.cbegin(); it != m_states.cend(); ++it)
        byState[tcpStateName(TcpState(it.key()))] += it.value();
    for (auto it = m_reasons.cbegin(); it != m_reasons.cend(); ++it)
        byReason[closeReasonName(CloseReason(it.key()))] += it.value();
    for (auto it = m_roles.cbegin(); it != m_roles.cend(); ++it)
        byRole[connectionRoleName(ConnectionRole(it.key()))] += it.value();

    wire = packets;
    localPairs = 0;
    auto byId = [](const auto &l, const auto &r) { return l.first < r.first; };
    if (!std::is_sorted(m_views.begin(), m_views.end(), byId))
        std::sort(m_views.begin(), m_views.end(), byId);
    auto view = [&](qint64 id) -> const View * {
        const auto it = std::lower_bound(
            m_views.cbegin(), m_views.cend(), id,
            [](const std::pair<qint64, View> &v, qint64 key) { return v.first < key; });
        return it != m_views.cend() && it->first == id ? &it->second : nullptr;
    };
    const QHash<qint64, qint64> pairs = m_pairer.pairs();
    for (auto it = pairs.cbegin(); it != pairs.cend(); ++it) {
        if (it.key() > it.value())
            continue; // each pair once
        const View *a = view(it.key());
        const View *b = view(it.value());
        if (!a || !b)
            continue; // only when both ends are in these totals
        // The end not counted: the server when the other is the client, else the higher id.
        const bool dropA = b->role == ConnectionRole::Client && a->role != ConnectionRole::Client;
        accumulate(wire, dropA ? a->counts : b->counts, -1);
        ++localPairs;
    }
}

void ConnectionTotals::add(const Connection &c)
{
    m_pairer.add(c);
    ++count;
    ++m_states[int(c.state)];
    ++m_reasons[int(c.closeReason)];
    ++m_roles[int(c.role)];
    ++byHost[c.hostId];
    open += c.isOpen() ? 1 : 0;
    if (c.startNs > 0 && (firstNs == 0 || c.startNs < firstNs))
        firstNs = c.startNs;
    lastNs = std::max({lastNs, c.startNs, c.endNs});

    const PacketCounts &k = c.packets;
    if (k.packetsIn + k.packetsOut > 0) {
        ++withPackets;
        accumulate(packets, k, 1);
        m_views.emplace_back(c.id, View{c.role, k});
    }
    joinedSamples += c.kernel.samples;
    sampled += c.kernel.samples > 0 ? 1 : 0;
    if (c.role == ConnectionRole::Listener && (c.kernel.listenDrops || c.kernel.backlogMax))
        listeners.append(c);

    // The connections the kernel resent most for (where to look first): a bounded top 5.
    auto resent = [](const Connection &x) {
        return quint64(x.kernel.retransmits) + x.kernel.synAckRetransmits;
    };
    if (resent(c) == 0)
        return;
    auto before = [&](const Connection &a, const Connection &b) {
        return resent(a) != resent(b) ? resent(a) > resent(b) : a.id < b.id;
    };
    if (topRetransmits.size() == 5 && !before(c, topRetransmits.constLast()))
        return;
    topRetransmits.insert(std::upper_bound(topRetransmits.begin(), topRetransmits.end(), c, before),
                          c);
    if (topRetransmits.size() > 5)
        topRetransmits.removeLast();
}

void kernelLines(const SessionInfo &info, const ConnectionTotals &totals, const KernelData &kernel,
                 const LineFn &line)
{
    if (!info.kernelMetrics) {
        line("Kernel metrics:", QStringLiteral("not captured (--no-tcpinfo, tcpinfo unavailable "
                                               "(see Probes), or a file from before kernel "
                                               "metrics)"));
        return;
    }
    line("Kernel samples:",
         QStringLiteral("%1 received, %2 joined to %3 connections; interval %4")
             .arg(info.samplesReceived)
             .arg(totals.joinedSamples)
             .arg(totals.sampled)
             .arg(info.sampleIntervalUs == 0
                      ? QStringLiteral("0 (every sample)")
                      : QStringLiteral("%1 us per connection").arg(info.sampleIntervalUs)));

    const EventTotals t = totalsOf(kernel.events);
    line("Kernel events:", QStringLiteral("%1 received, %2 in the file, %3 joined to connections")
                               .arg(info.kernelEventsReceived)
                               .arg(kernel.events.size())
                               .arg(t.joined));
    QString retrans = QStringLiteral("%1 segments resent by the kernel (SYN %2), SYN-ACK %3")
                          .arg(t.retransSegs)
                          .arg(t.synRetrans)
                          .arg(t.synAckRetrans);
    if (t.failedRetrans > 0)
        retrans += QStringLiteral(", %1 resends failed").arg(t.failedRetrans);
    line("Retransmits:", retrans);
    QString resets = QStringLiteral("sent %1, received %2").arg(t.resetsSent).arg(t.resetsReceived);
    if (!t.resetReasons.isEmpty()) {
        QStringList reasons;
        for (auto it = t.resetReasons.cbegin(); it != t.resetReasons.cend(); ++it)
            reasons << QStringLiteral("%1 %2").arg(it.key()).arg(it.value());
        resets += QStringLiteral(" (sent by reason: %1)").arg(reasons.join(QStringLiteral(", ")));
    }
    line("Resets:", resets);
    line("Congestion:", QStringLiteral("%1 state changes").arg(t.congestionChanges));

    int joinedDrops = 0;
    const QString byReason = dropsByReason(kernel.drops, &joinedDrops);
    line("Drops:", QStringLiteral("%1 received, %2 in the file, %3 joined to connections")
                       .arg(info.dropsReceived)
                       .arg(kernel.drops.size())
                       .arg(joinedDrops));
    line("  by reason:", byReason);

    QStringList listeners;
    for (const Connection &c : totals.listeners)
        listeners << QStringLiteral("#%1 %2 %3: %4 dropped, accept queue up to %5")
                         .arg(c.id)
                         .arg(escapeControls(c.comm))
                         .arg(endpointText(c.localAddr, c.localPort))
                         .arg(c.kernel.listenDrops)
                         .arg(c.kernel.backlogMax);
    if (!listeners.isEmpty())
        line("Listeners:", listeners.join(QStringLiteral("\n                 ")));

    QStringList rows;
    for (const Connection &c : totals.topRetransmits) {
        rows << QStringLiteral("#%1 %2 (%3) %4 > %5: %6 (SYN %7, SYN-ACK %8), srtt max %9 us")
                    .arg(c.id)
                    .arg(c.comm.isEmpty() ? QStringLiteral("?") : escapeControls(c.comm))
                    .arg(c.pid)
                    .arg(endpointText(c.localAddr, c.localPort),
                         endpointText(c.remoteAddr, c.remotePort))
                    .arg(c.kernel.retransmits)
                    .arg(c.kernel.synRetransmits)
                    .arg(c.kernel.synAckRetransmits)
                    .arg(c.kernel.srttUsMax);
    }
    if (!rows.isEmpty())
        line("Top retransmits:", rows.join(QStringLiteral("\n                 ")));
}

} // namespace tcpscope::cli
