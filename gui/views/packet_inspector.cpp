// SPDX-License-Identifier: GPL-3.0-or-later
#include "views/packet_inspector.h"

#include "charts/seq_graph_widget.h"
#include "models/packet_table_model.h"
#include "session/session.h"
#include "views/packet_details_view.h"
#include "views/packets_panel.h"

#include <QTabWidget>

namespace tcpscope {

PacketInspector::PacketInspector(QWidget *parent) : QSplitter(Qt::Horizontal, parent)
{
    m_tabs = new QTabWidget(this);
    m_tabs->setDocumentMode(true);
    m_panel = new PacketsPanel(m_tabs);
    m_graph = new SeqGraphWidget(m_tabs);
    m_tabs->addTab(m_panel, tr("Packets"));
    m_tabs->addTab(m_graph, tr("Sequence graph"));
    m_tabs->setTabToolTip(1, tr("tcptrace-style sequence graph of the current connection; click a "
                                "point to select its packet"));
    m_details = new PacketDetailsView(this);
    addWidget(m_tabs);
    addWidget(m_details);
    setStretchFactor(0, 3);
    setStretchFactor(1, 2);
    setChildrenCollapsible(false);

    connect(m_panel, &PacketsPanel::currentPacketChanged, this,
            &PacketInspector::onCurrentPacketChanged);
    connect(m_graph, &SeqGraphWidget::packetClicked, this, &PacketInspector::showPacket);
    connect(m_tabs, &QTabWidget::currentChanged, this, [this] { updateGraph(); });
    // The one-way delays arrive after the list: the details of the packet shown gain them.
    connect(m_panel->model(), &PacketTableModel::transitChanged, this, [this] {
        if (const qint64 id = m_panel->currentPacketId())
            showDetails(id);
    });
}

void PacketInspector::setSession(std::shared_ptr<const Session> session)
{
    m_session = std::move(session);
    m_panel->model()->setSession(m_session);
    m_graph->clear();
    m_graphConnection = 0;
    m_graphDirty = false;
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
    const std::optional<Connection> c = m_session && m_graphConnection > 0
                                            ? m_session->connection(m_graphConnection)
                                            : std::nullopt;
    if (!c) {
        m_graph->clear();
        m_graphPackets = 0;
        return;
    }
    const QVector<Packet> packets = m_session->packets(m_graphConnection);
    m_graphPackets = packets.size();
    m_graph->setConnection(*c, packets, m_originNs);
    if (const qint64 id = m_panel->currentPacketId())
        m_graph->selectPacket(id);
}

void PacketInspector::refresh()
{
    m_panel->model()->refresh();
    if (!m_session || m_graphConnection <= 0)
        return;
    if (m_graphDirty || m_tabs->currentWidget() != m_graph ||
        m_graph->connectionId() != m_graphConnection) {
        m_graphDirty = true; // read again when shown
        return;
    }
    const qint64 count = m_session->packetCount(m_graphConnection);
    if (count <= m_graphPackets)
        return;
    m_graph->appendPackets(
        m_session->packets(m_graphConnection, m_graphPackets, count - m_graphPackets));
    m_graphPackets = count;
}

void PacketInspector::onCurrentPacketChanged(qint64 packetId)
{
    if (packetId <= 0) {
        m_graph->selectPacket(0);
        m_details->showHint(tr("Select a packet to see its headers"));
        emit packetShown(0, 0, 0);
        return;
    }
    const Packet p = showDetails(packetId);
    const qint64 connection = p.connectionId;
    if (connection > 0 && connection != m_graphConnection) {
        // Several connections listed: the graph follows the packet the user looks at.
        m_graphConnection = connection;
        m_graphDirty = true;
        updateGraph();
    }
    m_graph->selectPacket(packetId);
    emit packetShown(p.id, connection, p.timeNs);
}

void PacketInspector::showPacket(qint64 packetId)
{
    if (m_panel->selectPacket(packetId))
        return; // currentPacketChanged does the rest
    // Hidden by the quick filter: still show what was clicked.
    const Packet p = showDetails(packetId);
    m_graph->selectPacket(packetId);
    if (p.id > 0)
        emit packetShown(p.id, p.connectionId, p.timeNs);
}

Packet PacketInspector::showDetails(qint64 packetId)
{
    const QVector<Packet> found =
        m_session ? m_session->packetsFromId(packetId, 1) : QVector<Packet>();
    if (found.isEmpty() || found.first().id != packetId) {
        m_details->showHint(tr("Packet %1 is not in the session").arg(packetId));
        return Packet();
    }
    const Packet &p = found.first();
    const std::optional<Connection> connection =
        p.connectionId > 0 ? m_session->connection(p.connectionId) : std::nullopt;
    PacketContext ctx;
    ctx.connection = connection ? &*connection : nullptr;
    ctx.interfaces = m_interfaces;
    ctx.originNs = m_originNs;
    const PacketTableModel *model = m_panel->model();
    ctx.peerConnectionId = model->peerOf(p.connectionId);
    if (model->transitReady())
        ctx.transit = model->transitMark(p);
    m_details->setPacket(p, ctx);
    return p;
}

} // namespace tcpscope
