#include "app/backfill_command.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <thread>

#include "app/run_loop.hpp"
#include "backfill/backfill_store.hpp"
#include "backfill/progress_display.hpp"
#include "io/sql_connection.hpp"
#include "log.hpp"

namespace crmsync::sender {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

std::string joined(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
    return out.empty() ? "(none)" : out;
}

// Follows a running sender's progress on the requested tables until all are done. Returns
// false when no sender streams the slot any more (the caller then runs one itself).
bool follow(BackfillStore& store, SqlConnection& sql, const Config& config, const std::vector<std::string>& sources,
            ProgressDisplay& display) {
    std::string current;
    std::vector<std::string> finished;
    while (true) {
        auto rows = store.of(sources);
        if (!rows) {
            log_error(rows.error());
            return true;
        }
        const auto now = Clock::now();
        bool all_done = true;
        for (const auto& row : *rows) {
            if (row.state == "done") {
                if (std::find(finished.begin(), finished.end(), row.source) == finished.end()) {
                    finished.push_back(row.source);
                    if (current == row.source || current.empty()) {
                        if (current.empty()) display.start_table(row.source, 0, row.rows_estimate.value_or(0), now);
                        display.finish_table(row.source, row.rows_sent, row.rows_reread, now);
                        current.clear();
                    } else {
                        log_info("backfill of " + row.source + " done: " + std::to_string(row.rows_sent) + " rows sent, " +
                                 std::to_string(row.rows_reread) + " read again");
                    }
                }
                continue;
            }
            all_done = false;
            if (row.state == "running") {
                if (current != row.source) {
                    current = row.source;
                    display.start_table(row.source, row.rows_sent, row.rows_estimate.value_or(0), now);
                }
                display.update(row.rows_sent, now);
            }
        }
        if (all_done) return true;
        auto active = sql.exec("SELECT active FROM pg_replication_slots WHERE slot_name = $1", {config.source.slot});
        if (active && (active->empty() || *active->front()[0] != "t")) return false;
        std::this_thread::sleep_for(500ms);
    }
}

}  // namespace

int run_backfill(const Config& config, const std::vector<std::string>& tables) {
    BackfillStore store(config.source.conninfo, config.source.crm);
    SqlConnection sql(config.source.conninfo, "crmsync-sender backfill");
    auto mapped = store.mapped_tables();
    if (!mapped) {
        log_error(mapped.error());
        return 1;
    }
    std::vector<std::string> sources;
    for (const std::string& table : tables) {
        auto resolved = sql.exec("SELECT to_regclass($1)::text", {table});
        if (!resolved) {
            log_error("looking up table " + table + ": " + resolved.error());
            return 1;
        }
        const auto& name = resolved->front()[0];
        if (!name) {
            std::cerr << "crmsync-sender: table \"" << table << "\" does not exist; tables mapped for crm \""
                      << config.source.crm << "\": " << joined(*mapped) << '\n';
            return 2;
        }
        if (std::find(mapped->begin(), mapped->end(), *name) == mapped->end()) {
            std::cerr << "crmsync-sender: table " << *name << " is not mapped for crm \"" << config.source.crm
                      << "\" with inserts or updates, so there is nothing to backfill; mapped tables: " << joined(*mapped)
                      << " (map it with crmsync.map())\n";
            return 2;
        }
        if (std::find(sources.begin(), sources.end(), *name) == sources.end()) sources.push_back(*name);
    }
    if (tables.empty()) sources = *mapped;
    if (sources.empty()) {
        std::cerr << "crmsync-sender: crm \"" << config.source.crm
                  << "\" maps no table with inserts or updates; nothing to backfill (see crmsync.map())\n";
        return 2;
    }
    if (auto requested = store.request(sources, "watermark"); !requested) {
        log_error(requested.error());
        return 1;
    }
    log_info("backfill requested for " + joined(sources));

    const bool bar = isatty(STDERR_FILENO) == 1;
    auto active = sql.exec("SELECT active FROM pg_replication_slots WHERE slot_name = $1", {config.source.slot});
    if (active && !active->empty() && *active->front()[0] == "t") {
        log_info("a sender is streaming slot " + config.source.slot + "; following its progress (Ctrl-C leaves it running)");
        ProgressDisplay display(bar);
        if (follow(store, sql, config, sources, display)) return 0;
        log_info("the sender streaming slot " + config.source.slot + " stopped; continuing here");
    }
    RunOptions options;
    options.stop_when_backfilled = true;
    options.progress_bar = bar;
    return run_sender(config, options);
}

}  // namespace crmsync::sender
