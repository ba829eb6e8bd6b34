// SPDX-License-Identifier: GPL-3.0-or-later
// What the text in a filter box means. The display-filter language (core/filter, docs/FILTERS.md)
// first: text that compiles for the box's target is an expression. Plain words that are not an
// expression ("curl", "8080", "2001:db8::10", "dup syn") keep the older word match (every word
// must appear in the row's text), with a note that says so and shows the expression to write;
// text that looks like an expression (an operator, quotes, parentheses, a keyword, or a word
// in a field's namespace such as "tcp.prot") and does not compile is an error with its column.
#pragma once

#include "filter/display_filter.h"

#include <QString>

namespace tcpscope {

struct ParsedFilter
{
    enum Kind : quint8
    {
        Empty,      // nothing: everything is shown
        Expression, // filter holds the compiled expression
        Words,      // words (lower case, space separated) for the word match; note says so
        Invalid,    // error says where and why
    };
    Kind kind = Empty;
    DisplayFilter filter;
    QString words;
    QString note;
    FilterError error;

    bool isApplicable() const { return kind != Invalid; }
};

ParsedFilter parseFilterText(const QString &text, FilterTarget target);

} // namespace tcpscope
