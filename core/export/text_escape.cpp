// SPDX-License-Identifier: GPL-3.0-or-later
#include "export/text_escape.h"

namespace tcpscope {

namespace {

bool isControl(char32_t ch)
{
    return ch < 0x20 || ch == 0x7f || (ch >= 0x80 && ch <= 0x9f);
}

void appendEscaped(QString &out, char32_t ch)
{
    switch (ch) {
    case '\t':
        out += QLatin1String("\\t");
        return;
    case '\n':
        out += QLatin1String("\\n");
        return;
    case '\r':
        out += QLatin1String("\\r");
        return;
    default:
        break;
    }
    if (ch < 0x80)
        out += QStringLiteral("\\x%1").arg(uint(ch), 2, 16, QLatin1Char('0'));
    else
        out += QStringLiteral("\\u%1").arg(uint(ch), 4, 16, QLatin1Char('0'));
}

} // namespace

QString escapeControls(const QString &text, LineBreaks lineBreaks)
{
    // The common case, plain text, is returned as is without copying.
    bool clean = true;
    for (QChar ch : text) {
        if (isControl(ch.unicode()) &&
            !(ch == QLatin1Char('\n') && lineBreaks == LineBreaks::Keep)) {
            clean = false;
            break;
        }
    }
    if (clean)
        return text;
    QString out;
    out.reserve(text.size() + 16);
    for (QChar ch : text) {
        const char32_t u = ch.unicode();
        if (isControl(u) && !(u == '\n' && lineBreaks == LineBreaks::Keep))
            appendEscaped(out, u);
        else
            out += ch;
    }
    return out;
}

QByteArray escapeControlsUtf8(const QByteArray &utf8)
{
    // C0 and DEL are single bytes below 0x80; C1 characters are 0xC2 0x80..0x9F in UTF-8.
    bool clean = true;
    for (qsizetype i = 0; i < utf8.size() && clean; ++i) {
        const auto b = static_cast<unsigned char>(utf8[i]);
        if (b < 0x20 || b == 0x7f ||
            (b == 0xc2 && i + 1 < utf8.size() && static_cast<unsigned char>(utf8[i + 1]) <= 0x9f))
            clean = false;
    }
    if (clean)
        return utf8;
    return escapeControls(QString::fromUtf8(utf8)).toUtf8();
}

bool looksLikeFormula(const QByteArray &utf8)
{
    if (utf8.isEmpty())
        return false;
    switch (utf8.front()) {
    case '=':
    case '+':
    case '-':
    case '@':
    case '\t':
    case '\r':
        return true;
    default:
        return false;
    }
}

QByteArray neutraliseFormula(const QByteArray &utf8)
{
    return looksLikeFormula(utf8) ? '\'' + utf8 : utf8;
}

} // namespace tcpscope
