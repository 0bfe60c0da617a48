// /metrics (Prometheus text) and /healthz on delivery's metrics.listen address, served by
// cpp-httplib on its own thread; it only reads the atomics in Metrics.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "core/result.hpp"
#include "core/metrics.hpp"

namespace httplib {
class Server;
}

namespace crmsync::sender {

class MetricsServer {
public:
    explicit MetricsServer(const Metrics& metrics);
    ~MetricsServer();
    // "host:port"; port 0 picks a free one (see port()).
    Status start(const std::string& listen);
    int port() const { return port_; }

private:
    const Metrics& metrics_;
    std::unique_ptr<httplib::Server> server_;
    std::thread thread_;
    int port_ = 0;
};

}  // namespace crmsync::sender
