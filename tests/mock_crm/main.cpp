// crmsync-mock-crm: the mock CRM as a process, for end-to-end tests, the demo and benchmarks.
//   crmsync-mock-crm --listen 127.0.0.1:0 [--port-file PATH] [--token TOKEN] [--seed N]
//                    [--webhook-path /webhook] [--threads N] [--quiet] [--state-file PATH]
//                    [--token-ttl-s N] [--latency MEDIAN_MS,P99_MS|0] [--hubspot-per-10s N]
//                    [--hubspot-daily N] [--salesforce-daily N] [--oauth-client-id ID ...]
#include <CLI/CLI.hpp>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>

#include <unistd.h>

#include "mock_crm_server.h"

namespace {

// "127.0.0.1:0", "localhost:8080", "[::1]:0" -> host, port.
bool split_listen(const std::string& listen, std::string& host, int& port) {
    size_t colon = listen.rfind(':');
    if (colon == std::string::npos || colon == 0) return false;
    host = listen.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    std::string digits = listen.substr(colon + 1);
    if (digits.empty() || digits.size() > 5 || digits.find_first_not_of("0123456789") != std::string::npos)
        return false;
    port = std::stoi(digits);
    return port <= 65535;
}

// Parallel tests poll for the port file: it must never be seen half-written.
bool write_port_file(const std::string& path, int port) {
    std::string tmp = path + ".tmp." + std::to_string(getpid());
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << port << "\n";
        if (!out.flush()) return false;
    }
    return std::rename(tmp.c_str(), path.c_str()) == 0;
}

