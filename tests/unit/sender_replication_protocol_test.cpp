// Streaming replication wire format: pg_recvlogical's 'w', 'k' and 'r' messages, and LSNs.
#include "core/replication_protocol.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace crmsync::sender;

namespace {

void put_be64(std::string& out, std::uint64_t value) {
    for (int shift = 56; shift >= 0; shift -= 8) out += static_cast<char>((value >> shift) & 0xFF);
}

std::string xlogdata_frame(std::uint64_t start, std::uint64_t end, std::int64_t time, std::string_view payload) {
    std::string frame = "w";
    put_be64(frame, start);
    put_be64(frame, end);
    put_be64(frame, static_cast<std::uint64_t>(time));
    frame += payload;
    return frame;
}

std::string keepalive_frame(std::uint64_t end, std::int64_t time, bool reply) {
    std::string frame = "k";
    put_be64(frame, end);
    put_be64(frame, static_cast<std::uint64_t>(time));
    frame += reply ? '\1' : '\0';
    return frame;
}

}  // namespace

TEST(Lsn, ParsesAndFormatsLikePostgres) {
    EXPECT_EQ(parse_lsn("0/16B37A0")->value, 0x16B37A0u);
    EXPECT_EQ(parse_lsn("16/B374D848")->value, 0x16B374D848u);
    EXPECT_EQ(parse_lsn("FFFFFFFF/FFFFFFFF")->value, ~std::uint64_t{0});
    EXPECT_EQ(parse_lsn("0/0")->value, 0u);
    EXPECT_EQ(parse_lsn("a/b")->value, 0xA0000000Bu);
    EXPECT_EQ(format_lsn(Lsn{0x16B37A0}), "0/16B37A0");
    EXPECT_EQ(format_lsn(Lsn{0x16B374D848}), "16/B374D848");
    EXPECT_EQ(format_lsn(Lsn{0}), "0/0");
    for (std::string text : {"0/16B37A0", "16/B374D848", "FFFFFFFF/FFFFFFFF", "1/0"})
        EXPECT_EQ(format_lsn(*parse_lsn(text)), text);
}

TEST(Lsn, RejectsMalformed) {
    for (std::string_view bad : {"", "/", "0/", "/0", "16B37A0", "G/1", "1/G", "123456789/0", "0/123456789", "0/1/2",
                                 " 0/1", "0/1 ", "-1/0", "+1/0", "0x1/0"})
        EXPECT_FALSE(parse_lsn(bad)) << bad;
}

TEST(EventId, OrdersByCommitLsnThenSeq) {
    EXPECT_LT((EventId{Lsn{1}, 9}), (EventId{Lsn{2}, 1}));
    EXPECT_LT((EventId{Lsn{2}, 1}), (EventId{Lsn{2}, 2}));
    EXPECT_EQ(format_event_id(EventId{Lsn{0x16B37A0}, 3}), "0/16B37A0#3");
}

TEST(ReplicationProtocol, ParsesXLogData) {
    const std::string frame = xlogdata_frame(0x0102030405060708, 0x1112131415161718, 777'000'123, R"({"action":"commit"})");
    auto parsed = parse_server_message(frame);
    ASSERT_TRUE(parsed) << parsed.error();
    const auto* data = std::get_if<XLogData>(&*parsed);
    ASSERT_NE(data, nullptr);
    EXPECT_EQ(data->data_start.value, 0x0102030405060708u);
    EXPECT_EQ(data->wal_end.value, 0x1112131415161718u);
    EXPECT_EQ(data->send_time, 777'000'123);
    EXPECT_EQ(data->payload, R"({"action":"commit"})");
    EXPECT_EQ(data->payload.data(), frame.data() + 25);  // a view, not a copy
}

TEST(ReplicationProtocol, ParsesXLogDataWithEmptyPayload) {
    auto parsed = parse_server_message(xlogdata_frame(1, 2, 3, ""));
    ASSERT_TRUE(parsed);
    EXPECT_TRUE(std::get<XLogData>(*parsed).payload.empty());
}

