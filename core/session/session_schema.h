// SPDX-License-Identifier: GPL-3.0-or-later
// Session file schema v3 (v1 and v2 files are still read: v1 has no packets, neither has kernel
// metrics), in one place for the
// writer (creates it) and the reader (checks that a file has exactly this shape before reading it).
// Documented in docs/SESSION_FORMAT.md.
#pragma once

#include <QByteArray>
#include <QStringList>
#include <QVector>
#include <cstdint>
#include <optional>

namespace tcpscope::schema {

inline constexpr std::int32_t kApplicationId = 0x54435053; // "TCPS"
// The newest format this tcpscope reads and writes: every minor of kMajor opens (a later minor
// only adds what this reader may ignore); a later major is refused.
inline constexpr int kMajor = 4;
inline constexpr int kMinor = 6; // 4.1: meta reader_dropped, table interruptions;
                                 // 4.2: meta record-order facts (reorder_window_ns, ...);
                                 // 4.3: tables view_state, annotations;
                                 // 4.4: table alerts, meta alerts_recorded;
                                 // 4.5: tables cgroups, netns_names;
                                 // 4.6: table hosts, connections columns host_id,
                                 //      isn_local, isn_remote
inline constexpr int kUserVersion = kMajor * 1000 + kMinor; // what the writer creates
// The row format (packets and tcp_samples as rows) that tcpscope wrote before format 4; the
// writer still creates it on request (tests of reading old files).
inline constexpr int kRowFormat = 3;

// user_version 1..3: formats 1.0..3.0; from 4 on, major * 1000 + minor. {0, 0} = not a version.
struct Version
{
    int major = 0;
    int minor = 0;
};
Version versionFromUserVersion(qint64 userVersion);

// Everything CREATE-d in a new session file, run in one transaction. The `connections` table
// comes from connectionColumns() (model/connection_columns.h).
QByteArray createSql(int major = kMajor);
// CREATE TABLE IF NOT EXISTS for every table a minor of the current major added.
QByteArray createMinorTablesSql();

struct TableSpec
{
    const char *name;
    QStringList columns; // in declaration order
};
// The tables the reader expects in a file of that user_version, with their columns in order.
// version: the format's major (1..4).
const QVector<TableSpec> &tables(int version = kMajor);
// Tables a minor of major added (format 4.1 on): required in files of that minor or later,
// absent from earlier ones.
struct MinorTable
{
    int minor;
    TableSpec spec;
};
const QVector<MinorTable> &minorTables(int major = kMajor);
// tables(major) plus the minorTables up to minor: exactly the tables of a file of major.minor.
QVector<TableSpec> tablesOf(int major, int minor);
// The PacketCounts columns v2 appends to `connections`, in order.
const QStringList &connectionPacketColumns();
// The KernelSummary columns v3 appends to `connections` (after the packet columns), in order.
const QStringList &connectionKernelColumns();
// Indexes the writer creates; the reader accepts these (and SQLite's own autoindexes) only.
const QStringList &indexes(int version = kMajor);

// meta keys
inline constexpr const char *kMetaKernel = "kernel";
inline constexpr const char *kMetaHostname = "hostname";
inline constexpr const char *kMetaRemote = "remote"; // absent: captured on the local machine
inline constexpr const char *kMetaVersion = "tcpscope_version";
inline constexpr const char *kMetaProbes = "probes"; // one probe report per line
inline constexpr const char *kMetaStartedNs = "started_ns";
inline constexpr const char *kMetaStoppedNs = "stopped_ns";
inline constexpr const char *kMetaRecords = "records_received";
inline constexpr const char *kMetaLost = "lost_records"; // includes kMetaMissedRuns
inline constexpr const char *kMetaMissedRuns = "missed_program_runs";
// v2: packet capture facts
inline constexpr const char *kMetaPacketsCaptured = "packets_captured"; // "1" / "0"
inline constexpr const char *kMetaCaptureFilter = "capture_filter";
inline constexpr const char *kMetaPacketsReceived = "packets_received";
inline constexpr const char *kMetaLostPackets = "lost_packets"; // part of lost_records
inline constexpr const char *kMetaPacketsFiltered = "packets_filtered";
// v3: kernel metrics facts
inline constexpr const char *kMetaKernelMetrics = "kernel_metrics"; // "1" / "0"
inline constexpr const char *kMetaSampleIntervalUs = "sample_interval_us";
inline constexpr const char *kMetaSamplesReceived = "samples_received";
inline constexpr const char *kMetaKernelEventsReceived = "kernel_events_received";
inline constexpr const char *kMetaDropsReceived = "drops_received";
// v4: records the writer had to leave out (its queue was over its byte budget)
inline constexpr const char *kMetaWriterDropped = "writer_dropped";
// Records the helper dropped while tcpscope did not read (format 4.1 on).
inline constexpr const char *kMetaReaderDropped = "reader_dropped";
// Record order facts (format 4.2 on; absent = not recorded).
inline constexpr const char *kMetaReorderWindowNs = "reorder_window_ns";
inline constexpr const char *kMetaRecordsReordered = "records_reordered";
inline constexpr const char *kMetaMaxInversionNs = "max_inversion_ns";
inline constexpr const char *kMetaRecordsBeyondWindow = "records_beyond_window";
inline constexpr const char *kMetaMaxLateNs = "max_late_ns";
inline constexpr const char *kMetaRecordsAfterEviction = "records_after_eviction";
// Format 4.1 on: stretches of the capture with records missing (table `interruptions`, one of
// minorTables()).
inline constexpr const char *kInterruptionsTable = "interruptions";
// 4.3: what the user was looking at (docs/SESSION_FORMAT.md), saved by the app on request.
inline constexpr const char *kViewStateTable = "view_state";
// 4.3: the user's notes on connections, packets and time ranges (model/annotation.h).
inline constexpr const char *kAnnotationsTable = "annotations";
// 4.4: the alerts the detectors raised while recording (detect/alert.h), and whether they ran
// (meta alerts_recorded "1"; absent: no detectors ran, the table says nothing).
inline constexpr const char *kAlertsTable = "alerts";
inline constexpr const char *kMetaAlertsRecorded = "alerts_recorded";
// 4.4: triggered capture (record --trigger): what triggered, and the windows kept.
inline constexpr const char *kMetaTrigger = "trigger";
inline constexpr const char *kMetaTriggerPreNs = "trigger_pre_ns";
inline constexpr const char *kMetaTriggerPostNs = "trigger_post_ns";
inline constexpr const char *kMetaTriggerRingBytes = "trigger_ring_bytes";
inline constexpr const char *kMetaTriggerDiscarded = "trigger_discarded";
inline constexpr const char *kKeptWindowsTable = "kept_windows";
inline constexpr int kMaxKeptWindows = 100000;
// 4.5: the names of the ids connections carry, looked up on the capturing machine while
// recording: cgroup id -> cgroup v2 path, network namespace inode -> `ip netns` name.
inline constexpr const char *kCgroupsTable = "cgroups";
inline constexpr const char *kNetnsNamesTable = "netns_names";
inline constexpr int kMaxOwnerNames = 1000000;
// 4.6: the hosts whose connections the session holds (model/host.h); empty = one host, the
// one meta describes.
inline constexpr const char *kHostsTable = "hosts";
// The most alerts a reader takes from a file (throttling keeps a real capture far below).
inline constexpr int kMaxAlerts = 100000;
// The largest view_state value a reader accepts (characters); a writer never writes more.
inline constexpr int kMaxViewValue = 256 * 1024;

// packets.sock_state: "NONE" for 0, else the state name (tcpStateName). nullopt for other text.
QString sockStateName(quint8 state);
std::optional<quint8> sockStateFromName(const QString &name);
// tcp_samples.ca_state, kernel_events.{old,new}_ca_state: "Open" .. "Loss" (caStateName);
// nullopt for anything else (a tcp_ca_state beyond Loss does not exist).
std::optional<quint8> caStateFromName(const QString &name);
// interfaces.attach: "none", "tcx", "clsact", "failed" (enum ts_interface_attach).
QString attachName(quint8 attach);
std::optional<quint8> attachFromName(const QString &name);

} // namespace tcpscope::schema
