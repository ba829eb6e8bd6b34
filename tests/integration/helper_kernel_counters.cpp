// SPDX-License-Identifier: GPL-3.0-or-later
#include "helper_kernel_counters.h"

#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QStringList>
#include <csignal>
#include <unistd.h>

namespace tcpscope::test {

namespace {
constexpr const char *kTablePrefix = "tcpscope_test_";

QString nftPath()
{
    return QStandardPaths::findExecutable("nft", {"/usr/sbin", "/sbin", "/usr/bin"});
}

bool runNft(const QStringList &args, QString *out = nullptr, QString *error = nullptr)
{
    const QString nft = nftPath();
    if (nft.isEmpty()) {
        if (error)
            *error = "nft not found";
        return false;
    }
    QProcess p;
    p.start(nft, args);
    const bool ok =
        p.waitForFinished(10000) && p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0;
    if (out)
        *out = QString::fromLocal8Bit(p.readAllStandardOutput());
    if (!ok && error)
        *error = "nft " + args.join(' ') + ": " + QString::fromLocal8Bit(p.readAllStandardError());
    return ok;
}
} // namespace

std::optional<std::uint64_t> kernelCounter(const QString &file, const QString &group,
                                           const QString &name)
{
    QFile f(file);
    if (!f.open(QIODevice::ReadOnly))
        return std::nullopt;
    const QStringList lines = QString::fromLatin1(f.readAll()).split('\n');
    const QString prefix = group + ":";
    for (int i = 0; i + 1 < lines.size(); ++i) {
        if (!lines[i].startsWith(prefix) || !lines[i + 1].startsWith(prefix))
            continue;
        const QStringList names = lines[i].split(' ', Qt::SkipEmptyParts);
        const QStringList values = lines[i + 1].split(' ', Qt::SkipEmptyParts);
        const int at = names.indexOf(name);
        if (at <= 0 || at >= values.size())
            return std::nullopt;
        bool ok = false;
        const std::uint64_t v = values[at].toULongLong(&ok);
        return ok ? std::optional<std::uint64_t>(v) : std::nullopt;
    }
    return std::nullopt;
}

bool NftDropRule::available()
{
    return !nftPath().isEmpty() && runNft({"list", "tables"});
}

void NftDropRule::removeStale()
{
    QString out;
    if (!runNft({"list", "tables"}, &out))
        return;
    static const QRegularExpression re(QStringLiteral("table inet (%1(\\d+))").arg(kTablePrefix));
    for (auto it = re.globalMatch(out); it.hasNext();) {
        const auto m = it.next();
        const pid_t pid = m.captured(2).toInt();
        if (pid > 0 && ::kill(pid, 0) != 0)
            runNft({"delete", "table", "inet", m.captured(1)});
    }
}

bool NftDropRule::install(unsigned port, bool sourcePort, unsigned percent, QString *error)
{
    return installMatch(QStringLiteral("tcp %1 %2 numgen random mod 100 < %3")
                            .arg(sourcePort ? "sport" : "dport")
                            .arg(port)
                            .arg(percent),
                        error);
}

bool NftDropRule::installMatch(const QString &match, QString *error)
{
    remove();
    const QString table = kTablePrefix + QString::number(getpid());
    runNft({"delete", "table", "inet", table}); // ours from an earlier test function, if any
    m_table = table;
    if (!runNft({"add", "table", "inet", table}, nullptr, error) ||
        !runNft({"add", "chain", "inet", table, "in",
                 "{ type filter hook input priority 0; policy accept; }"},
                nullptr, error) ||
        !runNft(QStringList{"add", "rule", "inet", table, "in"} +
                    (match + " counter drop").split(' ', Qt::SkipEmptyParts),
                nullptr, error)) {
        remove();
        return false;
    }
    return true;
}

long long NftDropRule::dropped() const
{
    QString out;
    if (m_table.isEmpty() || !runNft({"list", "table", "inet", m_table}, &out))
        return -1;
    static const QRegularExpression re(QStringLiteral("counter packets (\\d+)"));
    const auto m = re.match(out);
    return m.hasMatch() ? m.captured(1).toLongLong() : -1;
}

void NftDropRule::remove()
{
    if (m_table.isEmpty())
        return;
    runNft({"delete", "table", "inet", m_table});
    m_table.clear();
}

} // namespace tcpscope::test
