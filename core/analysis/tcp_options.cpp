// SPDX-License-Identifier: GPL-3.0-or-later
#include "analysis/tcp_options.h"

#include <QStringList>

namespace tcpscope {

namespace {

enum : quint8
{
    kEol = 0,
    kNop = 1,
    kMss = 2,
    kWindowScale = 3,
    kSackPermitted = 4,
    kSack = 5,
    kTimestamps = 8,
};

quint16 be16(const std::uint8_t *p)
{
    return static_cast<quint16>((p[0] << 8) | p[1]);
}

quint32 be32(const std::uint8_t *p)
{
    return (quint32(p[0]) << 24) | (quint32(p[1]) << 16) | (quint32(p[2]) << 8) | quint32(p[3]);
}

QString optionError(quint8 kind, std::size_t offset, const QString &what)
{
    return QStringLiteral("TCP option %1 (kind %2) at offset %3: %4")
        .arg(tcpOptionName(kind))
        .arg(kind)
        .arg(offset)
        .arg(what);
}

// Length a known kind must have; 0 = variable (SACK, unknown kinds).
int fixedLength(quint8 kind)
{
    switch (kind) {
    case kMss:
        return 4;
    case kWindowScale:
        return 3;
    case kSackPermitted:
        return 2;
    case kTimestamps:
        return 10;
    default:
        return 0;
    }
}

} // namespace

TcpOptions parseTcpOptions(const std::uint8_t *data, std::size_t len)
{
    TcpOptions out;
    if (!data)
        len = 0;
    std::size_t off = 0;
    while (off < len) {
        const quint8 kind = data[off];
        if (kind == kEol) {
            // Everything after EOL is padding by definition (RFC 9293 3.1).
            out.all.append(TcpOption{kind, 1, {}});
            break;
        }
        if (kind == kNop) {
            out.all.append(TcpOption{kind, 1, {}});
            ++off;
            continue;
        }
        if (off + 1 >= len) {
            out.error = optionError(kind, off, QStringLiteral("length byte missing"));
            break;
        }
        const quint8 optLen = data[off + 1];
        if (optLen < 2) {
            out.error = optionError(kind, off, QStringLiteral("length %1 < 2").arg(optLen));
            break;
        }
        if (off + optLen > len) {
            out.error = optionError(kind, off,
                                    QStringLiteral("length %1 runs past the end (%2 bytes left)")
                                        .arg(optLen)
                                        .arg(len - off));
            break;
        }
        const int fixed = fixedLength(kind);
        if (fixed != 0 && optLen != fixed) {
            out.error = optionError(
                kind, off, QStringLiteral("length %1, expected %2").arg(optLen).arg(fixed));
            break;
        }
        const std::uint8_t *value = data + off + 2;
        const int valueLen = optLen - 2;
        if (kind == kSack && (valueLen == 0 || valueLen % 8 != 0 || valueLen / 8 > 4)) {
            out.error = optionError(
                kind, off, QStringLiteral("length %1, expected 2 + 8 * (1..4)").arg(optLen));
            break;
        }

        switch (kind) {
        case kMss:
            out.mss = be16(value);
            break;
        case kWindowScale:
            out.windowScale = value[0];
            break;
        case kSackPermitted:
            out.sackPermitted = true;
            break;
        case kSack:
            for (int i = 0; i < valueLen; i += 8)
                out.sackBlocks.append(SackBlock{be32(value + i), be32(value + i + 4)});
            break;
        case kTimestamps:
            out.tsVal = be32(value);
            out.tsEcr = be32(value + 4);
            break;
        default:
            out.unknownKinds.append(kind);
            break;
        }
        out.all.append(
            TcpOption{kind, optLen, QByteArray(reinterpret_cast<const char *>(value), valueLen)});
        off += optLen;
    }
    return out;
}

QString tcpOptionName(quint8 kind)
{
    switch (kind) {
    case kEol:
        return QStringLiteral("EOL");
    case kNop:
        return QStringLiteral("NOP");
    case kMss:
        return QStringLiteral("MSS");
    case kWindowScale:
        return QStringLiteral("Window scale");
    case kSackPermitted:
        return QStringLiteral("SACK permitted");
    case kSack:
        return QStringLiteral("SACK");
    case 6:
        return QStringLiteral("Echo");
    case 7:
        return QStringLiteral("Echo reply");
    case kTimestamps:
        return QStringLiteral("Timestamps");
    case 19:
        return QStringLiteral("MD5 signature");
    case 27:
        return QStringLiteral("Quick-Start");
    case 28:
        return QStringLiteral("User timeout");
    case 29:
        return QStringLiteral("TCP-AO");
    case 30:
        return QStringLiteral("MPTCP");
    case 34:
        return QStringLiteral("TFO");
    case 69:
        return QStringLiteral("TCP-ENO");
    case 172:
        return QStringLiteral("AccECN0");
    case 174:
        return QStringLiteral("AccECN1");
    case 253:
    case 254:
        return QStringLiteral("Experimental");
    default:
        return QStringLiteral("Unknown (kind %1)").arg(kind);
    }
}

QString tcpOptionValueText(const TcpOption &option)
{
    const auto *v = reinterpret_cast<const std::uint8_t *>(option.value.constData());
    const auto n = static_cast<std::size_t>(option.value.size());
    switch (option.kind) {
    case kEol:
    case kNop:
    case kSackPermitted:
        return {};
    case kMss:
        if (n == 2)
            return QString::number(be16(v));
        break;
    case kWindowScale:
        if (n == 1) {
            // The shift as sent; RFC 7323 caps the effective shift at 14.
            const int shift = v[0];
            const QString mult = shift <= 30 ? QString::number(1u << shift) : QStringLiteral("?");
            return QStringLiteral("%1 (x%2)").arg(shift).arg(mult);
        }
        break;
    case kSack:
        if (n >= 8 && n % 8 == 0) {
            QStringList blocks;
            for (std::size_t i = 0; i < n; i += 8)
                blocks << QStringLiteral("%1-%2").arg(be32(v + i)).arg(be32(v + i + 4));
            return blocks.join(QLatin1Char(' '));
        }
        break;
    case kTimestamps:
        if (n == 8)
            return QStringLiteral("TSval %1 TSecr %2").arg(be32(v)).arg(be32(v + 4));
        break;
    case 28:
        if (n == 2) {
            // RFC 5482: G bit = minutes, else seconds.
            const quint16 raw = be16(v);
            return QStringLiteral("%1 %2").arg(raw & 0x7fff).arg(raw & 0x8000 ? "min" : "s");
        }
        break;
    case 34:
        if (n == 0)
            return QStringLiteral("cookie request");
        return QStringLiteral("cookie %1").arg(QString::fromLatin1(option.value.toHex()));
    default:
        break;
    }
    return n == 0 ? QString()
                  : QStringLiteral("0x%1").arg(QString::fromLatin1(option.value.toHex()));
}

} // namespace tcpscope
