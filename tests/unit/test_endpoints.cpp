// SPDX-License-Identifier: GPL-3.0-or-later
// Endpoints (core/analysis/endpoints.h): grouping by remote address, service port and process,
// the sums and RTT percentiles of each group, listeners left out, and each row's filter
// selecting exactly its connections; the same over a session file, limited to some ids.
#include "analysis/endpoints.h"
#include "filter/display_filter.h"
#include "session/session.h"
#include "session/session_writer.h"
#include "test_addresses.h"

#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>

using namespace tcpscope;

namespace {

Connection conn(qint64 id, ConnectionRole role, const QString &comm, quint32 pid,
                const QString &remote, quint16 localPort, quint16 remotePort)
{
    Connection c;
    c.id = id;
    c.role = role;
    c.comm = comm;
    c.pid = pid;
    c.localAddr = test::ip(remote.contains(QLatin1Char(':')) ? QStringLiteral("::1")
                                                             : QStringLiteral("10.0.0.1"));
    c.localPort = localPort;
    c.remoteAddr = test::ip(remote);
    c.remotePort = remotePort;
    c.startNs = 1'700'000'000'000'000'000 + id * 1'000'000;
    c.endNs = c.startNs + 5'000'000;
    c.state = TcpState::Close;
    c.closeReason = CloseReason::Fin;
    return c;
}

// Ten clients of curl to 10.0.0.9:443 with RTTs 1..10 ms, two nginx server sockets on :80
// from 10.0.0.7, an IPv6 client, a listener (left out) and an open connection.
QVector<Connection> connections()
{
    QVector<Connection> out;
    for (qint64 i = 1; i <= 10; ++i) {
        Connection c = conn(i, ConnectionRole::Client, QStringLiteral("curl"), quint32(100 + i),
                            QStringLiteral("10.0.0.9"), quint16(40000 + i), 443);
        c.haveCloseStats = true;
        c.bytesSent = 100;
        c.bytesReceived = 1000;
        c.srttUs = quint32(i * 1000);
        c.retransmits = i == 10 ? 3 : 0;
        c.handshakeNs = 200'000;
        out.append(c);
    }
    for (qint64 i = 11; i <= 12; ++i) {
        Connection c = conn(i, ConnectionRole::Server, QStringLiteral("nginx"), 50,
                            QStringLiteral("10.0.0.7"), 80, quint16(50000 + i));
        c.packets.payloadBytesIn = 300; // no close statistics: the payload captured counts
        c.packets.payloadBytesOut = 7000;
        c.kernel.resetsSent = 1;
        c.kernel.srttUsMax = 250; // still no close srtt: the largest sampled
        out.append(c);
    }
    Connection v6 = conn(13, ConnectionRole::Client, QStringLiteral("curl"), 113,
                         QStringLiteral("2001:db8::5"), 40013, 443);
    v6.endNs = 0; // open
    v6.state = TcpState::Established;
    v6.closeReason = CloseReason::Open;
    out.append(v6);
    Connection listener =
        conn(14, ConnectionRole::Listener, QStringLiteral("nginx"), 50, QString(), 80, 0);
    out.append(listener);
    return out;
}

const Endpoint *find(const EndpointTable &t, const QString &key, const QString &side = {})
{
    for (const Endpoint &e : t.rows)
        if (e.key == key && e.side == side)
            return &e;
    return nullptr;
}

// Ids of the connections (listeners included: the filter is the table's) that e's filter selects.
QVector<qint64> selected(const Endpoint &e, const QVector<Connection> &all)
{
    FilterError error;
    const DisplayFilter f = DisplayFilter::compile(e.filter, FilterTarget::Connections, &error);
    if (!f.isValid())
        qWarning() << e.filter << error.message;
    QVector<qint64> ids;
    for (const Connection &c : all)
        if (f.isValid() && f.matches(c, FilterContext{}))
            ids.append(c.id);
    return ids;
}

} // namespace

class TestEndpoints : public QObject
{
    Q_OBJECT

private slots:
    void byRemoteAddress()
    {
        const QVector<Connection> all = connections();
        const EndpointTable t = computeEndpoints(all, EndpointGrouping::RemoteAddress);
        QCOMPARE(t.connections, qint64(13)); // the listener is left out
        QCOMPARE(t.rows.size(), 3);
        QCOMPARE(t.rows.first().key, QStringLiteral("10.0.0.9")); // most connections first
        const Endpoint *curl = find(t, QStringLiteral("10.0.0.9"));
        QVERIFY(curl);
        QCOMPARE(curl->connections, qint64(10));
        QCOMPARE(curl->open, qint64(0));
        QCOMPARE(curl->bytesOut, quint64(1000));
        QCOMPARE(curl->bytesIn, quint64(10000));
        QCOMPARE(curl->retransmits, quint64(3));
        QCOMPARE(curl->handshakes, qint64(10));
        QCOMPARE(curl->rttCount, qint64(10));
        QCOMPARE(curl->rttP50Us, qint64(5000)); // nearest rank over 1..10 ms
        QCOMPARE(curl->rttP90Us, qint64(9000));
        QCOMPARE(curl->rttMaxUs, qint64(10000));
        QCOMPARE(selected(*curl, all), (QVector<qint64>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));

        const Endpoint *servers = find(t, QStringLiteral("10.0.0.7"));
        QVERIFY(servers);
        QCOMPARE(servers->bytesOut, quint64(14000));
        QCOMPARE(servers->bytesIn, quint64(600));
        QCOMPARE(servers->resets, quint64(2));
        QCOMPARE(servers->rttP50Us, qint64(250));
        QCOMPARE(selected(*servers, all), (QVector<qint64>{11, 12}));

        const Endpoint *v6 = find(t, QStringLiteral("2001:db8::5"));
        QVERIFY(v6);
        QCOMPARE(v6->open, qint64(1));
        QCOMPARE(v6->rttP50Us, qint64(-1)); // no RTT known
        QCOMPARE(selected(*v6, all), (QVector<qint64>{13}));
    }

