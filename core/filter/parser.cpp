// SPDX-License-Identifier: GPL-3.0-or-later
// Recursive descent over the tokens, compiling as it goes:
//   expr    := and (('or' | '||') and)*
//   and     := unary (('and' | '&&') unary)*
//   unary   := ('not' | '!') unary | primary
//   primary := '(' expr ')' | FIELD [ cmp VALUE | ('contains' | 'matches') VALUE
//                                     | ['not'] 'in' '{' ELEMENT* '}' ]
//   ELEMENT := VALUE | VALUE '..' VALUE        (elements separated by spaces or commas)
#include "filter/lexer.h"
#include "filter/program.h"

#include "model/address.h"

#include <QRegularExpression>

#include <cmath>
#include <limits>

namespace tcpscope::filter {

namespace {

bool isKeyword(const Token &t, const char *word)
{
    return t.kind == TokenKind::Word &&
           t.text.compare(QLatin1String(word), Qt::CaseInsensitive) == 0;
}

bool isAnyKeyword(const Token &t)
{
    for (const char *k : {"and", "or", "not", "in", "contains", "matches"}) {
        if (isKeyword(t, k))
            return true;
    }
    return false;
}

// Wireshark's word forms of the comparison operators.
std::optional<Op> comparison(const Token &t)
{
    switch (t.kind) {
    case TokenKind::Eq:
        return Op::Eq;
    case TokenKind::Ne:
        return Op::Ne;
    case TokenKind::Lt:
        return Op::Lt;
    case TokenKind::Le:
        return Op::Le;
    case TokenKind::Gt:
        return Op::Gt;
    case TokenKind::Ge:
        return Op::Ge;
    default:
        break;
    }
    const std::pair<const char *, Op> words[] = {{"eq", Op::Eq}, {"ne", Op::Ne}, {"lt", Op::Lt},
                                                 {"le", Op::Le}, {"gt", Op::Gt}, {"ge", Op::Ge}};
    for (const auto &[w, op] : words) {
        if (isKeyword(t, w))
            return op;
    }
    return std::nullopt;
}

bool isNumeric(FieldType t)
{
    return t == FieldType::Integer || t == FieldType::Bytes || t == FieldType::Time;
}

// A non-negative decimal or 0x-hex integer.
bool parseInteger(const QString &text, qint64 *value)
{
    bool ok = false;
    qint64 v = 0;
    if (text.startsWith(QLatin1String("0x"), Qt::CaseInsensitive))
        v = text.mid(2).toLongLong(&ok, 16);
    else if (!text.isEmpty() && text[0].isDigit())
        v = text.toLongLong(&ok, 10);
    if (!ok || v < 0)
        return false;
    *value = v;
    return true;
}

// number [unit], the number possibly fractional; value = round(number * scale of unit).
bool parseScaled(const QString &text, const QVector<std::pair<QString, double>> &units,
                 double bareScale, qint64 *value)
{
    static const QRegularExpression re(
        QStringLiteral("^([0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)([A-Za-z\\x{00b5}]*)$"));
    const auto m = re.match(text);
    if (!m.hasMatch())
        return false;
    const double number = m.captured(1).toDouble();
    const QString unit = m.captured(2);
    double scale = 0;
    if (unit.isEmpty()) {
        scale = bareScale;
    } else {
        for (const auto &[name, s] : units) {
            if (unit == name)
                scale = s;
        }
    }
    const double v = std::round(number * scale);
    if (scale <= 0 || !(v < 9.2e18))
        return false;
    *value = qint64(v);
    return true;
}

bool parseTime(const QString &text, qint64 *ns)
{
    static const QVector<std::pair<QString, double>> units = {
        {QStringLiteral("ns"), 1},
        {QStringLiteral("us"), 1e3},
        {QString(QChar(0xb5)) + QLatin1Char('s'), 1e3},
        {QStringLiteral("ms"), 1e6},
        {QStringLiteral("s"), 1e9},
        {QStringLiteral("min"), 60e9},
        {QStringLiteral("h"), 3600e9}};
    return parseScaled(text, units, 1e9, ns);
}

bool parseBytes(const QString &text, qint64 *bytes)
{
    static const QVector<std::pair<QString, double>> units = {
        {QStringLiteral("B"), 1},
        {QStringLiteral("k"), 1e3},
        {QStringLiteral("kB"), 1e3},
        {QStringLiteral("K"), 1e3},
        {QStringLiteral("KB"), 1e3},
        {QStringLiteral("KiB"), 1024},
        {QStringLiteral("M"), 1e6},
        {QStringLiteral("MB"), 1e6},
        {QStringLiteral("MiB"), 1024.0 * 1024},
        {QStringLiteral("G"), 1e9},
        {QStringLiteral("GB"), 1e9},
        {QStringLiteral("GiB"), 1024.0 * 1024 * 1024}};
    if (text.startsWith(QLatin1String("0x"), Qt::CaseInsensitive))
        return parseInteger(text, bytes);
    return parseScaled(text, units, 1, bytes);
}

// ADDRESS or ADDRESS/PREFIX of the given family (None: either).
bool parseCidr(const QString &text, AddressFamily wantFamily, Operand *o)
{
    const int slash = int(text.indexOf(QLatin1Char('/')));
    const QStringView addr = slash < 0 ? QStringView(text) : QStringView(text).left(slash);
    for (const AddressFamily family : {AddressFamily::IPv4, AddressFamily::IPv6}) {
        if (wantFamily != AddressFamily::None && family != wantFamily)
            continue;
        // inet_pton(AF_INET) takes only dotted quads; an IPv6 text never parses as IPv4.
        const IpAddress bytes = IpAddress::parse(family, addr);
        if (bytes.isNull())
            continue;
        const int maxPrefix = bytes.size() * 8;
        int prefix = maxPrefix;
        if (slash >= 0) {
            bool ok = false;
            prefix = text.mid(slash + 1).toInt(&ok);
            if (!ok || prefix < 0 || prefix > maxPrefix || text.mid(slash + 1).isEmpty())
                return false;
        }
        o->addr = bytes;
        o->prefix = prefix;
        return true;
    }
    return false;
}

class Parser
{
public:
    Parser(const QString &text, FilterTarget target, Program *program)
        : m_text(text), m_target(target), m_program(program)
    {
    }

