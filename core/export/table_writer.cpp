// SPDX-License-Identifier: GPL-3.0-or-later
#include "export/table_writer.h"

#include "export/text_escape.h"

#include <cstdio>

namespace tcpscope {

namespace {

constexpr qsizetype kChunkBytes = 256 * 1024;

QByteArray csvField(const Cell &cell, const TextOptions &text)
{
    if (cell.kind != Cell::Text)
        return cell.value;
    QByteArray v = cell.value;
    if (text.escapeControls)
        v = escapeControlsUtf8(v);
    if (text.csvSafe)
        v = neutraliseFormula(v);
    // RFC 4180: quote fields with separators, quotes or line breaks; double inner quotes.
    if (!v.contains(',') && !v.contains('"') && !v.contains('\n') && !v.contains('\r'))
        return v;
    QByteArray quoted = v;
    quoted.replace('"', "\"\"");
    return '"' + quoted + '"';
}

void appendJsonString(QByteArray &out, const QByteArray &utf8)
{
    out += '"';
    for (qsizetype i = 0; i < utf8.size(); ++i) {
        const char ch = utf8[i];
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
            // JSON requires U+0000..U+001F escaped; DEL and the C1 controls (UTF-8 0xC2
            // 0x80..0x9F) are escaped too, so the file is safe to print on a terminal.
            if (u < 0x20 || u == 0x7f) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", u);
                out += buf;
            } else if (u == 0xc2 && i + 1 < utf8.size() &&
                       static_cast<unsigned char>(utf8[i + 1]) >= 0x80 &&
                       static_cast<unsigned char>(utf8[i + 1]) <= 0x9f) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x",
                              unsigned(static_cast<unsigned char>(utf8[++i])));
                out += buf;
            } else {
                out += ch; // UTF-8 passes through: JSON text is UTF-8
            }
        }
    }
    out += '"';
}

} // namespace

TableWriter::TableWriter(QIODevice &out, ExportFormat format, const QStringList &columns,
                         const TextOptions &text)
    : m_out(out), m_format(format), m_text(text)
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
            m_chunk += csvField(cells[i], m_text);
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

} // namespace tcpscope
