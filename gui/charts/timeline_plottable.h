// SPDX-License-Identifier: GPL-3.0-or-later
// Draws every segment of one state phase as filled rectangles. One plottable per phase (not one
// item per segment) keeps 10k connections responsive: only visible rows are visited (binary
// search on the row-sorted segments) and all rectangles go to the painter in one call.
#pragma once

#include "charts/timeline_layout.h"

#include <qcustomplot.h>

#include <memory>

namespace tcpscope {

// Pixel spans [x0, x1] of a row's segments. Every segment gets at least one pixel and starts no
// earlier than the previous one ends, so a 5 ms connection in a minute-long view reads as
// "handshake | established | closing" pixels instead of one overdrawn sliver. Drawing and hit
// testing both use this, so what is hovered is what is seen.
QVector<QPair<double, double>> segmentPixelSpans(const TimelineLayout &layout, int row,
                                                 const QCPAxis *timeAxis);

class TimelinePlottable : public QCPAbstractPlottable
{
    Q_OBJECT
public:
    // keyAxis = time (x), valueAxis = row (y).
    TimelinePlottable(QCPAxis *timeAxis, QCPAxis *rowAxis, StatePhase phase);

    void setLayout(std::shared_ptr<const TimelineLayout> layout) { m_layout = std::move(layout); }
    StatePhase phase() const { return m_phase; }

    double selectTest(const QPointF &pos, bool onlySelectable,
                      QVariant *details = nullptr) const override;
    QCPRange getKeyRange(bool &foundRange,
                         QCP::SignDomain inSignDomain = QCP::sdBoth) const override;
    QCPRange getValueRange(bool &foundRange, QCP::SignDomain inSignDomain = QCP::sdBoth,
                           const QCPRange &inKeyRange = QCPRange()) const override;

protected:
    void draw(QCPPainter *painter) override;
    void drawLegendIcon(QCPPainter *painter, const QRectF &rect) const override;

private:
    std::shared_ptr<const TimelineLayout> m_layout;
    StatePhase m_phase;
};

// Y-axis ticker that labels integer rows with the connection labels and thins them out so
// labels never overlap (tick count is set from the axis height before each replot).
class RowLabelTicker : public QCPAxisTicker
{
public:
    void setLayout(std::shared_ptr<const TimelineLayout> layout) { m_layout = std::move(layout); }

protected:
    double getTickStep(const QCPRange &range) override;
    int getSubTickCount(double tickStep) override;
    QString getTickLabel(double tick, const QLocale &locale, QChar formatChar,
                         int precision) override;
    QVector<double> createTickVector(double tickStep, const QCPRange &range) override;

private:
    std::shared_ptr<const TimelineLayout> m_layout;
};

// Time-axis ticker: plain decimal seconds with as many decimals as the tick step needs
// ("2.5", "3.1234"), instead of QCustomPlot's "5·10^-5" at deep zoom.
class SecondsTicker : public QCPAxisTicker
{
protected:
    double getTickStep(const QCPRange &range) override;
    QString getTickLabel(double tick, const QLocale &locale, QChar formatChar,
                         int precision) override;

private:
    int m_decimals = 0;
};

} // namespace tcpscope
