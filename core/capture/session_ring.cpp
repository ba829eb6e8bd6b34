// SPDX-License-Identifier: GPL-3.0-or-later
#include "capture/session_ring.h"

#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <sys/stat.h>
#include <unistd.h>

namespace tcpscope {

namespace {

// "<digits><unit>" with the unit matched exactly from `units`; nullopt otherwise or on overflow.
std::optional<qint64> parseWithUnit(const QString &text,
                                    std::initializer_list<std::pair<const char *, qint64>> units)
{
    static const QRegularExpression re(QStringLiteral("^([0-9]{1,18})([A-Za-z]+)$"));
    const QRegularExpressionMatch m = re.match(text);
    if (!m.hasMatch())
        return std::nullopt;
    bool ok = false;
    const qint64 n = m.captured(1).toLongLong(&ok);
    if (!ok || n <= 0)
        return std::nullopt;
    for (const auto &[name, factor] : units) {
        if (m.captured(2) != QLatin1String(name))
            continue;
        if (n > std::numeric_limits<qint64>::max() / factor)
            return std::nullopt;
        return n * factor;
    }
    return std::nullopt;
}

} // namespace

std::optional<qint64> parseByteSize(const QString &text)
{
    return parseWithUnit(text, {{"B", 1},
                                {"kB", 1000},
                                {"KB", 1000},
                                {"MB", 1000 * 1000},
                                {"GB", 1000LL * 1000 * 1000},
                                {"KiB", 1024},
                                {"MiB", 1024 * 1024},
                                {"GiB", 1024LL * 1024 * 1024}});
}

std::optional<qint64> parseDurationMs(const QString &text)
{
    return parseWithUnit(
        text, {{"s", 1000}, {"m", 60 * 1000}, {"h", 3600 * 1000}, {"d", 24LL * 3600 * 1000}});
}

std::optional<StopCondition> parseStopCondition(const QString &text, QString *error)
{
    StopCondition c;
    if (const auto bytes = parseByteSize(text)) {
        c.bytes = *bytes;
        return c;
    }
    if (const auto ms = parseDurationMs(text)) {
        c.durationMs = *ms;
        return c;
    }
    if (text.endsWith(QLatin1String("conn"))) {
        const QString digits = text.chopped(4);
        bool ok = !digits.isEmpty() && digits.size() <= 18 &&
                  std::all_of(digits.cbegin(), digits.cend(), [](QChar ch) {
                      return ch >= QLatin1Char('0') && ch <= QLatin1Char('9');
                  });
        c.connections = ok ? digits.toLongLong(&ok) : 0;
        if (ok && c.connections > 0)
            return c;
    }
    if (error)
        *error = QStringLiteral("--stop-after: expected a size (e.g. 100MB, 512KiB), a duration "
                                "(e.g. 30s, 10m, 2h) or a number of connections (e.g. 5000conn), "
                                "got '%1'")
                     .arg(text);
    return std::nullopt;
}

std::optional<RotationLimits> parseRotation(const QString &text, QString *error)
{
    RotationLimits r;
    if (const auto bytes = parseByteSize(text)) {
        // Below this a file is mostly its own schema and would be replaced every publish.
        constexpr qint64 kMinBytes = 64 * 1024;
        if (*bytes < kMinBytes) {
            if (error)
                *error = QStringLiteral("--rotate: a file size of at least 64KiB is needed, got "
                                        "'%1'")
                             .arg(text);
            return std::nullopt;
        }
        r.maxBytes = *bytes;
        return r;
    }
    if (const auto ms = parseDurationMs(text)) {
        r.maxDurationMs = *ms;
        return r;
    }
    if (error)
        *error = QStringLiteral("--rotate: expected a file size (e.g. 100MB, 512KiB) or a "
                                "duration (e.g. 30s, 10m, 1h), got '%1'")
                     .arg(text);
    return std::nullopt;
}

QString ringFileName(const QString &base, int number, const QDateTime &started)
{
    // The extension is that of the file name, not of a directory ("a.b/out" has none).
    const int slash = base.lastIndexOf(QLatin1Char('/'));
    const int dot = base.lastIndexOf(QLatin1Char('.'));
    const bool hasExt = dot > slash + 1;
    const QString stem = hasExt ? base.left(dot) : base;
    const QString ext = hasExt ? base.mid(dot) : QString();
    return QStringLiteral("%1_%2_%3%4")
        .arg(stem)
        .arg(number, 5, 10, QLatin1Char('0'))
        .arg(started.toString(QStringLiteral("yyyyMMddHHmmss")), ext);
}

std::optional<QString> SessionRing::nextPath(const QDateTime &now, QString *error)
{
    const QString path = ringFileName(m_base, m_number + 1, now);
    struct stat st
    {
    };
    if (lstat(QFile::encodeName(path).constData(), &st) == 0) {
        if (error)
            *error = QStringLiteral("%1 already exists; not overwriting it").arg(path);
        return std::nullopt;
    }
    ++m_number;
    return path;
}

QStringList SessionRing::takeExpired()
{
    QStringList out;
    while (m_limits.keep > 0 && m_files.size() > m_limits.keep)
        out.append(m_files.takeFirst());
    return out;
}

bool removeRingFile(const QString &path, QString *error)
{
    bool ok = true;
    for (const QString &p : {path, path + QStringLiteral("-wal"), path + QStringLiteral("-shm"),
                             path + QStringLiteral("-journal")}) {
        struct stat st
        {
        };
        const QByteArray native = QFile::encodeName(p);
        if (lstat(native.constData(), &st) != 0)
            continue; // a side file that is not there
        if (!S_ISREG(st.st_mode)) {
            if (error)
                *error = QStringLiteral("%1 is not a regular file; not deleting it").arg(p);
            ok = false;
            continue;
        }
        if (unlink(native.constData()) != 0) {
            if (error)
                *error = QStringLiteral("cannot delete %1: %2")
                             .arg(p, QString::fromLocal8Bit(std::strerror(errno)));
            ok = false;
        }
    }
    return ok;
}

} // namespace tcpscope
