// SPDX-License-Identifier: GPL-3.0-or-later
// What a capture records, as the user says it (GUI capture options, `tcpscope record` flags), and
// its translation into the helper's StartOptions. The filter language is data only:
//
//   filter := term { ["and" | "or"] term }
//   term   := "port" N[,N...] | "host" ADDR | "net" ADDR/LEN | "iface" NAME[,NAME...]
//           | "cgroup" PATH[,PATH...] | "netns" NAME|INODE[,...] | "pid" N[,N...]
//           | ("comm" | "proc.name") NAME[,NAME...]
//
// Terms of the same kind are alternatives (OR), different kinds must all hold (AND):
// "port 80 port 443 net 10.0.0.0/8" = (port 80 or 443) and (address in 10/8). Writing "or" between
// different kinds, or "and" between two terms of the same kind, is an error rather than a
// silently different meaning. Ports match source or destination; host/net match source or
// destination address; iface limits which interfaces get the TC programs.
// Owner terms select by the local socket's owner, in the kernel, for packets, kernel samples and
// events, and state changes alike: cgroup = a cgroup v2 path relative to the cgroup2 mount and
// everything below it; netns = an `ip netns` name or a namespace inode number; pid = a process
// (its sockets, and the connections its listeners accept); comm = a process name as the kernel
// keeps it (at most 15 bytes). Paths and names are resolved on the capturing host (against the
// helper's HostOwners report, resolveOwnerTerms), so they work for remote captures too.
#pragma once

#include "wire.h"

#include <QString>
#include <QStringList>

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

// The owner terms that need the capturing host to become ids: cgroup paths (normalized: one '/'
// between components, none at the end) and `ip netns` names. Numeric netns inodes, pids and
// process names go into StartOptions directly.
struct OwnerTerms
{
    QStringList cgroupPaths;
    QStringList netnsNames;
    bool isEmpty() const { return cgroupPaths.isEmpty() && netnsNames.isEmpty(); }
};

// nullopt + one-line reason naming the offending token for a bad filter or snapLen. The owner
// terms to resolve go to *unresolved (left out when it is null: a syntax check).
std::optional<wire::StartOptions> buildStartOptions(const CaptureOptions &options, QString *error,
                                                    OwnerTerms *unresolved = nullptr);

// Fills start's cgroupIds and netnsInodes from the capturing host's report. false + one line
// naming the term ("invalid filter: cgroup '/x' does not exist on HOST") when a path or a name is
// not there; host names the capturing host in that line.
bool resolveOwnerTerms(const OwnerTerms &terms, const wire::HostOwners &report, const QString &host,
                       wire::StartOptions *start, QString *error);

} // namespace tcpscope
