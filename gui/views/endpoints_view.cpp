// SPDX-License-Identifier: GPL-3.0-or-later
#include "views/endpoints_view.h"

#include "models/endpoint_table_model.h"
#include "models/session_job.h"
#include "session/session.h"

#include <QCheckBox>
#include <QEventLoop>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QSortFilterProxyModel>
#include <QTabBar>
#include <QTableView>
#include <QVBoxLayout>

namespace tcpscope {

EndpointsView::EndpointsView(QWidget *parent)
    : QWidget(parent), m_groups(new QTabBar(this)), m_search(new QLineEdit(this)),
      m_limit(new QCheckBox(tr("Limit to display filter"), this)), m_summary(new QLabel(this)),
      m_view(new QTableView(this)), m_model(new EndpointTableModel(this)),
      m_proxy(new QSortFilterProxyModel(this)), m_job(new SessionJob(this))
{
    for (EndpointGrouping g :
         {EndpointGrouping::RemoteAddress, EndpointGrouping::Port, EndpointGrouping::Process})
        m_groups->addTab(endpointGroupingName(g));
    m_groups->setTabToolTip(0, tr("Per remote address (listeners left out)"));
    m_groups->setTabToolTip(1, tr("Per service port: the remote port of the connections this "
                                  "host made, the local port of those it served"));
    m_groups->setTabToolTip(2, tr("Per local process name (all its pids together)"));
    m_groups->setDrawBase(false);
    m_search->setPlaceholderText(tr("Search endpoints…"));
    m_search->setClearButtonEnabled(true);
    m_search->setObjectName(QStringLiteral("endpointSearch"));
    m_limit->setToolTip(tr("Group only the connections the connection table's display filter "
                           "shows"));
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);

    m_proxy->setSourceModel(m_model);
    m_proxy->setSortRole(EndpointTableModel::SortRole);
    m_proxy->setFilterKeyColumn(EndpointTableModel::ColKey);
    m_proxy->setFilterCaseSensitivity(Qt::CaseInsensitive);
    m_view->setModel(m_proxy);
    m_view->setSortingEnabled(true);
    m_view->sortByColumn(EndpointTableModel::ColConnections, Qt::DescendingOrder);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_view->setAlternatingRowColors(true);
    m_view->verticalHeader()->hide();
    m_view->verticalHeader()->setDefaultSectionSize(m_view->fontMetrics().height() + 6);
    m_view->horizontalHeader()->setStretchLastSection(false);
    m_view->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
    m_view->setWordWrap(false);

    auto *top = new QHBoxLayout;
    top->setContentsMargins(0, 0, 0, 0);
    top->addWidget(m_groups);
    top->addWidget(m_search, 1);
    top->addWidget(m_limit);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(top);
    layout->addWidget(m_view, 1);
    layout->addWidget(m_summary);

    m_throttle.setSingleShot(true);
    m_throttle.setInterval(1000);
    connect(&m_throttle, &QTimer::timeout, this, [this] {
        if (m_dirty && isVisible())
            startWorker();
    });
    connect(m_groups, &QTabBar::currentChanged, this, [this] {
        m_dirty = true;
        if (isVisible())
            startWorker();
    });
    connect(m_limit, &QCheckBox::toggled, this, [this] {
        m_dirty = true;
        if (isVisible())
            startWorker();
    });
    connect(m_search, &QLineEdit::textChanged, this, [this](const QString &text) {
        m_proxy->setFilterFixedString(text.trimmed());
        updateSummary();
    });
    connect(m_view, &QAbstractItemView::doubleClicked, this, [this](const QModelIndex &index) {
        if (const Endpoint *e = endpointAt(index.row()); e && !e->filter.isEmpty())
            emit filterRequested(e->filter);
    });
    updateSummary();
}

EndpointsView::~EndpointsView() = default; // m_job stops and joins its thread

void EndpointsView::setSession(std::shared_ptr<const Session> session)
{
    m_job->cancel(); // its table is of the previous session
    m_session = std::move(session);
    m_displayed.reset();
    m_model->setTable(EndpointTable{grouping(), {}, 0});
    m_dirty = true;
    updateSummary();
    if (m_session && isVisible())
        startWorker();
}

