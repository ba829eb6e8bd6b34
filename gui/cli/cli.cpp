// SPDX-License-Identifier: GPL-3.0-or-later
#include "cli.h"

#include "cli_commands.h"

#include "capture/helper_access.h"

#include <QStringList>
#include <cstring>
#include <unistd.h>

#ifndef TCPSCOPE_VERSION
#define TCPSCOPE_VERSION "unknown"
#endif

namespace tcpscope::cli {

namespace {

const char *const kCommands[] = {"record", "watch", "info", "export", "merge", "recover", "help"};

bool isCommand(const char *arg)
{
    for (const char *c : kCommands) {
        if (std::strcmp(arg, c) == 0)
            return true;
    }
    return false;
}

bool isTopLevelOption(const char *arg)
{
    return std::strcmp(arg, "--help") == 0 || std::strcmp(arg, "-h") == 0 ||
           std::strcmp(arg, "--version") == 0 || std::strcmp(arg, "-V") == 0;
}

} // namespace

QString mainHelp()
{
    return QStringLiteral(
        "Usage: tcpscope [FILE.tcpscope]          start the graphical app (optionally open FILE)\n"
        "       tcpscope COMMAND [OPTIONS]         run headless, no display needed\n"
        "\n"
        "Watch every TCP connection on this machine go through its lifecycle (handshake, data,\n"
        "termination), fed by eBPF, and keep what you saw in a session file.\n"
        "\n"
        "Commands:\n"
        "  record   record TCP connection lifecycles into a session file\n"
        "  watch    raise alerts (SYN flood, port scan, resets, stalls, ...) live or from a file\n"
        "  info     summarize a session file: counts, time range, kernel, probes, losses\n"
        "  export   write a session's connections as CSV/JSON, its packets as CSV/JSON/pcapng,\n"
        "           or a chart as PNG/PDF/SVG\n"
        "  merge    put sessions of several hosts into one, on one time axis\n"
        "  recover  finish what an interrupted write left beside a session file, so it opens\n"
        "  help     show this text, or 'tcpscope help COMMAND' for one command\n"
        "\n"
        "Options:\n"
        "  -h, --help      show this text\n"
        "  -V, --version   show the version\n"
        "\n"
        "Examples:\n"
        "  tcpscope record -o web.tcpscope --duration 30\n"
        "  tcpscope info web.tcpscope\n"
        "  tcpscope watch --json --exec 'logger -t tcpscope \"$TCPSCOPE_ALERT\"'\n"
        "  tcpscope export web.tcpscope --connections conns.csv\n"
        "  tcpscope export web.tcpscope --packets lossy.pcapng -Y 'tcp.analysis.retransmission'\n"
        "  tcpscope export web.tcpscope --chart timeline -o timeline.png --size 1600x900\n"
        "\n"
        "Recording needs the privileged helper tcpscope-helper (root, or CAP_BPF, CAP_PERFMON\n"
        "and CAP_NET_ADMIN on it; the Debian package lets members of the group tcpscope run\n"
        "it); reading and exporting session files needs no privileges. tcpscope itself never\n"
        "needs root.\n"
        "\n"
        "Exit status: 0 success, 1 runtime failure (e.g. the capture could not start),\n"
        "2 bad input (usage error; missing, corrupt or wrong-schema session file),\n"
        "69 the kernel cannot run tcpscope's programs (no BTF), 77 not allowed to capture\n"
        "(not in the group tcpscope, or the helper lacks its privileges).\n");
}

QString commandHelp(const QString &command)
{
    if (command == QLatin1String("record"))
        return QStringLiteral(
            "Usage: tcpscope record -o FILE [--duration SECONDS] [--force]\n"
            "                       [--filter EXPR] [--snap BYTES] [--no-packets]\n"
            "                       [--sample-interval USEC] [--no-tcpinfo]\n"
            "                       [--rotate SIZE|DURATION [--keep N]]\n"
            "                       [--stop-after SIZE|DURATION|COUNTconn]...\n"
            "                       [--max-stall SECONDS] [--rules FILE | --no-alerts]\n"
            "                       [--trigger kind:KIND|EXPR [--pre S] [--post S]\n"
            "                        [--ring-mib M]]\n"
            "                       [--remote DEST]... [--local] [--remote-helper PATH]\n"
            "                       [--pcapng-out PATH|-]\n"
            "\n"
            "Records every TCP state change (IPv4 and IPv6) with its owning process, and each\n"
            "connection's byte counts, retransmissions and RTT at close, into the session file\n"
            "FILE (created, or replaced if it is an earlier session; any other existing file is\n"
            "left alone unless --force; a device, socket, directory, FIFO or symlink never).\n"
            "Also records the TCP headers of every packet on every\n"
            "interface (lo included), joined to its connection and process and analysed like\n"
            "Wireshark does (retransmissions, dup ACKs, zero windows, out-of-order, ...).\n"
            "And the kernel's own view of each connection: RTT, cwnd, ssthresh, windows and\n"
            "bytes in flight sampled by tcp_probe, every retransmission (SYN and SYN-ACK ones\n"
            "too), RST sent and received, congestion-state changes, each TCP packet the\n"
            "kernel dropped with its named reason (NO_SOCKET, TCP_LISTEN_OVERFLOW, ...), and\n"
            "the accept queue of listening sockets.\n"
            "Runs until SECONDS have passed or until Ctrl-C / SIGTERM; either way the file is\n"
            "complete and valid. Prints a one-line summary.\n"
            "\n"
            "Options:\n"
            "  -o, --output FILE       session file to write (*.tcpscope)\n"
            "  -d, --duration SECONDS  stop after SECONDS (decimals allowed); default: until\n"
            "                          interrupted\n"
            "  --filter EXPR           record only what matches, filtered in the kernel (see\n"
            "                          below)\n"
            "  --snap BYTES            also keep the first BYTES (0-256) of each payload;\n"
            "                          default 0: headers only\n"
            "  --no-packets            state changes only, no packet capture\n"
            "  --sample-interval USEC  at most one kernel sample per connection every USEC\n"
            "                          microseconds (0 = every sample, up to 10000000);\n"
            "                          default 1000\n"
            "  --no-tcpinfo            no kernel samples, retransmits, resets or drops\n"
            "  --rotate SIZE|DURATION  write a ring of files instead of one: a new file when\n"
            "                          the current one reaches SIZE or has covered DURATION\n"
            "  --keep N                with --rotate: keep the newest N files, delete older\n"
            "                          ones of this recording (default: keep all)\n"
            "  --max-stall SECONDS     when tcpscope cannot keep up (stopped, swapping, slow\n"
            "                          disk), the helper keeps capturing and drops what does\n"
            "                          not fit its 32 MiB queue, counted and marked in the\n"
            "                          file, for at most SECONDS before it gives up\n"
            "                          (default 30)\n"
            "  --stop-after VALUE      stop once the files written reach SIZE in total, after\n"
            "                          DURATION, or once COUNT connections were seen\n"
            "                          (COUNTconn); repeatable, the first one reached stops\n"
            "  --rules FILE            the detectors' thresholds and custom alert rules (see\n"
            "                          tcpscope help watch); the alerts raised are stored in\n"
            "                          FILE and listed by tcpscope info\n"
            "  --no-alerts             do not run the detectors\n"
            "  --trigger kind:KIND|EXPR  triggered capture: keep packets and kernel samples only\n"
            "                          from --pre before to --post after each alert of KIND (a\n"
            "                          detector or a rule) or each match of the display filter\n"
            "                          EXPR; they wait in a memory ring until then (lifecycles,\n"
            "                          summaries, kernel events, drops and alerts are always\n"
            "                          written); overlapping windows merge, and the file says\n"
            "                          which trigger kept what (tcpscope info)\n"
            "  --pre S, --post S       seconds kept before and after a trigger (default 5, 5)\n"
            "  --ring-mib M            the ring's size in MiB (default 128); a warning says when\n"
            "                          it holds less than --pre at the current rate\n"
            "  --remote DEST           record on another machine over SSH: runs\n"
            "                          'ssh DEST tcpscope-helper --stdio' there and writes FILE\n"
            "                          here; DEST goes to ssh unchanged (host, user@host,\n"
            "                          ssh://user@host:port, an ssh_config alias); give it\n"
            "                          again for more hosts: one FILE holds them all\n"
            "  --local                 with --remote: record this machine too, in FILE\n"
            "  --remote-helper PATH    the helper on DEST (default: the package's\n"
            "                          /usr/libexec/tcpscope/tcpscope-helper, else\n"
            "                          tcpscope-helper on the remote PATH)\n"
            "  --pcapng-out PATH|-     also stream the packets as pcapng while recording (as\n"
            "                          export --packets writes them, with the owning process)\n"
            "                          to a FIFO (e.g. Wireshark's), a new file or - (stdout;\n"
            "                          record's messages then go to stderr only); when the\n"
            "                          reader closes it, record stops as on Ctrl-C\n"
            "  -q, --quiet             no progress line on a terminal, only the summary\n"
            "  -f, --force             overwrite FILE even if it is not a tcpscope session\n"
            "  -h, --help              show this text\n"
            "\n"
            "Filter: terms 'port N[,N...]', 'host ADDR', 'net ADDR/LEN', 'iface NAME[,NAME...]'.\n"
            "Terms of the same kind are alternatives, different kinds must all hold:\n"
            "  'port 80 port 443 net 10.0.0.0/8' = (port 80 or 443) and address in 10.0.0.0/8.\n"
            "'or' may join terms of the same kind and 'and' terms of different kinds (both\n"
            "optional); anything else is an error. Ports and addresses match either end;\n"
            "iface limits the interfaces packets are captured on. These select packets; state\n"
            "changes are recorded either way.\n"
            "Owner terms select whole connections (state changes, packets, kernel samples):\n"
            "'cgroup PATH' (a cgroup v2 path and everything below it), 'netns NAME|INODE',\n"
            "'pid N', 'comm NAME' (or proc.name), each a list like port. Paths and names\n"
            "are resolved on the capturing host (with --remote, the remote one).\n"
            "\n"
            "Sizes: digits and a unit, B, kB, MB, GB (powers of 1000) or KiB, MiB, GiB (powers\n"
            "of 1024), e.g. 100MB. Durations: digits and s, m, h or d, e.g. 10m.\n"
            "With --rotate, FILE names the ring: /tmp/web.tcpscope is written as\n"
            "/tmp/web_00001_20260102150405.tcpscope, /tmp/web_00002_...: a running number and\n"
            "the local time the file was started. Each file is a complete session; the\n"
            "connections open when a file is started are carried into it with their history\n"
            "so far, so a connection that spans files is present (with its packets of that\n"
            "time) in each of them. Only files of this recording are deleted.\n"
            "\n"
            "The helper is $TCPSCOPE_HELPER if set, else the installed\n"
            "/usr/libexec/tcpscope/tcpscope-helper (a build tree uses the one next to tcpscope).\n"
            "It needs root or CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN; the Debian package gives\n"
            "them to it and lets only members of the group tcpscope run it\n"
            "(sudo usermod -aG tcpscope USER, then log in again). FILE is created with mode\n"
            "0600: it holds other users' connections.\n"
            "\n"
            "With --remote, ssh authenticates (keys, agent, ssh_config; BatchMode=yes when there\n"
            "is no terminal to ask on) and the helper on DEST runs as the SSH user, who must be\n"
            "root or in the group tcpscope there. $TCPSCOPE_SSH replaces the ssh command, split\n"
            "into words like a shell would but not expanded (e.g. 'ssh -F /srv/lab/ssh_config').\n"
            "The file records the remote host's name and kernel and DEST (tcpscope info). Its\n"
            "times are on this machine's clock: the remote clock's offset is measured over the\n"
            "SSH connection at the start (the shortest of 8 round trips; error at most half of\n"
            "it) and checked every 10 s (drift widens the stated error); info lists it. A\n"
            "connection lost mid-capture ends the recording with exit status 1; the file keeps\n"
            "what arrived.\n"
            "Several hosts (--remote twice or more, or with --local) record one file each\n"
            "beside FILE, merged into FILE at the end (each host kept, see merge); --rotate,\n"
            "--trigger, --stop-after and --pcapng-out take one host. If record is killed, the\n"
            "parts stay in .FILE.parts-*/ for tcpscope merge.\n"
            "\n"
            "Examples:\n"
            "  sudo tcpscope record -o /tmp/web.tcpscope --duration 30\n"
            "  sudo tcpscope record -o /tmp/all.tcpscope      # until Ctrl-C\n"
            "  sudo tcpscope record -o /tmp/web.tcpscope --filter 'port 80,443 and iface eth0'\n"
            "  sudo tcpscope record -o /tmp/lc.tcpscope --no-packets\n"
            "  sudo tcpscope record -o /tmp/rtt.tcpscope --sample-interval 0 --duration 10\n"
            "  sudo tcpscope record -o /var/tmp/ring.tcpscope --rotate 100MB --keep 10\n"
            "  sudo tcpscope record -o /tmp/busy.tcpscope --rotate 10m --stop-after 24h\n"
            "  sudo tcpscope record -o /tmp/incidents.tcpscope --trigger kind:syn_flood --pre 10\n"
            "  sudo tcpscope record -o /tmp/rst.tcpscope --trigger 'tcp.flags.reset == 1' --post "
            "2\n"
            "  tcpscope record --remote admin@web1 -o web1.tcpscope --duration 60\n"
            "  tcpscope record --remote web1 --remote db1 --local -o three.tcpscope -d 60\n"
            "  sudo tcpscope record -o /tmp/s.tcpscope --pcapng-out - | wireshark -k -i -\n"
            "\n"
            "Exit status: 0 recorded, 1 the capture failed (the file keeps what was recorded),\n"
            "2 usage error (e.g. an invalid --filter, --sample-interval or --rotate, with the\n"
            "reason), 69 the kernel cannot run tcpscope's programs (no BTF), 77 not allowed to\n"
            "capture (not in the group tcpscope, or the helper lacks its privileges).\n");
    if (command == QLatin1String("watch"))
        return QStringLiteral(
            "Usage: tcpscope watch [--rules FILE] [--json] [--duration SECONDS] [--exec CMD]\n"
            "                      [-o FILE [--force]] [-q]\n"
            "                      [--remote DEST]... [--local] [--remote-helper PATH]\n"
            "       tcpscope watch -r FILE [--rules FILE] [--json] [--exec CMD]\n"
            "       tcpscope watch --rules FILE --check\n"
            "       tcpscope watch --list-detectors\n"
            "\n"
            "Captures every TCP connection like record and raises an alert when something is\n"
            "wrong: syn_flood, port_scan, rst_storm, refused_burst, retransmit_spike,\n"
            "zero_window_stall, handshake_slow, drop_surge, time_wait_buildup (--list-detectors\n"
            "shows what fires each one and its thresholds), plus the rules of a rules file.\n"
            "Prints one line per alert: time (UTC), severity, kind and a summary naming the\n"
            "listener, remote, connection or drop reason. Each kind and subject alerts at most\n"
            "once per alert.throttle (10 s); the next line says how many were left out.\n"
            "With -r it reads a session file instead and raises the alerts the live capture\n"
            "would have raised (the same detectors, replayed in time order).\n"
            "\n"
            "Options:\n"
            "  --rules FILE            thresholds, severities and custom rules (below)\n"
            "  --json                  one JSON object per line: time (RFC 3339 UTC), kind,\n"
            "                          severity (low|medium|high), summary, connections (ids),\n"
            "                          remote (\"addr:port\", \"addr\" or null), subject,\n"
            "                          custom, packets (ids), suppressed, filter (a display\n"
            "                          filter selecting the evidence connections)\n"
            "  -d, --duration SECONDS  stop after SECONDS; default: until Ctrl-C / SIGTERM\n"
            "  --exec CMD              run CMD with /bin/sh for each alert, the alert's JSON in\n"
            "                          $TCPSCOPE_ALERT; at most 5 at once and one a second on\n"
            "                          average (the alerts left out are counted at the end)\n"
            "  -o, --output FILE       also keep the capture in the session FILE (as record -o);\n"
            "                          without it the records go to a 128 MiB ring in a private\n"
            "                          temporary directory, removed at the end\n"
            "  --remote DEST           watch another machine over SSH (as record --remote);\n"
            "                          again for more hosts: each alert line starts [DEST]\n"
            "                          ([local] for this machine) and --json adds \"host\"\n"
            "  --local                 with --remote: watch this machine too\n"
            "  --remote-helper PATH    the helper on the remote hosts (as record)\n"
            "  -r, --read FILE         raise the alerts of a session file\n"
            "  --check                 validate --rules FILE and exit\n"
            "  --list-detectors        list the detectors and their settings with defaults\n"
            "  -q, --quiet             no start and end messages on stderr\n"
            "  -f, --force             with -o: overwrite FILE even if it is not a session\n"
            "  -h, --help              show this text\n"
            "\n"
            "Rules file (one statement per line, # comments):\n"
            "  set syn_flood.min_syns = 200\n"
            "  set alert.throttle = 30s\n"
            "  severity port_scan high\n"
            "  disable drop_surge\n"
            "  alert slow-tls severity=medium when conn.handshake_time > 200ms && tcp.port == 443\n"
            "  alert resends when count(tcp.analysis.retransmission) by conn.id > 10 over 1s\n"
            "A condition is a display filter (docs/FILTERS.md): one over connection fields fires\n"
            "once per matching connection, one with packet fields once per matching packet;\n"
            "count(...) fires when more than N matched within the time, per value of the 'by'\n"
            "field when given.\n"
            "\n"
            "Examples:\n"
            "  sudo tcpscope watch\n"
            "  sudo tcpscope watch --json --duration 3600 > alerts.jsonl\n"
            "  sudo tcpscope watch --rules site.rules --exec 'notify-send tcpscope "
            "\"$TCPSCOPE_ALERT\"'\n"
            "  tcpscope watch -r web.tcpscope\n"
            "\n"
            "Exit status: 0 no high-severity alert, 3 at least one high-severity alert, 1 the\n"
            "capture failed, 2 usage error (a rules file error names its line and column),\n"
            "69 the kernel cannot run tcpscope's programs, 77 not allowed to capture.\n");
    if (command == QLatin1String("info"))
        return QStringLiteral(
            "Usage: tcpscope info FILE [-Y EXPR] [--json]\n"
            "\n"
            "Prints what a session file holds: its format version, connections by state, close\n"
            "reason and role, the recorded time range (ISO 8601, UTC), host, kernel, the kernel\n"
            "hooks used, records received and lost. A non-zero lost count means the kernel\n"
            "dropped records and the session is incomplete; it is broken down into ring buffer\n"
            "losses (the buffer was full) and skipped program runs (the kernel refused to run\n"
            "the BPF program nested on one CPU, bpftool's recursion_misses).\n"
            "With packet capture it also shows packets received and joined to connections,\n"
            "packets lost (ring buffer full: packet lists and analysis incomplete), packets\n"
            "the capture filter left out, the filter, the interfaces captured on, and the\n"
            "analysis totals (retransmissions, dup ACKs, out-of-order, lost segments, zero\n"
            "windows, window full, keep-alives, resets).\n"
            "With kernel metrics (record without --no-tcpinfo) it shows the samples received\n"
            "and the sample interval, the kernel's retransmit totals (segments resent, SYN and\n"
            "SYN-ACK resends), resets sent (with the kernel's reason) and received, drops by\n"
            "reason (name and count, most first), listeners that dropped or queued\n"
            "connections, and the connections with the most retransmits. Probes lists each\n"
            "kernel hook and how it runs (tp_btf, tracepoint, or unavailable and why).\n"
            "A damaged file that could still be read says how many values were out of range\n"
            "(shown as unknown) and how many compressed chunks were left out.\n"
            "An incomplete capture says so: records not read in time (the helper dropped them\n"
            "while tcpscope was stopped or too slow), records not written (the disk could not\n"
            "keep up) and one 'Interrupted:' line per gap or abnormal end (when, how long, why,\n"
            "records lost).\n"
            "Reads only the file's summaries: as fast for a 10-million-packet session as for\n"
            "a small one.\n"
            "Packet analysis counts each wire packet once. A connection with both ends on this\n"
            "host (loopback, containers) is two sockets that each saw every packet: it counts\n"
            "from its client socket ('On the wire:', 'Analysis:'), and 'both ends:' gives the\n"
            "two sockets' views summed.\n"
            "'Record order:' says how many records reached tcpscope after newer ones and were\n"
            "put back in time order before analysis (and the largest inversion), how many came\n"
            "later than that reorder window (analysed as they came) and how many arrived after\n"
            "their connection had been evicted (stored without one).\n"
            "\n"
            "--json prints the same summary as one JSON object (wall-clock ns since the epoch,\n"
            "null where unknown): file, format, started_ns, stopped_ns, stopped_cleanly,\n"
            "complete (false when anything was lost or the capture did not stop cleanly),\n"
            "host, kernel, tcpscope_version, probes, records, lost_records,\n"
            "missed_program_runs, not_written, not_read, interruptions (start_ns, end_ns: null\n"
            "when the capture ended with it, records_lost: null when unknown, reason),\n"
            "unknown_values, damaged_chunks, connections (count, open, by_state, by_close,\n"
            "by_role), packets (captured, received, joined, in, out, lost, filtered_out,\n"
            "interfaces, analysis: each wire packet once, analysis_per_socket, wire_packets,\n"
            "local_pairs, ...), record_order (window_ns, reordered, max_inversion_ns,\n"
            "beyond_window, max_late_ns, after_eviction; null for older files),\n"
            "kernel_metrics (captured, samples, ...).\n"
            "\n"
            "With -Y EXPR the connection counts, packet and analysis totals and the kernel's\n"
            "view cover only the connections the display filter EXPR selects (and the kernel\n"
            "events and drops joined to them); the capture-wide lines (records, losses,\n"
            "probes) stay as recorded. EXPR is a connection filter: Wireshark's field names\n"
            "where they exist (ip.addr, ipv6.addr, tcp.port) plus proc.*, conn.*, kernel.*,\n"
            "drop.reason and rst.reason; every field and operator is in docs/FILTERS.md.\n"
            "\n"
            "Options:\n"
            "  -Y, --display-filter EXPR   summarize only the connections EXPR selects\n"
            "  --json                      print the summary as JSON\n"
            "  -h, --help                  show this text\n"
            "\n"
            "Examples:\n"
            "  tcpscope info /tmp/web.tcpscope\n"
            "  tcpscope info --json /tmp/web.tcpscope | jq '.complete, .interruptions'\n"
            "  tcpscope info /tmp/web.tcpscope -Y 'proc.name == \"nginx\"'\n"
            "  tcpscope info /tmp/web.tcpscope -Y 'conn.close_reason == rst && kernel.srtt > "
            "10ms'\n"
            "\n"
            "Exit status: 0 ok, 2 missing, corrupt or wrong-schema file, or an invalid -Y\n"
            "expression (one line naming the column and what was expected).\n");
    if (command == QLatin1String("export"))
        return QStringLiteral(
            "Usage: tcpscope export FILE --connections OUT.csv|OUT.json|- [-Y EXPR] [--csv-safe]\n"
            "       tcpscope export FILE --packets OUT.csv|OUT.json|OUT.pcapng|- [--connection "
            "ID]\n"
            "                           [-Y EXPR] [--csv-safe]\n"
            "       tcpscope export FILE --chart timeline -o OUT.png|OUT.pdf|OUT.svg [--size WxH]\n"
            "       tcpscope export FILE --chart seq --connection ID -o OUT.png|OUT.pdf|OUT.svg\n"
            "                           [--size WxH]\n"
            "       tcpscope export FILE --chart rtt|cwnd|windows|throughput --connection ID\n"
            "                           -o OUT.png|OUT.pdf|OUT.svg [--size WxH]\n"
            "       tcpscope export FILE --chart overview|overview:NAME -o "
            "OUT.png|OUT.pdf|OUT.svg\n"
            "                           [--size WxH]\n"
            "       Charts to PNG also take [--scale F].\n"
            "\n"
            "Connections: one row/object per connection with the columns\n"
            "  id,pid,comm,family,local_addr,local_port,remote_addr,remote_port,start_ns,end_ns,\n"
            "  "
            "duration_ms,handshake_ms,bytes_sent,bytes_received,retransmits,close_reason,states,\n"
            "  role,srtt_us,min_rtt_us,segs_in,segs_out,sk_err,state,\n"
            "  and from the packet analysis: packets_in,packets_out,payload_bytes_in,\n"
            "  payload_bytes_out,retransmissions_seen,fast_retransmissions,\n"
            "  spurious_retransmissions,dup_acks,out_of_order,lost_segments,zero_windows,\n"
            "  zero_window_probes,window_full,window_updates,keep_alives,resets_seen,irtt_ms,\n"
            "  and from the kernel: srtt_us_min,srtt_us_max,cwnd_max,resets_sent,\n"
            "  resets_received,drops,kernel_samples,kernel_retransmits,syn_retransmits,\n"
            "  synack_retransmits,listen_drops,backlog_max (empty/null when recorded with\n"
            "  --no-tcpinfo; RTT/cwnd when the connection had no sample; listener columns for\n"
            "  listeners only), and of the termination: closed_first (local, remote,\n"
            "  simultaneous),reset_by (local, peer),half_closed_ms,fin_wait2_ms,time_wait_ms,\n"
            "  time_wait_inferred (1: the kernel hands TIME_WAIT to a separate socket, so its\n"
            "  time is the 60 s TCP_TIMEWAIT_LEN, cut at the end of the capture),\n"
            "  annotations (the notes saved on the connection), and where the socket lives:\n"
            "  host,cgroup_path,container_id,pod_uid,systemd_unit,netns, and peer (the id\n"
            "  of the other end: the other local socket, or the other host's in a merge)\n"
            "Times are wall-clock ns since the epoch; states is the path, e.g.\n"
            "SYN_SENT>ESTABLISHED>FIN_WAIT1>FIN_WAIT2>CLOSE. Unknown values are empty (CSV) or\n"
            "null (JSON): end_ns/duration_ms of connections still open, byte counts of\n"
            "connections that did not close during the capture. The format follows the suffix;\n"
            "'-' writes CSV to stdout.\n"
            "\n"
            "Packets as CSV/JSON: one row/object per stored packet, in capture order, with every\n"
            "field the session keeps:\n"
            "  id,connection_id,time_ns,sock_id,ifindex,direction,parse_status,sock_state,\n"
            "  family,src_addr,src_port,dst_addr,dst_port,seq,ack,tcp_flags,window,urg_ptr,\n"
            "  payload_len,skb_len,gso_segs,gso_size,ttl,tos,vlan_tci,vlan_depth,ip_frag,ip_id,\n"
            "  ip_hdr_len,tcp_hdr_len,options,payload,analysis,dup_ack_num,rel_seq,rel_ack,\n"
            "  bytes_in_flight,scaled_window,ack_rtt_ns,peer_delay_ns,peer_lost\n"
            "tcp_flags and analysis are names joined by '|' (SYN|ACK; retransmission|\n"
            "duplicate_ack, Wireshark's tcp.analysis.* names); options and payload are hex;\n"
            "direction is in/out; bytes_in_flight, scaled_window and ack_rtt_ns are empty/null\n"
            "when unknown. peer_delay_ns: one-way delay to/from the connection's other end\n"
            "when both ends were captured (empty when not matched); peer_lost: 1 = sent and\n"
            "never received by the other end.\n"
            "connection_id 0 = not joined to a connection. Loopback packets\n"
            "appear twice (sent and received copy), as recorded.\n"
            "\n"
            "Packets as pcapng: a file Wireshark/tshark read, one interface block per captured\n"
            "interface (ns timestamps), one packet per TCP header seen, in capture order. The\n"
            "IP and TCP headers are rebuilt from the recorded fields (addresses, ports, seq/ack,\n"
            "all flags, window, options, TTL, TOS, IP id); the TCP checksum is not captured (0)\n"
            "and the payload is present only where a snapshot was taken (record --snap), else\n"
            "the packet is cut after its headers. Each packet's comment names its process:\n"
            "  pid=1234 comm=curl conn=17 sock=0x2f1 dir=in|out\n"
            "The kernel sees a loopback packet twice (sent, then received): a whole-session\n"
            "export keeps the received copy, so each packet appears once, as with\n"
            "'tcpdump -i lo'. --connection ID exports that socket's own view (what it sent\n"
            "and received).\n"
            "\n"
            "Display filters: -Y EXPR keeps the packets or connections EXPR selects, in\n"
            "Wireshark's display-filter language and field names (ip.addr == 10.0.0.0/8,\n"
            "tcp.port in {80, 443}, tcp.analysis.retransmission, tcp.window_size == 0,\n"
            "frame.time_relative > 2.5) plus tcpscope's own fields (proc.name == \"nginx\",\n"
            "conn.close_reason == rst, kernel.srtt > 10ms, drop.reason == \"NO_SOCKET\");\n"
            "every field and operator is in docs/FILTERS.md. With --packets, connection fields\n"
            "test each packet's connection; CSV/JSON test every stored copy, the whole-session\n"
            "pcapng tests the copy it writes, so for Wireshark's fields it holds the packets\n"
            "'tshark -r FULL.pcapng -Y EXPR' shows for the full export. With --connections EXPR\n"
            "may use only connection fields. An invalid EXPR is one line naming the column and\n"
            "what was expected, with exit status 2.\n"
            "\n"
            "Charts: 'timeline' draws one bar per connection, coloured by TCP state; 'overview'\n"
            "is the dashboard of the whole session (connections opened/closed and active,\n"
            "retransmits, resets, handshake and RTT distributions, drops, top processes and\n"
            "remotes; the RTT distribution counts connections: srtt at close, else the largest\n"
            "sampled); 'seq' is the tcptrace-style sequence graph of connection ID. 'rtt' (srtt\n"
            "with its rttvar band, min RTT), 'cwnd' (cwnd, ssthresh, in flight), 'windows'\n"
            "(snd_wnd, rcv_wnd) and 'throughput' (acked/received bit/s, delivery rate) are the\n"
            "kernel's samples of connection ID, as in the GUI's Kernel metrics tab, with\n"
            "retransmit, RST, drop, congestion-state and state-change markers. The timeline\n"
            "also marks retransmissions, dup ACKs, ... when the session has at most 200000\n"
            "packets (a larger one is drawn from its connections alone, to stay fast).\n"
            "\n"
            "Options:\n"
            "  --connections OUT   write the connection table to OUT\n"
            "  --packets OUT       write the packets to OUT (.csv, .json or .pcapng)\n"
            "  --connection ID     only connection ID (--packets; required by per-connection "
            "charts)\n"
            "  --csv-safe          CSV: a text cell starting with = + - @, a tab or a carriage\n"
            "                      return (a spreadsheet formula) gets a leading '\n"
            "  --chart KIND        render chart KIND (timeline, seq, rtt, cwnd, windows,\n"
            "                      throughput, overview, or overview:NAME for one chart of the\n"
            "                      overview: connections, active, retransmits, resets, handshake,\n"
            "                      rtt, drops, procBytes, procRetrans, remoteBytes, "
            "remoteRetrans)\n"
            "  -o, --output OUT    ... to OUT (.png, .pdf or .svg)\n"
            "  --size WxH          image size in pixels (default 1600x900)\n"
            "  --scale F           PNG: F image pixels per pixel of WxH (device pixel ratio,\n"
            "                      0.25..8, default 1): the same chart, sharper\n"
            "  -Y, --display-filter EXPR\n"
            "                      only the packets / connections EXPR selects\n"
            "  -h, --help          show this text\n"
            "\n"
            "Examples:\n"
            "  tcpscope export web.tcpscope --connections conns.csv\n"
            "  tcpscope export web.tcpscope --connections - | column -s, -t | less -S\n"
            "  tcpscope export web.tcpscope --chart timeline -o timeline.png --size 1600x900\n"
            "  tcpscope export web.tcpscope --packets web.pcapng && tshark -r web.pcapng\n"
            "  tcpscope export web.tcpscope --packets conn17.pcapng --connection 17\n"
            "  tcpscope export web.tcpscope --packets conn17.csv --connection 17\n"
            "  tcpscope export web.tcpscope --packets retrans.pcapng -Y "
            "tcp.analysis.retransmission\n"
            "  tcpscope export web.tcpscope --connections reset.csv -Y 'conn.close_reason == rst'\n"
            "  tcpscope export web.tcpscope --chart seq --connection 17 -o seq17.svg\n"
            "  tcpscope export web.tcpscope --chart rtt --connection 17 -o rtt17.png\n"
            "  tcpscope export web.tcpscope --chart overview -o overview.svg --size 1600x1000\n"
            "\n"
            "Output files are written to a temporary file and renamed, so a failed export never\n"
            "leaves half a file; OUT must be new or a regular file: a device, socket, directory\n"
            "or symlink is refused (exit 2). --connections and --packets also stream into an\n"
            "existing FIFO, or to stdout with '-' (CSV for --connections, pcapng for --packets).\n"
            "CSV on a terminal shows control characters in text as \\x1b, \\u009b, ...; in a file\n"
            "or a pipe the text is as recorded. JSON escapes them (\\u001b).\n"
            "\n"
            "Exit status: 0 written, 1 could not write OUT or nothing to export (a file recorded\n"
            "with --no-packets, a connection without packets), 2 usage error, an unknown\n"
            "connection ID, an invalid -Y expression, or a missing, corrupt or wrong-schema\n"
            "FILE.\n");
    if (command == QLatin1String("recover"))
        return QStringLiteral(
            "Usage: tcpscope recover FILE\n"
            "\n"
            "Finishes what an interrupted write left beside a session file, so that it can be\n"
            "read again: a FILE-journal left by a writer that was killed mid-transaction (its\n"
            "changes are rolled back), or a FILE-wal whose FILE-shm is missing (its data are\n"
            "folded into FILE). info, export and the GUI read files without writing anything\n"
            "beside them, so they cannot do this themselves and say when it is needed.\n"
            "recover opens FILE for writing (it must be a regular file whose header says it is\n"
            "a tcpscope session), leaves it one self-contained file, checks it with SQLite's\n"
            "quick_check and opens it as info does. It needs write access to FILE and its\n"
            "directory. Nothing to do is not an error: a sound file stays as it is.\n"
            "\n"
            "Options:\n"
            "  -h, --help   show this text\n"
            "\n"
            "Example:\n"
            "  tcpscope recover /tmp/web.tcpscope && tcpscope info /tmp/web.tcpscope\n"
            "\n"
            "Exit status: 0 the file opens, 1 it could not be recovered (in use, not writable,\n"
            "damaged), 2 missing file or not a tcpscope session.\n");
    if (command == QLatin1String("merge"))
        return QStringLiteral(
            "Usage: tcpscope merge FILE FILE... -o OUTPUT [--offset HOST=+-MS]... [--force]\n"
            "\n"
            "Puts the sessions FILE... (of one host each, or already merged) into one session\n"
            "OUTPUT on one time axis, keeping each host's identity: 'info OUTPUT' lists the\n"
            "hosts, the display filter host.name and the Host column tell them apart. Every\n"
            "record of every input is kept, with new connection and packet ids (each input's\n"
            "after the inputs before it). The first FILE is the time reference; each other\n"
            "host's clock offset is, in this order: the one given with --offset, one recorded\n"
            "in its file, or found by aligning the handshakes of connections seen on both\n"
            "hosts (client on one, server on the other: the same addresses and ports, and\n"
            "initial sequence numbers where captured), NTP-style, with an error bound; else 0\n"
            "with a warning. Each host's offset, how it was found and its error are printed\n"
            "and kept in OUTPUT. Inputs are read as they are written out, so big sessions\n"
            "merge in bounded memory.\n"
            "\n"
            "Options:\n"
            "  -o, --output OUTPUT   the merged session; an existing file is left alone\n"
            "                        unless --force (never a device, FIFO or symlink)\n"
            "  --offset HOST=+-MS    add MS milliseconds (decimals allowed) to the times of\n"
            "                        HOST: a host name as 'info' shows it, or an input's\n"
            "                        file name; repeat for several hosts\n"
            "  --force               replace OUTPUT (atomically: it is whole or untouched)\n"
            "  -h, --help            show this text\n"
            "\n"
            "Examples:\n"
            "  tcpscope merge client.tcpscope server.tcpscope -o both.tcpscope\n"
            "  tcpscope merge a.tcpscope b.tcpscope -o ab.tcpscope --offset web2=-12.5\n"
            "\n"
            "Exit status: 0 merged, 1 the output could not be written, 2 usage error, a\n"
            "missing, corrupt or wrong-schema FILE, an --offset naming no host, or an\n"
            "existing OUTPUT without --force.\n");
    if (command == QLatin1String("help"))
        return QStringLiteral("Usage: tcpscope help [COMMAND]\n\nShows the overview, or the "
                              "help of COMMAND (record, watch, info, export, merge, recover).\n");
    return QString();
}

// A word that is neither a command nor plausibly a file name ("tcpscope recrod") is a typo
// the CLI should answer, instead of the GUI trying to open it as a session.
bool looksLikeMistypedCommand(const char *arg)
{
    return arg[0] != '-' && arg[0] != '\0' && !std::strchr(arg, '.') && !std::strchr(arg, '/') &&
           access(arg, F_OK) != 0;
}

bool isCliInvocation(int argc, char **argv)
{
    return argc >= 2 && argv[1] &&
           (isCommand(argv[1]) || isTopLevelOption(argv[1]) || looksLikeMistypedCommand(argv[1]));
}

int run(int argc, char **argv)
{
    if (argc < 2)
        return usageError(QString(), QStringLiteral("no command given"));
    QStringList args;
    for (int i = 2; i < argc; ++i)
        args << QString::fromLocal8Bit(argv[i]);
    const QString command = QString::fromLocal8Bit(argv[1]);

    if (command == QLatin1String("--version") || command == QLatin1String("-V")) {
        printOut(QStringLiteral("tcpscope " TCPSCOPE_VERSION "\n"));
        return kExitOk;
    }
    if (command == QLatin1String("--help") || command == QLatin1String("-h")) {
        printOut(mainHelp());
        return kExitOk;
    }
    if (command == QLatin1String("help")) {
        if (args.isEmpty()) {
            printOut(mainHelp());
            return kExitOk;
        }
        const QString text = commandHelp(args.first());
        if (text.isEmpty())
            return usageError(QString(), QStringLiteral("unknown command '%1'").arg(args.first()));
        printOut(text);
        return kExitOk;
    }
    if (args.contains(QLatin1String("--help")) || args.contains(QLatin1String("-h"))) {
        printOut(commandHelp(command));
        return kExitOk;
    }
    args.prepend(QStringLiteral("tcpscope ") + command);
    // A person at a root shell is told; scripts (stderr not a terminal) are not nagged.
    if (const QString warning = runningAsRootWarning(); !warning.isEmpty() && isatty(STDERR_FILENO))
        printErr(QStringLiteral("warning: ") + warning);
    if (command == QLatin1String("record"))
        return runRecord(args, argc, argv);
    if (command == QLatin1String("watch"))
        return runWatch(args, argc, argv);
    if (command == QLatin1String("info"))
        return runInfo(args);
    if (command == QLatin1String("export"))
        return runExport(args, argc, argv);
    if (command == QLatin1String("recover"))
        return runRecover(args);
    if (command == QLatin1String("merge"))
        return runMerge(args);
    return usageError(
        QString(),
        QStringLiteral("unknown command '%1' (commands: record, watch, info, export, merge, "
                       "recover, help)")
            .arg(command));
}

} // namespace tcpscope::cli
