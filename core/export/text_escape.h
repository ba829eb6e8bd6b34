// SPDX-License-Identifier: GPL-3.0-or-later
// Text from a session file or from the kernel (host name, kernel release, process names, reason
// names, interface names) is untrusted: a crafted file could carry terminal escape sequences
// that clear the screen, retitle the window or fake output. Everything that prints such text
// for a terminal (`tcpscope info`, CSV on a terminal) passes it through escapeControls first.
// And CSV cells that a spreadsheet would run as a formula are neutralised on request
// (`export --csv-safe`).
#pragma once

#include <QByteArray>
#include <QString>

namespace tcpscope {

enum class LineBreaks
{
    Escape, // a single value: a line break in it is shown as \n like any control character
    Keep,   // text laid out in lines by tcpscope itself: '\n' stays a line break
};

// Control characters made visible: C0 (U+0000..U+001F, ESC and BEL included) and DEL as \xHH
// (\t, \n, \r as such), C1 (U+0080..U+009F, the 8-bit CSI included) as \u00HH. Everything else,
// printable Unicode included, is unchanged. Not meant to be reversible: backslashes stay as they
// are.
QString escapeControls(const QString &text, LineBreaks lineBreaks = LineBreaks::Escape);
// The same on UTF-8 bytes (a table cell), returning UTF-8.
QByteArray escapeControlsUtf8(const QByteArray &utf8);

// True when a spreadsheet would read the CSV cell as a formula: it starts with = + - @, a tab or
// a carriage return.
bool looksLikeFormula(const QByteArray &utf8);
// A cell that looks like a formula, prefixed with an apostrophe (shown as text, the apostrophe
// hidden by spreadsheets); any other cell unchanged.
QByteArray neutraliseFormula(const QByteArray &utf8);

} // namespace tcpscope