    bool run(FilterError *error)
    {
        LexError lexError;
        m_tokens = tokenize(m_text, &lexError);
        if (lexError.pos >= 0) {
            fail(lexError.pos, 1, lexError.message);
        } else if (m_tokens.size() > 1) {
            m_program->root = parseOr();
            if (!m_failed && peek().kind != TokenKind::End)
                failUnexpectedAfter();
        }
        if (m_failed) {
            if (error)
                *error = m_error;
            m_program->root.reset();
            return false;
        }
        return true;
    }

private:
    const Token &peek() const { return m_tokens[m_index]; }
    const Token &take() { return m_tokens[m_index < m_tokens.size() - 1 ? m_index++ : m_index]; }
    static int column(const Token &t) { return t.pos + 1; }

    std::unique_ptr<Node> fail(int pos, int len, const QString &message)
    {
        if (!m_failed) {
            m_failed = true;
            m_error.column = pos + 1;
            m_error.length = len;
            m_error.message = message;
        }
        return nullptr;
    }
    std::unique_ptr<Node> failAt(const Token &t, const QString &message)
    {
        return fail(t.pos, t.len, message);
    }

    // Something follows a complete expression that cannot continue it.
    void failUnexpectedAfter()
    {
        const Token &t = peek();
        if (t.kind == TokenKind::RParen) {
            failAt(t, QStringLiteral("unmatched ')' at %1").arg(column(t)));
            return;
        }
        const QString expected =
            m_lastWasBareField
                ? QStringLiteral("an operator (==, !=, <, <=, >, >=, contains, matches, in), "
                                 "'and', 'or' or the end")
                : QStringLiteral("'and', 'or' or the end");
        failAt(t, QStringLiteral("expected %1 at %2, found %3")
                      .arg(expected)
                      .arg(column(t))
                      .arg(describeToken(t)));
    }

    std::unique_ptr<Node> combine(Node::Kind kind, std::unique_ptr<Node> l, std::unique_ptr<Node> r)
    {
        auto n = std::make_unique<Node>();
        n->kind = kind;
        n->left = std::move(l);
        n->right = std::move(r);
        return n;
    }

    std::unique_ptr<Node> parseOr()
    {
        auto left = parseAnd();
        while (!m_failed && (peek().kind == TokenKind::OrOr || isKeyword(peek(), "or"))) {
            take();
            auto right = parseAnd();
            left = combine(Node::Or, std::move(left), std::move(right));
        }
        return left;
    }

    std::unique_ptr<Node> parseAnd()
    {
        auto left = parseUnary();
        while (!m_failed && (peek().kind == TokenKind::AndAnd || isKeyword(peek(), "and"))) {
            take();
            auto right = parseUnary();
            left = combine(Node::And, std::move(left), std::move(right));
        }
        return left;
    }

