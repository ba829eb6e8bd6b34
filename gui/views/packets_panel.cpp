// SPDX-License-Identifier: GPL-3.0-or-later
#include "views/packets_panel.h"

#include "models/packet_table_model.h"
#include "views/filter_bar.h"

#include <QCheckBox>
#include <QEvent>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPainter>
#include <QTableView>
#include <QVBoxLayout>

namespace tcpscope {

namespace {
// An empty list says why it is empty instead of looking broken.
class HintTableView : public QTableView
{
public:
    using QTableView::QTableView;
    std::function<QString()> hint;

protected:
    void paintEvent(QPaintEvent *event) override
    {
        QTableView::paintEvent(event);
        if (model() && model()->rowCount() > 0)
            return;
        const QString text = hint ? hint() : QString();
        if (text.isEmpty())
            return;
        QPainter painter(viewport());
        painter.setPen(palette().color(QPalette::PlaceholderText));
        painter.drawText(viewport()->rect().adjusted(12, 12, -12, -12),
                         Qt::AlignCenter | Qt::TextWordWrap, text);
    }
};
} // namespace

PacketsPanel::PacketsPanel(QWidget *parent) : QWidget(parent), m_model(new PacketTableModel(this))
{
    m_problemsOnly = new QCheckBox(tr("Problems only"), this);
    m_problemsOnly->setToolTip(
        tr("Show only packets the analysis flags as a problem (retransmissions, dup ACKs, "
           "out-of-order, zero window, RST, malformed)"));
    m_filter = new FilterBar(FilterTarget::Packets, QStringLiteral("packets"), this);
    m_count = new QLabel(this);
    m_count->setToolTip(
        tr("Packets of the selected connections (all connections when none is selected)"));

    auto *view = new HintTableView(this);
    view->hint = [this] {
        if (m_model->isScanning())
            return tr("Filtering %1 packets…").arg(m_model->unfilteredCount());
        return m_model->unfilteredCount() > 0 ? tr("No packet matches the filter") : m_emptyHint;
    };
    m_view = view;
    m_view->setModel(m_model);
    m_view->setSortingEnabled(true);
    m_view->horizontalHeader()->setSortIndicator(PacketTableModel::ColNo, Qt::AscendingOrder);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::SingleSelection);
    m_view->setWordWrap(false);
    m_view->setShowGrid(false);
    m_view->verticalHeader()->hide();
    m_view->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    m_view->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 4);
    m_view->horizontalHeader()->setStretchLastSection(true);
    m_view->horizontalHeader()->setHighlightSections(false);
    applyDefaultColumnWidths();

    auto *bar = new QHBoxLayout;
    bar->setContentsMargins(4, 2, 4, 2);
    bar->addWidget(m_problemsOnly);
    bar->addWidget(m_filter, 1);
    bar->addWidget(m_count);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    layout->addLayout(bar);
    layout->addWidget(m_view, 1);

    // The bar applies after a pause in typing or on Enter.
    connect(m_filter, &FilterBar::applied, m_model, &PacketTableModel::setFilterText);
    connect(m_problemsOnly, &QCheckBox::toggled, m_model, &PacketTableModel::setProblemsOnly);

    connect(m_view->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this] { emit currentPacketChanged(currentPacketId()); });
    connect(m_model, &QAbstractItemModel::modelAboutToBeReset, this, [this] { m_notice.clear(); });
    connect(m_model, &PacketTableModel::notice, this, [this](const QString &text) {
        m_notice = text;
        updateCount();
    });
    connect(m_model, &PacketTableModel::scanningChanged, this, &PacketsPanel::updateCount);
    connect(m_model, &QAbstractItemModel::modelReset, this, &PacketsPanel::updateCount);
    connect(m_model, &QAbstractItemModel::layoutChanged, this, &PacketsPanel::updateCount);
    connect(m_model, &QAbstractItemModel::rowsInserted, this, &PacketsPanel::updateCount);
    // A reset (other connection, filter) drops the current row without currentRowChanged.
    connect(m_model, &QAbstractItemModel::modelReset, this,
            [this] { emit currentPacketChanged(0); });
    updateCount();
}

void PacketsPanel::applyDefaultColumnWidths()
{
    static const char *const samples[PacketTableModel::ColumnCount] = {
        "9999999",    "9999.999999", "99999",    "→ out", "FIN, SYN, PSH, ACK",
        "4294967295", "4294967295",  "99999999", "65535", ""};
    const QFontMetrics fm = fontMetrics();
    for (int col = 0; col + 1 < PacketTableModel::ColumnCount; ++col) {
        const QString header = m_model->headerData(col, Qt::Horizontal).toString();
        m_view->setColumnWidth(col, std::max(fm.horizontalAdvance(QLatin1String(samples[col])),
                                             fm.horizontalAdvance(header)) +
                                        20);
    }
}

void PacketsPanel::applyFilterNow()
{
    m_filter->applyNow(false);
}

QLineEdit *PacketsPanel::filterEdit() const
{
    return m_filter->edit();
}

qint64 PacketsPanel::currentPacketId() const
{
    const QModelIndex current = m_view->selectionModel()->currentIndex();
    return current.isValid() ? current.data(PacketTableModel::PacketIdRole).toLongLong() : 0;
}

bool PacketsPanel::selectPacket(qint64 packetId)
{
    const int row = m_model->rowOfPacket(packetId);
    if (row < 0)
        return false;
    const QModelIndex index = m_model->index(row, 0);
    m_view->selectionModel()->setCurrentIndex(index, QItemSelectionModel::ClearAndSelect |
                                                         QItemSelectionModel::Rows);
    m_view->scrollTo(index, QAbstractItemView::PositionAtCenter);
    return true;
}

void PacketsPanel::setEmptyHint(const QString &text)
{
    m_emptyHint = text;
    m_view->viewport()->update();
}

void PacketsPanel::updateCount()
{
    const qint64 shown = m_model->rowCount();
    const qint64 all = m_model->unfilteredCount();
    QString text =
        shown == all ? tr("%1 packets").arg(all) : tr("%1 of %2 packets").arg(shown).arg(all);
    if (m_model->isScanning())
        text = tr("Filtering %1 packets…").arg(all);
    m_count->setText(text);
    m_count->setToolTip(
        m_notice.isEmpty()
            ? tr("Packets of the selected connections (all connections when none is selected)")
            : m_notice);
    m_count->setStyleSheet(m_notice.isEmpty() ? QString() : QStringLiteral("color: #8a5a00;"));
    if (!m_notice.isEmpty())
        m_count->setText(text + QStringLiteral(" ⚠"));
    if (shown == 0)
        m_view->viewport()->update();
}

} // namespace tcpscope
