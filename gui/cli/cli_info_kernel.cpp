// SPDX-License-Identifier: GPL-3.0-or-later
// `tcpscope info`: the kernel's view (issue 4) — samples and interval, retransmit and reset
// totals, drops by reason, listener overflows, the connections with the most retransmits.
#include "cli_info_kernel.h"

#include <QMap>
#include <algorithm>

extern "C" {
#include "tcpscope_records.h"
}

namespace tcpscope::cli {

namespace {

// "NO_SOCKET 3, TCP_CSUM 1": by count, then name; a value without a name shows as "reason N".
QString dropsByReason(const QVector<DropEvent> &drops, int *joined)
{
    QMap<QString, int> counts;
    *joined = 0;
    for (const DropEvent &d : drops) {
        const QString name =
            d.reasonName.isEmpty() ? QStringLiteral("reason %1").arg(d.reason) : d.reasonName;
        ++counts[name];
        *joined += d.connectionId != 0 ? 1 : 0;
    }
    QList<QPair<QString, int>> items;
    for (auto it = counts.cbegin(); it != counts.cend(); ++it)
        items.append({it.key(), it.value()});
    std::sort(items.begin(), items.end(), [](const auto &a, const auto &b) {
        return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    QStringList parts;
    for (const auto &[name, n] : items)
        parts << QStringLiteral("%1 %2").arg(name).arg(n);
    return parts.join(QStringLiteral(", "));
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
                ++t.resetReasons[e.reasonName];
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

QString endpoint(const QString &addr, quint16 port)
{
    return addr.contains(QLatin1Char(':')) ? QStringLiteral("[%1]:%2").arg(addr).arg(port)
                                           : QStringLiteral("%1:%2").arg(addr).arg(port);
}

} // namespace

void kernelLines(const SessionData &session,
                 const std::function<void(const char *, const QString &)> &line)
{
    const SessionInfo &info = session.info;
    if (!info.kernelMetrics) {
        line("Kernel metrics:", QStringLiteral("not captured (--no-tcpinfo, tcpinfo unavailable "
                                               "(see Probes), or a file from before kernel "
                                               "metrics)"));
        return;
    }
    quint64 joinedSamples = 0;
    int sampled = 0;
    for (const Connection &c : session.connections) {
        joinedSamples += c.kernel.samples;
        sampled += c.kernel.samples > 0 ? 1 : 0;
    }
    line("Kernel samples:",
         QStringLiteral("%1 received, %2 joined to %3 connections; interval %4")
             .arg(info.samplesReceived)
             .arg(joinedSamples)
             .arg(sampled)
             .arg(info.sampleIntervalUs == 0
                      ? QStringLiteral("0 (every sample)")
                      : QStringLiteral("%1 us per connection").arg(info.sampleIntervalUs)));

    const EventTotals t = totalsOf(session.kernel.events);
    line("Kernel events:", QStringLiteral("%1 received, %2 in the file, %3 joined to connections")
                               .arg(info.kernelEventsReceived)
                               .arg(session.kernel.events.size())
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
    const QString byReason = dropsByReason(session.kernel.drops, &joinedDrops);
    line("Drops:", QStringLiteral("%1 received, %2 in the file, %3 joined to connections")
                       .arg(info.dropsReceived)
                       .arg(session.kernel.drops.size())
                       .arg(joinedDrops));
    line("  by reason:", byReason.isEmpty() ? QStringLiteral("-") : byReason);

    QStringList listeners;
    for (const Connection &c : session.connections) {
        if (c.role == ConnectionRole::Listener && (c.kernel.listenDrops || c.kernel.backlogMax))
            listeners << QStringLiteral("#%1 %2 %3: %4 dropped, accept queue up to %5")
                             .arg(c.id)
                             .arg(c.comm)
                             .arg(endpoint(c.localAddr, c.localPort))
                             .arg(c.kernel.listenDrops)
                             .arg(c.kernel.backlogMax);
    }
    if (!listeners.isEmpty())
        line("Listeners:", listeners.join(QStringLiteral("\n                 ")));

    // The connections the kernel resent most for: where to look first.
    QVector<const Connection *> top;
    for (const Connection &c : session.connections) {
        if (c.kernel.retransmits + c.kernel.synAckRetransmits > 0)
            top.append(&c);
    }
    std::sort(top.begin(), top.end(), [](const Connection *a, const Connection *b) {
        const quint64 ra = quint64(a->kernel.retransmits) + a->kernel.synAckRetransmits;
        const quint64 rb = quint64(b->kernel.retransmits) + b->kernel.synAckRetransmits;
        return ra != rb ? ra > rb : a->id < b->id;
    });
    QStringList rows;
    for (qsizetype i = 0; i < std::min<qsizetype>(top.size(), 5); ++i) {
        const Connection &c = *top[i];
        rows << QStringLiteral("#%1 %2 (%3) %4 > %5: %6 (SYN %7, SYN-ACK %8), srtt max %9 us")
                    .arg(c.id)
                    .arg(c.comm.isEmpty() ? QStringLiteral("?") : c.comm)
                    .arg(c.pid)
                    .arg(endpoint(c.localAddr, c.localPort), endpoint(c.remoteAddr, c.remotePort))
                    .arg(c.kernel.retransmits)
                    .arg(c.kernel.synRetransmits)
                    .arg(c.kernel.synAckRetransmits)
                    .arg(c.kernel.srttUsMax);
    }
    if (!rows.isEmpty())
        line("Top retransmits:", rows.join(QStringLiteral("\n                 ")));
}

} // namespace tcpscope::cli
