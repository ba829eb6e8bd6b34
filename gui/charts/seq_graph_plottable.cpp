// SPDX-License-Identifier: GPL-3.0-or-later
#include "charts/seq_graph_plottable.h"

#include "tcpscope_records.h"

#include <algorithm>
#include <cmath>

namespace tcpscope {

namespace {
constexpr double kCapHalfWidthPx = 3; // the "I" of tcptrace's I-bars

QString tcpFlagsText(quint8 flags)
{
    static constexpr std::pair<quint8, const char *> kNames[] = {
        {TS_TCP_SYN, "SYN"}, {TS_TCP_FIN, "FIN"}, {TS_TCP_RST, "RST"}, {TS_TCP_PSH, "PSH"},
        {TS_TCP_ACK, "ACK"}, {TS_TCP_URG, "URG"}, {TS_TCP_ECE, "ECE"}, {TS_TCP_CWR, "CWR"}};
    QStringList names;
    for (const auto &[bit, name] : kNames)
        if (flags & bit)
            names << QLatin1String(name);
    return names.isEmpty() ? QStringLiteral("none") : names.join(QLatin1Char(' '));
}

QString directionText(PacketDirection d)
{
    return d == PacketDirection::Out ? QStringLiteral("sent (out)")
                                     : QStringLiteral("received (in)");
}
} // namespace

QColor seqBarColor(SeqBarKind kind)
{
    switch (kind) {
    case SeqBarKind::Data:
        return QColor(0x1f, 0x4e, 0x9c); // blue
    case SeqBarKind::Retransmission:
        return QColor(0xd6, 0x27, 0x28); // red: a problem
    case SeqBarKind::Problem:
        return QColor(0xe6, 0x8a, 0x00); // orange: other warnings
    case SeqBarKind::Sack:
        return QColor(0x8e, 0x44, 0xad); // purple
    }
    return Qt::black;
}

QString seqBarLabel(SeqBarKind kind)
{
    switch (kind) {
    case SeqBarKind::Data:
        return QStringLiteral("Data segment");
    case SeqBarKind::Retransmission:
        return QStringLiteral("Retransmission");
    case SeqBarKind::Problem:
        return QStringLiteral("Out-of-order / lost before / other problem");
    case SeqBarKind::Sack:
        return QStringLiteral("SACK block");
    }
    return QString();
}

SeqMarkStyle seqMarkStyle(SeqMarkKind kind)
{
    switch (kind) {
    case SeqMarkKind::Syn:
        return {"SYN", QCPScatterStyle::ssTriangle, QColor(0x00, 0x9e, 0x73), 9, true};
    case SeqMarkKind::Fin:
        return {"FIN", QCPScatterStyle::ssSquare, QColor(0x33, 0x33, 0x33), 8, true};
    case SeqMarkKind::Rst:
        return {"RST", QCPScatterStyle::ssCross, QColor(0xd6, 0x27, 0x28), 11, false};
    case SeqMarkKind::DupAck:
        return {"Duplicate ACK", QCPScatterStyle::ssPlus, QColor(0xe6, 0x8a, 0x00), 7, false};
    case SeqMarkKind::ZeroWindow:
        return {"Zero window", QCPScatterStyle::ssDiamond, QColor(0xd6, 0x27, 0x28), 9, true};
    }
    return {"", QCPScatterStyle::ssNone, Qt::black, 0, false};
}

QString seqPacketToolTip(const SeqGraphData &data, qint64 packetId, qint64 originNs)
{
    const Packet *p = data.packet(packetId);
    if (!p)
        return QString();
    QString html = QStringLiteral("<b>Packet %1</b> · %2 · %3 s")
                       .arg(p->id)
                       .arg(directionText(p->direction))
                       .arg(double(p->timeNs - originNs) / 1e9, 0, 'f', 6);
    html += QStringLiteral("<br>Seq %1").arg(p->relSeq);
    if (p->payloadLen > 0)
        html += QStringLiteral("–%1 · len %2")
                    .arg(quint64(p->relSeq) + p->payloadLen)
                    .arg(p->payloadLen);
    else
        html += QStringLiteral(" · len 0");
    if (p->gsoSegs > 1)
        html += QStringLiteral(" (GSO: %1 segments of %2)").arg(p->gsoSegs).arg(p->gsoSize);
    if (p->tcpFlags & TS_TCP_ACK)
        html += QStringLiteral(" · Ack %1").arg(p->relAck);
    html += QStringLiteral("<br>Win %1").arg(p->window);
    if (p->scaledWindow >= 0)
        html += QStringLiteral(" (scaled %1)").arg(p->scaledWindow);
    html += QStringLiteral(" · Flags %1").arg(tcpFlagsText(p->tcpFlags));
    if (p->direction != data.dataDirection()) {
        QStringList sacks;
        for (const SeqBar &b : data.bars(SeqBarKind::Sack))
            if (b.packetId == p->id)
                sacks << QStringLiteral("%1–%2").arg(qint64(b.y0)).arg(qint64(b.y1));
        if (!sacks.isEmpty())
            html += QStringLiteral("<br>SACK %1").arg(sacks.join(QStringLiteral(", ")));
    }
    if (p->analysis) {
        const QString summary = analysisSummary(p->analysis, p->dupAckNum).toHtmlEscaped();
        html += analysisIsProblem(p->analysis)
                    ? QStringLiteral("<br><b style='color:#d62728'>%1</b>").arg(summary)
                    : QStringLiteral("<br><i>%1</i>").arg(summary);
    }
    return html;
}

SeqBarsPlottable::SeqBarsPlottable(QCPAxis *timeAxis, QCPAxis *seqAxis, SeqBarKind kind)
    : QCPAbstractPlottable(timeAxis, seqAxis), m_kind(kind)
{
    setName(seqBarLabel(kind));
    QPen pen(seqBarColor(kind));
    pen.setWidthF(kind == SeqBarKind::Data ? 1.0 : 2.0); // problems stand out over data
    pen.setCapStyle(Qt::FlatCap);
    setPen(pen);
    setBrush(Qt::NoBrush);
    setSelectable(QCP::stNone);
    setAntialiased(false);
}

const QVector<SeqBar> *SeqBarsPlottable::bars() const
{
    return m_data ? &m_data->bars(m_kind) : nullptr;
}

int SeqBarsPlottable::barCount() const
{
    const QVector<SeqBar> *b = bars();
    return b ? int(b->size()) : 0;
}

double SeqBarsPlottable::selectTest(const QPointF &, bool, QVariant *) const
{
    return -1; // SeqGraphWidget hit-tests every kind at once, in pixel space
}

QCPRange SeqBarsPlottable::getKeyRange(bool &foundRange, QCP::SignDomain) const
{
    const QVector<SeqBar> *b = bars();
    foundRange = b && !b->isEmpty();
    return foundRange ? QCPRange(b->first().x, b->last().x) : QCPRange();
}

QCPRange SeqBarsPlottable::getValueRange(bool &foundRange, QCP::SignDomain, const QCPRange &) const
{
    const QVector<SeqBar> *b = bars();
    foundRange = b && !b->isEmpty();
    if (!foundRange)
        return QCPRange();
    QCPRange r(b->first().y0, b->first().y1);
    for (const SeqBar &bar : *b) {
        r.expand(bar.y0);
        r.expand(bar.y1);
    }
    return r;
}

void SeqBarsPlottable::draw(QCPPainter *painter)
{
    m_lastDrawnLines = 0;
    const QVector<SeqBar> *b = bars();
    if (!b || b->isEmpty() || !mKeyAxis || !mValueAxis)
        return;
    QCPAxis *xAxis = mKeyAxis.data();
    QCPAxis *yAxis = mValueAxis.data();
    const QCPRange time = xAxis->range();
    const QCPRange seq = yAxis->range();
    const double pxPerSecond = std::abs(xAxis->coordToPixel(1) - xAxis->coordToPixel(0));
    const double slack = (kCapHalfWidthPx + 2) / std::max(pxPerSecond, 1e-12);
    const auto first = std::lower_bound(b->cbegin(), b->cend(), time.lower - slack,
                                        [](const SeqBar &s, double x) { return s.x < x; });
    const auto last = std::upper_bound(first, b->cend(), time.upper + slack,
                                       [](double x, const SeqBar &s) { return x < s.x; });
    const QRect clip = clipRect();
    // Far-off coordinates are clamped: QPainter misbehaves with huge values.
    const double top = clip.top() - 10, bottom = clip.bottom() + 10;
    const auto clampY = [&](double py) { return std::clamp(py, top, bottom); };

    QVector<QLineF> lines;
    const qsizetype visible = last - first;
    const bool sparse = visible <= std::max(1, clip.width()) / 6;
    if (sparse) {
        lines.reserve(visible * 3);
        for (auto it = first; it != last; ++it) {
            if (it->y1 < seq.lower || it->y0 > seq.upper)
                continue;
            const double px = xAxis->coordToPixel(it->x);
            const double py0 = clampY(yAxis->coordToPixel(it->y0));
            double py1 = clampY(yAxis->coordToPixel(it->y1));
            if (std::abs(py0 - py1) < 1)
                py1 = py0 - 1; // a segment is never invisible
            lines.append(QLineF(px, py0, px, py1));
            lines.append(QLineF(px - kCapHalfWidthPx, py0, px + kCapHalfWidthPx, py0));
            lines.append(QLineF(px - kCapHalfWidthPx, py1, px + kCapHalfWidthPx, py1));
        }
    } else {
        // One line per pixel column: lowest to highest byte of the bars that fall on it.
        int column = INT_MIN;
        double lo = 0, hi = 0;
        const auto flush = [&] {
            if (column != INT_MIN)
                lines.append(QLineF(column + 0.5, lo, column + 0.5, std::min(hi, lo - 1)));
        };
        for (auto it = first; it != last; ++it) {
            if (it->y1 < seq.lower || it->y0 > seq.upper)
                continue;
            const int px = int(std::floor(xAxis->coordToPixel(it->x)));
            const double py0 = clampY(yAxis->coordToPixel(it->y0)); // larger pixel = lower byte
            const double py1 = clampY(yAxis->coordToPixel(it->y1));
            if (px != column) {
                flush();
                column = px;
                lo = py0;
                hi = py1;
            } else {
                lo = std::max(lo, py0);
                hi = std::min(hi, py1);
            }
        }
        flush();
    }
    if (lines.isEmpty())
        return;
    applyDefaultAntialiasingHint(painter);
    painter->setPen(mPen);
    painter->drawLines(lines.constData(), int(lines.size()));
    m_lastDrawnLines = int(lines.size());
}

void SeqBarsPlottable::drawLegendIcon(QCPPainter *painter, const QRectF &rect) const
{
    painter->setPen(mPen);
    const double cx = rect.center().x();
    const double y0 = rect.bottom() - 1, y1 = rect.top() + 1;
    painter->drawLine(QLineF(cx, y0, cx, y1));
    painter->drawLine(QLineF(cx - kCapHalfWidthPx, y0, cx + kCapHalfWidthPx, y0));
    painter->drawLine(QLineF(cx - kCapHalfWidthPx, y1, cx + kCapHalfWidthPx, y1));
}

QString ByteTicker::getTickLabel(double tick, const QLocale &, QChar, int)
{
    const double a = std::abs(tick);
    if (a < 1e5)
        return QString::number(qint64(std::llround(tick)));
    static constexpr struct
    {
        double factor;
        const char *suffix;
    } kUnits[] = {{1e9, " G"}, {1e6, " M"}, {1e3, " k"}};
    for (const auto &u : kUnits) {
        if (a >= u.factor) {
            const double v = tick / u.factor;
            // Enough decimals to tell neighbouring ticks apart, no trailing zeros.
            QString s = QString::number(v, 'f', 3);
            while (s.contains(QLatin1Char('.')) &&
                   (s.endsWith(QLatin1Char('0')) || s.endsWith(QLatin1Char('.'))))
                s.chop(1);
            return s + QLatin1String(u.suffix);
        }
    }
    return QString::number(tick);
}

} // namespace tcpscope
