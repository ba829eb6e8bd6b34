// SPDX-License-Identifier: GPL-3.0-or-later
// Whole-session overview (the dashboard and `--chart overview`): per-time-bin series
// (connections opened/closed, active, retransmitted segments, resets), log-binned histograms
// (handshake latency, RTT), drops by reason and top-N rankings of processes and remote
// endpoints. Every bar knows the connection ids behind it, so a click on it can filter the
// connection table. Pure computation over value types: no widgets, no I/O.
//
// A session's overview reads only its connection summaries, its events and drops and its
// per-second aggregates (computeOverview(const Session &)), never every packet or sample: the RTT
// distribution is then one value per connection. Kernel data is passed as spans (OverviewInput)
// so a caller that holds samples anyway can hand them over without copying; a file's
// KernelData is one span of each kind.
#pragma once

#include "model/connection.h"
#include "model/kernel.h"
#include "session/session.h"

#include <QString>
#include <QVector>

#include <span>

namespace tcpscope {

// One bar / point / row. ids: sorted, unique, 0 (unjoined records) never included.
struct OverviewBar
{
    QString label; // time-bin bars: "" (the key says when); others: what the bar is
    double value = 0;
    QVector<qint64> ids;
};

// Bins on a log scale: bins[i] counts values in [edges[i], edges[i+1]) (in ms).
struct OverviewHistogram
{
    QVector<double> edges; // bins.size() + 1 entries, 1-2-5 steps; empty when no data
    QVector<OverviewBar> bins;
    QString unit; // what a count counts: "connections" or "samples"
    double total() const;
};

struct OverviewOptions
{
    int maxTimeBins = 1200; // the bin width grows past 1 s (2, 5, 10, 30, 60 ... s) to stay below
    int topN = 10;
};

struct OverviewInput
{
    std::span<const Connection> connections;
    QVector<std::span<const TcpSample>> samples; // any number of chunks, any order
    QVector<std::span<const KernelEvent>> events;
    QVector<std::span<const DropEvent>> drops;
    // Per-second aggregates: without samples, the sample count comes from them (or from the
    // connections' kernel summaries when the file has none).
    QVector<SecondBucket> seconds;
    qint64 originNs = 0;        // time axis start (capture start); 0 = first connection
    qint64 endNs = 0;           // time axis end (capture stop / now); 0 = last thing seen
    bool kernelMetrics = false; // the session captured kernel data (else "not captured" texts)

    static OverviewInput of(const QVector<Connection> &connections, const KernelData &kernel,
                            qint64 originNs, qint64 endNs, bool kernelMetrics);
};

struct Overview
{
    qint64 originNs = 0;
    qint64 endNs = 0;
    double binSeconds = 1;            // width of a time bin
    int binCount = 0;                 // every time series below has binCount bars; bar i starts at
                                      // originNs + i * binSeconds
    QVector<OverviewBar> opened;      // connections whose first state change falls in the bin
    QVector<OverviewBar> closed;      // connections that reached CLOSE in the bin
    QVector<double> active;           // connections open at some time in the bin (ids: activeIds)
    QVector<OverviewBar> retransmits; // segments the kernel resent (incl. SYN-ACK resends)
    QVector<OverviewBar> resetsSent;  // kernel RST sent / received events
    QVector<OverviewBar> resetsReceived;
    OverviewHistogram handshake; // Connection::handshakeNs, per connection
    // srtt of kernel samples when given, else one value per connection: its srtt at close, or
    // the largest srtt the kernel sampled for it (connections still open, reset ones)
    OverviewHistogram rtt;
    bool rttFromSamples = false;
    QVector<OverviewBar> dropsByReason;       // count desc, then name
    QVector<OverviewBar> topProcessesByBytes; // label: comm; value: bytes sent+received
    QVector<OverviewBar> topProcessesByRetransmits;
    QVector<OverviewBar> topRemotesByBytes; // label: "addr:port" (clients), "addr" (servers)
    QVector<OverviewBar> topRemotesByRetransmits;
    bool kernelMetrics = false;
    int connectionCount = 0; // listeners excluded
    quint64 sampleCount = 0;
    quint64 retransmitTotal = 0;
    quint64 dropTotal = 0;

    double binStartSeconds(int bin) const { return bin * binSeconds; }
    // Connections (not listeners) open at some time in bin [first, last], sorted.
    QVector<qint64> activeIds(int firstBin, int lastBin) const;

    struct Span
    {
        qint64 id;
        int firstBin;
        int lastBin;
    };
    QVector<Span> spans; // behind activeIds(); one per non-listener connection
};

Overview computeOverview(const OverviewInput &input, const OverviewOptions &options = {});
// From a session's summaries, kernelEvents() and seconds(): no packet, no sample is read.
Overview computeOverview(const Session &session, const OverviewOptions &options = {});

// The overview's time-bin width for a session of this length: 1 s, or the smallest of 2, 5,
// 10, 15, 30, 60, 120, 300, 600, 1800, 3600 s ... that keeps the bins at or below maxBins.
double overviewBinSeconds(double sessionSeconds, int maxBins);
// "0.1–0.2 ms", "1–2 s", for histogram bin labels.
QString overviewRangeLabel(double fromMs, double toMs);
// "12.3 MB", "512 B" (decimal units: network byte counts).
QString overviewBytesText(double bytes);

} // namespace tcpscope
