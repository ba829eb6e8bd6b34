// SPDX-License-Identifier: GPL-3.0-or-later
// Display-filter expressions built from values, for "Apply as Filter" / "Prepare as Filter" /
// "Copy as Filter": the expression that selects a connection's value in one column
// (proc.name == "curl", conn.remote_port == 443, !conn.handshake_time), and the ways to combine
// it with the filter already in the box, as Wireshark does (!( … ), ( … ) && …, … || …).
//
// The column → field mapping is the column list itself (ConnectionColumn::filterField in
// core/model/connection_columns.cpp): one definition for the session file, the exports and the
// filters. Every expression built here is compiled and tested against the connection it came
// from before it is returned, so it always selects that connection.
#pragma once

#include "model/connection.h"
#include "model/connection_columns.h"

#include <QString>
#include <QStringList>

namespace tcpscope {

// s as a filter string literal: "..." with \" and \\ escaped.
QString filterStringLiteral(const QString &s);

// The expression that selects c's value of column: `FIELD == LITERAL`, or `!FIELD` when the
// value is unknown (a pid of 0, no handshake seen, no close statistics). The address family has
// no field of its own: `ip.addr` (IPv4) or `ipv6.addr` (IPv6). Empty when the column has no
// filter field (start time, packet counts, ...).
QString connectionColumnFilter(const ConnectionColumn &column, const Connection &c);
// The conjunction over several columns (the table's "Local" column is address and port):
// `A && B`; empty when any of them has no expression.
QString connectionColumnsFilter(const QStringList &sqlColumns, const Connection &c);

// How a selected value's expression joins the filter in the box.
enum class FilterCombine : quint8
{
    Selected,    // replace: EXPR
    NotSelected, // replace: !(EXPR)
    And,         // CURRENT && EXPR
    Or,          // CURRENT || EXPR
    AndNot,      // CURRENT && !(EXPR)
    OrNot,       // CURRENT || !(EXPR)
};

// The new filter text. An empty current filter makes And/Or the plain selection (AndNot/OrNot
// its negation). current is parenthesised when its operators would bind differently.
QString combineFilters(const QString &current, const QString &selected, FilterCombine how);

} // namespace tcpscope
