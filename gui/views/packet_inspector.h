// SPDX-License-Identifier: GPL-3.0-or-later
// The lower half of the main window: tabs "Packets" (list with quick filter) and "Sequence
// graph" (current connection) next to the details pane of the selected packet. Keeps the three
// in step: a row selects the graph's point and fills the details; a click on the graph selects
// the row. The graph is rebuilt only while its tab is visible (large connections are not free).
#pragma once

#include "model/packet.h"

#include <QSplitter>
#include <QVector>

#include <memory>

class QTabWidget;

namespace tcpscope {

class PacketDetailsView;
class Session;
class PacketsPanel;
class SeqGraphWidget;

class PacketInspector : public QSplitter
{
    Q_OBJECT
public:
    explicit PacketInspector(QWidget *parent = nullptr);

    PacketsPanel *packetsPanel() const { return m_panel; }
    SeqGraphWidget *seqGraph() const { return m_graph; }
    PacketDetailsView *detailsView() const { return m_details; }
    QTabWidget *tabs() const { return m_tabs; }

    // The session the list, graph and details read from (the list pages it, the graph reads
    // one connection's packets, the details one packet).
    void setSession(std::shared_ptr<const Session> session);
    // Live: the session grew; the list appends rows, the graph the current connection's packets.
    void refresh();
    void setOriginNs(qint64 originNs);
    void setInterfaces(const QVector<InterfaceInfo> &interfaces) { m_interfaces = interfaces; }
    // Selected connections filter the list (none = all packets); current is the one the
    // sequence graph shows (0 = none).
    void setConnections(const QVector<qint64> &selected, qint64 current);
    // Shows a packet: selects its row (when listed), highlights it in the graph, fills details.
    void showPacket(qint64 packetId);
    void showSequenceGraph(); // switches to its tab
    // Session replaced (file opened, capture started).
    void reset(const QString &emptyHint);

signals:
    // The packet the list, graph and details show now (a row, a click on the graph, or
    // showPacket); all 0 when none is.
    void packetShown(qint64 packetId, qint64 connectionId, qint64 timeNs);

private:
    void onCurrentPacketChanged(qint64 packetId);
    void updateGraph();
    // Fills the details pane; returns the packet (id 0 when the session does not have it).
    Packet showDetails(qint64 packetId);

    std::shared_ptr<const Session> m_session;
    QTabWidget *m_tabs;
    PacketsPanel *m_panel;
    SeqGraphWidget *m_graph;
    PacketDetailsView *m_details;
    QVector<InterfaceInfo> m_interfaces;
    qint64 m_originNs = 0;
    qint64 m_graphConnection = 0; // what the graph should show
    bool m_graphDirty = false;    // graph behind m_graphConnection's packets
    qint64 m_graphPackets = 0;    // packets of m_graphConnection the graph has
};

} // namespace tcpscope
