// SPDX-License-Identifier: GPL-3.0-or-later
#include "analysis/overview.h"

#include "model/address.h"

#include "analysis/connection_figures.h"

#include <QHash>

#include <algorithm>
#include <cmath>

namespace tcpscope {

namespace {

void sortUnique(QVector<qint64> &ids)
{
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
}

void finishBars(QVector<OverviewBar> &bars)
{
    for (OverviewBar &bar : bars)
        sortUnique(bar.ids);
}

// A 1-2-5 number: mantissa index 0..2 (1, 2, 5) times 10^exp. Division for negative exponents
// so 0.2 is exactly the literal 0.2 and values on an edge land in the bin that starts there.
double niceValue(int mant, int exp)
{
    static const double kMant[3] = {1, 2, 5};
    return exp >= 0 ? kMant[mant] * std::pow(10.0, exp) : kMant[mant] / std::pow(10.0, -exp);
}

// Edges 1-2-5 from the largest one <= lo up to the first one > hi.
QVector<double> niceEdges(double lo, double hi)
{
    int exp = int(std::floor(std::log10(lo)));
    int mant = 0;
    for (int m = 2; m >= 0; --m) {
        if (niceValue(m, exp) <= lo) {
            mant = m;
            break;
        }
    }
    if (niceValue(mant, exp) > lo) { // log10 rounding put us one decade too high
        --exp;
        mant = 2;
    }
    QVector<double> edges{niceValue(mant, exp)};
    while (edges.constLast() <= hi && edges.size() < 64) {
        if (++mant == 3) {
            mant = 0;
            ++exp;
        }
        edges.append(niceValue(mant, exp));
    }
    return edges;
}

struct Valued
{
    double ms;
    qint64 id;
};

// The srtt of every sample with one, without copying them.
struct SampleRtts
{
    const QVector<std::span<const TcpSample>> *chunks;
    double lo, hi;
    template <typename F> void forEach(F f) const
    {
        for (const auto &chunk : *chunks)
            for (const TcpSample &s : chunk)
                if (s.srttUs > 0)
                    f(s.srttUs / 1000.0, s.connectionId);
    }
    bool empty() const { return hi <= 0; }
};

struct ValuedList
{
    const QVector<Valued> *values;
    double lo = 0, hi = 0;
    explicit ValuedList(const QVector<Valued> &v) : values(&v)
    {
        if (!v.isEmpty())
            lo = hi = v.first().ms;
        for (const Valued &x : v) {
            lo = std::min(lo, x.ms);
            hi = std::max(hi, x.ms);
        }
    }
    template <typename F> void forEach(F f) const
    {
        for (const Valued &v : *values)
            f(v.ms, v.id);
    }
    bool empty() const { return values->isEmpty(); }
};

template <typename Source>
OverviewHistogram histogramOfSource(const Source &source, const QString &unit)
{
    OverviewHistogram h;
    h.unit = unit;
    if (source.empty())
        return h;
    constexpr double kFloorMs = 0.001; // 1 µs: zero latencies go into the lowest bin
    h.edges = niceEdges(std::max(source.lo, kFloorMs), std::max(source.hi, kFloorMs));
    h.bins.resize(h.edges.size() - 1);
    QVector<qint64> lastId(h.bins.size(), -1);
    source.forEach([&](double ms, qint64 id) {
        const double x = std::max(ms, kFloorMs);
        int bin = int(std::upper_bound(h.edges.cbegin(), h.edges.cend(), x) - h.edges.cbegin()) - 1;
        bin = std::clamp(bin, 0, int(h.bins.size()) - 1);
        h.bins[bin].value += 1;
        if (id != 0 && lastId[bin] != id) { // samples come in runs per connection
            h.bins[bin].ids.append(id);
            lastId[bin] = id;
        }
    });
    for (int i = 0; i < h.bins.size(); ++i)
        h.bins[i].label = overviewRangeLabel(h.edges[i], h.edges[i + 1]);
    finishBars(h.bins);
    return h;
}

OverviewHistogram histogramOf(const QVector<Valued> &values, const QString &unit)
{
    return histogramOfSource(ValuedList(values), unit);
}

OverviewHistogram histogramOf(const SampleRtts &samples, const QString &unit)
{
    return histogramOfSource(samples, unit);
}

// Aggregates values per key and returns the top n by value (desc), ties by label (asc).
class Ranking
{
public:
    void add(const QString &key, double value, qint64 id)
    {
        auto it = m_index.constFind(key);
        int row;
        if (it == m_index.constEnd()) {
            row = int(m_rows.size());
            m_index.insert(key, row);
            m_rows.append(OverviewBar{key, 0, {}});
        } else {
            row = *it;
        }
        m_rows[row].value += value;
        if (id != 0)
            m_rows[row].ids.append(id);
    }
    QVector<OverviewBar> top(int n) const
    {
        QVector<OverviewBar> rows;
        for (const OverviewBar &r : m_rows)
            if (r.value > 0)
                rows.append(r);
        std::sort(rows.begin(), rows.end(), [](const OverviewBar &a, const OverviewBar &b) {
            return a.value != b.value ? a.value > b.value : a.label < b.label;
        });
        if (n >= 0 && rows.size() > n)
            rows.resize(n);
        finishBars(rows);
        return rows;
    }

private:
    QHash<QString, int> m_index;
    QVector<OverviewBar> m_rows;
};

QString remoteLabel(const Connection &c)
{
    if (c.role == ConnectionRole::Server) // the peer's port is ephemeral: group by host
        return c.remoteAddr.toString();
    return endpointText(c.remoteAddr, c.remotePort);
}

} // namespace

double OverviewHistogram::total() const
{
    double sum = 0;
    for (const OverviewBar &b : bins)
        sum += b.value;
    return sum;
}

OverviewInput OverviewInput::of(const QVector<Connection> &connections, const KernelData &kernel,
                                qint64 originNs, qint64 endNs, bool kernelMetrics)
{
    OverviewInput in;
    in.connections =
        std::span<const Connection>(connections.constData(), size_t(connections.size()));
    in.samples.append(
        std::span<const TcpSample>(kernel.samples.constData(), size_t(kernel.samples.size())));
    in.events.append(
        std::span<const KernelEvent>(kernel.events.constData(), size_t(kernel.events.size())));
    in.drops.append(
        std::span<const DropEvent>(kernel.drops.constData(), size_t(kernel.drops.size())));
    in.originNs = originNs;
    in.endNs = endNs;
    in.kernelMetrics = kernelMetrics;
    return in;
}

double overviewBinSeconds(double sessionSeconds, int maxBins)
{
    static const double kSteps[] = {1,   2,   5,    10,   15,   30,    60,    120,  300,
                                    600, 900, 1800, 3600, 7200, 21600, 43200, 86400};
    maxBins = std::max(1, maxBins);
    for (double step : kSteps)
        if (std::ceil(sessionSeconds / step) <= maxBins)
            return step;
    return std::ceil(sessionSeconds / maxBins / 86400) * 86400;
}

QString overviewRangeLabel(double fromMs, double toMs)
{
    auto num = [](double v) { return QString::number(v, 'g', 6); };
    if (fromMs >= 1000)
        return QStringLiteral("%1–%2 s").arg(num(fromMs / 1000), num(toMs / 1000));
    if (toMs <= 1)
        return QStringLiteral("%1–%2 µs").arg(num(fromMs * 1000), num(toMs * 1000));
    return QStringLiteral("%1–%2 ms").arg(num(fromMs), num(toMs));
}

QString overviewBytesText(double bytes)
{
    static const char *kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB"};
    int unit = 0;
    while (bytes >= 1000 && unit < 5) {
        bytes /= 1000;
        ++unit;
    }
    return unit == 0 ? QStringLiteral("%1 B").arg(qint64(bytes))
                     : QStringLiteral("%1 %2").arg(QString::number(bytes, 'f', bytes < 10 ? 1 : 0),
                                                   QLatin1String(kUnits[unit]));
}

QVector<qint64> Overview::activeIds(int firstBin, int lastBin) const
{
    QVector<qint64> ids;
    for (const Span &s : spans)
        if (s.firstBin <= lastBin && s.lastBin >= firstBin)
            ids.append(s.id);
    sortUnique(ids);
    return ids;
}

Overview computeOverview(const OverviewInput &in, const OverviewOptions &options)
{
    Overview ov;
    ov.kernelMetrics = in.kernelMetrics;

    // Time axis: the capture's own, else what the data spans.
    qint64 origin = in.originNs, end = in.endNs;
    if (origin <= 0 || end <= 0) {
        qint64 first = 0, last = 0;
        for (const Connection &c : in.connections) {
            if (c.startNs > 0 && (first == 0 || c.startNs < first))
                first = c.startNs;
            last = std::max({last, c.startNs, c.endNs});
        }
        for (const auto &chunk : in.events)
            for (const KernelEvent &e : chunk)
                last = std::max(last, e.timeNs);
        for (const auto &chunk : in.drops)
            for (const DropEvent &d : chunk)
                last = std::max(last, d.timeNs);
        if (origin <= 0)
            origin = first;
        if (end <= 0)
            end = last;
    }
    end = std::max(end, origin);
    ov.originNs = origin;
    ov.endNs = end;
    const double seconds = double(end - origin) / 1e9;
    ov.binSeconds = overviewBinSeconds(seconds, options.maxTimeBins);
    ov.binCount = std::max(1, int(std::ceil(seconds / ov.binSeconds)));
    const int bins = ov.binCount;
    const double binNs = ov.binSeconds * 1e9;
    auto binOf = [&](qint64 t) {
        return std::clamp(int(std::floor(double(t - origin) / binNs)), 0, bins - 1);
    };

    ov.opened.resize(bins);
    ov.closed.resize(bins);
    ov.retransmits.resize(bins);
    ov.resetsSent.resize(bins);
    ov.resetsReceived.resize(bins);
    QVector<int> activeDiff(bins + 1, 0);

    // Connection id -> index into in.connections: a dense table when ids are the usual 1..n
    // (a million samples each look one up), a hash otherwise.
    qint64 maxId = 0;
    for (const Connection &c : in.connections)
        maxId = std::max(maxId, c.id);
    const bool dense = maxId <= 4 * qint64(in.connections.size()) + 1024;
    QVector<int> denseIndex(dense ? maxId + 1 : 0, -1);
    QHash<qint64, int> indexOf;
    for (size_t i = 0; i < in.connections.size(); ++i) {
        const qint64 id = in.connections[i].id;
        if (dense && id >= 0)
            denseIndex[id] = int(i);
        else
            indexOf.insert(id, int(i));
    }
    auto lookup = [&](qint64 id) {
        if (dense)
            return id >= 0 && id < denseIndex.size() ? denseIndex[id] : -1;
        return indexOf.value(id, -1);
    };

    // Per connection: bytes from the last samples, retransmitted segments from events.
    QVector<quint64> sampleBytes(qsizetype(in.connections.size()), 0);
    QVector<quint64> eventRetrans(qsizetype(in.connections.size()), 0);

    // Samples: one pass for the RTT range and bytes, one to bin (no copy of a million values).
    quint32 rttLo = 0, rttHi = 0;
    for (const auto &chunk : in.samples) {
        for (const TcpSample &s : chunk) {
            ++ov.sampleCount;
            if (s.srttUs > 0) {
                rttLo = rttLo == 0 ? s.srttUs : std::min(rttLo, s.srttUs);
                rttHi = std::max(rttHi, s.srttUs);
            }
            const int idx = s.connectionId != 0 ? lookup(s.connectionId) : -1;
            if (idx >= 0)
                sampleBytes[idx] = std::max(sampleBytes[idx], s.bytesAcked + s.bytesReceived);
        }
    }
    ov.rttFromSamples = rttHi > 0;
    if (in.samples.isEmpty()) {
        // No samples handed over: count them from the per-second aggregates, or from the
        // connection summaries (files without aggregates), whichever knows more.
        quint64 aggregated = 0, summarised = 0;
        for (const SecondBucket &b : in.seconds)
            aggregated += b.samples;
        for (const Connection &c : in.connections)
            summarised += c.kernel.samples;
        ov.sampleCount = std::max(aggregated, summarised);
    }

    for (const auto &chunk : in.events) {
        for (const KernelEvent &e : chunk) {
            const int bin = binOf(e.timeNs);
            OverviewBar *bar = nullptr;
            double value = 1;
            switch (e.kind) {
            case KernelEventKind::Retransmit:
            case KernelEventKind::SynAckRetransmit:
                if (e.kind == KernelEventKind::Retransmit && e.err != 0)
                    continue; // the kernel failed to send: nothing went on the wire
                value = std::max<double>(1, e.segs);
                bar = &ov.retransmits[bin];
                ov.retransmitTotal += quint64(value);
                if (e.connectionId != 0) {
                    const int idx = lookup(e.connectionId);
                    if (idx >= 0)
                        eventRetrans[idx] += quint64(value);
                }
                break;
            case KernelEventKind::ResetSent:
                bar = &ov.resetsSent[bin];
                break;
            case KernelEventKind::ResetReceived:
                bar = &ov.resetsReceived[bin];
                break;
            case KernelEventKind::CongestionState:
                continue;
            }
            bar->value += value;
            if (e.connectionId != 0 &&
                (bar->ids.isEmpty() || bar->ids.constLast() != e.connectionId))
                bar->ids.append(e.connectionId);
        }
    }

    Ranking drops;
    for (const auto &chunk : in.drops) {
        for (const DropEvent &d : chunk) {
            ++ov.dropTotal;
            drops.add(d.reasonName.isEmpty() ? QStringLiteral("reason %1").arg(d.reason)
                                             : d.reasonName,
                      1, d.connectionId);
        }
    }
    ov.dropsByReason = drops.top(-1);

    Ranking procBytes, procRetrans, remoteBytes, remoteRetrans;
    QVector<Valued> handshakes, closeRtts;
    for (size_t i = 0; i < in.connections.size(); ++i) {
        const Connection &c = in.connections[i];
        if (c.role == ConnectionRole::Listener)
            continue;
        ++ov.connectionCount;
        auto count = [&](QVector<OverviewBar> &series, qint64 t) {
            OverviewBar &bar = series[binOf(t)];
            bar.value += 1;
            bar.ids.append(c.id);
        };
        if (c.startNs > 0 && c.startNs >= origin) // predating connections were not opened here
            count(ov.opened, c.startNs);
        if (c.endNs > 0)
            count(ov.closed, c.endNs);
        if (c.startNs > 0 && (c.endNs == 0 || c.endNs >= origin)) {
            const Overview::Span span{c.id, binOf(std::max(c.startNs, origin)),
                                      c.endNs > 0 ? binOf(c.endNs) : bins - 1};
            ov.spans.append(span);
            activeDiff[span.firstBin] += 1;
            activeDiff[span.lastBin + 1] -= 1;
        }
        if (c.handshakeNs >= 0)
            handshakes.append(Valued{c.handshakeNs / 1e6, c.id});
        if (const quint32 rtt = connectionRttUs(c); rtt > 0)
            closeRtts.append(Valued{rtt / 1000.0, c.id});

        const double bytes = double(
            std::max(connectionBytesOut(c) + connectionBytesIn(c), sampleBytes[qsizetype(i)]));
        const double retrans =
            double(std::max(connectionRetransmits(c), eventRetrans[qsizetype(i)]));
        const QString comm = c.comm.isEmpty() ? QStringLiteral("(unknown)") : c.comm;
        procBytes.add(comm, bytes, bytes > 0 ? c.id : 0);
        procRetrans.add(comm, retrans, retrans > 0 ? c.id : 0);
        if (!c.remoteAddr.isNull()) {
            const QString remote = remoteLabel(c);
            remoteBytes.add(remote, bytes, bytes > 0 ? c.id : 0);
            remoteRetrans.add(remote, retrans, retrans > 0 ? c.id : 0);
        }
    }
    ov.active.resize(bins);
    int running = 0;
    for (int b = 0; b < bins; ++b) {
        running += activeDiff[b];
        ov.active[b] = running;
    }
    ov.handshake = histogramOf(handshakes, QStringLiteral("connections"));
    if (ov.rttFromSamples) {
        SampleRtts rtts{&in.samples, rttLo / 1000.0, rttHi / 1000.0};
        ov.rtt = histogramOf(rtts, QStringLiteral("samples"));
    } else {
        ov.rtt = histogramOf(closeRtts, QStringLiteral("connections"));
    }
    ov.topProcessesByBytes = procBytes.top(options.topN);
    ov.topProcessesByRetransmits = procRetrans.top(options.topN);
    ov.topRemotesByBytes = remoteBytes.top(options.topN);
    ov.topRemotesByRetransmits = remoteRetrans.top(options.topN);
    for (auto *series :
         {&ov.opened, &ov.closed, &ov.retransmits, &ov.resetsSent, &ov.resetsReceived})
        finishBars(*series);
    return ov;
}

Overview computeOverview(const Session &session, const OverviewOptions &options)
{
    const QVector<Connection> connections = session.allConnections(false);
    const KernelData events = session.kernelEvents();
    const SessionInfo info = session.info();
    // The capture's own time axis; 0 lets computeOverview take it from the data.
    OverviewInput in = OverviewInput::of(connections, events, info.startedNs, info.stoppedNs,
                                         info.kernelMetrics || !events.isEmpty());
    in.samples.clear();
    in.seconds = session.seconds();
    return computeOverview(in, options);
}

} // namespace tcpscope
