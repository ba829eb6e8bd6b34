// SPDX-License-Identifier: GPL-3.0-or-later
// forEachRecord(): included at the end of wire.h because it is a template. Records inside a
// Records payload are the ring-buffer samples exactly as the BPF programs wrote them (host byte
// order, which the Hello handshake implies: helper and app run on the same host). The header
// fields that decide how to walk the buffer are read explicitly as little endian with memcpy,
// so a corrupt or hostile buffer can never make us read out of bounds or misaligned.
#pragma once

#include <cstring>

namespace tcpscope::wire {

namespace detail {
inline std::uint16_t loadLe16(const std::uint8_t *p)
{
    return static_cast<std::uint16_t>(p[0] | (p[1] << 8));
}
} // namespace detail

template <typename Fn>
bool forEachRecord(std::span<const std::uint8_t> payload, Fn &&fn, std::string &error,
                   std::size_t *skippedUnknown)
{
    std::size_t offset = 0;
    std::size_t index = 0;
    while (offset < payload.size()) {
        const std::size_t remaining = payload.size() - offset;
        const std::uint8_t *p = payload.data() + offset;
        if (remaining < sizeof(ts_record_header)) {
            error = "record " + std::to_string(index) + ": " + std::to_string(remaining) +
                    " trailing bytes, shorter than a record header";
            return false;
        }
        const std::uint16_t type = detail::loadLe16(p);
        const std::uint16_t size = detail::loadLe16(p + 2);
        if (size < sizeof(ts_record_header)) {
            error = "record " + std::to_string(index) + ": size " + std::to_string(size) +
                    " is smaller than the record header";
            return false;
        }
        if (size > remaining) {
            error = "record " + std::to_string(index) + ": size " + std::to_string(size) +
                    " exceeds the " + std::to_string(remaining) + " remaining bytes";
            return false;
        }
        std::size_t expected = 0;
        switch (type) {
        case TS_REC_STATE_CHANGE:
            expected = sizeof(ts_state_change);
            break;
        case TS_REC_CLOSE_STATS:
            expected = sizeof(ts_close_stats);
            break;
        case TS_REC_PACKET:
            expected = sizeof(ts_packet);
            break;
        case TS_REC_PACKET_SNAP:
            expected = sizeof(ts_packet_snap);
            break;
        case TS_REC_INTERFACE:
            expected = sizeof(ts_interface);
            break;
        case TS_REC_TCP_SAMPLE:
            expected = sizeof(ts_tcp_sample);
            break;
        case TS_REC_TCP_EVENT:
            expected = sizeof(ts_tcp_event);
            break;
        case TS_REC_DROP:
            expected = sizeof(ts_drop);
            break;
        case TS_REC_LISTENER:
            expected = sizeof(ts_listener_sample);
            break;
        case TS_REC_REASON_NAME:
            expected = sizeof(ts_reason_name);
            break;
        default:
            break;
        }
        if (expected == 0) {
            // Unknown type from a newer kernel side: skip it, the size field is trustworthy
            // enough to stay in bounds (checked above).
            if (skippedUnknown)
                ++*skippedUnknown;
        } else if (size != expected) {
            error = "record " + std::to_string(index) + ": type " + std::to_string(type) +
                    " has size " + std::to_string(size) + ", expected " + std::to_string(expected);
            return false;
        } else {
            Record record;
            record.type = type;
            // expected == sizeof the union member of this type; the union starts at the header.
            static_assert(sizeof(ts_packet_snap) >= sizeof(ts_state_change) &&
                          sizeof(ts_packet_snap) >= sizeof(ts_tcp_sample) &&
                          sizeof(ts_packet_snap) >= sizeof(ts_tcp_event) &&
                          sizeof(ts_packet_snap) >= sizeof(ts_drop) &&
                          sizeof(ts_packet_snap) >= sizeof(ts_listener_sample) &&
                          sizeof(ts_packet_snap) >= sizeof(ts_reason_name));
            std::memcpy(&record.packetSnap, p, expected); // largest member: no bounds warning
            fn(static_cast<const Record &>(record));
        }
        offset += size;
        ++index;
    }
    return true;
}

} // namespace tcpscope::wire
