// SPDX-License-Identifier: GPL-3.0-or-later
#include "dialogs/capture_options_dialog.h"

#include "detect/alert_rules.h"
#include "filter/display_filter.h"
#include "tcpscope_records.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QVBoxLayout>

#include <algorithm>

namespace tcpscope {

namespace {
constexpr qint64 kNsPerSecond = 1'000'000'000;
constexpr qint64 kBytesPerMiB = 1024 * 1024;
constexpr int kMaxSeconds = 3600;
constexpr int kMaxRingMiB = 65536;
const QString kKindPrefix = QStringLiteral("kind:");
} // namespace

CaptureOptionsDialog::CaptureOptionsDialog(const CaptureOptions &options, QWidget *parent)
    : CaptureOptionsDialog(options, loadTrigger(), parent)
{
}

CaptureOptionsDialog::CaptureOptionsDialog(const CaptureOptions &options,
                                           const CaptureTriggerChoice &trigger, QWidget *parent)
    : QDialog(parent)
{
    setWindowTitle(tr("Capture Options"));
    m_packets = new QCheckBox(tr("Record TCP packet headers (TC hooks on every interface)"), this);
    m_packets->setChecked(options.packets);
    m_snapLen = new QSpinBox(this);
    m_snapLen->setRange(0, TS_SNAP_MAX);
    m_snapLen->setSuffix(tr(" bytes"));
    m_snapLen->setSpecialValueText(tr("none"));
    m_snapLen->setValue(options.snapLen);
    m_snapLen->setToolTip(
        tr("Payload bytes kept per packet (at most %1). Payload may contain passwords or "
           "personal data: keep it off unless you need it.")
            .arg(TS_SNAP_MAX));
    m_filter = new QLineEdit(options.filter, this);
    m_filter->setPlaceholderText(tr("everything, or e.g.: port 80,443 net 10.0.0.0/8 iface lo, "
                                    "cgroup /system.slice/nginx.service"));
    m_filter->setClearButtonEnabled(true);
    m_filter->setToolTip(tr(
        "Kernel-side capture filter: port N[,N…], host ADDR, net ADDR/LEN, iface NAME[,NAME…];\n"
        "by owner: cgroup PATH (and below it), netns NAME|INODE, pid N[,N…], comm NAME[,NAME…].\n"
        "Terms of the same kind are alternatives; different kinds must all match.\n"
        "Cgroup paths and namespace names are looked up on the capturing machine when the "
        "capture starts."));
    m_error = new QLabel(this);
    m_error->setWordWrap(true);
    m_error->setStyleSheet(QStringLiteral("color: #b00000;"));
    auto *help = new QLabel(
        tr("<small>Filter terms: <tt>port 443</tt>, <tt>host 10.0.0.5</tt>, <tt>net "
           "192.168.0.0/16</tt>, "
           "<tt>iface eth0,lo</tt>; by owner <tt>cgroup /system.slice/nginx.service</tt>, "
           "<tt>netns blue</tt>, <tt>pid 1234</tt>, <tt>comm nginx</tt>. Different kinds combine "
           "with <i>and</i>; the same kind with <i>or</i>. Port, address and interface terms "
           "apply to packets; owner terms also to connections and kernel samples (only that "
           "owner's are recorded).</small>"),
        this);
    help->setWordWrap(true);

    auto *form = new QFormLayout;
    form->addRow(m_packets);
    form->addRow(tr("Payload snapshot:"), m_snapLen);
    form->addRow(tr("Capture filter:"), m_filter);
    form->addRow(QString(), m_error);
    form->addRow(help);

    // Triggered capture (`tcpscope record --trigger … --pre … --post … --ring-mib …`).
    auto *triggerGroup = new QGroupBox(tr("Triggered capture"), this);
    m_trigger = new QCheckBox(tr("Keep packets only around a trigger"), triggerGroup);
    m_trigger->setChecked(trigger.enabled);
    m_trigger->setToolTip(
        tr("Packets and kernel samples wait in a memory ring; only those from \"before\" a "
           "trigger to \"after\" it are written to the session file. Connections and alerts "
           "are always written."));
    m_triggerText = new QComboBox(triggerGroup);
    m_triggerText->setEditable(true);
    m_triggerText->setInsertPolicy(QComboBox::NoInsert);
    for (const DetectorInfo &d : builtinDetectors()) {
        m_triggerText->addItem(kKindPrefix + d.kind);
        m_triggerText->setItemData(m_triggerText->count() - 1, d.description, Qt::ToolTipRole);
    }
    m_triggerText->setEditText(trigger.settings.trigger);
    m_triggerText->lineEdit()->setPlaceholderText(
        tr("kind:DETECTOR, or a filter, e.g.: tcp.flags.rst == 1"));
    m_triggerText->lineEdit()->setClearButtonEnabled(true);
    m_triggerText->setToolTip(
        tr("An alert of a built-in detector (kind:…), or a display filter expression "
           "over packets that triggers when a packet matches."));
    auto seconds = [&](qint64 ns) {
        auto *spin = new QSpinBox(triggerGroup);
        spin->setRange(0, kMaxSeconds);
        spin->setSuffix(tr(" s"));
        spin->setValue(int(std::clamp<qint64>(ns / kNsPerSecond, 0, kMaxSeconds)));
        return spin;
    };
    m_pre = seconds(trigger.settings.preNs);
    m_pre->setToolTip(
        tr("Seconds kept before each trigger (as long as the memory ring holds them)"));
    m_post = seconds(trigger.settings.postNs);
    m_post->setToolTip(tr("Seconds kept after each trigger"));
    m_ring = new QSpinBox(triggerGroup);
    m_ring->setRange(1, kMaxRingMiB);
    m_ring->setSuffix(tr(" MiB"));
    m_ring->setValue(
        int(std::clamp<qint64>(trigger.settings.ringBytes / kBytesPerMiB, 1, kMaxRingMiB)));
    m_ring->setToolTip(
        tr("Memory for the packets and samples waiting for a trigger; the oldest are "
           "dropped when it is full"));
    m_triggerError = new QLabel(triggerGroup);
    m_triggerError->setWordWrap(true);
    m_triggerError->setStyleSheet(QStringLiteral("color: #b00000;"));
    auto *triggerForm = new QFormLayout(triggerGroup);
    triggerForm->addRow(m_trigger);
    triggerForm->addRow(tr("Trigger:"), m_triggerText);
    triggerForm->addRow(QString(), m_triggerError);
    triggerForm->addRow(tr("Before:"), m_pre);
    triggerForm->addRow(tr("After:"), m_post);
    triggerForm->addRow(tr("Memory ring:"), m_ring);

    m_buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    connect(m_buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(triggerGroup);
    layout->addWidget(m_buttons);
    resize(560, sizeHint().height());

    connect(m_filter, &QLineEdit::textChanged, this, &CaptureOptionsDialog::validate);
    connect(m_snapLen, &QSpinBox::valueChanged, this, &CaptureOptionsDialog::validate);
    connect(m_packets, &QCheckBox::toggled, this, &CaptureOptionsDialog::validate);
    connect(m_trigger, &QCheckBox::toggled, this, &CaptureOptionsDialog::validate);
    connect(m_triggerText, &QComboBox::editTextChanged, this, &CaptureOptionsDialog::validate);
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

CaptureTriggerChoice CaptureOptionsDialog::triggerChoice() const
{
    CaptureTriggerChoice c;
    c.enabled = m_trigger->isChecked();
    c.settings.trigger = m_triggerText->currentText().trimmed();
    c.settings.preNs = m_pre->value() * kNsPerSecond;
    c.settings.postNs = m_post->value() * kNsPerSecond;
    c.settings.ringBytes = m_ring->value() * kBytesPerMiB;
    return c;
}

QString CaptureOptionsDialog::triggerError(const QString &text)
{
    const QString t = text.trimmed();
    if (t.isEmpty())
        return tr("Enter a trigger: kind:DETECTOR or a display filter expression");
    if (t.startsWith(kKindPrefix)) {
        const QString kind = t.mid(kKindPrefix.size()).trimmed();
        const auto &detectors = builtinDetectors();
        if (std::any_of(detectors.begin(), detectors.end(),
                        [&](const DetectorInfo &d) { return d.kind == kind; }))
            return QString();
        return tr("No detector named '%1'").arg(kind);
    }
    if (const auto e = DisplayFilter::check(t, FilterTarget::Packets))
        return e->message;
    return QString();
}

void CaptureOptionsDialog::accept()
{
    saveTrigger(triggerChoice());
    QDialog::accept();
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
    m_filter->setStyleSheet(ok ? QString()
                               : QStringLiteral("QLineEdit { border: 1px solid #b00000; }"));

    // A triggered capture keeps packets around each trigger: it needs them recorded. (The GUI
    // records one file, never a rotation ring, which LiveCapture refuses with a trigger.)
    const bool triggered = m_trigger->isChecked();
    for (QWidget *w : {static_cast<QWidget *>(m_triggerText), static_cast<QWidget *>(m_pre),
                       static_cast<QWidget *>(m_post), static_cast<QWidget *>(m_ring)})
        w->setEnabled(triggered);
    const QString textError = triggered ? triggerError(m_triggerText->currentText()) : QString();
    QString triggerWhy = textError;
    if (triggered) {
        if (triggerWhy.isEmpty() && !m_packets->isChecked())
            triggerWhy = tr("A triggered capture keeps packets around each trigger: record TCP "
                            "packet headers too");
    }
    m_triggerError->setText(triggerWhy);
    m_triggerError->setVisible(!triggerWhy.isEmpty());
    m_triggerText->setStyleSheet(!textError.isEmpty()
                                     ? QStringLiteral("QComboBox { border: 1px solid #b00000; }")
                                     : QString());
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(ok && triggerWhy.isEmpty());
}

CaptureOptions CaptureOptionsDialog::load()
{
    QSettings s;
    CaptureOptions o;
    o.packets = s.value(QStringLiteral("capture/packets"), true).toBool();
    o.snapLen =
        std::clamp(s.value(QStringLiteral("capture/snapLen"), 0).toInt(), 0, int(TS_SNAP_MAX));
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

CaptureTriggerChoice CaptureOptionsDialog::loadTrigger()
{
    QSettings s;
    CaptureTriggerChoice c;
    c.enabled = s.value(QStringLiteral("capture/trigger/enabled"), false).toBool();
    c.settings.trigger = s.value(QStringLiteral("capture/trigger/text")).toString().trimmed();
    const qint64 pre = s.value(QStringLiteral("capture/trigger/preSeconds"), 5).toLongLong();
    const qint64 post = s.value(QStringLiteral("capture/trigger/postSeconds"), 5).toLongLong();
    const qint64 ring = s.value(QStringLiteral("capture/trigger/ringMiB"), 128).toLongLong();
    c.settings.preNs = std::clamp<qint64>(pre, 0, kMaxSeconds) * kNsPerSecond;
    c.settings.postNs = std::clamp<qint64>(post, 0, kMaxSeconds) * kNsPerSecond;
    c.settings.ringBytes = std::clamp<qint64>(ring, 1, kMaxRingMiB) * kBytesPerMiB;
    // A remembered trigger that is no longer valid (a detector renamed) is kept as text, off.
    if (c.enabled && !triggerError(c.settings.trigger).isEmpty())
        c.enabled = false;
    return c;
}

void CaptureOptionsDialog::saveTrigger(const CaptureTriggerChoice &choice)
{
    QSettings s;
    s.setValue(QStringLiteral("capture/trigger/enabled"), choice.enabled);
    s.setValue(QStringLiteral("capture/trigger/text"), choice.settings.trigger);
    s.setValue(QStringLiteral("capture/trigger/preSeconds"), choice.settings.preNs / kNsPerSecond);
    s.setValue(QStringLiteral("capture/trigger/postSeconds"),
               choice.settings.postNs / kNsPerSecond);
    s.setValue(QStringLiteral("capture/trigger/ringMiB"), choice.settings.ringBytes / kBytesPerMiB);
}

} // namespace tcpscope
