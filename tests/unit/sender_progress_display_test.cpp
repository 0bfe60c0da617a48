// ProgressDisplay: what a person watching the backfill command sees on stderr (the bar is
// redrawn in place with "\r\033[K"), and what a journal gets instead (plain lines).
#include "backfill/progress_display.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace crmsync::sender;
using namespace std::chrono_literals;
using Clock = ProgressDisplay::Clock;

namespace {

int count(const std::string& text, const std::string& part) {
    int n = 0;
    for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
    return n;
}

// What a display writes to stderr while `use` drives it, up to and including its destructor.
template <typename Use>
std::string stderr_of(bool terminal, Use&& use) {
    testing::internal::CaptureStderr();
    {
        ProgressDisplay display(terminal);
        use(display);
    }
    return testing::internal::GetCapturedStderr();
}

}  // namespace

TEST(ProgressDisplay, BarShowsRowsRateAndTimeLeft) {
    const auto t0 = Clock::now();
    const std::string out = stderr_of(true, [&](ProgressDisplay& display) {
        display.start_table("public.contacts", 0, 1000, t0);
        display.update(500, t0 + 1s);
    });
    EXPECT_NE(out.find("backfill of public.contacts started, about 1000 rows"), std::string::npos) << out;
    EXPECT_NE(out.find("\r\033[K[###############...............] public.contacts: 500 of ~1000 rows (50%), "
                       "500 rows/s, about 1 s left"),
              std::string::npos)
        << out;
}

TEST(ProgressDisplay, FinalCountIsDrawnOnce) {
    const auto t0 = Clock::now();
    const std::string out = stderr_of(true, [&](ProgressDisplay& display) {
        display.start_table("public.contacts", 0, 1000, t0);
        display.update(1000, t0 + 2s);  // the last chunk's update already shows 1000
        display.finish_table("public.contacts", 1000, 3, t0 + 2s);
    });
    EXPECT_EQ(count(out, "public.contacts: 1000 of ~1000 rows (100%)"), 1) << out;
    EXPECT_NE(out.find("backfill of public.contacts done: 1000 rows sent, 3 read again"), std::string::npos) << out;
}

TEST(ProgressDisplay, FinishDrawsTheFinalCountWhenTheLastUpdateWasNotShown) {
    const auto t0 = Clock::now();
    const std::string out = stderr_of(true, [&](ProgressDisplay& display) {
        display.start_table("public.contacts", 0, 1000, t0);
        display.update(900, t0 + 1s);
        display.update(1000, t0 + 1s + 1ms);  // within the redraw interval: not drawn
        display.finish_table("public.contacts", 1000, 0, t0 + 1s + 2ms);
    });
    EXPECT_EQ(count(out, "public.contacts: 1000 of ~1000 rows (100%)"), 1) << out;
}

TEST(ProgressDisplay, WithoutATerminalItLogsLinesEveryTenSeconds) {
    const auto t0 = Clock::now();
    const std::string out = stderr_of(false, [&](ProgressDisplay& display) {
        display.start_table("public.deals", 0, 100000, t0);
        display.update(1000, t0 + 5s);    // too soon for another line
        display.update(20000, t0 + 10s);  // one line
        display.finish_table("public.deals", 100000, 0, t0 + 20s);
    });
    EXPECT_EQ(out.find('\r'), std::string::npos) << out;
    EXPECT_EQ(count(out, "backfill public.deals: "), 1) << out;
    EXPECT_NE(out.find("backfill public.deals: 20000 of ~100000 rows (20%), 2000 rows/s, about 40 s left"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find("backfill of public.deals done: 100000 rows sent, 0 read again"), std::string::npos) << out;
}
