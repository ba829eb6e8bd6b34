// SPDX-License-Identifier: GPL-3.0-or-later
#include "models/filter_text.h"

#include "filter/fields.h"

#include <QRegularExpression>
#include <QSet>

namespace tcpscope {

namespace {

// The part before the first dot of every field name: tcp, ip, ipv6, conn, proc, kernel, ...
const QSet<QString> &fieldNamespaces()
{
    static const QSet<QString> spaces = [] {
        QSet<QString> s;
        for (const filter::FieldInfo &f : filter::fields())
            s.insert(f.name.section(QLatin1Char('.'), 0, 0));
        return s;
    }();
    return spaces;
}

// A word of the old word filter, and nothing the expression language would read as its own.
bool isPlainWord(const QString &word)
{
    static const QRegularExpression plain(QStringLiteral("^[\\w.:/\\-=%]+$"),
                                          QRegularExpression::UseUnicodePropertiesOption);
    static const QSet<QString> keywords = {
        QStringLiteral("and"), QStringLiteral("or"),       QStringLiteral("not"),
        QStringLiteral("eq"),  QStringLiteral("ne"),       QStringLiteral("lt"),
        QStringLiteral("le"),  QStringLiteral("gt"),       QStringLiteral("ge"),
        QStringLiteral("in"),  QStringLiteral("contains"), QStringLiteral("matches"),
    };
    if (!plain.match(word).hasMatch() || word.contains(QLatin1String("==")))
        return false;
    if (keywords.contains(word.toLower()))
        return false;
    // "tcp.prot", "conn.stat": a misspelt field, which deserves the language's message.
    if (word.contains(QLatin1Char('.')) &&
        fieldNamespaces().contains(word.section(QLatin1Char('.'), 0, 0)))
        return false;
    return true;
}

} // namespace

ParsedFilter parseFilterText(const QString &text, FilterTarget target)
{
    ParsedFilter parsed;
    const QString trimmed = text.simplified();
    if (trimmed.isEmpty())
        return parsed;
    FilterError error;
    DisplayFilter filter = DisplayFilter::compile(trimmed, target, &error);
    if (filter.isValid()) {
        parsed.kind = ParsedFilter::Expression;
        parsed.filter = std::move(filter);
        return parsed;
    }
    const QStringList words = trimmed.split(QLatin1Char(' '), Qt::SkipEmptyParts);
    if (std::all_of(words.cbegin(), words.cend(), isPlainWord)) {
        parsed.kind = ParsedFilter::Words;
        parsed.words = trimmed.toLower();
        const QString example = target == FilterTarget::Connections
                                    ? QStringLiteral("proc.name == \"%1\"").arg(words.first())
                                    : QStringLiteral("tcp.analysis.retransmission");
        // Short enough for the status bar; the box's tooltip says where words are looked for.
        parsed.note = QObject::tr("Not a filter expression: matching the words as text (an "
                                  "expression: %1)")
                          .arg(example);
        return parsed;
    }
    parsed.kind = ParsedFilter::Invalid;
    parsed.error = error;
    return parsed;
}

} // namespace tcpscope
