// SPDX-License-Identifier: GPL-3.0-or-later
#include "export/table_writer.h"

#include <QFile>
#include <QSaveFile>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sys/stat.h>

namespace tcpscope {

namespace {

constexpr qsizetype kChunkBytes = 256 * 1024;

QByteArray csvField(const Cell &cell)
{
    if (cell.kind != Cell::Text)
        return cell.value;
    // RFC 4180: quote fields with separators, quotes or line breaks; double inner quotes.
    const QByteArray &v = cell.value;
    if (!v.contains(',') && !v.contains('"') && !v.contains('\n') && !v.contains('\r'))
        return v;
    QByteArray quoted = v;
    quoted.replace('"', "\"\"");
    return '"' + quoted + '"';
}

void appendJsonString(QByteArray &out, const QByteArray &utf8)
{
    out += '"';
    for (char ch : utf8) {
        const auto u = static_cast<unsigned char>(ch);
        switch (ch) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        default:
            if (u < 0x20) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", u);
                out += buf;
            } else {
                out += ch; // UTF-8 passes through: JSON text is UTF-8
            }
        }
    }
    out += '"';
}

} // namespace

TableWriter::TableWriter(QIODevice &out, ExportFormat format, const QStringList &columns)
    : m_out(out), m_format(format)
{
    for (const QString &name : columns) {
        if (format == ExportFormat::Csv) {
            m_keys.append(name.toUtf8());
        } else {
            QByteArray key;
            appendJsonString(key, name.toUtf8());
            m_keys.append(key + ": ");
        }
    }
}

bool TableWriter::begin()
{
    if (m_format == ExportFormat::Csv) {
        for (qsizetype i = 0; i < m_keys.size(); ++i) {
            if (i)
                m_chunk += ',';
            m_chunk += m_keys[i];
        }
        m_chunk += "\r\n";
    } else {
        m_chunk += '[';
    }
    return flushIfFull();
}

bool TableWriter::row(const QVector<Cell> &cells)
{
    if (m_format == ExportFormat::Csv) {
        for (qsizetype i = 0; i < cells.size(); ++i) {
            if (i)
                m_chunk += ',';
            m_chunk += csvField(cells[i]);
        }
        m_chunk += "\r\n";
    } else {
        m_chunk += m_rows ? ",\n  {" : "\n  {";
        for (qsizetype i = 0; i < cells.size(); ++i) {
            if (i)
                m_chunk += ", ";
            m_chunk += m_keys.value(i);
            switch (cells[i].kind) {
            case Cell::Null:
                m_chunk += "null";
                break;
            case Cell::Number:
                m_chunk += cells[i].value;
                break;
            case Cell::Text:
                appendJsonString(m_chunk, cells[i].value);
                break;
            }
        }
        m_chunk += '}';
    }
    ++m_rows;
    return flushIfFull();
}

bool TableWriter::finish()
{
    if (m_format == ExportFormat::Json)
        m_chunk += m_rows ? "\n]\n" : "]\n";
    return flush();
}

bool TableWriter::flushIfFull()
{
    return m_chunk.size() < kChunkBytes || flush();
}

bool TableWriter::flush()
{
    if (m_out.write(m_chunk) != m_chunk.size()) {
        m_error = m_out.errorString();
        return false;
    }
    m_chunk.clear();
    return true;
}

bool exportFormatForPath(const QString &path, ExportFormat *format)
{
    if (path == QLatin1String("-") || path.endsWith(QLatin1String(".csv"), Qt::CaseInsensitive))
        *format = ExportFormat::Csv;
    else if (path.endsWith(QLatin1String(".json"), Qt::CaseInsensitive))
        *format = ExportFormat::Json;
    else
        return false;
    return true;
}

bool outputPathAllowed(const QString &path, QString *error)
{
    struct stat st;
    const QByteArray native = QFile::encodeName(path);
    if (::lstat(native.constData(), &st) != 0) {
        if (errno == ENOENT)
            return true;
        if (error)
            *error =
                QStringLiteral("%1: %2").arg(path, QString::fromLocal8Bit(std::strerror(errno)));
        return false;
    }
    if (S_ISREG(st.st_mode))
        return true;
    if (error) {
        const QString what = S_ISLNK(st.st_mode)   ? QStringLiteral("a symbolic link")
                             : S_ISDIR(st.st_mode) ? QStringLiteral("a directory")
                                                   : QStringLiteral("not a regular file");
        *error = QStringLiteral("%1: is %2; refusing to write through it (give a new file name or "
                                "a regular file to replace)")
                     .arg(path, what);
    }
    return false;
}

bool writeOutputFile(const QString &path, const std::function<bool(QIODevice &, QString *)> &write,
                     QString *error)
{
    QString err;
    if (path == QLatin1String("-")) {
        QFile out;
        if (!out.open(stdout, QIODevice::WriteOnly)) {
            if (error)
                *error = QStringLiteral("stdout: ") + out.errorString();
            return false;
        }
        const bool ok = write(out, &err) && out.flush();
        if (!ok && error)
            *error = QStringLiteral("stdout: ") + (err.isEmpty() ? out.errorString() : err);
        return ok;
    }
    if (!outputPathAllowed(path, error))
        return false;
    // QSaveFile writes a temporary file next to path and renames it on commit(); any failure
    // (open, a short write on a full disk, close) discards the temporary and leaves path as it
    // was. Symlinks were refused above, so it never resolves one to write elsewhere.
    QSaveFile out(path);
    if (!out.open(QIODevice::WriteOnly)) {
        if (error)
            *error = QStringLiteral("%1: cannot write: %2").arg(path, out.errorString());
        return false;
    }
    if (!write(out, &err)) {
        const QString reason = err.isEmpty() ? out.errorString() : err;
        out.cancelWriting();
        if (error)
            *error = QStringLiteral("%1: %2").arg(path, reason);
        return false;
    }
    if (!out.commit()) {
        if (error)
            *error = QStringLiteral("%1: write failed: %2").arg(path, out.errorString());
        return false;
    }
    return true;
}

} // namespace tcpscope
