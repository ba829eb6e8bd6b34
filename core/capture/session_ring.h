// SPDX-License-Identifier: GPL-3.0-or-later
// A ring of session files for long recordings (`tcpscope record --rotate ... --keep N`), and
// the size/duration/count values the record command's --rotate and --stop-after take.
//
// Naming: the -o path BASE.EXT becomes BASE_NNNNN_YYYYmmddHHMMSS.EXT, NNNNN the file's number
// in this recording (from 00001) and the local time it was started; a path without an
// extension gets none. Each file is a complete session; LiveCapture switches files while
// capturing. Only files this recording created are ever deleted, and only regular files.
#pragma once

#include <QDateTime>
#include <QString>
#include <QStringList>
#include <QtGlobal>
#include <optional>

namespace tcpscope {

struct RotationLimits
{
    qint64 maxBytes = 0;      // start a new file when the current one reaches this size; 0 = no
    qint64 maxDurationMs = 0; // ... or has covered this long; 0 = no
    int keep = 0;             // files kept, oldest deleted beyond it; 0 = all
    bool active() const { return maxBytes > 0 || maxDurationMs > 0; }
};

// "100MB", "512kB", "1GiB", "4096B" -> bytes. Decimal kB/MB/GB (1000^n) and binary KiB/MiB/GiB
// (1024^n); digits only before the unit. nullopt for anything else or 0.
std::optional<qint64> parseByteSize(const QString &text);
// "30s", "10m", "2h", "1d" -> milliseconds; digits only before the unit. nullopt otherwise or 0.
std::optional<qint64> parseDurationMs(const QString &text);

// `--stop-after` value: exactly one of the three is set.
struct StopCondition
{
    qint64 bytes = 0;       // total size of the session files written (deleted ones included)
    qint64 durationMs = 0;  // capture time
    qint64 connections = 0; // connections seen ("5000conn")
};
// SIZE, DURATION or COUNTconn; nullopt + a sentence for anything else.
std::optional<StopCondition> parseStopCondition(const QString &text, QString *error);
// SIZE or DURATION for --rotate; nullopt + a sentence otherwise.
std::optional<RotationLimits> parseRotation(const QString &text, QString *error);

// BASE_NNNNN_YYYYmmddHHMMSS.EXT for -o path `base`.
QString ringFileName(const QString &base, int number, const QDateTime &started);

// The files of one recording, oldest first: which to create next and which to delete.
class SessionRing
{
public:
    SessionRing(const QString &base, const RotationLimits &limits) : m_base(base), m_limits(limits)
    {
    }
    const RotationLimits &limits() const { return m_limits; }
    // The next file's name (not yet existing); nullopt + reason when the name is taken by
    // anything (a file of another recording, a symlink): the ring never writes through it.
    std::optional<QString> nextPath(const QDateTime &now, QString *error);
    // The file just created by nextPath()'s name is now part of the ring.
    void added(const QString &path) { m_files.append(path); }
    // Files beyond `keep`, oldest first, removed from the ring's list; the caller deletes them
    // (removeRingFile) once they are closed.
    QStringList takeExpired();
    QStringList files() const { return m_files; } // still present, oldest first
    int created() const { return m_number; }

private:
    QString m_base;
    RotationLimits m_limits;
    int m_number = 0;
    QStringList m_files;
};

// Deletes one ring file if it is a regular file (never a symlink or anything else), with the
// SQLite side files a crash may have left; false + reason otherwise.
bool removeRingFile(const QString &path, QString *error);

} // namespace tcpscope
