// SPDX-License-Identifier: GPL-3.0-or-later
#include "charts/timeline_layout.h"

#include "util/format.h"

#include <algorithm>
#include <limits>

namespace tcpscope {

namespace {

QString elided(const QString &s, int max)
{
    return s.size() <= max ? s : s.left(max - 1) + QChar(0x2026);
}

} // namespace

TimelineLayout TimelineLayout::build(const QVector<Connection> &ordered, qint64 originNs,
                                     qint64 endNs)
{
    TimelineLayout layout;
    layout.originNs = originNs;
    layout.rows.reserve(ordered.size());
    layout.segments.reserve(ordered.size() * 4);
    auto toX = [originNs](qint64 ns) { return double(ns - originNs) / 1e9; };
    double minX = std::numeric_limits<double>::max();
    double maxX = std::numeric_limits<double>::lowest();

    for (const Connection &c : ordered) {
        TimelineRow row;
        row.id = c.id;
        row.label = elided(fmt::connectionLabel(c), 44);
        row.open = c.isOpen();
        row.firstSegment = int(layout.segments.size());
        const int rowIndex = int(layout.rows.size());
        // Where the last state ends: the close time, else "now"/session end (never before start).
        const qint64 barEnd =
            c.isOpen() ? std::max(endNs, c.history.isEmpty() ? c.startNs : c.history.last().timeNs)
                       : c.endNs;
        if (c.history.isEmpty()) {
            if (stateHasSegment(c.state))
                layout.segments.append({rowIndex, toX(c.startNs), toX(std::max(barEnd, c.startNs)),
                                        c.state, int(layout.segments.size())});
        } else {
            for (int i = 0; i < c.history.size(); ++i) {
                const StateChange &sc = c.history.at(i);
                if (!stateHasSegment(sc.to))
                    continue;
                const qint64 until = i + 1 < c.history.size() ? c.history.at(i + 1).timeNs : barEnd;
                layout.segments.append({rowIndex, toX(sc.timeNs), toX(std::max(until, sc.timeNs)),
                                        sc.to, int(layout.segments.size())});
            }
        }
        row.segmentCount = int(layout.segments.size()) - row.firstSegment;
        row.x0 = toX(c.startNs);
        row.x1 = toX(std::max(barEnd, c.startNs));
        if (row.segmentCount > 0) {
            row.x0 = std::min(row.x0, layout.segments.at(row.firstSegment).x0);
            row.x1 = std::max(row.x1, layout.segments.last().x1);
        }
        minX = std::min(minX, row.x0);
        maxX = std::max(maxX, row.x1);
        layout.rowById.insert(row.id, rowIndex);
        layout.rows.append(row);
    }
    for (const TimelineSegment &s : std::as_const(layout.segments))
        layout.byPhase[int(phaseOf(s.state))].append(s);
    layout.minX = layout.rows.isEmpty() ? 0 : minX;
    layout.maxX = layout.rows.isEmpty() ? 1 : maxX;
    return layout;
}

int TimelineLayout::rowOf(qint64 id) const
{
    return rowById.value(id, -1);
}

} // namespace tcpscope
