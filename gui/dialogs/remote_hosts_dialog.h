// SPDX-License-Identifier: GPL-3.0-or-later
// Capture ▸ Remote Hosts…: which hosts the next capture records: this machine and/or remote
// hosts reached over SSH (core/capture/remote_transport.h), each with an optional helper path.
// Kept in QSettings. One host is recorded as today's live capture; several are recorded one
// LiveCapture each and merged into one session when the capture stops (CaptureController).
#pragma once

#include "capture/remote_transport.h"

#include <QDialog>
#include <QVector>

#include <optional>

class QCheckBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QPushButton;

namespace tcpscope {

struct RemoteHostEntry
{
    QString destination; // as ssh takes it
    QString helperPath;  // empty: the remote default
    bool enabled = true;
    bool operator==(const RemoteHostEntry &) const = default;
};

struct CaptureHosts
{
    bool local = true; // this machine
    QVector<RemoteHostEntry> remotes;

    // The hosts the next capture records, in order: this machine (nullopt) first when checked,
    // then the checked remote hosts.
    QVector<std::optional<RemoteTarget>> chosen() const;
    // "web1", "this machine"
    static QString label(const std::optional<RemoteTarget> &host);
    bool operator==(const CaptureHosts &) const = default;
};

// Add/Edit of one remote host: destination (required, not one of the others) and helper path.
class RemoteHostEditDialog : public QDialog
{
    Q_OBJECT
public:
    RemoteHostEditDialog(const RemoteHostEntry &entry, const QStringList &otherDestinations,
                         QWidget *parent = nullptr);
    RemoteHostEntry entry() const;
    QLineEdit *destinationEdit() const { return m_destination; }
    QLineEdit *helperEdit() const { return m_helper; }
    QLabel *errorLabel() const { return m_error; }
    bool isValid() const;

private:
    void validate();
    QLineEdit *m_destination;
    QLineEdit *m_helper;
    QLabel *m_error;
    QDialogButtonBox *m_buttons;
    QStringList m_others;
    bool m_enabled;
};

class RemoteHostsDialog : public QDialog
{
    Q_OBJECT
public:
    explicit RemoteHostsDialog(const CaptureHosts &hosts, QWidget *parent = nullptr);

    CaptureHosts hosts() const;
    QCheckBox *localCheck() const { return m_local; }
    QListWidget *list() const { return m_list; }
    QPushButton *addButton() const { return m_add; }
    QPushButton *editButton() const { return m_edit; }
    QPushButton *removeButton() const { return m_remove; }
    QLabel *errorLabel() const { return m_error; }
    bool isValid() const; // OK is enabled

    // The remembered hosts (default: this machine only).
    static CaptureHosts load();
    static void save(const CaptureHosts &hosts);

    void accept() override; // saves

private:
    void addHost();
    void editHost();
    void removeHost();
    void appendItem(const RemoteHostEntry &entry);
    void setItem(int row, const RemoteHostEntry &entry);
    QStringList destinations(int exceptRow) const;
    void validate();

    QCheckBox *m_local;
    QListWidget *m_list;
    QPushButton *m_add;
    QPushButton *m_edit;
    QPushButton *m_remove;
    QLabel *m_error;
    QDialogButtonBox *m_buttons;
};

} // namespace tcpscope
