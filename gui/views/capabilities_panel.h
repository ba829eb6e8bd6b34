// SPDX-License-Identifier: GPL-3.0-or-later
// "Kernel capabilities": which probes of the helper run on this kernel, which fell back to an
// older hook and which are unavailable, and why — exactly as the helper reported them in its
// Hello (SessionInfo::probes, "name=status (detail)"), for a live capture or a loaded file.
#pragma once

#include "model/connection.h"

#include <QWidget>

class QDialog;
class QLabel;
class QTableWidget;

namespace tcpscope {

// One probe line split up. status is the helper's word (tp_btf, tracepoint, tcx, clsact,
// unavailable, ...); level says how to read it.
struct ProbeStatus
{
    enum class Level
    {
        Preferred,
        Fallback,
        Unavailable,
        Other
    };
    QString name;
    QString status;
    QString detail;
    Level level = Level::Other;
};
ProbeStatus parseProbe(const QString &line);

class CapabilitiesPanel : public QWidget
{
    Q_OBJECT
public:
    explicit CapabilitiesPanel(QWidget *parent = nullptr);
    void setSessionInfo(const SessionInfo &info, bool live);
    QTableWidget *table() const { return m_table; }
    QLabel *summary() const { return m_summary; }

private:
    QLabel *m_summary = nullptr;
    QTableWidget *m_table = nullptr;
};

// A non-modal dialog with the panel (deleted on close).
QDialog *showCapabilitiesDialog(QWidget *parent, const SessionInfo &info, bool live);

} // namespace tcpscope
