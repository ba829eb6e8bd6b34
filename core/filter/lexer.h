// SPDX-License-Identifier: GPL-3.0-or-later
// Tokens of a display filter. Words are field names, keywords and unquoted literals alike
// (10.0.0.0/8, fe80::1, 1.5s, ESTABLISHED, listener-closed); the parser decides by position
// what a word is. ".." always ends a word, so "1..10" is three tokens.
#pragma once

#include <QString>
#include <QVector>

namespace tcpscope::filter {

enum class TokenKind : quint8
{
    Word,
    String, // "..." with \" \\ \n \t escapes; text holds the unescaped content
    LParen,
    RParen,
    LBrace,
    RBrace,
    Comma,
    DotDot,
    Eq,     // ==
    Ne,     // !=
    Lt,     // <
    Le,     // <=
    Gt,     // >
    Ge,     // >=
    Bang,   // !
    AndAnd, // &&
    OrOr,   // ||
    End,
};

struct Token
{
    TokenKind kind = TokenKind::End;
    int pos = 0; // 0-based offset in the expression
    int len = 0;
    QString text; // Word: as written; String: unescaped
};

struct LexError
{
    int pos = -1; // -1: no error
    QString message;
};

// The tokens of text, ending with End (at text.size()). On error, *error is set and the tokens
// up to it are returned.
QVector<Token> tokenize(const QString &text, LexError *error);

// "'==' ", "end of the expression", "'tcp.port'": how messages name a token.
QString describeToken(const Token &token);

} // namespace tcpscope::filter
