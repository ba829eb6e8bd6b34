// SPDX-License-Identifier: GPL-3.0-or-later
// The kernel's per-connection data (tcp_probe samples, retransmit/reset/congestion events,
// drops) of the session the window shows, indexed by connection id so the detail view finds
// one connection's series without scanning everything. Fed by a file (setData) or by the live
// capture's kernelDataAdded batches (append). Unjoined events/drops (connection id 0) are kept
// too: they belong to the session, not to a connection. Live capture is bounded by a cap on
// samples, like the packet store, so a long capture cannot exhaust memory.
#pragma once

#include "model/kernel.h"

#include <QHash>
#include <QObject>

namespace tcpscope {

// One connection's kernel data, each vector in time order.
struct ConnectionKernelData
{
    QVector<TcpSample> samples;
    QVector<KernelEvent> events;
    QVector<DropEvent> drops;
    bool isEmpty() const { return samples.isEmpty() && events.isEmpty() && drops.isEmpty(); }
};

class KernelStore : public QObject
{
    Q_OBJECT
public:
    // ~170 bytes per sample: 3M samples stay near 0.5 GiB.
    static constexpr int kDefaultSampleCap = 3'000'000;

    explicit KernelStore(QObject *parent = nullptr);

    void clear();
    void setData(const KernelData &data); // a file was opened (not capped)
    void append(const KernelData &batch); // live batch; samples past the cap are counted only

    void setSampleCap(int cap) { m_sampleCap = cap; }
    quint64 droppedSamples() const { return m_droppedSamples; }

    // Empty when the connection has none (a reference to a shared empty value).
    const ConnectionKernelData &of(qint64 connectionId) const;
    bool hasSamples(qint64 connectionId) const { return !of(connectionId).samples.isEmpty(); }
    int sampleCount() const { return m_sampleCount; }
    int eventCount() const { return m_eventCount; }
    int dropCount() const { return m_dropCount; }
    const QVector<ListenerSample> &listenerSamples() const { return m_listeners; }

signals:
    void reset();
    // New data arrived for these connections (live).
    void changed(const QSet<qint64> &connectionIds);

private:
    void add(const KernelData &data, QSet<qint64> *touched);

    QHash<qint64, ConnectionKernelData> m_byConnection;
    QVector<ListenerSample> m_listeners;
    int m_sampleCount = 0;
    int m_eventCount = 0;
    int m_dropCount = 0;
    int m_sampleCap = kDefaultSampleCap;
    quint64 m_droppedSamples = 0;
};

} // namespace tcpscope
