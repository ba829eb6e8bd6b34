// SPDX-License-Identifier: GPL-3.0-or-later
// An alert: something a detector (core/detect/alert_engine.h) saw in the records, with when,
// what, how bad, and the evidence that made it fire (connection and packet ids, a display
// filter that selects them). Produced live by `tcpscope watch` and the recorder, and by a replay
// of a session file; the same value in every place it is shown (terminal line, JSON, GUI).
#pragma once

#include <QJsonObject>
#include <QMetaType>
#include <QString>
#include <QVector>

namespace tcpscope {

enum class AlertSeverity : quint8
{
    Low = 0,
    Medium = 1,
    High = 2,
};

QString alertSeverityName(AlertSeverity severity); // "low", "medium", "high"
bool alertSeverityFromName(const QString &name, AlertSeverity *severity);

struct Alert
{
    qint64 timeNs = 0;   // wall ns of the record that made it fire
    QString kind;        // a detector ("syn_flood", ...) or a rule's name
    bool custom = false; // from a rules file
    AlertSeverity severity = AlertSeverity::Medium;
    // What the alert is about, the throttling key with kind: "127.0.0.1:8080" (a listener),
    // "10.0.0.7" (a remote), "conn 42", "NO_SOCKET" (a drop reason).
    QString subject;
    QString summary; // one line for a person: "SYN flood on 127.0.0.1:8080: 412 SYNs, ..."
    QString remote;  // "addr:port" or "addr" of the remote involved; empty when none/several
    QVector<qint64> connections; // evidence: connection ids (at most kMaxEvidence)
    QVector<qint64> packets;     // evidence: packet ids (at most kMaxEvidence)
    // Alerts of this kind and subject left out since the previous one (throttling).
    quint64 suppressed = 0;

    static constexpr int kMaxEvidence = 64;

    // The display filter that selects the evidence connections (and so their packets):
    // "conn.id in {3, 5, 8}"; empty without connection ids.
    QString connectionFilter() const;
};

// "2026-12-05T21:30:00.123456789Z": RFC 3339, UTC, with the nanoseconds.
QString rfc3339Ns(qint64 wallNs);
// The JSON object of `watch --json` and TCPSCOPE_ALERT: time, kind, severity, summary,
// connections, remote (null when empty), subject, custom, packets, suppressed, filter (the
// display filter selecting the evidence connections).
QJsonObject alertToJson(const Alert &alert);
// One terminal line: "TIME SEVERITY KIND: SUMMARY (+N suppressed)".
QString alertLine(const Alert &alert);

} // namespace tcpscope

Q_DECLARE_METATYPE(tcpscope::Alert)
