// SPDX-License-Identifier: GPL-3.0-or-later
// Framing and message (de)serialization shared by tcpscope-helper and the app. Pure C++20, no Qt.
//
// Stream layout on the AF_UNIX SOCK_STREAM socket:
//   frame := u32 length (payload bytes, little endian) | u16 type | u16 flags (0) | payload
// length is limited to kMaxPayload; a larger value, an unknown type, non-zero flags or a payload
// that does not decode is a protocol error: the reader closes the connection with a reason.
// The first frame in each direction is Hello (helper -> app) / Start (app -> helper); both
// carry the magic and protocol/record versions, so each side checks the other. The helper
// gives a client 10 s to send Start, then closes with an Error.
// All integers are little endian; decoding never casts pointers into the buffer (memcpy only).
#pragma once

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
inline constexpr std::uint16_t kProtocolVersion = 1;
inline constexpr std::size_t kHeaderSize = 8;
inline constexpr std::uint32_t kMaxPayload = 1u << 20; // 1 MiB hard limit per frame
// Bounds on counts inside payloads, so a hostile length never drives an allocation.
inline constexpr std::size_t kMaxString = 4096;   // any string field, in bytes
inline constexpr std::size_t kMaxProbes = 64;     // Hello probe reports
inline constexpr std::size_t kMaxCpus = 4096;     // Stats per-CPU counters

enum class MessageType : std::uint16_t {
    Hello = 1,   // helper -> app: magic, versions, clocks, kernel, probe report
    Start = 2,   // app -> helper: start streaming with options
    Stop = 3,    // app -> helper: detach and exit cleanly
    Records = 4, // helper -> app: batch of raw ts_* records back to back
    Stats = 5,   // helper -> app: periodic counters incl. per-CPU ring buffer losses
    Error = 6,   // either way: human-readable fatal reason, sender closes afterwards
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

struct StartOptions
{
    std::uint32_t flags = 0; // reserved, must be 0 in protocol v1
};

// Payload: u64 monotonicNs | u64 recordsSent | u64 missedRuns | u32 n | n x u64 lostPerCpu,
// exactly that long.
struct Stats
{
    std::uint64_t monotonicNs = 0;
    std::uint64_t recordsSent = 0;          // records forwarded since start
    std::uint64_t missedRuns = 0;           // program runs the kernel skipped, cumulative
                                            // (bpf_prog_info.recursion_misses, all programs)
    std::vector<std::uint64_t> lostPerCpu;  // ring buffer reserve failures, per CPU, cumulative
    // Ring buffer losses only (sum of lostPerCpu). A skipped run is a loss too, but of unknown
    // record count and from another counter; a capture's total loss is lostTotal() + missedRuns.
    std::uint64_t lostTotal() const;
};

// Encoding: each returns a complete frame (header + payload) ready to write.
std::vector<std::uint8_t> encodeFrame(MessageType type, std::span<const std::uint8_t> payload);
std::vector<std::uint8_t> encodeHello(const Hello &hello);
std::vector<std::uint8_t> encodeStart(const StartOptions &options);
std::vector<std::uint8_t> encodeStop();
std::vector<std::uint8_t> encodeStats(const Stats &stats);
std::vector<std::uint8_t> encodeError(const std::string &text);
// Records frames are built by RecordBatcher below.

// Payload decoding: nullopt + error text on anything malformed (short, trailing bytes, bad
// magic, version mismatch, string longer than the payload, absurd counts).
std::optional<Hello> decodeHello(std::span<const std::uint8_t> payload, std::string &error);
std::optional<StartOptions> decodeStart(std::span<const std::uint8_t> payload, std::string &error);
std::optional<Stats> decodeStats(std::span<const std::uint8_t> payload, std::string &error);
std::optional<std::string> decodeError(std::span<const std::uint8_t> payload, std::string &error);
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
    };
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
    enum class Status { NeedMore, Frame, Error };
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
