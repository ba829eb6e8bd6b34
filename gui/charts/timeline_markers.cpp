// SPDX-License-Identifier: GPL-3.0-or-later
#include "charts/timeline_markers.h"

#include "tcpscope_records.h"

#include <algorithm>
#include <cmath>

namespace tcpscope {

namespace {
// Vertical place of each kind on the bar (in rows, + is down): they never cover each other.
constexpr double kRowOffset[kTimelineMarkerKindCount] = {-0.2, 0.0, 0.2};

QColor markerColor(TimelineMarkerKind kind)
{
    switch (kind) {
    case TimelineMarkerKind::Retransmission:
        return QColor(0xd6, 0x27, 0x28); // red
    case TimelineMarkerKind::Reset:
        return QColor(0xa4, 0x00, 0x00); // Wireshark's RST rule
    case TimelineMarkerKind::ZeroWindow:
        return QColor(0xff, 0xd4, 0x00); // yellow, red rim
    }
    return Qt::black;
}

const QVector<TimelineMarker> &emptyMarkers()
{
    static const QVector<TimelineMarker> empty;
    return empty;
}

bool earlier(const TimelineMarker &m, qint64 t)
{
    return m.timeNs < t;
}
} // namespace

QString timelineMarkerLabel(TimelineMarkerKind kind)
{
    switch (kind) {
    case TimelineMarkerKind::Retransmission:
        return QStringLiteral("Retransmission");
    case TimelineMarkerKind::Reset:
        return QStringLiteral("RST");
    case TimelineMarkerKind::ZeroWindow:
        return QStringLiteral("Zero window");
    }
    return QString();
}

int TimelineMarkers::add(const QVector<Packet> &packets)
{
    int added = 0;
    QSet<QPair<qint64, int>> touched;
    for (const Packet &p : packets) {
        if (p.connectionId == 0 || m_packetIds.contains(p.id))
            continue;
        const bool kinds[kTimelineMarkerKindCount] = {
            (p.analysis & (AnalysisRetransmission | AnalysisFastRetransmission |
                           AnalysisSpuriousRetransmission)) != 0,
            (p.analysis & AnalysisReset) ||
                (p.parseStatus == TS_PARSE_OK && (p.tcpFlags & TS_TCP_RST)),
            (p.analysis & AnalysisZeroWindow) != 0,
        };
        bool any = false;
        for (int k = 0; k < kTimelineMarkerKindCount; ++k) {
            if (!kinds[k])
                continue;
            auto &list = m_byConnection[p.connectionId][k];
            if (!list.isEmpty() && list.last().timeNs > p.timeNs)
                touched.insert({p.connectionId, k});
            list.append({p.timeNs, p.id});
            any = true;
            ++added;
        }
        if (any)
            m_packetIds.insert(p.id);
    }
    // Packets from two CPUs can arrive slightly out of time order.
    for (const auto &[id, k] : touched) {
        auto &list = m_byConnection[id][k];
        std::stable_sort(list.begin(), list.end(),
                         [](const auto &a, const auto &b) { return a.timeNs < b.timeNs; });
    }
    m_count += added;
    return added;
}

void TimelineMarkers::clear()
{
    m_byConnection.clear();
    m_packetIds.clear();
    m_count = 0;
}

const QVector<TimelineMarker> &TimelineMarkers::of(qint64 connectionId,
                                                   TimelineMarkerKind kind) const
{
    const auto it = m_byConnection.constFind(connectionId);
    return it == m_byConnection.cend() ? emptyMarkers() : (*it)[int(kind)];
}

std::array<QVector<TimelineMarker>, kTimelineMarkerKindCount>
TimelineMarkers::between(qint64 connectionId, qint64 t0, qint64 t1) const
{
    std::array<QVector<TimelineMarker>, kTimelineMarkerKindCount> result;
    for (int k = 0; k < kTimelineMarkerKindCount; ++k) {
        const QVector<TimelineMarker> &list = of(connectionId, TimelineMarkerKind(k));
        for (auto it = std::lower_bound(list.cbegin(), list.cend(), t0, earlier);
             it != list.cend() && it->timeNs <= t1; ++it)
            result[k].append(*it);
    }
    return result;
}

QString timelineMarkerToolTip(const TimelineMarkers &markers, qint64 connectionId, qint64 t0,
                              qint64 t1, qint64 originNs)
{
    static const char *kGlyph[kTimelineMarkerKindCount] = {"\u25BC", "\u2716", "\u25C6"};
    const auto found = markers.between(connectionId, t0, t1);
    QStringList lines;
    for (int k = 0; k < kTimelineMarkerKindCount; ++k) {
        const QVector<TimelineMarker> &list = found[k];
        if (list.isEmpty())
            continue;
        QStringList ids;
        for (int i = 0; i < std::min<qsizetype>(list.size(), 5); ++i)
            ids << QString::number(list.at(i).packetId);
        if (list.size() > 5)
            ids << QStringLiteral("…");
        const double s0 = double(list.first().timeNs - originNs) / 1e9;
        const double s1 = double(list.last().timeNs - originNs) / 1e9;
        const QString when = list.size() == 1
                                 ? QStringLiteral("at %1 s").arg(s0, 0, 'f', 6)
                                 : QStringLiteral("%1–%2 s").arg(s0, 0, 'f', 6).arg(s1, 0, 'f', 6);
        const QColor c = k == int(TimelineMarkerKind::ZeroWindow)
                             ? QColor(0xd6, 0x27, 0x28)
                             : markerColor(TimelineMarkerKind(k));
        lines << QStringLiteral("<span style='color:%1'>%2</span> <b>%3 × %4</b> %5 (packet%6 %7)")
                     .arg(c.name(), QString::fromUtf8(kGlyph[k]), QString::number(list.size()),
                          timelineMarkerLabel(TimelineMarkerKind(k)), when,
                          list.size() == 1 ? QString() : QStringLiteral("s"),
                          ids.join(QStringLiteral(", ")));
    }
    return lines.join(QStringLiteral("<br>"));
}

TimelineMarkerPlottable::TimelineMarkerPlottable(QCPAxis *timeAxis, QCPAxis *rowAxis,
                                                 TimelineMarkerKind kind)
    : QCPAbstractPlottable(timeAxis, rowAxis), m_kind(kind)
{
    setName(timelineMarkerLabel(kind));
    setSelectable(QCP::stNone);
    setPen(QPen(markerColor(kind)));
    setBrush(markerColor(kind));
}

double TimelineMarkerPlottable::selectTest(const QPointF &, bool, QVariant *) const
{
    return -1; // TimelineWidget hit-tests on the layout
}

QCPRange TimelineMarkerPlottable::getKeyRange(bool &foundRange, QCP::SignDomain) const
{
    foundRange = false; // markers lie on bars: the bars define the ranges
    return QCPRange();
}

QCPRange TimelineMarkerPlottable::getValueRange(bool &foundRange, QCP::SignDomain,
                                                const QCPRange &) const
{
    foundRange = false;
    return QCPRange();
}

QPointF TimelineMarkerPlottable::glyphCenter(int row, qint64 timeNs) const
{
    if (!m_layout || !mKeyAxis || !mValueAxis)
        return {};
    const double x = double(timeNs - m_layout->originNs) / 1e9;
    return {mKeyAxis->coordToPixel(x), mValueAxis->coordToPixel(row + kRowOffset[int(m_kind)])};
}

void TimelineMarkerPlottable::draw(QCPPainter *painter)
{
    m_lastDrawnGlyphs = 0;
    if (!m_layout || !m_markers || m_markers->count() == 0 || m_layout->rows.isEmpty() ||
        !mKeyAxis || !mValueAxis)
        return;
    QCPAxis *xAxis = mKeyAxis.data();
    QCPAxis *yAxis = mValueAxis.data();
    const QCPRange rows = yAxis->range();
    const QCPRange time = xAxis->range();
    const double rowPx = std::abs(yAxis->coordToPixel(1) - yAxis->coordToPixel(0));
    const double half = std::clamp(rowPx * 0.26, 2.5, 6.0);
    const double pxPerSecond =
        std::max(std::abs(xAxis->coordToPixel(1) - xAxis->coordToPixel(0)), 1e-12);
    const double slackS = (half + 2) / pxPerSecond;
    const qint64 t0 = m_layout->originNs + qint64(std::floor((time.lower - slackS) * 1e9));
    const qint64 t1 = m_layout->originNs + qint64(std::ceil((time.upper + slackS) * 1e9));
    const int firstRow = std::max(0, int(std::floor(rows.lower)));
    const int lastRow = std::min(int(m_layout->rows.size()) - 1, int(std::ceil(rows.upper)));
    QVector<QPointF> centers;
    for (int row = firstRow; row <= lastRow; ++row) {
        const QVector<TimelineMarker> &list = m_markers->of(m_layout->rows.at(row).id, m_kind);
        if (list.isEmpty())
            continue;
        const double cy = yAxis->coordToPixel(row + kRowOffset[int(m_kind)]);
        int lastColumn = INT_MIN;
        for (auto it = std::lower_bound(list.cbegin(), list.cend(), t0, earlier);
             it != list.cend() && it->timeNs <= t1; ++it) {
            const double px = xAxis->coordToPixel(double(it->timeNs - m_layout->originNs) / 1e9);
            const int column = int(std::floor(px));
            if (column == lastColumn)
                continue; // one glyph per pixel column and row; the tooltip counts them all
            lastColumn = column;
            centers.append(QPointF(column + 0.5, cy));
        }
    }
    if (centers.isEmpty())
        return;
    drawGlyphs(painter, centers, half);
    m_lastDrawnGlyphs = int(centers.size());
}

void TimelineMarkerPlottable::drawGlyphs(QCPPainter *painter, const QVector<QPointF> &centers,
                                         double half) const
{
    painter->setAntialiasing(true);
    const QColor color = markerColor(m_kind);
    if (m_kind == TimelineMarkerKind::Reset) {
        // An X with a white halo so it reads on every state colour.
        QVector<QLineF> lines;
        lines.reserve(centers.size() * 2);
        for (const QPointF &c : centers) {
            lines.append(QLineF(c.x() - half, c.y() - half, c.x() + half, c.y() + half));
            lines.append(QLineF(c.x() - half, c.y() + half, c.x() + half, c.y() - half));
        }
        painter->setPen(QPen(Qt::white, 4.0, Qt::SolidLine, Qt::RoundCap));
        painter->drawLines(lines);
        painter->setPen(QPen(color, 2.0, Qt::SolidLine, Qt::RoundCap));
        painter->drawLines(lines);
        return;
    }
    QPainterPath path;
    for (const QPointF &c : centers) {
        QPolygonF glyph;
        if (m_kind == TimelineMarkerKind::Retransmission) // pointing down at the bar
            glyph << QPointF(c.x() - half, c.y() - half) << QPointF(c.x() + half, c.y() - half)
                  << QPointF(c.x(), c.y() + half);
        else
            glyph << QPointF(c.x(), c.y() - half) << QPointF(c.x() + half, c.y())
                  << QPointF(c.x(), c.y() + half) << QPointF(c.x() - half, c.y());
        glyph << glyph.first();
        path.addPolygon(glyph);
    }
    const QColor rim =
        m_kind == TimelineMarkerKind::ZeroWindow ? QColor(0xd6, 0x27, 0x28) : QColor(Qt::white);
    painter->setPen(QPen(rim, 1.2));
    painter->setBrush(color);
    painter->drawPath(path);
}

void TimelineMarkerPlottable::drawLegendIcon(QCPPainter *painter, const QRectF &rect) const
{
    drawGlyphs(painter, {rect.center()}, std::min(rect.height() / 2, 5.0));
}

} // namespace tcpscope
