// SPDX-License-Identifier: GPL-3.0-or-later
#include "filter/filter_expression.h"

#include "filter/display_filter.h"
#include "filter/fields.h"
#include "filter/lexer.h"

namespace tcpscope {

namespace {

// The literal for one stored value of a field of this type.
QString literal(const filter::FieldInfo &field, const ConnectionColumn &column,
                const ColumnValue &value)
{
    using filter::FieldType;
    if (value.kind == ColumnValue::Integer) {
        QString text = QString::number(value.integer);
        if (field.type == FieldType::Time || field.type == FieldType::Bytes)
            text += QLatin1String(column.filterUnit);
        return text;
    }
    if (value.kind != ColumnValue::Text)
        return {};
    switch (field.type) {
    case FieldType::Text:
        return filterStringLiteral(value.text);
    case FieldType::Enum:
    case FieldType::Address:
    case FieldType::Address4:
    case FieldType::Address6:
        return value.text; // a word: ESTABLISHED, listener-closed, 10.0.0.1, 2001:db8::1
    default:
        return {};
    }
}

// True when expr compiles as a connection filter and selects c.
bool selects(const QString &expr, const Connection &c)
{
    const DisplayFilter f = DisplayFilter::compile(expr, FilterTarget::Connections);
    return f.isValid() && !f.isEmpty() && f.matches(c, FilterContext());
}

// Whether text needs parentheses to be an operand of op: an || at its top level binds looser
// than &&, and ! binds to the next term only.
bool hasTopLevelOperator(const QString &text, bool orOnly)
{
    filter::LexError error;
    const QVector<filter::Token> tokens = filter::tokenize(text, &error);
    if (error.pos >= 0)
        return true;
    int depth = 0;
    for (const filter::Token &t : tokens) {
        switch (t.kind) {
        case filter::TokenKind::LParen:
            ++depth;
            break;
        case filter::TokenKind::RParen:
            --depth;
            break;
        case filter::TokenKind::OrOr:
            if (depth == 0)
                return true;
            break;
        case filter::TokenKind::AndAnd:
            if (depth == 0 && !orOnly)
                return true;
            break;
        case filter::TokenKind::Word:
            if (depth == 0 &&
                (t.text.compare(QLatin1String("or"), Qt::CaseInsensitive) == 0 ||
                 (!orOnly && t.text.compare(QLatin1String("and"), Qt::CaseInsensitive) == 0)))
                return true;
            break;
        default:
            break;
        }
    }
    return false;
}

// !(expr) for a comparison, !field for a bare field test.
QString negate(const QString &expr)
{
    filter::LexError error;
    const QVector<filter::Token> tokens = filter::tokenize(expr, &error);
    if (error.pos < 0 && tokens.size() == 2 && tokens.first().kind == filter::TokenKind::Word)
        return QLatin1Char('!') + expr;
    return QStringLiteral("!(%1)").arg(expr);
}

} // namespace

QString filterStringLiteral(const QString &s)
{
    QString out = QStringLiteral("\"");
    for (const QChar ch : s) {
        if (ch == QLatin1Char('"') || ch == QLatin1Char('\\'))
            out += QLatin1Char('\\');
        if (ch == QLatin1Char('\n'))
            out += QLatin1String("\\n");
        else if (ch == QLatin1Char('\t'))
            out += QLatin1String("\\t");
        else
            out += ch;
    }
    return out + QLatin1Char('"');
}

QString connectionColumnFilter(const ConnectionColumn &column, const Connection &c)
{
    if (qstrcmp(column.name, "family") == 0) {
        // No field names the family; the address fields exist only for their own family.
        const QString expr = c.family() == AddressFamily::IPv6   ? QStringLiteral("ipv6.addr")
                             : c.family() == AddressFamily::IPv4 ? QStringLiteral("ip.addr")
                                                                 : QString();
        return !expr.isEmpty() && selects(expr, c) ? expr : QString();
    }
    if (!column.filterField)
        return {};
    const filter::FieldInfo *field = filter::findField(QLatin1String(column.filterField));
    if (!field || !field->connections)
        return {};
    const ColumnValue value = column.value(c);
    if (value.kind != ColumnValue::Null) {
        const QString lit = literal(*field, column, value);
        if (!lit.isEmpty()) {
            QString expr = QStringLiteral("%1 == %2").arg(field->name, lit);
            if (selects(expr, c))
                return expr;
        }
    }
    // Unknown, or a stored value the filter does not see (bytes without close statistics):
    // the filter's own view of it is "absent".
    const QString absent = QLatin1Char('!') + field->name;
    return selects(absent, c) ? absent : QString();
}

QString connectionColumnsFilter(const QStringList &sqlColumns, const Connection &c)
{
    QStringList parts;
    for (const QString &name : sqlColumns) {
        const QByteArray latin = name.toLatin1();
        const ConnectionColumn *column = nullptr;
        for (const ConnectionColumn &col : connectionColumns())
            if (latin == col.name)
                column = &col;
        const QString expr = column ? connectionColumnFilter(*column, c) : QString();
        if (expr.isEmpty())
            return {};
        parts << expr;
    }
    return parts.join(QLatin1String(" && "));
}

QString combineFilters(const QString &current, const QString &selected, FilterCombine how)
{
    const QString base = current.trimmed();
    const bool negated = how == FilterCombine::NotSelected || how == FilterCombine::AndNot ||
                         how == FilterCombine::OrNot;
    QString operand = selected.trimmed();
    if (negated)
        operand = negate(operand);
    if (how == FilterCombine::Selected || how == FilterCombine::NotSelected || base.isEmpty())
        return operand;
    const bool isAnd = how == FilterCombine::And || how == FilterCombine::AndNot;
    if (isAnd) {
        // (a || b) && x; the selection is one term or a conjunction, fine as it is.
        const QString left =
            hasTopLevelOperator(base, true) ? QStringLiteral("(%1)").arg(base) : base;
        const QString right =
            hasTopLevelOperator(operand, true) ? QStringLiteral("(%1)").arg(operand) : operand;
        return QStringLiteral("%1 && %2").arg(left, right);
    }
    return QStringLiteral("%1 || %2").arg(base, operand);
}

} // namespace tcpscope
