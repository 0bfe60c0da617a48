#include "core/secret_file.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

namespace crmsync::sender {

namespace {

std::string shown(const std::filesystem::path& path) {
    std::string out = "\"";
    for (char c : path.string()) out += static_cast<unsigned char>(c) < 0x20 ? '?' : c;
    return out + "\"";
}

}  // namespace

Result<Secret> read_secret_file(const std::filesystem::path& path, std::string_view holds) {
    std::error_code ignored;
    if (std::filesystem::is_directory(path, ignored))
        return Error{shown(path) + " is a directory; expected the file holding " + std::string(holds)};
    std::ifstream in(path, std::ios::binary);
    if (!in) return Error{shown(path) + " cannot be read: " + std::strerror(errno)};
    std::ostringstream content;
    content << in.rdbuf();
    if (in.bad()) return Error{shown(path) + " cannot be read: " + std::strerror(errno)};
    std::string text = content.str();
    const auto last = text.find_last_not_of(" \t\r\n\v\f");
    text.erase(last == std::string::npos ? 0 : last + 1);
    const auto first = text.find_first_not_of(" \t\r\n\v\f");
    text.erase(0, first == std::string::npos ? text.size() : first);
    if (text.empty()) return Error{shown(path) + " is empty; it must hold " + std::string(holds)};
    return Secret(std::move(text));
}

bool readable_by_everyone(const std::filesystem::path& path) {
    struct stat st{};
    return ::stat(path.c_str(), &st) == 0 && (st.st_mode & S_IROTH);
}

}  // namespace crmsync::sender
