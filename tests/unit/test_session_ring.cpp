// SPDX-License-Identifier: GPL-3.0-or-later
// The values `record --rotate/--keep/--stop-after` take, ring file names, and which files a
// ring deletes (only its own, only regular files).
#include "capture/session_ring.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <unistd.h>

using namespace tcpscope;

class TestSessionRing : public QObject
{
    Q_OBJECT

private slots:
    void byteSizes();
    void durations();
    void stopConditions();
    void rotation();
    void fileNames();
    void keepDeletesOnlyOwnFiles();
    void existingNameRefused();
    void removeRefusesNonRegular();
};

void TestSessionRing::byteSizes()
{
    QCOMPARE(parseByteSize(QStringLiteral("100MB")), std::optional<qint64>(100'000'000));
    QCOMPARE(parseByteSize(QStringLiteral("512kB")), std::optional<qint64>(512'000));
    QCOMPARE(parseByteSize(QStringLiteral("512KB")), std::optional<qint64>(512'000));
    QCOMPARE(parseByteSize(QStringLiteral("1GiB")), std::optional<qint64>(1LL << 30));
    QCOMPARE(parseByteSize(QStringLiteral("64KiB")), std::optional<qint64>(65536));
    QCOMPARE(parseByteSize(QStringLiteral("4096B")), std::optional<qint64>(4096));
    for (const char *bad : {"", "100", "MB", "0MB", "-1MB", "1.5MB", " 1MB", "1 MB", "1mb", "1Mb",
                            "1MBx", "1TB", "99999999999999999999GB", "9223372036854775807GB"})
        QVERIFY2(!parseByteSize(QString::fromLatin1(bad)), bad);
}

void TestSessionRing::durations()
{
    QCOMPARE(parseDurationMs(QStringLiteral("30s")), std::optional<qint64>(30'000));
    QCOMPARE(parseDurationMs(QStringLiteral("10m")), std::optional<qint64>(600'000));
    QCOMPARE(parseDurationMs(QStringLiteral("2h")), std::optional<qint64>(7'200'000));
    QCOMPARE(parseDurationMs(QStringLiteral("1d")), std::optional<qint64>(86'400'000));
    for (const char *bad : {"", "30", "0s", "1.5s", "10min", "10 m", "s", "-5s", "10S", "1w"})
        QVERIFY2(!parseDurationMs(QString::fromLatin1(bad)), bad);
}

void TestSessionRing::stopConditions()
{
    QString why;
    auto c = parseStopCondition(QStringLiteral("100MB"), &why);
    QVERIFY(c);
    QCOMPARE(c->bytes, 100'000'000);
    QCOMPARE(c->durationMs, 0);
    QCOMPARE(c->connections, 0);
    c = parseStopCondition(QStringLiteral("10m"), &why);
    QVERIFY(c);
    QCOMPARE(c->durationMs, 600'000);
    QCOMPARE(c->bytes, 0);
    c = parseStopCondition(QStringLiteral("5000conn"), &why);
    QVERIFY(c);
    QCOMPARE(c->connections, 5000);
    QCOMPARE(c->bytes, 0);
    for (const char *bad :
         {"", "conn", "0conn", "-5conn", "5 conn", "5conns", "5000", "1.5GB", "abc", "5e3conn"}) {
        why.clear();
        QVERIFY2(!parseStopCondition(QString::fromLatin1(bad), &why), bad);
        QVERIFY(why.startsWith(QLatin1String("--stop-after: expected")));
        QVERIFY(why.contains(QLatin1Char('\'') + QString::fromLatin1(bad) + QLatin1Char('\'')));
    }
}

void TestSessionRing::rotation()
{
    QString why;
    auto r = parseRotation(QStringLiteral("100MB"), &why);
    QVERIFY(r);
    QCOMPARE(r->maxBytes, 100'000'000);
    QCOMPARE(r->maxDurationMs, 0);
    QVERIFY(r->active());
    r = parseRotation(QStringLiteral("1h"), &why);
    QVERIFY(r);
    QCOMPARE(r->maxDurationMs, 3'600'000);
    QVERIFY(!parseRotation(QStringLiteral("5000conn"), &why)); // a ring rotates by size or time
    QVERIFY(why.startsWith(QLatin1String("--rotate: expected")));
    QVERIFY(!parseRotation(QStringLiteral("1kB"), &why)); // smaller than a file's own schema
    QVERIFY(why.contains(QLatin1String("at least 64KiB")));
    QVERIFY(parseRotation(QStringLiteral("64KiB"), &why));
    QVERIFY(!RotationLimits{}.active());
}

void TestSessionRing::fileNames()
{
    const QDateTime t(QDate(2026, 1, 2), QTime(15, 4, 5));
    QCOMPARE(ringFileName(QStringLiteral("/tmp/web.tcpscope"), 1, t),
             QStringLiteral("/tmp/web_00001_20260102150405.tcpscope"));
    QCOMPARE(ringFileName(QStringLiteral("out"), 12345, t),
             QStringLiteral("out_12345_20260102150405"));
    QCOMPARE(ringFileName(QStringLiteral("/a.b/out"), 2, t),
             QStringLiteral("/a.b/out_00002_20260102150405"));
    QCOMPARE(ringFileName(QStringLiteral("/a/.hidden"), 3, t),
             QStringLiteral("/a/.hidden_00003_20260102150405"));
}

void TestSessionRing::keepDeletesOnlyOwnFiles()
{
    QTemporaryDir dir;
    const QString base = dir.filePath(QStringLiteral("ring.tcpscope"));
    // Not part of the ring: an unrelated file that happens to look like a ring file.
    const QString stranger = dir.filePath(QStringLiteral("ring_00000_20000101000000.tcpscope"));
    QFile f(stranger);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.close();
    RotationLimits limits;
    limits.maxBytes = 1 << 20;
    limits.keep = 2;
    SessionRing ring(base, limits);
    QStringList made;
    for (int i = 0; i < 5; ++i) {
        QString why;
        const auto path = ring.nextPath(QDateTime(QDate(2026, 1, 2), QTime(15, 4, i)), &why);
        QVERIFY2(path, qPrintable(why));
        QFile file(*path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.close();
        ring.added(*path);
        made << *path;
        const QStringList expired = ring.takeExpired();
        QCOMPARE(expired.size(), i >= 2 ? 1 : 0);
        for (const QString &p : expired)
            QVERIFY2(removeRingFile(p, &why), qPrintable(why));
    }
    QCOMPARE(ring.created(), 5);
    QCOMPARE(ring.files(), made.mid(3));
    QVERIFY(QFile::exists(stranger));
    for (int i = 0; i < 5; ++i)
        QCOMPARE(QFile::exists(made[i]), i >= 3);
}

void TestSessionRing::existingNameRefused()
{
    QTemporaryDir dir;
    const QString base = dir.filePath(QStringLiteral("x.tcpscope"));
    const QDateTime t(QDate(2026, 1, 2), QTime(15, 4, 5));
    const QString taken = ringFileName(base, 1, t);
    // A dangling symlink is "taken" too: the ring never writes through it.
    QVERIFY(symlink("/nonexistent/target", QFile::encodeName(taken).constData()) == 0);
    SessionRing ring(base, RotationLimits{1 << 20, 0, 0});
    QString why;
    QVERIFY(!ring.nextPath(t, &why));
    QVERIFY(why.contains(QLatin1String("already exists")));
    QCOMPARE(ring.created(), 0);
}

void TestSessionRing::removeRefusesNonRegular()
{
    QTemporaryDir dir;
    const QString target = dir.filePath(QStringLiteral("precious"));
    QFile f(target);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.close();
    const QString link = dir.filePath(QStringLiteral("link.tcpscope"));
    QVERIFY(symlink(QFile::encodeName(target).constData(), QFile::encodeName(link).constData()) ==
            0);
    QString why;
    QVERIFY(!removeRingFile(link, &why));
    QVERIFY(why.contains(QLatin1String("not a regular file")));
    QVERIFY(QFile::exists(target));
    QVERIFY(QFileInfo(link).isSymLink());
    QVERIFY(removeRingFile(dir.filePath(QStringLiteral("absent")), &why)); // nothing to do
}

QTEST_GUILESS_MAIN(TestSessionRing)
#include "test_session_ring.moc"
