// SPDX-License-Identifier: GPL-3.0-or-later
// Packets and tcp samples of session format 4 are stored in chunks: one BLOB holds up to a few
// thousand records of one connection, laid out column-wise (all ids, then all times, ...) with
// delta coding where neighbours are alike, then compressed. Layout and sizes:
// docs/SESSION_FORMAT.md. Every decode checks every size against the bytes it has: a hostile
// chunk is an error for that chunk, never a read outside the buffer.
#pragma once

#include "model/connection.h"

#include <QByteArray>
#include <QString>
#include <QVector>
#include <array>

namespace tcpscope::chunk {

enum Codec : int
{
    CodecNone = 0,
    CodecZstd = 1,
};
constexpr int kZstdLevel = 1; // measured: level 3 saves 0.1 byte/packet at ~15% less speed
// The most a chunk may hold once decompressed (a hostile raw_bytes cannot make us allocate more).
constexpr qint64 kMaxRawBytes = 64 << 20;
// A packet chunk's ids span less than this (the writer cuts chunks there), so the chunks that
// hold an id are found by a bounded range of first_id.
constexpr qint64 kMaxIdSpan = 1 << 20;

// The addresses of a connection's packets: a joined packet whose addresses and ports are these
// (oriented by its direction) stores none of them.
struct Tuple
{
    IpAddress local; // null = none (unjoined packets: every packet stores its own)
    IpAddress remote;
    quint16 localPort = 0;
    quint16 remotePort = 0;
};
Tuple tupleOf(const Connection &c);

// Raw (uncompressed) column layout. encode* expect records in id / time order.
QByteArray encodePackets(const QVector<Packet> &packets, const Tuple &tuple);
QByteArray encodeSamples(const QVector<TcpSample> &samples);

// Decodes raw bytes. connectionId is set on every record. *outOfRange counts values that do not
// fit their field (read as unknown, as in row tables) and records left out (invalid direction,
// family or congestion state). False + error when the layout itself is broken (sizes, counts).
bool decodePackets(const QByteArray &raw, qint64 connectionId, QVector<Packet> *out,
                   quint64 *outOfRange, QString *error);
bool decodeSamples(const QByteArray &raw, qint64 connectionId, QVector<TcpSample> *out,
                   quint64 *outOfRange, QString *error);

QByteArray compress(const QByteArray &raw, Codec codec);
// rawBytes is what the chunk row says the data decompresses to; anything else is an error.
bool decompress(const QByteArray &data, int codec, qint64 rawBytes, QByteArray *out,
                QString *error);

} // namespace tcpscope::chunk
