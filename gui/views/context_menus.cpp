// SPDX-License-Identifier: GPL-3.0-or-later
#include "views/context_menus.h"

#include "models/cell_filters.h"
#include "models/connection_table_model.h"
#include "models/packet_table_model.h"
#include "views/connection_table_view.h"
#include "views/endpoints_view.h"
#include "views/filter_bar.h"
#include "views/packet_details_view.h"

#include <QApplication>
#include <QClipboard>
#include <QHeaderView>
#include <QMenu>
#include <QTableView>

#include <algorithm>

namespace tcpscope {

namespace {

QString csvField(const QString &text)
{
    QString quoted = text;
    quoted.replace(QLatin1Char('"'), QLatin1String("\"\""));
    return QLatin1Char('"') + quoted + QLatin1Char('"');
}

// The rows a Copy takes: the selected ones when the clicked row is among them, else that row.
QVector<int> copyRows(const QTableView *view, const QModelIndex &index)
{
    QVector<int> rows;
    for (const QModelIndex &i : view->selectionModel()->selectedRows())
        rows.append(i.row());
    std::sort(rows.begin(), rows.end());
    if (!rows.contains(index.row()))
        rows = {index.row()};
    return rows;
}

// The shown cells of these rows: tab separated (Row) or CSV with a header line (As CSV).
QString rowsText(const QTableView *view, const QVector<int> &rows, bool csv)
{
    const QAbstractItemModel *model = view->model();
    QStringList lines;
    auto line = [&](auto cell) {
        QStringList cells;
        for (int col = 0; col < model->columnCount(); ++col)
            if (!view->isColumnHidden(col))
                cells << (csv ? csvField(cell(col)) : cell(col));
        return cells.join(csv ? QLatin1Char(',') : QLatin1Char('\t'));
    };
    if (csv)
        lines << line([&](int col) { return model->headerData(col, Qt::Horizontal).toString(); });
    for (int row : rows)
        lines << line([&](int col) { return model->index(row, col).data().toString(); });
    return lines.join(QLatin1Char('\n'));
}

} // namespace

ContextMenus::ContextMenus(const Views &views, QObject *parent) : QObject(parent), m_views(views)
{
    auto popup = [](QWidget *widget, QMenu *menu, QPoint pos) {
        if (!menu)
            return;
        menu->setAttribute(Qt::WA_DeleteOnClose);
        menu->popup(widget->mapToGlobal(pos));
    };
    if (QTableView *table = m_views.connections) {
        table->setContextMenuPolicy(Qt::CustomContextMenu);
        connect(table, &QWidget::customContextMenuRequested, this,
                [this, table, popup](QPoint pos) {
                    popup(table->viewport(), connectionMenu(table->indexAt(pos), table), pos);
                });
        // Double-clicking a Peer cell goes to that peer, like the menu's Go to Peer.
        connect(table, &QAbstractItemView::doubleClicked, this, [this](const QModelIndex &index) {
            if (index.isValid() && index.column() == ConnectionTableModel::column("peer") &&
                m_views.connectionModel)
                goToPeer(m_views.connectionModel->idAt(index.row()));
        });
    }
    if (QTableView *packets = m_views.packets) {
        packets->setContextMenuPolicy(Qt::CustomContextMenu);
        connect(packets, &QWidget::customContextMenuRequested, this,
                [this, packets, popup](QPoint pos) {
                    popup(packets->viewport(), packetMenu(packets->indexAt(pos), packets), pos);
                });
    }
    if (EndpointsView *endpoints = m_views.endpoints) {
        QTableView *table = endpoints->view();
        table->setContextMenuPolicy(Qt::CustomContextMenu);
        connect(table, &QWidget::customContextMenuRequested, this,
                [this, table, popup](QPoint pos) {
                    popup(table->viewport(), endpointMenu(table->indexAt(pos), table), pos);
                });
    }
    if (PacketDetailsView *details = m_views.details) {
        details->setContextMenuPolicy(Qt::CustomContextMenu);
        connect(details, &QWidget::customContextMenuRequested, this,
                [this, details, popup](QPoint pos) {
                    popup(details->viewport(), detailsMenu(details->itemAt(pos), details), pos);
                });
    }
}

void ContextMenus::selectRow(QTableView *view, const QModelIndex &index)
{
    // Right-click acts on the clicked row: it becomes current, a selection it is part of stays.
    QItemSelectionModel *selection = view->selectionModel();
    if (!selection->isRowSelected(index.row(), {}))
        selection->setCurrentIndex(index,
                                   QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
    else
        selection->setCurrentIndex(index, QItemSelectionModel::NoUpdate);
}

void ContextMenus::use(FilterBar *bar, const QString &expression, FilterCombine how, bool apply)
{
    const QString current = bar->edit()->text().simplified();
    // Words are no expression to combine with: the selection replaces them.
    const bool combinable = bar->parsed().kind == ParsedFilter::Expression;
    const QString text = combineFilters(combinable ? current : QString(), expression, how);
    if (apply)
        bar->applyText(text);
    else
        bar->prepare(text);
}

void ContextMenus::copy(const QString &text, const QString &what)
{
    QApplication::clipboard()->setText(text);
    emit message(tr("Copied %1").arg(what));
}

void ContextMenus::addFilterMenus(QMenu *menu, const QString &expression, FilterBar *bar)
{
    struct Item
    {
        const char *text;
        const char *name;
        FilterCombine how;
    };
    static const Item items[] = {
        {"Selected", "Selected", FilterCombine::Selected},
        {"Not Selected", "NotSelected", FilterCombine::NotSelected},
        {"…and Selected", "AndSelected", FilterCombine::And},
        {"…or Selected", "OrSelected", FilterCombine::Or},
        {"…and not Selected", "AndNotSelected", FilterCombine::AndNot},
        {"…or not Selected", "OrNotSelected", FilterCombine::OrNot},
    };
    const bool has = !expression.isEmpty() && bar;
    for (const bool apply : {true, false}) {
        QMenu *sub = menu->addMenu(apply ? tr("Apply as Filter") : tr("Prepare as Filter"));
        sub->setObjectName(apply ? QStringLiteral("applyMenu") : QStringLiteral("prepareMenu"));
        sub->setEnabled(has);
        sub->setToolTipsVisible(true);
        for (const Item &item : items) {
            QAction *a = sub->addAction(tr(item.text));
            a->setObjectName(QLatin1String(apply ? "apply" : "prepare") + QLatin1String(item.name));
            a->setEnabled(has);
            a->setToolTip(has ? combineFilters(bar->parsed().kind == ParsedFilter::Expression
                                                   ? bar->edit()->text().simplified()
                                                   : QString(),
                                               expression, item.how)
                              : QString());
            const FilterCombine how = item.how;
            connect(a, &QAction::triggered, this,
                    [this, bar, expression, how, apply] { use(bar, expression, how, apply); });
        }
    }
}

QMenu *ContextMenus::connectionMenu(const QModelIndex &index, QWidget *parent)
{
    if (!index.isValid() || !m_views.connectionModel)
        return nullptr;
    ConnectionTableModel *model = m_views.connectionModel;
    selectRow(m_views.connections, index);
    const qint64 id = model->idAt(index.row());
    const Connection c = model->connectionAt(index.row());
    const QString expression = connectionCellFilter(c, index.column());
    const QString header = model->headerData(index.column(), Qt::Horizontal).toString();

    auto *menu = new QMenu(parent);
    menu->setObjectName(QStringLiteral("connectionMenu"));
    addFilterMenus(menu, expression, m_views.connectionFilter);
    menu->addSeparator();
    QAction *packets = menu->addAction(tr("Show Packets"));
    packets->setObjectName(QStringLiteral("showPackets"));
    connect(packets, &QAction::triggered, this, [this, id] { emit showPacketsRequested(id); });
    QAction *seq = menu->addAction(tr("Sequence Graph"));
    seq->setObjectName(QStringLiteral("sequenceGraph"));
    connect(seq, &QAction::triggered, this, [this, id] { emit sequenceGraphRequested(id); });
    QAction *kernel = menu->addAction(tr("Kernel Metrics"));
    kernel->setObjectName(QStringLiteral("kernelMetrics"));
    connect(kernel, &QAction::triggered, this, [this, id] { emit kernelMetricsRequested(id); });
    const qint64 peer = model->peerOf(id);
    QAction *goPeer =
        menu->addAction(peer > 0 ? tr("Go to Peer (connection %1)").arg(peer) : tr("Go to Peer"));
    goPeer->setObjectName(QStringLiteral("goToPeer"));
    goPeer->setEnabled(peer > 0);
    goPeer->setToolTip(tr("The other end of this connection (both ends captured: on loopback, "
                          "or on two hosts of a merged session)"));
    connect(goPeer, &QAction::triggered, this, [this, id] { goToPeer(id); });
    QAction *note = menu->addAction(tr("Add Annotation…"));
    note->setObjectName(QStringLiteral("addAnnotation"));
    connect(note, &QAction::triggered, this, [this, id] { emit annotateRequested(id, 0); });
    menu->addSeparator();
    addCopyMenu(menu, m_views.connections, index, expression, header);
    return menu;
}

void ContextMenus::addCopyMenu(QMenu *menu, QTableView *view, const QModelIndex &index,
                               const QString &expression, const QString &header)
{
    QMenu *copyMenu = menu->addMenu(tr("Copy"));
    copyMenu->setObjectName(QStringLiteral("copyMenu"));
    const QString value = index.data().toString();
    QAction *v = copyMenu->addAction(tr("Value"));
    v->setObjectName(QStringLiteral("copyValue"));
    connect(v, &QAction::triggered, this,
            [this, value, header] { copy(value, tr("the %1 value").arg(header)); });
    const QVector<int> rows = copyRows(view, index);
    QAction *row = copyMenu->addAction(rows.size() > 1 ? tr("Rows") : tr("Row"));
    row->setObjectName(QStringLiteral("copyRow"));
    connect(row, &QAction::triggered, this, [this, view, rows] {
        copy(rowsText(view, rows, false), tr("%n row(s)", nullptr, int(rows.size())));
    });
    QAction *f = copyMenu->addAction(tr("As Filter"));
    f->setObjectName(QStringLiteral("copyFilter"));
    f->setEnabled(!expression.isEmpty());
    connect(f, &QAction::triggered, this,
            [this, expression] { copy(expression, tr("the filter")); });
    QAction *csv = copyMenu->addAction(tr("As CSV"));
    csv->setObjectName(QStringLiteral("copyCsv"));
    connect(csv, &QAction::triggered, this, [this, view, rows] {
        copy(rowsText(view, rows, true), tr("%n row(s) as CSV", nullptr, int(rows.size())));
    });
}

QMenu *ContextMenus::packetMenu(const QModelIndex &index, QWidget *parent)
{
    if (!index.isValid() || !m_views.packetModel)
        return nullptr;
    selectRow(m_views.packets, index);
    const Packet p = m_views.packetModel->packetAt(index.row());
    const QString expression = packetCellFilter(p, index.column());
    auto *menu = new QMenu(parent);
    menu->setObjectName(QStringLiteral("packetMenu"));
    addFilterMenus(menu, expression, m_views.packetFilter);
    menu->addSeparator();
    QAction *note = menu->addAction(tr("Add Annotation…"));
    note->setObjectName(QStringLiteral("addAnnotation"));
    connect(note, &QAction::triggered, this,
            [this, p] { emit annotateRequested(p.connectionId, p.id); });
    addCopyMenu(menu, m_views.packets, index, expression,
                m_views.packetModel->headerData(index.column(), Qt::Horizontal).toString());
    return menu;
}

QMenu *ContextMenus::endpointMenu(const QModelIndex &index, QWidget *parent)
{
    if (!index.isValid() || !m_views.endpoints)
        return nullptr;
    QTableView *view = m_views.endpoints->view();
    selectRow(view, index);
    const Endpoint *e = m_views.endpoints->endpointAt(index.row());
    if (!e)
        return nullptr;
    auto *menu = new QMenu(parent);
    menu->setObjectName(QStringLiteral("endpointMenu"));
    addFilterMenus(menu, e->filter, m_views.connectionFilter);
    menu->addSeparator();
    QAction *note = menu->addAction(tr("Add Annotation on Visible Time…"));
    note->setObjectName(QStringLiteral("addAnnotation"));
    note->setToolTip(tr("A note on the time range the timeline shows, starting with this "
                        "endpoint's filter"));
    const QString subject = e->filter.isEmpty() ? QString() : e->filter + QStringLiteral(": ");
    connect(note, &QAction::triggered, this,
            [this, subject] { emit annotateTimeRequested(subject); });
    addCopyMenu(menu, view, index, e->filter,
                view->model()->headerData(index.column(), Qt::Horizontal).toString());
    return menu;
}

QMenu *ContextMenus::detailsMenu(QTreeWidgetItem *item, QWidget *parent)
{
    if (!item || !m_views.details || m_views.details->packetId() == 0)
        return nullptr;
    const QString expression = item->data(0, PacketDetailsView::FilterRole).toString();
    const QString line = item->text(0);
    // "Source port: 40001" → "40001"; a line without a label is its own value.
    const int colon = line.indexOf(QLatin1String(": "));
    const QString value = colon > 0 ? line.mid(colon + 2) : line;
    auto *menu = new QMenu(parent);
    menu->setObjectName(QStringLiteral("detailsMenu"));
    addFilterMenus(menu, expression, m_views.packetFilter);
    menu->addSeparator();
    QAction *note = menu->addAction(tr("Add Annotation…"));
    note->setObjectName(QStringLiteral("addAnnotation"));
    const qint64 packetId = m_views.details->packetId();
    connect(note, &QAction::triggered, this,
            [this, packetId] { emit annotateRequested(0, packetId); });
    QMenu *copyMenu = menu->addMenu(tr("Copy"));
    copyMenu->setObjectName(QStringLiteral("copyMenu"));
    QAction *v = copyMenu->addAction(tr("Value"));
    v->setObjectName(QStringLiteral("copyValue"));
    connect(v, &QAction::triggered, this, [this, value] { copy(value, tr("the value")); });
    QAction *l = copyMenu->addAction(tr("Line"));
    l->setObjectName(QStringLiteral("copyRow"));
    connect(l, &QAction::triggered, this, [this, line] { copy(line, tr("the line")); });
    QAction *f = copyMenu->addAction(tr("As Filter"));
    f->setObjectName(QStringLiteral("copyFilter"));
    f->setEnabled(!expression.isEmpty());
    connect(f, &QAction::triggered, this,
            [this, expression] { copy(expression, tr("the filter")); });
    QAction *all = copyMenu->addAction(tr("Selected Lines"));
    connect(all, &QAction::triggered, m_views.details, &PacketDetailsView::copySelection);
    return menu;
}

bool ContextMenus::goToPeer(qint64 id)
{
    const qint64 peer = m_views.connectionModel->peerOf(id);
    if (peer <= 0) {
        emit message(tr("Connection %1 has no peer: its other end is not a socket of this "
                        "session")
                         .arg(id));
        return false;
    }
    if (!m_views.connections->selectConnection(peer)) {
        emit message(
            tr("Connection %1, the peer of %2, is hidden by the filter").arg(peer).arg(id));
        return false;
    }
    emit message(tr("Connection %1 is the peer of %2").arg(peer).arg(id));
    return true;
}

} // namespace tcpscope
