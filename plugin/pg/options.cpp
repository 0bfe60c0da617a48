#include "pg/options.hpp"

namespace crmsync::pg {
namespace {

constexpr const char* kOptionNames = "crm, format, include-commits, origin, changed-only, messages";

const char* option_string(DefElem* elem) {
    if (elem->arg == nullptr)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("option \"%s\" of output plugin crmsync needs a value", elem->defname)));
    return strVal(elem->arg);
}

bool option_bool(DefElem* elem) {
    // A bare boolean option in START_REPLICATION means true, as in test_decoding.
    if (elem->arg == nullptr) return true;
    bool value;
    if (!parse_bool(strVal(elem->arg), &value))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("invalid value \"%s\" for option \"%s\" of output plugin crmsync",
                               strVal(elem->arg), elem->defname),
                        errhint("Use true or false.")));
    return value;
}

}  // namespace

bool crm_name_is_valid(const char* name) {
    size_t n = strlen(name);
    if (n == 0 || n > kMaxCrmNameLength || !(name[0] >= 'a' && name[0] <= 'z')) return false;
    for (size_t i = 1; i < n; ++i) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
    }
    return true;
}

void parse_plugin_options(List* options, PluginOptions* out) {
    *out = PluginOptions{};
    enum { Crm, FormatOpt, IncludeCommits, Origin, ChangedOnly, Messages, Count };
    static const char* const names[Count] = {"crm", "format", "include-commits", "origin", "changed-only", "messages"};
    bool seen[Count] = {};

    ListCell* cell;
    foreach (cell, options) {
        DefElem* elem = static_cast<DefElem*>(lfirst(cell));
        int which = -1;
        for (int i = 0; i < Count; ++i)
            if (strcmp(elem->defname, names[i]) == 0) which = i;
        if (which < 0)
            ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                            errmsg("option \"%s\" of output plugin crmsync is not recognized", elem->defname),
                            errhint("Valid options are: %s.", kOptionNames)));
        if (seen[which])
            ereport(ERROR, (errcode(ERRCODE_SYNTAX_ERROR), errmsg("conflicting or redundant options"),
                            errdetail("Option \"%s\" is given more than once.", elem->defname)));
        seen[which] = true;

        switch (which) {
            case Crm: {
                const char* crm = option_string(elem);
                if (!crm_name_is_valid(crm))
                    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                                    errmsg("invalid value \"%s\" for option \"crm\" of output plugin crmsync", crm),
                                    errhint("A crm name is 1 to 48 characters: a lower-case letter, then lower-case "
                                            "letters, digits or underscores.")));
                strlcpy(out->crm, crm, sizeof out->crm);
                break;
            }
            case FormatOpt: {
                const char* value = option_string(elem);
                if (!render::parse_format(value, out->format))
                    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                                    errmsg("invalid value \"%s\" for option \"format\" of output plugin crmsync", value),
                                    errhint("Valid formats are: webhook, hubspot, salesforce.")));
                break;
            }
            case IncludeCommits: out->include_commits = option_bool(elem); break;
            case Origin: {
                const char* value = option_string(elem);
                if (strcmp(value, "any") == 0)
                    out->skip_origin_changes = false;
                else if (strcmp(value, "none") == 0)
                    out->skip_origin_changes = true;
                else
                    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                                    errmsg("invalid value \"%s\" for option \"origin\" of output plugin crmsync", value),
                                    errhint("Use any (send every change) or none (skip changes that carry a "
                                            "replication origin).")));
                break;
            }
            case ChangedOnly: out->changed_only = option_bool(elem); break;
            case Messages: out->messages = option_bool(elem); break;
        }
    }
    if (!seen[Crm])
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("output plugin crmsync needs option \"crm\""),
                        errhint("Pass the crm whose mappings to use, e.g. 'crm', 'hubspot'.")));
}

}  // namespace crmsync::pg
