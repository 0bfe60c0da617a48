#include "connection_drop.h"

#include <dirent.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cstdlib>
#include <memory>

namespace crmsync::mock_crm {
namespace {

bool address_of(int fd, bool peer, std::string& host, int& port) {
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    int rc = peer ? getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len)
                  : getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    if (rc != 0 || (addr.ss_family != AF_INET && addr.ss_family != AF_INET6)) return false;
    char h[NI_MAXHOST], p[NI_MAXSERV];
    // Same formatting as cpp-httplib uses for Request::remote_addr.
    if (getnameinfo(reinterpret_cast<sockaddr*>(&addr), len, h, sizeof(h), p, sizeof(p),
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
        return false;
    host = h;
    port = std::atoi(p);
    return true;
}

}  // namespace

bool shut_down_connection(int local_port, const std::string& remote_addr, int remote_port) {
    std::unique_ptr<DIR, int (*)(DIR*)> dir(opendir("/proc/self/fd"), closedir);
    if (!dir) return false;
    while (dirent* entry = readdir(dir.get())) {
        char* end = nullptr;
        long fd = std::strtol(entry->d_name, &end, 10);
        if (end == entry->d_name || *end != '\0' || fd == dirfd(dir.get())) continue;
        struct stat st{};
        if (fstat(static_cast<int>(fd), &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
        std::string local_host, peer_host;
        int local = 0, peer = 0;
        if (!address_of(static_cast<int>(fd), false, local_host, local) || local != local_port) continue;
        if (!address_of(static_cast<int>(fd), true, peer_host, peer) || peer != remote_port ||
            peer_host != remote_addr)
            continue;
        return shutdown(static_cast<int>(fd), SHUT_RDWR) == 0;
    }
    return false;
}

}  // namespace crmsync::mock_crm
