// SPDX-License-Identifier: GPL-3.0-or-later
// Helpers of the tshark integration tests: running tools, the nftables loss rule, lookups.
#pragma once

#include "session/session_reader.h"

#include <QProcess>
#include <QString>
#include <QStringList>
#include <QtDebug>

namespace tcpscope::tshark_test {

struct Run
{
    int exitCode = -1;
    QString out, err;
};

inline Run run(const QString &program, const QStringList &args, int timeoutMs = 120000)
{
    QProcess p;
    p.start(program, args);
    Run r;
    if (!p.waitForStarted() || !p.waitForFinished(timeoutMs)) {
        r.err = QStringLiteral("%1 did not finish: %2").arg(program, p.errorString());
        return r;
    }
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = QString::fromLocal8Bit(p.readAllStandardOutput());
    r.err = QString::fromLocal8Bit(p.readAllStandardError());
    return r;
}

// tshark complains on stderr about files it cannot read; as root it also warns that it runs as
// root, which says nothing about the file.
inline QString tsharkComplaints(const QString &stderrText)
{
    QStringList lines;
    for (const QString &l : stderrText.split(QLatin1Char('\n'), Qt::SkipEmptyParts)) {
        if (!l.startsWith(QLatin1String("Running as user \"root\"")))
            lines << l;
    }
    return lines.join(QLatin1Char('\n'));
}

// The loss rule lives in its own table, removed when this goes out of scope (also when a check
// fails half way) and before the test starts, in case an earlier run was killed.
class NftLoss
{
public:
    static constexpr const char *kTable = "tcpscope_tshark_test";
    static void remove() { run(QStringLiteral("nft"), {"delete", "table", "inet", kTable}); }
    bool install(quint16 sport, int percent)
    {
        remove();
        m_installed = true;
        const QString rule = QStringLiteral("add table inet %1\n"
                                            "add chain inet %1 in { type filter hook input "
                                            "priority 0; }\n"
                                            "add rule inet %1 in tcp sport %2 numgen random mod "
                                            "100 < %3 drop\n")
                                 .arg(QLatin1String(kTable))
                                 .arg(sport)
                                 .arg(percent);
        QProcess p;
        p.start(QStringLiteral("nft"), {QStringLiteral("-f"), QStringLiteral("-")});
        p.waitForStarted();
        p.write(rule.toUtf8());
        p.closeWriteChannel();
        p.waitForFinished();
        if (p.exitCode() != 0)
            qWarning() << "nft:" << p.readAllStandardError();
        return p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0;
    }
    // A second port in the same table (after install()).
    bool addPort(quint16 sport, int percent)
    {
        const Run r =
            run(QStringLiteral("nft"),
                {QStringLiteral("add"), QStringLiteral("rule"), QStringLiteral("inet"),
                 QLatin1String(kTable), QStringLiteral("in"), QStringLiteral("tcp"),
                 QStringLiteral("sport"), QString::number(sport), QStringLiteral("numgen"),
                 QStringLiteral("random"), QStringLiteral("mod"), QStringLiteral("100"),
                 QStringLiteral("<"), QString::number(percent), QStringLiteral("drop")});
        if (r.exitCode != 0)
            qWarning() << "nft:" << r.err;
        return r.exitCode == 0;
    }
    ~NftLoss()
    {
        if (m_installed)
            remove();
    }

private:
    bool m_installed = false;
};

inline const Connection *findConn(const SessionData &s, quint16 localPort, quint16 remotePort)
{
    for (const Connection &c : s.connections) {
        if (c.localPort == localPort && c.remotePort == remotePort)
            return &c;
    }
    return nullptr;
}

inline quint16 readPort(QProcess &p)
{
    if (!p.canReadLine() && !p.waitForReadyRead(10000))
        return 0;
    const QByteArray line = p.readLine().trimmed();
    return line.startsWith("port ") ? quint16(line.mid(5).toUInt()) : 0;
}

} // namespace tcpscope::tshark_test
