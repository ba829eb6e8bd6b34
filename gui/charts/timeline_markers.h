// SPDX-License-Identifier: GPL-3.0-or-later
// Packet-analysis markers on the lifecycle timeline's bars: retransmissions, RSTs and zero
// windows at the packet's time. Stored per connection and kind in time order; one plottable per
// kind draws only visible rows and at most one glyph per row and pixel column, so a connection
// with 100k retransmissions costs no more than its bar's width in pixels.
#pragma once

#include "charts/timeline_layout.h"
#include "model/packet.h"

#include <qcustomplot.h>

#include <QHash>
#include <QSet>

#include <array>
#include <memory>

namespace tcpscope {

enum class TimelineMarkerKind : int
{
    Retransmission = 0, // AnalysisRetransmission (incl. fast and spurious)
    Reset,              // RST flag
    ZeroWindow,         // AnalysisZeroWindow
};
constexpr int kTimelineMarkerKindCount = 3;
QString timelineMarkerLabel(TimelineMarkerKind kind);

struct TimelineMarker
{
    qint64 timeNs = 0; // wall clock
    qint64 packetId = 0;
};

class TimelineMarkers
{
public:
    // Adds the markers of these packets (packets without a connection, without any of the
    // three flags, or already added are skipped). Returns how many markers were added.
    int add(const QVector<Packet> &packets);
    void clear();
    int count() const { return m_count; }
    // In time order; empty when the connection has none of that kind.
    const QVector<TimelineMarker> &of(qint64 connectionId, TimelineMarkerKind kind) const;
    // Markers of the connection with timeNs in [t0, t1], per kind.
    std::array<QVector<TimelineMarker>, kTimelineMarkerKindCount>
    between(qint64 connectionId, qint64 t0, qint64 t1) const;

private:
    QHash<qint64, std::array<QVector<TimelineMarker>, kTimelineMarkerKindCount>> m_byConnection;
    QSet<qint64> m_packetIds;
    int m_count = 0;
};

// Hover text for the markers of a connection with timeNs in [t0, t1] (rich text, one line per
// kind with its count, time and first packet numbers); empty when there are none.
QString timelineMarkerToolTip(const TimelineMarkers &markers, qint64 connectionId, qint64 t0,
                              qint64 t1, qint64 originNs);

class TimelineMarkerPlottable : public QCPAbstractPlottable
{
    Q_OBJECT
public:
    TimelineMarkerPlottable(QCPAxis *timeAxis, QCPAxis *rowAxis, TimelineMarkerKind kind);

    void setLayout(std::shared_ptr<const TimelineLayout> layout) { m_layout = std::move(layout); }
    void setMarkers(std::shared_ptr<const TimelineMarkers> markers)
    {
        m_markers = std::move(markers);
    }
    TimelineMarkerKind kind() const { return m_kind; }
    // Glyphs drawn by the last replot (after per-pixel aggregation).
    int lastDrawnGlyphs() const { return m_lastDrawnGlyphs; }
    // Widget pixel centre of a marker glyph at timeNs on row (for tests and hit testing).
    QPointF glyphCenter(int row, qint64 timeNs) const;

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
    void drawGlyphs(QCPPainter *painter, const QVector<QPointF> &centers, double half) const;

    std::shared_ptr<const TimelineLayout> m_layout;
    std::shared_ptr<const TimelineMarkers> m_markers;
    TimelineMarkerKind m_kind;
    int m_lastDrawnGlyphs = 0;
};

} // namespace tcpscope
