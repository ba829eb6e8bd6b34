// SPDX-License-Identifier: GPL-3.0-or-later
// One chart of the overview dashboard: a QCustomPlot with a title, whose bars/points know the
// connection ids behind them. A click on a bar or point emits activated(ids, label).
#pragma once

#include "analysis/overview.h"
#include "charts/alert_marks.h"

#include <qcustomplot.h>

#include <QSet>

namespace tcpscope {

class OverviewChart : public QCustomPlot
{
    Q_OBJECT
public:
    explicit OverviewChart(const QString &title, QWidget *parent = nullptr);
    QString title() const { return m_titleText; }

    // Removes everything but the title; text is shown in the middle when nothing is added.
    void reset(const QString &emptyText);

    // Time-series bars (x: seconds since the session start). Several calls = side by side.
    QCPBars *addTimeBars(const QVector<OverviewBar> &bars, double binSeconds, const QString &name,
                         const QColor &color, const QString &what);
    // A step line of counts per time bin; ids of point i come from idsOf(i), the bins a
    // connection is counted in from binsOf(id) (first, last; first > last: none).
    QCPGraph *addTimeLine(const QVector<double> &values, double binSeconds, const QString &name,
                          const QColor &color, std::function<QVector<qint64>(int)> idsOf,
                          const QString &what,
                          std::function<std::pair<int, int>(qint64)> binsOf = {});
    // Bars with a text label each: vertical (histogram, left to right) or horizontal (ranking,
    // first on top), the value printed at the end of horizontal bars with valueText.
    QCPBars *addCategoryBars(const QVector<OverviewBar> &bars, bool horizontal, const QColor &color,
                             const QString &valueAxisLabel,
                             const std::function<QString(double)> &valueText, const QString &what);
    void setTimeAxis(double seconds, const QString &valueLabel);
    void finish(); // legend, ranges, empty text; then replot

    // The x axis is time (seconds since the session start), not categories.
    bool isTimeChart() const { return m_categories == 0; }

    // Marks at points in time (an alert): a line across the chart and a triangle on its bottom
    // edge in the mark's colour; hovering the triangle shows its tip. Replaces the marks shown;
    // reset() removes them too.
    void setTimeMarks(const QVector<TimeMark> &marks);
    int timeMarkCount() const { return m_marks.count(); }

    // Highlights (selects) the bars and points that count connection id; id <= 0 clears, but
    // keeps the bar or point the user clicked last (what the table is filtered to).
    void highlightConnection(qint64 id);
    // The data indexes highlighted in plottable plottableIndex (tests).
    QVector<int> highlighted(int plottableIndex) const;

    // Emits activated for data index `index` of plottable `plottableIndex` (what a click does).
    bool activate(int plottableIndex, int index);

signals:
    void activated(const QSet<qint64> &ids, const QString &label);

protected:
    bool event(QEvent *event) override;

private:
    struct Target
    {
        QVector<QVector<qint64>> ids;                      // by data index (bars)
        std::function<QVector<qint64>(int)> idsOf;         // or computed (lines)
        std::function<std::pair<int, int>(qint64)> binsOf; // lines: the bins an id is in
        QStringList labels;                                // by data index
        QString what;                                      // "retransmits", "opened" ...
        double binSeconds = 0;                             // > 0: time bars, label from the key
    };
    void onPlottableClick(QCPAbstractPlottable *plottable, int dataIndex);
    QString labelFor(const Target &target, int index) const;

    QCPTextElement *m_title = nullptr;
    QString m_titleText;
    QCPItemText *m_empty = nullptr;
    TimeMarks m_marks;
    QString m_emptyText;
    QHash<QCPAbstractPlottable *, Target> m_targets;
    QVector<QCPAbstractPlottable *> m_order;
    QCPBarsGroup *m_group = nullptr;
    bool m_horizontal = false;
    bool m_bytes = false;   // the value axis counts bytes
    bool m_clicked = false; // the selection is the user's click, not a highlight
    int m_categories = 0;
};

} // namespace tcpscope
