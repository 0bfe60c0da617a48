// libpq handles owned by unique_ptr, and libpq's error text without its trailing newline.
// Error texts from libpq never contain the conninfo's password.
#pragma once

#include <libpq-fe.h>

#include <memory>
#include <string>

namespace crmsync::sender {

struct PgResultDeleter {
    void operator()(PGresult* result) const { PQclear(result); }
};
using PgResult = std::unique_ptr<PGresult, PgResultDeleter>;

struct PgConnDeleter {
    void operator()(PGconn* conn) const { PQfinish(conn); }
};
using PgConn = std::unique_ptr<PGconn, PgConnDeleter>;

inline std::string pq_error(const PGconn* conn) {
    std::string message = conn ? PQerrorMessage(conn) : "out of memory";
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
    return message;
}

}  // namespace crmsync::sender
