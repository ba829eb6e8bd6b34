// SPDX-License-Identifier: GPL-3.0-or-later
#include "session/session_merge.h"

#include "output_file.h"
#include "pipeline/tuple_key.h"
#include "session/session_store.h"
#include "session/session_writer.h"

#include <QFileInfo>
#include <QHash>
#include <QRegularExpression>
#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <sys/stat.h>
#include <utility>

extern "C" {
#include "tcpscope_records.h"
}

namespace tcpscope {

namespace {

// Connections read per page, records handed to the writer per call, and how many bytes of
// records may wait in its queue before reading pauses (its queue drops what exceeds its
// budget; a merge must never lose records).
constexpr int kPage = 1000;
constexpr int kBatch = 4096;
constexpr qint64 kQueueBytes = 32 << 20;
// Handshake alignment: connections of the reference input kept as candidates, pairs used per
// host (the median of a thousand is as good as that of a million), packets looked at per side.
constexpr qsizetype kMaxCandidates = 500'000;
constexpr int kMaxPairs = 1000;
constexpr int kHandshakePackets = 32;
constexpr qint64 kMaxOffsetMs = 10'000'000'000; // ~115 days either way

QString ms(qint64 ns)
{
    return QString::number(double(ns) / 1e6, 'f', 3);
}

QString signedMs(qint64 ns)
{
    return (ns >= 0 ? QStringLiteral("+") : QString()) + ms(ns);
}

// One client or server connection that may be the other end of a connection on another host.
struct Candidate
{
    qint64 id = 0;
    qint32 host = 0; // within its input
    bool client = false;
    qint64 isnLocal = -1, isnRemote = -1;
    // From the state changes, for when the handshake packets were not captured: the client's
    // SYN_SENT and ESTABLISHED entries, the server's first change (its accept).
    qint64 synSentNs = 0, establishedNs = 0, startNs = 0;
};

std::optional<Candidate> candidateOf(const Connection &c)
{
    if (c.role != ConnectionRole::Client && c.role != ConnectionRole::Server)
        return std::nullopt;
    if (c.localAddr.isNull() || c.remoteAddr.family() != c.localAddr.family())
        return std::nullopt;
    Candidate k;
    k.id = c.id;
    k.host = c.hostId;
    k.client = c.role == ConnectionRole::Client;
    k.isnLocal = c.packets.isnLocal;
    k.isnRemote = c.packets.isnRemote;
    k.startNs = c.startNs;
    for (const StateChange &sc : c.history) {
        if (sc.to == TcpState::SynSent && k.synSentNs == 0)
            k.synSentNs = sc.timeNs;
        if (sc.to == TcpState::Established && k.establishedNs == 0)
            k.establishedNs = sc.timeNs;
    }
    return k;
}

// The two handshake times one side saw, on its own clock: the client's SYN sent and SYN-ACK
// received, the server's SYN received and SYN-ACK sent. From the packets when captured, else
// from the state changes: the client's SYN_SENT and ESTABLISHED entries; for the server only
// its accept, which Linux reports when the final ACK arrives (*accepted set; see pairTimes).
bool sideTimes(const Session &s, const Candidate &k, qint64 *first, qint64 *second,
               bool *accepted = nullptr)
{
    qint64 syn = 0, synAck = 0;
    for (const Packet &p : s.packets(k.id, 0, kHandshakePackets)) {
        const bool isSyn = (p.tcpFlags & TS_TCP_SYN) && !(p.tcpFlags & TS_TCP_ACK);
        const bool isSynAck = (p.tcpFlags & TS_TCP_SYN) && (p.tcpFlags & TS_TCP_ACK);
        // Client: its SYN goes out, the SYN-ACK comes in; server: the other way round.
        if (isSyn && syn == 0 && p.isOutgoing() == k.client)
            syn = p.timeNs;
        if (isSynAck && synAck == 0 && p.isOutgoing() != k.client)
            synAck = p.timeNs;
    }
    if (syn == 0 || synAck == 0) {
        if (k.client) {
            syn = k.synSentNs;
            synAck = k.establishedNs;
        } else {
            syn = synAck = k.startNs;
            if (accepted)
                *accepted = true;
        }
    }
    if (syn == 0 || synAck == 0)
        return false;
    *first = syn;
    *second = synAck;
    return true;
}

struct Input
{
    QString path;
    std::unique_ptr<Session> session;
    QVector<HostInfo> hosts; // as the input holds them
    int hostBase = 0;        // id of its host 0 in the output
    qint64 connectionBase = 0, packetBase = 0;
    QHash<quint32, quint32> ifindexMap; // interfaces renumbered to avoid another input's
};

// The output's time shift of each input host, and where its connection ids lead.
struct Shifts
{
    QVector<qint64> byHost; // output host id -> ns added
    qint64 of(const Input &in, qint32 localHost) const
    {
        const qint32 h = localHost >= 0 && localHost < in.hosts.size() ? localHost : 0;
        return byHost.value(in.hostBase + h);
    }
};

// Per-host handshake alignment of input `other` against the reference input.
class Aligner
{
public:
    explicit Aligner(const Input &ref) : m_ref(ref)
    {
        qint64 after = 0;
        for (;;) {
            const QVector<Connection> page = ref.session->connectionsAfter(after, kPage, true);
            if (page.isEmpty())
                break;
            for (const Connection &c : page) {
                after = c.id;
                if (m_count >= kMaxCandidates)
                    return;
                if (const auto k = candidateOf(c)) {
                    m_byKey[TupleKey::tuple(c.localAddr, c.localPort, c.remoteAddr, c.remotePort)]
                        .append(*k);
                    ++m_count;
                }
            }
        }
    }

