// SPDX-License-Identifier: GPL-3.0-or-later
// Click or drag on a chart: the charts pan when the mouse is dragged with a button down and
// select what is under the mouse on a click. A press and a release at most kClickSlopPx apart
// (Manhattan distance) are a click; farther apart, a drag.
#pragma once

#include <QPoint>

namespace tcpscope {

constexpr int kClickSlopPx = 3;

inline bool isChartClick(const QPoint &press, const QPoint &release)
{
    return (release - press).manhattanLength() <= kClickSlopPx;
}

} // namespace tcpscope
