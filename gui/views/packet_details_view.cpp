// SPDX-License-Identifier: GPL-3.0-or-later
#include "views/packet_details_view.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QFontDatabase>
#include <QHeaderView>

namespace tcpscope {

PacketDetailsView::PacketDetailsView(QWidget *parent) : QTreeWidget(parent)
{
    setColumnCount(1);
    setHeaderHidden(true);
    setUniformRowHeights(true);
    setSelectionMode(QAbstractItemView::ExtendedSelection);
    // The right-click menu (Apply as Filter, Copy, ...) is ContextMenus'; Ctrl+C stays here.
    setContextMenuPolicy(Qt::CustomContextMenu);
    auto *copy = new QAction(tr("Copy"), this);
    copy->setShortcut(QKeySequence::Copy);
    copy->setShortcutContext(Qt::WidgetShortcut);
    connect(copy, &QAction::triggered, this, &PacketDetailsView::copySelection);
    addAction(copy);
    showHint(tr("Select a packet to see its headers"));
}

void PacketDetailsView::showHint(const QString &text)
{
    clear();
    m_packetId = 0;
    auto *item = new QTreeWidgetItem(this, {text});
    item->setForeground(0, palette().color(QPalette::PlaceholderText));
    item->setFlags(Qt::ItemIsEnabled);
}

void PacketDetailsView::setPacket(const Packet &packet, const PacketContext &context)
{
    // Keep the user's choice of open sections from one packet to the next, as Wireshark does.
    QSet<QString> collapsed;
    for (int i = 0; i < topLevelItemCount(); ++i)
        if (!topLevelItem(i)->isExpanded() && m_packetId != 0)
            collapsed.insert(topLevelItem(i)->text(0).section(QLatin1Char(' '), 0, 1));
    clear();
    m_packetId = packet.id;
    addNodes(nullptr, packetDetails(packet, context));
    for (int i = 0; i < topLevelItemCount(); ++i) {
        QTreeWidgetItem *top = topLevelItem(i);
        top->setExpanded(!collapsed.contains(top->text(0).section(QLatin1Char(' '), 0, 1)));
        QFont bold = top->font(0);
        bold.setBold(true);
        top->setFont(0, bold);
        // Options and the payload dump are what people open the pane for.
        for (int c = 0; c < top->childCount(); ++c) {
            const QString t = top->child(c)->text(0);
            if (t.startsWith(QLatin1String("Options:")) ||
                t.startsWith(QLatin1String("Payload snapshot:")))
                top->child(c)->setExpanded(true);
        }
    }
}

void PacketDetailsView::addNodes(QTreeWidgetItem *parent, const QVector<DetailNode> &nodes)
{
    static const QFont mono = QFontDatabase::systemFont(QFontDatabase::FixedFont);
    for (const DetailNode &n : nodes) {
        auto *item =
            parent ? new QTreeWidgetItem(parent, {n.text}) : new QTreeWidgetItem(this, {n.text});
        if (n.problem) {
            item->setForeground(0, QColor(0x3a, 0x00, 0x00));
            item->setBackground(0, QColor(0xff, 0xc8, 0xc8));
        }
        item->setData(0, FilterRole, n.filter);
        if (n.monospace)
            item->setFont(0, mono);
        addNodes(item, n.children);
    }
}

QStringList PacketDetailsView::lines() const
{
    QStringList out;
    std::function<void(QTreeWidgetItem *, int)> walk = [&](QTreeWidgetItem *item, int depth) {
        out << QString(depth * 2, QLatin1Char(' ')) + item->text(0);
        for (int i = 0; i < item->childCount(); ++i)
            walk(item->child(i), depth + 1);
    };
    for (int i = 0; i < topLevelItemCount(); ++i)
        walk(topLevelItem(i), 0);
    return out;
}

void PacketDetailsView::copySelection() const
{
    QStringList texts;
    for (const QTreeWidgetItem *item : selectedItems())
        texts << item->text(0);
    QApplication::clipboard()->setText(texts.join(QLatin1Char('\n')));
}

} // namespace tcpscope
