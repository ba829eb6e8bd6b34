// SPDX-License-Identifier: GPL-3.0-or-later
// Internal to SessionWriter (format 4): buffers packets and tcp samples per connection and
// writes them as compressed chunks, and keeps the per-second aggregates. Runs on the writer
// thread inside its batch transaction. Not an API.
#pragma once

#include "model/connection.h"
#include "session/chunk_codec.h"
#include "session/session.h"
#include "session/sqlite_util.h"

#include <QHash>
#include <QMap>
#include <QSet>
#include <chrono>

namespace tcpscope::detail {

class ChunkWriter
{
public:
    // A chunk is written when a connection has this many buffered records, when it closes, or
    // when its oldest buffered record waited kMaxAge (so a reader of the live file, or a kill,
    // misses at most that much). Numbers: docs/SESSION_FORMAT.md.
    static constexpr int kChunkRecords = 1024;
    static constexpr std::chrono::milliseconds kMaxAge{2000};
    // Room for this many packets is taken for a connection's first buffered packet.
    static constexpr int kFirstPacketReserve = 16;
    // The most packets all connections together keep buffered (~30 MB): beyond it, every
    // connection's buffer is written at the next flush, due or not (smaller chunks, only when
    // a storm of connections or a fast writer backlog would otherwise grow memory without end).
    static constexpr qsizetype kMaxBufferedPackets = 128 * 1024;

    bool prepare(sqlite3 *db, QString *err);
    void reset();
    // Whether retransmits/resets per second come from the kernel's view or the packets.
    void setKernelMetrics(bool on) { m_kernelMetrics = on; }

    void noteConnection(const Connection &c);
    void addPackets(QVector<Packet> packets);
    // The packet totals a connection's row carries: for a connection this writer has packets
    // of, those of its packets already in chunks (in the file), so that the row and the chunks
    // committed with it always agree, also when the recorder is killed or the disk fills up;
    // otherwise `counts` as given (a writer fed connections without their packets).
    PacketCounts rowCounts(qint64 connectionId, const PacketCounts &counts) const;
    void noteKernel(const KernelData &data); // samples are buffered, the rest only counted
    // Writes the chunks that are due (all of them when `all`) and the touched seconds. Packets
    // and samples count in their second when their chunk is written, in the same transaction:
    // the seconds of a killed recorder's file agree with the chunks it holds.
    bool flushChunks(bool all, QString *err);
    // The row of `connectionId` was written with rowCounts() after the last flushChunks(): its
    // totals are current, writeTotals() need not update it.
    void totalsWritten(qint64 connectionId) { m_totalsDirty.remove(connectionId); }
    // Brings the rows of connections whose chunks were written since their row up to date.
    bool writeTotals(QString *err);
    bool flush(bool all, QString *err) { return flushChunks(all, err) && writeTotals(err); }
    qsizetype packetsBuffered() const { return m_packetsBuffered; }
    bool overBudget() const { return m_packetsBuffered > kMaxBufferedPackets; }
    // Drops what is kept for a connection that will not be written again; false (nothing
    // dropped) while records of it are still buffered.
    bool forget(qint64 connectionId);
    qsizetype connectionsKept() const { return m_tuples.size(); }

private:
    template <typename R> struct Buffer
    {
        QVector<R> records;
        std::chrono::steady_clock::time_point since;
    };
    bool writePackets(qint64 connectionId, QVector<Packet> &packets, QString *err);
    bool writeSamples(qint64 connectionId, QVector<TcpSample> &samples, QString *err);
    bool writeSeconds(QString *err);
    SecondBucket &bucket(qint64 ns);

    sqlite3 *m_db = nullptr;
    sqlite::Stmt m_packetChunk, m_sampleChunk, m_second, m_totals;
    QHash<qint64, chunk::Tuple> m_tuples;
    QHash<qint64, bool> m_closed; // id -> whether its CLOSE was counted
    QHash<qint64, Buffer<Packet>> m_packets;
    QHash<qint64, Buffer<TcpSample>> m_samples;
    QSet<qint64> m_closing; // closed with records buffered: written at the next flush
    // Per connection with packets: the totals of those in chunks (PacketCounts::add), and the
    // connections whose row must be brought up to date with them at the next flush.
    QHash<qint64, PacketCounts> m_stored;
    QSet<qint64> m_totalsDirty;
    QMap<qint64, SecondBucket> m_seconds; // increments not yet written
    qsizetype m_packetsBuffered = 0;
    qint64 m_open = 0;
    bool m_kernelMetrics = false;
};

} // namespace tcpscope::detail
