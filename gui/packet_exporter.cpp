// SPDX-License-Identifier: GPL-3.0-or-later
#include "packet_exporter.h"

#include "export/pcapng_writer.h"

namespace tcpscope {

PacketExporter::PacketExporter(QObject *parent) : QObject(parent) {}

PacketExporter::~PacketExporter()
{
    if (m_thread)
        m_thread->wait();
}

bool PacketExporter::start(SessionData session, const QString &path, const QVector<qint64> &connectionIds)
{
    if (m_thread)
        return false;
    struct Result
    {
        qint64 count = -1;
        QString error;
    };
    auto result = std::make_shared<Result>();
    auto data = std::make_shared<SessionData>(std::move(session));
    m_thread.reset(QThread::create([data, path, connectionIds, result] {
        result->count = writePcapng(*data, path, connectionIds, &result->error);
    }));
    connect(m_thread.get(), &QThread::finished, this, [this, path, result] {
        m_thread.reset();
        emit finished(path, result->count, result->error);
    }, Qt::QueuedConnection);
    m_thread->start();
    return true;
}

} // namespace tcpscope
