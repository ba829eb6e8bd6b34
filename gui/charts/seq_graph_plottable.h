// SPDX-License-Identifier: GPL-3.0-or-later
// Plottables and ticker of the sequence graph. Segments are drawn by one plottable per kind
// (data, retransmission, problem, SACK) straight from SeqGraphData: only the visible time range
// is visited (binary search), and when bars are denser than the pixels they fall on, each pixel
// column becomes one line from the lowest to the highest byte drawn there, so 100k+ segments
// cost about one line per pixel column.
#pragma once

#include "charts/seq_graph_data.h"

#include <qcustomplot.h>

#include <memory>

namespace tcpscope {

QColor seqBarColor(SeqBarKind kind);
QString seqBarLabel(SeqBarKind kind);

// How a marker kind is drawn (a QCPGraph scatter style) and named in the legend.
struct SeqMarkStyle
{
    const char *label;
    QCPScatterStyle::ScatterShape shape;
    QColor color;
    double size;
    bool filled;
};
SeqMarkStyle seqMarkStyle(SeqMarkKind kind);

// Hover text of a packet of the graph (rich text): number, direction, time, seq range, ack,
// window, flags, SACK blocks, analysis (problems in red). Empty for an unknown id.
QString seqPacketToolTip(const SeqGraphData &data, qint64 packetId, qint64 originNs);

class SeqBarsPlottable : public QCPAbstractPlottable
{
    Q_OBJECT
public:
    SeqBarsPlottable(QCPAxis *timeAxis, QCPAxis *seqAxis, SeqBarKind kind);

    void setData(std::shared_ptr<const SeqGraphData> data) { m_data = std::move(data); }
    SeqBarKind kind() const { return m_kind; }
    int barCount() const;
    // Lines drawn by the last replot (after per-pixel aggregation), for tests and tuning.
    int lastDrawnLines() const { return m_lastDrawnLines; }

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
    const QVector<SeqBar> *bars() const;

    std::shared_ptr<const SeqGraphData> m_data;
    SeqBarKind m_kind;
    int m_lastDrawnLines = 0;
};

// Sequence-number axis: plain bytes up to 99999, then "250 k", "1.5 M", "2.25 G" (decimal
// prefixes, so ticks at round numbers stay round).
class ByteTicker : public QCPAxisTicker
{
protected:
    QString getTickLabel(double tick, const QLocale &locale, QChar formatChar,
                         int precision) override;
};

} // namespace tcpscope
