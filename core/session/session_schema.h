// SPDX-License-Identifier: GPL-3.0-or-later
// Session file schema v1, in one place for the writer (creates it) and the reader (checks that
// a file has exactly this shape before reading it). Documented in docs/SESSION_FORMAT.md.
#pragma once

#include <QStringList>
#include <QVector>
#include <cstdint>

namespace tcpscope::schema {

inline constexpr std::int32_t kApplicationId = 0x54435053; // "TCPS"
inline constexpr int kUserVersion = 1;

// Everything CREATE-d in a new session file, run in one transaction.
extern const char *const kCreateSql;

struct TableSpec
{
    const char *name;
    QStringList columns; // in declaration order
};
// The tables the reader expects, with their columns in order.
const QVector<TableSpec> &tables();
// Indexes the writer creates; the reader accepts these (and SQLite's own autoindexes) only.
const QStringList &indexes();

// meta keys
inline constexpr const char *kMetaKernel = "kernel";
inline constexpr const char *kMetaHostname = "hostname";
inline constexpr const char *kMetaVersion = "tcpscope_version";
inline constexpr const char *kMetaProbes = "probes"; // one probe report per line
inline constexpr const char *kMetaStartedNs = "started_ns";
inline constexpr const char *kMetaStoppedNs = "stopped_ns";
inline constexpr const char *kMetaRecords = "records_received";
inline constexpr const char *kMetaLost = "lost_records"; // includes kMetaMissedRuns
inline constexpr const char *kMetaMissedRuns = "missed_program_runs";

} // namespace tcpscope::schema
