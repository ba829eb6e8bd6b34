// SPDX-License-Identifier: GPL-3.0-or-later
#include "session/session_reader.h"

#include "session/session.h"

namespace tcpscope {

std::optional<SessionData> SessionReader::read(const QString &path, QString *error,
                                               const ReadOptions &options)
{
    auto fail = [error](const QString &why) {
        if (error)
            *error = why;
        return std::nullopt;
    };
    const auto session = Session::open(path, error);
    if (!session)
        return std::nullopt;
    SessionData data;
    data.info = session->info();
    data.connections = session->allConnections(true);
    if (!session->error().isEmpty())
        return fail(session->error());
    if (options.packets) {
        const qint64 wanted = options.connectionId != 0 ? session->packetCount(options.connectionId)
                                                        : session->packetCount();
        if (wanted > kMaxLoadedRows)
            return fail(QStringLiteral("session has %1 packets, more than this tcpscope loads at "
                                       "once (%2); read one connection's packets instead")
                            .arg(wanted)
                            .arg(kMaxLoadedRows));
        data.packets.reserve(wanted);
        session->forEachPacket(options.connectionId != 0 ? options.connectionId : -1,
                               [&data](const Packet &p) {
                                   data.packets.append(p);
                                   return true;
                               });
        if (!session->error().isEmpty())
            return fail(session->error());
    }
    if (options.kernel) {
        if (options.connectionId != 0) {
            data.kernel = session->kernelData(options.connectionId, options.kernelSamples);
        } else {
            data.kernel = session->kernelEvents();
            if (session->error().isEmpty() && options.kernelSamples) {
                bool tooMany = false;
                session->forEachSample(-1, [&](const TcpSample &t) {
                    if (data.kernel.samples.size() >= kMaxLoadedRows) {
                        tooMany = true;
                        return false;
                    }
                    data.kernel.samples.append(t);
                    return true;
                });
                if (tooMany)
                    return fail(QStringLiteral("session has more than %1 tcp samples, more than "
                                               "this tcpscope loads at once; read one "
                                               "connection's instead")
                                    .arg(kMaxLoadedRows));
            }
        }
        if (!session->error().isEmpty())
            return fail(session->error());
    }
    data.valuesOutOfRange = session->valuesOutOfRange();
    return data;
}

} // namespace tcpscope
