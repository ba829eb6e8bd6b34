// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "tcpscope_records.h"

#include <string>
#include <vector>

namespace tcpscope::helper {

// Names of the running kernel's drop and reset reasons, read from its BTF
// (/sys/kernel/btf/vmlinux): every value of enum skb_drop_reason (table TS_REASONS_SKB_DROP,
// "SKB_DROP_REASON_" removed, e.g. 3 -> "NO_SOCKET") and enum sk_rst_reason (TS_REASONS_SK_RST,
// "SK_RST_REASON_" removed). The values differ between kernel versions, which is why there is no
// built-in table. hdr.ts_ns is CLOCK_MONOTONIC now. A kernel without BTF or without one of the
// enums yields fewer records and a note in error (records are still returned).
std::vector<ts_reason_name> kernelReasonNames(std::string &error);

} // namespace tcpscope::helper
