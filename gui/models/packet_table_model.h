// SPDX-License-Identifier: GPL-3.0-or-later
// The packet list over a Session, restricted to the selected connections (all when none is
// selected). Unfiltered and in capture order, rows are read page by page (PacketPages), so the
// whole session's 9M packets scroll without being loaded. The quick filter ("problems only",
// words) and sorting by another column need the rows in memory: for up to kMemoryRows packets
// they are read at once; a larger list is filtered on a worker thread (its own Session) that
// keeps the first kMaxMatches matches, and is shown in capture order only (notice() says so).
// Live packets are appended as rows at the end.
//
// One-way delay: for connections whose other end is in the session (analysis/peers.h), each
// packet's delay to or from the other end, or "not received" for a segment lost in transit
// (analysis/peer_transit.h), computed on a worker thread (PeerTransitJob) for the listed
// connections and shown once ready.
#pragma once

#include "model/packet.h"
#include "models/packet_filter.h"
#include "models/packet_pages.h"
#include "models/packet_scan_job.h"
#include "models/peer_transit_job.h"

#include <QAbstractTableModel>
#include <QElapsedTimer>
#include <QStringList>
#include <QVector>

#include <memory>

namespace tcpscope {

class Session;

class PacketTableModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column
    {
        ColNo,
        ColTime,
        ColConnection,
        ColDirection,
        ColFlags,
        ColSeq,
        ColAck,
        ColWindow,
        ColLength,
        ColAnalysis,
        ColPeerDelay,
        ColumnCount
    };
    enum Role
    {
        PacketIdRole = Qt::UserRole + 1, // qint64 Packet::id
        SortRole,                        // raw value of the cell
    };
    static constexpr qint64 kMemoryRows = 200'000; // ~60 MB of packets at most
    static constexpr qint64 kMaxMatches = 200'000;

    explicit PacketTableModel(QObject *parent = nullptr);
    ~PacketTableModel() override; // cancels a scan in flight

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;
    void sort(int column, Qt::SortOrder order = Qt::AscendingOrder) override;

    void setSession(std::shared_ptr<const Session> session);
    // Live: the session grew; new packets of the shown connections are appended.
    void refresh();
    // Empty = every packet of the session.
    void setConnections(const QVector<qint64> &ids);
    QVector<qint64> connections() const { return m_connections; }
    void setOriginNs(qint64 originNs);
    // Only packets whose analysis is a problem (retransmissions, dup ACKs, zero window, ...).
    void setProblemsOnly(bool on);
    bool problemsOnly() const { return m_filter.problemsOnly; }
    // The filter box: a packet filter expression (tcp.analysis.retransmission, tcp.len > 0,
    // proc.name == "curl") or words (case-insensitive) that must all appear in a row's text,
    // e.g. "dup syn" (models/filter_text.h). An invalid expression lists nothing.
    void setFilterText(const QString &text);
    QString filterText() const { return m_filterText; }

    // The row's packet (a copy: pages come and go).
    Packet packetAt(int row) const;
    int rowOfPacket(qint64 packetId) const; // -1 when not shown
    // Packets the selection covers before the quick filter (for "N of M shown").
    qint64 unfilteredCount() const { return m_pages.count(); }
    // A filter scan runs on the worker.
    bool isScanning() const { return m_scan->isRunning(); }
    // The last scan stopped at kMaxMatches.
    bool truncated() const { return m_truncated; }

    // The One-way delay column: the other end of a connection (0 = none, or not known yet) and
    // a packet's mark (nullopt until computed for its connection).
    qint64 peerOf(qint64 connectionId) const;
    std::optional<PeerTransitMark> transitMark(const Packet &packet) const;
    bool transitReady() const { return m_transit != nullptr; }
    bool transitRunning() const { return m_transitJob->isRunning(); }

signals:
    // The list cannot do what was asked in full (a sort of a large list, a capped filter).
    void notice(const QString &text);
    void scanningChanged(bool scanning);
    // The one-way delays of the listed connections are ready (or were recomputed).
    void transitChanged();

private:
    void rebuild();
    void startTransit();
    void finishTransit(const std::shared_ptr<const PeerTransitResult> &result);
    void loadMemoryRows();
    void startScan();
    void finishScan(const PacketScanResult &result);
    void cancelScan();
    void sortMemoryRows();
    bool inMemory() const { return m_memoryMode; }
    const Packet &rowPacket(int row) const;
    bool lessThan(const Packet &a, const Packet &b) const;
    QVariant display(const Packet &p, int column) const;
    QVariant sortValue(const Packet &p, int column) const;
    QString toolTip(const Packet &p, int column) const;

    std::shared_ptr<const Session> m_session;
    mutable PacketPages m_pages;
    QVector<Packet> m_rows; // memory mode: the rows shown, filtered and sorted
    bool m_memoryMode = false;
    qint64 m_pagedRows = 0; // paged mode: rows announced to the view
    QVector<qint64> m_connections;
    qint64 m_originNs = 0;
    PacketQuickFilter m_filter;
    QString m_filterText;
    int m_sortColumn = ColNo;
    Qt::SortOrder m_sortOrder = Qt::AscendingOrder;
    bool m_truncated = false;
    PacketScanJob *m_scan;        // child: the filter scan of a large list
    PeerTransitJob *m_transitJob; // child: one-way delays of the listed connections
    std::shared_ptr<const PeerTransitResult> m_transit; // null until the first run ends
    qint64 m_transitPackets = -1;   // packets listed when the last run started (live: rerun)
    QElapsedTimer m_transitStarted; // live reruns at most every 2 s
};

} // namespace tcpscope
