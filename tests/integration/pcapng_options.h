// SPDX-License-Identifier: GPL-3.0-or-later
// Reading back the options of tcpscope's pcapng output (the file export and record's stream):
// each block's type and its options, the value of one option, the tcpscope custom strings.
#pragma once

#include <QByteArray>
#include <QFile>
#include <QPair>
#include <QString>
#include <QStringList>
#include <QVector>
#include <QtEndian>

namespace tcpscope::pcapng_test {

// The options of a pcapng file's blocks, in file order: for each block its type and its
// (code, value) pairs. Enough for tcpscope's own little-endian exports: SHB, IDB and EPB.
struct BlockOptions
{
    quint32 type = 0;
    QVector<QPair<quint16, QByteArray>> options;
};

inline QVector<BlockOptions> pcapngOptions(const QString &path, QString *error)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("cannot open ") + path;
        return {};
    }
    const QByteArray all = f.readAll();
    auto le = [&](qsizetype at, int bytes) -> quint32 {
        if (at + bytes > all.size())
            return 0;
        const auto *p = reinterpret_cast<const uchar *>(all.constData()) + at;
        return bytes == 2 ? qFromLittleEndian<quint16>(p) : qFromLittleEndian<quint32>(p);
    };
    QVector<BlockOptions> blocks;
    qsizetype at = 0;
    while (at + 12 <= all.size()) {
        BlockOptions b;
        b.type = le(at, 4);
        const quint32 len = le(at + 4, 4);
        if (len < 12 || len % 4 || at + len > all.size()) {
            *error = QStringLiteral("bad block length at %1").arg(at);
            return {};
        }
        qsizetype opt = at + 8; // options start after the block's fixed fields
        if (b.type == 0x0A0D0D0A)
            opt += 16;
        else if (b.type == 1)
            opt += 8;
        else if (b.type == 6)
            opt += 20 + (le(at + 20, 4) + 3) / 4 * 4;
        const qsizetype end = at + len - 4;
        while (opt + 4 <= end) {
            const quint16 code = quint16(le(opt, 2));
            const quint16 olen = quint16(le(opt + 2, 2));
            if (code == 0)
                break;
            b.options.append({code, all.mid(opt + 4, olen)});
            opt += 4 + (olen + 3) / 4 * 4;
        }
        blocks.append(b);
        at += len;
    }
    return blocks;
}

inline QByteArray optionValue(const BlockOptions &b, quint16 code, int nth = 0)
{
    for (const auto &[c, v] : b.options) {
        if (c == code && nth-- == 0)
            return v;
    }
    return QByteArray();
}

// The text of the tcpscope custom string options of a block (2988, PEN 32473), "key=value".
inline QStringList customStrings(const BlockOptions &b)
{
    QStringList texts;
    for (const auto &[c, v] : b.options) {
        if (c == 2988 && v.size() >= 4 &&
            qFromLittleEndian<quint32>(reinterpret_cast<const uchar *>(v.constData())) == 32473)
            texts << QString::fromUtf8(v.mid(4));
    }
    return texts;
}

} // namespace tcpscope::pcapng_test
