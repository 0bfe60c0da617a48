// crmsync-sender: delivers what the crmsync output plugin streams to a CRM, confirming the
// LSN to Postgres only after the CRM accepted it. See `crmsync-sender --help`.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "app/backfill_command.hpp"
#include "app/check.hpp"
#include "app/run_loop.hpp"
#include "core/config.hpp"

#ifndef CRMSYNC_VERSION
#define CRMSYNC_VERSION "0.1.0"
#endif

extern char** environ;

namespace {

std::optional<crmsync::sender::Config> load(const std::string& path) {
    auto loaded = crmsync::sender::load_config_file(path, crmsync::sender::environment_from(environ));
    for (const auto& warning : loaded.warnings) std::cerr << "crmsync-sender warning: " << warning << '\n';
    if (!loaded.config) {
        std::cerr << "crmsync-sender: the configuration has " << loaded.errors.size() << " problem(s):\n";
        for (const auto& error : loaded.errors) std::cerr << "  " << error << '\n';
    }
    return loaded.config;
}

}  // namespace

int main(int argc, char** argv) {
    // Termination signals are read from a signalfd by the event loop; block them before any
    // thread (metrics server, libcurl's resolver) starts so none of them takes the signal.
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);  // re-read the token (docs/security.md)
    pthread_sigmask(SIG_BLOCK, &mask, nullptr);
    signal(SIGPIPE, SIG_IGN);

    CLI::App app{"crmsync-sender: keeps a CRM in step with Postgres through the crmsync output plugin"};
    app.set_version_flag("--version", std::string("crmsync-sender ") + CRMSYNC_VERSION);
    app.require_subcommand(1);
    std::string config_path;
    auto* run = app.add_subcommand("run", "stream the slot to the CRM until SIGTERM");
    run->add_option("-c,--config", config_path, "config file, e.g. /etc/crmsync/hubspot.toml")->required();
    auto* check = app.add_subcommand("check", "check config, Postgres, slot, mappings and the CRM; exit 1 on a failure");
    check->add_option("-c,--config", config_path, "config file")->required();
    std::vector<std::string> backfill_tables;
    auto* backfill = app.add_subcommand(
        "backfill", "send the existing rows of mapped tables to the CRM (re-sync), in step with streaming; "
                    "a running sender does the work and this command follows it");
    backfill->add_option("-c,--config", config_path, "config file")->required();
    backfill->add_option("-t,--table", backfill_tables, "a mapped table (repeatable); default: every mapped table");
    app.footer(
        "Every config key can be overridden by the environment: CRMSYNC_<SECTION>_<KEY>, e.g. CRMSYNC_TARGET_URL.\n"
        "Exit status: 0 stopped cleanly, 1 error, 2 bad configuration or usage, 3 stopped on a rejected record.");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int code = app.exit(e);
        return code == 0 ? 0 : 2;
    }
    auto config = load(config_path);
    if (!config) return 2;
    try {
        if (*check) return crmsync::sender::run_check(*config);
        if (*backfill) return crmsync::sender::run_backfill(*config, backfill_tables);
        return crmsync::sender::run_sender(*config);
    } catch (const std::exception& e) {
        std::cerr << "crmsync-sender: " << e.what() << '\n';
        return 1;
    }
}
