// Backfill progress for people: a redrawn bar on a terminal (rows done / estimate, rows/s,
// time left), plain lines every few seconds otherwise (a journal, a log file).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace crmsync::sender {

class ProgressDisplay {
public:
    using Clock = std::chrono::steady_clock;
    // `bar`: stderr is a terminal and someone is watching (the backfill command).
    explicit ProgressDisplay(bool bar) : bar_(bar) {}
    ~ProgressDisplay();
    void start_table(const std::string& table, std::int64_t done, std::int64_t estimate, Clock::time_point now);
    void update(std::int64_t done, Clock::time_point now);
    void finish_table(const std::string& table, std::int64_t sent, std::int64_t reread, Clock::time_point now);
    // One line, e.g. "public.contacts: 120000 of ~200000 rows (60%), 45000 rows/s, about 2 s left".
    std::string describe(Clock::time_point now) const;

private:
    void draw(Clock::time_point now);
    void end_bar_line();
    bool bar_;
    bool bar_drawn_ = false;
    std::string table_;
    std::int64_t start_done_ = 0, done_ = 0, estimate_ = 0, drawn_done_ = -1;
    Clock::time_point started_{}, last_shown_{};
};

}  // namespace crmsync::sender