    void byPort()
    {
        const QVector<Connection> all = connections();
        const EndpointTable t = computeEndpoints(all, EndpointGrouping::Port);
        QCOMPARE(t.rows.size(), 2);
        // Clients by the port they reached, servers by the port they serve (not the
        // client's ephemeral one).
        const Endpoint *https = find(t, QStringLiteral("443"), QStringLiteral("remote"));
        QVERIFY(https);
        QCOMPARE(https->connections, qint64(11));
        QCOMPARE(selected(*https, all), (QVector<qint64>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 13}));
        const Endpoint *http = find(t, QStringLiteral("80"), QStringLiteral("local"));
        QVERIFY(http);
        QCOMPARE(http->connections, qint64(2));
        QCOMPARE(selected(*http, all), (QVector<qint64>{11, 12})); // not the listener on :80
        QCOMPARE(http->filter, QStringLiteral("conn.local_port == 80 && conn.role == server"));
    }

    void byProcess()
    {
        const QVector<Connection> all = connections();
        const EndpointTable t = computeEndpoints(all, EndpointGrouping::Process);
        QCOMPARE(t.rows.size(), 2);
        const Endpoint *curl = find(t, QStringLiteral("curl"));
        QVERIFY(curl);
        QCOMPARE(curl->connections, qint64(11));
        QCOMPARE(curl->processes, qint64(11)); // a pid per run
        const Endpoint *nginx = find(t, QStringLiteral("nginx"));
        QVERIFY(nginx);
        QCOMPARE(nginx->processes, qint64(1));
        // The process filter is proc.name: it selects the listener too (the table's rows).
        QCOMPARE(selected(*nginx, all), (QVector<qint64>{11, 12, 14}));
        QCOMPARE(endpointGroupingName(EndpointGrouping::Process), QStringLiteral("Processes"));
    }

    void overASession()
    {
        QTemporaryDir dir;
        const QString file = dir.filePath(QStringLiteral("e.tcpscope"));
        QString error;
        auto writer = SessionWriter::create(file, &error);
        QVERIFY2(writer, qPrintable(error));
        SessionInfo info;
        info.startedNs = 1'700'000'000'000'000'000;
        writer->setInfo(info);
        for (const Connection &c : connections())
            writer->writeConnection(c);
        QVERIFY2(writer->close(&error), qPrintable(error));
        const auto session = Session::open(file, &error);
        QVERIFY2(session, qPrintable(error));

        const EndpointTable all = computeEndpoints(*session, EndpointGrouping::RemoteAddress);
        const EndpointTable direct =
            computeEndpoints(connections(), EndpointGrouping::RemoteAddress);
        QCOMPARE(all.rows.size(), direct.rows.size());
        for (int i = 0; i < all.rows.size(); ++i) {
            QCOMPARE(all.rows[i].key, direct.rows[i].key);
            QCOMPARE(all.rows[i].connections, direct.rows[i].connections);
            QCOMPARE(all.rows[i].bytesOut, direct.rows[i].bytesOut);
            QCOMPARE(all.rows[i].rttP90Us, direct.rows[i].rttP90Us);
            QCOMPARE(all.rows[i].filter, direct.rows[i].filter);
        }
        // Limited to the display filter's rows.
        const QVector<qint64> only{2, 4, 11, 14};
        const EndpointTable some =
            computeEndpoints(*session, EndpointGrouping::RemoteAddress, &only);
        QCOMPARE(some.connections, qint64(3));
        QCOMPARE(some.rows.size(), 2);
        QCOMPARE(find(some, QStringLiteral("10.0.0.9"))->connections, qint64(2));
        QCOMPARE(find(some, QStringLiteral("10.0.0.7"))->connections, qint64(1));
        const QVector<qint64> none;
        QCOMPARE(computeEndpoints(*session, EndpointGrouping::Process, &none).rows.size(), 0);
        // Cancelled before it starts: nothing grouped.
        std::atomic<bool> cancel{true};
        QCOMPARE(computeEndpoints(*session, EndpointGrouping::Port, nullptr, &cancel).connections,
                 qint64(0));
    }
};

QTEST_GUILESS_MAIN(TestEndpoints)
#include "test_endpoints.moc"
