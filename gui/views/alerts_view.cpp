// SPDX-License-Identifier: GPL-3.0-or-later
#include "views/alerts_view.h"

#include "detect/session_alerts.h"
#include "models/alert_table_model.h"
#include "models/session_job.h"
#include "session/session.h"

#include <QApplication>
#include <QClipboard>
#include <QHeaderView>
#include <QJsonDocument>
#include <QLabel>
#include <QMenu>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QVBoxLayout>

#include <algorithm>

namespace tcpscope {

AlertsView::AlertsView(QWidget *parent)
    : QWidget(parent), m_note(new QLabel(this)), m_view(new QTableView(this)),
      m_model(new AlertTableModel(this)), m_proxy(new QSortFilterProxyModel(this)),
      m_job(new SessionJob(this, SessionJob::Priority::Background))
{
    m_note->setWordWrap(true);
    m_note->setObjectName(QStringLiteral("alertsNote"));
    m_note->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_proxy->setSourceModel(m_model);
    m_proxy->setSortRole(AlertTableModel::SortRole);
    m_view->setModel(m_proxy);
    m_view->setSortingEnabled(true);
    m_view->sortByColumn(AlertTableModel::ColTime, Qt::AscendingOrder);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::SingleSelection);
    m_view->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_view->setAlternatingRowColors(true);
    m_view->setWordWrap(false);
    m_view->verticalHeader()->hide();
    m_view->verticalHeader()->setDefaultSectionSize(m_view->fontMetrics().height() + 6);
    m_view->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
    m_view->horizontalHeader()->setStretchLastSection(false);
    m_view->setColumnWidth(AlertTableModel::ColTime,
                           m_view->fontMetrics().horizontalAdvance(QStringLiteral("0000.000000")) +
                               16);
    m_view->setColumnWidth(AlertTableModel::ColSeverity,
                           m_view->fontMetrics().horizontalAdvance(QStringLiteral("medium")) + 24);
    m_view->setColumnWidth(
        AlertTableModel::ColKind,
        m_view->fontMetrics().horizontalAdvance(QStringLiteral("zero_window_stall (rule)")) + 12);
    m_view->horizontalHeader()->setSectionResizeMode(AlertTableModel::ColSummary,
                                                     QHeaderView::Stretch);
    m_view->setColumnWidth(AlertTableModel::ColSubject, 180);
    m_view->setContextMenuPolicy(Qt::CustomContextMenu);
    m_view->setToolTip(
        tr("Double-click an alert (or press Enter) to show its evidence in every view"));

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(m_note);
    layout->addWidget(m_view, 1);

    connect(m_view, &QAbstractItemView::activated, this, [this](const QModelIndex &index) {
        if (const Alert *a = alertAt(index.row()))
            emit activated(*a);
    });
    connect(m_view, &QWidget::customContextMenuRequested, this, [this](QPoint pos) {
        const QModelIndex index = m_view->indexAt(pos);
        if (!index.isValid())
            return;
        m_view->selectRow(index.row());
        if (QMenu *menu = contextMenu(index.row())) {
            menu->setAttribute(Qt::WA_DeleteOnClose);
            menu->popup(m_view->viewport()->mapToGlobal(pos));
        }
    });
    showAlerts({}, tr("Open a session file or start a capture to see its alerts"));
}

AlertsView::~AlertsView() = default;

void AlertsView::setSession(std::shared_ptr<const Session> session, const QString &path, bool live)
{
    m_job->cancel();
    m_session = std::move(session);
    if (live)
        return; // appendLive fills it; startLive cleared it
    if (!m_session) {
        showAlerts({}, tr("Open a session file or start a capture to see its alerts"));
        return;
    }
    if (m_session->info().alertsRecorded) {
        const QVector<Alert> alerts = m_session->alerts();
        showAlerts(alerts, alerts.isEmpty()
                               ? tr("The detectors ran while recording and raised no alert")
                               : tr("Raised by the detectors while recording"));
        return;
    }
    auto result = std::make_shared<QVector<Alert>>();
    auto error = std::make_shared<QString>();
    m_job->start(
        path,
        [result, error](const Session &s, const std::atomic<bool> &cancel) {
            ReplayStats stats;
            *result = detectAlerts(
                s, AlertConfig(), &stats, [&cancel](const Alert &) { return !cancel.load(); },
                &cancel);
            *error = stats.error;
        },
        [this, result, error](const QString &openError) {
            QString note =
                tr("Computed from the records (the detectors did not run while recording)");
            if (!openError.isEmpty())
                note = tr("Could not compute alerts from the records: %1").arg(openError);
            else if (!error->isEmpty())
                note += tr("; the file could not be read to the end: %1").arg(*error);
            showAlerts(std::move(*result), note);
        });
    showAlerts({}, tr("Computing alerts from the records…")); // after start: isComputing()
}

