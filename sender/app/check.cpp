#include "app/check.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "auth/make_token_source.hpp"
#include "auth/token_http.hpp"
#include "core/request_body.hpp"
#include "crm/hubspot/hubspot_schema.hpp"
#include "crm/mapping_check.hpp"
#include "crm/salesforce/salesforce_adapter.hpp"
#include "crm/salesforce/salesforce_schema.hpp"
#include "io/http_client.hpp"
#include "io/libpq_handles.hpp"
#include "io/replication_stream.hpp"

namespace crmsync::sender {
namespace {

class Checker {
public:
    explicit Checker(const Config& config) : config_(config) {}

    int run() {
        PgConn conn(connect());
        if (conn) {
            check_role(conn.get());
            bool extension = check_extension(conn.get());
            check_plugin_libraries(conn.get(), extension);
            if (extension) check_mappings(conn.get());
            const bool slot_exists = check_slot(conn.get());
            if (extension) check_backfills(conn.get(), slot_exists);
            if (extension) check_sender_state(conn.get());
            check_replication_connection();
        }
        check_crm();
        std::cout << (failures_ ? "\n" + std::to_string(failures_) + " check(s) failed\n" : "\nall checks passed\n");
        return failures_ ? 1 : 0;
    }

private:
    void pass(const std::string& what) { std::cout << "ok    " << what << '\n'; }
    void fail(const std::string& what, const std::string& fix) {
        ++failures_;
        std::cout << "FAIL  " << what << "\n      " << fix << '\n';
    }
    // Not a failure today, but something will stop working when it is used.
    void note(const std::string& what, const std::string& fix) {
        std::cout << "note  " << what << "\n      " << fix << '\n';
    }

    PGconn* connect() {
        const char* keywords[] = {"dbname", "fallback_application_name", nullptr};
        const char* values[] = {config_.source.conninfo.c_str(), "crmsync-sender check", nullptr};
        PGconn* conn = PQconnectdbParams(keywords, values, 1);
        if (PQstatus(conn) != CONNECTION_OK) {
            fail("Postgres is unreachable: " + pq_error(conn),
                 "Check source.conninfo (host, port, dbname, user) and that the server is running; a Unix "
                 "socket is host=/var/run/postgresql.");
            PQfinish(conn);
            return nullptr;
        }
        pass(std::string("connected to database ") + PQdb(conn) + " as " + PQuser(conn));
        return conn;
    }

    std::optional<std::string> scalar(PGconn* conn, const char* sql) {
        PgResult r(PQexec(conn, sql));
        if (PQresultStatus(r.get()) != PGRES_TUPLES_OK || PQntuples(r.get()) == 0) return std::nullopt;
        return std::string(PQgetvalue(r.get(), 0, 0));
    }

    void check_role(PGconn* conn) {
        auto ok = scalar(conn, "SELECT rolreplication OR rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user");
        if (ok && *ok == "t")
            pass("role has the REPLICATION privilege");
        else
            fail(std::string("role ") + PQuser(conn) + " lacks the REPLICATION privilege",
                 std::string("As a superuser: ALTER ROLE ") + PQuser(conn) + " REPLICATION;");
    }

    void check_plugin_libraries(PGconn* conn, bool extension) {
        auto wal_level = scalar(conn, "SELECT current_setting('wal_level')");
        if (wal_level && *wal_level != "logical")
            fail("wal_level is " + *wal_level + ", logical decoding needs logical",
                 "Set wal_level = logical in postgresql.conf and restart Postgres.");
        else
            pass("wal_level = logical");
        // The extension reads the setting for any role; current_setting() needs
        // pg_read_all_settings, and without the extension that is all there is.
        PgResult r(PQexec(
            conn, extension ? "SELECT crmsync._plugin_libraries_problem() IS NULL, "
                              "coalesce(crmsync._plugin_libraries_problem(), '')"
                            : "SELECT 'crmsync' = ANY (SELECT btrim(x) FROM unnest(string_to_array("
                              "current_setting('output_plugin_libraries'), ',')) x), "
                              "current_setting('output_plugin_libraries')"));
        if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) {
            std::string error = pq_error(conn);
            fail("cannot tell whether crmsync is in output_plugin_libraries: " + error,
                 error.find("permission denied for schema crmsync") != std::string::npos
                     ? std::string("GRANT USAGE ON SCHEMA crmsync TO ") + PQuser(conn) + ";"
                     : "Create the extension first (it can read the setting for any role), or run check as a role "
                       "with pg_read_all_settings.");
            return;
        }
        std::string list = PQgetvalue(r.get(), 0, 1);
        if (std::string(PQgetvalue(r.get(), 0, 0)) == "t")
            pass("crmsync is listed in output_plugin_libraries");
        else
            // A list setting: quoting the whole list would make it one name.
            fail("crmsync is not listed in output_plugin_libraries (" + (list.empty() ? std::string("empty") : list) +
                     "): the server will not load it",
                 "As a superuser: ALTER SYSTEM SET output_plugin_libraries = " +
                     (list.empty() ? std::string("crmsync") : list + ", crmsync") + "; SELECT pg_reload_conf();");
    }

