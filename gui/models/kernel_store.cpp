// SPDX-License-Identifier: GPL-3.0-or-later
#include "models/kernel_store.h"

#include <QSet>

#include <algorithm>
#include <limits>

namespace tcpscope {

namespace {
// Live batches are each in time order, but two batches can interleave by a few records (the
// ring buffer is per CPU); keep every vector sorted so the charts can binary-search it.
template <typename T> void appendSorted(QVector<T> &into, const T &value)
{
    if (into.isEmpty() || into.constLast().timeNs <= value.timeNs) {
        into.append(value);
        return;
    }
    const auto pos = std::upper_bound(into.begin(), into.end(), value.timeNs,
                                      [](qint64 t, const T &v) { return t < v.timeNs; });
    into.insert(pos, value);
}
} // namespace

KernelStore::KernelStore(QObject *parent) : QObject(parent) {}

const ConnectionKernelData &KernelStore::of(qint64 connectionId) const
{
    static const ConnectionKernelData empty;
    const auto it = m_byConnection.constFind(connectionId);
    return it == m_byConnection.constEnd() ? empty : *it;
}

void KernelStore::clear()
{
    m_byConnection.clear();
    m_listeners.clear();
    m_sampleCount = m_eventCount = m_dropCount = 0;
    m_droppedSamples = 0;
    emit reset();
}

void KernelStore::setData(const KernelData &data)
{
    m_byConnection.clear();
    m_listeners.clear();
    m_sampleCount = m_eventCount = m_dropCount = 0;
    m_droppedSamples = 0;
    const int cap = m_sampleCap;
    m_sampleCap = std::numeric_limits<int>::max();
    add(data, nullptr);
    m_sampleCap = cap;
    emit reset();
}

void KernelStore::append(const KernelData &batch)
{
    QSet<qint64> touched;
    add(batch, &touched);
    if (!touched.isEmpty())
        emit changed(touched);
}

void KernelStore::add(const KernelData &data, QSet<qint64> *touched)
{
    for (const TcpSample &s : data.samples) {
        if (m_sampleCount >= m_sampleCap) {
            ++m_droppedSamples;
            continue;
        }
        appendSorted(m_byConnection[s.connectionId].samples, s);
        ++m_sampleCount;
        if (touched)
            touched->insert(s.connectionId);
    }
    for (const KernelEvent &e : data.events) {
        appendSorted(m_byConnection[e.connectionId].events, e);
        ++m_eventCount;
        if (touched)
            touched->insert(e.connectionId);
    }
    for (const DropEvent &d : data.drops) {
        appendSorted(m_byConnection[d.connectionId].drops, d);
        ++m_dropCount;
        if (touched)
            touched->insert(d.connectionId);
    }
    m_listeners += data.listeners;
}

} // namespace tcpscope
