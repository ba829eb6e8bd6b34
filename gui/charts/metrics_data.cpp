// SPDX-License-Identifier: GPL-3.0-or-later
#include "charts/metrics_data.h"

#include "tcpscope_records.h"
#include "util/format.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace tcpscope {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

QString tcpFlagsText(quint8 flags)
{
    QStringList names;
    const std::pair<quint8, const char *> all[] = {{TS_TCP_SYN, "SYN"},
                                                   {TS_TCP_ACK, "ACK"},
                                                   {TS_TCP_FIN, "FIN"},
                                                   {TS_TCP_RST, "RST"},
                                                   {TS_TCP_PSH, "PSH"}};
    for (const auto &[bit, name] : all)
        if (flags & bit)
            names << QString::fromLatin1(name);
    return names.isEmpty() ? QStringLiteral("no flags") : names.join(QLatin1Char('+'));
}

QString eventText(const KernelEvent &e)
{
    switch (e.kind) {
    case KernelEventKind::Retransmit: {
        QString t = QStringLiteral("retransmit seq %1, %2 segment%3")
                        .arg(e.seq)
                        .arg(e.segs)
                        .arg(e.segs == 1 ? "" : "s");
        if (e.tcpFlags & (TS_TCP_SYN | TS_TCP_FIN))
            t += QStringLiteral(" (%1)").arg(tcpFlagsText(e.tcpFlags));
        if (e.err != 0)
            t += QStringLiteral(", not sent: error %1").arg(e.err);
        return t;
    }
    case KernelEventKind::SynAckRetransmit:
        return QStringLiteral("SYN-ACK retransmit");
    case KernelEventKind::ResetSent:
        return e.reasonName.isEmpty() ? QStringLiteral("RST sent")
                                      : QStringLiteral("RST sent, reason %1").arg(e.reasonName);
    case KernelEventKind::ResetReceived:
        return QStringLiteral("RST received%1")
            .arg(e.state ? QStringLiteral(" in %1").arg(tcpStateName(TcpState(e.state)))
                         : QString());
    case KernelEventKind::CongestionState:
        return QStringLiteral("congestion state %1 → %2")
            .arg(caStateName(e.oldCaState), caStateName(e.newCaState));
    }
    return {};
}

MetricsMarkerKind markerKindOf(KernelEventKind kind)
{
    switch (kind) {
    case KernelEventKind::Retransmit:
    case KernelEventKind::SynAckRetransmit:
        return MetricsMarkerKind::Retransmit;
    case KernelEventKind::ResetSent:
        return MetricsMarkerKind::ResetSent;
    case KernelEventKind::ResetReceived:
        return MetricsMarkerKind::ResetReceived;
    case KernelEventKind::CongestionState:
        return MetricsMarkerKind::CongestionState;
    }
    return MetricsMarkerKind::Retransmit;
}

// bit/s between samples i and the earliest sample at least kThroughputWindowNs before it.
void addRates(const QVector<TcpSample> &s, const QVector<double> &xs, MetricsSeries *acked,
              MetricsSeries *received)
{
    int j = 0;
    bool anyReceived = false;
    for (int i = 1; i < s.size(); ++i) {
        if (!(s[i].fields & TS_SAMPLE_BYTES))
            continue;
        while (j + 1 < i && s[i].timeNs - s[j + 1].timeNs >= kThroughputWindowNs)
            ++j;
        const qint64 dt = s[i].timeNs - s[j].timeNs;
        if (dt <= 0 || !(s[j].fields & TS_SAMPLE_BYTES))
            continue;
        const double secs = dt / 1e9;
        const double a =
            s[i].bytesAcked >= s[j].bytesAcked ? double(s[i].bytesAcked - s[j].bytesAcked) : 0.0;
        const double r = s[i].bytesReceived >= s[j].bytesReceived
                             ? double(s[i].bytesReceived - s[j].bytesReceived)
                             : 0.0;
        acked->x.append(xs[i]);
        acked->y.append(a * 8 / secs);
        received->x.append(xs[i]);
        received->y.append(r * 8 / secs);
        anyReceived = anyReceived || r > 0;
    }
    if (!anyReceived)
        *received = {}; // a sender: the received rate is all zeros, not worth a line
}
} // namespace

QString metricsChartName(MetricsChart chart)
{
    switch (chart) {
    case MetricsChart::Rtt:
        return QStringLiteral("rtt");
    case MetricsChart::Cwnd:
        return QStringLiteral("cwnd");
    case MetricsChart::Windows:
        return QStringLiteral("windows");
    case MetricsChart::Throughput:
        return QStringLiteral("throughput");
    }
    return {};
}

QString metricsChartTitle(MetricsChart chart)
{
    switch (chart) {
    case MetricsChart::Rtt:
        return QStringLiteral("RTT");
    case MetricsChart::Cwnd:
        return QStringLiteral("Congestion window");
    case MetricsChart::Windows:
        return QStringLiteral("Send/receive window");
    case MetricsChart::Throughput:
        return QStringLiteral("Throughput");
    }
    return {};
}

bool metricsChartFromName(const QString &name, MetricsChart *chart)
{
    for (int i = 0; i < kMetricsChartCount; ++i) {
        if (metricsChartName(MetricsChart(i)) == name) {
            *chart = MetricsChart(i);
            return true;
        }
    }
    return false;
}

QString metricsMarkerKindLabel(MetricsMarkerKind kind)
{
    switch (kind) {
    case MetricsMarkerKind::StateChange:
        return QStringLiteral("state change");
    case MetricsMarkerKind::Retransmit:
        return QStringLiteral("retransmit");
    case MetricsMarkerKind::ResetSent:
        return QStringLiteral("RST sent");
    case MetricsMarkerKind::ResetReceived:
        return QStringLiteral("RST received");
    case MetricsMarkerKind::CongestionState:
        return QStringLiteral("congestion state");
    case MetricsMarkerKind::Drop:
        return QStringLiteral("kernel drop");
    }
    return {};
}

