// SPDX-License-Identifier: GPL-3.0-or-later
// Framing and message (de)serialization shared by tcpscope-helper and the app. Pure C++20, no Qt.
//
// Stream layout on the AF_UNIX SOCK_STREAM socket:
//   frame := u32 length (payload bytes, little endian) | u16 type | u16 flags (0) | payload
// length is limited to kMaxPayload; a larger value, an unknown type, non-zero flags or a payload
// that does not decode is a protocol error: the reader closes the connection with a reason.
// The first frame in each direction is Hello (helper -> app) / Start (app -> helper); both
// carry the magic and protocol/record versions, so each side checks the other
// (checkPeerVersions, one rule for both). A peer of another version is refused with a TextError
// (the one frame every version reads); everything else the helper refuses is a typed Error.
// The helper gives a client 10 s to send Start, then closes with an Error.
// All integers are little endian; decoding never casts pointers into the buffer (memcpy only).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

extern "C" {
#include "tcpscope_records.h"
}

namespace tcpscope::wire {

inline constexpr char kMagic[8] = {'T', 'C', 'P', 'S', 'C', 'O', 'P', 'E'};
// 2: capture options in Start, packet losses in Stats; 3: kTcpInfo + sample interval;
// 4: maxStallMs in Start, records dropped for a slow reader in Stats; 5: typed Error frames
// (code, primary/secondary text, filter position) and Log frames; 6: owner terms in Start (cgroup
// ids, network namespaces, pids, process names) and the HostOwners report after Hello;
// ClockProbe/ClockReply (the app measures the helper's clock against its own).
inline constexpr std::uint16_t kProtocolVersion = 6;
inline constexpr std::size_t kHeaderSize = 8;
inline constexpr std::uint32_t kMaxPayload = 1u << 20; // 1 MiB hard limit per frame
// Bounds on counts inside payloads, so a hostile length never drives an allocation.
inline constexpr std::size_t kMaxString = 4096;         // any string field, in bytes
inline constexpr std::size_t kMaxProbes = 64;           // Hello probe reports
inline constexpr std::size_t kMaxCpus = 4096;           // Stats per-CPU counters
inline constexpr std::size_t kMaxFilterPorts = 64;      // StartOptions::ports
inline constexpr std::size_t kMaxFilterNets = 64;       // StartOptions::nets
inline constexpr std::size_t kMaxFilterInterfaces = 16; // StartOptions::interfaces
inline constexpr std::size_t kMaxInterfaceName = 15;    // IFNAMSIZ - 1
inline constexpr std::size_t kMaxFilterCgroups = 64;    // StartOptions::cgroupIds
inline constexpr std::size_t kMaxFilterNetns = 64;      // StartOptions::netnsInodes
inline constexpr std::size_t kMaxFilterPids = 64;       // StartOptions::pids
inline constexpr std::size_t kMaxFilterComms = 16;      // StartOptions::comms
inline constexpr std::size_t kMaxCommName = 15;         // TASK_COMM_LEN - 1
inline constexpr std::size_t kMaxReportCgroups = 4096;  // HostOwners::cgroups
inline constexpr std::size_t kMaxReportNetns = 1024;    // HostOwners::netns

enum class MessageType : std::uint16_t
{
    Hello = 1,   // helper -> app: magic, versions, clocks, kernel, probe report
    Start = 2,   // app -> helper: start streaming with options
    Stop = 3,    // app -> helper: detach and exit cleanly
    Records = 4, // helper -> app: batch of raw ts_* records back to back
    Stats = 5,   // helper -> app: periodic counters incl. per-CPU ring buffer losses
    // Either way: plain-text fatal reason, sender closes afterwards. Since protocol 5 only a
    // version refusal is sent this way, because a peer of an older protocol reads nothing else;
    // the app still accepts it from a helper that fails before its Hello (an older helper).
    TextError = 6,
    Error = 7, // helper -> app: typed fatal reason (ErrorMessage), sender closes afterwards
    Log = 8,   // helper -> app, after Hello: a non-fatal event (LogMessage)
    // helper -> app, right after Hello (before the helper waits for Start): the capturing host's
    // cgroup tree and named network namespaces (HostOwners). The app resolves the filter's
    // cgroup paths and netns names against it, then sends Start.
    HostOwners = 9,
    // app -> helper, any time after HostOwners (before Start too): a clock probe; the helper
    // answers at once with ClockReply, its clocks read when it handles the probe. Over SSH
    // the app times the round trip and so learns the remote clock against its own.
    ClockProbe = 10,
    ClockReply = 11, // helper -> app: the probe's id and the helper's clocks
};

// Why the helper gives up, as data: the app decides fallbacks and failure kinds from the code,
// never from the text. Values are fixed on the wire; add new ones at the end.
enum class ErrorCode : std::uint16_t
{
    Unspecified = 0,
    Limits = 1,             // a helper option or Start value beyond the helper's own limits
    Permission = 2,         // no root / capabilities, or a client uid the helper refuses
    KernelUnsupported = 3,  // the kernel cannot run the lifecycle programs (no BTF, load/attach)
    Protocol = 4,           // malformed or unexpected frame, no Start in time, bad magic
    BadStart = 5,           // Start decoded but its options are inconsistent (flags, snap length)
    BadFilter = 6,          // a capture filter entry is invalid (ErrorMessage::filterPosition)
    PacketsUnavailable = 7, // the packet (TC) programs cannot be loaded, configured or attached
    TcpInfoUnavailable = 8, // the tcpinfo programs cannot be configured or attached
    PeerStalled = 9,        // the app read nothing for the Start's maximum stall
    Internal = 10,          // a system call failed in the helper (ring buffer reader, capset)
};
inline constexpr std::uint16_t kLastErrorCode = static_cast<std::uint16_t>(ErrorCode::Internal);
// "Permission", ... and "unknown(N)" for a value this build does not know.
std::string errorCodeName(ErrorCode code);

// Which entry of the Start's capture filter an Error refers to (BadFilter).
struct FilterPosition
{
    enum class List : std::uint8_t
    {
        Ports = 1,
        Nets = 2,
        Interfaces = 3,
        Cgroups = 4, // the owner terms (protocol 6)
        Netns = 5,
        Pids = 6,
        Comms = 7,
    };
    List list = List::Ports;
    std::uint16_t index = 0; // 0-based, below the list's limit (kMaxFilterPorts, ...)
    bool operator==(const FilterPosition &) const = default;
};

// Payload: u16 code | string primary | string secondary | u8 filter list (0 = none) |
// u16 filter index (0 when there is no list); exactly that long. primary is one sentence without
// the "tcpscope-helper:" prefix and must not be empty; secondary is the detail (libbpf's or the
// kernel's errno text, a limit), often empty. A code this build does not know is kept as its
// value (errorCodeName says "unknown(N)") and treated like Unspecified: shown, never a fallback.
struct ErrorMessage
{
    ErrorCode code = ErrorCode::Unspecified;
    std::string primary;
    std::string secondary;
    std::optional<FilterPosition> filterPosition;
    bool operator==(const ErrorMessage &) const = default;
    // "primary (secondary)" (or primary alone), for people.
    std::string text() const;
};

// Payload: u8 level (1 info, 2 warning; anything else is malformed) | string text (not empty);
// exactly that long.
struct LogMessage
{
    enum class Level : std::uint8_t
    {
        Info = 1,
        Warning = 2
    };
    Level level = Level::Info;
    std::string text;
    bool operator==(const LogMessage &) const = default;
};

struct Frame
{
    MessageType type{};
    std::vector<std::uint8_t> payload;
};

// What one probe/hook ended up as, for the "kernel capabilities" report.
struct ProbeReport
{
    std::string name;   // e.g. "inet_sock_set_state"
    std::string status; // "tp_btf", "tracepoint", "unavailable"
    std::string detail; // why it fell back / is unavailable; empty when fine
};

struct Hello
{
    std::uint16_t protocolVersion = kProtocolVersion;
    std::uint16_t recordVersion = TS_RECORD_VERSION;
    std::uint64_t monotonicNs = 0; // CLOCK_MONOTONIC and CLOCK_REALTIME read back to back, so
    std::uint64_t realtimeNs = 0;  // the app converts record timestamps to wall time once
    std::string kernelRelease;     // uname -r
    std::string hostname;
    std::vector<ProbeReport> probes;
};

// One address filter: family 4 or 6, prefixLen 0..32 / 0..128, addr network order (IPv4 in the
// first 4 bytes, the rest zero). Bits beyond prefixLen must be zero (decode rejects them).
struct NetFilter
{
    std::uint8_t family = 4;
    std::uint8_t prefixLen = 0;
    std::array<std::uint8_t, 16> addr{};
    bool operator==(const NetFilter &) const = default;
};

// What the app asks the helper to capture. Only data: the helper turns it into map entries and a
// choice of interfaces, never into code. Filter semantics (also the `--filter` language):
//   a packet is captured when (ports empty OR sport or dport in ports)
//                        AND (nets empty  OR saddr or daddr in one of nets)
//                        AND its socket's owner is wanted (below)
//   and packets are captured only on interfaces whose name is in `interfaces` (empty = all,
//   including ones that appear later).
// Owner terms decide by the local socket of a packet, sample, event or state change:
//   (cgroupIds empty   OR the socket's cgroup or one of its ancestors is in cgroupIds)
//   AND (netnsInodes empty OR the socket's network namespace inode is in netnsInodes)
//   AND (pids empty    OR the socket's owner process (tgid) is in pids)
//   AND (comms empty   OR the owner's process name is in comms).
// With any owner term, lifecycle records, tcpinfo samples/events/drops and listener samples of
// other sockets are left out too; ports/nets/interfaces act on packets only.
// Payload: u32 flags | u16 snapLen | u16 nPorts | nPorts x u16 | u16 nNets | nNets x (u8 family,
// u8 prefixLen, 16 bytes addr) | u16 nIfaces | nIfaces x string | u32 sampleIntervalUs |
// u32 maxStallMs | u16 nCgroups | nCgroups x u64 | u16 nNetns | nNetns x u32 | u16 nPids |
// nPids x u32 | u16 nComms | nComms x string; exactly that long. Cgroup ids, namespace inodes and
// pids are non-zero; comms 1..kMaxCommName bytes without NUL. kTcpInfo attaches tcpinfo.bpf.c
// (tcp_probe samples, retransmits, resets, congestion states, drops) and the listener poll.
struct StartOptions
{
    static constexpr std::uint32_t kPackets = 1u << 0; // attach packets.bpf.c (TC) programs
    static constexpr std::uint32_t kPayload = 1u << 1; // with payload snapshots of snapLen bytes
    static constexpr std::uint32_t kTcpInfo = 1u << 2; // attach tcpinfo.bpf.c + listener poll
    static constexpr std::uint32_t kKnownFlags = kPackets | kPayload | kTcpInfo;
    // Minimum time between two tcp_probe samples of one connection, in microseconds; 0 = every
    // sample. Larger than kMaxSampleIntervalUs is a protocol error. Default: see README
    // (chosen by tests/bench/bench_tcpinfo.sh).
    static constexpr std::uint32_t kDefaultSampleIntervalUs = 1000;
    static constexpr std::uint32_t kMaxSampleIntervalUs = 10'000'000;