TEST(ReplicationProtocol, ParsesKeepalive) {
    auto parsed = parse_server_message(keepalive_frame(0xAB00000001, -5, true));
    ASSERT_TRUE(parsed) << parsed.error();
    const auto& keepalive = std::get<PrimaryKeepalive>(*parsed);
    EXPECT_EQ(keepalive.wal_end.value, 0xAB00000001u);
    EXPECT_EQ(keepalive.send_time, -5);
    EXPECT_TRUE(keepalive.reply_requested);
    EXPECT_FALSE(std::get<PrimaryKeepalive>(*parse_server_message(keepalive_frame(1, 1, false))).reply_requested);
}

TEST(ReplicationProtocol, TruncatedAndUnknownFramesAreErrors) {
    const std::string w = xlogdata_frame(1, 2, 3, "");
    for (std::size_t n = 1; n < w.size(); ++n) {
        auto parsed = parse_server_message(std::string_view(w).substr(0, n));
        ASSERT_FALSE(parsed) << n;
        EXPECT_NE(parsed.error().find("truncated 'w'"), std::string::npos) << parsed.error();
    }
    const std::string k = keepalive_frame(1, 2, true);
    for (std::size_t n = 1; n < k.size(); ++n) EXPECT_FALSE(parse_server_message(std::string_view(k).substr(0, n))) << n;
    EXPECT_FALSE(parse_server_message(""));
    auto unknown = parse_server_message(std::string("x12345678901234567890123456"));
    ASSERT_FALSE(unknown);
    EXPECT_NE(unknown.error().find("0x78"), std::string::npos) << unknown.error();
}

TEST(ReplicationProtocol, BuildsStandbyStatusUpdateByteExact) {
    StandbyStatusUpdate update{Lsn{0x0000000100000002}, Lsn{0x0000000300000004}, Lsn{0x0000000500000006}, 0x0102030405060708,
                               true};
    const auto frame = build_standby_status_update(update);
    const std::string expected = std::string("r") + std::string("\0\0\0\1\0\0\0\2", 8) + std::string("\0\0\0\3\0\0\0\4", 8) +
                                 std::string("\0\0\0\5\0\0\0\6", 8) + std::string("\1\2\3\4\5\6\7\x08", 8) + "\1";
    EXPECT_EQ(std::string(frame.data(), frame.size()), expected);
}

TEST(ReplicationProtocol, StandbyStatusUpdateRoundTrips) {
    for (bool reply : {false, true}) {
        StandbyStatusUpdate update{Lsn{0x16B37D8}, Lsn{0x16B37A0}, Lsn{0}, to_pg_timestamp(std::chrono::system_clock::now()),
                                   reply};
        const auto frame = build_standby_status_update(update);
        auto parsed = parse_standby_status_update(std::string_view(frame.data(), frame.size()));
        ASSERT_TRUE(parsed) << parsed.error();
        EXPECT_EQ(*parsed, update);
    }
    const auto frame = build_standby_status_update({});
    EXPECT_FALSE(parse_standby_status_update(std::string_view(frame.data(), frame.size() - 1)));
    EXPECT_FALSE(parse_standby_status_update("k"));
}

TEST(ReplicationProtocol, PostgresEpochIs2000) {
    using namespace std::chrono;
    const system_clock::time_point y2k = sys_days(year(2000) / January / 1);
    EXPECT_EQ(to_pg_timestamp(y2k), 0);
    EXPECT_EQ(to_pg_timestamp(y2k + microseconds(1'500'000)), 1'500'000);
    EXPECT_EQ(to_pg_timestamp(sys_days(year(1970) / January / 1)), -946'684'800'000'000);
    EXPECT_EQ(from_pg_timestamp(123'456), y2k + microseconds(123'456));
}
