// SPDX-License-Identifier: GPL-3.0-or-later
// Support for test_record_tcpinfo: find a connection by ports, one CSV row by id, and an nft loss
// rule with clean-up.
#pragma once

#include "session/session_reader.h"

#include <QCoreApplication>
#include <QHash>
#include <QProcess>
#include <QRegularExpression>
#include <QString>

namespace tcpscope::testing {

inline const Connection *findConn(const SessionData &s, quint16 localPort, quint16 remotePort)
{
    for (const Connection &c : s.connections) {
        if (c.localPort == localPort && c.remotePort == remotePort)
            return &c;
    }
    return nullptr;
}

// CSV without quoted fields in the rows we look at (ts_traffic comms, addresses, numbers).
inline QHash<QString, QString> csvRow(const QString &csv, qint64 id)
{
    const QStringList lines = csv.split(QStringLiteral("\r\n"), Qt::SkipEmptyParts);
    if (lines.isEmpty())
        return {};
    const QStringList header = lines[0].split(QLatin1Char(','));
    for (const QString &line : lines.mid(1)) {
        const QStringList cells = line.split(QLatin1Char(','));
        if (cells.value(0) != QString::number(id))
            continue;
        QHash<QString, QString> row;
        for (qsizetype i = 0; i < header.size(); ++i)
            row.insert(header[i], cells.value(i));
        return row;
    }
    return {};
}

// An nft table that drops every 4th data segment sent to one port (deterministic: a loopback
// bulk transfer is a few dozen GSO packets, so random loss may hit none) at the
// input hook, where the receiver loses it (a drop at output would only make the sender's
// transmit fail and try again, not retransmit); removed again when it goes out of scope.
class LossRule
{
public:
    explicit LossRule(quint16 port)
        : m_table(QStringLiteral("tcpscope_b2_loss_%1").arg(QCoreApplication::applicationPid()))
    {
        const QString script =
            QStringLiteral("table inet %1 {\n chain in {\n  type filter hook input priority 0; "
                           "policy accept;\n  tcp dport %2 meta length > 200 numgen inc mod 4 == 1 "
                           "counter drop\n }\n}\n")
                .arg(m_table)
                .arg(port);
        m_ok = nft({QStringLiteral("-f"), QStringLiteral("-")}, script.toUtf8());
    }
    ~LossRule()
    {
        nft({QStringLiteral("delete"), QStringLiteral("table"), QStringLiteral("inet"), m_table});
    }
    bool ok() const { return m_ok; }
    // Packets the rule dropped so far (nft's counter), -1 unknown.
    qint64 dropped() const
    {
        QProcess p;
        p.start(QStringLiteral("nft"),
                {QStringLiteral("list"), QStringLiteral("table"), QStringLiteral("inet"), m_table});
        p.waitForFinished(10000);
        const QRegularExpressionMatch m =
            QRegularExpression(QStringLiteral("counter packets (\\d+)"))
                .match(QString::fromUtf8(p.readAllStandardOutput()));
        return m.hasMatch() ? m.captured(1).toLongLong() : -1;
    }

private:
    static bool nft(const QStringList &args, const QByteArray &input = {})
    {
        QProcess p;
        p.start(QStringLiteral("nft"), args);
        if (!p.waitForStarted(5000))
            return false;
        p.write(input);
        p.closeWriteChannel();
        return p.waitForFinished(10000) && p.exitCode() == 0;
    }
    QString m_table;
    bool m_ok = false;
};

} // namespace tcpscope::testing
