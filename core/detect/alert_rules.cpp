// SPDX-License-Identifier: GPL-3.0-or-later
#include "detect/alert_rules.h"

#include <QRegularExpression>

#include <cmath>

namespace tcpscope {

namespace {

constexpr double kSecond = 1e9;
constexpr double kMaxSetting = 1e9; // the largest count a setting may hold
constexpr double kMs = 1e6;

} // namespace

const QVector<DetectorInfo> &builtinDetectors()
{
    static const QVector<DetectorInfo> list = {
        {QStringLiteral("syn_flood"), AlertSeverity::High,
         QStringLiteral("SYNs, SYN cookies or SYN-ACK resends of a listener far above the "
                        "handshakes it completes, or its queues overflowing")},
        {QStringLiteral("port_scan"), AlertSeverity::Medium,
         QStringLiteral("one remote address reaching many closed or filtered ports")},
        {QStringLiteral("rst_storm"), AlertSeverity::Medium,
         QStringLiteral("many connections with one remote address ended by a reset")},
        {QStringLiteral("refused_burst"), AlertSeverity::Low,
         QStringLiteral("many connections to one remote port refused")},
        {QStringLiteral("retransmit_spike"), AlertSeverity::Medium,
         QStringLiteral("many retransmissions on one connection or toward one remote address")},
        {QStringLiteral("zero_window_stall"), AlertSeverity::Medium,
         QStringLiteral("a receiver advertising a zero window for longer than a threshold")},
        {QStringLiteral("handshake_slow"), AlertSeverity::Low,
         QStringLiteral("a handshake above a threshold and far above the session's median")},
        {QStringLiteral("drop_surge"), AlertSeverity::Medium,
         QStringLiteral("many kernel drops of TCP packets for one reason (except those "
                        "of drop_surge.ignore; SYNs to closed ports count as port_scan)")},
        {QStringLiteral("time_wait_buildup"), AlertSeverity::Low,
         QStringLiteral("many sockets entering TIME_WAIT toward one remote port")},
    };
    return list;
}

const QVector<DetectorParameter> &detectorParameters()
{
    static const QVector<DetectorParameter> list = {
        {QStringLiteral("alert.throttle"), 10 * kSecond, true,
         QStringLiteral("at most one alert per kind and subject in this time; the next one "
                        "says how many were left out")},
        {QStringLiteral("syn_flood.window"), 1 * kSecond, true,
         QStringLiteral("time over which SYNs and handshakes are counted")},
        {QStringLiteral("syn_flood.min_syns"), 100, false,
         QStringLiteral("SYNs to one listener port within the window")},
        {QStringLiteral("syn_flood.max_completed"), 0.2, false,
         QStringLiteral("... while the handshakes completed are below this share of them")},
        {QStringLiteral("syn_flood.min_overflows"), 20, false,
         QStringLiteral("or: accept-queue overflows and SYN-queue drops within the window")},
        {QStringLiteral("syn_flood.min_cookies"), 20, false,
         QStringLiteral("or: SYN cookies sent from one listener port within the window (its "
                        "SYN queue was full), with handshakes completed below max_completed "
                        "of them")},
        {QStringLiteral("syn_flood.min_synack_resends"), 20, false,
         QStringLiteral("or: SYN-ACKs resent to half-open connections of one listener port "
                        "within the window, with handshakes completed below max_completed of "
                        "them")},
        {QStringLiteral("port_scan.window"), 10 * kSecond, true,
         QStringLiteral("time over which closed ports are counted")},
        {QStringLiteral("port_scan.min_ports"), 20, false,
         QStringLiteral("distinct closed or filtered ports of one remote address")},
        {QStringLiteral("rst_storm.window"), 5 * kSecond, true,
         QStringLiteral("time over which resets are counted")},
        {QStringLiteral("rst_storm.min_resets"), 50, false,
         QStringLiteral("connections with one remote address ended by a reset")},
        {QStringLiteral("refused_burst.window"), 5 * kSecond, true,
         QStringLiteral("time over which refusals are counted")},
        {QStringLiteral("refused_burst.min_refused"), 20, false,
         QStringLiteral("connections to one remote address and port refused")},
        {QStringLiteral("retransmit_spike.window"), 1 * kSecond, true,
         QStringLiteral("time over which retransmissions are counted")},
        {QStringLiteral("retransmit_spike.min_per_connection"), 20, false,
         QStringLiteral("retransmitted segments on one connection")},
        {QStringLiteral("retransmit_spike.min_per_remote"), 50, false,
         QStringLiteral("retransmitted segments toward one remote address")},
        {QStringLiteral("retransmit_spike.min_ratio"), 0.02, false,
         QStringLiteral("... and at least this share of the segments sent in the window (when "
                        "packets are captured)")},
        {QStringLiteral("zero_window_stall.min_duration"), 2 * kSecond, true,
         QStringLiteral("a zero receive window lasting this long")},
        {QStringLiteral("handshake_slow.min_time"), 200 * kMs, true,
         QStringLiteral("handshakes at least this long ...")},
        {QStringLiteral("handshake_slow.factor"), 10, false,
         QStringLiteral("... and this many times the median of the session's handshakes")},
        {QStringLiteral("handshake_slow.min_samples"), 20, false,
         QStringLiteral("handshakes seen before the median is used (before: the time alone)")},
        {QStringLiteral("drop_surge.window"), 1 * kSecond, true,
         QStringLiteral("time over which drops are counted")},
        {QStringLiteral("drop_surge.min_drops"), 100, false,
         QStringLiteral("kernel drops of one reason")},
        {QStringLiteral("time_wait_buildup.window"), 60 * kSecond, true,
         QStringLiteral("time over which sockets entering TIME_WAIT are counted (the "
                        "kernel keeps them about 60 s)")},
        {QStringLiteral("time_wait_buildup.min_sockets"), 10000, false,
         QStringLiteral("sockets toward one remote address and port")},
    };
    return list;
}

QStringList groupFieldNames()
{
    return {QStringLiteral("conn.id"),          QStringLiteral("conn.remote_addr"),
            QStringLiteral("conn.remote_port"), QStringLiteral("conn.local_addr"),
            QStringLiteral("conn.local_port"),  QStringLiteral("proc.name"),
            QStringLiteral("proc.pid"),         QStringLiteral("ip.src"),
            QStringLiteral("ip.dst"),           QStringLiteral("tcp.srcport"),
            QStringLiteral("tcp.dstport")};
}

const QStringList &AlertConfig::defaultIgnoredDrops()
{
    // The generic free, the queues every closing socket empties, and firewall policy.
    static const QStringList list = {QStringLiteral("NOT_SPECIFIED"), QStringLiteral("QUEUE_PURGE"),
                                     QStringLiteral("SOCKET_CLOSE"),
                                     QStringLiteral("NETFILTER_DROP")};
    return list;
}

AlertConfig::AlertConfig()
{
    for (const DetectorParameter &p : detectorParameters())
        m_values.insert(p.name, p.defaultValue);
    for (const DetectorInfo &d : builtinDetectors())
        m_severities.insert(d.kind, d.severity);
}

double AlertConfig::value(const QString &parameter) const
{
    return m_values.value(parameter, 0.0);
}

bool AlertConfig::setValue(const QString &parameter, double value)
{
    if (!m_values.contains(parameter))
        return false;
    m_values.insert(parameter, value);
    return true;
}

void AlertConfig::setEnabled(const QString &kind, bool on)
{
    m_disabled.removeAll(kind);
    if (!on)
        m_disabled.append(kind);
}

AlertSeverity AlertConfig::severity(const QString &kind) const
{
    return m_severities.value(kind, AlertSeverity::Medium);
}

void AlertConfig::setSeverity(const QString &kind, AlertSeverity severity)
{
    m_severities.insert(kind, severity);
}

std::optional<qint64> parseAlertDuration(const QString &text)
{
    static const QRegularExpression re(QStringLiteral("^([0-9]+(?:\\.[0-9]+)?)(ns|us|ms|s|m|h)?$"));
    const auto m = re.match(text.trimmed());
    if (!m.hasMatch())
        return std::nullopt;
    const double number = m.captured(1).toDouble();
    const QString unit = m.captured(2);
    double scale = kSecond;
    if (unit == QLatin1String("ns"))
        scale = 1;
    else if (unit == QLatin1String("us"))
        scale = 1e3;
    else if (unit == QLatin1String("ms"))
        scale = kMs;
    else if (unit == QLatin1String("m"))
        scale = 60 * kSecond;
    else if (unit == QLatin1String("h"))
        scale = 3600 * kSecond;
    const double ns = number * scale;
    if (!std::isfinite(ns) || ns > 1e18)
        return std::nullopt;
    return qint64(std::llround(ns));
}

namespace {

bool isBuiltin(const QString &kind)
{
    for (const DetectorInfo &d : builtinDetectors())
        if (d.kind == kind)
            return true;
    return false;
}

QString kindList()
{
    QStringList names;
    for (const DetectorInfo &d : builtinDetectors())
        names.append(d.kind);
    return names.join(QStringLiteral(", "));
}

// Where the first non-space character at or after `from` is.
int skipSpaces(const QString &s, int from)
{
    while (from < s.size() && s.at(from).isSpace())
        ++from;
    return from;
}

// The next word (up to a space) at or after `from`; *end = just after it.
QString nextWord(const QString &s, int from, int *start, int *end)
{
    const int b = skipSpaces(s, from);
    int e = b;
    while (e < s.size() && !s.at(e).isSpace())
        ++e;
    *start = b;
    *end = e;
    return s.mid(b, e - b);
}

// A compiled filter for the rule: connections when every field describes a connection, else
// packets. The expression is compiled at its place in the line (indented by `offset`
// spaces), so the filter's messages and columns count from the start of the line.
bool compileRuleFilter(const QString &expr, int offset, AlertRule *rule, QString *error)
{
    const QString placed = QString(offset, QLatin1Char(' ')) + expr;
    FilterError connError;
    DisplayFilter f = DisplayFilter::compile(placed, FilterTarget::Connections, &connError);
    if (!f.isValid()) {
        FilterError packetError;
        f = DisplayFilter::compile(placed, FilterTarget::Packets, &packetError);
        if (!f.isValid()) {
            *error =
                QStringLiteral("column %1: %2").arg(packetError.column).arg(packetError.message);
            return false;
        }
    }
    if (f.isEmpty()) {
        *error =
            QStringLiteral("column %1: the rule has no condition after 'when'").arg(offset + 1);
        return false;
    }
    rule->expression = expr.trimmed();
    rule->filter = f;
    return true;
}

// `count(EXPR) [by FIELD] (>|>=) N over DURATION`, body starting at `at` (after "count").
bool parseCount(const QString &line, int at, AlertRule *rule, QString *error)
{
    at = skipSpaces(line, at);
    if (at >= line.size() || line.at(at) != QLatin1Char('(')) {
        *error = QStringLiteral("column %1: expected '(' after count").arg(at + 1);
        return false;
    }
    int depth = 0;
    int close = -1;
    bool inString = false;
    for (int i = at; i < line.size(); ++i) {
        const QChar c = line.at(i);
        if (inString) {
            if (c == QLatin1Char('\\'))
                ++i;
            else if (c == QLatin1Char('"'))
                inString = false;
            continue;
        }
        if (c == QLatin1Char('"'))
            inString = true;
        else if (c == QLatin1Char('('))
            ++depth;
        else if (c == QLatin1Char(')') && --depth == 0) {
            close = i;
            break;
        }
    }
    if (close < 0) {
        *error = QStringLiteral("column %1: count( is not closed").arg(at + 1);
        return false;
    }
    const QString expr = line.mid(at + 1, close - at - 1);
    if (!compileRuleFilter(expr, at + 1, rule, error))
        return false;
    rule->counted = true;
    int start = 0, end = 0;
    QString word = nextWord(line, close + 1, &start, &end);
    if (word == QLatin1String("by")) {
        const QString field = nextWord(line, end, &start, &end);
        if (!groupFieldNames().contains(field)) {
            *error = QStringLiteral("column %1: cannot count by '%2'; use one of %3")
                         .arg(start + 1)
                         .arg(field, groupFieldNames().join(QStringLiteral(", ")));
            return false;
        }
        const bool packetOnly =
            field.startsWith(QLatin1String("ip.")) || field.startsWith(QLatin1String("tcp."));
        if (packetOnly && rule->filter.target() == FilterTarget::Connections) {
            *error = QStringLiteral("column %1: '%2' is a packet field, but the rule counts "
                                    "connections; use conn.local_addr/conn.remote_addr or "
                                    "conn.local_port/conn.remote_port")
                         .arg(start + 1)
                         .arg(field);
            return false;
        }
        rule->groupField = field;
        word = nextWord(line, end, &start, &end);
    }
    if (word == QLatin1String(">"))
        rule->atLeast = false;
    else if (word == QLatin1String(">="))
        rule->atLeast = true;
    else {
        *error = QStringLiteral("column %1: expected '>' or '>=' and a count, found '%2'")
                     .arg(start + 1)
                     .arg(word);
        return false;
    }
    word = nextWord(line, end, &start, &end);
    bool ok = false;
    const qulonglong n = word.toULongLong(&ok);
    if (!ok || (n == 0 && rule->atLeast) || n > qulonglong(kMaxSetting)) {
        *error = QStringLiteral("column %1: expected a count, found '%2'").arg(start + 1).arg(word);
        return false;
    }
    rule->threshold = n;
    word = nextWord(line, end, &start, &end);
    if (word != QLatin1String("over")) {
        *error = QStringLiteral("column %1: expected 'over' and a time (over 1s)").arg(start + 1);
        return false;
    }
    word = nextWord(line, end, &start, &end);
    const auto window = parseAlertDuration(word);
    if (!window || *window <= 0 || *window > qint64(86400 * kSecond)) {
        *error = QStringLiteral("column %1: expected a time such as 1s or 500ms, found '%2'")
                     .arg(start + 1)
                     .arg(word);
        return false;
    }
    rule->windowNs = *window;
    word = nextWord(line, end, &start, &end);
    if (!word.isEmpty()) {
        *error =
            QStringLiteral("column %1: unexpected '%2' after the time").arg(start + 1).arg(word);
        return false;
    }
    return true;
}

bool parseAlert(const QString &line, int at, AlertRule *rule, QString *error)
{
    int start = 0, end = 0;
    const QString name = nextWord(line, at, &start, &end);
    static const QRegularExpression nameRe(QStringLiteral("^[A-Za-z][A-Za-z0-9_.-]*$"));
    if (!nameRe.match(name).hasMatch()) {
        *error = QStringLiteral("column %1: expected a rule name (letters, digits, - _ .)")
                     .arg(start + 1);
        return false;
    }
    if (isBuiltin(name)) {
        *error = QStringLiteral("column %1: '%2' is a built-in detector; give the rule its own "
                                "name")
                     .arg(start + 1)
                     .arg(name);
        return false;
    }
    rule->name = name;
    QString word = nextWord(line, end, &start, &end);
    if (word.startsWith(QLatin1String("severity="))) {
        if (!alertSeverityFromName(word.mid(9), &rule->severity)) {
            *error = QStringLiteral("column %1: severity is low, medium or high").arg(start + 10);
            return false;
        }
        word = nextWord(line, end, &start, &end);
    }
    if (word != QLatin1String("when") && !word.startsWith(QLatin1String("when"))) {
        *error = QStringLiteral("column %1: expected 'when' and a condition").arg(start + 1);
        return false;
    }
    if (word != QLatin1String("when")) {
        *error = QStringLiteral("column %1: expected a space after 'when'").arg(start + 5);
        return false;
    }
    const int body = skipSpaces(line, end);
    if (line.mid(body, 5) == QLatin1String("count") &&
        line.mid(skipSpaces(line, body + 5), 1) == QLatin1String("("))
        return parseCount(line, body + 5, rule, error);
    return compileRuleFilter(line.mid(body), body, rule, error);
}

bool parseSet(const QString &line, int at, AlertConfig *config, QString *error)
{
    int start = 0, end = 0;
    const QString name = nextWord(line, at, &start, &end);
    QString rest = line.mid(end).trimmed();
    if (rest.startsWith(QLatin1Char('=')))
        rest = rest.mid(1).trimmed();
    if (name.endsWith(QLatin1String(".severity"))) {
        const QString kind = name.left(name.size() - 9);
        AlertSeverity s;
        if (!isBuiltin(kind)) {
            *error = QStringLiteral("column %1: unknown detector '%2' (%3)")
                         .arg(start + 1)
                         .arg(kind, kindList());
            return false;
        }
        if (!alertSeverityFromName(rest, &s)) {
            *error = QStringLiteral("column %1: severity is low, medium or high").arg(end + 2);
            return false;
        }
        config->setSeverity(kind, s);
        return true;
    }
    if (name == QLatin1String("drop_surge.ignore")) {
        static const QRegularExpression reasonRe(QStringLiteral("^[A-Z0-9_]+$"));
        QStringList reasons;
        for (const QString &r : rest.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
            if (!reasonRe.match(r.trimmed()).hasMatch()) {
                *error = QStringLiteral("column %1: drop_surge.ignore is a list of drop reasons "
                                        "such as QUEUE_PURGE, NETFILTER_DROP, not '%2'")
                             .arg(end + 2)
                             .arg(r.trimmed());
                return false;
            }
            reasons.append(r.trimmed());
        }
        config->setIgnoredDrops(reasons);
        return true;
    }
    const DetectorParameter *param = nullptr;
    for (const DetectorParameter &p : detectorParameters())
        if (p.name == name)
            param = &p;
    if (!param) {
        *error = QStringLiteral("column %1: unknown setting '%2' (tcpscope watch "
                                "--list-detectors lists them)")
                     .arg(start + 1)
                     .arg(name);
        return false;
    }
    double value = 0;
    if (param->isDuration) {
        const auto ns = parseAlertDuration(rest);
        if (!ns) {
            *error = QStringLiteral("column %1: %2 is a time (10s, 500ms), not '%3'")
                         .arg(end + 2)
                         .arg(name, rest);
            return false;
        }
        value = double(*ns);
        if (value > 86400 * kSecond || (value <= 0 && name.endsWith(QLatin1String(".window")))) {
            *error = QStringLiteral("column %1: %2 is a time of at most a day (a window above 0), "
                                    "not '%3'")
                         .arg(end + 2)
                         .arg(name, rest);
            return false;
        }
    } else {
        bool ok = false;
        value = rest.toDouble(&ok);
        if (!ok || value < 0 || !std::isfinite(value) || value > kMaxSetting) {
            *error =
                QStringLiteral("column %1: %2 is a number, not '%3'").arg(end + 2).arg(name, rest);
            return false;
        }
    }
    config->setValue(name, value);
    return true;
}

} // namespace

std::optional<AlertConfig> parseAlertConfig(const QString &text, QString *error)
{
    AlertConfig config;
    const QStringList lines = text.split(QLatin1Char('\n'));
    QStringList ruleNames;
    for (int i = 0; i < lines.size(); ++i) {
        QString line = lines.at(i);
        if (line.endsWith(QLatin1Char('\r')))
            line.chop(1);
        const QString trimmed = line.trimmed();
        if (trimmed.isEmpty() || trimmed.startsWith(QLatin1Char('#')))
            continue;
        int start = 0, end = 0;
        const QString keyword = nextWord(line, 0, &start, &end);
        QString why;
        bool ok = true;
        if (keyword == QLatin1String("set")) {
            ok = parseSet(line, end, &config, &why);
        } else if (keyword == QLatin1String("severity")) {
            int s2 = 0, e2 = 0;
            const QString kind = nextWord(line, end, &s2, &e2);
            ok = parseSet(QStringLiteral("set %1.severity = %2").arg(kind, line.mid(e2).trimmed()),
                          3, &config, &why);
            if (!ok)
                why = QStringLiteral("column %1: expected 'severity DETECTOR low|medium|high'")
                          .arg(s2 + 1);
        } else if (keyword == QLatin1String("disable") || keyword == QLatin1String("enable")) {
            int s2 = 0, e2 = 0;
            const QString kind = nextWord(line, end, &s2, &e2);
            if (!isBuiltin(kind)) {
                ok = false;
                why = QStringLiteral("column %1: unknown detector '%2' (%3)")
                          .arg(s2 + 1)
                          .arg(kind, kindList());
            } else {
                config.setEnabled(kind, keyword == QLatin1String("enable"));
            }
        } else if (keyword == QLatin1String("alert")) {
            AlertRule rule;
            rule.line = i + 1;
            ok = parseAlert(line, end, &rule, &why);
            if (ok && ruleNames.contains(rule.name)) {
                ok = false;
                why = QStringLiteral("a rule named '%1' is already defined").arg(rule.name);
            }
            if (ok) {
                ruleNames.append(rule.name);
                config.addRule(rule);
            }
        } else {
            ok = false;
            why = QStringLiteral("column %1: expected alert, set, severity, enable or disable, "
                                 "found '%2'")
                      .arg(start + 1)
                      .arg(keyword);
        }
        if (!ok) {
            if (error)
                *error = QStringLiteral("line %1, %2").arg(i + 1).arg(why);
            return std::nullopt;
        }
    }
    return config;
}

} // namespace tcpscope
