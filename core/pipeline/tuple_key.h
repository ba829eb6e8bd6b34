// SPDX-License-Identifier: GPL-3.0-or-later
// The key the joiners index connections and waiting records by: a socket's local and remote
// end (family, addresses in network order, IPv4 in the first 4 bytes and the rest zero),
// or a listening port. A typed value with a hash, so a key cannot be misread at a wrong offset.
#pragma once

#include "model/address.h"

#include <QHashFunctions>
#include <QtGlobal>

#include <array>
#include <compare>
#include <cstring>
#include <tuple>
#include <utility>

namespace tcpscope {

struct TupleKey
{
    enum class Kind : quint8
    {
        None,     // no key (e.g. a record without ports): nothing to index or wait for
        Tuple,    // local/remote ends of one socket
        Listener, // a listening port (family + localPort)
    };
    Kind kind = Kind::None;
    AddressFamily family = AddressFamily::None;
    quint16 localPort = 0;
    quint16 remotePort = 0;
    std::array<quint8, 16> local{};
    std::array<quint8, 16> remote{};

    bool isNull() const { return kind == Kind::None; }
    bool operator==(const TupleKey &) const = default;
    // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 flags the 0 a defaulted <=> compares to
    auto operator<=>(const TupleKey &) const = default;

    // A dual-stack IPv6 socket talking to a v4-mapped peer is keyed as IPv4 (its packets are
    // IPv4 on the wire). For IPv4 only the first 4 address bytes count: a BPF program writing
    // 4 bytes into a ring buffer slot leaves whatever was there in the rest.
    static TupleKey tuple(const IpAddress &local, quint16 localPort, const IpAddress &remote,
                          quint16 remotePort)
    {
        return tuple(local.family(), local.data(), localPort, remote.data(), remotePort);
    }
    static TupleKey tuple(AddressFamily family, const quint8 *local, quint16 localPort,
                          const quint8 *remote, quint16 remotePort)
    {
        TupleKey k;
        k.kind = Kind::Tuple;
        k.localPort = localPort;
        k.remotePort = remotePort;
        if (family == AddressFamily::IPv6 && isV4Mapped(local) && isV4Mapped(remote)) {
            k.family = AddressFamily::IPv4;
            std::memcpy(k.local.data(), local + 12, 4);
            std::memcpy(k.remote.data(), remote + 12, 4);
        } else if (family != AddressFamily::IPv6) {
            k.family = AddressFamily::IPv4;
            std::memcpy(k.local.data(), local, 4);
            std::memcpy(k.remote.data(), remote, 4);
        } else {
            k.family = AddressFamily::IPv6;
            std::memcpy(k.local.data(), local, 16);
            std::memcpy(k.remote.data(), remote, 16);
        }
        return k;
    }
    static TupleKey listener(AddressFamily family, quint16 port)
    {
        TupleKey k;
        k.kind = Kind::Listener;
        k.family = family;
        k.localPort = port;
        return k;
    }
    // Orientation-free form: both ends sorted, so records waiting for either socket of one
    // connection (on loopback both are local) share a key.
    TupleKey canonical() const
    {
        if (kind != Kind::Tuple)
            return *this;
        const auto a = std::tie(local, localPort), b = std::tie(remote, remotePort);
        if (b < a) {
            TupleKey k = *this;
            std::swap(k.local, k.remote);
            std::swap(k.localPort, k.remotePort);
            return k;
        }
        return *this;
    }

private:
    static bool isV4Mapped(const quint8 *a)
    {
        static const quint8 prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        return std::memcmp(a, prefix, sizeof prefix) == 0;
    }
};

inline size_t qHash(const TupleKey &k, size_t seed = 0) noexcept
{
    QtPrivate::QHashCombine hash;
    seed = hash(seed, quint8(k.kind));
    seed = hash(seed, quint8(k.family));
    seed = hash(seed, quint32(k.localPort) << 16 | k.remotePort);
    const size_t size = k.family == AddressFamily::IPv6 ? 16 : 4;
    seed = qHashBits(k.local.data(), size, seed);
    return qHashBits(k.remote.data(), size, seed);
}

} // namespace tcpscope
