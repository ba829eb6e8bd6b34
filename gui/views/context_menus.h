// SPDX-License-Identifier: GPL-3.0-or-later
// The right-click menus of the connection table, the packet list and the packet details tree,
// Wireshark's "point and click" exploration:
//  - Apply as Filter ▸ Selected / Not Selected / …and Selected / …or Selected / …and not
//    Selected / …or not Selected: the cell's expression (models/cell_filters.h) combined with
//    the box's filter (core/filter/filter_expression.h) and applied; connection cells go to the
//    connection filter, packet cells and detail lines to the packet filter;
//  - Prepare as Filter ▸ the same, put in the box without applying;
//  - Copy ▸ Value / Row / As Filter / As CSV (rows: the selected ones, or the clicked one);
//  - on an endpoint (the Endpoints tab): the filter menus select its connections in the
//    connection filter, Copy as above, Add Annotation… on the visible time naming it;
//  - on a packet, a details line: Add Annotation… on that packet;
//  - on a connection: Show Packets, Sequence Graph, Kernel Metrics (select it and switch to
//    that tab) and Go to Peer (the other end of the same connection; double-clicking
//    the Peer cell does the same).
// The menus are built by *Menu() (tests trigger their actions) and shown on right-click.
#pragma once

#include "filter/filter_expression.h"

#include <QModelIndex>
#include <QObject>

class QMenu;
class QTableView;
class QTreeWidgetItem;
class QWidget;

namespace tcpscope {

class ConnectionTableModel;
class ConnectionTableView;
class EndpointsView;
class FilterBar;
class PacketDetailsView;
class PacketTableModel;

class ContextMenus : public QObject
{
    Q_OBJECT
public:
    struct Views
    {
        ConnectionTableView *connections = nullptr;
        ConnectionTableModel *connectionModel = nullptr;
        FilterBar *connectionFilter = nullptr;
        QTableView *packets = nullptr;
        PacketTableModel *packetModel = nullptr;
        FilterBar *packetFilter = nullptr;
        PacketDetailsView *details = nullptr;
        EndpointsView *endpoints = nullptr;
    };
    ContextMenus(const Views &views, QObject *parent = nullptr);

    // The menu for a cell / a details line; the caller owns it (nullptr: nothing under it).
    QMenu *connectionMenu(const QModelIndex &index, QWidget *parent);
    QMenu *packetMenu(const QModelIndex &index, QWidget *parent);
    QMenu *detailsMenu(QTreeWidgetItem *item, QWidget *parent);
    QMenu *endpointMenu(const QModelIndex &index, QWidget *parent);

    // Selects the other end of connection id in the table; false (and message()) when
    // it has none or the filter hides it.
    bool goToPeer(qint64 id);

signals:
    // The table's current connection is id; switch to that view of it.
    void showPacketsRequested(qint64 id);
    void sequenceGraphRequested(qint64 id);
    void kernelMetricsRequested(qint64 id);
    // Add Annotation… on a connection (packetId 0) or a packet (connectionId 0: the packet's).
    void annotateRequested(qint64 connectionId, qint64 packetId);
    // Add Annotation… on the timeline's visible time, the dialog starting with text (an
    // endpoint is no subject a note can be on: its note names it).
    void annotateTimeRequested(const QString &text);
    void message(const QString &text); // for the status bar

private:
    // Apply/Prepare submenus and Copy ▸ As Filter for expression, aimed at bar.
    void addFilterMenus(QMenu *menu, const QString &expression, FilterBar *bar);
    void addCopyMenu(QMenu *menu, QTableView *view, const QModelIndex &index,
                     const QString &expression, const QString &header);
    void use(FilterBar *bar, const QString &expression, FilterCombine how, bool apply);
    void copy(const QString &text, const QString &what);
    void selectRow(QTableView *view, const QModelIndex &index);

    Views m_views;
};

} // namespace tcpscope
