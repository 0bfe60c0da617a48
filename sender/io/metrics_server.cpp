#include "io/metrics_server.hpp"

#include <httplib.h>

#include <algorithm>
#include <chrono>

namespace crmsync::sender {

MetricsServer::MetricsServer(const Metrics& metrics) : metrics_(metrics), server_(std::make_unique<httplib::Server>()) {}

MetricsServer::~MetricsServer() {
    if (server_) server_->stop();
    if (thread_.joinable()) thread_.join();
}

Status MetricsServer::start(const std::string& listen) {
    auto colon = listen.rfind(':');
    if (colon == std::string::npos) return Error{"metrics.listen must be host:port, got \"" + listen + "\""};
    std::string host = listen.substr(0, colon);
    if (host.size() > 1 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    int port = 0;
    try {
        port = std::stoi(listen.substr(colon + 1));
    } catch (...) {
        return Error{"metrics.listen must be host:port, got \"" + listen + "\""};
    }
    server_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
        res.set_content(metrics_.render_prometheus(), "text/plain; version=0.0.4");
    });
    server_->Get("/healthz", [this](const httplib::Request&, httplib::Response& res) {
        // Healthy while streaming and the loop made progress in the last 30 s.
        auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
        bool streaming = metrics_.streaming.load();
        bool loop_alive = now_ms - metrics_.last_progress_unix_ms.load() < 30000;
        // Records waiting and none settled for a minute: the CRM is not taking them.
        bool delivering = metrics_.queued_records.load() == 0 ||
                          now_ms - std::max(metrics_.last_settled_unix_ms.load(),
                                            metrics_.waiting_since_unix_ms.load()) < 60000;
        const std::string held = metrics_.configuration_error();
        const std::string quota = metrics_.quota_wait();
        std::string state = !streaming      ? "not streaming: replication connection down\n"
                            : !loop_alive   ? "stalled: the event loop made no progress for 30 s\n"
                            : !held.empty() ? "held: " + held + "\n"
                            : !quota.empty() ? "waiting for the CRM's daily request budget: " + quota + "\n"
                            : !delivering   ? "not delivering: records are waiting and the CRM accepted none for 60 s\n"
                                            : "ok\n";
        res.status = streaming && loop_alive && held.empty() && quota.empty() && delivering ? 200 : 503;
        res.set_content(state, "text/plain");
    });
    // Not SO_REUSEPORT (httplib's default): a second sender on the same port must fail to
    // start, not silently share the scrapes.
    server_->set_socket_options([](socket_t sock) {
        int yes = 1;
        setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, reinterpret_cast<const void*>(&yes), sizeof yes);
    });
    if (port == 0) {
        port_ = server_->bind_to_any_port(host);
        if (port_ < 0) return Error{"could not listen on " + listen};
    } else {
        if (!server_->bind_to_port(host, port)) return Error{"could not listen on " + listen + " (address in use?)"};
        port_ = port;
    }
    thread_ = std::thread([this] { server_->listen_after_bind(); });
    return ok_status();
}

}  // namespace crmsync::sender
