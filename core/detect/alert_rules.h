// SPDX-License-Identifier: GPL-3.0-or-later
// What the alert engine watches for: the built-in detectors with their thresholds (each has
// documented defaults, see docs/FILTERS.md "Alerts"), and custom rules written in the display
// filter language. Both come from one rules file:
//
//   # comments and blank lines are ignored
//   set syn_flood.min_syns = 200          a detector threshold (units as in filters: 5s, 200ms)
//   set alert.throttle = 30s              one alert per kind and subject per 30 s
//   severity port_scan high               a detector's severity
//   disable drop_surge                    a detector off
//   alert slow-tls severity=medium when conn.handshake_time > 200ms and tcp.port == 443
//   alert resends when count(tcp.analysis.retransmission) by conn.id > 10 over 1s
//
// parseAlertConfig validates the whole file and names the line and column of the first error.
#pragma once

#include "detect/alert.h"
#include "filter/display_filter.h"

#include <QHash>
#include <QString>
#include <QStringList>
#include <QVector>

#include <optional>

namespace tcpscope {

// One built-in detector: its name, severity and a sentence for --list-detectors and the docs.
struct DetectorInfo
{
    QString kind;
    AlertSeverity severity;
    QString description;
};
const QVector<DetectorInfo> &builtinDetectors();

// One threshold: "syn_flood.min_syns", its default, whether it is a duration (ns) or a plain
// number, and what it means.
struct DetectorParameter
{
    QString name;
    double defaultValue;
    bool isDuration;
    QString description;
};
const QVector<DetectorParameter> &detectorParameters();

// A custom rule: `alert NAME [severity=S] when EXPR` fires for each packet or connection that
// matches; with `count(EXPR) [by FIELD] > N over T` it fires when more than N matched within T
// (per value of FIELD when given).
struct AlertRule
{
    QString name;
    AlertSeverity severity = AlertSeverity::Medium;
    QString expression;   // the display filter text
    DisplayFilter filter; // compiled for packets or connections (target() says which)
    bool counted = false;
    QString groupField;    // "" = one group; else a field name (see groupFieldNames())
    quint64 threshold = 0; // fires when the count is > threshold (>= when atLeast)
    bool atLeast = false;
    qint64 windowNs = 0;
    int line = 0; // in the rules file, for messages
};

// The fields a count may be grouped by.
QStringList groupFieldNames();

class AlertConfig
{
public:
    AlertConfig(); // every detector on with its defaults, no rules

    double value(const QString &parameter) const; // a DetectorParameter's name
    qint64 durationNs(const QString &parameter) const { return qint64(value(parameter)); }
    bool setValue(const QString &parameter, double value);
    // Drop reasons drop_surge leaves out (set drop_surge.ignore = A, B): the kernel's
    // housekeeping and firewall policy by default (kDefaultIgnoredDrops).
    const QStringList &ignoredDrops() const { return m_ignoredDrops; }
    void setIgnoredDrops(const QStringList &reasons) { m_ignoredDrops = reasons; }
    static const QStringList &defaultIgnoredDrops();
    bool enabled(const QString &kind) const { return !m_disabled.contains(kind); }
    void setEnabled(const QString &kind, bool on);
    AlertSeverity severity(const QString &kind) const;
    void setSeverity(const QString &kind, AlertSeverity severity);
    const QVector<AlertRule> &rules() const { return m_rules; }
    void addRule(const AlertRule &rule) { m_rules.append(rule); }

private:
    QHash<QString, double> m_values;
    QHash<QString, AlertSeverity> m_severities;
    QStringList m_disabled;
    QStringList m_ignoredDrops = defaultIgnoredDrops();
    QVector<AlertRule> m_rules;
};

// The rules file text (see the top of this file) on top of the defaults. On error: nullopt and
// *error = "line 3, column 12: unknown field 'tcp.prot'; did you mean tcp.port?".
std::optional<AlertConfig> parseAlertConfig(const QString &text, QString *error);

// "10s", "200ms", "1.5s", "250us", "2m", a bare number = seconds -> ns; nullopt otherwise.
std::optional<qint64> parseAlertDuration(const QString &text);

} // namespace tcpscope
