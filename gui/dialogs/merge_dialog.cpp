// SPDX-License-Identifier: GPL-3.0-or-later
#include "dialogs/merge_dialog.h"

#include "session/session_merge.h"

#include <QCheckBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QThread>
#include <QVBoxLayout>

namespace tcpscope {

MergeDialog::MergeDialog(QWidget *parent) : QDialog(parent)
{
    setWindowTitle(tr("Merge Sessions"));
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(new QLabel(
        tr("Sessions recorded on several hosts become one session on one time axis. The first "
           "file is the time reference; the other hosts' clocks are aligned on the handshakes "
           "of connections seen from both ends, unless you give their offsets.")));
    static_cast<QLabel *>(layout->itemAt(0)->widget())->setWordWrap(true);

    auto *files = new QHBoxLayout;
    m_list = new QListWidget;
    m_list->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_list->setDragDropMode(QAbstractItemView::InternalMove);
    m_list->setToolTip(tr("Drag to reorder: the first file is the time reference"));
    files->addWidget(m_list, 1);
    auto *fileButtons = new QVBoxLayout;
    auto *add = new QPushButton(tr("&Add…"));
    m_removeButton = new QPushButton(tr("&Remove"));
    fileButtons->addWidget(add);
    fileButtons->addWidget(m_removeButton);
    fileButtons->addStretch(1);
    files->addLayout(fileButtons);
    layout->addLayout(files, 1);

    auto *form = new QFormLayout;
    m_offsets = new QPlainTextEdit;
    m_offsets->setPlaceholderText(tr("optional, one per line: web1=-12.5 (host name or file "
                                     "name = milliseconds)"));
    m_offsets->setMaximumHeight(fontMetrics().lineSpacing() * 4);
    form->addRow(tr("Clock &offsets:"), m_offsets);
    auto *out = new QHBoxLayout;
    m_output = new QLineEdit;
    auto *browse = new QPushButton(tr("&Browse…"));
    out->addWidget(m_output, 1);
    out->addWidget(browse);
    form->addRow(tr("O&utput:"), out);
    m_replace = new QCheckBox(tr("Replace the output file if it exists"));
    form->addRow(QString(), m_replace);
    layout->addLayout(form);

    m_progress = new QProgressBar;
    m_progress->setRange(0, 100);
    m_progress->setValue(0);
    layout->addWidget(m_progress);
    m_log = new QPlainTextEdit;
    m_log->setReadOnly(true);
    m_log->setMaximumHeight(fontMetrics().lineSpacing() * 6);
    m_log->setPlaceholderText(tr("Each host's clock offset appears here"));
    layout->addWidget(m_log);
    m_error = new QLabel;
    m_error->setWordWrap(true);
    m_error->setStyleSheet(QStringLiteral("color: #c62828"));
    m_error->hide();
    layout->addWidget(m_error);

    m_buttons = new QDialogButtonBox(QDialogButtonBox::Cancel);
    m_mergeButton = m_buttons->addButton(tr("&Merge"), QDialogButtonBox::AcceptRole);
    layout->addWidget(m_buttons);

    connect(add, &QPushButton::clicked, this, &MergeDialog::addFiles);
    connect(m_removeButton, &QPushButton::clicked, this, &MergeDialog::removeSelected);
    connect(browse, &QPushButton::clicked, this, &MergeDialog::chooseOutput);
    connect(m_list, &QListWidget::itemSelectionChanged, this, &MergeDialog::updateButtons);
    connect(m_output, &QLineEdit::textChanged, this, &MergeDialog::updateButtons);
    connect(m_buttons, &QDialogButtonBox::accepted, this, [this] { startMerge(); });
    connect(m_buttons, &QDialogButtonBox::rejected, this, &MergeDialog::reject);
    resize(640, 520);
    updateButtons();
}

MergeDialog::~MergeDialog()
{
    if (m_thread) {
        m_cancel->store(true);
        m_thread->wait();
        delete m_thread;
    }
}

void MergeDialog::setInputs(const QStringList &paths)
{
    m_list->clear();
    m_list->addItems(paths);
    updateButtons();
}

QStringList MergeDialog::inputs() const
{
    QStringList out;
    for (int i = 0; i < m_list->count(); ++i)
        out << m_list->item(i)->text();
    return out;
}

void MergeDialog::setOffsets(const QString &lines)
{
    m_offsets->setPlainText(lines);
}

void MergeDialog::setOutput(const QString &path)
{
    m_output->setText(path);
}

void MergeDialog::setReplace(bool replace)
{
    m_replace->setChecked(replace);
}

QString MergeDialog::errorText() const
{
    return m_error->isVisible() || !m_error->text().isEmpty() ? m_error->text() : QString();
}

QString MergeDialog::logText() const
{
    return m_log->toPlainText();
}

void MergeDialog::addFiles()
{
    const QStringList paths = QFileDialog::getOpenFileNames(
        this, tr("Add Sessions"), QString(), tr("tcpscope sessions (*.tcpscope);;All files (*)"));
    m_list->addItems(paths);
    updateButtons();
}

void MergeDialog::removeSelected()
{
    qDeleteAll(m_list->selectedItems());
    updateButtons();
}

void MergeDialog::chooseOutput()
{
    // The file dialog asks before an existing file is chosen: that is consent to replace it.
    const QString path = QFileDialog::getSaveFileName(this, tr("Merged Session"), m_output->text(),
                                                      tr("tcpscope sessions (*.tcpscope)"));
    if (path.isEmpty())
        return;
    m_output->setText(path);
    if (QFileInfo::exists(path))
        m_replace->setChecked(true);
}

void MergeDialog::updateButtons()
{
    const bool busy = m_thread != nullptr;
    m_removeButton->setEnabled(!busy && !m_list->selectedItems().isEmpty());
    m_mergeButton->setEnabled(!busy && m_list->count() >= 2 && !m_output->text().isEmpty());
    m_list->setEnabled(!busy);
    m_offsets->setReadOnly(busy);
    m_output->setReadOnly(busy);
}

void MergeDialog::showError(const QString &text)
{
    m_error->setText(text);
    m_error->setVisible(!text.isEmpty());
}

bool MergeDialog::startMerge()
{
    if (m_thread)
        return false;
    showError(QString());
    MergeOptions options;
    options.inputs = inputs();
    options.output = m_output->text().trimmed();
    options.force = m_replace->isChecked();
    for (const QString &raw : m_offsets->toPlainText().split(QLatin1Char('\n'))) {
        const QString line = raw.trimmed();
        if (line.isEmpty())
            continue;
        MergeOffset o;
        QString error;
        if (!parseMergeOffset(line, &o, &error)) {
            showError(error);
            return false;
        }
        options.offsets.append(o);
    }
    if (options.inputs.size() < 2 || options.output.isEmpty()) {
        showError(tr("Choose at least two sessions and the output file."));
        return false;
    }
    m_merged.clear();
    m_log->clear();
    m_progress->setValue(0);
    m_cancel = std::make_shared<std::atomic<bool>>(false);
    const auto cancel = m_cancel;
    // The worker reports through queued calls: the dialog outlives it (the destructor waits).
    m_thread = QThread::create([this, options, cancel] {
        MergeReport report;
        QString error;
        const bool ok = mergeSessions(
            options, &report, &error, cancel.get(),
            [this](int percent) {
                QMetaObject::invokeMethod(
                    this, [this, percent] { m_progress->setValue(percent); }, Qt::QueuedConnection);
            },
            [this](const QString &line) {
                QMetaObject::invokeMethod(
                    this, [this, line] { m_log->appendPlainText(line); }, Qt::QueuedConnection);
            });
        const QStringList warnings = report.warnings;
        QMetaObject::invokeMethod(
            this, [this, ok, error, warnings] { done(ok, error, warnings); }, Qt::QueuedConnection);
    });
    m_thread->start();
    updateButtons();
    m_output->setProperty("mergeOutput", options.output);
    return true;
}

void MergeDialog::done(bool ok, const QString &error, const QStringList &warnings)
{
    if (m_thread) {
        m_thread->wait(); // it is returning: this was its last call
        delete m_thread;
        m_thread = nullptr;
    }
    for (const QString &w : warnings)
        m_log->appendPlainText(tr("warning: %1").arg(w));
    updateButtons();
    if (!ok) {
        showError(error);
        emit finished(false);
        return;
    }
    m_progress->setValue(100);
    m_merged = m_output->property("mergeOutput").toString();
    emit finished(true);
    accept();
}

void MergeDialog::reject()
{
    if (m_thread) {
        // Stop the worker; done() reports "cancelled" and the dialog stays for another try.
        m_cancel->store(true);
        return;
    }
    QDialog::reject();
}

} // namespace tcpscope
