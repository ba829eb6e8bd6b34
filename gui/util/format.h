// SPDX-License-Identifier: GPL-3.0-or-later
// Human-readable formatting shared by the table, the timeline tooltips and the status bar, so
// the same quantity reads the same everywhere.
#pragma once

#include "model/connection.h"

#include <QString>

namespace tcpscope::fmt {

QString wallTime(qint64 wallNs);     // local "hh:mm:ss.zzz"
QString wallDateTime(qint64 wallNs); // local "yyyy-MM-dd hh:mm:ss.zzz"
QString durationMs(double ms);       // "85 µs", "12.3 ms", "4.21 s", "3 min 12 s"
QString bytes(quint64 n);            // "512 B", "1.5 KiB", "3.2 MiB"
// Short label for a connection row: "curl:43512→93.184.216.34:443", "nginx listen :80".
QString connectionLabel(const Connection &c);

} // namespace tcpscope::fmt
