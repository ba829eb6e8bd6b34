// SPDX-License-Identifier: GPL-3.0-or-later
// Session: packets and samples stored in compressed chunks (format 4). A chunk that does not
// decode (bad sizes, unknown codec, damaged compressed data) is left out and counted in
// badChunks(); the rest of the file reads.
#include "session/chunk_codec.h"
#include "session/session_private.h"

#include <algorithm>
#include <queue>
#include <tuple>

namespace tcpscope {

namespace {

constexpr const char *kPacketChunkColumns =
    "id, connection_id, first_id, last_id, count, codec, raw_bytes, data";

} // namespace

std::shared_ptr<const QVector<Packet>> Session::Private::packetChunk(sqlite3_stmt *s) const
{
    const qint64 rowid = sqlite3_column_int64(s, 0);
    if (auto hit = packetCache.find(rowid))
        return hit;
    const qint64 connectionId = sqlite3_column_int64(s, 1);
    const qint64 firstId = sqlite3_column_int64(s, 2), lastId = sqlite3_column_int64(s, 3);
    const qint64 count = sqlite3_column_int64(s, 4);
    QByteArray raw;
    QString why;
    auto packets = std::make_shared<QVector<Packet>>();
    quint64 skipped = 0;
    const QByteArray data(static_cast<const char *>(sqlite3_column_blob(s, 7)),
                          sqlite3_column_bytes(s, 7));
    bool ok = sqlite3_column_type(s, 7) == SQLITE_BLOB &&
              chunk::decompress(data, int(sqlite3_column_int64(s, 5)), sqlite3_column_int64(s, 6),
                                &raw, &why) &&
              chunk::decodePackets(raw, joined(connectionId), packets.get(), &skipped, &why);
    // The row's facts must be the chunk's: they are what queries skip and search by.
    if (ok && (packets->size() + qint64(skipped) < count || packets->isEmpty() ||
               packets->first().id < firstId || packets->last().id > lastId ||
               lastId - firstId >= chunk::kMaxIdSpan)) {
        ok = false;
        why = QStringLiteral("its row does not describe it");
    }
    if (!ok) {
        ++badChunks;
        lastChunkError = QStringLiteral("packet chunk %1: %2").arg(rowid).arg(why);
        return {};
    }
    localBad += skipped;
    packetCache.insert(rowid, packets);
    return packets;
}

bool Session::Private::chunkPackets(qint64 connectionId, qint64 offset, qint64 limit,
                                    const std::function<bool(const Packet &)> &fn) const
{
    sqlite::Stmt s = prepare(QByteArray("SELECT ") + kPacketChunkColumns +
                             " FROM packet_chunks WHERE connection_id = ?1 ORDER BY first_id");
    if (!s)
        return false;
    sqlite3_bind_int64(s.get(), 1, connectionId);
    int rc = SQLITE_DONE; // what a non-positive limit reports
    qint64 position = 0;
    while (limit > 0 && (rc = sqlite3_step(s.get())) == SQLITE_ROW) {
        const qint64 count = sqlite3_column_int64(s.get(), 4);
        if (count > 0 && position + count <= offset) { // before the page: not even decoded
            position += count;
            continue;
        }
        const auto packets = packetChunk(s.get());
        if (!packets)
            continue;
        for (const Packet &p : *packets) {
            if (position++ < offset)
                continue;
            if (!fn(p))
                return done(SQLITE_DONE);
            if (--limit == 0)
                break;
        }
    }
    return done(limit == 0 ? SQLITE_DONE : rc);
}

bool Session::Private::chunkPacketsFromId(qint64 firstId, qint64 limit,
                                          const std::function<bool(const Packet &)> &fn) const
{
    // Chunks of different connections overlap in ids: a merge over the chunks in first_id
    // order, each opened when the merge reaches its first id (a chunk spans < kMaxIdSpan ids,
    // so the chunks holding firstId start at most that far before it).
    sqlite::Stmt s = prepare(QByteArray("SELECT ") + kPacketChunkColumns +
                             " FROM packet_chunks WHERE first_id >= ?1 ORDER BY first_id");
    if (!s)
        return false;
    sqlite3_bind_int64(s.get(), 1, firstId - chunk::kMaxIdSpan);
    struct Cursor
    {
        std::shared_ptr<const QVector<Packet>> packets;
        qsizetype next;
        qint64 id() const { return packets->at(next).id; }
    };
    auto later = [](const Cursor &a, const Cursor &b) { return a.id() > b.id(); };
    std::priority_queue<Cursor, std::vector<Cursor>, decltype(later)> open(later);
    int rc = sqlite3_step(s.get());
    while (limit > 0) {
        // Open every chunk that may hold an id below the smallest open one.
        while (rc == SQLITE_ROW &&
               (open.empty() || sqlite3_column_int64(s.get(), 2) <= open.top().id())) {
            if (sqlite3_column_int64(s.get(), 3) >= firstId) {
                if (auto packets = packetChunk(s.get())) {
                    qsizetype i = 0;
                    while (i < packets->size() && packets->at(i).id < firstId)
                        ++i;
                    if (i < packets->size())
                        open.push({std::move(packets), i});
                }
            }
            rc = sqlite3_step(s.get());
        }
        if (open.empty())
            break;
        Cursor c = open.top();
        open.pop();
        if (!fn(c.packets->at(c.next)))
            return done(SQLITE_DONE);
        --limit;
        if (++c.next < c.packets->size())
            open.push(std::move(c));
    }
    return done(rc == SQLITE_ROW ? SQLITE_DONE : rc);
}

qint64 Session::Private::chunkPacketIdAtRank(qint64 rank) const
{
    if (!chunkSpans) {
        // Only the chunks' id ranges and counts: no packet is decoded.
        ChunkSpans spans;
        std::vector<std::pair<qint64, qint64>> byFirst, byLast; // (id, count)
        sqlite::Stmt s = prepare("SELECT first_id, last_id, count FROM packet_chunks");
        if (!s)
            return 0;
        int rc;
        while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
            const qint64 count = std::max<qint64>(0, sqlite3_column_int64(s.get(), 2));
            byFirst.emplace_back(sqlite3_column_int64(s.get(), 0), count);
            byLast.emplace_back(sqlite3_column_int64(s.get(), 1), count);
        }
        if (!done(rc))
            return 0;
        std::sort(byFirst.begin(), byFirst.end());
        std::sort(byLast.begin(), byLast.end());
        for (const auto &[list, ids, counts] :
             {std::tuple{&byFirst, &spans.firstIds, &spans.countsToFirst},
              std::tuple{&byLast, &spans.lastIds, &spans.countsToLast}}) {
            ids->reserve(list->size());
            counts->reserve(list->size() + 1);
            counts->push_back(0);
            for (const auto &[id, count] : *list) {
                ids->push_back(id);
                counts->push_back(counts->back() + count);
            }
        }
        chunkSpans = std::move(spans);
    }
    const ChunkSpans &c = *chunkSpans;
    // The packet at `rank` has an id in [low, high]:
    // - every id below `low` is in a chunk that starts below it, and those hold <= rank packets;
    // - the chunks that end at or below `high` hold more than rank packets.
    auto firstIndexAbove = [rank](const std::vector<qint64> &countsTo) {
        // smallest k with countsTo[k + 1] > rank
        return std::upper_bound(countsTo.begin() + 1, countsTo.end(), rank) - countsTo.begin() - 1;
    };
    const auto kLow = firstIndexAbove(c.countsToFirst);
    const auto kHigh = firstIndexAbove(c.countsToLast);
    if (kLow >= qsizetype(c.firstIds.size()) || kHigh >= qsizetype(c.lastIds.size()))
        return 0;
    const qint64 low = c.firstIds[size_t(kLow)], high = c.lastIds[size_t(kHigh)];
    // Packets below `low`: whole chunks that end below it, plus the part below it of the chunks
    // that straddle it (decoded below with the chunks overlapping [low, high]).
    qint64 below = c.countsToLast[size_t(std::lower_bound(c.lastIds.begin(), c.lastIds.end(), low) -
                                         c.lastIds.begin())];
    sqlite::Stmt s = prepare(QByteArray("SELECT ") + kPacketChunkColumns +
                             " FROM packet_chunks WHERE first_id BETWEEN ?1 AND ?2"
                             " AND last_id >= ?3");
    if (!s)
        return 0;
    sqlite3_bind_int64(s.get(), 1, low - chunk::kMaxIdSpan);
    sqlite3_bind_int64(s.get(), 2, high);
    sqlite3_bind_int64(s.get(), 3, low);
    std::vector<qint64> ids;
    int rc;
    while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
        const auto packets = packetChunk(s.get());
        if (!packets)
            continue;
        for (const Packet &p : *packets) {
            if (p.id < low)
                ++below;
            else if (p.id <= high)
                ids.push_back(p.id);
        }
    }
    if (!done(rc))
        return 0;
    std::sort(ids.begin(), ids.end());
    const qint64 at = rank - below;
    return at >= 0 && at < qint64(ids.size()) ? ids[size_t(at)] : 0;
}

