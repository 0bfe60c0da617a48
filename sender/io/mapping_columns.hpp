// Which table columns a CRM property's values come from, read from crmsync.mappings: the
// reason a value is refused names them ("column stage of public.leads"), so the operator
// knows which rows to fix. Asked only when a value is refused; answers are kept for a minute.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "io/sql_connection.hpp"

namespace crmsync::sender {

class MappingColumns {
public:
    MappingColumns(std::string conninfo, std::string crm);
    // "column stage of public.leads" (several: "columns a of t1, b of t2"); empty when the
    // catalog cannot be read or maps nothing to it.
    std::string source_of(std::string_view object, std::string_view property);

private:
    SqlConnection sql_;
    std::string crm_;
    std::map<std::pair<std::string, std::string>, std::string> known_;
    std::chrono::steady_clock::time_point known_since_{};
};

}  // namespace crmsync::sender
