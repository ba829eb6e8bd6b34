// SPDX-License-Identifier: GPL-3.0-or-later
#include "models/alert_table_model.h"

#include "util/alert_style.h"
#include "util/format.h"
#include "util/packet_format.h"

#include <QBrush>
#include <QFont>

namespace tcpscope {

namespace {
int countHigh(const QVector<Alert> &alerts)
{
    return int(std::count_if(alerts.cbegin(), alerts.cend(),
                             [](const Alert &a) { return a.severity == AlertSeverity::High; }));
}
} // namespace

void AlertTableModel::setAlerts(QVector<Alert> alerts)
{
    beginResetModel();
    m_alerts = std::move(alerts);
    m_high = countHigh(m_alerts);
    endResetModel();
}

void AlertTableModel::append(const QVector<Alert> &alerts)
{
    if (alerts.isEmpty())
        return;
    beginInsertRows({}, int(m_alerts.size()), int(m_alerts.size() + alerts.size()) - 1);
    m_alerts += alerts;
    m_high += countHigh(alerts);
    endInsertRows();
}

void AlertTableModel::setOriginNs(qint64 originNs)
{
    if (originNs == m_originNs)
        return;
    m_originNs = originNs;
    if (!m_alerts.isEmpty())
        emit dataChanged(index(0, ColTime), index(rowCount() - 1, ColTime));
}

int AlertTableModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_alerts.size());
}

int AlertTableModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant AlertTableModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_alerts.size())
        return {};
    const Alert &a = m_alerts.at(index.row());
    const int column = index.column();
    switch (role) {
    case Qt::DisplayRole:
        switch (column) {
        case ColTime:
            return pfmt::relativeTime(a.timeNs, m_originNs);
        case ColSeverity:
            return alertSeverityName(a.severity);
        case ColKind:
            return a.custom ? tr("%1 (rule)").arg(a.kind) : a.kind;
        case ColSummary:
            return a.summary;
        case ColSubject:
            return a.subject;
        case ColSuppressed:
            return a.suppressed > 0 ? QVariant(a.suppressed) : QVariant();
        }
        return {};
    case SortRole:
        switch (column) {
        case ColTime:
            return a.timeNs;
        case ColSeverity:
            return int(a.severity);
        case ColSuppressed:
            return a.suppressed;
        default:
            return data(index, Qt::DisplayRole).toString().toLower();
        }
    case IndexRole:
        return index.row();
    case Qt::ForegroundRole:
        if (column == ColSeverity)
            return QBrush(alertSeverityColor(a.severity));
        return {};
    case Qt::FontRole:
        if (column == ColSeverity && a.severity != AlertSeverity::Low) {
            QFont bold;
            bold.setBold(true);
            return bold;
        }
        return {};
    case Qt::TextAlignmentRole:
        if (column == ColTime || column == ColSuppressed)
            return int(Qt::AlignRight | Qt::AlignVCenter);
        return {};
    case Qt::ToolTipRole:
        switch (column) {
        case ColTime:
            return fmt::wallDateTime(a.timeNs);
        case ColKind:
            return a.custom ? tr("A rule from the rules file the capture ran with")
                            : tr("A built-in detector");
        case ColSuppressed:
            return tr("Alerts of this kind and subject left out since the previous one");
        default:
            return alertToolTip(a, m_originNs);
        }
    }
    return {};
}

QVariant AlertTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal)
        return {};
    static const char *const names[ColumnCount] = {QT_TR_NOOP("Time"),    QT_TR_NOOP("Severity"),
                                                   QT_TR_NOOP("Kind"),    QT_TR_NOOP("Summary"),
                                                   QT_TR_NOOP("Subject"), QT_TR_NOOP("Suppressed")};
    static const char *const tips[ColumnCount] = {
        QT_TR_NOOP("Seconds since the capture started (the wall time in the cell's tooltip)"),
        QT_TR_NOOP("high, medium or low"),
        QT_TR_NOOP("The detector, or the rule of a rules file, that raised it"),
        QT_TR_NOOP("What was seen"),
        QT_TR_NOOP("What the alert is about: a listener, a remote, a connection, a drop reason"),
        // NOLINTNEXTLINE(bugprone-suspicious-missing-comma): one tooltip split over two lines
        QT_TR_NOOP("Alerts of the same kind and subject left out by throttling since the "
                   "previous one")};
    if (section < 0 || section >= ColumnCount)
        return {};
    if (role == Qt::DisplayRole)
        return tr(names[section]);
    if (role == Qt::ToolTipRole)
        return tr(tips[section]);
    return {};
}

} // namespace tcpscope
