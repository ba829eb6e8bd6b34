// SPDX-License-Identifier: GPL-3.0-or-later
// Evaluation of a compiled filter. Each test reads its field's values into a few locals (at most
// two numbers or addresses; strings by pointer) and compares them with the precompiled operands.
// Multi-valued fields follow Wireshark 4: a comparison holds when any value satisfies it, and
// '!=' / 'not in' mean "no value is equal / in the set".
#include "filter/display_filter.h"

#include "filter/program.h"
#include "model/address.h"

extern "C" {
#include "tcpscope_records.h"
}

namespace tcpscope {

using namespace filter;

// --- FilterContext ---------------------------------------------------------------------------

void FilterContext::addConnection(const Connection &connection)
{
    Connection c = connection;
    c.history.clear(); // never read by a filter
    const qint64 id = c.id;
    m_connections.emplace(id, std::move(c));
}

void FilterContext::removeConnection(qint64 id)
{
    m_connections.remove(id);
    m_dropReasons.remove(id);
    m_rstReasons.remove(id);
}

void FilterContext::addKernelEvents(const KernelData &kernel)
{
    for (const DropEvent &d : kernel.drops) {
        if (d.connectionId == 0)
            continue;
        const QString name =
            d.reasonName.isEmpty() ? QStringLiteral("reason %1").arg(d.reason) : d.reasonName;
        QStringList &list = m_dropReasons[d.connectionId];
        if (!list.contains(name))
            list.append(name);
    }
    for (const KernelEvent &e : kernel.events) {
        if (e.connectionId == 0 || e.kind != KernelEventKind::ResetSent || e.reasonName.isEmpty())
            continue;
        QStringList &list = m_rstReasons[e.connectionId];
        if (!list.contains(e.reasonName))
            list.append(e.reasonName);
    }
}

void FilterContext::setInterfaces(const QVector<InterfaceInfo> &interfaces)
{
    m_interfaces.clear();
    for (const InterfaceInfo &i : interfaces)
        m_interfaces.insert(i.ifindex, i.name);
}

const Connection *FilterContext::connection(qint64 id) const
{
    const auto it = m_connections.constFind(id);
    return it == m_connections.cend() ? nullptr : &*it;
}

const QStringList *FilterContext::dropReasons(qint64 connectionId) const
{
    const auto it = m_dropReasons.constFind(connectionId);
    return it == m_dropReasons.cend() ? nullptr : &*it;
}

const QStringList *FilterContext::rstReasons(qint64 connectionId) const
{
    const auto it = m_rstReasons.constFind(connectionId);
    return it == m_rstReasons.cend() ? nullptr : &*it;
}

void FilterContext::setHosts(const QVector<HostInfo> &hosts)
{
    m_hostNames.clear();
    for (const HostInfo &h : hosts)
        m_hostNames.append(h.name);
}

const QString *FilterContext::hostNameOf(qint32 hostId) const
{
    if (m_hostNames.isEmpty())
        return hostName.isEmpty() ? nullptr : &hostName;
    if (hostId < 0 || hostId >= m_hostNames.size() || m_hostNames[hostId].isEmpty())
        return nullptr;
    return &m_hostNames[hostId];
}

const QString *FilterContext::interfaceName(quint32 ifindex) const
{
    const auto it = m_interfaces.constFind(ifindex);
    return it == m_interfaces.cend() ? nullptr : &*it;
}

void FilterContext::setOwnerNames(const OwnerNames &names)
{
    m_owners = names;
    m_attributions = attributeCgroups(names);
}

const QString *FilterContext::cgroupPath(quint64 cgroupId) const
{
    const auto it = m_owners.cgroupPaths.constFind(cgroupId);
    return it == m_owners.cgroupPaths.cend() ? nullptr : &*it;
}

const CgroupAttribution *FilterContext::cgroupAttribution(quint64 cgroupId) const
{
    const auto it = m_attributions.constFind(cgroupId);
    return it == m_attributions.cend() ? nullptr : &*it;
}

const QString *FilterContext::netnsName(quint64 inode) const
{
    const auto it = m_owners.netnsNames.constFind(inode);
    return it == m_owners.netnsNames.cend() ? nullptr : &*it;
}

// --- Evaluation ------------------------------------------------------------------------------

namespace {

// The packet or connection under test. For a packet, its connection is looked up on first use.
struct Subject
{
    const Packet *packet = nullptr;
    const Connection *conn = nullptr;
    const FilterContext *context = nullptr;
    bool connLooked = false;

