// SPDX-License-Identifier: GPL-3.0-or-later
// `tcpscope record` of several hosts into one session (cli_record_hosts.cpp).
#pragma once

#include "capture/capture_options.h"
#include "capture/remote_transport.h"
#include "detect/alert_rules.h"

#include <QString>
#include <QVector>

#include <optional>

class QCoreApplication;

namespace tcpscope::cli {

class StopSignals;

struct HostsRecording
{
    QString file; // checked already: new, an earlier session, or --force
    bool quiet = false;
    // The hosts, this one (nullopt) first when it is recorded too.
    QVector<std::optional<RemoteTarget>> hosts;
    CaptureOptions options; // the capture filter is resolved on each host
    std::optional<AlertConfig> alerts;
    double seconds = 0; // 0: until a signal
};

// Records every host until a signal, the duration or a failure, then merges their parts into
// r.file. The exit status of record.
int recordHosts(QCoreApplication *app, const StopSignals &stopSignals, const HostsRecording &r);

} // namespace tcpscope::cli
