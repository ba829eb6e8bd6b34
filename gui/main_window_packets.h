// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "model/connection.h"

#include <QString>

namespace tcpscope {

// What the empty packet list says for this session.
QString noPacketsHint(const SessionInfo &info, bool capturing);

} // namespace tcpscope
