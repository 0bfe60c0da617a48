// Fault "drop": close a connection without sending any response, as a crashed CRM, a load
// balancer timeout or a network cut would. cpp-httplib hands handlers no socket, so the
// connection is found by its address pair among the process's sockets.
#pragma once

#include <string>

namespace crmsync::mock_crm {

// Shuts down (both directions) the accepted socket whose local port is local_port and whose
// peer is remote_addr:remote_port. The client then reads end-of-file where a response should
// be. The server's own attempt to answer fails quietly: SIGPIPE must be ignored, which
// MockCrmServer does. Returns false if no such socket was found.
bool shut_down_connection(int local_port, const std::string& remote_addr, int remote_port);

}  // namespace crmsync::mock_crm
