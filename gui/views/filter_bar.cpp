// SPDX-License-Identifier: GPL-3.0-or-later
#include "views/filter_bar.h"

#include "filter/fields.h"

#include <QAbstractItemView>
#include <QCompleter>
#include <QHBoxLayout>
#include <QInputDialog>
#include <QMenu>
#include <QScrollBar>
#include <QSettings>
#include <QStandardItemModel>
#include <QToolButton>

namespace tcpscope {

namespace {

// Wireshark's colours for the filter box.
const QColor kValid(0xaf, 0xff, 0xaf);
const QColor kWords(0xff, 0xff, 0xaf);
const QColor kInvalid(0xff, 0xaf, 0xaf);

bool isFieldChar(QChar c)
{
    return c.isLetterOrNumber() || c == QLatin1Char('_') || c == QLatin1Char('.');
}

} // namespace

FilterBar::FilterBar(FilterTarget target, const QString &name, QWidget *parent)
    : QWidget(parent), m_target(target), m_name(name), m_edit(new QLineEdit(this)),
      m_historyButton(new QToolButton(this)), m_saveButton(new QToolButton(this)),
      m_savedLayout(new QHBoxLayout), m_completer(new QCompleter(this)),
      m_fields(new QStandardItemModel(this))
{
    const bool connections = target == FilterTarget::Connections;
    m_edit->setObjectName(connections ? QStringLiteral("connectionFilter")
                                      : QStringLiteral("packetFilter"));
    m_edit->setPlaceholderText(
        connections ? tr("Connection filter, e.g. proc.name == \"curl\" && conn.remote_port == 443 "
                         "(Ctrl+F; words like \"curl 443\" still match)")
                    : tr("Packet filter, e.g. tcp.analysis.retransmission || tcp.len > 0"));
    m_edit->setClearButtonEnabled(true);
    m_edit->setAutoFillBackground(true);

    // Field names at the cursor; the popup shows each field's description as its tooltip.
    for (const filter::FieldInfo &f : filter::fields()) {
        if (connections && !f.connections)
            continue;
        auto *item = new QStandardItem(f.name);
        item->setToolTip(QStringLiteral("%1 (%2)").arg(f.description, filter::typeName(f.type)));
        m_fields->appendRow(item);
    }
    m_completer->setModel(m_fields);
    m_completer->setCaseSensitivity(Qt::CaseSensitive);
    m_completer->setCompletionMode(QCompleter::PopupCompletion);
    m_completer->setWidget(m_edit);
    connect(m_completer, qOverload<const QString &>(&QCompleter::activated), this,
            &FilterBar::insertCompletion);

    m_historyButton->setText(QStringLiteral("▾"));
    m_historyButton->setToolTip(tr("Recent filters"));
    m_historyButton->setAutoRaise(true);
    connect(m_historyButton, &QToolButton::clicked, this, &FilterBar::showHistoryMenu);
    m_saveButton->setText(QStringLiteral("+"));
    m_saveButton->setToolTip(tr("Save the filter in the box as a button"));
    m_saveButton->setAutoRaise(true);
    connect(m_saveButton, &QToolButton::clicked, this, &FilterBar::askAndSave);

    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(2);
    layout->addWidget(m_edit, 1);
    layout->addWidget(m_historyButton);
    layout->addWidget(m_saveButton);
    m_savedLayout->setSpacing(2);
    layout->addLayout(m_savedLayout);

    m_typingTimer.setSingleShot(true);
    m_typingTimer.setInterval(kTypingDelayMs);
    connect(&m_typingTimer, &QTimer::timeout, this, [this] { applyNow(false); });
    connect(m_edit, &QLineEdit::textEdited, this, &FilterBar::onTextEdited);
    // The clear button and setText() do not emit textEdited.
    connect(m_edit, &QLineEdit::textChanged, this, [this](const QString &text) {
        validate();
        if (text.isEmpty() && !m_applied.isEmpty())
            applyNow(false);
    });
    connect(m_edit, &QLineEdit::returnPressed, this, [this] {
        if (!m_completer->popup()->isVisible())
            applyNow(true);
    });
    rebuildSavedButtons();
    validate();
}

QString FilterBar::settingsKey(const char *leaf) const
{
    return QStringLiteral("filters/%1/%2").arg(m_name, QLatin1String(leaf));
}

void FilterBar::onTextEdited()
{
    validate();
    updateCompletion();
    m_typingTimer.start();
}

void FilterBar::validate()
{
    const QString text = m_edit->text();
    m_parsed = parseFilterText(text, m_target);
    QPalette pal = m_edit->palette();
    pal.setColor(QPalette::Base, palette().color(QPalette::Base));
    QString tip;
    switch (m_parsed.kind) {
    case ParsedFilter::Empty:
        m_message.clear();
        tip = tr("Display filter (docs/FILTERS.md): Enter applies, ▾ recent filters, + saves "
                 "it as a button");
        break;
    case ParsedFilter::Expression:
        pal.setColor(QPalette::Base, kValid);
        m_message.clear();
        tip = tr("Valid filter");
        break;
    case ParsedFilter::Words:
        pal.setColor(QPalette::Base, kWords);
        m_message = m_parsed.note;
        tip = m_parsed.note + QLatin1Char('\n') +
              (m_target == FilterTarget::Connections
                   ? tr("Every word must appear in the process, pid, addresses, ports, role, "
                        "state or close reason.")
                   : tr("Every word must appear in the packet's number, direction, flags, "
                        "analysis, addresses, len= or conn=."));
        break;
    case ParsedFilter::Invalid: {
        pal.setColor(QPalette::Base, kInvalid);
        m_message = tr("Invalid filter: %1").arg(m_parsed.error.message);
        // The expression with a caret under the column the error names.
        const int column = std::max(1, m_parsed.error.column);
        tip = QStringLiteral("<pre>%1\n%2^</pre>%3")
                  .arg(text.simplified().toHtmlEscaped(), QString(column - 1, QLatin1Char(' ')),
                       m_message.toHtmlEscaped());
        break;
    }
    }
    pal.setColor(QPalette::Text, Qt::black);
    if (m_parsed.kind == ParsedFilter::Empty)
        pal.setColor(QPalette::Text, palette().color(QPalette::Text));
    m_edit->setPalette(pal);
    m_edit->setToolTip(tip);
    emit messageChanged(m_message);
}

void FilterBar::updateCompletion()
{
    const QString text = m_edit->text();
    const int cursor = m_edit->cursorPosition();
    int start = cursor;
    while (start > 0 && isFieldChar(text.at(start - 1)))
        --start;
    const bool atWordEnd = cursor >= text.size() || !isFieldChar(text.at(cursor));
    const QString prefix = text.mid(start, cursor - start);
    // Only where a field name can start: a letter after an operator, a parenthesis or a space.
    if (!atWordEnd || prefix.isEmpty() || !prefix.at(0).isLetter()) {
        m_completer->popup()->hide();
        return;
    }
    m_completer->setCompletionPrefix(prefix);
    const int count = m_completer->completionCount();
    if (count == 0 || (count == 1 && m_completer->currentCompletion() == prefix)) {
        m_completer->popup()->hide();
        return;
    }
    // Under the word being completed (the text margin is a few pixels).
    QRect rect = m_edit->rect();
    rect.setLeft(std::min(m_edit->fontMetrics().horizontalAdvance(text.left(start)),
                          std::max(0, m_edit->width() - 300)));
    rect.setWidth(m_completer->popup()->sizeHintForColumn(0) +
                  m_completer->popup()->verticalScrollBar()->sizeHint().width() + 8);
    m_completer->complete(rect);
}

void FilterBar::insertCompletion(const QString &completion)
{
    const QString text = m_edit->text();
    const int cursor = m_edit->cursorPosition();
    int start = cursor;
    while (start > 0 && isFieldChar(text.at(start - 1)))
        --start;
    const QString updated = text.left(start) + completion + text.mid(cursor);
    m_edit->setText(updated);
    m_edit->setCursorPosition(start + int(completion.size()));
    validate();
    m_typingTimer.start();
}

void FilterBar::prepare(const QString &text)
{
    m_typingTimer.stop();
    m_edit->setText(text);
    m_edit->setFocus(Qt::OtherFocusReason);
    m_edit->setCursorPosition(int(text.size()));
    validate();
}

void FilterBar::applyText(const QString &text, bool remember)
{
    if (m_edit->text() != text)
        m_edit->setText(text);
    applyNow(remember);
}

void FilterBar::applyNow(bool rememberIt)
{
    m_typingTimer.stop();
    // The pause in typing that applies the filter leaves an open completion list alone.
    if (rememberIt)
        m_completer->popup()->hide();
    validate();
    if (m_parsed.kind == ParsedFilter::Invalid)
        return; // the view keeps the last filter that made sense
    const QString text = m_edit->text().simplified();
    if (rememberIt && m_parsed.kind == ParsedFilter::Expression)
        remember(text);
    if (text == m_applied)
        return;
    m_applied = text;
    emit applied(text);
}

QStringList FilterBar::history() const
{
    return QSettings().value(settingsKey("history")).toStringList();
}

void FilterBar::remember(const QString &text)
{
    QStringList recent = history();
    recent.removeAll(text);
    recent.prepend(text);
    while (recent.size() > kHistorySize)
        recent.removeLast();
    QSettings().setValue(settingsKey("history"), recent);
}

void FilterBar::clearHistory()
{
    QSettings().remove(settingsKey("history"));
}

void FilterBar::showHistoryMenu()
{
    QMenu menu(this);
    const QStringList recent = history();
    for (const QString &text : recent)
        connect(menu.addAction(text), &QAction::triggered, this, [this, text] { applyText(text); });
    if (recent.isEmpty())
        menu.addAction(tr("No recent filters"))->setEnabled(false);
    menu.addSeparator();
    QAction *clear = menu.addAction(tr("Clear History"));
    clear->setEnabled(!recent.isEmpty());
    connect(clear, &QAction::triggered, this, &FilterBar::clearHistory);
    menu.exec(m_historyButton->mapToGlobal(QPoint(0, m_historyButton->height())));
}

QVector<FilterBar::Saved> FilterBar::savedFilters() const
{
    QVector<Saved> saved;
    const QVariantList list = QSettings().value(settingsKey("saved")).toList();
    for (const QVariant &v : list) {
        const QVariantMap m = v.toMap();
        const Saved s{m.value(QStringLiteral("label")).toString(),
                      m.value(QStringLiteral("expression")).toString()};
        if (!s.expression.isEmpty())
            saved.append(s);
    }
    return saved;
}

void FilterBar::addSavedFilter(const QString &label, const QString &expression)
{
    QVariantList list = QSettings().value(settingsKey("saved")).toList();
    list.append(QVariantMap{{QStringLiteral("label"), label.isEmpty() ? expression : label},
                            {QStringLiteral("expression"), expression}});
    QSettings().setValue(settingsKey("saved"), list);
    rebuildSavedButtons();
}

void FilterBar::removeSavedFilter(int index)
{
    QVariantList list = QSettings().value(settingsKey("saved")).toList();
    if (index < 0 || index >= list.size())
        return;
    list.removeAt(index);
    QSettings().setValue(settingsKey("saved"), list);
    rebuildSavedButtons();
}

void FilterBar::askAndSave()
{
    const QString expression = m_edit->text().simplified();
    if (expression.isEmpty() || m_parsed.kind == ParsedFilter::Invalid) {
        emit messageChanged(tr("Type a valid filter first, then + saves it as a button"));
        return;
    }
    bool ok = false;
    const QString label =
        QInputDialog::getText(this, tr("Save Filter"), tr("Button label for\n%1").arg(expression),
                              QLineEdit::Normal, expression.left(24), &ok);
    if (ok)
        addSavedFilter(label.trimmed(), expression);
}

void FilterBar::rebuildSavedButtons()
{
    // Later: this may run from one of these buttons' own signals.
    for (QToolButton *old : std::as_const(m_savedButtons)) {
        old->hide();
        old->deleteLater();
    }
    m_savedButtons.clear();
    const QVector<Saved> saved = savedFilters();
    for (int i = 0; i < saved.size(); ++i) {
        auto *button = new QToolButton(this);
        button->setText(saved[i].label);
        button->setToolTip(tr("%1\n(click applies; right-click removes)").arg(saved[i].expression));
        button->setContextMenuPolicy(Qt::CustomContextMenu);
        const QString expression = saved[i].expression;
        connect(button, &QToolButton::clicked, this, [this, expression] { applyText(expression); });
        connect(button, &QWidget::customContextMenuRequested, this, [this, i, button](QPoint pos) {
            QMenu menu(button);
            QAction *remove = menu.addAction(tr("Remove This Button"));
            if (menu.exec(button->mapToGlobal(pos)) == remove)
                removeSavedFilter(i);
        });
        m_savedLayout->addWidget(button);
        m_savedButtons.append(button);
    }
}

} // namespace tcpscope
