// SPDX-License-Identifier: GPL-3.0-or-later
// A display-filter box (docs/FILTERS.md) for one target, connections or packets:
//  - checked as you type: green when the text is an expression, yellow when it is plain words
//    that keep the old word match (models/filter_text.h), red with the error and its column
//    (tooltip, and message() for the status bar) when it does not compile;
//  - field names completed from the core's field table (only connection fields for the
//    connection box) at the cursor, with each field's description;
//  - applied after a pause in typing or at once with Enter; Enter also keeps the expression in
//    the history (the ▾ button, most recent first) — QSettings, group filters/<name>;
//  - saved filters as buttons after the box: "+" keeps the current text under a label, a click
//    applies it, right-click removes it; also in QSettings.
#pragma once

#include "filter/display_filter.h"
#include "models/filter_text.h"

#include <QLineEdit>
#include <QTimer>
#include <QWidget>

class QCompleter;
class QHBoxLayout;
class QStandardItemModel;
class QToolButton;

namespace tcpscope {

class FilterBar : public QWidget
{
    Q_OBJECT
public:
    struct Saved
    {
        QString label;
        QString expression;
    };
    static constexpr int kHistorySize = 20;
    static constexpr int kTypingDelayMs = 300;

    // name: the QSettings group under filters/ ("connections", "packets").
    FilterBar(FilterTarget target, const QString &name, QWidget *parent = nullptr);

    QLineEdit *edit() const { return m_edit; }
    QToolButton *historyButton() const { return m_historyButton; }
    QToolButton *saveButton() const { return m_saveButton; }
    QCompleter *completer() const { return m_completer; }
    FilterTarget target() const { return m_target; }

    // What the text in the box means now, and the line explaining it (error, note; empty for
    // an expression).
    const ParsedFilter &parsed() const { return m_parsed; }
    QString message() const { return m_message; }
    // The text last handed to applied().
    QString appliedText() const { return m_applied; }

    // Puts text in the box and checks it, without applying ("Prepare as Filter").
    void prepare(const QString &text);
    // Puts text in the box and applies it now (when it is not invalid); remember: into the
    // history.
    void applyText(const QString &text, bool remember = true);
    // Applies what is in the box now (Enter).
    void applyNow(bool remember = true);

    QStringList history() const;
    void clearHistory();
    QVector<Saved> savedFilters() const;
    void addSavedFilter(const QString &label, const QString &expression);
    void removeSavedFilter(int index);
    QVector<QToolButton *> savedButtons() const { return m_savedButtons; }

signals:
    // The owner filters its view with text (empty: everything).
    void applied(const QString &text);
    // A line for the status bar: the error or the note of the text in the box, empty when fine.
    void messageChanged(const QString &text);

private:
    void onTextEdited();
    void validate();
    void remember(const QString &text);
    void updateCompletion();
    void insertCompletion(const QString &completion);
    void showHistoryMenu();
    void askAndSave();
    void rebuildSavedButtons();
    QString settingsKey(const char *leaf) const;

    FilterTarget m_target;
    QString m_name;
    QLineEdit *m_edit;
    QToolButton *m_historyButton;
    QToolButton *m_saveButton;
    QHBoxLayout *m_savedLayout;
    QVector<QToolButton *> m_savedButtons;
    QCompleter *m_completer;
    QStandardItemModel *m_fields;
    QTimer m_typingTimer;
    ParsedFilter m_parsed;
    QString m_message;
    QString m_applied;
};

} // namespace tcpscope
