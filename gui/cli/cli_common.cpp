// SPDX-License-Identifier: GPL-3.0-or-later
#include "cli_commands.h"

#include "export/text_escape.h"

#include <QDateTime>
#include <QFile>
#include <cstdio>

namespace tcpscope::cli {

void printOut(const QString &text)
{
    const QByteArray bytes = text.toLocal8Bit();
    std::fwrite(bytes.constData(), 1, std::size_t(bytes.size()), stdout);
    std::fflush(stdout);
}

void printErr(const QString &text)
{
    // Messages may quote a file's contents (a table name, a value): never a control sequence.
    const QByteArray bytes =
        (QStringLiteral("tcpscope: ") + escapeControls(text, LineBreaks::Keep) + QLatin1Char('\n'))
            .toLocal8Bit();
    std::fwrite(bytes.constData(), 1, std::size_t(bytes.size()), stderr);
    std::fflush(stderr);
}

int usageError(const QString &command, const QString &message)
{
    const QString where = command.isEmpty() ? QString() : command + QStringLiteral(": ");
    printErr(where + message);
    const QByteArray hint = QStringLiteral("Run 'tcpscope %1--help' for usage.\n")
                                .arg(command.isEmpty() ? QString() : command + QLatin1Char(' '))
                                .toLocal8Bit();
    std::fwrite(hint.constData(), 1, std::size_t(hint.size()), stderr);
    return kExitUsage;
}

std::unique_ptr<Session> openSession(const QString &path)
{
    QString error;
    auto session = Session::open(path, &error);
    if (!session)
        printErr(QStringLiteral("%1: %2").arg(path, error));
    return session;
}

bool compileDisplayFilter(const QString &command, const QString &text, FilterTarget target,
                          DisplayFilter *filter)
{
    FilterError error;
    *filter = DisplayFilter::compile(text, target, &error);
    if (filter->isValid())
        return true;
    printErr(QStringLiteral("%1: -Y: %2").arg(command, error.message));
    return false;
}

QString isoTime(qint64 wallNs)
{
    if (wallNs <= 0)
        return QStringLiteral("-");
    return QDateTime::fromMSecsSinceEpoch(wallNs / 1'000'000, Qt::UTC).toString(Qt::ISODateWithMs);
}

bool durationOption(const QString &command, const QCommandLineParser &parser,
                    const QCommandLineOption &option, double *seconds)
{
    if (!parser.isSet(option))
        return true;
    bool ok = false;
    const double value = parser.value(option).toDouble(&ok);
    if (!ok || !(value > 0) || value > 365.0 * 24 * 3600) {
        usageError(command, QStringLiteral("--duration: expected a positive number of seconds, "
                                           "got '%1'")
                                .arg(parser.value(option)));
        return false;
    }
    *seconds = value;
    return true;
}

bool hostOptions(const QString &command, const QCommandLineParser &parser,
                 const QCommandLineOption &remote, const QCommandLineOption &remoteHelper,
                 const QCommandLineOption &local, QVector<std::optional<RemoteTarget>> *hosts)
{
    hosts->clear();
    const QStringList dests = parser.values(remote);
    QString helperPath;
    if (parser.isSet(remoteHelper)) {
        if (dests.isEmpty()) {
            usageError(command, QStringLiteral("--remote-helper goes with --remote DEST"));
            return false;
        }
        if (parser.values(remoteHelper).size() > 1) {
            usageError(command, QStringLiteral("--remote-helper: give it once (it is the same "
                                               "path on every host)"));
            return false;
        }
        helperPath = parser.value(remoteHelper);
        if (helperPath.isEmpty()) {
            usageError(command, QStringLiteral("--remote-helper: empty path"));
            return false;
        }
    }
    if (parser.isSet(local) && dests.isEmpty()) {
        usageError(command, QStringLiteral("--local goes with --remote DEST (this machine is the "
                                           "default)"));
        return false;
    }
    if (dests.isEmpty() || parser.isSet(local))
        hosts->append(std::nullopt);
    for (qsizetype i = 0; i < dests.size(); ++i) {
        if (dests[i].trimmed().isEmpty()) {
            usageError(command, QStringLiteral("--remote: empty destination"));
            return false;
        }
        if (dests.indexOf(dests[i]) != i) {
            usageError(command, QStringLiteral("--remote: '%1' given twice").arg(dests[i]));
            return false;
        }
        hosts->append(RemoteTarget{dests[i], helperPath});
    }
    return true;
}

bool loadAlertConfig(const QString &command, const QString &path, AlertConfig *config)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        printErr(QStringLiteral("%1: --rules %2: %3").arg(command, path, f.errorString()));
        return false;
    }
    // A rules file is a few lines; anything this large is the wrong file.
    const QByteArray bytes = f.read(1024 * 1024 + 1);
    if (bytes.size() > 1024 * 1024) {
        printErr(QStringLiteral("%1: --rules %2: larger than 1 MiB; not a rules file")
                     .arg(command, path));
        return false;
    }
    QString error;
    const auto parsed = parseAlertConfig(QString::fromUtf8(bytes), &error);
    if (!parsed) {
        printErr(QStringLiteral("%1: %2: %3").arg(command, path, error));
        return false;
    }
    *config = *parsed;
    return true;
}

} // namespace tcpscope::cli