    // Pairs, per host of `other`, with the reference's connections: the 4-tuple seen from both
    // sides, opposite roles, both ISNs equal where both sides know them, and only one match.
    QVector<QVector<HandshakeTimes>> pairs(const Input &other) const
    {
        QVector<QVector<HandshakeTimes>> out(other.hosts.size());
        qint64 after = 0;
        for (;;) {
            const QVector<Connection> page = other.session->connectionsAfter(after, kPage, true);
            if (page.isEmpty())
                break;
            for (const Connection &c : page) {
                after = c.id;
                const auto k = candidateOf(c);
                if (!k || k->host < 0 || k->host >= out.size() || out[k->host].size() >= kMaxPairs)
                    continue;
                const auto it = m_byKey.constFind(
                    TupleKey::tuple(c.remoteAddr, c.remotePort, c.localAddr, c.localPort));
                if (it == m_byKey.cend())
                    continue;
                const Candidate *match = nullptr;
                int matches = 0;
                for (const Candidate &r : *it) {
                    if (r.client == k->client)
                        continue;
                    const bool isnsKnown = r.isnLocal >= 0 && r.isnRemote >= 0 &&
                                           k->isnLocal >= 0 && k->isnRemote >= 0;
                    if (isnsKnown && (r.isnLocal != k->isnRemote || r.isnRemote != k->isnLocal))
                        continue;
                    match = &r;
                    ++matches;
                }
                if (matches != 1) // none, or a reused tuple without ISNs to tell them apart
                    continue;
                const Candidate &client = k->client ? *k : *match;
                const Candidate &server = k->client ? *match : *k;
                const Session &cs = k->client ? *other.session : *m_ref.session;
                const Session &ss = k->client ? *m_ref.session : *other.session;
                HandshakeTimes t;
                bool accepted = false;
                if (sideTimes(cs, client, &t.clientSynSent, &t.clientSynAckReceived) &&
                    sideTimes(ss, server, &t.serverSynReceived, &t.serverSynAckSent, &accepted)) {
                    // Only the server's accept (final ACK received, ta) is known: the client's
                    // ACK left at about its SYN-ACK receipt t4, one one-way delay earlier, and
                    // that delay is within the handshake's round trip r = t4 - t1. Placing
                    // both server times at ta - r makes the formula's estimate the middle of
                    // that range and its bound r / 2.
                    if (accepted) {
                        const qint64 r = t.clientSynAckReceived - t.clientSynSent;
                        t.serverSynReceived = t.serverSynAckSent = t.serverSynReceived - r;
                    }
                    t.referenceIsClient = !k->client;
                    out[k->host].append(t);
                }
            }
        }
        return out;
    }

private:
    const Input &m_ref;
    // By the 4-tuple; a dual-stack socket's IPv4-mapped addresses are keyed as IPv4 (TupleKey).
    QHash<TupleKey, QVector<Candidate>> m_byKey;
    qsizetype m_count = 0;
};

// Disjoint, in time order: overlapping windows become one with both triggers.
QVector<KeptWindow> mergedWindows(QVector<KeptWindow> windows)
{
    std::sort(windows.begin(), windows.end(),
              [](const KeptWindow &a, const KeptWindow &b) { return a.startNs < b.startNs; });
    QVector<KeptWindow> out;
    for (const KeptWindow &w : windows) {
        if (!out.isEmpty() && w.startNs <= out.last().endNs) {
            out.last().endNs = std::max(out.last().endNs, w.endNs);
            out.last().triggers += w.triggers;
        } else {
            out.append(w);
        }
    }
    return out;
}

// A time moved by shift, kept within what a session stores (0 .. INT64_MAX: hostile inputs
// and offsets must not overflow).
qint64 at(qint64 ns, qint64 shift)
{
    qint64 out;
    if (__builtin_add_overflow(ns, shift, &out))
        return shift > 0 ? std::numeric_limits<qint64>::max() : 0;
    return std::max<qint64>(out, 0);
}

// The same for times where 0 means "none" (an open connection's end).
qint64 shifted(qint64 ns, qint64 shift)
{
    return ns == 0 ? 0 : at(ns, shift);
}

} // namespace

bool parseMergeOffset(const QString &text, MergeOffset *out, QString *error)
{
    const qsizetype eq = text.lastIndexOf(QLatin1Char('='));
    static const QRegularExpression number(QStringLiteral("^[+-]?\\d{1,12}(\\.\\d{1,6})?$"));
    const QString value = eq < 0 ? QString() : text.mid(eq + 1).trimmed();
    if (eq <= 0 || !number.match(value).hasMatch()) {
        if (error)
            *error = QStringLiteral("--offset '%1': expected HOST=±MS (e.g. web1=+12.5)").arg(text);
        return false;
    }
    const double msValue = value.toDouble();
    if (std::fabs(msValue) > double(kMaxOffsetMs)) {
        if (error)
            *error = QStringLiteral("--offset '%1': more than %2 ms").arg(text).arg(kMaxOffsetMs);
        return false;
    }
    out->host = text.left(eq);
    out->offsetNs = qint64(std::llround(msValue * 1e6));
    return true;
}

std::optional<ClockAlignment> alignHandshakes(const QVector<HandshakeTimes> &pairs)
{
    struct One
    {
        qint64 offset, error;
    };
    QVector<One> all;
    for (const HandshakeTimes &t : pairs) {
        // Half-sums in 128 bits: wall ns are large.
        const __int128 sum = __int128(t.serverSynReceived) - t.clientSynSent +
                             __int128(t.serverSynAckSent) - t.clientSynAckReceived;
        const __int128 delay = (__int128(t.clientSynAckReceived) - t.clientSynSent) -
                               (__int128(t.serverSynAckSent) - t.serverSynReceived);
        const __int128 bound = (delay < 0 ? -delay : delay) / 2;
        // Hostile times must not wrap: an offset beyond ±2^62 ns (146 years) is nonsense anyway.
        constexpr __int128 kLimit = __int128(1) << 62;
        const qint64 serverMinusClient = qint64(std::clamp<__int128>(sum / 2, -kLimit, kLimit));
        all.append({t.referenceIsClient ? -serverMinusClient : serverMinusClient,
                    qint64(std::min<__int128>(bound, INT64_MAX))});
    }
    if (all.isEmpty())
        return std::nullopt;
    std::sort(all.begin(), all.end(),
              [](const One &a, const One &b) { return a.offset < b.offset; });
    const One median = all[all.size() / 2];
    const qint64 q1 = all[all.size() / 4].offset;
    const qint64 q3 = all[(all.size() * 3) / 4].offset;
    ClockAlignment a;
    a.offsetNs = median.offset;
    a.errorNs = std::max(median.error, (q3 - q1) / 2);
    a.pairs = int(all.size());
    return a;
}

QString mergeHostLine(const MergeReport &report, int hostId)
{
    const HostInfo &h = report.hosts.value(hostId);
    QString offset = signedMs(h.clockOffsetNs) + QStringLiteral(" ms");
    offset += h.offsetErrorNs >= 0 ? QStringLiteral(" ± %1 ms").arg(ms(h.offsetErrorNs))
                                   : QStringLiteral(" ± unknown");
    QString method = offsetMethodName(h.offsetMethod);
    if (h.offsetMethod == OffsetMethod::Handshakes)
        method += QStringLiteral(", %1 pairs").arg(report.hostPairs.value(hostId));
    if (report.hostInput.value(hostId) == 0 && h.offsetMethod == OffsetMethod::None)
        method = QStringLiteral("reference");
    return QStringLiteral("host %1 %2 (%3): %4 (%5)")
        .arg(hostId)
        .arg(h.name.isEmpty() ? QStringLiteral("?") : h.name, h.source, offset, method);
}

bool mergeSessions(const MergeOptions &options, MergeReport *report, QString *error,
                   const std::atomic<bool> *cancel, const std::function<void(int)> &progress,
                   const std::function<void(const QString &)> &log)
{
    MergeReport local;
    MergeReport &rep = report ? *report : local;
    rep = {};
    auto fail = [error](const QString &why) {
        if (error)
            *error = why;
        return false;
    };
    auto cancelled = [cancel] { return cancel && cancel->load(); };
    if (options.inputs.size() < 2)
        return fail(QStringLiteral("merge needs at least two session files"));
    if (options.output.isEmpty())
        return fail(QStringLiteral("no output file (-o)"));

    // The output: never one of the inputs, never an existing file without force; what may be
    // replaced at all is output_file.h's decision.
    const QFileInfo outInfo(options.output);
    for (const QString &in : options.inputs) {
        const QFileInfo fi(in);
        if (fi.exists() && outInfo.exists() &&
            fi.canonicalFilePath() == outInfo.canonicalFilePath())
            return fail(QStringLiteral("%1: is one of the inputs; choose another output")
                            .arg(options.output));
    }
    struct stat st;
    if (::lstat(QFile::encodeName(options.output).constData(), &st) == 0 && !options.force)
        return fail(QStringLiteral("%1: exists; --force replaces it").arg(options.output));
    QString err;
    if (!checkOutputPath(options.output, OutputUse::File, &err))
        return fail(err);

    // Inputs.
    std::vector<Input> inputs;
    qint64 totalConnections = 0;
    for (const QString &path : options.inputs) {
        Input in;
        in.path = path;
        in.session = Session::open(path, &err, cancel);
        if (!in.session)
            return fail(QStringLiteral("%1: %2").arg(path, err));
        in.hosts = in.session->hosts();
        in.hostBase = int(rep.hosts.size());
        if (rep.hosts.size() + in.hosts.size() > HostInfo::kMaxHosts)
            return fail(
                QStringLiteral("%1: more than %2 hosts in all").arg(path).arg(HostInfo::kMaxHosts));
        for (HostInfo h : std::as_const(in.hosts)) {
            h.id = qint32(rep.hosts.size());
            if (h.source.isEmpty())
                h.source = QFileInfo(path).fileName();
            rep.hosts.append(h);
            rep.hostInput.append(int(inputs.size()));
            rep.hostPairs.append(0);
        }
        totalConnections += in.session->connectionCount();
        inputs.push_back(std::move(in));
    }

    // --offset names a host (as info shows it) or an input file (its path as given or its name).
    QVector<bool> offsetUsed(options.offsets.size(), false);
    auto userOffset = [&](const Input &in, const HostInfo &h) -> std::optional<qint64> {
        for (qsizetype i = 0; i < options.offsets.size(); ++i) {
            const QString &name = options.offsets[i].host;
            if ((!h.name.isEmpty() && name == h.name) || name == in.path ||
                name == QFileInfo(in.path).fileName()) {
                offsetUsed[i] = true;
                return options.offsets[i].offsetNs;
            }
        }
        return std::nullopt;
    };
    Shifts shifts;
    shifts.byHost.fill(0, rep.hosts.size());
    std::unique_ptr<Aligner> aligner;
    for (size_t i = 0; i < inputs.size(); ++i) {
        const Input &in = inputs[i];
        QVector<QVector<HandshakeTimes>> pairs;
        bool paired = false;
        for (qint32 l = 0; l < in.hosts.size(); ++l) {
            if (cancelled())
                return fail(QStringLiteral("cancelled"));
            const int id = in.hostBase + l;
            HostInfo &out = rep.hosts[id];
            const HostInfo &h = in.hosts[l];
            qint64 shift = 0;
            if (const auto user = userOffset(in, h)) {
                shift = *user;
                out.offsetMethod = OffsetMethod::User;
                out.offsetErrorNs = -1;
            } else if (h.offsetMethod == OffsetMethod::Recorded || i == 0) {
                // Already on the session's axis (recorded), or the reference itself: as is.
            } else {
                if (!aligner)
                    aligner = std::make_unique<Aligner>(inputs[0]);
                if (!paired) {
                    pairs = aligner->pairs(in);
                    paired = true;
                }
                const QVector<HandshakeTimes> &mine = pairs.value(l);
                const auto a = alignHandshakes(mine);
                if (a) {
                    shift = a->offsetNs;
                    out.offsetMethod = OffsetMethod::Handshakes;
                    out.offsetErrorNs = a->errorNs;
                    rep.hostPairs[id] = a->pairs;
                } else {
                    out.offsetMethod = OffsetMethod::None;
                    out.offsetErrorNs = -1;
                    rep.warnings << QStringLiteral(
                                        "host %1 (%2): no clock offset given, recorded or "
                                        "found (no connection paired with %3); offset 0")
                                        .arg(h.name.isEmpty() ? QStringLiteral("?") : h.name,
                                             in.path, inputs[0].path);
                }
            }
            shifts.byHost[id] = shift;
            out.clockOffsetNs = qint64(
                std::clamp<__int128>(__int128(h.clockOffsetNs) + shift, INT64_MIN, INT64_MAX));
            if (log)
                log(mergeHostLine(rep, id));
        }
    }
    aligner.reset(); // its candidates are not needed for writing
    for (qsizetype i = 0; i < options.offsets.size(); ++i)
        if (!offsetUsed[i])
            return fail(QStringLiteral("--offset %1: no input host or file of that name")
                            .arg(options.offsets[i].host));
    if (progress)
        progress(5);

    // Ids: each input's after those of the inputs before it.
    for (size_t i = 1; i < inputs.size(); ++i) {
        const Input &prev = inputs[i - 1];
        inputs[i].connectionBase = prev.connectionBase + prev.session->lastConnectionId();
        inputs[i].packetBase = prev.packetBase + prev.session->lastPacketId();
        // Ids of a hostile file near the top of the range would overflow in the next input's.
        constexpr qint64 kMaxBase = qint64(1) << 60;
        if (inputs[i].connectionBase > kMaxBase || inputs[i].packetBase > kMaxBase)
            return fail(QStringLiteral("%1: connection or packet ids too large to renumber")
                            .arg(prev.path));
    }

    // The session facts: earliest start, latest stop, counters summed, per-host facts in hosts.
    SessionInfo info = inputs[0].session->info();
    info.interfaces.clear();
    info.interruptions.clear();
    info.keptWindows.clear();
    info.startedNs = 0;
    info.stoppedNs = 0;
    QVector<KeptWindow> windows;
    auto sumKnown = [](qint64 a, qint64 b) { return a < 0 ? b : b < 0 ? a : a + b; };
    for (size_t i = 0; i < inputs.size(); ++i) {
        Input &in = inputs[i];
        const SessionInfo s = in.session->info();
        const qint64 shift = shifts.of(in, 0);
        if (s.startedNs > 0) {
            const qint64 start = at(s.startedNs, shift);
            info.startedNs = info.startedNs == 0 ? start : std::min(info.startedNs, start);
        }
        if (s.stoppedNs > 0)
            info.stoppedNs = std::max(info.stoppedNs, at(s.stoppedNs, shift));
        for (const InterfaceInfo &f : s.interfaces) {
            auto same =
                std::find_if(info.interfaces.begin(), info.interfaces.end(),
                             [&](const InterfaceInfo &x) { return x.ifindex == f.ifindex; });
            if (same == info.interfaces.end()) {
                info.interfaces.append(f);
            } else if (same->name != f.name) {
                // Another host's interface of the same index: a number of its own.
                quint32 next = 1;
                for (const InterfaceInfo &x : std::as_const(info.interfaces))
                    next = std::max(next, x.ifindex + 1);
                in.ifindexMap.insert(f.ifindex, next);
                InterfaceInfo g = f;
                g.ifindex = next;
                info.interfaces.append(g);
            }
        }
        for (Interruption x : s.interruptions) {
            x.startNs = shifted(x.startNs, shift);
            x.endNs = shifted(x.endNs, shift);
            info.interruptions.append(x);
        }
        for (KeptWindow w : s.keptWindows) {
            w.startNs = at(w.startNs, shift);
            w.endNs = at(w.endNs, shift);
            windows.append(w);
        }
        if (i == 0)
            continue;
        info.recordsReceived += s.recordsReceived;
        info.lostRecords += s.lostRecords;
        info.missedProgramRuns += s.missedProgramRuns;
        info.packetsCaptured = info.packetsCaptured || s.packetsCaptured;
        info.packetsReceived += s.packetsReceived;
        info.lostPackets += s.lostPackets;
        info.packetsFiltered += s.packetsFiltered;
        info.kernelMetrics = info.kernelMetrics || s.kernelMetrics;
        info.samplesReceived += s.samplesReceived;
        info.kernelEventsReceived += s.kernelEventsReceived;
        info.dropsReceived += s.dropsReceived;
        info.writerDropped += s.writerDropped;
        info.readerDropped += s.readerDropped;
        info.reorderWindowNs = std::max(info.reorderWindowNs, s.reorderWindowNs);
        info.recordsReordered = sumKnown(info.recordsReordered, s.recordsReordered);
        info.maxInversionNs = std::max(info.maxInversionNs, s.maxInversionNs);
        info.recordsBeyondWindow = sumKnown(info.recordsBeyondWindow, s.recordsBeyondWindow);
        info.maxLateNs = std::max(info.maxLateNs, s.maxLateNs);
        info.recordsAfterEviction = sumKnown(info.recordsAfterEviction, s.recordsAfterEviction);
        info.alertsRecorded = info.alertsRecorded || s.alertsRecorded;
        info.triggerDiscarded += s.triggerDiscarded;
        if (info.trigger.isEmpty() && !s.trigger.isEmpty()) {
            info.trigger = s.trigger;
            info.triggerPreNs = s.triggerPreNs;
            info.triggerPostNs = s.triggerPostNs;
            info.triggerRingBytes = s.triggerRingBytes;
        }
    }
    std::sort(info.interruptions.begin(), info.interruptions.end(),
              [](const Interruption &a, const Interruption &b) { return a.startNs < b.startNs; });
    info.keptWindows = mergedWindows(windows);
    info.hosts = rep.hosts;

    auto write = [&](const QString &tempPath, QString *werr) -> bool {
        auto writer = SessionWriter::create(tempPath, werr);
        if (!writer)
            return false;
        writer->setInfo(info);
        // Never more than kQueueBytes ahead of the writer: its queue drops what exceeds its
        // budget, and memory stays bounded; reading goes on while it writes.
        auto queued = [&](qint64) {
            writer->waitForRoom(kQueueBytes);
            const QString e = writer->writeError();
            if (!e.isEmpty())
                *werr = e;
            return e.isEmpty();
        };
        QVector<Annotation> annotations;
        qint64 doneConnections = 0;
        for (Input &in : inputs) {
            const Session &s = *in.session;
            const bool multiHost = in.hosts.size() > 1;
            // Connection id -> its host within the input, for the records read table by table
            // (only kept for inputs of several hosts; sorted: ids come in order).
            std::vector<std::pair<qint64, qint32>> hostOfId;
            auto hostOf = [&](qint64 id) -> qint32 {
                if (!multiHost || id == 0)
                    return 0;
                const auto it = std::lower_bound(
                    hostOfId.cbegin(), hostOfId.cend(), id,
                    [](const std::pair<qint64, qint32> &a, qint64 v) { return a.first < v; });
                return it != hostOfId.cend() && it->first == id ? it->second : 0;
            };
            auto newId = [&](qint64 id) { return id == 0 ? 0 : id + in.connectionBase; };
            auto newIf = [&](quint32 ifindex) { return in.ifindexMap.value(ifindex, ifindex); };

            qint64 after = 0;
            for (;;) {
                if (cancelled())
                    return (*werr = QStringLiteral("cancelled")), false;
                const QVector<Connection> page = s.connectionsAfter(after, kPage, true);
                if (page.isEmpty())
                    break;
                for (Connection c : page) {
                    after = c.id;
                    const qint32 localHost =
                        c.hostId >= 0 && c.hostId < in.hosts.size() ? c.hostId : 0;
                    if (multiHost)
                        hostOfId.emplace_back(c.id, localHost);
                    const qint64 shift = shifts.of(in, localHost);
                    const qint64 oldId = c.id;
                    c.id = newId(oldId);
                    c.hostId = in.hostBase + localHost;
                    c.startNs = at(c.startNs, shift);
                    c.endNs = shifted(c.endNs, shift);
                    for (StateChange &sc : c.history)
                        sc.timeNs = at(sc.timeNs, shift);
                    writer->writeConnection(c);
                    ++rep.connections;

                    // Its packets and samples, streamed in batches (a long connection is never
                    // held whole).
                    QVector<Packet> packets;
                    auto sendPackets = [&] {
                        rep.packets += packets.size();
                        const qint64 n = packets.size();
                        // Handed over, not cleared for reuse: the writer thread may still
                        // read the shared buffer (a cleared list would write into it again).
                        writer->writePackets(std::exchange(packets, {}));
                        return queued(n);
                    };
                    bool ok = true;
                    const bool hasPackets =
                        s.format().major < 4 || c.packets.packetsIn + c.packets.packetsOut > 0;
                    if (hasPackets)
                        s.forEachPacket(oldId, [&](const Packet &p) {
                            Packet q = p;
                            q.id += in.packetBase;
                            q.connectionId = c.id;
                            q.timeNs = at(q.timeNs, shift);
                            q.ifindex = newIf(q.ifindex);
                            packets.append(q);
                            return packets.size() < kBatch || (ok = sendPackets());
                        });
                    if (ok && !packets.isEmpty())
                        ok = sendPackets();
                    KernelData samples;
                    auto sendSamples = [&] {
                        rep.samples += samples.samples.size();
                        const qint64 n = samples.samples.size();
                        writer->writeKernelData(samples);
                        samples.samples.clear();
                        return queued(n);
                    };
                    if (ok)
                        s.forEachSample(oldId, [&](const TcpSample &t) {
                            TcpSample u = t;
                            u.connectionId = c.id;
                            u.timeNs = at(u.timeNs, shift);
                            samples.samples.append(u);
                            return samples.samples.size() < kBatch || (ok = sendSamples());
                        });
                    if (ok && !samples.samples.isEmpty())
                        ok = sendSamples();
                    if (!ok)
                        return false;
                    // The row again after its records: a closed connection's chunks are then
                    // written with the next batch instead of waiting to age.
                    if (c.endNs != 0)
                        writer->writeConnection(c);
                }
                // Their rows are final: the writer may drop what it keeps per connection, so
                // its memory does not grow with the inputs.
                QVector<qint64> written;
                written.reserve(page.size());
                for (const Connection &c : page)
                    written.append(newId(c.id));
                writer->forgetConnections(written);
                doneConnections += page.size();
                if (progress && totalConnections > 0)
                    progress(5 + int(85 * doneConnections / totalConnections));
                if (!queued(0))
                    return false;
            }

            // Packets and samples not joined to any connection: the input's first host's.
            const qint64 shift0 = shifts.of(in, 0);
            QVector<Packet> loose;
            bool ok = true;
            s.forEachPacket(0, [&](const Packet &p) {
                Packet q = p;
                q.id += in.packetBase;
                q.connectionId = 0;
                q.timeNs = at(q.timeNs, shift0);
                q.ifindex = newIf(q.ifindex);
                loose.append(q);
                if (loose.size() >= kBatch) {
                    rep.packets += loose.size();
                    const qint64 n = loose.size();
                    writer->writePackets(std::exchange(loose, {})); // handed over, as above
                    ok = queued(n);
                }
                return ok;
            });
            if (!ok)
                return false;
            rep.packets += loose.size();
            writer->writePackets(loose);
            KernelData looseSamples;
            s.forEachSample(0, [&](const TcpSample &t) {
                TcpSample u = t;
                u.timeNs = at(u.timeNs, shift0);
                u.connectionId = 0;
                looseSamples.samples.append(u);
                return true;
            });
            rep.samples += looseSamples.samples.size();
            writer->writeKernelData(looseSamples);

            // Kernel events, drops and listener samples, table by table.
            s.forEachKernelBatch(kBatch, [&](const KernelData &batch) {
                KernelData out = batch;
                for (KernelEvent &e : out.events) {
                    e.timeNs = at(e.timeNs, shifts.of(in, hostOf(e.connectionId)));
                    e.connectionId = newId(e.connectionId);
                }
                for (DropEvent &e : out.drops) {
                    e.timeNs = at(e.timeNs, shifts.of(in, hostOf(e.connectionId)));
                    e.connectionId = newId(e.connectionId);
                    e.ifindex = newIf(e.ifindex);
                }
                for (ListenerSample &e : out.listeners) {
                    e.timeNs = at(e.timeNs, shifts.of(in, hostOf(e.connectionId)));
                    e.connectionId = newId(e.connectionId);
                }
                const qint64 n = out.events.size() + out.drops.size() + out.listeners.size();
                rep.kernelRecords += n;
                writer->writeKernelData(out);
                return (ok = queued(n));
            });
            if (!ok)
                return false;

            // What refers to connections and packets: their new ids, on the shifted axis.
            QVector<Alert> alerts = s.alerts();
            for (Alert &a : alerts) {
                a.timeNs = at(a.timeNs, shifts.of(in, hostOf(a.connections.value(0))));
                for (qint64 &id : a.connections)
                    id = newId(id);
                for (qint64 &id : a.packets)
                    id = id == 0 ? 0 : id + in.packetBase;
            }
            writer->writeAlerts(alerts);
            for (Annotation a : s.annotations()) {
                const qint64 shift = shifts.of(in, hostOf(a.connectionId));
                a.connectionId = newId(a.connectionId);
                a.packetId = a.packetId == 0 ? 0 : a.packetId + in.packetBase;
                a.startNs = shifted(a.startNs, shift);
                a.endNs = shifted(a.endNs, shift);
                annotations.append(a);
            }
            writer->writeOwnerNames(s.ownerNames());
            if (!s.error().isEmpty())
                return (*werr = QStringLiteral("%1: %2").arg(in.path, s.error())), false;
        }
        writer->setInfo(info);
        if (!writer->close(werr))
            return false;
        if (annotations.size() > Annotation::kMaxPerSession) {
            rep.warnings << QStringLiteral("%1 annotations in all; the first %2 are kept")
                                .arg(annotations.size())
                                .arg(Annotation::kMaxPerSession);
            annotations.resize(Annotation::kMaxPerSession);
        }
        if (!annotations.isEmpty() && !saveSessionView(tempPath, {}, annotations, werr))
            return false;
        if (progress)
            progress(100);
        return true;
    };
    if (!writeOutputFileNamed(options.output, write, &err, kPrivateFileMode))
        return fail(err);
    return true;
}

} // namespace tcpscope
