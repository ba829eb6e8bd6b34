// SPDX-License-Identifier: GPL-3.0-or-later
// Marks at points in time on a chart whose x axis is seconds since the session start (the
// session's alerts, on the lifecycle timeline and on the overview's time charts): each a faint
// line across the axis rect and a triangle on its bottom edge in the mark's colour, named by
// hovering the triangle. Each chart keeps its own sizes (TimeMarks::Style). addTimeLine draws
// the line alone (the timeline's notes and selected packet too).
#pragma once

#include "detect/alert.h"

#include <QColor>
#include <QFont>
#include <QPoint>
#include <QString>
#include <QVector>

class QCPAbstractItem;
class QCPItemStraightLine;
class QCustomPlot;

namespace tcpscope {

struct TimeMark
{
    double seconds = 0;      // since the session start
    QColor color;            // of the triangle; the line is a faint shade of it
    int weight = 0;          // a heavier mark is drawn over a lighter one
    bool emphasised = false; // drawn with Style's emphasised line and a larger triangle
    QString toolTip;         // rich text
};

// A new vertical line across the plot's axis rect (clipped to it) at x = seconds, in plot
// coordinates; the plot owns it. Pen, layer and selectability are the caller's.
QCPItemStraightLine *addTimeLine(QCustomPlot *plot, double seconds);

// One mark per alert, in the same order: coloured by severity (alertSeverityColor), the more
// severe drawn over the less, high ones emphasised, named by alertToolTip.
QVector<TimeMark> alertTimeMarks(const QVector<Alert> &alerts, qint64 originNs);

// The marks shown on one plot and the items that draw them (owned by the plot).
class TimeMarks
{
public:
    struct Style
    {
        qreal emphasisedFontGrowPt = 0; // an emphasised triangle is larger by this
        int lineAlpha = 120;            // of the line across the chart
        int emphasisedLineAlpha = 120;
        double stripPx = 14;    // the strip along the bottom edge that hovering names marks in
        double hitPx = 5;       // half the width of a triangle the mouse hits
        bool countRest = false; // "… and N more" after the tips shown
    };

    TimeMarks(QCustomPlot *plot, const Style &style) : m_plot(plot), m_style(style) {}

    // Replaces the marks shown (items removed, new ones added; a queued replot); font: of the
    // triangles.
    void set(const QVector<TimeMark> &marks, const QFont &font);
    // Forgets the marks without removing their items (the plot already deleted them).
    void forget();
    int count() const { return int(m_marks.size()); }
    bool isEmpty() const { return m_marks.isEmpty(); }
    // Widget pixel of a triangle at this time ((-1,-1) when it is out of view).
    QPoint pixelOf(double seconds) const;
    // The tooltips of the triangles near pos, one under the other (empty when none).
    QString toolTipAt(const QPoint &pos) const;

    static constexpr int kMaxTips = 6;

private:
    QCustomPlot *m_plot;
    Style m_style;
    QVector<TimeMark> m_marks;
    QVector<QCPAbstractItem *> m_items; // owned by the plot
};

} // namespace tcpscope
