// resolve_failover: source.failover against the server's major. Unset means "a failover slot
// where PostgreSQL has them" (17 and later); true is refused before 17 with the reason.
#include "io/replication_stream.hpp"

#include <gtest/gtest.h>

using namespace crmsync::sender;

TEST(FailoverSlot, UnsetFollowsTheServer) {
    auto on15 = resolve_failover(std::nullopt, 150015);
    ASSERT_TRUE(on15) << on15.error();
    EXPECT_FALSE(*on15);
    auto on17 = resolve_failover(std::nullopt, 170000);
    ASSERT_TRUE(on17) << on17.error();
    EXPECT_TRUE(*on17);
    auto on18 = resolve_failover(std::nullopt, 180001);
    ASSERT_TRUE(on18) << on18.error();
    EXPECT_TRUE(*on18);
}

TEST(FailoverSlot, FalseIsNeverAFailoverSlot) {
    for (int version : {150015, 170000, 180001}) {
        auto resolved = resolve_failover(false, version);
        ASSERT_TRUE(resolved) << resolved.error();
        EXPECT_FALSE(*resolved) << version;
    }
}

TEST(FailoverSlot, TrueNeedsSeventeen) {
    auto on17 = resolve_failover(true, 170006);
    ASSERT_TRUE(on17) << on17.error();
    EXPECT_TRUE(*on17);
    auto on16 = resolve_failover(true, 160009);
    ASSERT_FALSE(on16);
    EXPECT_NE(on16.error().find("source.failover = true needs PostgreSQL 17 or later"), std::string::npos)
        << on16.error();
    EXPECT_NE(on16.error().find("this server is 16.9"), std::string::npos) << on16.error();
    EXPECT_NE(on16.error().find("remove the key"), std::string::npos) << on16.error();
}
