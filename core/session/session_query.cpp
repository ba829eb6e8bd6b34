// SPDX-License-Identifier: GPL-3.0-or-later
// Session: packets, the kernel's view and per-second aggregates. Row tables (v2/v3) are read
// through their indexes; v4 packets and samples come from compressed chunks
// (session_chunks.cpp).
#include "session/session_private.h"
#include "session/session_schema.h"

#include <QHash>
#include <QMap>
#include <algorithm>

namespace tcpscope {

namespace {
// connection_id = ?1 for a joined connection, IS NULL for "not joined" (0).
QByteArray connectionWhere(qint64 connectionId)
{
    return connectionId == 0 ? QByteArray(" WHERE connection_id IS NULL")
                             : " WHERE connection_id = " + QByteArray::number(connectionId);
}
} // namespace

bool Session::Private::rowPackets(const QByteArray &where, qint64 offset, qint64 limit,
                                  const std::function<bool(const Packet &)> &fn) const
{
    sqlite::Stmt s = prepare(QByteArray("SELECT ") + rows::kPacketColumns + " FROM packets" +
                             where + " ORDER BY id LIMIT ?1 OFFSET ?2");
    if (!s)
        return false;
    sqlite3_bind_int64(s.get(), 1, limit);
    sqlite3_bind_int64(s.get(), 2, offset);
    return eachRow(s.get(), [&](rows::Cells &c) {
        Packet p;
        if (!rows::packet(c, &p))
            return true;
        p.connectionId = joined(p.connectionId);
        return fn(p);
    });
}

qint64 Session::packetCount() const
{
    std::lock_guard lock(d->mutex);
    d->error.clear();
    return d->packets();
}

qint64 Session::lastPacketId() const
{
    std::lock_guard lock(d->mutex);
    return d->lastPacketId;
}

qint64 Session::packetCount(qint64 connectionId) const
{
    std::lock_guard lock(d->mutex);
    d->error.clear();
    qint64 n = 0;
    if (d->chunked())
        d->queryInt("SELECT ifnull(sum(count), 0) FROM packet_chunks WHERE connection_id = " +
                        QByteArray::number(connectionId),
                    &n);
    else if (d->hasPackets())
        d->queryInt("SELECT count(*) FROM packets" + connectionWhere(connectionId), &n);
    return n;
}

QVector<Packet> Session::packets(qint64 connectionId, qint64 offset, qint64 limit) const
{
    QVector<Packet> out;
    if (offset < 0 || limit <= 0)
        return out;
    std::lock_guard lock(d->mutex);
    d->error.clear();
    auto add = [&out](const Packet &p) {
        out.append(p);
        return true;
    };
    if (d->chunked()) {
        // A whole long connection (a graph): room for all of it at once, not ~17 regrowths that
        // each copy every packet so far.
        qint64 total = 0;
        if (limit > 4096 &&
            d->queryInt("SELECT ifnull(sum(count), 0) FROM packet_chunks WHERE connection_id = " +
                            QByteArray::number(connectionId),
                        &total))
            out.reserve(std::clamp<qint64>(total - offset, 0, std::min<qint64>(limit, 1 << 24)));
        d->chunkPackets(connectionId, offset, limit, add);
    } else if (d->hasPackets()) {
        d->rowPackets(connectionWhere(connectionId), offset, limit, add);
    }
    return out;
}

QVector<Packet> Session::packetsFromId(qint64 firstId, qint64 limit) const
{
    QVector<Packet> out;
    if (limit <= 0)
        return out;
    std::lock_guard lock(d->mutex);
    d->error.clear();
    auto add = [&out](const Packet &p) {
        out.append(p);
        return true;
    };
    if (d->chunked())
        d->chunkPacketsFromId(firstId, limit, add);
    else if (d->hasPackets())
        d->rowPackets(" WHERE id >= " + QByteArray::number(firstId), 0, limit, add);
    return out;
}

qint64 Session::packetIdAtRank(qint64 rank) const
{
    std::lock_guard lock(d->mutex);
    d->error.clear();
    if (rank < 0 || rank >= d->packets())
        return 0;
    if (d->chunked())
        return d->chunkPacketIdAtRank(rank);
    if (!d->hasPackets())
        return 0;
    qint64 id = 0;
    d->queryInt("SELECT ifnull((SELECT id FROM packets ORDER BY id LIMIT 1 OFFSET " +
                    QByteArray::number(rank) + "), 0)",
                &id);
    return id;
}

void Session::forEachPacket(qint64 connectionId,
                            const std::function<bool(const Packet &)> &fn) const
{
    std::lock_guard lock(d->mutex);
    d->error.clear();
    constexpr qint64 kAll = std::numeric_limits<qint64>::max();
    if (d->chunked()) {
        if (connectionId < 0)
            d->chunkPacketsFromId(0, kAll, fn);
        else
            d->chunkPackets(connectionId, 0, kAll, fn);
    } else if (d->hasPackets()) {
        d->rowPackets(connectionId < 0 ? QByteArray() : connectionWhere(connectionId), 0, kAll, fn);
    }
}

bool Session::Private::samplesOf(qint64 connectionId,
                                 const std::function<bool(const TcpSample &)> &fn) const
{
    if (chunked())
        return chunkSamples(connectionId, fn);
    const QByteArray where = connectionId < 0 ? QByteArray() : connectionWhere(connectionId);
    sqlite::Stmt s = prepare(QByteArray("SELECT ") + rows::kSampleColumns + " FROM tcp_samples" +
                             where + " ORDER BY ts_ns, rowid");
    if (!s)
        return false;
    return eachRow(s.get(), [&](rows::Cells &c) {
        TcpSample t;
        if (!rows::sample(c, &t))
            return true;
        t.connectionId = joined(t.connectionId);
        return fn(t);
    });
}

bool Session::Private::kernelRows(qint64 connectionId, bool withSamples, KernelData *out) const
{
    // Time order, ties in insertion order, as the model promises.
    const QByteArray where = connectionId < 0 ? QByteArray() : connectionWhere(connectionId);
    const QByteArray order = " ORDER BY ts_ns, rowid";
    if (withSamples && !samplesOf(connectionId, [out](const TcpSample &t) {
            out->samples.append(t);
            return true;
        }))
        return false;
    auto each = [&](const char *columns, const char *table, auto decode) {
        sqlite::Stmt s =
            prepare(QByteArray("SELECT ") + columns + " FROM " + table + where + order);
        if (!s)
            return false;
        return eachRow(s.get(), [&](rows::Cells &c) {
            decode(c);
            return true;
        });
    };
    return each(rows::kEventColumns, "kernel_events",
                [&](rows::Cells &c) {
                    KernelEvent e;
                    if (rows::event(c, &e)) {
                        e.connectionId = joined(e.connectionId);
                        out->events.append(e);
                    }
                }) &&
           each(rows::kDropColumns, "drops",
                [&](rows::Cells &c) {
                    DropEvent e;
                    if (rows::drop(c, &e)) {
                        e.connectionId = joined(e.connectionId);
                        out->drops.append(e);
                    }
                }) &&
           each(rows::kListenerColumns, "listener_samples", [&](rows::Cells &c) {
               ListenerSample e;
               if (rows::listener(c, &e)) {
                   e.connectionId = joined(e.connectionId);
                   out->listeners.append(e);
               }
           });
}

KernelData Session::kernelData(qint64 connectionId, bool withSamples) const
{
    std::lock_guard lock(d->mutex);
    d->error.clear();
    KernelData out;
    if (d->hasKernel())
        d->kernelRows(connectionId, withSamples, &out);
    return out;
}

KernelData Session::kernelEvents() const
{
    std::lock_guard lock(d->mutex);
    d->error.clear();
    KernelData out;
    if (d->hasKernel())
        d->kernelRows(-1, false, &out);
    return out;
}

void Session::forEachKernelBatch(int batchSize,
                                 const std::function<bool(const KernelData &)> &fn) const
{
    std::lock_guard lock(d->mutex);
    d->error.clear();
    if (!d->hasKernel())
        return;
    const qsizetype limit = std::max(batchSize, 1);
    KernelData batch;
    bool stop = false;
    auto deliver = [&](bool always) {
        const qsizetype n = batch.events.size() + batch.drops.size() + batch.listeners.size();
        if (n == 0 || (!always && n < limit))
            return true;
        stop = !fn(batch);
        batch = {};
        return !stop;
    };
    // Insertion order: one pass over each table, no sort.
    auto each = [&](const char *columns, const char *table, auto decode) {
        if (stop)
            return;
        sqlite::Stmt s =
            d->prepare(QByteArray("SELECT ") + columns + " FROM " + table + " ORDER BY rowid");
        if (!s)
            return;
        d->eachRow(s.get(), [&](rows::Cells &c) {
            decode(c);
            return deliver(false);
        });
    };
    each(rows::kEventColumns, "kernel_events", [&](rows::Cells &c) {
        KernelEvent e;
        if (rows::event(c, &e)) {
            e.connectionId = d->joined(e.connectionId);
            batch.events.append(e);
        }
    });
    each(rows::kDropColumns, "drops", [&](rows::Cells &c) {
        DropEvent e;
        if (rows::drop(c, &e)) {
            e.connectionId = d->joined(e.connectionId);
            batch.drops.append(e);
        }
    });
    each(rows::kListenerColumns, "listener_samples", [&](rows::Cells &c) {
        ListenerSample e;
        if (rows::listener(c, &e)) {
            e.connectionId = d->joined(e.connectionId);
            batch.listeners.append(e);
        }
    });
    if (!stop)
        deliver(true);
}

void Session::forEachSample(qint64 connectionId,
                            const std::function<bool(const TcpSample &)> &fn) const
{
    std::lock_guard lock(d->mutex);
    d->error.clear();
    if (d->hasKernel())
        d->samplesOf(connectionId, fn);
}

bool Session::Private::readSeconds(qint64 fromNs, qint64 toNs, QVector<SecondBucket> *out) const
{
    if (chunked()) {
        sqlite::Stmt s = prepare("SELECT second_ns, opened, closed, active, packets,"
                                 " payload_bytes, retransmits, resets, drops, samples FROM seconds"
                                 " WHERE second_ns >= ?1 AND second_ns <= ?2 ORDER BY second_ns");
        if (!s)
            return false;
        sqlite3_bind_int64(s.get(), 1, fromNs - fromNs % 1000000000);
        sqlite3_bind_int64(s.get(), 2, toNs);
        return eachRow(s.get(), [&](rows::Cells &c) {
            SecondBucket b;
            b.secondNs = c.ranged(0, 0, std::numeric_limits<qint64>::max(), 0);
            b.opened = c.u32(1);
            b.closed = c.u32(2);
            b.active = c.u32(3);
            b.packets = quint64(c.ranged(4, 0, std::numeric_limits<qint64>::max(), 0));
            b.payloadBytes = quint64(c.ranged(5, 0, std::numeric_limits<qint64>::max(), 0));
            b.retransmits = c.u32(6);
            b.resets = c.u32(7);
            b.drops = c.u32(8);
            b.samples = c.u32(9);
            out->append(b);
            return true;
        });
    }
    // Older formats have no aggregates: the same sums computed by SQLite (a scan of each table,
    // done once by whoever asks; files written from v4 on never need it).
    QMap<qint64, SecondBucket> byS;
    auto sum = [&](const QByteArray &sql, auto apply) {
        sqlite::Stmt s = prepare(sql);
        if (!s)
            return false;
        int rc;
        while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
            const qint64 sec = sqlite3_column_int64(s.get(), 0);
            SecondBucket &b = byS[sec];
            b.secondNs = sec * 1000000000;
            apply(b, sqlite3_column_int64(s.get(), 1), sqlite3_column_int64(s.get(), 2));
        }
        return done(rc);
    };
    const bool ok =
        sum("SELECT start_ns / 1000000000, count(*), 0 FROM connections WHERE start_ns >= 0"
            " GROUP BY 1",
            [](SecondBucket &b, qint64 n, qint64) { b.opened = quint32(n); }) &&
        sum("SELECT end_ns / 1000000000, count(*), 0 FROM connections WHERE end_ns > 0 GROUP BY 1",
            [](SecondBucket &b, qint64 n, qint64) { b.closed = quint32(n); }) &&
        (!hasPackets() || sum("SELECT ts_ns / 1000000000, count(*), sum(payload_len) FROM packets"
                              " WHERE ts_ns >= 0 GROUP BY 1",
                              [](SecondBucket &b, qint64 n, qint64 bytes) {
                                  b.packets = quint64(n);
                                  b.payloadBytes = quint64(std::max<qint64>(0, bytes));
                              })) &&
        (hasKernel()
             ? sum("SELECT ts_ns / 1000000000, sum(kind = 'retransmit' AND err = 0 AND segs > 0"
                   " AND segs <= 65535), sum(kind IN ('rst-sent','rst-received')) FROM"
                   " kernel_events WHERE ts_ns >= 0 GROUP BY 1",
                   [](SecondBucket &b, qint64 r, qint64 rst) {
                       b.retransmits = quint32(r);
                       b.resets = quint32(rst);
                   }) &&
                   sum("SELECT ts_ns / 1000000000, count(*), 0 FROM drops WHERE ts_ns >= 0"
                       " GROUP BY 1",
                       [](SecondBucket &b, qint64 n, qint64) { b.drops = quint32(n); }) &&
                   sum("SELECT ts_ns / 1000000000, count(*), 0 FROM tcp_samples WHERE ts_ns >= 0"
                       " GROUP BY 1",
                       [](SecondBucket &b, qint64 n, qint64) { b.samples = quint32(n); })
             : !hasPackets() || sum("SELECT ts_ns / 1000000000, sum(analysis & 1 != 0), "
                                    "sum(analysis & 8192 != 0)"
                                    " FROM packets WHERE ts_ns >= 0 GROUP BY 1",
                                    [](SecondBucket &b, qint64 r, qint64 rst) {
                                        b.retransmits = quint32(r);
                                        b.resets = quint32(rst);
                                    }));
    qint64 active = 0;
    for (SecondBucket &b : byS) {
        active += qint64(b.opened) - qint64(b.closed);
        b.active = quint32(std::max<qint64>(0, active));
        if (b.secondNs + 999999999 >= fromNs && b.secondNs <= toNs)
            out->append(b);
    }
    return ok;
}

} // namespace tcpscope