    std::unique_ptr<Node> parseUnary()
    {
        if (peek().kind == TokenKind::Bang || isKeyword(peek(), "not")) {
            take();
            auto operand = parseUnary();
            return combine(Node::Not, std::move(operand), nullptr);
        }
        return parsePrimary();
    }

    std::unique_ptr<Node> parsePrimary()
    {
        m_lastWasBareField = false;
        const Token &t = take();
        if (t.kind == TokenKind::LParen) {
            auto inner = parseOr();
            if (m_failed)
                return nullptr;
            const Token &close = peek();
            if (close.kind != TokenKind::RParen)
                return failAt(close, QStringLiteral("expected ')' at %1 to close the '(' at %2, "
                                                    "found %3")
                                         .arg(column(close))
                                         .arg(column(t))
                                         .arg(describeToken(close)));
            take();
            m_lastWasBareField = false;
            return inner;
        }
        if (t.kind != TokenKind::Word || isAnyKeyword(t))
            return failAt(t, QStringLiteral("expected a field name at %1, found %2")
                                 .arg(column(t))
                                 .arg(describeToken(t)));
        const FieldInfo *field = findField(t.text);
        if (!field) {
            const QString suggestion = suggestField(t.text);
            return failAt(t, QStringLiteral("unknown field '%1' at %2%3")
                                 .arg(t.text)
                                 .arg(column(t))
                                 .arg(suggestion.isEmpty()
                                          ? QString()
                                          : QStringLiteral("; did you mean %1?").arg(suggestion)));
        }
        if (m_target == FilterTarget::Connections && !field->connections)
            return failAt(t, QStringLiteral("%1 at %2 is a packet field; a connection filter "
                                            "takes connection fields only (ip.addr, ipv6.addr, "
                                            "tcp.port, proc.*, conn.*, kernel.*, drop.reason, "
                                            "rst.reason)")
                                 .arg(field->name)
                                 .arg(column(t)));
        noteField(*field);

        auto node = std::make_unique<Node>();
        node->field = field;
        const Token &opToken = peek();
        if (auto op = comparison(opToken)) {
            take();
            node->op = *op;
            if (!checkOperator(*field, opToken, *op))
                return nullptr;
            Operand o;
            if (!parseValue(*field, opToken, &o))
                return nullptr;
            node->operands.append(o);
            return node;
        }
        if (isKeyword(opToken, "contains") || isKeyword(opToken, "matches")) {
            take();
            node->op = isKeyword(opToken, "contains") ? Op::Contains : Op::Matches;
            if (!checkOperator(*field, opToken, node->op))
                return nullptr;
            const Token &v = take();
            if (v.kind != TokenKind::Word && v.kind != TokenKind::String)
                return failAt(v, QStringLiteral("expected a string after '%1' at %2, found %3")
                                     .arg(opToken.text)
                                     .arg(column(v))
                                     .arg(describeToken(v)));
            Operand o;
            o.text = v.text;
            if (node->op == Op::Matches) {
                // Case-insensitive, as Wireshark's matches; "(?-i)" in the pattern turns it off.
                node->regex = QRegularExpression(v.text, QRegularExpression::CaseInsensitiveOption);
                if (!node->regex.isValid())
                    return failAt(v, QStringLiteral("invalid regular expression at %1: %2")
                                         .arg(column(v))
                                         .arg(node->regex.errorString()));
                node->regex.optimize();
            }
            node->operands.append(o);
            return node;
        }
        const bool notIn = isKeyword(opToken, "not") && m_index + 1 < m_tokens.size() &&
                           isKeyword(m_tokens[m_index + 1], "in");
        if (isKeyword(opToken, "in") || notIn) {
            take();
            if (notIn)
                take();
            node->op = notIn ? Op::NotIn : Op::In;
            if (!checkOperator(*field, opToken, node->op))
                return nullptr;
            if (!parseSet(*field, node.get()))
                return nullptr;
            return node;
        }
        // On its own: present (or true, for a boolean).
        node->op = Op::Present;
        m_lastWasBareField = true;
        return node;
    }

