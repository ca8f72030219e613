/* codeanatomy functions [--json] [NAME]: the SQL function library's registry (functions.md §8.3). */
#include "cli/cli.h"

#include "codeanatomy/error.h"
#include "codeanatomy/functions.h"
#include "codeanatomy/memory.h"
#include "codeanatomy/session.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"

#include <string.h>

extern const cli_command cli_cmd_functions;

static int print_table(ca_session *s, ca_buf *out)
{
    ca_result *r = NULL;
    int rc = ca_session_query(s, "SELECT name, section, description FROM codeanatomy_function_docs() ORDER BY name", &r);
    if (rc != CA_OK)
        return rc;
    ca_buf_printf(out, "%-26s %-12s %s\n", "NAME", "SECTION", "DESCRIPTION");
    while ((rc = ca_result_next(r)) == 1) {
        const char *name = ca_result_text(r, 0);
        ca_buf_printf(out, "%-26s ", name ? name : "");
        const char *section = ca_result_text(r, 1);
        ca_buf_printf(out, "%-12s ", section ? section : "");
        const char *desc = ca_result_text(r, 2);
        ca_buf_printf(out, "%s\n", desc ? desc : "");
    }
    ca_result_free(r);
    return rc < 0 ? rc : ca_buf_status(out);
}

static int print_entry(ca_session *s, const char *name, ca_buf *out)
{
    ca_buf sql = CA_BUF_INIT;
    ca_buf_puts(&sql, "SELECT name, section, signature, description, null_handling, example, expected, "
                      "array_to_string(aliases, ', '), "
                      "array_to_string(list_transform(arguments, a -> '  ' || a.name || ' ' || a.type || ': ' || "
                      "a.description), chr(10)), array_to_string(list_transform(errors, e -> '  ' || e), chr(10)) "
                      "FROM codeanatomy_function_docs() WHERE name = ");
    ca_buf_put_quoted(&sql, name, '\'');
    ca_buf_puts(&sql, " OR list_contains(aliases, ");
    ca_buf_put_quoted(&sql, name, '\'');
    ca_buf_puts(&sql, ")");
    int rc = ca_buf_status(&sql);
    ca_result *r = NULL;
    if (rc == CA_OK)
        rc = ca_session_query(s, ca_buf_cstr(&sql), &r);
    ca_buf_free(&sql);
    if (rc != CA_OK)
        return rc;
    rc = ca_result_next(r);
    if (rc == 0) {
        ca_result_free(r);
        return ca_err_set(CA_E_NOT_FOUND, "cli", "functions: no library function named '%s'", name);
    }
    if (rc < 0) {
        ca_result_free(r);
        return rc;
    }
    const char *labels[] = {"name", "section", "signature", "description", "null handling", "example", "expected"};
    for (size_t i = 0; i < 7; i++) {
        if (i >= 5 && ca_result_is_null(r, 5))
            continue; /* storage entries have no example (delta.md tests them) */
        const char *v = ca_result_text(r, i);
        ca_buf_printf(out, "%-14s %s\n", labels[i], v ? v : "NULL");
    }
    const char *aliases = ca_result_text(r, 7);
    if (aliases && *aliases)
        ca_buf_printf(out, "%-14s %s\n", "aliases", aliases);
    const char *args = ca_result_text(r, 8);
    if (args && *args)
        ca_buf_printf(out, "arguments\n%s\n", args);
    const char *errors = ca_result_text(r, 9);
    if (errors && *errors)
        ca_buf_printf(out, "errors\n%s\n", errors);
    ca_result_free(r);
    return ca_buf_status(out);
}

static int run_functions(const cli_command *cmd, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"json", no_argument, NULL, 'j'},
        CLI_OPTION_HELP,
        {0, 0, 0, 0},
    };
    bool json = false;
    cli_parser p;
    cli_parser_init(&p, cmd, argc, argv, longopts);
    const char *arg;
    int c;
    while ((c = cli_parser_next(&p, &arg)) >= 0) {
        if (c == 'j')
            json = true;
    }
    if (c != CLI_OPT_END)
        return cli_parser_stop(&p, c);
    int nops;
    char **ops = cli_parser_operands(&p, &nops);
    if (nops > 1)
        return cli_usage_error(cmd, "unexpected argument '%s'", ops[1]);
    if (json && nops == 1)
        return cli_usage_error(cmd, "--json prints the whole registry snapshot; give no NAME");

    ca_session_options opts = CA_SESSION_OPTIONS_INIT;
    opts.threads = 1;
    ca_session *s = NULL;
    int rc = ca_session_open(&opts, &s);
    if (rc != CA_OK)
        return cli_fail(rc);
    ca_buf out = CA_BUF_INIT;
    if (json) {
        char *snap = NULL;
        rc = ca_functions_registry_json(s, &snap);
        if (rc == CA_OK) {
            ca_buf_puts(&out, snap);
            ca_buf_putc(&out, '\n');
            rc = ca_buf_status(&out);
        }
        ca_free(snap);
    } else if (nops == 1) {
        rc = print_entry(s, ops[0], &out);
    } else {
        rc = print_table(s, &out);
    }
    if (rc == CA_OK && !cli_write(stdout, out.data, out.len))
        rc = ca_err_set(CA_E_IO, "cli", "functions: writing output failed");
    ca_buf_free(&out);
    if (rc == CA_OK)
        rc = cli_flush_stdout("functions");
    ca_session_close(s);
    return rc ? cli_fail(rc) : CLI_EXIT_OK;
}

const cli_command cli_cmd_functions = {
    .name = "functions",
    .summary = "List the SQL function library: a table, one function's doc and example, or the registry snapshot.",
    .synopsis = "functions [--json] [NAME]",
    .help = "operands:\n"
            "  NAME         print one function's signature, description, arguments, errors and example\n"
            "               (a library name or alias)\n"
            "options:\n"
            "  --json       print the registry snapshot (functions.md §8.4): one RFC 8785 JSON object\n"
            "               {duckdb_version, entries, format, format_version, registry_hash}\n"
            "  -h, --help   show this help\n",
    .run = run_functions,
};