bool MetricsSeries::hasValue() const
{
    return std::any_of(y.cbegin(), y.cend(), [](double v) { return !std::isnan(v); });
}

int ConnectionMetrics::nearestSample(double x) const
{
    if (sampleX.isEmpty())
        return -1;
    const auto it = std::lower_bound(sampleX.cbegin(), sampleX.cend(), x);
    if (it == sampleX.cend())
        return int(sampleX.size()) - 1;
    const int i = int(it - sampleX.cbegin());
    if (i > 0 && x - sampleX[i - 1] <= *it - x)
        return i - 1;
    return i;
}

QString metricsConnectionLabel(const Connection &c)
{
    const QString who = c.comm.isEmpty() ? QStringLiteral("?") : c.comm;
    const QString pid = c.pid ? QStringLiteral("%1 ").arg(c.pid) : QString();
    return QStringLiteral("%1%2 %3→%4")
        .arg(pid, who, endpointText(c.localAddr, c.localPort),
             endpointText(c.remoteAddr, c.remotePort));
}

QString formatRttUs(double us)
{
    if (std::isnan(us))
        return QStringLiteral("–");
    if (us < 1000)
        return QStringLiteral("%1 µs").arg(us, 0, 'f', 0);
    if (us < 10'000)
        return QStringLiteral("%1 ms").arg(us / 1000, 0, 'f', 2);
    if (us < 1'000'000)
        return QStringLiteral("%1 ms").arg(us / 1000, 0, 'f', 1);
    return QStringLiteral("%1 s").arg(us / 1e6, 0, 'f', 2);
}

QString formatBitsPerSecond(double bps)
{
    if (std::isnan(bps))
        return QStringLiteral("–");
    const char *units[] = {"bit/s", "kbit/s", "Mbit/s", "Gbit/s", "Tbit/s"};
    int u = 0;
    while (std::abs(bps) >= 1000 && u < 4) {
        bps /= 1000;
        ++u;
    }
    return QStringLiteral("%1 %2")
        .arg(bps, 0, 'f', u == 0 || bps >= 100 ? 0 : 1)
        .arg(QLatin1String(units[u]));
}

ConnectionMetrics buildConnectionMetrics(const Connection &connection,
                                         const ConnectionKernelData &data, qint64 originNs)
{
    ConnectionMetrics m;
    m.connection = connection;
    m.samples = data.samples;
    const auto toX = [originNs](qint64 t) { return (t - originNs) / 1e9; };
    m.sampleX.reserve(m.samples.size());
    for (const TcpSample &s : std::as_const(m.samples)) {
        const double x = toX(s.timeNs);
        m.sampleX.append(x);
        auto add = [x](MetricsSeries &series, double y) {
            series.x.append(x);
            series.y.append(y);
        };
        if (s.fields & TS_SAMPLE_RTT) {
            add(m.srtt, s.srttUs);
            add(m.rttLow, std::max(0.0, double(s.srttUs) - s.rttvarUs));
            add(m.rttHigh, double(s.srttUs) + s.rttvarUs);
        }
        if ((s.fields & TS_SAMPLE_MIN_RTT) && s.minRttUs)
            add(m.minRtt, s.minRttUs);
        if (s.fields & TS_SAMPLE_CWND) {
            add(m.cwnd, s.cwnd);
            // Infinite (initial slow start) has no height: a gap, not a line at 2^31.
            add(m.ssthresh,
                s.ssthresh == 0 || s.ssthresh >= TS_SSTHRESH_INFINITE ? kNaN : double(s.ssthresh));
        }
        if (s.fields & TS_SAMPLE_INFLIGHT)
            add(m.inFlight, s.inFlight);
        if (s.fields & TS_SAMPLE_WINDOWS) {
            add(m.sndWnd, s.sndWnd);
            add(m.rcvWnd, s.rcvWnd);
        }
        if ((s.fields & TS_SAMPLE_RATE) && s.deliveryRate)
            add(m.deliveryRate, double(s.deliveryRate) * 8);
    }
    addRates(m.samples, m.sampleX, &m.ackedRate, &m.receivedRate);

    for (const StateChange &sc : connection.history) {
        m.markers.append(
            {toX(sc.timeNs), sc.timeNs, MetricsMarkerKind::StateChange,
             QStringLiteral("%1 → %2").arg(tcpStateName(sc.from), tcpStateName(sc.to))});
    }
    for (const KernelEvent &e : data.events)
        m.markers.append({toX(e.timeNs), e.timeNs, markerKindOf(e.kind), eventText(e)});
    for (const DropEvent &d : data.drops) {
        const QString reason =
            d.reasonName.isEmpty() ? QStringLiteral("reason %1").arg(d.reason) : d.reasonName;
        m.markers.append(
            {toX(d.timeNs), d.timeNs, MetricsMarkerKind::Drop,
             QStringLiteral("drop %1: %2 %3→%4, seq %5, %6 B")
                 .arg(reason, tcpFlagsText(d.tcpFlags), endpointText(d.srcAddr, d.srcPort),
                      endpointText(d.dstAddr, d.dstPort))
                 .arg(d.seq)
                 .arg(d.payloadLen)});
    }
    std::stable_sort(
        m.markers.begin(), m.markers.end(),
        [](const MetricsMarker &a, const MetricsMarker &b) { return a.timeNs < b.timeNs; });
    return m;
}

} // namespace tcpscope
