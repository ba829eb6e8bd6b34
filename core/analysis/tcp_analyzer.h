// SPDX-License-Identifier: GPL-3.0-or-later
// Wireshark-style TCP sequence analysis for ONE connection, seen from its local socket: packets
// with direction Out were sent by it, In were received. Feed packets in capture order; analyze()
// fills the packet's analysis fields (flags, dup ACK number, relative seq/ack, bytes in flight,
// scaled window, ACK RTT) and updates counts(). The rules follow Wireshark's packet-tcp.c
// tcp_analyze_sequence_number() so that counts agree with `tshark` on the same traffic; where we
// differ, docs/ANALYSIS.md says how and why.
#pragma once

#include "model/packet.h"

#include <memory>

namespace tcpscope {

class TcpAnalyzer
{
public:
    TcpAnalyzer();
    ~TcpAnalyzer();
    TcpAnalyzer(TcpAnalyzer &&) noexcept;
    TcpAnalyzer &operator=(TcpAnalyzer &&) noexcept;

    void analyze(Packet &packet);
    const PacketCounts &counts() const;

private:
    struct State;
    std::unique_ptr<State> d;
};

} // namespace tcpscope
