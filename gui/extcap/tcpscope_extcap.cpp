// SPDX-License-Identifier: GPL-3.0-or-later
// tcpscope-extcap: a Wireshark extcap program. Wireshark lists the interface "tcpscope"; capturing
// on it runs `tcpscope record -o SESSION --pcapng-out FIFO` (with the options of the interface's
// configuration dialog), whose pcapng names each packet's process. The session file is
// temporary (removed afterwards) unless "Keep the session in" names a file. Stopping the capture
// in Wireshark closes the FIFO, which ends record; a SIGTERM or SIGINT is passed on to record,
// which then stops cleanly.
// The extcap calls: --extcap-interfaces, --extcap-dlts, --extcap-config (each with
// --extcap-interface tcpscope where Wireshark gives it), --capture --fifo PATH, and
// --extcap-capture-filter FILTER alone (Wireshark checking a filter: accepted here, record checks
// it when the capture starts).
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace {

const char kInterface[] = "tcpscope";
// pcapng_writer.cpp declares every interface LINKTYPE_RAW: packets begin with the IP header.
const char kDlt[] = "dlt {number=101}{name=RAW}{display=Raw IPv4/IPv6 (TCP headers rebuilt by "
                    "tcpscope)}";

volatile sig_atomic_t g_stop = 0;
volatile pid_t g_child = 0;

extern "C" void onSignal(int sig)
{
    g_stop = sig;
    if (g_child > 0)
        kill(g_child, SIGINT); // record stops as on Ctrl-C: the file and the stream are finished
}

void usage()
{
    std::fprintf(stderr,
                 "Usage: tcpscope-extcap --extcap-interfaces\n"
                 "       tcpscope-extcap --extcap-dlts --extcap-interface tcpscope\n"
                 "       tcpscope-extcap --extcap-config --extcap-interface tcpscope\n"
                 "       tcpscope-extcap --capture --extcap-interface tcpscope --fifo PATH\n"
                 "                       [--filter EXPR] [--duration SECONDS] [--snap BYTES]\n"
                 "                       [--keep-session FILE]\n"
                 "Wireshark's extcap interface to 'tcpscope record --pcapng-out'; installed in\n"
                 "Wireshark's extcap directory, it shows up there as the interface tcpscope.\n");
}

// The tcpscope to run: $TCPSCOPE_BIN, else the one next to this program (a build tree), else the
// installed one.
std::string tcpscopePath()
{
    if (const char *env = std::getenv("TCPSCOPE_BIN"); env && *env)
        return env;
    char self[4096];
    const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        std::string dir(self, size_t(n));
        dir.resize(dir.rfind('/') + 1);
        std::string beside = dir + "tcpscope";
        if (access(beside.c_str(), X_OK) == 0)
            return beside;
    }
    return TCPSCOPE_INSTALLED_BIN;
}

bool digitsOnly(const std::string &s)
{
    return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

void removeSession(const std::string &path)
{
    for (const char *suffix : {"", "-wal", "-shm", "-journal"})
        unlink((path + suffix).c_str());
}

int capture(const std::map<std::string, std::string> &opt)
{
    const auto value = [&](const char *name) {
        const auto it = opt.find(name);
        return it == opt.end() ? std::string() : it->second;
    };
    const std::string fifo = value("fifo");
    if (fifo.empty()) {
        std::fprintf(stderr, "tcpscope-extcap: --capture needs --fifo PATH\n");
        return 2;
    }
    std::string filter = value("filter");
    if (filter.empty())
        filter = value("extcap-capture-filter");
    const std::string duration = value("duration");
    const std::string snap = value("snap");
    if ((!duration.empty() && !digitsOnly(duration)) || (!snap.empty() && !digitsOnly(snap))) {
        std::fprintf(stderr, "tcpscope-extcap: --duration and --snap take a number\n");
        return 2;
    }
    std::string session = value("keep-session");
    const bool temporary = session.empty();
    std::string tempDir;
    if (temporary) {
        const char *tmp = std::getenv("TMPDIR");
        std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/tcpscope-extcap.XXXXXX";
        std::vector<char> buf(templ.begin(), templ.end());
        buf.push_back('\0');
        if (!mkdtemp(buf.data())) {
            std::fprintf(stderr, "tcpscope-extcap: cannot create a temporary directory: %s\n",
                         std::strerror(errno));
            return 1;
        }
        tempDir = buf.data();
        session = tempDir + "/capture.tcpscope";
    }

    std::vector<std::string> args = {tcpscopePath(), "record",       "-q", "-o",
                                     session,        "--pcapng-out", fifo};
    if (!filter.empty())
        args.insert(args.end(), {"--filter", filter});
    if (!duration.empty() && duration != "0")
        args.insert(args.end(), {"--duration", duration});
    if (!snap.empty() && snap != "0")
        args.insert(args.end(), {"--snap", snap});
    if (!temporary)
        args.push_back("--force"); // the user named the file in the dialog

    struct sigaction sa
    {
    };
    sa.sa_handler = onSignal;
    sigemptyset(&sa.sa_mask);
    for (int sig : {SIGTERM, SIGINT, SIGHUP})
        sigaction(sig, &sa, nullptr);
    std::signal(SIGPIPE, SIG_IGN);

    const pid_t child = fork();
    if (child < 0) {
        std::fprintf(stderr, "tcpscope-extcap: fork: %s\n", std::strerror(errno));
        return 1;
    }
    if (child == 0) {
        // record's summary goes where Wireshark shows an extcap's messages: stderr.
        dup2(STDERR_FILENO, STDOUT_FILENO);
        std::signal(SIGPIPE, SIG_DFL);
        std::vector<char *> argv;
        argv.reserve(args.size() + 1);
        for (std::string &a : args)
            argv.push_back(a.data());
        argv.push_back(nullptr);
        execv(argv[0], argv.data());
        std::fprintf(stderr, "tcpscope-extcap: cannot run %s: %s\n", argv[0], std::strerror(errno));
        _exit(127);
    }
    g_child = child;
    if (g_stop != 0)
        kill(child, SIGINT); // a signal that came before g_child was set
    int status = 0;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    g_child = 0;
    if (temporary) {
        removeSession(session);
        rmdir(tempDir.c_str());
    }
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return 1;
}

} // namespace