void AlertsView::startLive()
{
    m_job->cancel();
    showAlerts({}, tr("Capturing: alerts appear here as the detectors raise them"));
}

void AlertsView::appendLive(const QVector<Alert> &alerts)
{
    if (alerts.isEmpty())
        return;
    m_model->append(alerts);
    updateNote();
    emit alertsChanged();
}

void AlertsView::setOriginNs(qint64 originNs)
{
    m_model->setOriginNs(originNs);
}

const QVector<Alert> &AlertsView::alerts() const
{
    return m_model->alerts();
}

int AlertsView::highCount() const
{
    return m_model->highCount();
}

bool AlertsView::isComputing() const
{
    return m_job->isRunning();
}

const Alert *AlertsView::alertAt(int viewRow) const
{
    const QModelIndex source = m_proxy->mapToSource(m_proxy->index(viewRow, 0));
    return source.isValid() ? &m_model->at(source.row()) : nullptr;
}

int AlertsView::viewRowOf(int index) const
{
    if (index < 0 || index >= m_model->rowCount())
        return -1;
    return m_proxy->mapFromSource(m_model->index(index, 0)).row();
}

QMenu *AlertsView::contextMenu(int viewRow)
{
    const Alert *found = alertAt(viewRow);
    if (!found)
        return nullptr;
    const Alert a = *found;
    auto *menu = new QMenu(this);
    menu->setObjectName(QStringLiteral("alertMenu"));
    QAction *evidence =
        menu->addAction(tr("Show Evidence"), this, [this, a] { emit activated(a); });
    evidence->setObjectName(QStringLiteral("showEvidence"));
    evidence->setToolTip(tr(
        "Filter the connections to the evidence, select the first one and go to the alert's time"));
    QAction *filter = menu->addAction(tr("Apply Evidence as Filter"), this,
                                      [this, a] { emit applyFilterRequested(a); });
    filter->setObjectName(QStringLiteral("applyEvidence"));
    filter->setEnabled(!a.connections.isEmpty());
    QMenu *copy = menu->addMenu(tr("Copy"));
    copy->addAction(tr("Line"), this,
                    [this, a] {
                        QApplication::clipboard()->setText(alertLine(a));
                        emit message(tr("Copied the alert"));
                    })
        ->setObjectName(QStringLiteral("copyLine"));
    copy->addAction(tr("JSON"), this,
                    [this, a] {
                        QApplication::clipboard()->setText(QString::fromUtf8(
                            QJsonDocument(alertToJson(a)).toJson(QJsonDocument::Compact)));
                        emit message(tr("Copied the alert as JSON"));
                    })
        ->setObjectName(QStringLiteral("copyJson"));
    menu->addSeparator();
    menu->addAction(tr("Add Annotation…"), this, [this, a] { emit annotateRequested(a); })
        ->setObjectName(QStringLiteral("annotateAlert"));
    return menu;
}

void AlertsView::showAlerts(QVector<Alert> alerts, const QString &note)
{
    m_model->setAlerts(std::move(alerts));
    m_noteText = note;
    updateNote();
    emit alertsChanged();
}

void AlertsView::updateNote()
{
    const QVector<Alert> &alerts = m_model->alerts();
    if (alerts.isEmpty()) {
        m_note->setText(m_noteText);
        return;
    }
    int count[3] = {0, 0, 0};
    for (const Alert &a : alerts)
        ++count[std::clamp(int(a.severity), 0, 2)];
    QStringList parts;
    for (AlertSeverity s : {AlertSeverity::High, AlertSeverity::Medium, AlertSeverity::Low})
        if (count[int(s)] > 0)
            parts << QStringLiteral("%1 %2").arg(count[int(s)]).arg(alertSeverityName(s));
    QString from = m_noteText; // continues the sentence
    if (!from.isEmpty())
        from[0] = from.at(0).toLower();
    const QString total = alerts.size() == 1 ? tr("1 alert") : tr("%1 alerts").arg(alerts.size());
    m_note->setText(tr("%1 (%2) · %3 · double-click one to show its evidence in every view")
                        .arg(total, parts.join(QStringLiteral(", ")), from));
}

} // namespace tcpscope
