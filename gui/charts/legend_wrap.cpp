// SPDX-License-Identifier: GPL-3.0-or-later
#include "charts/legend_wrap.h"

#include <qcustomplot.h>

#include <algorithm>

namespace tcpscope {

void wrapLegendToWidth(QCPLegend *legend, int width)
{
    // As many columns as fit the widget's width (state phases plus up to three marker kinds
    // do not fit one row of a narrow window: wrap instead of truncating the names).
    QVector<int> widths;
    for (int i = 0; i < legend->itemCount(); ++i)
        if (legend->item(i))
            widths.append(legend->item(i)->minimumOuterSizeHint().width());
    const int available = std::max(100, width);
    int wrap = std::max<int>(1, int(widths.size()));
    for (; wrap > 1; --wrap) {
        QVector<int> columns(wrap, 0);
        for (int i = 0; i < widths.size(); ++i)
            columns[i % wrap] = std::max(columns[i % wrap], widths[i]);
        int total = legend->margins().left() + legend->margins().right() +
                    legend->columnSpacing() * (wrap - 1);
        for (int c : columns)
            total += c;
        if (total <= available)
            break;
    }
    if (legend->wrap() != wrap) {
        legend->setWrap(wrap);
        legend->setFillOrder(QCPLegend::foColumnsFirst, true);
    }
}

} // namespace tcpscope