int main(int argc, char **argv)
{
    // Options as --name VALUE or --name=VALUE; the flags below take no value.
    static const char *const flags[] = {"extcap-interfaces", "extcap-dlts", "extcap-config",
                                        "capture", "help"};
    std::map<std::string, std::string> opt;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a.rfind("--", 0) != 0) {
            std::fprintf(stderr, "tcpscope-extcap: unexpected argument '%s'\n", a.c_str());
            usage();
            return 2;
        }
        a.erase(0, 2);
        const size_t eq = a.find('=');
        if (eq != std::string::npos) {
            opt[a.substr(0, eq)] = a.substr(eq + 1);
            continue;
        }
        bool flag = false;
        for (const char *f : flags)
            flag = flag || a == f;
        if (flag || i + 1 >= argc)
            opt[a] = "1";
        else
            opt[a] = argv[++i];
    }
    const auto has = [&](const char *name) { return opt.count(name) > 0; };
    if (has("help")) {
        usage();
        return 0;
    }
    if (has("extcap-interfaces")) {
        std::printf("extcap {version=%s}{display=tcpscope}\n", TCPSCOPE_VERSION);
        std::printf("interface {value=%s}{display=tcpscope: TCP connections with process data "
                    "(eBPF)}\n",
                    kInterface);
        return 0;
    }
    if (has("extcap-version") && !has("capture") && !has("extcap-dlts") && !has("extcap-config")) {
        std::printf("extcap {version=%s}{display=tcpscope}\n", TCPSCOPE_VERSION);
        return 0;
    }
    if (has("extcap-interface") && opt["extcap-interface"] != kInterface) {
        std::fprintf(stderr, "tcpscope-extcap: no interface '%s' (there is only '%s')\n",
                     opt["extcap-interface"].c_str(), kInterface);
        return 2;
    }
    if (has("extcap-dlts")) {
        std::printf("%s\n", kDlt);
        return 0;
    }
    if (has("extcap-config")) {
        std::printf("arg {number=0}{call=--filter}{display=Capture filter}{type=string}"
                    "{tooltip=tcpscope's kernel-side filter: port N[,N], host ADDR, net ADDR/LEN, "
                    "iface NAME (tcpscope record --filter)}{group=Capture}\n");
        std::printf("arg {number=1}{call=--duration}{display=Duration (seconds, 0 = until "
                    "stopped)}{type=unsigned}{default=0}{tooltip=tcpscope record --duration}"
                    "{group=Capture}\n");
        std::printf("arg {number=2}{call=--snap}{display=Payload bytes per packet}"
                    "{type=unsigned}{default=0}{range=0,256}{tooltip=tcpscope record --snap}"
                    "{group=Capture}\n");
        std::printf("arg {number=3}{call=--keep-session}{display=Keep the session in}"
                    "{type=fileselect}{mustexist=false}{tooltip=a tcpscope session file to keep "
                    "(empty: a temporary one, removed after the capture)}{group=Session}\n");
        return 0;
    }
    if (has("capture"))
        return capture(opt);
    if (has("extcap-capture-filter"))
        return 0; // Wireshark checking a filter: record checks it when the capture starts
    usage();
    return 2;
}
