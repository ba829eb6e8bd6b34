// SPDX-License-Identifier: GPL-3.0-or-later
// tcpscope-cli: the subcommands of tcpscope without the graphical app, for servers that only
// record, watch and export. It links Qt Core but neither Qt Widgets nor QCustomPlot; chart
// export loads its renderer at run time (cli_chart_module.cpp).
#include "cli.h"

int main(int argc, char **argv)
{
    return tcpscope::cli::run(argc, argv);
}
