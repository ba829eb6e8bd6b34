// SPDX-License-Identifier: GPL-3.0-or-later
#include "views/packet_inspector.h"

#include "charts/seq_graph_widget.h"
#include "models/connection_table_model.h"
#include "models/packet_store.h"
#include "models/packet_table_model.h"
#include "views/packet_details_view.h"
#include "views/packets_panel.h"

#include <QTabWidget>

namespace tcpscope {

PacketInspector::PacketInspector(PacketStore *store, ConnectionTableModel *connections, QWidget *parent)
    : QSplitter(Qt::Horizontal, parent), m_store(store), m_connections(connections)
{
    m_tabs = new QTabWidget(this);
    m_tabs->setDocumentMode(true);
    m_panel = new PacketsPanel(store, m_tabs);
    m_graph = new SeqGraphWidget(m_tabs);
    m_tabs->addTab(m_panel, tr("Packets"));
    m_tabs->addTab(m_graph, tr("Sequence graph"));
    m_tabs->setTabToolTip(1, tr("tcptrace-style sequence graph of the current connection; click a point to select its packet"));
    m_details = new PacketDetailsView(this);
    addWidget(m_tabs);
    addWidget(m_details);
    setStretchFactor(0, 3);
    setStretchFactor(1, 2);
    setChildrenCollapsible(false);

    connect(m_panel, &PacketsPanel::currentPacketChanged, this, &PacketInspector::onCurrentPacketChanged);
    connect(m_graph, &SeqGraphWidget::packetClicked, this, &PacketInspector::showPacket);
    connect(m_tabs, &QTabWidget::currentChanged, this, [this] { updateGraph(); });
    connect(m_store, &PacketStore::appended, this, &PacketInspector::onAppended);
}

void PacketInspector::reset(const QString &emptyHint)
{
    m_graph->clear();
    m_graphConnection = 0;
    m_graphDirty = false;
    m_panel->model()->setConnections({});
    m_panel->setEmptyHint(emptyHint);
    m_details->showHint(tr("Select a packet to see its headers"));
}

void PacketInspector::setOriginNs(qint64 originNs)
{
    if (originNs == m_originNs)
        return;
    m_originNs = originNs;
    m_panel->model()->setOriginNs(originNs);
    m_graphDirty = m_graphConnection > 0;
    updateGraph();
}

void PacketInspector::setConnections(const QVector<qint64> &selected, qint64 current)
{
    const qint64 keep = m_panel->currentPacketId();
    m_panel->model()->setConnections(selected);
    if (keep > 0)
        m_panel->selectPacket(keep); // still listed (e.g. a connection was added to the selection)
    if (current != m_graphConnection) {
        m_graphConnection = current;
        m_graphDirty = true;
        updateGraph();
    }
}

void PacketInspector::showSequenceGraph()
{
    m_tabs->setCurrentWidget(m_graph);
}

void PacketInspector::updateGraph()
{
    if (!m_graphDirty || m_tabs->currentWidget() != m_graph)
        return;
    m_graphDirty = false;
    const int row = m_connections->rowForId(m_graphConnection);
    if (m_graphConnection <= 0 || row < 0) {
        m_graph->clear();
        return;
    }
    m_graph->setConnection(m_connections->connectionAt(row), m_store->packetsOf(m_graphConnection), m_originNs);
    if (const qint64 id = m_panel->currentPacketId())
        m_graph->selectPacket(id);
}

void PacketInspector::onAppended(int first, int count)
{
    if (m_graphConnection <= 0)
        return;
    QVector<Packet> mine;
    for (int i = first; i < first + count; ++i)
        if (m_store->at(i).connectionId == m_graphConnection)
            mine.append(m_store->at(i));
    if (mine.isEmpty())
        return;
    if (m_graphDirty || m_tabs->currentWidget() != m_graph || m_graph->connectionId() != m_graphConnection)
        m_graphDirty = true; // rebuilt from the store when shown
    else
        m_graph->appendPackets(mine);
    updateGraph();
}

void PacketInspector::onCurrentPacketChanged(qint64 packetId)
{
    if (packetId <= 0) {
        m_graph->selectPacket(0);
        m_details->showHint(tr("Select a packet to see its headers"));
        return;
    }
    showDetails(packetId);
    const int index = m_store->indexOfId(packetId);
    const qint64 connection = index >= 0 ? m_store->at(index).connectionId : 0;
    if (connection > 0 && connection != m_graphConnection) {
        // Several connections listed: the graph follows the packet the user looks at.
        m_graphConnection = connection;
        m_graphDirty = true;
        updateGraph();
    }
    m_graph->selectPacket(packetId);
}

void PacketInspector::showPacket(qint64 packetId)
{
    if (m_panel->selectPacket(packetId))
        return; // currentPacketChanged does the rest
    // Hidden by the quick filter: still show what was clicked.
    showDetails(packetId);
    m_graph->selectPacket(packetId);
}

void PacketInspector::showDetails(qint64 packetId)
{
    const int index = m_store->indexOfId(packetId);
    if (index < 0) {
        m_details->showHint(tr("Packet %1 is not loaded").arg(packetId));
        return;
    }
    const Packet &p = m_store->at(index);
    PacketContext ctx;
    const int row = p.connectionId > 0 ? m_connections->rowForId(p.connectionId) : -1;
    ctx.connection = row >= 0 ? &m_connections->connectionAt(row) : nullptr;
    ctx.interfaces = m_interfaces;
    ctx.originNs = m_originNs;
    m_details->setPacket(p, ctx);
}

} // namespace tcpscope
