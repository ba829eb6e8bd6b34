// SPDX-License-Identifier: GPL-3.0-or-later
// The two ends of connections and what each received of the other's packets
// (analysis/peer_transit.h), computed on a worker thread (SessionJob: its own Session handle):
// the pairs of the whole session, then the matching for the connections asked for. The packet
// list uses the marks (One-way delay column, packet details), the Kernel metrics header the
// per-direction delays and losses.
#pragma once

#include "analysis/peer_transit.h"
#include "models/session_job.h"

#include <QHash>
#include <QObject>
#include <QVector>

#include <memory>

namespace tcpscope {

struct PeerTransitResult
{
    QHash<qint64, qint64> peers;          // every pair of the session, both ways
    QHash<qint64, PeerTransit> transits;  // by connection id asked for that has a peer (no marks)
    QHash<qint64, PeerTransitMark> marks; // by packet id: packets of those connections and peers
    bool tooLarge = false;                // the whole session was asked for and is too large
    QString error;                        // the session could not be read
};

class PeerTransitJob : public QObject
{
    Q_OBJECT
public:
    // Asking for every connection (an empty list) matches every pair only in sessions of at
    // most this many packets (the marks are kept in memory: ~60 bytes a packet).
    static constexpr qint64 kMaxAllPackets = 1'000'000;

    explicit PeerTransitJob(QObject *parent = nullptr);

    // Replaces a run in flight. connections empty: every pair of the session.
    void start(const QString &sessionPath, const QVector<qint64> &connections);
    void cancel() { m_job->cancel(); }
    bool isRunning() const { return m_job->isRunning(); }

signals:
    void finished(std::shared_ptr<const PeerTransitResult> result);

private:
    SessionJob *m_job;
};

} // namespace tcpscope
