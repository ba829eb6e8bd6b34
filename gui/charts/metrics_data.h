// SPDX-License-Identifier: GPL-3.0-or-later
// What the connection detail charts draw, computed once from a connection and its kernel data:
// the series (x = seconds since the session origin) and the markers (state changes,
// retransmits, resets, congestion-state changes, drops) with their tooltip text. No widgets
// here, so the numbers are testable on their own.
#pragma once

#include "model/connection.h"
#include "models/kernel_store.h"

#include <QString>
#include <QVector>

namespace tcpscope {

enum class MetricsChart : int
{
    Rtt = 0,
    Cwnd = 1,
    Windows = 2,
    Throughput = 3
};
constexpr int kMetricsChartCount = 4;
QString metricsChartName(MetricsChart chart);  // "rtt", "cwnd", "windows", "throughput"
QString metricsChartTitle(MetricsChart chart); // "RTT", "Congestion window", ...
bool metricsChartFromName(const QString &name, MetricsChart *chart);

struct MetricsSeries
{
    QVector<double> x; // seconds since origin
    QVector<double> y; // NaN = gap (e.g. ssthresh still infinite)
    bool isEmpty() const { return x.isEmpty(); }
    bool hasValue() const; // any y that is not NaN
};

enum class MetricsMarkerKind : int
{
    StateChange = 0,
    Retransmit,
    ResetSent,
    ResetReceived,
    CongestionState,
    Drop,
};
constexpr int kMetricsMarkerKindCount = 6;
QString metricsMarkerKindLabel(MetricsMarkerKind kind); // legend text

struct MetricsMarker
{
    double x = 0; // seconds since origin
    qint64 timeNs = 0;
    MetricsMarkerKind kind = MetricsMarkerKind::StateChange;
    QString text; // one line for the tooltip, e.g. "drop TCP_OLD_DATA (seq 1234, 0 B)"
};

struct ConnectionMetrics
{
    Connection connection;
    QVector<TcpSample> samples; // time order; the crosshair readout picks the nearest one
    QVector<double> sampleX;    // seconds since origin of each sample
    // RTT chart, µs
    MetricsSeries srtt, rttLow, rttHigh, minRtt;
    // cwnd chart, packets
    MetricsSeries cwnd, ssthresh, inFlight;
    // windows chart, bytes
    MetricsSeries sndWnd, rcvWnd;
    // throughput chart, bit/s
    MetricsSeries ackedRate, receivedRate, deliveryRate;
    QVector<MetricsMarker> markers; // time order

    bool hasSamples() const { return !samples.isEmpty(); }
    // Index of the sample nearest to x (seconds since origin), -1 when there is none.
    int nearestSample(double x) const;
};

// Throughput is measured between a sample and the earliest one at least this far back, so one
// late sample does not read as a spike.
constexpr qint64 kThroughputWindowNs = 100'000'000;

ConnectionMetrics buildConnectionMetrics(const Connection &connection,
                                         const ConnectionKernelData &data, qint64 originNs);

// "1234 curl 127.0.0.1:40001→127.0.0.1:8080" (pid omitted when unknown).
QString metricsConnectionLabel(const Connection &c);

// One value of the readout/axes, in a readable unit.
QString formatRttUs(double us);          // "85 µs", "12.3 ms"
QString formatBitsPerSecond(double bps); // "850 kbit/s", "1.25 Gbit/s"

} // namespace tcpscope
