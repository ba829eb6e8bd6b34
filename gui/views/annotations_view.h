// SPDX-License-Identifier: GPL-3.0-or-later
// The Annotations tab: the notes of this session (model/annotation.h) — when, on what (a
// connection, a packet or a time range), the text and its author. Double-click goes to what a
// note is on; right-click ▸ Delete removes it; "Note on visible time…" and right-click ▸ Add
// Annotation on Visible Time… annotate the timeline's range. The notes of the selected
// connections are selected. The notes are MainWindow's; they are kept in the file by File ▸
// Save View.
#pragma once

#include "model/annotation.h"

#include <QVector>
#include <QWidget>

class QLabel;
class QMenu;
class QPushButton;
class QTreeWidget;

namespace tcpscope {

class AnnotationsView : public QWidget
{
    Q_OBJECT
public:
    explicit AnnotationsView(QWidget *parent = nullptr);

    void setAnnotations(const QVector<Annotation> &annotations, qint64 originNs);
    QTreeWidget *tree() const { return m_tree; }
    QPushButton *addRangeButton() const { return m_addRange; }
    // Selects the notes on these connections (and their packets); kept across setAnnotations.
    void selectConnections(const QVector<qint64> &ids);
    // Indexes of the selected notes, in list order.
    QVector<int> selectedIndexes() const;
    // The right-click menu at pos of the tree's viewport (an item's or the empty space's);
    // the caller owns it.
    QMenu *contextMenu(const QPoint &pos);

signals:
    void activated(int index); // go to what note `index` is on
    void removeRequested(int index);
    void addRangeRequested(); // a note on the timeline's visible range

private:
    QTreeWidget *m_tree = nullptr;
    QPushButton *m_addRange = nullptr;
    QLabel *m_hint = nullptr;
    QVector<qint64> m_selectedConnections;
};

} // namespace tcpscope
