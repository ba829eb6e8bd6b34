// SPDX-License-Identifier: GPL-3.0-or-later
// Pure geometry of the lifecycle timeline: one row per connection, one segment per state the
// connection spent time in. x is seconds relative to an origin (doubles relative to the session
// start keep sub-microsecond precision; epoch seconds would not at deep zoom).
#pragma once

#include "charts/state_palette.h"
#include "model/connection.h"

#include <QHash>
#include <QString>
#include <QVector>

#include <array>

namespace tcpscope {

struct TimelineSegment
{
    int row = 0;
    double x0 = 0; // seconds since origin
    double x1 = 0;
    TcpState state = TcpState::Unknown;
    int index = 0; // position in TimelineLayout::segments (byPhase copies keep it)
};

struct TimelineRow
{
    qint64 id = 0;
    QString label;
    double x0 = 0; // extent of the whole bar
    double x1 = 0;
    bool open = false;
    int firstSegment = 0; // index into TimelineLayout::segments
    int segmentCount = 0;
};

struct TimelineLayout
{
    qint64 originNs = 0;
    double minX = 0;
    double maxX = 0;
    QVector<TimelineRow> rows;
    QVector<TimelineSegment> segments;                              // grouped by row, rows in order
    std::array<QVector<TimelineSegment>, kStatePhaseCount> byPhase; // each sorted by row
    QHash<qint64, int> rowById;

    // Rows in the given order; open connections (and the state they are in) extend to endNs.
    static TimelineLayout build(const QVector<Connection> &ordered, qint64 originNs, qint64 endNs);
    // Row index of the connection, -1 when it is not shown.
    int rowOf(qint64 id) const;
};

} // namespace tcpscope