    std::uint32_t flags = kPackets | kTcpInfo; // unknown bits are a protocol error
    std::uint16_t snapLen = 0;                 // 1..TS_SNAP_MAX when kPayload is set, else 0
    std::vector<std::uint16_t> ports;
    std::vector<NetFilter> nets;
    std::vector<std::string> interfaces; // names, 1..kMaxInterfaceName bytes each
    std::uint32_t sampleIntervalUs = kDefaultSampleIntervalUs;
    // How long the helper keeps capturing while the app reads nothing (records that do not fit
    // its bounded send queue are dropped and counted) before it gives up; 1..kMaxStallMs.
    static constexpr std::uint32_t kDefaultMaxStallMs = 30'000;
    static constexpr std::uint32_t kMaxStallMs = 3'600'000;
    std::uint32_t maxStallMs = kDefaultMaxStallMs;
    // Owner terms, resolved by the app to the capturing host's ids (HostOwners).
    std::vector<std::uint64_t> cgroupIds; // cgroup v2 ids (directory inodes); each a subtree
    std::vector<std::uint32_t> netnsInodes;
    std::vector<std::uint32_t> pids;
    std::vector<std::string> comms;
    bool hasOwnerTerms() const
    {
        return !cgroupIds.empty() || !netnsInodes.empty() || !pids.empty() || !comms.empty();
    }
    bool operator==(const StartOptions &) const = default;
};

// The capturing host's owners, so the app can resolve names to ids there (also for a remote
// capture, whose /sys/fs/cgroup the app cannot read) and name the ids its sessions carry.
// Payload: u8 flags (kCgroupsTruncated | kNoCgroup2; other bits malformed) | u32 nCgroups |
// nCgroups x (u64 id, string path) | u32 nNetns | nNetns x (u32 inode, string name); exactly that
// long. Paths are relative to the cgroup2 mount ("/" is its root, "/system.slice/x.service"),
// begin with '/' and have no empty components; names are `ip netns` names (/run/netns), 1..255
// bytes without '/'. Ids and inodes are non-zero. The cgroup list is breadth first, so a
// truncated one (more than kMaxReportCgroups directories, or paths beyond kMaxPayload) still holds
// the upper levels.
struct HostOwners
{
    static constexpr std::uint8_t kCgroupsTruncated = 1u << 0;
    static constexpr std::uint8_t kNoCgroup2 = 1u << 1; // no cgroup v2 mount on that host
    std::uint8_t flags = 0;
    struct Cgroup
    {
        std::uint64_t id = 0;
        std::string path;
        bool operator==(const Cgroup &) const = default;
    };
    struct Netns
    {
        std::uint32_t inode = 0;
        std::string name;
        bool operator==(const Netns &) const = default;
    };
    std::vector<Cgroup> cgroups;
    std::vector<Netns> netns;
    bool operator==(const HostOwners &) const = default;
};

// Payload of ClockReply: u64 id (the probe's) | u64 realtimeNs | u64 monotonicNs, exactly that
// long; ClockProbe's payload is the u64 id alone.
struct ClockReply
{
    std::uint64_t id = 0;
    std::uint64_t realtimeNs = 0;  // CLOCK_REALTIME and CLOCK_MONOTONIC of the helper's host,
    std::uint64_t monotonicNs = 0; // read back to back when it handled the probe
    bool operator==(const ClockReply &) const = default;
};

// Payload: u64 monotonicNs | u64 recordsSent | u64 missedRuns | u32 n | n x u64 lostPerCpu |
// u32 m | m x u64 packetLostPerCpu | u64 packetsFiltered | u64 readerDropped, exactly that long.
struct Stats
{
    std::uint64_t monotonicNs = 0;
    std::uint64_t recordsSent = 0;               // records forwarded since start
    std::uint64_t missedRuns = 0;                // program runs the kernel skipped, cumulative
                                                 // (bpf_prog_info.recursion_misses, all programs)
    std::vector<std::uint64_t> lostPerCpu;       // lifecycle ring buffer reserve failures, per CPU
    std::vector<std::uint64_t> packetLostPerCpu; // packet ring buffer reserve failures, per CPU
                                                 // (empty when packets are off)
    std::uint64_t packetsFiltered = 0;           // TCP packets the kernel-side filter left out
    // Records the helper read from the kernel but dropped because the app did not read them
    // (its send queue was full), cumulative. A loss like lostTotal(), on the helper's side.
    std::uint64_t readerDropped = 0;
    // Ring buffer losses only (sum of lostPerCpu and packetLostPerCpu). A skipped run is a loss
    // too, but of unknown record count; a capture's total loss is lostTotal() + missedRuns.
    std::uint64_t lostTotal() const;
    std::uint64_t packetLostTotal() const; // sum of packetLostPerCpu
};

// Encoding: each returns a complete frame (header + payload) ready to write.
std::vector<std::uint8_t> encodeFrame(MessageType type, std::span<const std::uint8_t> payload);
std::vector<std::uint8_t> encodeHello(const Hello &hello);
std::vector<std::uint8_t> encodeStart(const StartOptions &options);
std::vector<std::uint8_t> encodeStop();
std::vector<std::uint8_t> encodeStats(const Stats &stats);
std::vector<std::uint8_t> encodeError(const ErrorMessage &error);
std::vector<std::uint8_t> encodeTextError(const std::string &text);
std::vector<std::uint8_t> encodeLog(const LogMessage &log);
// Entries beyond the limits, or that would make the payload exceed kMaxPayload, are left out and
// kCgroupsTruncated is set (netns entries beyond the limit are dropped the same way).
std::vector<std::uint8_t> encodeHostOwners(const HostOwners &owners);
std::vector<std::uint8_t> encodeClockProbe(std::uint64_t id);
std::vector<std::uint8_t> encodeClockReply(const ClockReply &reply);
// Records frames are built by RecordBatcher below.

// Payload decoding: nullopt + error text on anything malformed (short, trailing bytes, bad
// magic, version mismatch, string longer than the payload, absurd counts).
std::optional<Hello> decodeHello(std::span<const std::uint8_t> payload, std::string &error);
// refusal (optional): what the helper answers a Start it refuses with, typed (Protocol for a
// short or malformed payload, BadStart for inconsistent options, BadFilter with its position).
// A version mismatch leaves it Unspecified: that answer is a TextError (checkPeerVersions).
std::optional<StartOptions> decodeStart(std::span<const std::uint8_t> payload, std::string &error,
                                        ErrorMessage *refusal = nullptr);
std::optional<Stats> decodeStats(std::span<const std::uint8_t> payload, std::string &error);
std::optional<ErrorMessage> decodeError(std::span<const std::uint8_t> payload, std::string &error);
std::optional<std::string> decodeTextError(std::span<const std::uint8_t> payload,
                                           std::string &error);
std::optional<LogMessage> decodeLog(std::span<const std::uint8_t> payload, std::string &error);
std::optional<HostOwners> decodeHostOwners(std::span<const std::uint8_t> payload,
                                           std::string &error);
std::optional<std::uint64_t> decodeClockProbe(std::span<const std::uint8_t> payload,
                                              std::string &error);
std::optional<ClockReply> decodeClockReply(std::span<const std::uint8_t> payload,
                                           std::string &error);
// Which peer's versions are being checked, for the wording of the refusal.
enum class Peer
{
    Helper,
    App
};
// The one version rule of the handshake, used by decodeHello (peer = Helper) and decodeStart
// (peer = App): reads the magic and the protocol/record versions at the start of a Hello or
// Start payload and returns the refusal both sides show ("tcpscope-helper speaks protocol 4,
// this tcpscope needs 5: install matching versions of tcpscope and tcpscope-helper"), or an
// empty string when they match. A payload too short for the versions or with another magic
// returns empty too: the full decoder reports those. The helper answers a non-empty refusal
// with a TextError, the frame an older peer can read.
std::string checkPeerVersions(std::span<const std::uint8_t> payload, Peer peer);
// Stop carries no payload; anything else is malformed.
bool decodeStop(std::span<const std::uint8_t> payload, std::string &error);
// Human-readable name of a message type, for logs ("unknown(7)" for others).
std::string messageTypeName(std::uint16_t type);

// One record out of a Records payload, copied out of the buffer (never aliased).
struct Record
{
    std::uint16_t type = 0; // enum ts_record_type
    union {
        ts_record_header header;
        ts_state_change stateChange;
        ts_close_stats closeStats;
        ts_packet packet;            // TS_REC_PACKET
        ts_packet_snap packetSnap;   // TS_REC_PACKET_SNAP (packetSnap.pkt is the ts_packet)
        ts_interface interface;      // TS_REC_INTERFACE
        ts_tcp_sample tcpSample;     // TS_REC_TCP_SAMPLE
        ts_tcp_event tcpEvent;       // TS_REC_TCP_EVENT
        ts_drop drop;                // TS_REC_DROP
        ts_listener_sample listener; // TS_REC_LISTENER
        ts_reason_name reasonName;   // TS_REC_REASON_NAME
    };
    // The packet part of either packet record type (nullptr for other types).
    const ts_packet *asPacket() const
    {
        return type == TS_REC_PACKET        ? &packet
               : type == TS_REC_PACKET_SNAP ? &packetSnap.pkt
                                            : nullptr;
    }
    Record() : header{} {}
};

// Walks a Records payload. Each record is validated: size >= header, size <= remaining bytes,
// a known type must have exactly its struct's size; unknown types are skipped (forward
// compatible) and counted. Returns false with error text at the first malformed record;
// records before it have already been delivered.
template <typename Fn>
bool forEachRecord(std::span<const std::uint8_t> payload, Fn &&fn, std::string &error,
                   std::size_t *skippedUnknown = nullptr);

// Appends raw records (as they come out of the ring buffer) into Records frames of at most
// kMaxPayload bytes. The helper calls add() per ring buffer sample and takeFrame() on flush.
// When a record does not fit into the current frame, that frame is sealed and a new one begun;
// takeFrame() hands out sealed frames first (oldest first), then the open one.
class RecordBatcher
{
public:
    // Returns false (and appends nothing) if the record is malformed: size < header, > max, or
    // its header's size field disagrees with the sample length.
    bool add(std::span<const std::uint8_t> record);
    bool empty() const { return m_count == 0; }
    std::size_t count() const { return m_count; } // records not yet taken, all frames
    std::size_t payloadBytes() const { return m_payload.size(); } // of the open frame
    bool hasSealedFrame() const { return !m_sealed.empty(); }
    // Returns a complete encoded Records frame and removes it from the batch; empty vector if
    // there is nothing to take.
    std::vector<std::uint8_t> takeFrame();

private:
    struct Sealed
    {
        std::vector<std::uint8_t> frame;
        std::size_t count = 0;
    };
    std::vector<std::uint8_t> m_payload;
    std::size_t m_openCount = 0;
    std::size_t m_count = 0;
    std::vector<Sealed> m_sealed;
};

// Incremental stream decoder: feed() whatever read() returned, then call next() until it
// returns NeedMore. After Error the decoder stays in error; the connection must be closed.
class FrameDecoder
{
public:
    enum class Status
    {
        NeedMore,
        Frame,
        Error
    };
    void feed(std::span<const std::uint8_t> bytes);
    Status next(Frame &out);
    const std::string &error() const { return m_error; }
    std::size_t buffered() const { return m_buffer.size() - m_offset; }

private:
    std::vector<std::uint8_t> m_buffer;
    std::size_t m_offset = 0;
    std::string m_error;
};

} // namespace tcpscope::wire

#include "wire_records.inl"