    bool check_extension(PGconn* conn) {
        auto version = scalar(conn, "SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'crmsync'");
        if (!version) {
            fail("extension crmsync is not installed in this database",
                 "Run CREATE EXTENSION crmsync; in the database named by source.conninfo.");
            return false;
        }
        pass("extension crmsync " + *version + " is installed");
        return true;
    }

    void check_mappings(PGconn* conn) {
        const char* params[] = {config_.source.crm.c_str()};
        PgResult r(PQexecParams(
            conn, "SELECT count(*) FROM crmsync.mappings WHERE crm = $1", 1, nullptr, params, nullptr, nullptr, 0));
        if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) {
            fail("cannot read crmsync.mappings: " + pq_error(conn),
                 "GRANT SELECT ON crmsync.mappings TO the sender's role.");
            return;
        }
        std::string count = PQgetvalue(r.get(), 0, 0);
        if (count == "0")
            fail("no table is mapped for crm \"" + config_.source.crm + "\"",
                 "Map one: SELECT crmsync.map('" + config_.source.crm + "', 'public.contacts', 'contacts', 'email');");
        else
            pass(count + " table(s) mapped for crm \"" + config_.source.crm + "\"");
        read_mappings(conn);
        check_row_filters(conn);
    }

    // Each row filter, and whether the plan the walsender evaluates still fits the table:
    // planned again now, it differs when a column it reads changed type or left the table.
    void check_row_filters(PGconn* conn) {
        const char* params[] = {config_.source.crm.c_str()};
        PgResult r(PQexecParams(conn,
                                "SELECT source::text, row_filter, on_filter_exit, row_filter_plan IS NOT NULL "
                                "FROM crmsync.mappings WHERE crm = $1 AND row_filter IS NOT NULL ORDER BY 1",
                                1, nullptr, params, nullptr, nullptr, 0));
        if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) return;  // reported by check_mappings
        for (int row = 0; row < PQntuples(r.get()); ++row) {
            const std::string table = PQgetvalue(r.get(), row, 0);
            const std::string filter = PQgetvalue(r.get(), row, 1);
            const std::string on_exit = PQgetvalue(r.get(), row, 2);
            const std::string remap = "Set the mapping again: SELECT crmsync.map(...) with the same row_filter "
                                      "(docs/mapping.md, \"Row filters\").";
            if (std::string(PQgetvalue(r.get(), row, 3)) != "t") {
                fail("row filter of " + table + " has no plan (written with the catalog's triggers disabled)", remap);
                continue;
            }
            const char* fit_params[] = {config_.source.crm.c_str(), table.c_str()};
            PgResult fit(PQexecParams(conn,
                                      "SELECT m.row_filter_plan = crmsync._row_filter_plan(m.source, m.row_filter, "
                                      "m.actions) FROM crmsync.mappings m WHERE m.crm = $1 AND m.source = $2::regclass",
                                      2, nullptr, fit_params, nullptr, nullptr, 0));
            if (PQresultStatus(fit.get()) != PGRES_TUPLES_OK)
                fail("row filter of " + table + " no longer fits the table: " + pq_error(conn), remap);
            else if (PQntuples(fit.get()) == 1 && std::string(PQgetvalue(fit.get(), 0, 0)) != "t")
                fail("row filter of " + table + " was planned for an earlier form of the table (a column it reads "
                     "changed type or was dropped): its changes go out as errors",
                     remap);
            else
                pass("row filter of " + table + ": " + filter + " (an update leaving it: " +
                     (on_exit == "delete" ? "deletes the record" : "ignored") + ")");
        }
    }

    // Each mapping with the columns it sends and their types, for the schema check. A domain
    // counts as its base type: that is what the plugin renders.
    void read_mappings(PGconn* conn) {
        const char* params[] = {config_.source.crm.c_str()};
        PgResult r(PQexecParams(
            conn,
            "SELECT m.source::text, m.object, m.id_column, m.id_property IS NULL, coalesce(m.id_property, ''), "
            "coalesce((SELECT format_type(CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE i.atttypid END, "
            "                             CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE i.atttypmod END) "
            "          FROM pg_catalog.pg_attribute i JOIN pg_catalog.pg_type t ON t.oid = i.atttypid "
            "          WHERE i.attrelid = m.source AND i.attname = m.id_column AND i.attnum > 0 "
            "            AND NOT i.attisdropped), ''), "
            "a.attname IS NOT NULL, coalesce(a.attname::text, ''), "
            "coalesce(format_type(CASE WHEN at.typtype = 'd' THEN at.typbasetype ELSE a.atttypid END, "
            "                     CASE WHEN at.typtype = 'd' THEN at.typtypmod ELSE a.atttypmod END), ''), "
            "coalesce(m.properties ->> a.attname::text, a.attname::text, '') "
            "FROM crmsync.mappings m "
            "LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = m.source AND a.attnum > 0 AND NOT a.attisdropped "
            "     AND (m.properties IS NULL OR jsonb_typeof(m.properties -> a.attname::text) = 'string') "
            "LEFT JOIN pg_catalog.pg_type at ON at.oid = a.atttypid "
            "WHERE m.crm = $1 ORDER BY m.source::text, a.attnum",
            1, nullptr, params, nullptr, nullptr, 0));
        if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) {
            fail("cannot read the mapped columns' types: " + pq_error(conn),
                 "GRANT SELECT ON crmsync.mappings TO the sender's role.");
            return;
        }
        for (int row = 0; row < PQntuples(r.get()); ++row) {
            auto value = [&](int column) { return std::string(PQgetvalue(r.get(), row, column)); };
            if (mappings_.empty() || mappings_.back().table != value(0)) {
                MappingUnderCheck m;
                m.table = value(0);
                m.object = value(1);
                m.id_column = value(2);
                if (value(3) != "t") m.id_property = value(4);
                m.id_column_type = value(5);
                mappings_.push_back(std::move(m));
            }
            if (value(6) == "t") mappings_.back().columns.push_back({value(7), value(8), value(9)});
        }
    }

    // What crmsync.status shows of the sender: without the grant it goes on, silent there.
    void check_sender_state(PGconn* conn) {
        auto writable = scalar(conn,
                               "SELECT has_table_privilege('crmsync.sender_state', 'SELECT') AND "
                               "has_table_privilege('crmsync.sender_state', 'INSERT') AND "
                               "has_table_privilege('crmsync.sender_state', 'UPDATE')");
        if (writable && *writable == "t") return;
        const std::string role = PQuser(conn);
        note("role " + role + " cannot write crmsync.sender_state: crmsync.status will not show whether the "
                 "sender is waiting for the CRM's quota or holding delivery",
             "GRANT SELECT, INSERT, UPDATE ON crmsync.sender_state TO " + role + ";");
    }

    // Initial sync and re-sync: the role's grants for them, and what crmsync.backfills says.
    void check_backfills(PGconn* conn, bool slot_exists) {
        const std::string role = PQuser(conn);
        auto writable = scalar(conn,
                               "SELECT has_table_privilege('crmsync.backfills', 'SELECT') AND "
                               "has_table_privilege('crmsync.backfills', 'INSERT') AND "
                               "has_table_privilege('crmsync.backfills', 'UPDATE')");
        if (!writable || *writable != "t") {
            fail("role " + role + " cannot read and write crmsync.backfills: initial sync and re-sync cannot "
                     "record their progress",
                 "GRANT SELECT, INSERT, UPDATE ON crmsync.backfills TO " + role + ";");
            return;
        }
        const char* params[] = {config_.source.crm.c_str()};
        PgResult r(PQexecParams(
            conn,
            "SELECT m.source::text, has_table_privilege(m.source, 'SELECT'), coalesce(b.state, ''), "
            "coalesce(b.rows_sent, 0), coalesce(b.rows_estimate::text, ''), "
            "coalesce(to_char(b.finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), '') "
            "FROM crmsync.mappings m LEFT JOIN crmsync.backfills b ON b.crm = m.crm AND b.source = m.source "
            "WHERE m.crm = $1 ORDER BY 1",
            1, nullptr, params, nullptr, nullptr, 0));
        if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) {
            fail("cannot read crmsync.backfills: " + pq_error(conn),
                 "GRANT SELECT, INSERT, UPDATE ON crmsync.backfills TO " + role + ";");
            return;
        }
        const bool initial_sync_next = !slot_exists && config_.source.create_slot && config_.backfill.initial_sync;
        for (int row = 0; row < PQntuples(r.get()); ++row) {
            const std::string table = PQgetvalue(r.get(), row, 0);
            const bool readable = std::string(PQgetvalue(r.get(), row, 1)) == "t";
            const std::string state = PQgetvalue(r.get(), row, 2);
            const std::string sent = PQgetvalue(r.get(), row, 3);
            const std::string estimate = PQgetvalue(r.get(), row, 4);
            const std::string finished = PQgetvalue(r.get(), row, 5);
            if (!readable) {
                const std::string grant = "GRANT SELECT ON " + table + " TO " + role + ";";
                if (initial_sync_next)
                    fail("role " + role + " cannot read " + table + ": the initial sync that run starts with " +
                             "would pause on it",
                         grant + " (or set backfill.initial_sync = false)");
                else
                    note("role " + role + " cannot read " + table + ": a re-sync of it would pause until it can",
                         grant);
            }
            if (state == "done")
                pass("backfill of " + table + ": done, " + sent + " rows sent, finished " + finished + " UTC");
            else if (state == "running")
                pass("backfill of " + table + ": running, " + sent + (estimate.empty() ? "" : " of ~" + estimate) +
                     " rows sent");
            else if (state == "pending")
                pass("backfill of " + table + ": requested, waiting for the sender to start it");
        }
    }

    // True if the slot exists.
    bool check_slot(PGconn* conn) {
        const char* params[] = {config_.source.slot.c_str()};
        PgResult r(PQexecParams(
            conn,
            // failover exists from 17 on: read through to_jsonb so the query runs on 15 too.
            "SELECT plugin, active, coalesce(active_pid, 0), coalesce(wal_status, ''), "
            "coalesce(to_jsonb(s) ->> 'failover', 'unsupported') FROM pg_catalog.pg_replication_slots s "
            "WHERE slot_name = $1",
            1, nullptr, params, nullptr, nullptr, 0));
        if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) return false;
        if (PQntuples(r.get()) == 0) {
            if (config_.source.create_slot)
                pass("slot " + config_.source.slot + " does not exist yet; run creates it (create_slot = true)");
            else
                fail("slot " + config_.source.slot + " does not exist and create_slot = false",
                     "SELECT crmsync.create_slot('" + config_.source.crm + "'); or set source.create_slot = true.");
            return false;
        }
        std::string plugin = PQgetvalue(r.get(), 0, 0);
        bool active = std::string(PQgetvalue(r.get(), 0, 1)) == "t";
        std::string pid = PQgetvalue(r.get(), 0, 2);
        std::string wal_status = PQgetvalue(r.get(), 0, 3);
        std::string failover = PQgetvalue(r.get(), 0, 4);
        if (failover == "false" && config_.source.failover != false)
            note("slot " + config_.source.slot + " is not a failover slot: a standby promoted to primary will not "
                 "have it, and streaming cannot resume there without a re-sync",
                 "Make it one, keeping its position, while no sender runs: psql \"dbname=<db> replication=database\" "
                 "-c 'ALTER_REPLICATION_SLOT " + config_.source.slot +
                     " (FAILOVER true)' (docs/operations.md, \"Failover\"); or set source.failover = false to "
                     "silence this.");
        else if (failover == "unsupported" && config_.source.failover == true)
            fail("source.failover = true, but this server has no failover slots (PostgreSQL 17 or later)",
                 "Remove source.failover, or upgrade the server.");
        if (plugin != "crmsync")
            fail("slot " + config_.source.slot + " uses plugin " + plugin + ", not crmsync",
                 "Drop it or choose another source.slot.");
        else if (wal_status == "lost")
            fail("slot " + config_.source.slot + " is lost (its WAL was removed: max_slot_wal_keep_size exceeded)",
                 "Drop and recreate the slot, then re-sync the CRM (docs/operations.md, \"Lost slot\").");
        else if (active)
            fail("slot " + config_.source.slot + " is in use by process " + pid,
                 "Another sender is running for this crm; stop it (systemctl stop crmsync-sender@" +
                     config_.source.crm + ") or wait for it to exit.");
        else
            pass("slot " + config_.source.slot + " exists and is free (wal_status " + wal_status + ")");
        return true;
    }

    void check_replication_connection() {
        auto stream = ReplicationStream::connect(config_.source.conninfo);
        if (!stream)
            fail("replication connection refused: " + stream.error(),
                 "pg_hba.conf needs a line for the sender's role with database = the app database (logical "
                 "replication connects to a database, not to 'replication').");
        else
            pass("replication connection accepted");
    }

    void check_crm() {
        HttpClientOptions options;
        options.timeout = config_.target.timeout;
        HttpClient http(options);
        // The token as run gets it: the static one, or a Salesforce login (which also says where
        // the org's API is when target.url is not set).
        const bool login = config_.auth.method != AuthMethod::static_token;
        auto source = auth::make_token_source(config_, auth::curl_token_post(config_.target.timeout));
        auto token = source->token(auth::WallClock::now());
        if (!token) {
            fail(token.error(), "Fix [auth] as the message says (docs/security.md, \"Authentication\").");
            return;
        }
        if (login) pass("logged in: " + source->describe());
        http.set_bearer_token(token->value);
        const std::string base =
            config_.target.url.empty() && token->instance_url ? *token->instance_url : config_.target.url;
        if (config_.target.format == Format::hubspot && read_hubspot_scopes(http, base, token->value)) {
            check_schema(http, base);
            return;
        }
        HttpRequest probe;
        probe.id = 1;
        // A request that changes nothing: an empty batch (webhook), a read of nothing (CRMs).
        switch (config_.target.format) {
            case Format::webhook:
                probe.url = base;
                probe.body = R"({"events":[]})";
                break;
            case Format::hubspot:
                probe.url = join_url(base, "/crm/v3/objects/contacts/batch/read");
                probe.body = R"({"properties":[],"inputs":[]})";
                break;
            case Format::salesforce:
                probe.method = "GET";
                probe.url = join_url(base, "/services/data/" +
                                               (config_.target.api_version.empty()
                                                    ? std::string(kDefaultSalesforceApiVersion)
                                                    : config_.target.api_version) +
                                               "/limits");
                break;
        }
        http.submit(probe);
        std::vector<curl_waitfd> none;
        auto deadline = std::chrono::steady_clock::now() + config_.target.timeout + std::chrono::seconds(1);
        std::vector<HttpResponse> done;
        while (done.empty() && std::chrono::steady_clock::now() < deadline) {
            http.poll(none, std::chrono::milliseconds(100));
            done = http.take_completed();
        }
        if (done.empty() || done.front().status == 0) {
            fail("CRM unreachable at " + base +
                     (done.empty() ? std::string(": no answer") : ": " + done.front().transport_error),
                 "Check target.url, DNS, the proxy and the firewall.");
            return;
        }
        long status = done.front().status;
        if ((status == 401 || status == 403) && login)
            fail("CRM at " + base + " refused the session of the login (HTTP " + std::to_string(status) + ")",
                 "The connected app's OAuth scopes must include api (\"Manage user data via APIs\"), and the user "
                 "must have API Enabled and access to the mapped objects.");
        else if (status == 401 || status == 403)
            fail("CRM at " + base + " refused the token (HTTP " + std::to_string(status) + ")",
                 "Check target.token_file / token_env: the token must be valid and allowed to write the mapped "
                 "objects.");
        else {
            pass("CRM reachable at " + base + " (HTTP " + std::to_string(status) +
                 " to a probe that changes nothing)");
            check_schema(http, base);
        }
    }

    // A private app's token: its scopes, which also proves it valid (kTokenInfoPath). False when
    // the CRM does not answer that (another kind of token): the probe below decides then.
    bool read_hubspot_scopes(HttpClient& http, const std::string& base, const Secret& token) {
        HttpRequest request;
        request.id = 3;
        request.url = join_url(base, hubspot::kTokenInfoPath);
        request.body = R"({"tokenKey":)";
        append_json_string(request.body, token.reveal());
        request.body += "}";
        auto answer = exchange(http, std::move(request));
        if (!answer) return false;
        if (answer->status == 401) {
            fail("CRM at " + base + " refused the token (HTTP 401 to the token info request)",
                 "Check target.token_file / token_env: the token must be a valid private app token.");
            return true;
        }
        hubspot_scopes_ = hubspot::read_token_scopes(answer->status, answer->body);
        if (!hubspot_scopes_) return false;
        pass("CRM reachable at " + base + ", token valid (a private app token with " +
             std::to_string(hubspot_scopes_->size()) + " scopes)");
        return true;
    }

    // Every mapping against its object's schema as the CRM describes it (crm/mapping_check.hpp).
    void check_schema(HttpClient& http, const std::string& base) {
        if (mappings_.empty()) return;
        const bool hubspot = config_.target.format == Format::hubspot;
        const std::string version =
            config_.target.api_version.empty() ? std::string(kDefaultSalesforceApiVersion) : config_.target.api_version;
        std::map<std::string, SchemaFetch> schemas;  // one request per object, however many tables map to it
        for (const auto& m : mappings_) {
            if (schemas.count(m.object)) continue;
            HttpRequest request;
            request.id = 2;
            request.method = "GET";
            request.url = join_url(base, hubspot ? hubspot::properties_path(m.object)
                                                 : salesforce::describe_path(version, m.object));
            auto answer = exchange(http, std::move(request));
            if (!answer) {
                fail("no answer reading the schema of " + m.object + " at " + base, "Check target.url, DNS, the proxy "
                     "and the firewall.");
                return;
            }
            schemas[m.object] = hubspot ? hubspot::read_properties(m.object, answer->status, answer->body)
                                        : salesforce::read_describe(m.object, answer->status, answer->body);
        }
        // The scopes of a private app's token, for each object HubSpot has: one it may not write
        // fails; one whose properties it may not read is noted here, not failed below.
        std::set<std::string> unreadable;
        if (hubspot_scopes_) {
            std::map<std::string, std::string> tables;  // object -> its mapped tables
            for (const auto& m : mappings_) tables[m.object] += (tables[m.object].empty() ? "" : ", ") + m.table;
            for (const auto& [object, mapped] : tables) {
                if (schemas[object].problem == SchemaFetch::Problem::unknown_object) continue;
                for (const auto& f : check_hubspot_scopes(object, mapped, *hubspot_scopes_))
                    f.severity == Finding::Severity::fail ? fail(f.what, f.fix) : note(f.what, f.fix);
                if (schemas[object].problem == SchemaFetch::Problem::forbidden &&
                    std::find(hubspot_scopes_->begin(), hubspot_scopes_->end(),
                              hubspot::scope("schemas", object, "read")) == hubspot_scopes_->end())
                    unreadable.insert(object);
            }
        }
        for (const auto& m : mappings_) {
            if (unreadable.count(m.object)) continue;
            auto findings = check_mapping(hubspot ? SchemaCrm::hubspot : SchemaCrm::salesforce, m, schemas[m.object]);
            bool failed = false;
            for (const auto& f : findings) {
                if (f.severity == Finding::Severity::fail) {
                    failed = true;
                    fail(f.what, f.fix);
                } else {
                    note(f.what, f.fix);
                }
            }
            if (!failed)
                pass("mapping of " + m.table + " fits the " + (hubspot ? "HubSpot" : "Salesforce") + " schema of " +
                     m.object);
        }
    }

    // One request, waited for; nullopt when no HTTP answer came in time.
    std::optional<HttpResponse> exchange(HttpClient& http, HttpRequest request) {
        http.submit(std::move(request));
        std::vector<curl_waitfd> none;
        auto deadline = std::chrono::steady_clock::now() + config_.target.timeout + std::chrono::seconds(1);
        while (std::chrono::steady_clock::now() < deadline) {
            http.poll(none, std::chrono::milliseconds(100));
            auto done = http.take_completed();
            if (!done.empty()) {
                if (done.front().status == 0) return std::nullopt;
                return std::move(done.front());
            }
        }
        return std::nullopt;
    }

    const Config& config_;
    int failures_ = 0;
    std::vector<MappingUnderCheck> mappings_;
    std::optional<std::vector<std::string>> hubspot_scopes_;  // a private app token's scopes, when HubSpot said
};

}  // namespace

int run_check(const Config& config) { return Checker(config).run(); }

}  // namespace crmsync::sender
