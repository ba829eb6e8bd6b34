// SPDX-License-Identifier: GPL-3.0-or-later
#include "packet_exporter.h"

#include "export/pcapng_writer.h"
#include "session/session.h"

namespace tcpscope {

PacketExporter::PacketExporter(QObject *parent) : QObject(parent) {}

PacketExporter::~PacketExporter()
{
    if (m_thread)
        m_thread->wait();
}

bool PacketExporter::start(const QString &sessionPath, const QString &path,
                           const QVector<qint64> &connectionIds)
{
    if (m_thread)
        return false;
    struct Result
    {
        qint64 count = -1;
        QString error;
    };
    auto result = std::make_shared<Result>();
    m_thread.reset(QThread::create([sessionPath, path, connectionIds, result] {
        const std::unique_ptr<Session> session = Session::open(sessionPath, &result->error);
        if (!session)
            return;
        SessionData data;
        data.info = session->info();
        if (connectionIds.isEmpty()) {
            data.connections = session->allConnections(false);
            session->forEachPacket(-1, [&](const Packet &p) {
                data.packets.append(p);
                return true;
            });
        } else {
            data.connections = session->connections(connectionIds);
            for (qint64 id : connectionIds)
                data.packets += session->packets(id);
        }
        result->count = writePcapng(data, path, connectionIds, &result->error);
    }));
    connect(
        m_thread.get(), &QThread::finished, this,
        [this, path, result] {
            m_thread.reset();
            emit finished(path, result->count, result->error);
        },
        Qt::QueuedConnection);
    m_thread->start();
    return true;
}

} // namespace tcpscope
