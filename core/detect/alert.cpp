// SPDX-License-Identifier: GPL-3.0-or-later
#include "detect/alert.h"

#include <QDateTime>
#include <QJsonArray>
#include <QStringList>

namespace tcpscope {

QString alertSeverityName(AlertSeverity severity)
{
    switch (severity) {
    case AlertSeverity::Low:
        return QStringLiteral("low");
    case AlertSeverity::Medium:
        return QStringLiteral("medium");
    case AlertSeverity::High:
        return QStringLiteral("high");
    }
    return QStringLiteral("medium");
}

bool alertSeverityFromName(const QString &name, AlertSeverity *severity)
{
    for (AlertSeverity s : {AlertSeverity::Low, AlertSeverity::Medium, AlertSeverity::High}) {
        if (name == alertSeverityName(s)) {
            *severity = s;
            return true;
        }
    }
    return false;
}

QString Alert::connectionFilter() const
{
    if (connections.isEmpty())
        return {};
    QStringList ids;
    ids.reserve(connections.size());
    for (qint64 id : connections)
        ids.append(QString::number(id));
    return QStringLiteral("conn.id in {%1}").arg(ids.join(QStringLiteral(", ")));
}

QString rfc3339Ns(qint64 wallNs)
{
    qint64 seconds = wallNs / 1'000'000'000;
    qint64 fraction = wallNs % 1'000'000'000;
    if (fraction < 0) {
        fraction += 1'000'000'000;
        --seconds;
    }
    const QDateTime t = QDateTime::fromSecsSinceEpoch(seconds, Qt::UTC);
    return t.toString(QStringLiteral("yyyy-MM-ddTHH:mm:ss")) + QLatin1Char('.') +
           QStringLiteral("%1").arg(fraction, 9, 10, QLatin1Char('0')) + QLatin1Char('Z');
}

QJsonObject alertToJson(const Alert &alert)
{
    QJsonArray connections, packets;
    for (qint64 id : alert.connections)
        connections.append(id);
    for (qint64 id : alert.packets)
        packets.append(id);
    QJsonObject o;
    o.insert(QStringLiteral("time"), rfc3339Ns(alert.timeNs));
    o.insert(QStringLiteral("kind"), alert.kind);
    o.insert(QStringLiteral("severity"), alertSeverityName(alert.severity));
    o.insert(QStringLiteral("summary"), alert.summary);
    o.insert(QStringLiteral("connections"), connections);
    o.insert(QStringLiteral("remote"),
             alert.remote.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(alert.remote));
    o.insert(QStringLiteral("subject"), alert.subject);
    o.insert(QStringLiteral("custom"), alert.custom);
    o.insert(QStringLiteral("packets"), packets);
    o.insert(QStringLiteral("suppressed"), qint64(alert.suppressed));
    o.insert(QStringLiteral("filter"), alert.connectionFilter());
    return o;
}

QString alertLine(const Alert &alert)
{
    QString line = QStringLiteral("%1 %2 %3: %4")
                       .arg(rfc3339Ns(alert.timeNs), alertSeverityName(alert.severity).toUpper(),
                            alert.kind, alert.summary);
    if (alert.suppressed > 0)
        line += QStringLiteral(" (+%1 similar suppressed)").arg(alert.suppressed);
    return line;
}

} // namespace tcpscope
