// SPDX-License-Identifier: GPL-3.0-or-later
// Capture ▸ Options…: what the next capture records (packets on/off, payload snapshot size,
// kernel-side capture filter), validated live with buildStartOptions and kept in QSettings.
#pragma once

#include "capture/capture_options.h"

#include <QDialog>

class QCheckBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QSpinBox;

namespace tcpscope {

class CaptureOptionsDialog : public QDialog
{
    Q_OBJECT
public:
    explicit CaptureOptionsDialog(const CaptureOptions &options, QWidget *parent = nullptr);

    CaptureOptions options() const;
    QLineEdit *filterEdit() const { return m_filter; }
    QLabel *errorLabel() const { return m_error; }
    bool isValid() const; // OK is enabled

    // The remembered options (defaults: packets on, no payload, no filter).
    static CaptureOptions load();
    static void save(const CaptureOptions &options);

private:
    void validate();

    QCheckBox *m_packets;
    QSpinBox *m_snapLen;
    QLineEdit *m_filter;
    QLabel *m_error;
    QDialogButtonBox *m_buttons;
};

} // namespace tcpscope