    void noteField(const FieldInfo &f)
    {
        // On a connection these read only these identity and lifetime columns (conn.peer and
        // conn.id: the id, and for conn.peer the context's pairs).
        ConnectionFields &cols = m_program->lifetimeColumns;
        switch (f.id) {
        case FieldId::ProcPid:
            cols.add("pid");
            break;
        case FieldId::ProcName:
            cols.add("comm");
            break;
        case FieldId::ConnId:
        case FieldId::ConnPeer:
            break;
        case FieldId::ConnState:
            cols.add("state");
            break;
        case FieldId::ConnRole:
            cols.add("role");
            break;
        case FieldId::ConnCloseReason:
            cols.add("close_reason");
            break;
        case FieldId::ConnDuration:
            cols.add("start_ns").add("end_ns");
            break;
        case FieldId::ConnHandshakeTime:
            cols.add("handshake_ns");
            break;
        case FieldId::ConnLocalAddr:
            cols.add("local_addr");
            break;
        case FieldId::ConnRemoteAddr:
            cols.add("remote_addr");
            break;
        case FieldId::ConnLocalPort:
            cols.add("local_port");
            break;
        case FieldId::ConnRemotePort:
            cols.add("remote_port");
            break;
        case FieldId::IpAddr:
        case FieldId::Ipv6Addr:
            cols.add("local_addr").add("remote_addr");
            break;
        case FieldId::TcpPort:
            cols.add("local_port").add("remote_port");
            break;
        case FieldId::HostName:
            cols.add("host_id");
            break;
        default:
            m_program->lifetimeFieldsOnly = false;
        }
        switch (f.id) {
        case FieldId::DropReason:
        case FieldId::RstReason:
            m_program->needsKernelEvents = true;
            break;
        case FieldId::IfaceName:
            m_program->needsInterfaces = true;
            break;
        case FieldId::FrameTimeRelative:
            m_program->needsOrigin = true;
            break;
        case FieldId::ConnDuration:
            m_program->needsSessionEnd = true;
            break;
        case FieldId::ConnPeer:
            m_program->needsPeers = true;
            break;
        case FieldId::PeerDelay:
        case FieldId::PeerLost:
            m_program->needsPeerTransit = true;
            break;
        case FieldId::CgroupPath:
        case FieldId::ContainerId:
        case FieldId::PodUid:
        case FieldId::SystemdUnit:
        case FieldId::Netns:
            m_program->needsOwnerNames = true;
            break;
        default:
            break;
        }
        // A packet filter reading a connection's own fields needs the connection (ip.addr and
        // tcp.port read the packet's header there).
        if (m_target == FilterTarget::Packets && f.connections && f.id != FieldId::IpAddr &&
            f.id != FieldId::Ipv6Addr && f.id != FieldId::TcpPort && f.id != FieldId::ConnId &&
            f.id != FieldId::ConnPeer)
            m_program->needsConnections = true;
    }

    bool checkOperator(const FieldInfo &f, const Token &opToken, Op op)
    {
        const QString what = QStringLiteral("%1 (%2)").arg(f.name, typeName(f.type));
        if (f.type == FieldType::Flag) {
            failAt(opToken, QStringLiteral("%1 is a flag and takes no '%2' (at %3): use it on its "
                                           "own, e.g. '%1' or 'not %1'")
                                .arg(f.name, opToken.text)
                                .arg(column(opToken)));
            return false;
        }
        const bool ordering = op == Op::Lt || op == Op::Le || op == Op::Gt || op == Op::Ge;
        if (ordering && !isNumeric(f.type)) {
            failAt(opToken, QStringLiteral("'%1' at %2 does not apply to %3: use ==, != or in")
                                .arg(opToken.text)
                                .arg(column(opToken))
                                .arg(what));
            return false;
        }
        if ((op == Op::Contains || op == Op::Matches) && f.type != FieldType::Text &&
            f.type != FieldType::Enum) {
            failAt(opToken, QStringLiteral("'%1' at %2 applies to strings, not to %3")
                                .arg(opToken.text)
                                .arg(column(opToken))
                                .arg(what));
            return false;
        }
        return true;
    }

