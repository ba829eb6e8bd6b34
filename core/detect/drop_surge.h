// SPDX-License-Identifier: GPL-3.0-or-later
// drop_surge: the kernel dropping many TCP packets for one reason. The reasons the rules file
// ignores (drop_surge.ignore) are left out, and so are the drops other detectors take as their
// evidence: SYNs to a closed port (port_scan) and full accept or SYN queues (syn_flood).
// Internal to core/detect, fed by the AlertEngine in record time order.
#pragma once

#include "detect/detector_context.h"

namespace tcpscope::detail {

class DropSurge
{
public:
    explicit DropSurge(DetectorContext &ctx) : m_ctx(ctx) {}

    void onDrop(const DropEvent &d);
    // Forgets the reasons whose windows emptied.
    void sweep(qint64 nowNs) { m_drops.sweep(nowNs, m_ctx.paramNs("drop_surge.window")); }

private:
    DetectorContext &m_ctx;
    Windows m_drops; // by reason
};

} // namespace tcpscope::detail
