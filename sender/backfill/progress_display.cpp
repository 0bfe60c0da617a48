#include "backfill/progress_display.hpp"

#include <algorithm>
#include <cstdio>

#include "log.hpp"

namespace crmsync::sender {
namespace {

using namespace std::chrono_literals;
constexpr auto kBarInterval = 200ms;
constexpr auto kLogInterval = 10s;

std::string duration_text(double seconds) {
    const long s = static_cast<long>(seconds + 0.5);
    if (s < 60) return std::to_string(s) + " s";
    if (s < 3600) return std::to_string(s / 60) + " min " + std::to_string(s % 60) + " s";
    return std::to_string(s / 3600) + " h " + std::to_string(s % 3600 / 60) + " min";
}

}  // namespace

ProgressDisplay::~ProgressDisplay() { end_bar_line(); }

void ProgressDisplay::start_table(const std::string& table, std::int64_t done, std::int64_t estimate,
                                  Clock::time_point now) {
    end_bar_line();
    table_ = table;
    start_done_ = done_ = done;
    estimate_ = estimate;
    started_ = now;
    last_shown_ = {};
    log_info("backfill of " + table + " started" + (done > 0 ? " (resuming after " + std::to_string(done) + " rows)" : "") +
             ", about " + std::to_string(estimate) + " rows");
    if (bar_) draw(now);
    last_shown_ = now;
}

void ProgressDisplay::update(std::int64_t done, Clock::time_point now) {
    done_ = done;
    if (now - last_shown_ >= (bar_ ? kBarInterval : kLogInterval)) draw(now);
}

void ProgressDisplay::finish_table(const std::string& table, std::int64_t sent, std::int64_t reread,
                                   Clock::time_point now) {
    const bool current = table == table_;
    if (current) {
        done_ = sent;
        if (bar_ && (!bar_drawn_ || drawn_done_ != done_)) draw(now);  // the final count, once
        end_bar_line();
    }
    std::string text = "backfill of " + table + " done: " + std::to_string(sent) + " rows sent, " +
                       std::to_string(reread) + " read again (a change was streamed while they were read)";
    if (current) {
        const double seconds = std::chrono::duration<double>(now - started_).count();
        const double rate = seconds > 0 ? static_cast<double>(done_ - start_done_) / seconds : 0;
        text += ", " + duration_text(seconds) + ", " + std::to_string(static_cast<long>(rate)) + " rows/s";
    }
    log_info(text);
}

std::string ProgressDisplay::describe(Clock::time_point now) const {
    const double seconds = std::chrono::duration<double>(now - started_).count();
    const double rate = seconds > 0.5 ? static_cast<double>(done_ - start_done_) / seconds : 0;
    std::string text = table_ + ": " + std::to_string(done_) + " of ~" + std::to_string(std::max(estimate_, done_)) +
                       " rows";
    if (estimate_ > 0) text += " (" + std::to_string(std::min<std::int64_t>(100, done_ * 100 / estimate_)) + "%)";
    if (rate > 0) {
        text += ", " + std::to_string(static_cast<long>(rate)) + " rows/s";
        if (estimate_ > done_) text += ", about " + duration_text(static_cast<double>(estimate_ - done_) / rate) + " left";
    }
    return text;
}

void ProgressDisplay::draw(Clock::time_point now) {
    last_shown_ = now;
    if (!bar_) {
        log_info("backfill " + describe(now));
        return;
    }
    constexpr int kWidth = 30;
    const int filled = estimate_ > 0 ? static_cast<int>(std::min<std::int64_t>(kWidth, done_ * kWidth / estimate_)) : 0;
    std::string bar(static_cast<std::size_t>(filled), '#');
    bar.append(static_cast<std::size_t>(kWidth - filled), '.');
    std::fprintf(stderr, "\r\033[K[%s] %s", bar.c_str(), describe(now).c_str());
    std::fflush(stderr);
    bar_drawn_ = true;
    drawn_done_ = done_;
}

void ProgressDisplay::end_bar_line() {
    if (bar_drawn_) std::fputc('\n', stderr);
    bar_drawn_ = false;
}

}  // namespace crmsync::sender
