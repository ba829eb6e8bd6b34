// SPDX-License-Identifier: GPL-3.0-or-later
// Capture ▸ Options…: what the next capture records (packets on/off, payload snapshot size,
// kernel-side capture filter, triggered capture), validated live with buildStartOptions,
// DisplayFilter::check and the built-in detector kinds, and kept in QSettings.
#pragma once

#include "capture/capture_options.h"
#include "capture/trigger_ring.h"

#include <QDialog>

#include <optional>

class QCheckBox;
class QComboBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QSpinBox;

namespace tcpscope {

// The dialog's "Triggered capture" group: its values are remembered while it is off.
struct CaptureTriggerChoice
{
    bool enabled = false;
    TriggerSettings settings; // trigger text, before/after (ns), memory ring (bytes)

    // What LiveCapture::setTrigger takes: the settings when enabled, else nullopt.
    std::optional<TriggerSettings> active() const
    {
        return enabled ? std::optional<TriggerSettings>(settings) : std::nullopt;
    }
};

class CaptureOptionsDialog : public QDialog
{
    Q_OBJECT
public:
    // The trigger group starts from the remembered choice (loadTrigger()).
    explicit CaptureOptionsDialog(const CaptureOptions &options, QWidget *parent = nullptr);
    CaptureOptionsDialog(const CaptureOptions &options, const CaptureTriggerChoice &trigger,
                         QWidget *parent = nullptr);

    CaptureOptions options() const;
    CaptureTriggerChoice triggerChoice() const;
    QLineEdit *filterEdit() const { return m_filter; }
    QLabel *errorLabel() const { return m_error; }
    QCheckBox *triggerCheck() const { return m_trigger; }
    QComboBox *triggerEdit() const { return m_triggerText; }
    QSpinBox *preSpin() const { return m_pre; }
    QSpinBox *postSpin() const { return m_post; }
    QSpinBox *ringSpin() const { return m_ring; }
    QLabel *triggerErrorLabel() const { return m_triggerError; }
    bool isValid() const; // OK is enabled

    // The remembered options (defaults: packets on, no payload, no filter).
    static CaptureOptions load();
    static void save(const CaptureOptions &options);
    // The remembered trigger group (defaults: off, 5 s before and after, 128 MiB). OK saves
    // it; the caller saves options().
    static CaptureTriggerChoice loadTrigger();
    static void saveTrigger(const CaptureTriggerChoice &choice);

    // Empty when text is a valid trigger: "kind:" + a built-in detector, or a display filter
    // expression over packets; else a one-line reason.
    static QString triggerError(const QString &text);

    void accept() override;

private:
    void validate();

    QCheckBox *m_packets;
    QSpinBox *m_snapLen;
    QLineEdit *m_filter;
    QCheckBox *m_trigger;
    QComboBox *m_triggerText;
    QSpinBox *m_pre;
    QSpinBox *m_post;
    QSpinBox *m_ring;
    QLabel *m_triggerError;
    QLabel *m_error;
    QDialogButtonBox *m_buttons;
};

} // namespace tcpscope
