// SPDX-License-Identifier: GPL-3.0-or-later
// pcapng writer: blocks are written little-endian (the byte-order magic tells readers), every
// block and option padded to 32 bits. Packets are IP + TCP headers rebuilt from recorded fields,
// because the kernel side never copies packets (see docs/ARCHITECTURE.md, "Headers, not packets").
#include "export/pcapng_writer.h"
#include "output_file.h"

#include "export/table_writer.h"
#include "tcpscope_records.h"

#include <QtEndian>

#include <algorithm>

namespace tcpscope {

namespace {

constexpr quint32 kShbType = 0x0A0D0D0A;
constexpr quint32 kIdbType = 0x00000001;
constexpr quint32 kEpbType = 0x00000006;
constexpr quint32 kByteOrderMagic = 0x1A2B3C4D;
constexpr quint16 kLinktypeRaw = 101; // LINKTYPE_RAW: the packet begins with an IPv4/IPv6 header

constexpr quint16 kOptEnd = 0;
constexpr quint16 kOptComment = 1;
constexpr quint16 kShbHardware = 2;
constexpr quint16 kShbOs = 3;
constexpr quint16 kShbUserAppl = 4;
constexpr quint16 kIfName = 2;
constexpr quint16 kIfDescription = 3;
constexpr quint16 kIfTsresol = 9;
constexpr quint16 kEpbFlags = 2;
constexpr quint16 kEpbProcessIdThreadId = 8;
// opt_custom holding a UTF-8 string (no terminating NUL) that rewriters may copy to a new file:
// everything tcpscope puts there describes the packet or the section alone.
constexpr quint16 kOptCustomStringCopy = 2988;
// The Private Enterprise Number in front of each custom option's data. tcpscope has no PEN of
// its own, so this is the number IANA reserves for documentation and examples (32473), which
// names no real vendor; the "tcpscope." prefix of every value tells tcpscope's options apart
// from anyone else's use of that number. A registered PEN would replace it here alone.
constexpr quint32 kCustomOptionPen = 32473;

// Little-endian block builder; the caller frames it with type and total length.
class Buffer
{
public:
    void u8(quint8 v) { m_bytes.append(char(v)); }
    void u16(quint16 v) { append(qToLittleEndian(v)); }
    void u32(quint32 v) { append(qToLittleEndian(v)); }
    void bytes(const QByteArray &b) { m_bytes.append(b); }
    void pad4()
    {
        while (m_bytes.size() % 4)
            m_bytes.append('\0');
    }
    void option(quint16 code, const QByteArray &value)
    {
        // Option length is 16 bits; nothing we write comes close, but never write a lie.
        const QByteArray v = value.left(0xFFFF);
        u16(code);
        u16(quint16(v.size()));
        bytes(v);
        pad4();
    }
    // A custom option: the PEN (in the section's byte order, as every number here) and data.
    void customOption(quint16 code, const QByteArray &data)
    {
        Buffer v;
        v.u32(kCustomOptionPen);
        v.bytes(data);
        option(code, v.data());
    }
    void endOfOptions()
    {
        u16(kOptEnd);
        u16(0);
    }
    const QByteArray &data() const { return m_bytes; }

private:
    template <typename T> void append(T v)
    {
        m_bytes.append(reinterpret_cast<const char *>(&v), sizeof v);
    }
    QByteArray m_bytes;
};

QByteArray frameBlock(quint32 type, const QByteArray &body)
{
    const quint32 total = quint32(body.size()) + 12;
    Buffer b;
    b.u32(type);
    b.u32(total);
    b.bytes(body);
    b.u32(total);
    return b.data();
}

// Big-endian (network order) writers into a raw header.
void put16(QByteArray &b, int at, quint16 v)
{
    b[at] = char(v >> 8);
    b[at + 1] = char(v & 0xFF);
}
void put32(QByteArray &b, int at, quint32 v)
{
    put16(b, at, quint16(v >> 16));
    put16(b, at + 2, quint16(v & 0xFFFF));
}

quint16 ipv4Checksum(const QByteArray &header)
{
    quint32 sum = 0;
    for (int i = 0; i + 1 < header.size(); i += 2)
        sum += (quint32(quint8(header[i])) << 8) | quint8(header[i + 1]);
    while (sum >> 16)
        sum = (sum & 0xFFFF) + (sum >> 16);
    return quint16(~sum & 0xFFFF);
}

QString parseStatusName(quint8 status)
{
    switch (status) {
    case TS_PARSE_TRUNC_IP:
        return QStringLiteral("IP header truncated");
    case TS_PARSE_BAD_IP:
        return QStringLiteral("bad IP header/total length");
    case TS_PARSE_TRUNC_EXTHDR:
        return QStringLiteral("IPv6 extension header truncated");
    case TS_PARSE_TOO_MANY_EXTHDR:
        return QStringLiteral("too many IPv6 extension headers");
    case TS_PARSE_FRAGMENT:
        return QStringLiteral("non-first IP fragment (no TCP header)");
    case TS_PARSE_TRUNC_TCP:
        return QStringLiteral("TCP header truncated");
    case TS_PARSE_BAD_TCP_HDR_LEN:
        return QStringLiteral("bad TCP data offset");
    case TS_PARSE_TRUNC_OPTIONS:
        return QStringLiteral("TCP options truncated");
    default:
        return QStringLiteral("parse status %1").arg(status);
    }
}

// True when the parser reached the TCP header's fixed 20 bytes, so its fields can be written.
bool haveTcpHeader(quint8 status)
{
    return status == TS_PARSE_OK || status == TS_PARSE_BAD_TCP_HDR_LEN ||
           status == TS_PARSE_TRUNC_OPTIONS;
}

struct Rebuilt
{
    QByteArray data;     // captured bytes
    quint32 origLen = 0; // length of the packet on the wire
    QString note;        // extra text for the comment, empty when nothing to say
};

Rebuilt rebuild(const Packet &p)
{
    Rebuilt r;
    QStringList notes;
    const bool tcpOk = haveTcpHeader(p.parseStatus);

    // TCP header: the data offset as on the wire when it is sane, else what the options need.
    int tcpLen = 0;
    QByteArray tcp;
    quint32 tcpOrigLen = 0;
    if (tcpOk) {
        const int optRoom = int((p.options.size() + 3) / 4 * 4);
        int dataOffsetBytes = p.tcpHdrLen;
        const bool saneOffset = dataOffsetBytes >= 20 && dataOffsetBytes <= 60 &&
                                dataOffsetBytes % 4 == 0 &&
                                dataOffsetBytes - 20 >= p.options.size();
        if (p.parseStatus == TS_PARSE_OK && !saneOffset)
            dataOffsetBytes = 20 + optRoom;
        tcpLen = saneOffset ? dataOffsetBytes : 20 + optRoom;
        tcp = QByteArray(tcpLen, '\0');
        put16(tcp, 0, p.srcPort);
        put16(tcp, 2, p.dstPort);
        put32(tcp, 4, p.seq);
        put32(tcp, 8, p.ack);
        // The recorded (possibly bogus) data offset goes on the wire as it was seen.
        tcp[12] = char((quint8(dataOffsetBytes / 4) & 0x0F) << 4);
        tcp[13] = char(p.tcpFlags);
        put16(tcp, 14, p.window);
        // 16..17: checksum, not captured by the kernel side: left 0.
        put16(tcp, 18, p.urgPtr);
        // Remaining option room stays 0 = EOL, which is how a sender pads options.
        std::copy(p.options.cbegin(), p.options.cend(), tcp.begin() + 20);
        tcpOrigLen = quint32(std::max(dataOffsetBytes, 20));
        if (p.parseStatus == TS_PARSE_TRUNC_OPTIONS) {
            // The packet ended inside its options: capture only what was there.
            tcp.truncate(20 + int(p.options.size()));
        }
    }
    const quint32 payloadOnWire = tcpOk ? p.payloadLen : 0;
    const QByteArray payload =
        tcpOk && p.parseStatus == TS_PARSE_OK ? p.payload.left(int(payloadOnWire)) : QByteArray();

    QByteArray ip;
    quint32 ipOrigHdr = 0;
    if (p.family() == AddressFamily::IPv6) {
        ip = QByteArray(40, '\0');
        const quint32 flowLabel = p.ipId & 0xFFFFF;
        put32(ip, 0, (6u << 28) | (quint32(p.tos) << 20) | flowLabel);
        const quint32 plen = tcpOrigLen + payloadOnWire;
        put16(ip, 4, quint16(std::min<quint32>(plen, 0xFFFF)));
        ip[6] = char(6); // next header: TCP (extension headers are not captured)
        ip[7] = char(p.ttl);
        std::copy_n(p.srcAddr.data(), 16, ip.begin() + 8);
        std::copy_n(p.dstAddr.data(), 16, ip.begin() + 24);
        if (p.ipHdrLen > 40)
            notes << QStringLiteral("ipv6 extension headers (%1 bytes) not captured")
                         .arg(p.ipHdrLen - 40);
        ipOrigHdr = 40;
        if (plen > 0xFFFF)
            notes << QStringLiteral("payload length %1 exceeds 16 bits").arg(plen);
    } else {
        // IPv4 options are not captured; keep the header length honest with NOP (1) options.
        const int ihlBytes =
            p.ipHdrLen >= 20 && p.ipHdrLen <= 60 && p.ipHdrLen % 4 == 0 ? p.ipHdrLen : 20;
        ip = QByteArray(ihlBytes, '\1');
        if (ihlBytes > 20)
            notes << QStringLiteral("ip options (%1 bytes) not captured, shown as NOPs")
                         .arg(ihlBytes - 20);
        ip[0] = char(0x40 | (ihlBytes / 4));
        ip[1] = char(p.tos);
        const quint32 total = quint32(ihlBytes) + tcpOrigLen + payloadOnWire;
        put16(ip, 2, quint16(std::min<quint32>(total, 0xFFFF)));
        put16(ip, 4, quint16(p.ipId & 0xFFFF));
        quint16 frag = 0;
        if (p.ipFrag & 0x1)
            frag |= 0x4000; // DF
        if (p.ipFrag & 0x2)
            frag |= 0x2000; // MF
        put16(ip, 6, frag);
        ip[8] = char(p.ttl);
        ip[9] = char(6);
        put16(ip, 10, 0);
        std::copy_n(p.srcAddr.data(), 4, ip.begin() + 12);
        std::copy_n(p.dstAddr.data(), 4, ip.begin() + 16);
        put16(ip, 10, ipv4Checksum(ip.left(ihlBytes)));
        ipOrigHdr = quint32(ihlBytes);
        if (total > 0xFFFF)
            notes << QStringLiteral("total length %1 exceeds 16 bits").arg(total);
    }

    r.data = ip + tcp + payload;
    r.origLen = ipOrigHdr + tcpOrigLen + payloadOnWire;
    if (p.parseStatus != TS_PARSE_OK)
        notes.prepend(QStringLiteral("malformed: ") + parseStatusName(p.parseStatus));
    if (p.gsoSegs > 1)
        notes << QStringLiteral("gso=%1x%2").arg(p.gsoSegs).arg(p.gsoSize);
    r.note = notes.join(QLatin1Char(' '));
    return r;
}

QByteArray shbBlock(const SessionInfo &info)
{
    Buffer b;
    b.u32(kByteOrderMagic);
    b.u16(1);          // major version
    b.u16(0);          // minor version
    b.u32(0xFFFFFFFF); // section length: not specified (64 bits of -1)
    b.u32(0xFFFFFFFF);
    b.option(kOptComment,
             QByteArrayLiteral("tcpscope export: IP and TCP headers rebuilt from the fields the "
                               "kernel recorded at TC (real addresses, ports, seq/ack, flags, "
                               "window, options, TTL, TOS, IP id); TCP checksum not captured "
                               "(0); payload only where a snapshot was taken"));
    if (!info.hostname.isEmpty())
        b.option(kShbHardware, info.hostname.toUtf8());
    if (!info.kernelRelease.isEmpty())
        b.option(kShbOs, QByteArrayLiteral("Linux ") + info.kernelRelease.toUtf8());
    b.option(kShbUserAppl, (QStringLiteral("tcpscope ") + info.tcpscopeVersion).trimmed().toUtf8());
    // The machine the packets were captured on, for every packet of the section.
    if (!info.hostname.isEmpty())
        b.customOption(kOptCustomStringCopy, "tcpscope.host.name=" + info.hostname.toUtf8());
    b.endOfOptions();
    return frameBlock(kShbType, b.data());
}

QByteArray idbBlock(const QString &name, const QString &description)
{
    Buffer b;
    b.u16(kLinktypeRaw);
    b.u16(0); // reserved
    b.u32(0); // snaplen: no limit
    b.option(kIfName, name.toUtf8());
    if (!description.isEmpty())
        b.option(kIfDescription, description.toUtf8());
    b.option(kIfTsresol, QByteArray(1, char(9))); // 10^-9 s: ns timestamps
    b.endOfOptions();
    return frameBlock(kIdbType, b.data());
}

QByteArray epbBlock(quint32 interfaceId, const Packet &p, const Rebuilt &r, const QString &comment,
                    const PcapngProcess &owner)
{
    Buffer b;
    b.u32(interfaceId);
    const quint64 ts = quint64(std::max<qint64>(p.timeNs, 0));
    b.u32(quint32(ts >> 32));
    b.u32(quint32(ts & 0xFFFFFFFF));
    b.u32(quint32(r.data.size()));
    b.u32(r.origLen);
    b.bytes(r.data);
    b.pad4();
    // epb_flags bits 0-1: 01 inbound, 10 outbound.
    b.option(kEpbFlags, [&] {
        Buffer f;
        f.u32(p.direction == PacketDirection::Out ? 2u : 1u);
        return f.data();
    }());
    // The socket's owner for both directions (for an inbound packet, the process it is
    // delivered to); thread 0 = not known. No option at all when the owner is not known.
    if (owner.pid != 0) {
        b.option(kEpbProcessIdThreadId, [&] {
            Buffer v;
            v.u32(owner.pid);
            v.u32(owner.tid);
            return v.data();
        }());
    }
    if (!owner.comm.isEmpty())
        b.customOption(kOptCustomStringCopy, "tcpscope.proc.name=" + owner.comm.toUtf8());
    if (owner.cgroupId != 0)
        b.customOption(kOptCustomStringCopy,
                       "tcpscope.cgroup.id=" + QByteArray::number(owner.cgroupId));
    b.option(kOptComment, comment.toUtf8());
    b.endOfOptions();
    return frameBlock(kEpbType, b.data());
}

} // namespace

bool PcapngWriter::put(const QByteArray &block)
{
    m_buffer += block;
    if (m_buffer.size() < 256 * 1024)
        return true;
    const bool ok = m_out.write(m_buffer) == m_buffer.size();
    m_buffer.clear();
    if (!ok)
        m_error = m_out.errorString();
    return ok;
}

bool PcapngWriter::begin(const SessionInfo &info)
{
    if (!put(shbBlock(info)))
        return false;
    // Interface ids in block order: the session's interfaces first (one per ifindex, the first
    // name seen wins), then one per ifindex a packet names that the session does not.
    for (const InterfaceInfo &i : info.interfaces) {
        if (!declareInterface(i.ifindex, i.name))
            return false;
    }
    return true;
}

bool PcapngWriter::declareInterface(quint32 ifindex, const QString &name)
{
    if (m_ifId.contains(ifindex))
        return true;
    m_ifId.insert(ifindex, quint32(m_ifId.size()));
    const QString shown = name.isEmpty() ? QStringLiteral("ifindex%1").arg(ifindex) : name;
    return put(idbBlock(shown, QStringLiteral("ifindex %1").arg(ifindex)));
}

quint32 PcapngWriter::interfaceId(quint32 ifindex)
{
    auto it = m_ifId.constFind(ifindex);
    if (it != m_ifId.constEnd())
        return *it;
    const quint32 id = quint32(m_ifId.size());
    m_ifId.insert(ifindex, id);
    put(idbBlock(QStringLiteral("ifindex%1").arg(ifindex),
                 QStringLiteral("ifindex %1, name not recorded in the session").arg(ifindex)));
    return id;
}

PcapngProcess PcapngProcess::of(const Connection &c)
{
    PcapngProcess owner;
    owner.pid = c.pid;
    owner.comm = c.comm;
    owner.cgroupId = c.cgroupId;
    return owner;
}

bool PcapngWriter::write(const Packet &p, quint32 pid, const QString &comm)
{
    PcapngProcess owner;
    owner.pid = pid;
    owner.comm = comm;
    return write(p, owner);
}

bool PcapngWriter::write(const Packet &p, const PcapngProcess &owner)
{
    const quint32 ifId = interfaceId(p.ifindex);
    if (!m_error.isEmpty())
        return false;
    const Rebuilt r = rebuild(p);
    QString comment =
        QStringLiteral("pid=%1 comm=%2 conn=%3 sock=0x%4 dir=%5")
            .arg(owner.pid)
            .arg(owner.comm.isEmpty() ? QStringLiteral("-") : owner.comm)
            .arg(p.connectionId)
            .arg(p.sockId, 0, 16)
            .arg(p.direction == PacketDirection::Out ? QLatin1String("out") : QLatin1String("in"));
    if (!r.note.isEmpty())
        comment += QLatin1Char(' ') + r.note;
    if (!put(epbBlock(ifId, p, r, comment, owner)))
        return false;
    ++m_written;
    return true;
}

bool PcapngWriter::finish()
{
    const bool ok = m_out.write(m_buffer) == m_buffer.size();
    m_buffer.clear();
    if (!ok)
        m_error = m_out.errorString();
    return ok;
}

QSet<quint32> loopbackInterfaces(const SessionInfo &info)
{
    QSet<quint32> loopback;
    for (const InterfaceInfo &i : info.interfaces) {
        if (i.name == QLatin1String("lo"))
            loopback.insert(i.ifindex);
    }
    return loopback;
}

qint64 writePcapng(const SessionData &session, const QString &path,
                   const QVector<qint64> &connectionIds, QString *error)
{
    QHash<qint64, const Connection *> connById;
    for (const Connection &c : session.connections)
        connById.insert(c.id, &c);
    const QSet<qint64> wanted(connectionIds.cbegin(), connectionIds.cend());
    qint64 written = -1;
    const bool ok = writeOutputFile(
        path, OutputUse::File,
        [&](QIODevice &out, QString *err) {
            PcapngWriter writer(out);
            bool good = writer.begin(session.info);
            for (qsizetype i = 0; good && i < session.packets.size(); ++i) {
                const Packet &p = session.packets[i];
                if (!wanted.isEmpty() && !wanted.contains(p.connectionId))
                    continue;
                const Connection *c = connById.value(p.connectionId, nullptr);
                good = writer.write(p, c ? PcapngProcess::of(*c) : PcapngProcess());
            }
            good = good && writer.finish();
            if (!good)
                *err = QStringLiteral("write failed: ") + writer.error();
            written = writer.written();
            return good;
        },
        error);
    return ok ? written : -1;
}

qint64 dropLoopbackEgressCopies(SessionData &session)
{
    const QSet<quint32> loopback = loopbackInterfaces(session.info);
    if (loopback.isEmpty())
        return 0;
    const qint64 before = session.packets.size();
    session.packets.removeIf([&](const Packet &p) { return isLoopbackEgressCopy(p, loopback); });
    return before - session.packets.size();
}

} // namespace tcpscope
