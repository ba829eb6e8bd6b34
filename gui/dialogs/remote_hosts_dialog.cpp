// SPDX-License-Identifier: GPL-3.0-or-later
#include "dialogs/remote_hosts_dialog.h"

#include <QCheckBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QRegularExpression>
#include <QSettings>
#include <QVBoxLayout>

namespace tcpscope {

namespace {
constexpr int kDestinationRole = Qt::UserRole;
constexpr int kHelperRole = Qt::UserRole + 1;
const QString kErrorStyle = QStringLiteral("color: #b00000;");
} // namespace

QVector<std::optional<RemoteTarget>> CaptureHosts::chosen() const
{
    QVector<std::optional<RemoteTarget>> out;
    if (local)
        out.append(std::nullopt);
    for (const RemoteHostEntry &e : remotes) {
        if (e.enabled)
            out.append(RemoteTarget{e.destination, e.helperPath});
    }
    return out;
}

QString CaptureHosts::label(const std::optional<RemoteTarget> &host)
{
    return host ? host->destination : QObject::tr("this machine");
}

// ---- one host ----

RemoteHostEditDialog::RemoteHostEditDialog(const RemoteHostEntry &entry,
                                           const QStringList &otherDestinations, QWidget *parent)
    : QDialog(parent), m_others(otherDestinations), m_enabled(entry.enabled)
{
    setWindowTitle(entry.destination.isEmpty() ? tr("Add Remote Host") : tr("Edit Remote Host"));
    m_destination = new QLineEdit(entry.destination, this);
    m_destination->setPlaceholderText(
        tr("host, user@host, ssh://user@host:port or an ssh_config alias"));
    m_helper = new QLineEdit(entry.helperPath, this);
    m_helper->setPlaceholderText(
        tr("default: %1, else tcpscope-helper on the PATH").arg(QLatin1String(kRemoteHelperPath)));
    m_error = new QLabel(this);
    m_error->setStyleSheet(kErrorStyle);
    m_error->setWordWrap(true);
    m_buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    connect(m_buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    auto *form = new QFormLayout;
    form->addRow(tr("SSH destination:"), m_destination);
    form->addRow(tr("Remote helper:"), m_helper);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(m_error);
    layout->addWidget(m_buttons);
    connect(m_destination, &QLineEdit::textChanged, this, &RemoteHostEditDialog::validate);
    connect(m_helper, &QLineEdit::textChanged, this, &RemoteHostEditDialog::validate);
    resize(520, sizeHint().height());
    validate();
}

RemoteHostEntry RemoteHostEditDialog::entry() const
{
    return {m_destination->text().trimmed(), m_helper->text().trimmed(), m_enabled};
}

bool RemoteHostEditDialog::isValid() const
{
    return m_buttons->button(QDialogButtonBox::Ok)->isEnabled();
}

void RemoteHostEditDialog::validate()
{
    const QString dest = m_destination->text().trimmed();
    QString why;
    if (dest.isEmpty())
        why = tr("Enter the SSH destination.");
    else if (m_others.contains(dest))
        why = tr("%1 is in the list already.").arg(dest);
    else if (dest.startsWith(QLatin1Char('-')))
        why = tr("A destination cannot start with '-'.");
    else if (dest.contains(QRegularExpression(QStringLiteral("\\s"))))
        why = tr("A destination has no spaces.");
    else if (m_helper->text().trimmed().contains(QLatin1Char('\n')))
        why = tr("The helper path is one line.");
    m_error->setText(why);
    m_error->setVisible(!why.isEmpty());
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(why.isEmpty());
}

// ---- the list ----

RemoteHostsDialog::RemoteHostsDialog(const CaptureHosts &hosts, QWidget *parent) : QDialog(parent)
{
    setWindowTitle(tr("Remote Hosts"));
    auto *intro = new QLabel(
        tr("The hosts the next capture records. Remote hosts are reached with ssh: it "
           "authenticates "
           "with your keys, agent and ssh_config, without asking for passwords (BatchMode). There, "
           "your user must be in the group tcpscope. Several hosts are recorded side by side and "
           "merged into one session when the capture stops."),
        this);
    intro->setWordWrap(true);
    m_local = new QCheckBox(tr("This machine"), this);
    m_local->setChecked(hosts.local);
    m_list = new QListWidget(this);
    m_list->setSelectionMode(QAbstractItemView::SingleSelection);
    for (const RemoteHostEntry &e : hosts.remotes)
        appendItem(e);
    m_add = new QPushButton(tr("&Add…"), this);
    m_edit = new QPushButton(tr("&Edit…"), this);
    m_remove = new QPushButton(tr("&Remove"), this);
    auto *buttons = new QVBoxLayout;
    buttons->addWidget(m_add);
    buttons->addWidget(m_edit);
    buttons->addWidget(m_remove);
    buttons->addStretch();
    auto *listRow = new QHBoxLayout;
    listRow->addWidget(m_list, 1);
    listRow->addLayout(buttons);
    m_error = new QLabel(this);
    m_error->setStyleSheet(kErrorStyle);
    m_error->setWordWrap(true);
    m_buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    connect(m_buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(intro);
    layout->addWidget(m_local);
    layout->addWidget(new QLabel(tr("Remote hosts (SSH):"), this));
    layout->addLayout(listRow);
    layout->addWidget(m_error);
    layout->addWidget(m_buttons);
    connect(m_add, &QPushButton::clicked, this, &RemoteHostsDialog::addHost);
    connect(m_edit, &QPushButton::clicked, this, &RemoteHostsDialog::editHost);
    connect(m_remove, &QPushButton::clicked, this, &RemoteHostsDialog::removeHost);
    connect(m_list, &QListWidget::itemDoubleClicked, this, &RemoteHostsDialog::editHost);
    connect(m_list, &QListWidget::itemChanged, this, &RemoteHostsDialog::validate);
    connect(m_list, &QListWidget::currentRowChanged, this, &RemoteHostsDialog::validate);
    connect(m_local, &QCheckBox::toggled, this, &RemoteHostsDialog::validate);
    resize(560, 400);
    validate();
}

void RemoteHostsDialog::appendItem(const RemoteHostEntry &entry)
{
    auto *item = new QListWidgetItem(m_list);
    item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsSelectable | Qt::ItemIsUserCheckable);
    setItem(m_list->row(item), entry);
}

void RemoteHostsDialog::setItem(int row, const RemoteHostEntry &entry)
{
    QListWidgetItem *item = m_list->item(row);
    const QSignalBlocker block(m_list);
    item->setData(kDestinationRole, entry.destination);
    item->setData(kHelperRole, entry.helperPath);
    item->setText(entry.helperPath.isEmpty()
                      ? entry.destination
                      : tr("%1  (helper: %2)").arg(entry.destination, entry.helperPath));
    item->setCheckState(entry.enabled ? Qt::Checked : Qt::Unchecked);
}

QStringList RemoteHostsDialog::destinations(int exceptRow) const
{
    QStringList out;
    for (int i = 0; i < m_list->count(); ++i) {
        if (i != exceptRow)
            out << m_list->item(i)->data(kDestinationRole).toString();
    }
    return out;
}

CaptureHosts RemoteHostsDialog::hosts() const
{
    CaptureHosts h;
    h.local = m_local->isChecked();
    for (int i = 0; i < m_list->count(); ++i) {
        const QListWidgetItem *item = m_list->item(i);
        h.remotes.append({item->data(kDestinationRole).toString(),
                          item->data(kHelperRole).toString(), item->checkState() == Qt::Checked});
    }
    return h;
}

void RemoteHostsDialog::addHost()
{
    RemoteHostEditDialog dialog(RemoteHostEntry{}, destinations(-1), this);
    if (dialog.exec() != QDialog::Accepted)
        return;
    appendItem(dialog.entry());
    m_list->setCurrentRow(m_list->count() - 1);
    validate();
}

void RemoteHostsDialog::editHost()
{
    const int row = m_list->currentRow();
    if (row < 0)
        return;
    const QListWidgetItem *item = m_list->item(row);
    RemoteHostEntry entry{item->data(kDestinationRole).toString(),
                          item->data(kHelperRole).toString(), item->checkState() == Qt::Checked};
    RemoteHostEditDialog dialog(entry, destinations(row), this);
    if (dialog.exec() != QDialog::Accepted)
        return;
    setItem(row, dialog.entry());
    validate();
}

void RemoteHostsDialog::removeHost()
{
    const int row = m_list->currentRow();
    if (row < 0)
        return;
    delete m_list->takeItem(row);
    validate();
}

bool RemoteHostsDialog::isValid() const
{
    return m_buttons->button(QDialogButtonBox::Ok)->isEnabled();
}

void RemoteHostsDialog::validate()
{
    const bool selected = m_list->currentRow() >= 0;
    m_edit->setEnabled(selected);
    m_remove->setEnabled(selected);
    QString why;
    const CaptureHosts h = hosts();
    QStringList seen;
    for (const RemoteHostEntry &e : h.remotes) {
        // Saved lists were validated; this guards against edited settings files.
        if (e.destination.trimmed().isEmpty()) {
            why = tr("A remote host has no SSH destination.");
            break;
        }
        if (seen.contains(e.destination)) {
            why = tr("%1 is listed twice.").arg(e.destination);
            break;
        }
        seen << e.destination;
    }
    if (why.isEmpty() && h.chosen().isEmpty())
        why = tr("Check at least one host.");
    m_error->setText(why);
    m_error->setVisible(!why.isEmpty());
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(why.isEmpty());
}

void RemoteHostsDialog::accept()
{
    if (!isValid())
        return;
    save(hosts());
    QDialog::accept();
}

CaptureHosts RemoteHostsDialog::load()
{
    QSettings s;
    CaptureHosts h;
    h.local = s.value(QStringLiteral("capture/hosts/local"), true).toBool();
    const int n = s.beginReadArray(QStringLiteral("capture/hosts/remote"));
    QStringList seen;
    for (int i = 0; i < n; ++i) {
        s.setArrayIndex(i);
        RemoteHostEntry e;
        e.destination = s.value(QStringLiteral("destination")).toString().trimmed();
        e.helperPath = s.value(QStringLiteral("helper")).toString().trimmed();
        e.enabled = s.value(QStringLiteral("enabled"), true).toBool();
        if (e.destination.isEmpty() || e.destination.startsWith(QLatin1Char('-')) ||
            seen.contains(e.destination))
            continue; // not something the dialog would have saved
        seen << e.destination;
        h.remotes.append(e);
    }
    s.endArray();
    if (h.chosen().isEmpty())
        h.local = true;
    return h;
}

void RemoteHostsDialog::save(const CaptureHosts &hosts)
{
    QSettings s;
    s.setValue(QStringLiteral("capture/hosts/local"), hosts.local);
    s.remove(QStringLiteral("capture/hosts/remote"));
    s.beginWriteArray(QStringLiteral("capture/hosts/remote"), int(hosts.remotes.size()));
    for (int i = 0; i < hosts.remotes.size(); ++i) {
        s.setArrayIndex(i);
        s.setValue(QStringLiteral("destination"), hosts.remotes[i].destination);
        s.setValue(QStringLiteral("helper"), hosts.remotes[i].helperPath);
        s.setValue(QStringLiteral("enabled"), hosts.remotes[i].enabled);
    }
    s.endArray();
}

} // namespace tcpscope
