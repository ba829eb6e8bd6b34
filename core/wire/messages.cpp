// SPDX-License-Identifier: GPL-3.0-or-later
// Frame header and the control/Hello/Stats/Error message codecs.
#include "wire.h"

#include "byte_io.h"

#include <algorithm>
#include <cstring>

namespace tcpscope::wire {

// The layout is shared with the kernel side; a silent change would corrupt every session.
static_assert(sizeof(ts_record_header) == 16, "ts_record_header layout changed");
static_assert(sizeof(ts_state_change) == 120, "ts_state_change layout changed");
static_assert(sizeof(ts_close_stats) == 72, "ts_close_stats layout changed");
static_assert(sizeof(ts_state_change) % 8 == 0 && sizeof(ts_close_stats) % 8 == 0,
              "records must keep 8-byte multiples so ring-buffer samples stay aligned");
static_assert(sizeof(ts_packet) == 152, "ts_packet layout changed");
static_assert(sizeof(ts_packet_snap) == 416, "ts_packet_snap layout changed");
static_assert(sizeof(ts_interface) == 40, "ts_interface layout changed");
static_assert(sizeof(ts_tcp_sample) == 168, "ts_tcp_sample layout changed");
static_assert(sizeof(ts_tcp_event) == 96, "ts_tcp_event layout changed");
static_assert(sizeof(ts_drop) == 96, "ts_drop layout changed");
static_assert(sizeof(ts_listener_sample) == 64, "ts_listener_sample layout changed");
static_assert(sizeof(ts_reason_name) == 88, "ts_reason_name layout changed");
static_assert(kMaxPayload <= 0xffffffffu);

using detail::ByteReader;
using detail::ByteWriter;

namespace {

// Truncated/unknown fields are decoded by first running the whole reader, then checking that
// nothing failed and nothing trailed; this keeps every decoder a straight line.
bool finish(const ByteReader &r, const char *what, std::string &error)
{
    if (!r.ok()) {
        error = std::string(what) + ": " + r.error();
        return false;
    }
    if (!r.atEnd()) {
        error = std::string(what) + ": " + std::to_string(r.remaining()) + " trailing bytes";
        return false;
    }
    return true;
}

} // namespace

std::uint64_t Stats::lostTotal() const
{
    std::uint64_t total = 0;
    for (std::uint64_t v : lostPerCpu)
        total += v;
    return total + packetLostTotal();
}

std::uint64_t Stats::packetLostTotal() const
{
    std::uint64_t total = 0;
    for (std::uint64_t v : packetLostPerCpu)
        total += v;
    return total;
}

std::string messageTypeName(std::uint16_t type)
{
    switch (static_cast<MessageType>(type)) {
    case MessageType::Hello:
        return "Hello";
    case MessageType::Start:
        return "Start";
    case MessageType::Stop:
        return "Stop";
    case MessageType::Records:
        return "Records";
    case MessageType::Stats:
        return "Stats";
    case MessageType::TextError:
        return "TextError";
    case MessageType::Error:
        return "Error";
    case MessageType::Log:
        return "Log";
    case MessageType::HostOwners:
        return "HostOwners";
    case MessageType::ClockProbe:
        return "ClockProbe";
    case MessageType::ClockReply:
        return "ClockReply";
    }
    return "unknown(" + std::to_string(type) + ")";
}

std::vector<std::uint8_t> encodeFrame(MessageType type, std::span<const std::uint8_t> payload)
{
    std::vector<std::uint8_t> out;
    if (payload.size() > kMaxPayload)
        return out; // callers never build such payloads; refusing beats sending a poison frame
    out.reserve(kHeaderSize + payload.size());
    ByteWriter w(out);
    w.u32(static_cast<std::uint32_t>(payload.size()));
    w.u16(static_cast<std::uint16_t>(type));
    w.u16(0);
    w.bytes(payload.data(), payload.size());
    return out;
}

std::vector<std::uint8_t> encodeHello(const Hello &hello)
{
    std::vector<std::uint8_t> p;
    ByteWriter w(p);
    w.bytes(kMagic, sizeof kMagic);
    w.u16(hello.protocolVersion);
    w.u16(hello.recordVersion);
    w.u64(hello.monotonicNs);
    w.u64(hello.realtimeNs);
    w.string(hello.kernelRelease, kMaxString);
    w.string(hello.hostname, kMaxString);
    const std::size_t n = hello.probes.size() < kMaxProbes ? hello.probes.size() : kMaxProbes;
    w.u16(static_cast<std::uint16_t>(n));
    for (std::size_t i = 0; i < n; ++i) {
        w.string(hello.probes[i].name, kMaxString);
        w.string(hello.probes[i].status, kMaxString);
        w.string(hello.probes[i].detail, kMaxString);
    }
    return encodeFrame(MessageType::Hello, p);
}

std::optional<Hello> decodeHello(std::span<const std::uint8_t> payload, std::string &error)
{
    ByteReader r(payload);
    char magic[sizeof kMagic] = {};
    if (r.bytes(magic, sizeof magic) && std::memcmp(magic, kMagic, sizeof kMagic) != 0) {
        error = "Hello: bad magic (not a tcpscope helper)";
        return std::nullopt;
    }
    if (std::string refusal = checkPeerVersions(payload, Peer::Helper); !refusal.empty()) {
        error = std::move(refusal);
        return std::nullopt;
    }
    Hello h;
    h.protocolVersion = r.u16();
    h.recordVersion = r.u16();
    h.monotonicNs = r.u64();
    h.realtimeNs = r.u64();
    h.kernelRelease = r.string(kMaxString, "kernel release");
    h.hostname = r.string(kMaxString, "hostname");
    const std::uint16_t n = r.u16();
    if (r.ok() && n > kMaxProbes) {
        error = "Hello: probe count " + std::to_string(n) + " exceeds limit " +
                std::to_string(kMaxProbes);
        return std::nullopt;
    }
    for (std::uint16_t i = 0; r.ok() && i < n; ++i) {
        ProbeReport pr;
        pr.name = r.string(kMaxString, "probe name");
        pr.status = r.string(kMaxString, "probe status");
        pr.detail = r.string(kMaxString, "probe detail");
        h.probes.push_back(std::move(pr));
    }
    if (!finish(r, "Hello", error))
        return std::nullopt;
    return h;
}

std::vector<std::uint8_t> encodeStart(const StartOptions &options)
{
    // The app's half of the handshake: the helper checks it speaks the same protocol too.
    // Lists longer than their limits are cut here; decodeStart() on the other side would refuse
    // them, and the app validates before it ever gets here (capture_options.cpp).
    std::vector<std::uint8_t> p;
    ByteWriter w(p);
    w.bytes(kMagic, sizeof kMagic);
    w.u16(kProtocolVersion);
    w.u16(TS_RECORD_VERSION);
    w.u32(options.flags);
    w.u16(options.snapLen);
    const std::size_t nPorts = std::min(options.ports.size(), kMaxFilterPorts);
    w.u16(static_cast<std::uint16_t>(nPorts));
    for (std::size_t i = 0; i < nPorts; ++i)
        w.u16(options.ports[i]);
    const std::size_t nNets = std::min(options.nets.size(), kMaxFilterNets);
    w.u16(static_cast<std::uint16_t>(nNets));
    for (std::size_t i = 0; i < nNets; ++i) {
        const std::uint8_t head[2] = {options.nets[i].family, options.nets[i].prefixLen};
        w.bytes(head, 2);
        w.bytes(options.nets[i].addr.data(), options.nets[i].addr.size());
    }
    const std::size_t nIfaces = std::min(options.interfaces.size(), kMaxFilterInterfaces);
    w.u16(static_cast<std::uint16_t>(nIfaces));
    for (std::size_t i = 0; i < nIfaces; ++i)
        w.string(options.interfaces[i], kMaxInterfaceName);
    w.u32(options.sampleIntervalUs);
    w.u32(options.maxStallMs);
    const std::size_t nCgroups = std::min(options.cgroupIds.size(), kMaxFilterCgroups);
    w.u16(static_cast<std::uint16_t>(nCgroups));
    for (std::size_t i = 0; i < nCgroups; ++i)
        w.u64(options.cgroupIds[i]);
    const std::size_t nNetns = std::min(options.netnsInodes.size(), kMaxFilterNetns);
    w.u16(static_cast<std::uint16_t>(nNetns));
    for (std::size_t i = 0; i < nNetns; ++i)
        w.u32(options.netnsInodes[i]);
    const std::size_t nPids = std::min(options.pids.size(), kMaxFilterPids);
    w.u16(static_cast<std::uint16_t>(nPids));
    for (std::size_t i = 0; i < nPids; ++i)
        w.u32(options.pids[i]);
    const std::size_t nComms = std::min(options.comms.size(), kMaxFilterComms);
    w.u16(static_cast<std::uint16_t>(nComms));
    for (std::size_t i = 0; i < nComms; ++i)
        w.string(options.comms[i], kMaxCommName);
    return encodeFrame(MessageType::Start, p);
}

namespace {

// Empty string when the net is well formed, else why not.
std::string checkNet(const NetFilter &net)
{
    if (net.family != 4 && net.family != 6)
        return "address family " + std::to_string(net.family) + " (expected 4 or 6)";
    const unsigned maxPrefix = net.family == 4 ? 32 : 128;
    if (net.prefixLen > maxPrefix)
        return "prefix length " + std::to_string(net.prefixLen) + " exceeds " +
               std::to_string(maxPrefix);
    const unsigned addrBits = maxPrefix;
    for (unsigned bit = net.prefixLen; bit < 128; ++bit) {
        const bool set = (net.addr[bit / 8] >> (7 - bit % 8)) & 1u;
        if (set)
            return bit < addrBits ? "address bits set beyond the prefix length"
                                  : "IPv4 address with bytes beyond the first 4";
    }
    return {};
}

bool validCommName(const std::string &name)
{
    if (name.empty() || name.size() > kMaxCommName)
        return false;
    for (char c : name)
        if (c == '\0')
            return false;
    return true;
}

bool validInterfaceName(const std::string &name)
{
    if (name.empty() || name.size() > kMaxInterfaceName || name == "." || name == "..")
        return false;
    for (unsigned char c : name)
        if (c <= 0x20 || c >= 0x7f || c == '/' || c == ':')
            return false;
    return true;
}

} // namespace

std::optional<StartOptions> decodeStart(std::span<const std::uint8_t> payload, std::string &error,
                                        ErrorMessage *refusal)
{
    ErrorMessage scratch;
    ErrorMessage &why = refusal ? *refusal : scratch;
    why = {};
    ByteReader r(payload);
    char magic[sizeof kMagic] = {};
    if (r.bytes(magic, sizeof magic) && std::memcmp(magic, kMagic, sizeof kMagic) != 0) {
        error = "Start: bad magic (not a tcpscope client)";
        why = {ErrorCode::Protocol, "the client is not tcpscope", "Start has another magic", {}};
        return std::nullopt;
    }
    if (std::string mismatch = checkPeerVersions(payload, Peer::App); !mismatch.empty()) {
        error = std::move(mismatch);
        why.primary = error; // stays Unspecified: answered with a TextError
        return std::nullopt;
    }
    r.u16(); // versions, checked above
    r.u16();
    StartOptions o;
    o.flags = r.u32();
    o.snapLen = r.u16();
    auto fail = [&error, &why](const std::string &text, ErrorCode code = ErrorCode::BadStart,
                               std::optional<FilterPosition> at = {}) {
        error = "Start: " + text;
        why = {code, "the capture options are invalid", text, at};
        if (code == ErrorCode::BadFilter)
            why.primary = "the capture filter is invalid";
        return std::nullopt;
    };
    if (r.ok() && (o.flags & ~StartOptions::kKnownFlags))
        return fail("unsupported option flags " + std::to_string(o.flags));
    if (r.ok() && (o.flags & StartOptions::kPayload) && !(o.flags & StartOptions::kPackets))
        return fail("payload snapshots requested without packet capture");
    if (r.ok() && (o.flags & StartOptions::kPayload) && (o.snapLen < 1 || o.snapLen > TS_SNAP_MAX))
        return fail("snapshot length " + std::to_string(o.snapLen) + " outside 1.." +
                    std::to_string(TS_SNAP_MAX));
    if (r.ok() && !(o.flags & StartOptions::kPayload) && o.snapLen != 0)
        return fail("snapshot length " + std::to_string(o.snapLen) + " without payload flag");
    const std::uint16_t nPorts = r.u16();
    if (r.ok() && nPorts > kMaxFilterPorts)
        return fail(std::to_string(nPorts) + " filter ports exceed limit " +
                        std::to_string(kMaxFilterPorts),
                    ErrorCode::BadFilter, FilterPosition{FilterPosition::List::Ports, 0});
    for (std::uint16_t i = 0; r.ok() && i < nPorts; ++i)
        o.ports.push_back(r.u16());
    const std::uint16_t nNets = r.u16();
    if (r.ok() && nNets > kMaxFilterNets)
        return fail(std::to_string(nNets) + " filter networks exceed limit " +
                        std::to_string(kMaxFilterNets),
                    ErrorCode::BadFilter, FilterPosition{FilterPosition::List::Nets, 0});
    for (std::uint16_t i = 0; r.ok() && i < nNets; ++i) {
        NetFilter net;
        std::uint8_t head[2] = {};
        r.bytes(head, 2);
        r.bytes(net.addr.data(), net.addr.size());
        net.family = head[0];
        net.prefixLen = head[1];
        if (!r.ok())
            break;
        if (const std::string bad = checkNet(net); !bad.empty())
            return fail("filter network " + std::to_string(i) + ": " + bad, ErrorCode::BadFilter,
                        FilterPosition{FilterPosition::List::Nets, i});
        o.nets.push_back(net);
    }
    const std::uint16_t nIfaces = r.u16();
    if (r.ok() && nIfaces > kMaxFilterInterfaces)
        return fail(std::to_string(nIfaces) + " filter interfaces exceed limit " +
                        std::to_string(kMaxFilterInterfaces),
                    ErrorCode::BadFilter, FilterPosition{FilterPosition::List::Interfaces, 0});
    for (std::uint16_t i = 0; r.ok() && i < nIfaces; ++i) {
        std::string name = r.string(kMaxInterfaceName, "interface name");
        if (r.ok() && !validInterfaceName(name))
            return fail("invalid interface name in filter", ErrorCode::BadFilter,
                        FilterPosition{FilterPosition::List::Interfaces, i});
        o.interfaces.push_back(std::move(name));
    }
    o.sampleIntervalUs = r.u32();
    if (r.ok() && o.sampleIntervalUs > StartOptions::kMaxSampleIntervalUs)
        return fail("sample interval " + std::to_string(o.sampleIntervalUs) + " us exceeds " +
                    std::to_string(StartOptions::kMaxSampleIntervalUs));
    o.maxStallMs = r.u32();
    if (r.ok() && (o.maxStallMs < 1 || o.maxStallMs > StartOptions::kMaxStallMs))
        return fail("maximum stall " + std::to_string(o.maxStallMs) + " ms outside 1.." +
                    std::to_string(StartOptions::kMaxStallMs));
    // Owner terms: a count beyond its limit or a zero id is a bad filter at that entry.
    const auto countOf = [&](std::size_t limit, FilterPosition::List list, const char *what,
                             bool &bad) {
        const std::uint16_t n = r.u16();
        bad = r.ok() && n > limit;
        if (bad)
            fail(std::to_string(n) + " filter " + what + " exceed limit " + std::to_string(limit),
                 ErrorCode::BadFilter, FilterPosition{list, 0});
        return n;
    };
    bool bad = false;
    const std::uint16_t nCgroups =
        countOf(kMaxFilterCgroups, FilterPosition::List::Cgroups, "cgroups", bad);
    if (bad)
        return std::nullopt;
    for (std::uint16_t i = 0; r.ok() && i < nCgroups; ++i) {
        const std::uint64_t id = r.u64();
        if (r.ok() && id == 0)
            return fail("filter cgroup " + std::to_string(i) + ": id 0", ErrorCode::BadFilter,
                        FilterPosition{FilterPosition::List::Cgroups, i});
        o.cgroupIds.push_back(id);
    }
    const std::uint16_t nNetns =
        countOf(kMaxFilterNetns, FilterPosition::List::Netns, "network namespaces", bad);
    if (bad)
        return std::nullopt;
    for (std::uint16_t i = 0; r.ok() && i < nNetns; ++i) {
        const std::uint32_t inode = r.u32();
        if (r.ok() && inode == 0)
            return fail("filter network namespace " + std::to_string(i) + ": inode 0",
                        ErrorCode::BadFilter, FilterPosition{FilterPosition::List::Netns, i});
        o.netnsInodes.push_back(inode);
    }
    const std::uint16_t nPids = countOf(kMaxFilterPids, FilterPosition::List::Pids, "pids", bad);
    if (bad)
        return std::nullopt;
    for (std::uint16_t i = 0; r.ok() && i < nPids; ++i) {
        const std::uint32_t pid = r.u32();
        if (r.ok() && pid == 0)
            return fail("filter pid " + std::to_string(i) + ": pid 0", ErrorCode::BadFilter,
                        FilterPosition{FilterPosition::List::Pids, i});
        o.pids.push_back(pid);
    }
    const std::uint16_t nComms =
        countOf(kMaxFilterComms, FilterPosition::List::Comms, "process names", bad);
    if (bad)
        return std::nullopt;
    for (std::uint16_t i = 0; r.ok() && i < nComms; ++i) {
        std::string name = r.string(kMaxCommName, "process name");
        if (r.ok() && !validCommName(name))
            return fail("invalid process name in filter", ErrorCode::BadFilter,
                        FilterPosition{FilterPosition::List::Comms, i});
        o.comms.push_back(std::move(name));
    }
    if (!finish(r, "Start", error)) {
        why = {ErrorCode::Protocol, "malformed Start from the client", error, {}};
        return std::nullopt;
    }
    return o;
}

std::vector<std::uint8_t> encodeStop()
{
    return encodeFrame(MessageType::Stop, {});
}

bool decodeStop(std::span<const std::uint8_t> payload, std::string &error)
{
    if (!payload.empty()) {
        error = "Stop: unexpected " + std::to_string(payload.size()) + " payload bytes";
        return false;
    }
    return true;
}

std::vector<std::uint8_t> encodeStats(const Stats &stats)
{
    std::vector<std::uint8_t> p;
    ByteWriter w(p);
    w.u64(stats.monotonicNs);
    w.u64(stats.recordsSent);
    w.u64(stats.missedRuns);
    for (const auto *counters : {&stats.lostPerCpu, &stats.packetLostPerCpu}) {
        const std::size_t n = std::min(counters->size(), kMaxCpus);
        w.u32(static_cast<std::uint32_t>(n));
        for (std::size_t i = 0; i < n; ++i)
            w.u64((*counters)[i]);
    }
    w.u64(stats.packetsFiltered);
    w.u64(stats.readerDropped);
    return encodeFrame(MessageType::Stats, p);
}

namespace {

bool readCounters(ByteReader &r, std::vector<std::uint64_t> &out, const char *what,
                  std::string &error)
{
    const std::uint32_t n = r.u32();
    if (r.ok() && n > kMaxCpus) {
        error = std::string("Stats: ") + what + " CPU count " + std::to_string(n) +
                " exceeds limit " + std::to_string(kMaxCpus);
        return false;
    }
    if (r.ok() && r.remaining() < std::size_t(n) * 8) {
        error = std::string("Stats: ") + what + " needs " + std::to_string(n * 8ull) +
                " bytes, payload has " + std::to_string(r.remaining());
        return false;
    }
    out.reserve(r.ok() ? n : 0);
    for (std::uint32_t i = 0; r.ok() && i < n; ++i)
        out.push_back(r.u64());
    return true;
}

} // namespace

std::optional<Stats> decodeStats(std::span<const std::uint8_t> payload, std::string &error)
{
    ByteReader r(payload);
    Stats s;
    s.monotonicNs = r.u64();
    s.recordsSent = r.u64();
    s.missedRuns = r.u64();
    if (!readCounters(r, s.lostPerCpu, "lifecycle loss", error) ||
        !readCounters(r, s.packetLostPerCpu, "packet loss", error))
        return std::nullopt;
    s.packetsFiltered = r.u64();
    s.readerDropped = r.u64();
    if (!finish(r, "Stats", error))
        return std::nullopt;
    return s;
}

std::string errorCodeName(ErrorCode code)
{
    switch (code) {
    case ErrorCode::Unspecified:
        return "Unspecified";
    case ErrorCode::Limits:
        return "Limits";
    case ErrorCode::Permission:
        return "Permission";
    case ErrorCode::KernelUnsupported:
        return "KernelUnsupported";
    case ErrorCode::Protocol:
        return "Protocol";
    case ErrorCode::BadStart:
        return "BadStart";
    case ErrorCode::BadFilter:
        return "BadFilter";
    case ErrorCode::PacketsUnavailable:
        return "PacketsUnavailable";
    case ErrorCode::TcpInfoUnavailable:
        return "TcpInfoUnavailable";
    case ErrorCode::PeerStalled:
        return "PeerStalled";
    case ErrorCode::Internal:
        return "Internal";
    }
    return "unknown(" + std::to_string(static_cast<std::uint16_t>(code)) + ")";
}

std::string ErrorMessage::text() const
{
    return secondary.empty() ? primary : primary + " (" + secondary + ")";
}

std::string checkPeerVersions(std::span<const std::uint8_t> payload, Peer peer)
{
    ByteReader r(payload);
    char magic[sizeof kMagic] = {};
    r.bytes(magic, sizeof magic);
    const std::uint16_t protocol = r.u16();
    const std::uint16_t records = r.u16();
    if (!r.ok() || std::memcmp(magic, kMagic, sizeof kMagic) != 0)
        return {};
    const char *const them = peer == Peer::Helper ? "tcpscope-helper" : "tcpscope";
    const char *const us = peer == Peer::Helper ? "tcpscope" : "tcpscope-helper";
    const char *const advice = ": install matching versions of tcpscope and tcpscope-helper";
    if (protocol != kProtocolVersion)
        return std::string(them) + " speaks protocol " + std::to_string(protocol) + ", this " + us +
               " needs " + std::to_string(kProtocolVersion) + advice;
    if (records != TS_RECORD_VERSION)
        return std::string(them) + " uses record version " + std::to_string(records) + ", this " +
               us + " needs " + std::to_string(TS_RECORD_VERSION) + advice;
    return {};
}

std::vector<std::uint8_t> encodeError(const ErrorMessage &error)
{
    std::vector<std::uint8_t> p;
    ByteWriter w(p);
    w.u16(static_cast<std::uint16_t>(error.code));
    // An empty primary would be refused by the peer; the code's name is better than nothing.
    w.string(error.primary.empty() ? errorCodeName(error.code) : error.primary, kMaxString);
    w.string(error.secondary, kMaxString);
    const std::uint8_t list =
        error.filterPosition ? static_cast<std::uint8_t>(error.filterPosition->list) : 0;
    w.bytes(&list, 1);
    w.u16(error.filterPosition ? error.filterPosition->index : 0);
    return encodeFrame(MessageType::Error, p);
}

std::optional<ErrorMessage> decodeError(std::span<const std::uint8_t> payload, std::string &error)
{
    ByteReader r(payload);
    ErrorMessage m;
    m.code = static_cast<ErrorCode>(r.u16()); // unknown values are kept (see ErrorMessage)
    m.primary = r.string(kMaxString, "error text");
    m.secondary = r.string(kMaxString, "error detail");
    std::uint8_t list = 0;
    r.bytes(&list, 1);
    const std::uint16_t index = r.u16();
    if (!finish(r, "Error", error))
        return std::nullopt;
    if (m.primary.empty()) {
        error = "Error: empty text";
        return std::nullopt;
    }
    std::size_t limit = 0;
    switch (static_cast<FilterPosition::List>(list)) {
    case FilterPosition::List::Ports:
        limit = kMaxFilterPorts;
        break;
    case FilterPosition::List::Nets:
        limit = kMaxFilterNets;
        break;
    case FilterPosition::List::Interfaces:
        limit = kMaxFilterInterfaces;
        break;
    case FilterPosition::List::Cgroups:
        limit = kMaxFilterCgroups;
        break;
    case FilterPosition::List::Netns:
        limit = kMaxFilterNetns;
        break;
    case FilterPosition::List::Pids:
        limit = kMaxFilterPids;
        break;
    case FilterPosition::List::Comms:
        limit = kMaxFilterComms;
        break;
    }
    if (list == 0 && index != 0) {
        error = "Error: filter index " + std::to_string(index) + " without a filter list";
        return std::nullopt;
    }
    if (list != 0 && limit == 0) {
        error = "Error: unknown filter list " + std::to_string(list);
        return std::nullopt;
    }
    if (list != 0 && index >= limit) {
        error = "Error: filter index " + std::to_string(index) + " beyond the list's limit " +
                std::to_string(limit);
        return std::nullopt;
    }
    if (list != 0)
        m.filterPosition = FilterPosition{static_cast<FilterPosition::List>(list), index};
    return m;
}

std::vector<std::uint8_t> encodeTextError(const std::string &text)
{
    std::vector<std::uint8_t> p;
    ByteWriter(p).string(text, kMaxString);
    return encodeFrame(MessageType::TextError, p);
}

std::optional<std::string> decodeTextError(std::span<const std::uint8_t> payload,
                                           std::string &error)
{
    ByteReader r(payload);
    std::string text = r.string(kMaxString, "error text");
    if (!finish(r, "TextError", error))
        return std::nullopt;
    return text;
}

std::vector<std::uint8_t> encodeLog(const LogMessage &log)
{
    std::vector<std::uint8_t> p;
    ByteWriter w(p);
    const std::uint8_t level = static_cast<std::uint8_t>(log.level);
    w.bytes(&level, 1);
    w.string(log.text.empty() ? std::string("(no text)") : log.text, kMaxString);
    return encodeFrame(MessageType::Log, p);
}

std::vector<std::uint8_t> encodeClockProbe(std::uint64_t id)
{
    std::vector<std::uint8_t> p;
    ByteWriter w(p);
    w.u64(id);
    return encodeFrame(MessageType::ClockProbe, p);
}

std::optional<std::uint64_t> decodeClockProbe(std::span<const std::uint8_t> payload,
                                              std::string &error)
{
    ByteReader r(payload);
    const std::uint64_t id = r.u64();
    if (!finish(r, "ClockProbe", error))
        return std::nullopt;
    return id;
}

std::vector<std::uint8_t> encodeClockReply(const ClockReply &reply)
{
    std::vector<std::uint8_t> p;
    ByteWriter w(p);
    w.u64(reply.id);
    w.u64(reply.realtimeNs);
    w.u64(reply.monotonicNs);
    return encodeFrame(MessageType::ClockReply, p);
}

std::optional<ClockReply> decodeClockReply(std::span<const std::uint8_t> payload,
                                           std::string &error)
{
    ByteReader r(payload);
    ClockReply c;
    c.id = r.u64();
    c.realtimeNs = r.u64();
    c.monotonicNs = r.u64();
    if (!finish(r, "ClockReply", error))
        return std::nullopt;
    return c;
}

std::optional<LogMessage> decodeLog(std::span<const std::uint8_t> payload, std::string &error)
{
    ByteReader r(payload);
    std::uint8_t level = 0;
    r.bytes(&level, 1);
    LogMessage m;
    m.text = r.string(kMaxString, "log text");
    if (!finish(r, "Log", error))
        return std::nullopt;
    if (level != static_cast<std::uint8_t>(LogMessage::Level::Info) &&
        level != static_cast<std::uint8_t>(LogMessage::Level::Warning)) {
        error = "Log: unknown level " + std::to_string(level);
        return std::nullopt;
    }
    if (m.text.empty()) {
        error = "Log: empty text";
        return std::nullopt;
    }
    m.level = static_cast<LogMessage::Level>(level);
    return m;
}

namespace {

constexpr std::size_t kMaxNetnsName = 255; // NAME_MAX

bool validCgroupPath(const std::string &path)
{
    if (path.empty() || path.front() != '/' || path.find('\0') != std::string::npos)
        return false;
    if (path == "/")
        return true;
    // No empty components ("//", a trailing '/'), no "." or "..".
    std::size_t start = 1;
    for (;;) {
        const std::size_t slash = path.find('/', start);
        const std::string part =
            path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
        if (part.empty() || part == "." || part == "..")
            return false;
        if (slash == std::string::npos)
            return true;
        start = slash + 1;
    }
}

bool validNetnsName(const std::string &name)
{
    return !name.empty() && name.size() <= kMaxNetnsName && name != "." && name != ".." &&
           name.find('/') == std::string::npos && name.find('\0') == std::string::npos;
}

} // namespace

std::vector<std::uint8_t> encodeHostOwners(const HostOwners &owners)
{
    std::vector<std::uint8_t> p;
    ByteWriter w(p);
    std::uint8_t flags = owners.flags & (HostOwners::kCgroupsTruncated | HostOwners::kNoCgroup2);
    w.bytes(&flags, 1); // rewritten below if entries are left out
    // What the netns part needs at most, kept free while the cgroups fill the frame.
    std::size_t netnsBytes = 4;
    const std::size_t nNetns = std::min(owners.netns.size(), kMaxReportNetns);
    for (std::size_t i = 0; i < nNetns; ++i)
        netnsBytes += 8 + std::min(owners.netns[i].name.size(), kMaxNetnsName);
    std::size_t nCgroups = std::min(owners.cgroups.size(), kMaxReportCgroups);
    if (owners.cgroups.size() > nCgroups)
        flags |= HostOwners::kCgroupsTruncated;
    std::size_t size = 1 + 4 + netnsBytes;
    for (std::size_t i = 0; i < nCgroups; ++i) {
        const std::size_t entry = 8 + 4 + owners.cgroups[i].path.size();
        if (owners.cgroups[i].path.size() > kMaxString || size + entry > kMaxPayload) {
            nCgroups = i;
            flags |= HostOwners::kCgroupsTruncated;
            break;
        }
        size += entry;
    }
    w.u32(static_cast<std::uint32_t>(nCgroups));
    for (std::size_t i = 0; i < nCgroups; ++i) {
        w.u64(owners.cgroups[i].id);
        w.string(owners.cgroups[i].path, kMaxString);
    }
    w.u32(static_cast<std::uint32_t>(nNetns));
    for (std::size_t i = 0; i < nNetns; ++i) {
        w.u32(owners.netns[i].inode);
        w.string(owners.netns[i].name, kMaxNetnsName);
    }
    p[0] = flags;
    return encodeFrame(MessageType::HostOwners, p);
}

std::optional<HostOwners> decodeHostOwners(std::span<const std::uint8_t> payload,
                                           std::string &error)
{
    ByteReader r(payload);
    HostOwners o;
    r.bytes(&o.flags, 1);
    if (r.ok() && (o.flags & ~(HostOwners::kCgroupsTruncated | HostOwners::kNoCgroup2))) {
        error = "HostOwners: unknown flags " + std::to_string(o.flags);
        return std::nullopt;
    }
    const std::uint32_t nCgroups = r.u32();
    // Each entry takes at least 12 bytes: a count beyond what the payload holds is malformed
    // before anything is allocated for it.
    if (r.ok() && (nCgroups > kMaxReportCgroups || std::size_t(nCgroups) * 12 > r.remaining())) {
        error = "HostOwners: cgroup count " + std::to_string(nCgroups) + " exceeds limit " +
                std::to_string(kMaxReportCgroups) + " or the payload";
        return std::nullopt;
    }
    for (std::uint32_t i = 0; r.ok() && i < nCgroups; ++i) {
        HostOwners::Cgroup c;
        c.id = r.u64();
        c.path = r.string(kMaxString, "cgroup path");
        if (!r.ok())
            break;
        if (c.id == 0 || !validCgroupPath(c.path)) {
            error = "HostOwners: cgroup " + std::to_string(i) +
                    (c.id == 0 ? " has id 0" : " has an invalid path");
            return std::nullopt;
        }
        o.cgroups.push_back(std::move(c));
    }
    const std::uint32_t nNetns = r.u32();
    if (r.ok() && (nNetns > kMaxReportNetns || std::size_t(nNetns) * 8 > r.remaining())) {
        error = "HostOwners: network namespace count " + std::to_string(nNetns) +
                " exceeds limit " + std::to_string(kMaxReportNetns) + " or the payload";
        return std::nullopt;
    }
    for (std::uint32_t i = 0; r.ok() && i < nNetns; ++i) {
        HostOwners::Netns n;
        n.inode = r.u32();
        n.name = r.string(kMaxNetnsName, "netns name");
        if (!r.ok())
            break;
        if (n.inode == 0 || !validNetnsName(n.name)) {
            error = "HostOwners: network namespace " + std::to_string(i) +
                    (n.inode == 0 ? " has inode 0" : " has an invalid name");
            return std::nullopt;
        }
        o.netns.push_back(std::move(n));
    }
    if (!finish(r, "HostOwners", error))
        return std::nullopt;
    return o;
}

} // namespace tcpscope::wire