// The state is saved beside the file by a temporary file and a rename: find out now, not at
// the stop, that this cannot work.
std::string state_dir_problem(const std::string& path) {
    std::filesystem::path dir = std::filesystem::path(path).parent_path();
    if (dir.empty()) dir = ".";
    if (access(dir.c_str(), W_OK | X_OK) != 0)
        return "directory " + dir.string() + " is not writable: " + std::strerror(errno);
    return {};
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"crmsync-mock-crm: HubSpot, Salesforce and webhook shaped mock CRM on loopback"};
    std::string listen = "127.0.0.1:0";
    std::string port_file;
    crmsync::mock_crm::MockCrmOptions options;
    bool quiet = false;
    app.add_option("--listen", listen, "host:port to listen on; port 0 picks a free one")
        ->capture_default_str();
    app.add_option("--port-file", port_file, "write the bound port here (atomically) once listening");
    app.add_option("--token", options.token, "require Authorization: Bearer TOKEN on CRM requests");
    app.add_option("--seed", options.seed, "seed of the fault injection PRNG")->capture_default_str();
    app.add_option("--webhook-path", options.webhook_path, "path of the webhook endpoint")
        ->capture_default_str()
        ->check([](const std::string& p) { return !p.empty() && p[0] == '/' ? "" : "must start with /"; });
    app.add_option("--threads", options.threads, "connections served at once")
        ->capture_default_str()
        ->check(CLI::Range(8, 1024));
    app.add_flag("--quiet", quiet, "do not log each CRM request to stderr");
    std::string state_file;
    app.add_option("--state-file", state_file,
                   "load the CRM state from PATH at start if it exists; save it there (atomically) "
                   "on SIGTERM/SIGINT");
    app.add_option("--token-ttl-s", options.token_ttl_s,
                   "tokens (static and OAuth-issued) expire this many seconds after issue; 0 = never")
        ->capture_default_str()
        ->check(CLI::Range(int64_t{0}, int64_t{365} * 86400));
    std::string latency = "120,600";
    app.add_option("--latency", latency,
                   "HubSpot/Salesforce response latency, lognormal: MEDIAN_MS,P99_MS; 0 = none")
        ->capture_default_str();
    // Defaults: HubSpot's Professional tier (190 per 10 s, 650,000 a day, "API usage guidelines
    // and limits") and Salesforce Enterprise Edition's base daily allocation (100,000, "API
    // Request Limits and Allocations"). 0 = unlimited.
    options.hubspot_per_10s = 190;
    options.hubspot_daily = 650000;
    options.salesforce_daily = 100000;
    app.add_option("--hubspot-per-10s", options.hubspot_per_10s, "HubSpot requests per rolling 10 s; 0 = unlimited")
        ->capture_default_str()
        ->check(CLI::Range(int64_t{0}, int64_t{1000000000}));
    app.add_option("--hubspot-daily", options.hubspot_daily, "HubSpot requests per day; 0 = unlimited")
        ->capture_default_str()
        ->check(CLI::Range(int64_t{0}, int64_t{1000000000}));
    app.add_option("--salesforce-daily", options.salesforce_daily, "Salesforce API requests per day; 0 = unlimited")
        ->capture_default_str()
        ->check(CLI::Range(int64_t{0}, int64_t{1000000000}));
    app.add_option("--oauth-client-id", options.oauth.client_id, "Salesforce connected app consumer key (JWT iss)");
    app.add_option("--oauth-client-secret", options.oauth.client_secret, "its consumer secret");
    app.add_option("--oauth-refresh-token", options.oauth.refresh_token, "the refresh token grant_type=refresh_token takes");
    app.add_option("--oauth-username", options.oauth.username, "the integration user (JWT sub)");
    app.add_option("--oauth-jwt-cert", options.oauth.jwt_cert_path,
                   "PEM certificate (or public key) that verifies JWT bearer assertions")
        ->check(CLI::ExistingFile);
    app.add_option("--oauth-audience", options.oauth.audience, "the JWT aud the token endpoint accepts")
        ->capture_default_str();
    CLI11_PARSE(app, argc, argv);
    options.log_requests = !quiet;
    if (latency != "0") {
        size_t comma = latency.find(',');
        try {
            if (comma == std::string::npos) throw std::invalid_argument("no comma");
            options.latency_median_ms = std::stod(latency.substr(0, comma));
            options.latency_p99_ms = std::stod(latency.substr(comma + 1));
        } catch (const std::exception&) {
            options.latency_median_ms = -1;
        }
        if (!(options.latency_median_ms > 0) || options.latency_p99_ms < options.latency_median_ms) {
            std::fprintf(stderr, "crmsync-mock-crm: --latency must be MEDIAN_MS,P99_MS with 0 < MEDIAN <= P99, or 0; got \"%s\"\n",
                         latency.c_str());
            return 2;
        }
    }

    std::string host;
    int port = 0;
    if (!split_listen(listen, host, port)) {
        std::fprintf(stderr, "crmsync-mock-crm: --listen must be host:port, got \"%s\"\n", listen.c_str());
        return 2;
    }

    // Block the stop signals before any thread starts, so every thread inherits the mask and
    // only sigwait below receives them.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    crmsync::mock_crm::MockCrmServer server(options);
    if (!state_file.empty()) {
        if (std::string problem = state_dir_problem(state_file); !problem.empty()) {
            std::fprintf(stderr, "crmsync-mock-crm: --state-file %s: %s\n", state_file.c_str(), problem.c_str());
            return 2;
        }
        try {
            if (auto loaded = server.load_state(state_file)) {
                std::fprintf(stderr, "crmsync-mock-crm: state loaded from %s: %zu records, %zu webhook event ids\n",
                             state_file.c_str(), loaded->records, loaded->applied_events);
            } else {
                std::fprintf(stderr, "crmsync-mock-crm: no state file %s yet, starting empty\n", state_file.c_str());
            }
        } catch (const std::exception& e) {
            // Never start empty over a file that holds data: the test would run against a
            // CRM that silently forgot everything.
            std::fprintf(stderr, "crmsync-mock-crm: %s\n", e.what());
            return 2;
        }
    }
    int bound = 0;
    try {
        bound = server.bind(host, port);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "crmsync-mock-crm: %s\n", e.what());
        return 1;
    }
    if (!port_file.empty() && !write_port_file(port_file, bound)) {
        std::fprintf(stderr, "crmsync-mock-crm: cannot write port file %s\n", port_file.c_str());
        return 1;
    }
    std::fprintf(stderr, "crmsync-mock-crm listening on %s:%d\n", host.c_str(), bound);

    auto serving = std::async(std::launch::async, [&server] { server.run(); });
    int signal_number = 0;
    sigwait(&stop_signals, &signal_number);
    server.stop();
    // Idle keep-alive connections hold their threads until they time out; a slow fault may
    // hold one longer. Past a grace period just leave (the state is in memory, or saved).
    bool drained = serving.wait_for(std::chrono::seconds(3)) == std::future_status::ready;
    int exit_code = 0;
    if (!state_file.empty()) {
        try {
            // Not drained: a request still in flight must not apply, and be acknowledged,
            // after the snapshot; the state stays locked until the _Exit below.
            server.save_state(state_file, /*stay_frozen=*/!drained);
            std::fprintf(stderr, "crmsync-mock-crm: state saved to %s\n", state_file.c_str());
        } catch (const std::exception& e) {
            std::fprintf(stderr, "crmsync-mock-crm: %s\n", e.what());
            exit_code = 1;
        }
    }
    if (!drained) {
        std::fflush(stderr);
        std::_Exit(exit_code);
    }
    return exit_code;
}