bool Session::Private::chunkSamples(qint64 connectionId,
                                    const std::function<bool(const TcpSample &)> &fn) const
{
    // One connection's chunks are in time order; all connections' are merged by time.
    const QByteArray where = connectionId < 0 ? QByteArray() : " WHERE connection_id = ?1";
    sqlite::Stmt s = prepare("SELECT id, connection_id, count, codec, raw_bytes, data FROM"
                             " sample_chunks" +
                             where + " ORDER BY first_ts_ns, id");
    if (!s)
        return false;
    if (connectionId >= 0)
        sqlite3_bind_int64(s.get(), 1, connectionId);
    QVector<TcpSample> all;
    int rc;
    while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
        const qint64 rowid = sqlite3_column_int64(s.get(), 0);
        QByteArray raw;
        QString why;
        quint64 skipped = 0;
        QVector<TcpSample> samples;
        const QByteArray data(static_cast<const char *>(sqlite3_column_blob(s.get(), 5)),
                              sqlite3_column_bytes(s.get(), 5));
        const bool ok = chunk::decompress(data, int(sqlite3_column_int64(s.get(), 3)),
                                          sqlite3_column_int64(s.get(), 4), &raw, &why) &&
                        chunk::decodeSamples(raw, joined(sqlite3_column_int64(s.get(), 1)),
                                             &samples, &skipped, &why);
        if (!ok || samples.size() + qint64(skipped) != sqlite3_column_int64(s.get(), 2)) {
            ++badChunks;
            lastChunkError = QStringLiteral("sample chunk %1: %2")
                                 .arg(rowid)
                                 .arg(ok ? QStringLiteral("its row does not describe it") : why);
            continue;
        }
        localBad += skipped;
        all += samples;
    }
    if (!done(rc))
        return false;
    std::stable_sort(all.begin(), all.end(),
                     [](const TcpSample &a, const TcpSample &b) { return a.timeNs < b.timeNs; });
    for (const TcpSample &t : all) {
        if (!fn(t))
            break;
    }
    return true;
}

} // namespace tcpscope
