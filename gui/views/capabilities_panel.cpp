// SPDX-License-Identifier: GPL-3.0-or-later
#include "views/capabilities_panel.h"

#include <QDialog>
#include <QDialogButtonBox>
#include <QHeaderView>
#include <QLabel>
#include <QTableWidget>
#include <QVBoxLayout>

namespace tcpscope {

namespace {
QString explanation(const ProbeStatus &p)
{
    const QString s = p.status.toLower();
    if (s == QLatin1String("tp_btf"))
        return QObject::tr("preferred: BTF-typed tracepoint (no tracefs needed)");
    if (s == QLatin1String("tracepoint"))
        return QObject::tr("fallback: classic tracepoint (tp_btf not usable here)");
    if (s == QLatin1String("tcx"))
        return QObject::tr("preferred: tcx link on every interface");
    if (s == QLatin1String("clsact"))
        return QObject::tr("fallback: clsact qdisc + tc filter (no tcx on this kernel)");
    if (s == QLatin1String("sock_diag"))
        return QObject::tr("listener queues polled with sock_diag (no BPF needed)");
    if (p.level == ProbeStatus::Level::Unavailable)
        return QObject::tr("not running: what it records is missing from this session");
    return QString();
}
} // namespace

ProbeStatus parseProbe(const QString &line)
{
    ProbeStatus p;
    const int eq = int(line.indexOf(QLatin1Char('=')));
    p.name = (eq < 0 ? line : line.left(eq)).trimmed();
    QString rest = eq < 0 ? QString() : line.mid(eq + 1);
    const int paren = int(rest.indexOf(QStringLiteral(" (")));
    if (paren >= 0) {
        p.detail = rest.mid(paren + 2);
        if (p.detail.endsWith(QLatin1Char(')')))
            p.detail.chop(1); // the detail itself may contain parentheses: only the outer pair goes
        rest = rest.left(paren);
    }
    p.status = rest.trimmed();
    const QString s = p.status.toLower();
    if (s == QLatin1String("tp_btf") || s == QLatin1String("tcx") || s == QLatin1String("fentry") ||
        s == QLatin1String("ok") || s == QLatin1String("running") ||
        s == QLatin1String("sock_diag"))
        p.level = ProbeStatus::Level::Preferred;
    else if (s == QLatin1String("tracepoint") || s == QLatin1String("clsact") ||
             s == QLatin1String("kprobe") || s.startsWith(QLatin1String("fallback")))
        p.level = ProbeStatus::Level::Fallback;
    else if (s == QLatin1String("unavailable") || s == QLatin1String("failed") ||
             s == QLatin1String("disabled") || s.startsWith(QLatin1String("error")) ||
             s == QLatin1String("off"))
        p.level = ProbeStatus::Level::Unavailable;
    return p;
}

CapabilitiesPanel::CapabilitiesPanel(QWidget *parent) : QWidget(parent)
{
    auto *layout = new QVBoxLayout(this);
    m_summary = new QLabel(this);
    m_summary->setWordWrap(true);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_summary);
    m_table = new QTableWidget(0, 4, this);
    m_table->setHorizontalHeaderLabels(
        {tr("Hook"), tr("Status"), tr("Meaning"), tr("Why (as the helper reported it)")});
    m_table->verticalHeader()->setVisible(false);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setWordWrap(true);
    m_table->horizontalHeader()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->setSectionResizeMode(1, QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->setSectionResizeMode(2, QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->setStretchLastSection(true);
    layout->addWidget(m_table);
}

void CapabilitiesPanel::setSessionInfo(const SessionInfo &info, bool live)
{
    m_table->setRowCount(0);
    int preferred = 0, fallback = 0, unavailable = 0;
    for (const QString &line : info.probes) {
        const ProbeStatus p = parseProbe(line);
        QColor background;
        switch (p.level) {
        case ProbeStatus::Level::Preferred:
            ++preferred;
            background = QColor(0xdf, 0xf3, 0xdf);
            break;
        case ProbeStatus::Level::Fallback:
            ++fallback;
            background = QColor(0xff, 0xf0, 0xc8);
            break;
        case ProbeStatus::Level::Unavailable:
            ++unavailable;
            background = QColor(0xf8, 0xd7, 0xd7);
            break;
        case ProbeStatus::Level::Other:
            break;
        }
        const int row = m_table->rowCount();
        m_table->insertRow(row);
        const QStringList cells{p.name, p.status, explanation(p), p.detail};
        for (int col = 0; col < cells.size(); ++col) {
            auto *item = new QTableWidgetItem(cells[col]);
            item->setToolTip(line);
            if (background.isValid())
                item->setBackground(background);
            if (col == 1)
                item->setFont([&] {
                    QFont f = m_table->font();
                    f.setBold(true);
                    return f;
                }());
            m_table->setItem(row, col, item);
        }
    }
    m_table->resizeRowsToContents();
    if (info.probes.isEmpty()) {
        m_summary->setText(
            live ? tr("Waiting for the helper's probe report…")
                 : tr("No probe report: open a session file or start a capture. Files written by "
                      "tcpscope before the probe report existed have none."));
        return;
    }
    m_summary->setText(
        tr("<b>Kernel %1</b> on %2 — %3 preferred, %4 fallback, %5 unavailable. "
           "<span style='background:#dff3df'>&nbsp;green&nbsp;</span> runs on the preferred hook, "
           "<span style='background:#fff0c8'>&nbsp;amber&nbsp;</span> runs on an older hook, "
           "<span style='background:#f8d7d7'>&nbsp;red&nbsp;</span> does not run%6.")
            .arg(info.kernelRelease.isEmpty() ? tr("(unknown release)")
                                              : info.kernelRelease.toHtmlEscaped(),
                 info.hostname.isEmpty() ? tr("(unknown host)") : info.hostname.toHtmlEscaped())
            .arg(preferred)
            .arg(fallback)
            .arg(unavailable)
            .arg(live ? tr(" (this capture)") : tr(" (when this session was recorded)")));
}

QDialog *showCapabilitiesDialog(QWidget *parent, const SessionInfo &info, bool live)
{
    auto *dialog = new QDialog(parent);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setWindowTitle(QObject::tr("Kernel Capabilities"));
    auto *layout = new QVBoxLayout(dialog);
    auto *panel = new CapabilitiesPanel(dialog);
    panel->setSessionInfo(info, live);
    layout->addWidget(panel);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, dialog);
    QObject::connect(buttons, &QDialogButtonBox::rejected, dialog, &QDialog::close);
    layout->addWidget(buttons);
    dialog->resize(960, 420);
    dialog->show();
    return dialog;
}

} // namespace tcpscope
