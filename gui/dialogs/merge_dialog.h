// SPDX-License-Identifier: GPL-3.0-or-later
// File ▸ Merge…: sessions of several hosts into one (core/session/session_merge.h, the code
// `tcpscope merge` runs). Choose the input files (the first is the time reference), optional
// clock offsets (HOST=±MS, one per line), the output file; Merge runs on a worker thread with
// a progress bar, each host's offset and method are listed as they are decided, Cancel stops
// it (nothing is left behind). On success mergedPath() names the file for the caller to open.
#pragma once

#include <QDialog>
#include <QStringList>

#include <atomic>
#include <memory>

class QCheckBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QThread;

namespace tcpscope {

class MergeDialog : public QDialog
{
    Q_OBJECT
public:
    explicit MergeDialog(QWidget *parent = nullptr);
    ~MergeDialog() override;

    void setInputs(const QStringList &paths);
    QStringList inputs() const;
    void setOffsets(const QString &lines); // "HOST=±MS" per line
    void setOutput(const QString &path);
    void setReplace(bool replace);
    // Starts the merge (what the Merge button does); false + the reason in the dialog when the
    // choices are not valid. finished() follows on the GUI thread.
    bool startMerge();
    bool running() const { return m_thread != nullptr; }
    // The merged file after a successful merge; empty otherwise.
    QString mergedPath() const { return m_merged; }
    QString errorText() const; // the last error shown, empty when none
    QString logText() const;   // the host lines

signals:
    void finished(bool ok);

protected:
    void reject() override; // Cancel: stops a running merge first

private:
    void addFiles();
    void removeSelected();
    void chooseOutput();
    void updateButtons();
    void showError(const QString &text);
    void done(bool ok, const QString &error, const QStringList &warnings);

    QListWidget *m_list = nullptr;
    QPlainTextEdit *m_offsets = nullptr;
    QLineEdit *m_output = nullptr;
    QCheckBox *m_replace = nullptr;
    QProgressBar *m_progress = nullptr;
    QPlainTextEdit *m_log = nullptr;
    QLabel *m_error = nullptr;
    QPushButton *m_mergeButton = nullptr;
    QPushButton *m_removeButton = nullptr;
    QDialogButtonBox *m_buttons = nullptr;
    QThread *m_thread = nullptr;
    std::shared_ptr<std::atomic<bool>> m_cancel;
    QString m_merged;
};

} // namespace tcpscope
