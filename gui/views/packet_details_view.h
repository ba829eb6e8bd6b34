// SPDX-License-Identifier: GPL-3.0-or-later
// Tree of one packet's fields (packetDetails), Wireshark's middle pane.
#pragma once

#include "models/packet_details.h"

#include <QTreeWidget>

namespace tcpscope {

class PacketDetailsView : public QTreeWidget
{
    Q_OBJECT
public:
    // Each line's display-filter expression (DetailNode::filter), a QString.
    static constexpr int FilterRole = Qt::UserRole + 1;

    explicit PacketDetailsView(QWidget *parent = nullptr);

    void setPacket(const Packet &packet, const PacketContext &context);
    void showHint(const QString &text);            // no packet selected
    qint64 packetId() const { return m_packetId; } // 0 = none shown
    // Every line of the tree, depth first, indented by two spaces per level (tests, copy).
    QStringList lines() const;

private:
    void addNodes(QTreeWidgetItem *parent, const QVector<DetailNode> &nodes);

public:
    void copySelection() const; // the selected lines (Ctrl+C)

private:
    qint64 m_packetId = 0;
};

} // namespace tcpscope
