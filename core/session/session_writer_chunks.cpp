// SPDX-License-Identifier: GPL-3.0-or-later
#include "session/session_writer_chunks.h"

#include "model/connection_columns.h"

#include <array>

namespace tcpscope::detail {

namespace {

constexpr const char *kInsertPacketChunk =
    "INSERT INTO packet_chunks(connection_id, first_id, last_id, first_ts_ns, last_ts_ns, count,"
    " codec, raw_bytes, data) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
constexpr const char *kInsertSampleChunk =
    "INSERT INTO sample_chunks(connection_id, first_ts_ns, last_ts_ns, count, codec, raw_bytes,"
    " data) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)";
// Increments: a second is touched by many batches.
constexpr const char *kUpsertSecond =
    "INSERT INTO seconds(second_ns, opened, closed, active, packets, payload_bytes, retransmits,"
    " resets, drops, samples) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
    " ON CONFLICT(second_ns) DO UPDATE SET opened = opened + excluded.opened,"
    " closed = closed + excluded.closed, active = excluded.active,"
    " packets = packets + excluded.packets, payload_bytes = payload_bytes + excluded.payload_bytes,"
    " retransmits = retransmits + excluded.retransmits, resets = resets + excluded.resets,"
    " drops = drops + excluded.drops, samples = samples + excluded.samples";

// The connection columns PacketCounts::add counts, set from the packets in chunks.
constexpr const char *kTotalsColumns[] = {
    "packets_in",
    "packets_out",
    "payload_bytes_in",
    "payload_bytes_out",
    "retransmissions_seen",
    "fast_retransmissions",
    "spurious_retransmissions",
    "dup_acks",
    "out_of_order",
    "lost_segments",
    "zero_windows",
    "zero_window_probes",
    "window_full",
    "window_updates",
    "keep_alives",
    "resets_seen",
};

const ConnectionColumn *totalsColumn(std::size_t i)
{
    static const auto columns = [] {
        std::array<const ConnectionColumn *, std::size(kTotalsColumns)> out{};
        for (std::size_t i = 0; i < out.size(); ++i)
            out[i] = &connectionColumn(kTotalsColumns[i]);
        return out;
    }();
    return columns[i];
}

QByteArray updateTotalsSql()
{
    QByteArray sql = "UPDATE connections SET ";
    int param = 2;
    for (const char *name : kTotalsColumns) {
        if (param > 2)
            sql += ", ";
        sql += QByteArray(name) + " = ?" + QByteArray::number(param++);
    }
    return sql + " WHERE id = ?1";
}

} // namespace

bool ChunkWriter::prepare(sqlite3 *db, QString *err)
{
    m_db = db;
    m_packetChunk = sqlite::prepare(db, kInsertPacketChunk, err);
    m_sampleChunk = m_packetChunk ? sqlite::prepare(db, kInsertSampleChunk, err) : nullptr;
    m_second = m_sampleChunk ? sqlite::prepare(db, kUpsertSecond, err) : nullptr;
    m_totals = m_second ? sqlite::prepare(db, updateTotalsSql().constData(), err) : nullptr;
    return m_totals != nullptr;
}

void ChunkWriter::reset()
{
    m_packetChunk.reset();
    m_sampleChunk.reset();
    m_second.reset();
    m_totals.reset();
}

PacketCounts ChunkWriter::rowCounts(qint64 connectionId, const PacketCounts &counts) const
{
    const auto it = m_stored.constFind(connectionId);
    return it == m_stored.cend() ? counts : counts.withTotalsOf(*it);
}

SecondBucket &ChunkWriter::bucket(qint64 ns)
{
    const qint64 second = std::max<qint64>(ns, 0) / 1'000'000'000 * 1'000'000'000;
    SecondBucket &b = m_seconds[second];
    b.secondNs = second;
    return b;
}

void ChunkWriter::noteConnection(const Connection &c)
{
    if (!m_tuples.contains(c.id)) {
        ++m_open;
        ++bucket(c.startNs).opened;
    }
    // The tuple can still be learnt late (a connection seen first by its packets): chunks carry
    // the tuple they were encoded with, so a later change never misplaces earlier packets.
    m_tuples.insert(c.id, chunk::tupleOf(c));
    if (c.endNs != 0 && !m_closed.value(c.id)) {
        m_closed.insert(c.id, true);
        --m_open;
        ++bucket(c.endNs).closed;
    }
    // A closed connection's buffered records go out at the next flush, also when its row comes
    // again after them (a merge writes the row, its records, the row).
    if (c.endNs != 0 && (m_packets.contains(c.id) || m_samples.contains(c.id)))
        m_closing.insert(c.id);
}

bool ChunkWriter::forget(qint64 connectionId)
{
    if (m_packets.contains(connectionId) || m_samples.contains(connectionId))
        return false;
    m_tuples.remove(connectionId);
    m_closed.remove(connectionId);
    m_stored.remove(connectionId);
    m_totalsDirty.remove(connectionId);
    return true;
}

void ChunkWriter::addPackets(QVector<Packet> packets)
{
    const auto now = std::chrono::steady_clock::now();
    for (Packet &p : packets) {
        Buffer<Packet> &b = m_packets[p.connectionId];
        if (b.records.isEmpty()) {
            b.since = now;
            // A short connection has a handful of packets: growing its list one by one (1, 2,
            // 4, 8, 16) cost more reallocations and copies than the packets' own storage.
            b.records.reserve(kFirstPacketReserve);
        }
        const qint64 id = p.connectionId;
        b.records.append(std::move(p));
        ++m_packetsBuffered;
        // A closed connection's row usually comes before its last packets (a batch carries the
        // rows first): they go out at the next flush too, not after waiting kMaxAge.
        if (m_closed.value(id))
            m_closing.insert(id);
        // From its first packet on, the row counts what is in chunks (nothing yet).
        if (id != 0 && !m_stored.contains(id)) {
            m_stored.insert(id, PacketCounts{});
            m_totalsDirty.insert(id);
        }
    }
}

void ChunkWriter::noteKernel(const KernelData &data)
{
    const auto now = std::chrono::steady_clock::now();
    for (const TcpSample &t : data.samples) {
        Buffer<TcpSample> &b = m_samples[t.connectionId];
        if (b.records.isEmpty())
            b.since = now;
        b.records.append(t);
    }
    for (const KernelEvent &e : data.events) {
        if (e.kind == KernelEventKind::Retransmit && e.err == 0)
            bucket(e.timeNs).retransmits += e.segs;
        if (e.kind == KernelEventKind::ResetSent || e.kind == KernelEventKind::ResetReceived)
            ++bucket(e.timeNs).resets;
    }
    for (const DropEvent &d : data.drops)
        ++bucket(d.timeNs).drops;
}

bool ChunkWriter::writePackets(qint64 connectionId, QVector<Packet> &packets, QString *err)
{
    // Ids of one connection arrive in increasing order; a chunk holds a run of increasing ids
    // spanning less than kMaxIdSpan (a longer gap, or an id out of order, starts the next one).
    const auto byId = [](const Packet &a, const Packet &b) { return a.id < b.id; };
    if (!std::is_sorted(packets.cbegin(), packets.cend(), byId))
        std::stable_sort(packets.begin(), packets.end(), byId);
    const chunk::Tuple tuple = connectionId == 0 ? chunk::Tuple{} : m_tuples.value(connectionId);
    qsizetype start = 0;
    while (start < packets.size()) {
        qsizetype end = start + 1;
        while (end < packets.size() && end - start < kChunkRecords &&
               packets[end].id > packets[end - 1].id &&
               packets[end].id - packets[start].id < chunk::kMaxIdSpan)
            ++end;
        const QVector<Packet> run = packets.mid(start, end - start);
        const QByteArray raw = chunk::encodePackets(run, tuple);
        const QByteArray data = chunk::compress(raw, chunk::CodecZstd);
        sqlite3_stmt *s = m_packetChunk.get();
        sqlite3_bind_int64(s, 1, connectionId);
        sqlite3_bind_int64(s, 2, run.first().id);
        sqlite3_bind_int64(s, 3, run.last().id);
        qint64 lo = run.first().timeNs, hi = lo;
        for (const Packet &p : run) {
            lo = std::min(lo, p.timeNs);
            hi = std::max(hi, p.timeNs);
        }
        sqlite3_bind_int64(s, 4, lo);
        sqlite3_bind_int64(s, 5, hi);
        sqlite3_bind_int64(s, 6, run.size());
        sqlite3_bind_int64(s, 7, chunk::CodecZstd);
        sqlite3_bind_int64(s, 8, raw.size());
        sqlite3_bind_blob(s, 9, data.constData(), int(data.size()), SQLITE_STATIC);
        if (!sqlite::stepDone(m_db, s, err))
            return false;
        PacketCounts *stored = connectionId != 0 ? &m_stored[connectionId] : nullptr;
        if (stored)
            m_totalsDirty.insert(connectionId);
        for (const Packet &p : run) {
            if (stored)
                stored->add(p);
            SecondBucket &b = bucket(p.timeNs);
            ++b.packets;
            b.payloadBytes += p.payloadLen;
            if (!m_kernelMetrics) {
                b.retransmits += (p.analysis & AnalysisRetransmission) ? 1 : 0;
                b.resets += (p.analysis & AnalysisReset) ? 1 : 0;
            }
        }
        start = end;
    }
    m_packetsBuffered -= packets.size();
    packets.clear();
    return true;
}

bool ChunkWriter::writeSamples(qint64 connectionId, QVector<TcpSample> &samples, QString *err)
{
    for (qsizetype start = 0; start < samples.size(); start += kChunkRecords) {
        const QVector<TcpSample> run = samples.mid(start, kChunkRecords);
        const QByteArray raw = chunk::encodeSamples(run);
        const QByteArray data = chunk::compress(raw, chunk::CodecZstd);
        qint64 lo = run.first().timeNs, hi = lo;
        for (const TcpSample &t : run) {
            lo = std::min(lo, t.timeNs);
            hi = std::max(hi, t.timeNs);
        }
        sqlite3_stmt *s = m_sampleChunk.get();
        sqlite3_bind_int64(s, 1, connectionId);
        sqlite3_bind_int64(s, 2, lo);
        sqlite3_bind_int64(s, 3, hi);
        sqlite3_bind_int64(s, 4, run.size());
        sqlite3_bind_int64(s, 5, chunk::CodecZstd);
        sqlite3_bind_int64(s, 6, raw.size());
        sqlite3_bind_blob(s, 7, data.constData(), int(data.size()), SQLITE_STATIC);
        if (!sqlite::stepDone(m_db, s, err))
            return false;
        for (const TcpSample &t : run)
            ++bucket(t.timeNs).samples;
    }
    samples.clear();
    return true;
}

bool ChunkWriter::writeSeconds(QString *err)
{
    sqlite3_stmt *s = m_second.get();
    for (const SecondBucket &b : std::as_const(m_seconds)) {
        sqlite3_bind_int64(s, 1, b.secondNs);
        sqlite3_bind_int64(s, 2, b.opened);
        sqlite3_bind_int64(s, 3, b.closed);
        sqlite3_bind_int64(s, 4, std::max<qint64>(m_open, 0));
        sqlite3_bind_int64(s, 5, qint64(b.packets));
        sqlite3_bind_int64(s, 6, qint64(b.payloadBytes));
        sqlite3_bind_int64(s, 7, b.retransmits);
        sqlite3_bind_int64(s, 8, b.resets);
        sqlite3_bind_int64(s, 9, b.drops);
        sqlite3_bind_int64(s, 10, b.samples);
        if (!sqlite::stepDone(m_db, s, err))
            return false;
    }
    m_seconds.clear();
    return true;
}

bool ChunkWriter::writeTotals(QString *err)
{
    sqlite3_stmt *s = m_totals.get();
    Connection c;
    for (qint64 id : std::as_const(m_totalsDirty)) {
        c.packets = m_stored.value(id);
        sqlite3_bind_int64(s, 1, id);
        for (std::size_t i = 0; i < std::size(kTotalsColumns); ++i)
            sqlite3_bind_int64(s, int(i + 2), totalsColumn(i)->value(c).integer);
        if (!sqlite::stepDone(m_db, s, err))
            return false;
    }
    m_totalsDirty.clear();
    return true;
}

bool ChunkWriter::flushChunks(bool all, QString *err)
{
    const auto now = std::chrono::steady_clock::now();
    const bool overBudget = this->overBudget();
    auto due = [&](qint64 id, const auto &b) {
        return all || overBudget || b.records.size() >= kChunkRecords || m_closing.contains(id) ||
               now - b.since >= kMaxAge;
    };
    for (auto it = m_packets.begin(); it != m_packets.end();) {
        // Packets that arrived before their connection wait for its tuple (their chunk is
        // encoded with it), unless this is the last flush.
        const bool tupleKnown = it.key() == 0 || m_tuples.contains(it.key());
        if ((all || tupleKnown) && due(it.key(), it.value())) {
            if (!writePackets(it.key(), it.value().records, err))
                return false;
            it = m_packets.erase(it);
        } else {
            ++it;
        }
    }
    for (auto it = m_samples.begin(); it != m_samples.end();) {
        if (due(it.key(), it.value())) {
            if (!writeSamples(it.key(), it.value().records, err))
                return false;
            it = m_samples.erase(it);
        } else {
            ++it;
        }
    }
    m_closing.clear();
    return writeSeconds(err);
}

} // namespace tcpscope::detail