namespace tcpscope {

namespace {

// "3 5 8" -> {3, 5, 8}; at most Alert::kMaxEvidence positive ids, else nullopt.
std::optional<QVector<qint64>> alertIds(const QString &text)
{
    QVector<qint64> ids;
    for (const QString &word : text.split(QLatin1Char(' '), Qt::SkipEmptyParts)) {
        bool ok = false;
        const qint64 id = word.toLongLong(&ok);
        if (!ok || id <= 0 || ids.size() >= Alert::kMaxEvidence)
            return std::nullopt;
        ids.append(id);
    }
    return ids;
}

} // namespace

OwnerNames Session::ownerNames() const
{
    std::lock_guard lock(d->mutex);
    d->error.clear();
    OwnerNames out;
    if (d->format.major != 4 || d->format.minor < 5)
        return out;
    const QByteArray limit = " LIMIT " + QByteArray::number(schema::kMaxOwnerNames);
    auto read = [&](const QByteArray &sql, QHash<quint64, QString> &map) {
        sqlite::Stmt s = d->prepare(sql + limit);
        if (!s)
            return;
        while (sqlite3_step(s.get()) == SQLITE_ROW) {
            rows::Cells c = d->cells(s.get());
            const quint64 before = d->localBad;
            const qint64 id = c.ranged(0, INT64_MIN, INT64_MAX, 0);
            const QString name = c.text(1, 4096);
            if (d->localBad == before && id != 0 && !name.isEmpty())
                map.insert(quint64(id), name);
            else if (d->localBad == before)
                c.count();
        }
    };
    read("SELECT id, path FROM cgroups", out.cgroupPaths);
    read("SELECT inode, name FROM netns_names", out.netnsNames);
    d->flushBad();
    return out;
}

QVector<Alert> Session::alerts() const
{
    std::lock_guard lock(d->mutex);
    d->error.clear();
    QVector<Alert> out;
    if (!d->info.alertsRecorded || d->format.major != 4 || d->format.minor < 4)
        return out;
    sqlite::Stmt s = d->prepare("SELECT time_ns, kind, custom, severity, subject, summary, remote,"
                                " connections, packets, suppressed FROM alerts"
                                " ORDER BY time_ns, id LIMIT " +
                                QByteArray::number(schema::kMaxAlerts));
    if (!s)
        return out;
    int rc;
    while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
        rows::Cells c = d->cells(s.get());
        const quint64 before = d->localBad;
        Alert a;
        a.timeNs = c.ranged(0, 0, INT64_MAX, 0);
        a.kind = c.text(1, 256);
        a.custom = c.ranged(2, 0, 1, 0) == 1;
        if (!alertSeverityFromName(c.text(3, 16), &a.severity))
            c.count();
        a.subject = c.text(4, 1024);
        a.summary = c.text(5, 4096);
        if (!c.isNull(6))
            a.remote = c.text(6, 256);
        const auto connections = alertIds(c.text(7, 64 * 21));
        const auto packets = alertIds(c.text(8, 64 * 21));
        if (!connections || !packets)
            c.count();
        a.connections = connections.value_or(QVector<qint64>());
        a.packets = packets.value_or(QVector<qint64>());
        a.suppressed = quint64(c.ranged(9, 0, INT64_MAX, 0));
        if (d->localBad == before && !a.kind.isEmpty() && a.timeNs > 0)
            out.append(std::move(a));
    }
    if (rc != SQLITE_DONE)
        d->error = QStringLiteral("reading the alerts: %1").arg(sqlite3_errmsg(d->db.get()));
    d->flushBad();
    return out;
}

} // namespace tcpscope
