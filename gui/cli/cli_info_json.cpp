// SPDX-License-Identifier: GPL-3.0-or-later
// `tcpscope info --json`: the same summary as the text form, as one JSON object for scripts.
// Times are wall-clock ns since the epoch (as in the connection export), unknown values null.
#include "cli_info_json.h"

#include <QJsonArray>
#include <QJsonDocument>

#include <algorithm>
#include <limits>

namespace tcpscope::cli {

namespace {

QJsonValue nsOrNull(qint64 ns)
{
    // As an integer: a double would round wall-clock ns to 256 ns.
    return ns > 0 ? QJsonValue(ns) : QJsonValue(QJsonValue::Null);
}

QJsonValue count(quint64 n)
{
    return QJsonValue(qint64(std::min<quint64>(n, std::numeric_limits<qint64>::max())));
}

QJsonObject counts(const QMap<QString, qint64> &byName)
{
    QJsonObject o;
    for (auto it = byName.cbegin(); it != byName.cend(); ++it)
        o.insert(it.key(), QJsonValue(it.value()));
    return o;
}

QJsonObject analysisObject(const PacketCounts &t)
{
    return QJsonObject{
        {QStringLiteral("retransmissions"), count(t.retransmissions)},
        {QStringLiteral("fast_retransmissions"), count(t.fastRetransmissions)},
        {QStringLiteral("spurious_retransmissions"), count(t.spuriousRetransmissions)},
        {QStringLiteral("dup_acks"), count(t.dupAcks)},
        {QStringLiteral("out_of_order"), count(t.outOfOrder)},
        {QStringLiteral("lost_segments"), count(t.lostSegments)},
        {QStringLiteral("zero_windows"), count(t.zeroWindows)},
        {QStringLiteral("window_full"), count(t.windowFull)},
        {QStringLiteral("keep_alives"), count(t.keepAlives)},
        {QStringLiteral("resets"), count(t.resets)},
    };
}

// null for a file from before tcpscope kept these facts.
QJsonValue recordOrder(const SessionInfo &info)
{
    if (info.reorderWindowNs < 0)
        return QJsonValue(QJsonValue::Null);
    auto value = [](qint64 v) {
        return v >= 0 ? QJsonValue(count(quint64(v))) : QJsonValue(QJsonValue::Null);
    };
    return QJsonObject{
        {QStringLiteral("window_ns"), value(info.reorderWindowNs)},
        {QStringLiteral("reordered"), value(info.recordsReordered)},
        {QStringLiteral("max_inversion_ns"), value(info.maxInversionNs)},
        {QStringLiteral("beyond_window"), value(info.recordsBeyondWindow)},
        {QStringLiteral("max_late_ns"), value(info.maxLateNs)},
        {QStringLiteral("after_eviction"), value(info.recordsAfterEviction)},
    };
}

QJsonObject packetsObject(const SessionInfo &info, const ConnectionTotals &totals)
{
    const PacketCounts &t = totals.packets;
    QJsonObject o{
        {QStringLiteral("captured"), info.packetsCaptured},
        {QStringLiteral("received"), count(info.packetsReceived)},
        {QStringLiteral("joined"), count(t.packetsIn + t.packetsOut)},
        {QStringLiteral("connections_with_packets"), count(totals.withPackets)},
        {QStringLiteral("in"), count(t.packetsIn)},
        {QStringLiteral("out"), count(t.packetsOut)},
        {QStringLiteral("payload_bytes_in"), count(t.payloadBytesIn)},
        {QStringLiteral("payload_bytes_out"), count(t.payloadBytesOut)},
        {QStringLiteral("lost"), count(info.lostPackets)},
        {QStringLiteral("filtered_out"), count(info.packetsFiltered)},
        {QStringLiteral("capture_filter"), info.captureFilter},
    };
    QJsonArray ifaces;
    for (const InterfaceInfo &i : info.interfaces)
        ifaces.append(QJsonObject{{QStringLiteral("name"), i.name},
                                  {QStringLiteral("attach"), attachText(i.attach)}});
    o.insert(QStringLiteral("interfaces"), ifaces);
    const PacketCounts &w = totals.wire;
    o.insert(QStringLiteral("wire_packets"), count(w.packetsIn + w.packetsOut));
    o.insert(QStringLiteral("wire_payload_bytes"), count(w.payloadBytesIn + w.payloadBytesOut));
    o.insert(QStringLiteral("local_pairs"), count(quint64(totals.localPairs)));
    // Each wire packet once (as the text's "Analysis:"), and every socket's view summed.
    o.insert(QStringLiteral("analysis"), analysisObject(w));
    o.insert(QStringLiteral("analysis_per_socket"), analysisObject(t));
    return o;
}

} // namespace

QJsonObject infoJson(const QString &file, const Session &session, const SessionInfo &info,
                     const ConnectionTotals &totals)
{
    QJsonArray probes;
    for (const QString &p : info.probes)
        probes.append(p);
    QJsonArray interruptions;
    for (const Interruption &i : info.interruptions)
        interruptions.append(QJsonObject{
            {QStringLiteral("start_ns"), nsOrNull(i.startNs)},
            {QStringLiteral("end_ns"), nsOrNull(i.endNs)}, // null: the capture ended with it
            {QStringLiteral("records_lost"),
             i.recordsLost >= 0 ? QJsonValue(count(i.recordsLost)) : QJsonValue(QJsonValue::Null)},
            {QStringLiteral("reason"), i.reason},
        });
    // Every host, also the one of a single-host session (its offset 0).
    QJsonArray hosts;
    for (const HostInfo &h : session.hosts()) {
        QJsonArray hostProbes;
        for (const QString &p : h.probes)
            hostProbes.append(p);
        hosts.append(QJsonObject{
            {QStringLiteral("id"), h.id},
            {QStringLiteral("name"), h.name},
            {QStringLiteral("kernel"), h.kernel},
            {QStringLiteral("source"), h.source},
            {QStringLiteral("probes"), hostProbes},
            {QStringLiteral("clock_offset_ns"), h.clockOffsetNs},
            {QStringLiteral("offset_error_ns"),
             h.offsetErrorNs >= 0 ? QJsonValue(h.offsetErrorNs) : QJsonValue(QJsonValue::Null)},
            {QStringLiteral("offset_method"), offsetMethodName(h.offsetMethod)},
            {QStringLiteral("connections"), count(totals.byHost.value(h.id))},
        });
    }
    // Incomplete: anything the kernel, the helper or the writer could not deliver, or a stop
    // that was not clean.
    const bool complete = info.lostRecords == 0 && info.missedProgramRuns == 0 &&
                          info.writerDropped == 0 && info.readerDropped == 0 &&
                          info.interruptions.isEmpty() && info.stoppedNs > 0;
    return QJsonObject{
        {QStringLiteral("file"), file},
        {QStringLiteral("format"), session.format().text()},
        {QStringLiteral("started_ns"),
         nsOrNull(info.startedNs > 0 ? info.startedNs : totals.firstNs)},
        {QStringLiteral("stopped_ns"), nsOrNull(info.stoppedNs)},
        {QStringLiteral("stopped_cleanly"), info.stoppedNs > 0},
        {QStringLiteral("complete"), complete},
        {QStringLiteral("host"), info.hostname},
        // The ssh destination of a remote capture; null for a capture on the recording machine.
        {QStringLiteral("remote"),
         info.remote.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(info.remote)},
        {QStringLiteral("kernel"), info.kernelRelease},
        {QStringLiteral("hosts"), hosts},
        {QStringLiteral("tcpscope_version"), info.tcpscopeVersion},
        {QStringLiteral("probes"), probes},
        {QStringLiteral("records"), count(info.recordsReceived)},
        {QStringLiteral("lost_records"), count(info.lostRecords)},
        {QStringLiteral("missed_program_runs"), count(info.missedProgramRuns)},
        {QStringLiteral("not_written"), count(info.writerDropped)},
        {QStringLiteral("not_read"), count(info.readerDropped)},
        {QStringLiteral("interruptions"), interruptions},
        {QStringLiteral("record_order"), recordOrder(info)},
        {QStringLiteral("unknown_values"), count(session.valuesOutOfRange())},
        {QStringLiteral("damaged_chunks"), count(session.badChunks())},
        {QStringLiteral("connections"),
         QJsonObject{
             {QStringLiteral("count"), count(totals.count)},
             {QStringLiteral("open"), count(totals.open)},
             {QStringLiteral("by_state"), counts(totals.byState)},
             {QStringLiteral("by_close"), counts(totals.byReason)},
             {QStringLiteral("by_role"), counts(totals.byRole)},
         }},
        {QStringLiteral("packets"), packetsObject(info, totals)},
        {QStringLiteral("kernel_metrics"),
         QJsonObject{
             {QStringLiteral("captured"), info.kernelMetrics},
             {QStringLiteral("sample_interval_us"), count(info.sampleIntervalUs)},
             {QStringLiteral("samples"), count(info.samplesReceived)},
             {QStringLiteral("events"), count(info.kernelEventsReceived)},
             {QStringLiteral("drops"), count(info.dropsReceived)},
         }},
    };
}

} // namespace tcpscope::cli
