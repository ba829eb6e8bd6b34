// SPDX-License-Identifier: GPL-3.0-or-later
// Lifecycle timeline: one horizontal bar per connection, segments coloured by TCP state phase.
// Wheel zooms time (Ctrl+wheel zooms rows), drag pans, double-click fits everything, hovering
// names the connection and state, clicking a bar emits connectionClicked(id).
#pragma once

#include "charts/alert_marks.h"
#include "charts/timeline_layout.h"
#include "charts/timeline_markers.h"
#include "detect/alert.h"
#include "model/annotation.h"
#include "model/connection.h"

#include <qcustomplot.h>

#include <array>

class QScrollBar;
#include <memory>

namespace tcpscope {

class TimelinePlottable;
class RowLabelTicker;

class TimelineWidget : public QCustomPlot
{
    Q_OBJECT
public:
    explicit TimelineWidget(QWidget *parent = nullptr);
    ~TimelineWidget() override;

    // Connections in display order (row 0 at the top). x = seconds since originNs; open
    // connections extend to endNs (live: now; file: session end).
    void setConnections(const QVector<Connection> &ordered, qint64 originNs, qint64 endNs);
    // Moves the end of open bars (live capture clock) without changing rows.
    void setEndTime(qint64 endNs);
    void clear();
    qint64 originNs() const { return m_originNs; }
    qint64 endNs() const { return m_endNs; }
    // Analysis markers on each connection's bar: retransmissions, RSTs and zero
    // windows of these packets (others are ignored). Adds to the markers already shown.
    void addAnalysisMarkers(const QVector<Packet> &packets);
    void clearAnalysisMarkers();
    // The session's notes as marks on the time axis: a dashed line at a note's time (a band
    // for a time range) with its first words on top; the whole text on hover. At most 200.
    void setAnnotations(const QVector<Annotation> &annotations);
    int annotationMarkCount() const { return int(m_annotationItems.size()); }
    // The session's alerts as marks on the time axis: a triangle at the bottom edge and a faint
    // line, coloured by severity (alertSeverityColor); hovering the triangle shows the summary.
    // At most kMaxAlertMarks (the most severe first, then the earliest).
    void setAlerts(const QVector<Alert> &alerts);
    int alertMarkCount() const { return int(m_alertMarks.size()); }
    static constexpr int kMaxAlertMarks = 500;
    // Widget pixel of the triangle of the alert at timeNs ((-1,-1) when none is in view), and
    // the tooltip of the triangles near pos (empty when none).
    QPoint alertMarkPixel(qint64 timeNs) const;
    QString alertToolTipAt(const QPoint &pos) const;
    // A thin vertical line at the time of the packet selected elsewhere (0: none).
    void setPacketTime(qint64 timeNs);
    qint64 packetTime() const { return m_packetTimeNs; }
    const TimelineMarkers &analysisMarkers() const { return *m_markers; }
    // Widget pixel of the marker glyph of that kind at timeNs on the connection's bar;
    // (-1,-1) when the connection has no row or the point is out of view.
    QPoint markerPixel(qint64 connectionId, TimelineMarkerKind kind, qint64 timeNs) const;
    int drawnMarkerGlyphs(TimelineMarkerKind kind) const;

    // Highlights the connection's bar and scrolls it into view (-1: none).
    void setSelectedId(qint64 id);
    qint64 selectedId() const { return m_selectedId; }

    // Shown in the middle of the chart when there is no bar (e.g. "No connection matches").
    void setEmptyText(const QString &text);

    // Time range: all; rows: all of them when allRows, else as many as stay readable.
    void fitAll(bool allRows = false);
    // False once the user zoomed/panned that direction (until the next fitAll): the view is
    // then the user's choice, which an export keeps.
    bool followsTime() const { return m_followTime; }
    bool followsRows() const { return m_followRows; }

    int barCount() const { return int(m_layout->rows.size()); }
    int segmentCount() const { return int(m_layout->segments.size()); }
    const TimelineLayout &layout() const { return *m_layout; }
    // Widget pixel at the middle of the connection's bar; invalid QPoint(-1,-1) if not in view.
    QPoint barCenter(qint64 id) const;
    // Connection whose bar is at pos, or -1.
    qint64 idAt(const QPoint &pos) const;
    // What hovering pos shows (rich text): connection, state under the cursor, its time range
    // and duration. Empty when pos is not on a bar.
    QString toolTipAt(const QPoint &pos) const;

signals:
    void connectionClicked(qint64 id);

protected:
    void mousePressEvent(QMouseEvent *event) override;
    void mouseMoveEvent(QMouseEvent *event) override;
    void mouseReleaseEvent(QMouseEvent *event) override;
    void mouseDoubleClickEvent(QMouseEvent *event) override;
    void wheelEvent(QWheelEvent *event) override;
    void resizeEvent(QResizeEvent *event) override;

private:
    void rebuild();
    void fitTime();
    void fitRows(bool allRows);
    // Fits time and rows where they follow the data (the user has not zoomed or panned them),
    // then the row scroll bar; a queued replot.
    void refollow();
    void syncRowScrollBar();
    void placeRowScrollBar();
    void onRowScrolled(int value);
    void updateLegendSize();
    void updateMarkerLegend();
    void fixLegendItemMargins();
    void applyLayout(std::shared_ptr<const TimelineLayout> layout);
    void updateSelectionItems();
    void updateTickDensity();
    void updateTimeAxisLabel();
    // (row, segment index) under pos; segment -1 when only the row's bar extent matched.
    std::pair<int, int> hitTest(const QPoint &pos, double tolerancePx) const;
    QString toolTipFor(int row, int segment) const;
    int readableRowCount() const;
    static TimeMarks::Style alertMarkStyle();

    QVector<Connection> m_connections;
    qint64 m_originNs = 0;
    QVector<Annotation> m_annotations;
    QVector<QCPAbstractItem *> m_annotationItems;   // owned by QCustomPlot
    QVector<Alert> m_alertMarks;                    // those drawn, by time
    TimeMarks m_alertItems{this, alertMarkStyle()}; // what draws them
    QCPItemStraightLine *m_packetLine = nullptr;    // owned by QCustomPlot
    qint64 m_packetTimeNs = 0;
    qint64 m_endNs = 0;
    std::shared_ptr<const TimelineLayout> m_layout;
    std::array<TimelinePlottable *, kStatePhaseCount> m_plottables{}; // owned by QCustomPlot
    QSharedPointer<RowLabelTicker> m_rowTicker;
    std::shared_ptr<TimelineMarkers> m_markers;
    std::array<TimelineMarkerPlottable *, kTimelineMarkerKindCount>
        m_markerPlottables{};                  // owned by QCustomPlot
    QCPItemRect *m_selectionBand = nullptr;    // owned by QCustomPlot
    QCPItemRect *m_selectionOutline = nullptr; // owned by QCustomPlot
    qint64 m_selectedId = -1;
    QPoint m_pressPos;
    QCPItemText *m_emptyText = nullptr; // owned by QCustomPlot
    QScrollBar *m_rowScroll = nullptr;  // child widget; shown when not all rows fit
    // Auto-fit time and rows until the user zooms, pans or scrolls that direction
    // (live updates must not yank the view away from what the user is looking at).
    bool m_followTime = true;
    bool m_followRows = true;
};

} // namespace tcpscope
