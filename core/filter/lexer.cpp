// SPDX-License-Identifier: GPL-3.0-or-later
#include "filter/lexer.h"

namespace tcpscope::filter {

namespace {

bool isWordChar(QChar c)
{
    return c.isLetterOrNumber() || c == QLatin1Char('_') || c == QLatin1Char('.') ||
           c == QLatin1Char(':') || c == QLatin1Char('/') || c == QLatin1Char('-') ||
           c == QLatin1Char('+');
}

} // namespace

QVector<Token> tokenize(const QString &text, LexError *error)
{
    QVector<Token> tokens;
    *error = {};
    const int n = int(text.size());
    int i = 0;
    auto push = [&](TokenKind kind, int pos, int len, QString t = QString()) {
        // Punctuation and words carry their text as written (for messages).
        tokens.append(Token{kind, pos, len, t.isNull() ? text.mid(pos, len) : std::move(t)});
    };
    while (i < n) {
        const QChar c = text[i];
        if (c.isSpace()) {
            ++i;
            continue;
        }
        const QChar next = i + 1 < n ? text[i + 1] : QChar();
        auto two = [&](char a, char b) { return c == QLatin1Char(a) && next == QLatin1Char(b); };
        if (two('=', '=')) {
            push(TokenKind::Eq, i, 2);
            i += 2;
        } else if (two('!', '=')) {
            push(TokenKind::Ne, i, 2);
            i += 2;
        } else if (two('<', '=')) {
            push(TokenKind::Le, i, 2);
            i += 2;
        } else if (two('>', '=')) {
            push(TokenKind::Ge, i, 2);
            i += 2;
        } else if (two('&', '&')) {
            push(TokenKind::AndAnd, i, 2);
            i += 2;
        } else if (two('|', '|')) {
            push(TokenKind::OrOr, i, 2);
            i += 2;
        } else if (two('.', '.')) {
            push(TokenKind::DotDot, i, 2);
            i += 2;
        } else if (c == QLatin1Char('<')) {
            push(TokenKind::Lt, i++, 1);
        } else if (c == QLatin1Char('>')) {
            push(TokenKind::Gt, i++, 1);
        } else if (c == QLatin1Char('!')) {
            push(TokenKind::Bang, i++, 1);
        } else if (c == QLatin1Char('(')) {
            push(TokenKind::LParen, i++, 1);
        } else if (c == QLatin1Char(')')) {
            push(TokenKind::RParen, i++, 1);
        } else if (c == QLatin1Char('{')) {
            push(TokenKind::LBrace, i++, 1);
        } else if (c == QLatin1Char('}')) {
            push(TokenKind::RBrace, i++, 1);
        } else if (c == QLatin1Char(',')) {
            push(TokenKind::Comma, i++, 1);
        } else if (c == QLatin1Char('"')) {
            const int start = i++;
            QString value;
            bool closed = false;
            while (i < n) {
                const QChar s = text[i++];
                if (s == QLatin1Char('"')) {
                    closed = true;
                    break;
                }
                if (s == QLatin1Char('\\') && i < n) {
                    const QChar e = text[i++];
                    value += e == QLatin1Char('n')   ? QChar(QLatin1Char('\n'))
                             : e == QLatin1Char('t') ? QChar(QLatin1Char('\t'))
                                                     : e;
                } else {
                    value += s;
                }
            }
            if (!closed) {
                *error = {start, QStringLiteral("unterminated string starting at %1: expected a "
                                                "closing '\"'")
                                     .arg(start + 1)};
                return tokens;
            }
            push(TokenKind::String, start, i - start,
                 value.isNull() ? QString(QLatin1String("")) : value);
        } else if (isWordChar(c)) {
            const int start = i;
            while (i < n && isWordChar(text[i]) &&
                   !(text[i] == QLatin1Char('.') && i + 1 < n && text[i + 1] == QLatin1Char('.')))
                ++i;
            push(TokenKind::Word, start, i - start, text.mid(start, i - start));
        } else {
            QString hint;
            if (c == QLatin1Char('='))
                hint = QStringLiteral(" (use '==' to compare)");
            else if (c == QLatin1Char('&'))
                hint = QStringLiteral(" (use '&&' or 'and')");
            else if (c == QLatin1Char('|'))
                hint = QStringLiteral(" (use '||' or 'or')");
            else if (c == QLatin1Char('\''))
                hint = QStringLiteral(" (strings are quoted with '\"')");
            *error = {
                i, QStringLiteral("unexpected character '%1' at %2%3").arg(c).arg(i + 1).arg(hint)};
            return tokens;
        }
    }
    push(TokenKind::End, n, 0);
    return tokens;
}

QString describeToken(const Token &token)
{
    switch (token.kind) {
    case TokenKind::End:
        return QStringLiteral("the end of the expression");
    case TokenKind::String:
        return QStringLiteral("\"%1\"").arg(token.text);
    default:
        return QStringLiteral("'%1'").arg(token.text);
    }
}

} // namespace tcpscope::filter
