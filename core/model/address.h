// SPDX-License-Identifier: GPL-3.0-or-later
// The address family and the IP address type of every component, and their one textual form.
//
// The model (Connection, Packet, DropEvent, ListenerSample), the filter and the exports hold
// addresses as IpAddress; the session file stores them as inet_ntop's text, the family as 4 or 6
// (AddressFamily's values). Kernel records carry AF_INET/AF_INET6: familyFromAf() turns them
// into an AddressFamily where they enter the model, afFromFamily() turns one back only where a
// socket API needs it.
#pragma once

#include <QHashFunctions>
#include <QString>
#include <QStringView>
#include <QtGlobal>

#include <array>
#include <cstring>

namespace tcpscope {

// The values are what the session file stores in its `family` columns.
enum class AddressFamily : quint8
{
    None = 0, // not known (a connection whose addresses were never seen)
    IPv4 = 4,
    IPv6 = 6,
};

// AF_INET6 -> IPv6, anything else -> IPv4.
AddressFamily familyFromAf(int af);
// IPv6 -> AF_INET6, anything else -> AF_INET.
int afFromFamily(AddressFamily family);
// 4 -> IPv4, 6 -> IPv6, 0 -> None; false for any other value (*out is left as it is).
bool familyFromNumber(qint64 number, AddressFamily *out);
// "IPv4", "IPv6", "" for None.
QString familyName(AddressFamily family);

// An IPv4 or IPv6 address in network byte order, or no address (family None). IPv4 uses the
// first 4 bytes; the rest are always zero, so two equal addresses compare and hash equal.
class IpAddress
{
public:
    static constexpr int kMaxBytes = 16;

    IpAddress() = default;
    // The first 4 (IPv4) or 16 (IPv6) bytes at `bytes`; no address for family None.
    IpAddress(AddressFamily family, const quint8 *bytes)
    {
        if (family != AddressFamily::IPv4 && family != AddressFamily::IPv6)
            return;
        m_family = family;
        std::memcpy(m_bytes.data(), bytes, size());
    }
    // The wildcard address (0.0.0.0, ::) of a family.
    static IpAddress any(AddressFamily family)
    {
        const std::array<quint8, kMaxBytes> zero{};
        return IpAddress(family, zero.data());
    }
    // inet_pton's reading of text in the given family, or in either ("1.2.3.4", "::1");
    // no address when it is not one.
    static IpAddress parse(AddressFamily family, QStringView text);
    static IpAddress parse(QStringView text);

    AddressFamily family() const { return m_family; }
    bool isNull() const { return m_family == AddressFamily::None; }
    bool isV6() const { return m_family == AddressFamily::IPv6; }
    // 0.0.0.0 or ::
    bool isAny() const;
    // 4, 16, or 0 for no address.
    int size() const
    {
        return m_family == AddressFamily::IPv6 ? 16 : m_family == AddressFamily::IPv4 ? 4 : 0;
    }
    const quint8 *data() const { return m_bytes.data(); }
    const std::array<quint8, kMaxBytes> &bytes() const { return m_bytes; }

    // inet_ntop's text ("10.0.0.1", "fe80::1"); empty for no address.
    QString toString() const;

    friend bool operator==(const IpAddress &a, const IpAddress &b) = default;
    friend size_t qHash(const IpAddress &a, size_t seed = 0)
    {
        return qHashBits(a.m_bytes.data(), a.m_bytes.size(), qHash(quint8(a.m_family), seed));
    }

private:
    std::array<quint8, kMaxBytes> m_bytes{};
    AddressFamily m_family = AddressFamily::None;
};

// "1.2.3.4:80", "[::1]:80": an address and a port, IPv6 in brackets.
QString endpointText(const IpAddress &addr, quint16 port);
// The same for an address already in text (as IpAddress::toString() gives it).
QString endpointText(const QString &addr, quint16 port);

} // namespace tcpscope
