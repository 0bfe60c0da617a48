#include "core/replication_protocol.hpp"

#include <string>

namespace crmsync::sender {

namespace {

// 2000-01-01 minus 1970-01-01, in seconds (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE days).
constexpr std::int64_t kPgEpochOffsetSeconds = 946'684'800;

constexpr std::size_t kXLogDataHeaderSize = 1 + 8 + 8 + 8;
constexpr std::size_t kKeepaliveSize = 1 + 8 + 8 + 1;

std::uint64_t read_be64(const char* p) {
    std::uint64_t value = 0;
    for (int i = 0; i < 8; ++i) value = (value << 8) | static_cast<unsigned char>(p[i]);
    return value;
}

void write_be64(char* p, std::uint64_t value) {
    for (int i = 7; i >= 0; --i) {
        p[i] = static_cast<char>(value & 0xFF);
        value >>= 8;
    }
}

Error truncated(char kind, std::size_t need, std::size_t got) {
    return Error{std::string("truncated '") + kind + "' message: " + std::to_string(got) +
                 " bytes, need at least " + std::to_string(need)};
}

}  // namespace

PgTimestamp to_pg_timestamp(std::chrono::system_clock::time_point time) {
    auto since_unix = std::chrono::duration_cast<std::chrono::microseconds>(time.time_since_epoch());
    return since_unix.count() - kPgEpochOffsetSeconds * 1'000'000;
}

std::chrono::system_clock::time_point from_pg_timestamp(PgTimestamp timestamp) {
    return std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::microseconds(timestamp + kPgEpochOffsetSeconds * 1'000'000)));
}

Result<ServerMessage> parse_server_message(std::string_view frame) {
    if (frame.empty()) return Error{"empty CopyData message"};
    const char kind = frame[0];
    const char* p = frame.data() + 1;
    switch (kind) {
        case 'w': {
            if (frame.size() < kXLogDataHeaderSize) return truncated(kind, kXLogDataHeaderSize, frame.size());
            XLogData data;
            data.data_start = Lsn{read_be64(p)};
            data.wal_end = Lsn{read_be64(p + 8)};
            data.send_time = static_cast<PgTimestamp>(read_be64(p + 16));
            data.payload = frame.substr(kXLogDataHeaderSize);
            return ServerMessage(data);
        }
        case 'k': {
            if (frame.size() < kKeepaliveSize) return truncated(kind, kKeepaliveSize, frame.size());
            PrimaryKeepalive keepalive;
            keepalive.wal_end = Lsn{read_be64(p)};
            keepalive.send_time = static_cast<PgTimestamp>(read_be64(p + 8));
            keepalive.reply_requested = p[16] != 0;
            return ServerMessage(keepalive);
        }
        default: {
            unsigned code = static_cast<unsigned char>(kind);
            return Error{"unknown replication message type 0x" + std::string(1, "0123456789abcdef"[code >> 4]) +
                         std::string(1, "0123456789abcdef"[code & 0xF]) + " (expected 'w' or 'k')"};
        }
    }
}

std::array<char, kStandbyStatusUpdateSize> build_standby_status_update(const StandbyStatusUpdate& update) {
    std::array<char, kStandbyStatusUpdateSize> frame{};
    frame[0] = 'r';
    write_be64(frame.data() + 1, update.write.value);
    write_be64(frame.data() + 9, update.flush.value);
    write_be64(frame.data() + 17, update.apply.value);
    write_be64(frame.data() + 25, static_cast<std::uint64_t>(update.client_time));
    frame[33] = update.reply_requested ? 1 : 0;
    return frame;
}

Result<StandbyStatusUpdate> parse_standby_status_update(std::string_view frame) {
    if (frame.empty() || frame[0] != 'r') return Error{"not a standby status update ('r')"};
    if (frame.size() < kStandbyStatusUpdateSize) return truncated('r', kStandbyStatusUpdateSize, frame.size());
    const char* p = frame.data() + 1;
    StandbyStatusUpdate update;
    update.write = Lsn{read_be64(p)};
    update.flush = Lsn{read_be64(p + 8)};
    update.apply = Lsn{read_be64(p + 16)};
    update.client_time = static_cast<PgTimestamp>(read_be64(p + 24));
    update.reply_requested = p[32] != 0;
    return update;
}

}  // namespace crmsync::sender
