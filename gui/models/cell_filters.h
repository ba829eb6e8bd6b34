// SPDX-License-Identifier: GPL-3.0-or-later
// The display-filter expression for one cell of the connection table or the packet list, for
// "Apply as Filter" and "Copy ▸ As Filter". Connection cells go through the session's column
// list (ConnectionTableModel::filterColumns → ConnectionColumn::filterField, built and checked
// by core/filter/filter_expression.h); packet cells name the packet field of their column.
#pragma once

#include "model/connection.h"
#include "model/packet.h"

#include <QString>

namespace tcpscope {

// Empty when the column has no filter field (start time, duration, counts, Peer).
QString connectionCellFilter(const Connection &c, int tableColumn);
// Empty for No. and Time (the language has no field for a packet's number, and the list's time
// origin is not frame.time_relative's).
QString packetCellFilter(const Packet &p, int tableColumn);

} // namespace tcpscope