void EndpointsView::sessionChanged()
{
    m_dirty = true;
    schedule();
}

void EndpointsView::setDisplayedConnections(std::optional<QVector<qint64>> ids)
{
    m_displayed = std::move(ids);
    if (m_limit->isChecked()) {
        m_dirty = true;
        schedule();
    }
}

void EndpointsView::setGrouping(EndpointGrouping grouping)
{
    m_groups->setCurrentIndex(int(grouping));
}

EndpointGrouping EndpointsView::grouping() const
{
    return EndpointGrouping(std::max(0, m_groups->currentIndex()));
}

const Endpoint *EndpointsView::endpointAt(int viewRow) const
{
    const QModelIndex source = m_proxy->mapToSource(m_proxy->index(viewRow, 0));
    return source.isValid() ? &m_model->at(source.row()) : nullptr;
}

void EndpointsView::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    if (m_dirty && m_session)
        startWorker();
}

void EndpointsView::schedule()
{
    if (!m_throttle.isActive())
        m_throttle.start();
}

void EndpointsView::recomputeNow()
{
    if (!m_session)
        return;
    QEventLoop loop;
    connect(m_job, &SessionJob::runningChanged, &loop, &QEventLoop::quit);
    while (m_job->isRunning()) // one started before this call, perhaps with other settings
        loop.exec();
    m_dirty = true;
    startWorker();
    while (m_job->isRunning())
        loop.exec();
}

void EndpointsView::startWorker()
{
    if (!m_session)
        return;
    if (m_job->isRunning()) {
        m_again = true;
        return;
    }
    m_again = false;
    m_dirty = false;
    std::optional<QVector<qint64>> only;
    if (m_limit->isChecked())
        only = m_displayed;
    auto table = std::make_shared<EndpointTable>();
    m_job->start(
        m_session->path(),
        [table, grouping = grouping(), only = std::move(only)](const Session &session,
                                                               const std::atomic<bool> &cancel) {
            *table = computeEndpoints(session, grouping, only ? &*only : nullptr, &cancel);
        },
        [this, table](const QString &error) {
            if (error.isEmpty())
                show(std::move(*table));
            else
                m_summary->setText(tr("Could not group the connections: %1").arg(error));
            if (m_again || m_dirty)
                schedule();
            emit computed();
        });
}

void EndpointsView::show(EndpointTable table)
{
    // Keep the user's sort and the selected endpoint across a refresh.
    const Endpoint *current =
        m_view->currentIndex().isValid() ? endpointAt(m_view->currentIndex().row()) : nullptr;
    const QString currentKey =
        current ? current->key + QLatin1Char('\n') + current->side : QString();
    const bool fresh = m_model->rowCount() == 0 || m_model->table().grouping != table.grouping;
    m_model->setTable(std::move(table));
    m_view->setColumnHidden(EndpointTableModel::ColSide, grouping() != EndpointGrouping::Port);
    m_view->setColumnHidden(EndpointTableModel::ColProcesses,
                            grouping() != EndpointGrouping::Process);
    if (fresh)
        for (int c = 0; c < EndpointTableModel::ColumnCount; ++c)
            m_view->resizeColumnToContents(c);
    if (!currentKey.isEmpty()) {
        for (int row = 0; row < m_proxy->rowCount(); ++row) {
            const Endpoint *e = endpointAt(row);
            if (e->key + QLatin1Char('\n') + e->side == currentKey) {
                m_view->selectRow(row);
                break;
            }
        }
    }
    updateSummary();
}

void EndpointsView::updateSummary()
{
    if (!m_session) {
        m_summary->setText(tr("Open a session file or start a capture to see its endpoints"));
        return;
    }
    const EndpointTable &t = m_model->table();
    QString text = tr("%n endpoint(s)", nullptr, int(t.rows.size())) +
                   tr(" over %n connection(s)", nullptr, int(t.connections));
    if (m_limit->isChecked() && m_displayed)
        text += tr(" (the display filter's)");
    if (m_proxy->rowCount() != m_model->rowCount())
        text += tr(" · %1 shown").arg(m_proxy->rowCount());
    text += tr(" · double-click a row to filter the connection table on it");
    m_summary->setText(text);
}

} // namespace tcpscope