    bool parseSet(const FieldInfo &f, Node *node)
    {
        const Token &open = take();
        if (open.kind != TokenKind::LBrace) {
            failAt(open, QStringLiteral("expected '{' at %1 to start the set, found %2")
                             .arg(column(open))
                             .arg(describeToken(open)));
            return false;
        }
        while (true) {
            const Token &t = peek();
            if (t.kind == TokenKind::RBrace) {
                take();
                break;
            }
            if (t.kind == TokenKind::Comma && !node->operands.isEmpty()) {
                take();
                continue;
            }
            if (t.kind != TokenKind::Word && t.kind != TokenKind::String) {
                failAt(t, QStringLiteral("expected a value or '}' at %1 to close the set at %2, "
                                         "found %3")
                              .arg(column(t))
                              .arg(column(open))
                              .arg(describeToken(t)));
                return false;
            }
            Operand o;
            if (!parseValue(f, open, &o))
                return false;
            if (peek().kind == TokenKind::DotDot) {
                const Token &dots = take();
                if (!isNumeric(f.type)) {
                    failAt(dots, QStringLiteral("a range at %1 needs a number, time or size "
                                                "field; %2 is %3")
                                     .arg(column(dots))
                                     .arg(f.name, typeName(f.type)));
                    return false;
                }
                Operand high;
                if (!parseValue(f, dots, &high))
                    return false;
                if (high.lo < o.lo) {
                    failAt(dots, QStringLiteral("empty range at %1: the upper bound is below the "
                                                "lower one")
                                     .arg(column(dots)));
                    return false;
                }
                o.hi = high.lo;
            }
            node->operands.append(o);
        }
        if (node->operands.isEmpty()) {
            failAt(open, QStringLiteral("empty set at %1").arg(column(open)));
            return false;
        }
        return true;
    }

    // The literal after `after` (an operator, '{' or '..'), of the field's type.
    bool parseValue(const FieldInfo &f, const Token &after, Operand *o)
    {
        const Token &v = take();
        if (v.kind != TokenKind::Word && v.kind != TokenKind::String) {
            failAt(v, QStringLiteral("expected a value after '%1' at %2, found %3")
                          .arg(after.text)
                          .arg(column(v))
                          .arg(describeToken(v)));
            return false;
        }
        const QString &text = v.text;
        bool ok = false;
        QString expected;
        switch (f.type) {
        case FieldType::Flag:
            break;
        case FieldType::Bool: {
            const QString lower = text.toLower();
            ok = lower == QLatin1String("1") || lower == QLatin1String("0") ||
                 lower == QLatin1String("true") || lower == QLatin1String("false");
            o->lo = o->hi = (lower == QLatin1String("1") || lower == QLatin1String("true")) ? 1 : 0;
            expected = QStringLiteral("a boolean (1, 0, true or false)");
            break;
        }
        case FieldType::Integer:
            ok = parseInteger(text, &o->lo);
            o->hi = o->lo;
            expected = QStringLiteral("a number");
            break;
        case FieldType::Bytes:
            ok = parseBytes(text, &o->lo);
            o->hi = o->lo;
            expected = QStringLiteral("a size (e.g. 1500, 64KiB, 1.5MB)");
            break;
        case FieldType::Time:
            ok = parseTime(text, &o->lo);
            o->hi = o->lo;
            expected = QStringLiteral("a time (e.g. 10ms, 1.5s, 250us; a bare number means "
                                      "seconds)");
            break;
        case FieldType::Address4:
            ok = parseCidr(text, AddressFamily::IPv4, o);
            expected = QStringLiteral("an IPv4 address (CIDR allowed, e.g. 10.0.0.0/8)");
            break;
        case FieldType::Address6:
            ok = parseCidr(text, AddressFamily::IPv6, o);
            expected = QStringLiteral("an IPv6 address (CIDR allowed, e.g. fe80::/10)");
            break;
        case FieldType::Address:
            ok = parseCidr(text, AddressFamily::None, o);
            expected = QStringLiteral("an address (IPv4 or IPv6, CIDR allowed)");
            break;
        case FieldType::Text:
            o->text = text;
            ok = true;
            break;
        case FieldType::Enum: {
            QStringList names;
            for (int i = 0; i < enumCount(f.enumKind); ++i) {
                const QString name = enumName(f.enumKind, i);
                names << name;
                if (!ok && name.compare(text, Qt::CaseInsensitive) == 0) {
                    o->lo = o->hi = i;
                    ok = true;
                }
            }
            expected = QStringLiteral("one of %1").arg(names.join(QStringLiteral(", ")));
            break;
        }
        }
        if (!ok)
            failAt(v, QStringLiteral("%1 at %2 is not %3 for %4")
                          .arg(describeToken(v))
                          .arg(column(v))
                          .arg(expected, f.name));
        return ok;
    }

    const QString &m_text;
    FilterTarget m_target;
    Program *m_program;
    QVector<Token> m_tokens;
    int m_index = 0;
    bool m_failed = false;
    bool m_lastWasBareField = false;
    FilterError m_error;
};

} // namespace

bool compileFilter(const QString &text, FilterTarget target, Program *program, FilterError *error)
{
    Parser parser(text, target, program);
    return parser.run(error);
}

} // namespace tcpscope::filter
