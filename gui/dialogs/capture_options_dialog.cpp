// SPDX-License-Identifier: GPL-3.0-or-later
#include "dialogs/capture_options_dialog.h"

#include "tcpscope_records.h"

#include <QCheckBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QVBoxLayout>

namespace tcpscope {

CaptureOptionsDialog::CaptureOptionsDialog(const CaptureOptions &options, QWidget *parent) : QDialog(parent)
{
    setWindowTitle(tr("Capture Options"));
    m_packets = new QCheckBox(tr("Record TCP packet headers (TC hooks on every interface)"), this);
    m_packets->setChecked(options.packets);
    m_snapLen = new QSpinBox(this);
    m_snapLen->setRange(0, TS_SNAP_MAX);
    m_snapLen->setSuffix(tr(" bytes"));
    m_snapLen->setSpecialValueText(tr("none"));
    m_snapLen->setValue(options.snapLen);
    m_snapLen->setToolTip(tr("Payload bytes kept per packet (at most %1). Payload may contain passwords or "
                             "personal data: keep it off unless you need it.").arg(TS_SNAP_MAX));
    m_filter = new QLineEdit(options.filter, this);
    m_filter->setPlaceholderText(tr("everything, or e.g.: port 80,443 net 10.0.0.0/8 iface lo"));
    m_filter->setClearButtonEnabled(true);
    m_filter->setToolTip(tr("Kernel-side capture filter: port N[,N…], host ADDR, net ADDR/LEN, iface NAME[,NAME…].\n"
                            "Terms of the same kind are alternatives; different kinds must all match."));
    m_error = new QLabel(this);
    m_error->setWordWrap(true);
    m_error->setStyleSheet(QStringLiteral("color: #b00000;"));
    auto *help = new QLabel(tr("<small>Filter terms: <tt>port 443</tt>, <tt>host 10.0.0.5</tt>, <tt>net 192.168.0.0/16</tt>, "
                               "<tt>iface eth0,lo</tt>. Different kinds combine with <i>and</i>; the same kind with "
                               "<i>or</i>. The filter applies to packets, connections are always recorded.</small>"),
                            this);
    help->setWordWrap(true);

    auto *form = new QFormLayout;
    form->addRow(m_packets);
    form->addRow(tr("Payload snapshot:"), m_snapLen);
    form->addRow(tr("Capture filter:"), m_filter);
    form->addRow(QString(), m_error);
    form->addRow(help);
    m_buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    connect(m_buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(m_buttons);
    resize(560, sizeHint().height());

    connect(m_filter, &QLineEdit::textChanged, this, &CaptureOptionsDialog::validate);
    connect(m_snapLen, &QSpinBox::valueChanged, this, &CaptureOptionsDialog::validate);
    connect(m_packets, &QCheckBox::toggled, this, &CaptureOptionsDialog::validate);
    validate();
}

CaptureOptions CaptureOptionsDialog::options() const
{
    CaptureOptions o;
    o.packets = m_packets->isChecked();
    o.snapLen = o.packets ? m_snapLen->value() : 0;
    o.filter = m_filter->text().trimmed();
    return o;
}

bool CaptureOptionsDialog::isValid() const
{
    return m_buttons->button(QDialogButtonBox::Ok)->isEnabled();
}

void CaptureOptionsDialog::validate()
{
    m_snapLen->setEnabled(m_packets->isChecked());
    QString error;
    const bool ok = buildStartOptions(options(), &error).has_value();
    m_error->setText(ok ? QString() : error);
    m_error->setVisible(!ok);
    m_filter->setStyleSheet(ok ? QString() : QStringLiteral("QLineEdit { border: 1px solid #b00000; }"));
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(ok);
}

CaptureOptions CaptureOptionsDialog::load()
{
    QSettings s;
    CaptureOptions o;
    o.packets = s.value(QStringLiteral("capture/packets"), true).toBool();
    o.snapLen = std::clamp(s.value(QStringLiteral("capture/snapLen"), 0).toInt(), 0, int(TS_SNAP_MAX));
    o.filter = s.value(QStringLiteral("capture/filter")).toString();
    return o;
}

void CaptureOptionsDialog::save(const CaptureOptions &options)
{
    QSettings s;
    s.setValue(QStringLiteral("capture/packets"), options.packets);
    s.setValue(QStringLiteral("capture/snapLen"), options.snapLen);
    s.setValue(QStringLiteral("capture/filter"), options.filter);
}

} // namespace tcpscope
