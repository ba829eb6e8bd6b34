// SPDX-License-Identifier: GPL-3.0-or-later
// Internal to core/filter: a compiled display filter. The parser resolves every field to its
// FieldInfo and every literal to an Operand once, so evaluation only switches on field ids and
// compares numbers, address bytes or strings.
#pragma once

#include "model/connection_columns.h"

#include "filter/display_filter.h"
#include "filter/fields.h"

#include <QRegularExpression>
#include <QString>
#include <QVector>

#include <array>
#include <memory>

namespace tcpscope::filter {

enum class Op : quint8
{
    Present, // a field on its own: present (Flag, other types) or true (Bool)
    Eq,
    Ne, // Wireshark 4: not (any value == operand)
    Lt,
    Le,
    Gt,
    Ge,
    Contains,
    Matches,
    In,
    NotIn,
};

// One literal, already of the field's type.
struct Operand
{
    qint64 lo = 0;  // numbers, times (ns), sizes (bytes), booleans, enum values
    qint64 hi = 0;  // == lo except for ranges in sets (lo..hi, inclusive)
    IpAddress addr; // addresses
    int prefix = 0; // CIDR prefix length (32 / 128 for a plain address)
    QString text;   // strings
};

struct Node
{
    enum Kind : quint8
    {
        And,
        Or,
        Not,
        Test
    };
    Kind kind = Test;
    std::unique_ptr<Node> left, right; // And/Or: both; Not: left
    const FieldInfo *field = nullptr;  // Test
    Op op = Op::Present;
    QVector<Operand> operands; // one for comparisons, the set's elements for In/NotIn
    QRegularExpression regex;  // Matches
};

struct Program
{
    std::unique_ptr<Node> root; // null: the empty filter
    bool needsConnections = false;
    bool needsKernelEvents = false;
    bool needsInterfaces = false;
    bool needsOwnerNames = false;
    bool needsOrigin = false;
    bool needsSessionEnd = false;
    bool needsPeers = false;
    bool needsPeerTransit = false;
    // Every field read is one the identity and lifetime columns answer on a connection; the
    // columns those fields read (id always: a connection filter collects ids).
    bool lifetimeFieldsOnly = true;
    ConnectionFields lifetimeColumns;
};

// Parses and compiles text; false with *error set when it is not a valid filter for target.
bool compileFilter(const QString &text, FilterTarget target, Program *program, FilterError *error);

} // namespace tcpscope::filter
