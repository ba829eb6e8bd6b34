// SPDX-License-Identifier: GPL-3.0-or-later
#include "views/annotations_view.h"

#include "util/format.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMenu>
#include <QPushButton>
#include <QSet>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace tcpscope {

AnnotationsView::AnnotationsView(QWidget *parent)
    : QWidget(parent), m_tree(new QTreeWidget(this)),
      m_addRange(new QPushButton(tr("Note on Visible Time…"), this)), m_hint(new QLabel(this))
{
    m_tree->setColumnCount(4);
    m_tree->setHeaderLabels({tr("When"), tr("On"), tr("Note"), tr("Author")});
    m_tree->setRootIsDecorated(false);
    m_tree->setAlternatingRowColors(true);
    m_tree->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_tree->header()->setStretchLastSection(false);
    m_tree->header()->setSectionResizeMode(2, QHeaderView::Stretch);
    m_tree->setContextMenuPolicy(Qt::CustomContextMenu);
    m_addRange->setToolTip(tr("Write a note on the time range the timeline shows"));
    m_hint->setWordWrap(true);
    m_hint->setText(tr("Right-click a connection or a packet ▸ Add Annotation… to leave a note; "
                       "File ▸ Save View keeps the notes in the session file."));

    auto *top = new QHBoxLayout;
    top->setContentsMargins(0, 0, 0, 0);
    top->addWidget(m_hint, 1);
    top->addWidget(m_addRange);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(top);
    layout->addWidget(m_tree, 1);

    connect(m_addRange, &QPushButton::clicked, this, &AnnotationsView::addRangeRequested);
    connect(m_tree, &QTreeWidget::itemDoubleClicked, this,
            [this](QTreeWidgetItem *item) { emit activated(m_tree->indexOfTopLevelItem(item)); });
    connect(m_tree, &QWidget::customContextMenuRequested, this, [this](QPoint pos) {
        QMenu *menu = contextMenu(pos);
        menu->setAttribute(Qt::WA_DeleteOnClose);
        menu->popup(m_tree->viewport()->mapToGlobal(pos));
    });
}

QMenu *AnnotationsView::contextMenu(const QPoint &pos)
{
    auto *menu = new QMenu(this);
    menu->setObjectName(QStringLiteral("annotationsMenu"));
    if (QTreeWidgetItem *item = m_tree->itemAt(pos)) {
        const int index = m_tree->indexOfTopLevelItem(item);
        menu->addAction(tr("Go To"), this, [this, index] { emit activated(index); })
            ->setObjectName(QStringLiteral("goTo"));
        menu->addAction(tr("Delete"), this, [this, index] { emit removeRequested(index); })
            ->setObjectName(QStringLiteral("delete"));
        menu->addSeparator();
    }
    menu->addAction(tr("Add Annotation on Visible Time…"), this,
                    &AnnotationsView::addRangeRequested)
        ->setObjectName(QStringLiteral("addAnnotation"));
    return menu;
}

void AnnotationsView::selectConnections(const QVector<qint64> &ids)
{
    m_selectedConnections = ids;
    const QSet<qint64> wanted(ids.cbegin(), ids.cend());
    QItemSelection selection;
    QTreeWidgetItem *first = nullptr;
    for (int i = 0; i < m_tree->topLevelItemCount(); ++i) {
        QTreeWidgetItem *item = m_tree->topLevelItem(i);
        if (!wanted.contains(item->data(0, Qt::UserRole).toLongLong()))
            continue;
        const QModelIndex index = m_tree->model()->index(i, 0);
        selection.select(index, index);
        if (!first)
            first = item;
    }
    m_tree->selectionModel()->select(selection, QItemSelectionModel::ClearAndSelect |
                                                    QItemSelectionModel::Rows);
    if (first)
        m_tree->scrollToItem(first);
}

QVector<int> AnnotationsView::selectedIndexes() const
{
    QVector<int> indexes;
    for (int i = 0; i < m_tree->topLevelItemCount(); ++i)
        if (m_tree->topLevelItem(i)->isSelected())
            indexes.append(i);
    return indexes;
}

void AnnotationsView::setAnnotations(const QVector<Annotation> &annotations, qint64 originNs)
{
    m_tree->clear();
    for (const Annotation &a : annotations) {
        QString on;
        if (a.packetId > 0)
            on = tr("packet %1 (connection %2)").arg(a.packetId).arg(a.connectionId);
        else if (a.connectionId > 0)
            on = tr("connection %1").arg(a.connectionId);
        else
            on = tr("%1 s – %2 s")
                     .arg(double(a.startNs - originNs) / 1e9, 0, 'f', 3)
                     .arg(double(a.endNs - originNs) / 1e9, 0, 'f', 3);
        auto *item = new QTreeWidgetItem(
            {a.startNs > 0 ? fmt::wallTime(a.startNs) : QString(), on,
             QString(a.text).replace(QLatin1Char('\n'), QLatin1String(" ⏎ ")), a.author});
        item->setData(0, Qt::UserRole, a.connectionId);
        item->setToolTip(2, a.text);
        item->setToolTip(3, a.createdNs > 0 ? tr("written %1").arg(fmt::wallDateTime(a.createdNs))
                                            : QString());
        m_tree->addTopLevelItem(item);
    }
    for (int c = 0; c < 4; ++c)
        if (c != 2)
            m_tree->resizeColumnToContents(c);
    if (!m_selectedConnections.isEmpty())
        selectConnections(m_selectedConnections);
}

} // namespace tcpscope