    const Connection *connection()
    {
        if (!connLooked) {
            connLooked = true;
            if (packet && packet->connectionId > 0)
                conn = context->connection(packet->connectionId);
        }
        return conn;
    }
    qint64 connectionId()
    {
        if (packet)
            return packet->connectionId;
        return conn ? conn->id : 0;
    }
};

// Up to two numeric values of a field (times in ns, sizes in bytes, enums by value).
int numbers(const FieldInfo &f, Subject &s, qint64 out[2])
{
    const Packet *p = s.packet;
    switch (f.id) {
    case FieldId::TcpPort:
        if (p) {
            out[0] = p->srcPort;
            out[1] = p->dstPort;
            return 2;
        }
        out[0] = s.conn->localPort;
        out[1] = s.conn->remotePort;
        return 2;
    case FieldId::TcpSrcPort:
        out[0] = p->srcPort;
        return 1;
    case FieldId::TcpDstPort:
        out[0] = p->dstPort;
        return 1;
    case FieldId::TcpFlags:
        out[0] = p->tcpFlags;
        return 1;
    case FieldId::TcpFlagBit:
        out[0] = (p->tcpFlags & f.bit) ? 1 : 0;
        return 1;
    case FieldId::TcpSeq:
        out[0] = p->relSeq;
        return 1;
    case FieldId::TcpAck:
        out[0] = p->relAck;
        return (p->tcpFlags & TS_TCP_ACK) ? 1 : 0;
    case FieldId::TcpSeqRaw:
        out[0] = p->seq;
        return 1;
    case FieldId::TcpAckRaw:
        out[0] = p->ack;
        return (p->tcpFlags & TS_TCP_ACK) ? 1 : 0;
    case FieldId::TcpLen:
        out[0] = p->payloadLen;
        return 1;
    case FieldId::TcpWindowSize:
        // Without a known scale Wireshark shows the header value; so does this.
        out[0] = p->scaledWindow >= 0 ? p->scaledWindow : p->window;
        return 1;
    case FieldId::TcpWindowSizeValue:
        out[0] = p->window;
        return 1;
    case FieldId::AnalysisDupAckNum:
        out[0] = p->dupAckNum;
        return (p->analysis & AnalysisDuplicateAck) ? 1 : 0;
    case FieldId::AnalysisAckRtt:
        out[0] = p->ackRttNs;
        return p->ackRttNs >= 0 ? 1 : 0;
    case FieldId::AnalysisBytesInFlight:
        out[0] = p->bytesInFlight;
        return p->bytesInFlight >= 0 ? 1 : 0;
    case FieldId::FrameTimeRelative:
        out[0] = p->timeNs - s.context->originNs;
        return 1;
    case FieldId::PacketDirection:
        out[0] = qint64(p->direction);
        return 1;
    case FieldId::ConnId: {
        const qint64 id = s.connectionId();
        out[0] = id;
        return id > 0 ? 1 : 0;
    }
    case FieldId::ConnPeer: {
        const qint64 peer = s.context->peerOf(s.connectionId());
        out[0] = peer;
        return peer > 0 ? 1 : 0;
    }
    case FieldId::PeerDelay: {
        const PeerTransitMark m = s.context->transitMark(p->id);
        out[0] = m.delayNs;
        return m.matched() ? 1 : 0;
    }
    case FieldId::PeerLost:
        out[0] = s.context->transitMark(p->id).lost ? 1 : 0;
        return 1;
    default:
        break;
    }
    // The connection's own fields: the packet's connection for a packet.
    const Connection *c = s.connection();
    if (!c)
        return 0;
    switch (f.id) {
    case FieldId::ProcPid:
        out[0] = c->pid;
        return c->pid > 0 ? 1 : 0;
    case FieldId::ConnState:
        out[0] = qint64(c->state);
        return 1;
    case FieldId::ConnRole:
        out[0] = qint64(c->role);
        return 1;
    case FieldId::ConnCloseReason:
        out[0] = qint64(c->closeReason);
        return 1;
    case FieldId::ConnDuration: {
        const qint64 end = c->endNs > 0 ? c->endNs : s.context->sessionEndNs;
        out[0] = end - c->startNs;
        return c->startNs > 0 && end >= c->startNs ? 1 : 0;
    }
    case FieldId::ConnHandshakeTime:
        out[0] = c->handshakeNs;
        return c->handshakeNs >= 0 ? 1 : 0;
    case FieldId::ConnBytesSent:
        out[0] = qint64(c->bytesSent);
        return c->haveCloseStats ? 1 : 0;
    case FieldId::ConnBytesReceived:
        out[0] = qint64(c->bytesReceived);
        return c->haveCloseStats ? 1 : 0;
    case FieldId::ConnLocalPort:
        out[0] = c->localPort;
        return 1;
    case FieldId::ConnRemotePort:
        out[0] = c->remotePort;
        return 1;
    case FieldId::KernelSrtt:
        out[0] = qint64(c->srttUs) * 1000;
        return c->haveCloseStats && c->srttUs > 0 ? 1 : 0;
    case FieldId::KernelSrttMin:
        out[0] = qint64(c->kernel.srttUsMin) * 1000;
        return c->kernel.srttUsMin > 0 ? 1 : 0;
    case FieldId::KernelSrttMax:
        out[0] = qint64(c->kernel.srttUsMax) * 1000;
        return c->kernel.srttUsMax > 0 ? 1 : 0;
    case FieldId::KernelCwnd:
        out[0] = c->kernel.cwndMax;
        return c->kernel.cwndMax > 0 ? 1 : 0;
    case FieldId::KernelRetransmits:
        out[0] = c->kernel.retransmits;
        return 1;
    default:
        break;
    }
    return 0;
}

bool connectionAddress(const Connection &c, bool local, AddressFamily wantFamily, IpAddress *out)
{
    const IpAddress &a = local ? c.localAddr : c.remoteAddr;
    if (a.isNull() || (wantFamily != AddressFamily::None && a.family() != wantFamily))
        return false;
    *out = a;
    return true;
}

// Up to two addresses of a field.
int addresses(const FieldInfo &f, Subject &s, IpAddress out[2])
{
    const Packet *p = s.packet;
    const AddressFamily family = f.type == FieldType::Address6   ? AddressFamily::IPv6
                                 : f.type == FieldType::Address4 ? AddressFamily::IPv4
                                                                 : AddressFamily::None;
    switch (f.id) {
    case FieldId::IpAddr:
    case FieldId::Ipv6Addr:
        if (p) {
            if (p->family() != family)
                return 0;
            out[0] = p->srcAddr;
            out[1] = p->dstAddr;
            return 2;
        } else {
            int n = 0;
            n += connectionAddress(*s.conn, true, family, &out[n]) ? 1 : 0;
            n += connectionAddress(*s.conn, false, family, &out[n]) ? 1 : 0;
            return n;
        }
    case FieldId::IpSrc:
    case FieldId::Ipv6Src:
    case FieldId::IpDst:
    case FieldId::Ipv6Dst:
        // Packet fields are refused in a connection filter; a connection has none of them.
        if (!p || p->family() != family)
            return 0;
        out[0] = f.id == FieldId::IpSrc || f.id == FieldId::Ipv6Src ? p->srcAddr : p->dstAddr;
        return 1;
    case FieldId::ConnLocalAddr:
    case FieldId::ConnRemoteAddr: {
        const Connection *c = s.connection();
        return c && connectionAddress(*c, f.id == FieldId::ConnLocalAddr, AddressFamily::None,
                                      &out[0])
                   ? 1
                   : 0;
    }
    default:
        return 0;
    }
}

bool inPrefix(const IpAddress &a, const Operand &o)
{
    if (a.family() != o.addr.family())
        return false;
    const int fullBytes = o.prefix / 8;
    for (int i = 0; i < fullBytes; ++i) {
        if (a.bytes()[i] != o.addr.bytes()[i])
            return false;
    }
    const int rest = o.prefix % 8;
    if (rest == 0)
        return true;
    const quint8 mask = quint8(0xff << (8 - rest));
    return (a.bytes()[fullBytes] & mask) == (o.addr.bytes()[fullBytes] & mask);
}

bool compareNumber(Op op, qint64 v, const Operand &o)
{
    switch (op) {
    case Op::Eq:
    case Op::Ne:
    case Op::In:
    case Op::NotIn:
        return v >= o.lo && v <= o.hi;
    case Op::Lt:
        return v < o.lo;
    case Op::Le:
        return v <= o.lo;
    case Op::Gt:
        return v > o.lo;
    case Op::Ge:
        return v >= o.lo;
    default:
        return false;
    }
}

// Whether one value satisfies the test's operator (the "any" part of every operator; Ne and
// NotIn are negated by the caller).
template <typename V, typename Cmp> bool anyValue(const Node &t, const V *values, int n, Cmp cmp)
{
    for (int i = 0; i < n; ++i) {
        for (const Operand &o : t.operands) {
            if (cmp(values[i], o))
                return true;
        }
    }
    return false;
}

bool negated(Op op)
{
    return op == Op::Ne || op == Op::NotIn;
}

bool testText(const Node &t, const QString &v)
{
    switch (t.op) {
    case Op::Contains:
        return v.contains(t.operands[0].text);
    case Op::Matches:
        return t.regex.match(v).hasMatch();
    default:
        for (const Operand &o : t.operands) {
            if (v == o.text)
                return true;
        }
        return false;
    }
}

bool evalTest(const Node &t, Subject &s)
{
    const FieldInfo &f = *t.field;
    switch (f.type) {
    case FieldType::Flag: {
        if (!s.packet)
            return false;
        const quint32 flags = s.packet->analysis;
        if (f.id == FieldId::AnalysisAnyFlag)
            return (flags & kAnalysisFlagsAll & ~quint32(AnalysisReset | AnalysisMalformed)) != 0;
        return (flags & f.bit) != 0;
    }
    case FieldType::Address4:
    case FieldType::Address6:
    case FieldType::Address: {
        IpAddress a[2];
        const int n = addresses(f, s, a);
        if (t.op == Op::Present)
            return n > 0;
        const bool any = anyValue(t, a, n, inPrefix);
        return negated(t.op) ? !any : any;
    }
    case FieldType::Text: {
        const QString *one = nullptr;
        const QStringList *list = nullptr;
        QString inode;
        switch (f.id) {
        case FieldId::ProcName: {
            const Connection *c = s.connection();
            one = c && !c->comm.isEmpty() ? &c->comm : nullptr;
            break;
        }
        case FieldId::IfaceName:
            one = s.packet ? s.context->interfaceName(s.packet->ifindex) : nullptr;
            break;
        case FieldId::CgroupPath:
        case FieldId::ContainerId:
        case FieldId::PodUid:
        case FieldId::SystemdUnit: {
            const Connection *c = s.connection();
            if (!c)
                break;
            if (f.id == FieldId::CgroupPath) {
                one = s.context->cgroupPath(c->cgroupId);
                break;
            }
            const CgroupAttribution *a = s.context->cgroupAttribution(c->cgroupId);
            const QString *v = !a                             ? nullptr
                               : f.id == FieldId::ContainerId ? &a->containerId
                               : f.id == FieldId::PodUid      ? &a->podUid
                                                              : &a->systemdUnit;
            one = v && !v->isEmpty() ? v : nullptr;
            break;
        }
        case FieldId::HostName: {
            const Connection *c = s.connection();
            one = s.context->hostNameOf(c ? c->hostId : 0);
            break;
        }
        case FieldId::Netns: {
            const Connection *c = s.connection();
            if (!c || c->netnsIno == 0)
                break;
            one = s.context->netnsName(c->netnsIno);
            if (!one) {
                inode = QString::number(c->netnsIno); // a namespace ip netns does not name
                one = &inode;
            }
            break;
        }
        case FieldId::DropReason:
            list = s.context->dropReasons(s.connectionId());
            break;
        case FieldId::RstReason:
            list = s.context->rstReasons(s.connectionId());
            break;
        default:
            break;
        }
        if (t.op == Op::Present)
            return one || (list && !list->isEmpty());
        bool any = one && testText(t, *one);
        for (int i = 0; !any && list && i < list->size(); ++i)
            any = testText(t, list->at(i));
        return negated(t.op) ? !any : any;
    }
    case FieldType::Bool: {
        qint64 v[2];
        const int n = numbers(f, s, v);
        if (t.op == Op::Present)
            return n > 0 && v[0] != 0;
        const bool any = anyValue(
            t, v, n, [&](qint64 x, const Operand &o) { return compareNumber(t.op, x, o); });
        return negated(t.op) ? !any : any;
    }
    case FieldType::Enum:
        if (t.op == Op::Contains || t.op == Op::Matches) {
            qint64 v[2];
            const int n = numbers(f, s, v);
            return n > 0 && testText(t, enumName(f.enumKind, int(v[0])));
        }
        [[fallthrough]];
    case FieldType::Integer:
    case FieldType::Bytes:
    case FieldType::Time: {
        qint64 v[2];
        const int n = numbers(f, s, v);
        if (t.op == Op::Present)
            return n > 0;
        const bool any = anyValue(
            t, v, n, [&](qint64 x, const Operand &o) { return compareNumber(t.op, x, o); });
        return negated(t.op) ? !any : any;
    }
    }
    return false;
}

bool eval(const Node &n, Subject &s)
{
    switch (n.kind) {
    case Node::And:
        return eval(*n.left, s) && eval(*n.right, s);
    case Node::Or:
        return eval(*n.left, s) || eval(*n.right, s);
    case Node::Not:
        return !eval(*n.left, s);
    case Node::Test:
        return evalTest(n, s);
    }
    return false;
}

} // namespace

// --- DisplayFilter ---------------------------------------------------------------------------

DisplayFilter::DisplayFilter() = default;

DisplayFilter DisplayFilter::compile(const QString &text, FilterTarget target, FilterError *error)
{
    DisplayFilter f;
    f.m_text = text;
    f.m_target = target;
    auto program = std::make_shared<Program>();
    FilterError local;
    if (!compileFilter(text, target, program.get(), &local)) {
        f.m_valid = false;
        if (error)
            *error = local;
        return f;
    }
    if (program->root)
        f.m_program = std::move(program);
    return f;
}

std::optional<FilterError> DisplayFilter::check(const QString &text, FilterTarget target)
{
    FilterError error;
    if (compile(text, target, &error).isValid())
        return std::nullopt;
    return error;
}

bool DisplayFilter::isEmpty() const
{
    return m_valid && !m_program;
}

bool DisplayFilter::needsConnections() const
{
    return m_program && m_program->needsConnections;
}

bool DisplayFilter::needsKernelEvents() const
{
    return m_program && m_program->needsKernelEvents;
}

bool DisplayFilter::needsInterfaces() const
{
    return m_program && m_program->needsInterfaces;
}

bool DisplayFilter::needsOwnerNames() const
{
    return m_program && m_program->needsOwnerNames;
}

bool DisplayFilter::needsOrigin() const
{
    return m_program && m_program->needsOrigin;
}

bool DisplayFilter::needsSessionEnd() const
{
    return m_program && m_program->needsSessionEnd;
}

bool DisplayFilter::needsPeers() const
{
    return m_program && m_program->needsPeers;
}

ConnectionFields DisplayFilter::connectionFields() const
{
    if (!m_program)
        return {}; // matches everything: the ids are all it needs
    return m_program->lifetimeFieldsOnly ? m_program->lifetimeColumns : ConnectionFields::all();
}

bool DisplayFilter::needsPeerTransit() const
{
    return m_program && m_program->needsPeerTransit;
}

bool DisplayFilter::matches(const Packet &packet, const FilterContext &context) const
{
    if (!m_valid)
        return false;
    if (!m_program)
        return true;
    Subject s;
    s.packet = &packet;
    s.context = &context;
    return eval(*m_program->root, s);
}

bool DisplayFilter::matches(const Connection &connection, const FilterContext &context) const
{
    if (!m_valid)
        return false;
    if (!m_program)
        return true;
    // A packet filter may read packet fields, which a connection does not have.
    if (m_target != FilterTarget::Connections)
        return false;
    Subject s;
    s.conn = &connection;
    s.connLooked = true;
    s.context = &context;
    return eval(*m_program->root, s);
}

} // namespace tcpscope
