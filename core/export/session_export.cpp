// SPDX-License-Identifier: GPL-3.0-or-later
#include "export/session_export.h"
#include "output_file.h"

#include "analysis/peers.h"
#include "export/packet_export.h"
#include "export/pcapng_writer.h"
#include "session/session.h"

#include <algorithm>

namespace tcpscope {

bool packetFormatForPath(const QString &path, PacketFileFormat *format)
{
    if (path == QLatin1String("-") || path.endsWith(QLatin1String(".pcapng"), Qt::CaseInsensitive))
        *format = PacketFileFormat::Pcapng;
    else if (path.endsWith(QLatin1String(".csv"), Qt::CaseInsensitive))
        *format = PacketFileFormat::Csv;
    else if (path.endsWith(QLatin1String(".json"), Qt::CaseInsensitive))
        *format = PacketFileFormat::Json;
    else
        return false;
    return true;
}

qint64 sessionEndNs(const Session &session)
{
    const SessionInfo info = session.info();
    if (info.stoppedNs > 0)
        return info.stoppedNs;
    // Killed or still recording: the last state change any connection made (history needed:
    // an open connection's last change is not in its summary).
    qint64 end = info.startedNs;
    session.forEachConnection(
        [&](const Connection &c) {
            end = std::max({end, c.startNs, c.endNs});
            if (!c.history.isEmpty())
                end = std::max(end, c.history.constLast().timeNs);
            return true;
        },
        true);
    return end;
}

qint64 sessionOriginNs(const Session &session)
{
    const SessionInfo info = session.info();
    if (info.startedNs > 0)
        return info.startedNs;
    qint64 origin = 0;
    session.forEachConnection(
        [&](const Connection &c) {
            if (c.startNs > 0 && (origin == 0 || c.startNs < origin))
                origin = c.startNs;
            return true;
        },
        false);
    return origin;
}

bool exportConnections(const Session &session, const QString &path, QString *error,
                       const DisplayFilter &filter, qint64 *written, const TextOptions &text)
{
    ExportFormat format;
    if (!exportFormatForPath(path, &format)) {
        if (error)
            *error = QStringLiteral("%1: unknown format (use .csv or .json)").arg(path);
        return false;
    }
    ConnectionExportOptions options;
    options.kernelMetrics = session.info().kernelMetrics;
    options.sessionEndNs = sessionEndNs(session);
    options.text = text;
    const QVector<Annotation> notes = session.annotations();
    options.annotations = &notes;
    options.host = session.info().hostname;
    for (const HostInfo &h : session.hosts())
        options.hostNames.append(h.name);
    const OwnerNames owners = session.ownerNames();
    options.owners = &owners;
    const QHash<qint64, qint64> peers = sessionPeers(session);
    options.peers = &peers;
    const FilterContext context = filterContextForSession(session, filter);
    return writeOutputFile(
        path, OutputUse::Stream,
        [&](QIODevice &out, QString *err) {
            ConnectionExportWriter writer(out, format, options);
            bool ok = writer.begin();
            session.forEachConnection(
                [&](const Connection &c) {
                    if (!filter.matches(c, context))
                        return true;
                    ok = writer.write(c);
                    return ok;
                },
                true);
            ok = ok && writer.finish();
            if (written)
                *written = writer.rows();
            if (!ok)
                *err = writer.error();
            else if (!session.error().isEmpty())
                *err = QStringLiteral("reading the session: ") + session.error();
            return ok && session.error().isEmpty();
        },
        error);
}

namespace {

bool writePcapngStream(const Session &session, QIODevice &out, qint64 connectionId,
                       const DisplayFilter &filter, PacketExportResult *result, QString *err)
{
    const SessionInfo info = session.info();
    // The comment names each packet's process: one small entry per connection.
    QHash<qint64, PcapngProcess> owners;
    session.forEachConnection(
        [&](const Connection &c) {
            if (connectionId <= 0 || c.id == connectionId)
                owners.insert(c.id, PcapngProcess::of(c));
            return true;
        },
        false);
    // One socket's packets are each seen once; the whole session holds loopback packets twice.
    const QSet<quint32> loopback = connectionId > 0 ? QSet<quint32>() : loopbackInterfaces(info);
    const FilterContext context = filterContextForSession(session, filter);
    PcapngWriter writer(out);
    bool ok = writer.begin(info);
    session.forEachPacket(connectionId > 0 ? connectionId : -1, [&](const Packet &p) {
        if (isLoopbackEgressCopy(p, loopback)) {
            ++result->loopbackCopies;
            return true;
        }
        if (!filter.matches(p, context))
            return true;
        ok = writer.write(p, owners.value(p.connectionId));
        return ok;
    });
    ok = ok && writer.finish();
    result->written = writer.written();
    if (!ok)
        *err = QStringLiteral("write failed: ") + writer.error();
    return ok;
}

bool writeTableStream(const Session &session, QIODevice &out, ExportFormat format,
                      qint64 connectionId, const DisplayFilter &filter, const TextOptions &text,
                      PacketExportResult *result, QString *err)
{
    const FilterContext context = filterContextForSession(session, filter);
    // peer_delay_ns and peer_lost: the packets of connections whose other end is in the
    // session are matched with it first (one more pass over those connections' packets).
    // A filter on peer.* has them in its context already (for every pair).
    const bool inContext = filter.needsPeerTransit();
    QHash<qint64, PeerTransitMark> marks;
    if (!inContext && connectionId > 0) {
        if (const qint64 peer = sessionPeers(session).value(connectionId, 0); peer > 0)
            marks = sessionPeerTransit(session, connectionId, peer).marks;
    } else if (!inContext) {
        marks = sessionTransitMarks(session);
    }
    PacketExportWriter writer(out, format, text);
    bool ok = writer.begin();
    session.forEachPacket(connectionId > 0 ? connectionId : -1, [&](const Packet &p) {
        if (!filter.matches(p, context))
            return true;
        ok = writer.write(p, inContext ? context.transitMark(p.id) : marks.value(p.id));
        return ok;
    });
    ok = ok && writer.finish();
    result->written = writer.rows();
    if (!ok)
        *err = QStringLiteral("write failed: ") + writer.error();
    return ok;
}

} // namespace

bool exportPackets(const Session &session, const QString &path, qint64 connectionId,
                   PacketExportResult *result, QString *error, const DisplayFilter &filter,
                   const TextOptions &text)
{
    PacketFileFormat format;
    if (!packetFormatForPath(path, &format)) {
        if (error)
            *error = QStringLiteral("%1: unknown format (use .csv, .json or .pcapng)").arg(path);
        return false;
    }
    PacketExportResult local;
    PacketExportResult &r = result ? *result : local;
    r = {};
    return writeOutputFile(
        path, OutputUse::Stream,
        [&](QIODevice &out, QString *err) {
            const bool ok =
                format == PacketFileFormat::Pcapng
                    ? writePcapngStream(session, out, connectionId, filter, &r, err)
                    : writeTableStream(session, out,
                                       format == PacketFileFormat::Csv ? ExportFormat::Csv
                                                                       : ExportFormat::Json,
                                       connectionId, filter, text, &r, err);
            if (ok && !session.error().isEmpty()) {
                *err = QStringLiteral("reading the session: ") + session.error();
                return false;
            }
            return ok;
        },
        error);
}

} // namespace tcpscope
