// SPDX-License-Identifier: GPL-3.0-or-later
// The helper's own caps on resource options (bpf/helper/resource_limits.cpp): what a caller
// that is not root may ask for, and the Start options every caller is held to, each refused
// with a message naming the option.
#include "resource_limits.h"

#include <QtTest>

using namespace tcpscope;
using namespace tcpscope::helper;

class TestHelperLimits : public QObject
{
    Q_OBJECT
private slots:
    void defaultsPassForUsers()
    {
        Options o;
        std::string why;
        QVERIFY2(checkRingLimits(o, 1000, why), why.c_str());
        QVERIFY2(checkStartLimits(wire::StartOptions{}, why), why.c_str());
    }

    void ringSizesCappedForUsersOnly()
    {
        Options o;
        o.ringbufKib = kMaxUserRingbufKib * 2;
        std::string why;
        QVERIFY(!checkRingLimits(o, 1000, why));
        QVERIFY2(why.find("--ringbuf-kib 65536") != std::string::npos, why.c_str());
        QVERIFY2(why.find("not root") != std::string::npos, why.c_str());
        why.clear();
        QVERIFY2(checkRingLimits(o, 0, why), why.c_str()); // root may
        o.ringbufKib = kMaxUserRingbufKib;
        o.tcpinfoRingbufKib = 1u << 20;
        QVERIFY(!checkRingLimits(o, 1000, why));
        QVERIFY2(why.find("--tcpinfo-ringbuf-kib") != std::string::npos, why.c_str());
        o.tcpinfoRingbufKib = 8192;
        o.packetRingbufKib = 3000; // not a power of two, for anyone
        QVERIFY(!checkRingLimits(o, 0, why));
        QVERIFY2(why.find("--packet-ringbuf-kib 3000") != std::string::npos, why.c_str());
        o.packetRingbufKib = 2; // below one page
        QVERIFY(!checkRingLimits(o, 0, why));
    }

    void startOptionsCapped()
    {
        std::string why;
        wire::StartOptions s;
        s.flags |= wire::StartOptions::kPayload;
        s.snapLen = kMaxSnapLen;
        QVERIFY2(checkStartLimits(s, why), why.c_str());
        s.snapLen = kMaxSnapLen + 1;
        QVERIFY(!checkStartLimits(s, why));
        QVERIFY2(why.find("snap length 257") != std::string::npos, why.c_str());
        s.snapLen = 0; // payload asked for, no length
        QVERIFY(!checkStartLimits(s, why));
        s = {};
        s.snapLen = 16; // a length without the payload flag
        QVERIFY(!checkStartLimits(s, why));
        s = {};
        s.sampleIntervalUs = kMaxSampleIntervalUs + 1;
        QVERIFY(!checkStartLimits(s, why));
        QVERIFY2(why.find("sample interval") != std::string::npos, why.c_str());
        s = {};
        s.maxStallMs = 0;
        QVERIFY(!checkStartLimits(s, why));
        s.maxStallMs = kMaxStallMs + 1;
        QVERIFY(!checkStartLimits(s, why));
        QVERIFY2(why.find("maximum stall") != std::string::npos, why.c_str());
        s = {};
        s.ports.assign(wire::kMaxFilterPorts + 1, 80);
        QVERIFY(!checkStartLimits(s, why));
        QVERIFY2(why.find("capture filter") != std::string::npos, why.c_str());
    }
};

QTEST_GUILESS_MAIN(TestHelperLimits)
#include "test_helper_limits.moc"
