// SPDX-License-Identifier: GPL-3.0-or-later
// Streams a table as CSV (RFC 4180) or JSON (one array of objects) row by row, for the
// connection and packet exports: memory stays constant however many rows a session holds.
// JSON is written by hand so 64-bit integers (ns timestamps, byte counts) stay exact.
#pragma once

#include <QByteArray>
#include <QIODevice>
#include <QString>
#include <QStringList>
#include <QVector>

namespace tcpscope {

enum class ExportFormat
{
    Csv,
    Json
};

// One value per column; text is marked so CSV/JSON can quote it, null for "unknown".
struct Cell
{
    enum Kind
    {
        Null,
        Number,
        Text
    } kind = Null;
    QByteArray value;

    static Cell num(qint64 v) { return {Number, QByteArray::number(v)}; }
    static Cell unum(quint64 v) { return {Number, QByteArray::number(v)}; }
    static Cell text(const QString &s) { return {Text, s.toUtf8()}; }
    static Cell ms(double v) { return {Number, QByteArray::number(v, 'f', 3)}; }
};

// How text cells are written beyond what the format needs (text_escape.h).
struct TextOptions
{
    bool escapeControls = false; // CSV for a terminal: control characters made visible
    bool csvSafe = false;        // CSV: a text cell that would start a formula gets a leading '
};

class TableWriter
{
public:
    TableWriter(QIODevice &out, ExportFormat format, const QStringList &columns,
                const TextOptions &text = {});

    // Header (CSV) or the opening bracket (JSON).
    bool begin();
    // One row, exactly one cell per column.
    bool row(const QVector<Cell> &cells);
    // The closing bracket (JSON) and everything still buffered.
    bool finish();
    // The device's reason after a failed call.
    QString error() const { return m_error; }
    qint64 rows() const { return m_rows; }

private:
    bool flushIfFull();
    bool flush();

    QIODevice &m_out;
    ExportFormat m_format;
    TextOptions m_text;
    QVector<QByteArray> m_keys; // CSV: column names; JSON: quoted keys
    QByteArray m_chunk;
    qint64 m_rows = 0;
    QString m_error;
};

// Format from the suffix (.csv / .json, case-insensitive; "-" is CSV on stdout); false for
// others.
bool exportFormatForPath(const QString &path, ExportFormat *format);

} // namespace tcpscope
