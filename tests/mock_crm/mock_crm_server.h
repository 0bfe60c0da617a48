// crmsync-mock-crm's HTTP server: cpp-httplib on loopback, one thread per connection from a
// fixed pool (keep-alive connections each hold a thread while open). Routes requests to the
// HubSpot, Salesforce and webhook shapes after the gates a real CRM puts first: reachability
// (down, drop), authentication, rate limiting and server errors.
#pragma once

#include <cstdint>
#include <ctime>
#include <memory>
#include <string>
#include <thread>

#include "api_common.h"
#include "faults.h"
#include "quotas.h"
#include "salesforce_oauth.h"
#include "tokens.h"
#include "state_file.h"
#include "stats.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace crmsync::mock_crm {

struct MockCrmOptions {
    std::string token;                  // required as "Authorization: Bearer <token>" when set
    uint64_t seed = 1;                  // fault PRNG seed
    std::string webhook_path = "/webhook";
    bool log_requests = false;          // one line per CRM request on stderr
    size_t threads = 32;                // concurrent connections served
    time_t keep_alive_timeout_s = 5;    // idle keep-alive connections are closed after this
    int64_t token_ttl_s = 0;            // tokens expire this long after issue; 0 = never
    // Quotas (quotas.h), 0 = unlimited; the command line gives realistic defaults.
    int64_t hubspot_per_10s = 0;
    int64_t hubspot_daily = 0;
    int64_t salesforce_daily = 0;
    // Response latency of HubSpot and Salesforce requests: lognormal with this median and
    // 99th percentile (ms); 0 = none.
    double latency_median_ms = 0;
    double latency_p99_ms = 0;
    OAuthOptions oauth;                 // Salesforce token endpoint (salesforce_oauth.h)
};

class MockCrmServer {
public:
    explicit MockCrmServer(MockCrmOptions options);
    ~MockCrmServer();
    MockCrmServer(const MockCrmServer&) = delete;
    MockCrmServer& operator=(const MockCrmServer&) = delete;

    // Binds and listens (port 0 = ephemeral); returns the bound port. Throws on failure.
    int bind(const std::string& host, int port);
    // Serves until stop(); returns once in-flight requests and open connections are done.
    void run();
    // run() on a background thread, for in-process tests; stop() or the destructor joins it.
    void start();
    void stop();
    int port() const { return port_; }

    // --state-file (state_file.h). load_state before run(): nullopt when there is no file.
    // Throws std::runtime_error naming the file and what is wrong with it.
    std::optional<LoadedState> load_state(const std::string& path);
    // Saves the CRM state atomically; throws std::runtime_error. With stay_frozen the state
    // lock is kept from the snapshot on, so a request still in flight can no longer apply
    // (and be acknowledged) after it: only for a process about to leave with _Exit.
    void save_state(const std::string& path, bool stay_frozen = false);

private:
    void handle(const httplib::Request& req, httplib::Response& res);
    void handle_crm_request(const httplib::Request& req, httplib::Response& res);
    void drop(const httplib::Request& req, httplib::Response& res);

    MockCrmOptions options_;
    std::unique_ptr<httplib::Server> http_;
    SharedState shared_;
    Stats stats_;
    FaultInjector faults_;
    TokenStore tokens_;
    Quotas quotas_;
    int port_ = -1;
    std::thread thread_;
};

}  // namespace crmsync::mock_crm
