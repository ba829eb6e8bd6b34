// SPDX-License-Identifier: GPL-3.0-or-later
// Test support shared by the helper integration tests: locating binaries, the Hello/Start
// handshake, collecting records, and proving nothing stayed attached.
#pragma once

#include "helper_capture.h"
#include "helper_process.h"

#include <QProcess>
#include <QString>
#include <QStringList>
#include <functional>
#include <sys/types.h>

namespace tcpscope::test {

QString binDir();     // where the test, the helper and ts_traffic are built
QString helperPath(); // $TCPSCOPE_HELPER, else binDir()/tcpscope-helper
// initTestCase of every helper test: root, the helper and ts_traffic built; records the tracefs
// mounts present before any helper runs. Returns false after QSKIP (not root) or a failure.
bool requireHelperEnvironment(QStringList *tracefsBefore);
// A loopback port nobody listens on (an ephemeral port bound and released).
unsigned closedPort(bool v6);
// "port N" line printed by ts_traffic; 0 on timeout.
unsigned readPort(QProcess &p);
// Starts a helper in mode "tp_btf" or "tracepoint" and completes the handshake: Hello checked,
// Start sent, first Stats seen (the helper attaches before it). Returns false after QSKIP when
// the kernel cannot load BPF; aborts the test run on any other failure.
// start: the Start options (default: packets on, no filter). hello: receives the Hello.
// beforeStart: runs between Hello and Start (the programs are loaded, and may be attached).
bool startStreaming(HelperProcess &helper, const QString &mode, QStringList args = {},
                    const wire::StartOptions &start = {}, wire::Hello *hello = nullptr,
                    const std::function<void()> &beforeStart = {});
// Reads frames into cap until done() or timeout; false on timeout or a dead helper.
bool collect(HelperProcess &helper, Capture &cap, int timeoutMs, const std::function<bool()> &done);
// Sends Stop and reads everything the helper still sends (it drains its ring buffers on Stop)
// until it closes the socket; true when it did so within timeoutMs (cap.helperClosed).
bool stopAndDrain(HelperProcess &helper, Capture &cap, int timeoutMs);
// CLOCK_MONOTONIC now, the clock of record timestamps.
std::uint64_t monotonicNs();
// The tcpscope-helper child of a recorder (the only one it spawns), 0 if none yet.
pid_t helperChildOf(qint64 recorderPid);
// Exited: /proc says so, or only its zombie is left (reparented once its parent died).
bool processGone(pid_t pid);
// After the helper is gone: none of its programs/links remain and tracefs mounts are unchanged.
void verifyNothingLeft(const BpfObjects &ours, const QStringList &tracefsBefore);

} // namespace tcpscope::test
