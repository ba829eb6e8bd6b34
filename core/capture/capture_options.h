// SPDX-License-Identifier: GPL-3.0-or-later
// What a capture records, as the user says it (GUI capture options, `tcpscope record` flags), and
// its translation into the helper's StartOptions. The filter language is data only:
//
//   filter := term { ["and" | "or"] term }
//   term   := "port" N[,N...] | "host" ADDR | "net" ADDR/LEN | "iface" NAME[,NAME...]
//
// Terms of the same kind are alternatives (OR), different kinds must all hold (AND):
// "port 80 port 443 net 10.0.0.0/8" = (port 80 or 443) and (address in 10/8). Writing "or" between
// different kinds, or "and" between two terms of the same kind, is an error rather than a
// silently different meaning. Ports match source or destination; host/net match source or
// destination address; iface limits which interfaces get the TC programs.
#pragma once

#include "wire.h"

#include <QString>

#include <optional>

namespace tcpscope {

struct CaptureOptions
{
    bool packets = true; // attach the TC packet programs
    int snapLen = 0;     // payload bytes per packet, 0 = none, at most TS_SNAP_MAX (256)
    QString filter;      // the language above; empty = everything (packets only)
    bool tcpInfo = true; // attach tcpinfo.bpf.c: samples, retransmits, resets, drops, listeners
    // Minimum interval between two samples of one connection, µs; 0 = every sample.
    quint32 sampleIntervalUs = wire::StartOptions::kDefaultSampleIntervalUs;
    // How long the helper goes on capturing while tcpscope reads nothing (records beyond its
    // send queue are dropped and counted) before it gives up, ms.
    quint32 maxStallMs = wire::StartOptions::kDefaultMaxStallMs;
};

// nullopt + one-line reason naming the offending token for a bad filter or snapLen.
std::optional<wire::StartOptions> buildStartOptions(const CaptureOptions &options, QString *error);

} // namespace tcpscope
