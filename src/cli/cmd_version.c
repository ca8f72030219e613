/* codeanatomy version [--json] */
#include "cli/cli.h"

#include "codeanatomy/error.h"
#include "codeanatomy/version.h"
#include "util/buf.h"
#include "util/json.h"

#include <string.h>

/* Appends <sep>"<key>":"<value>". */
static void put_member(ca_buf *b, const char *sep, const char *key, const char *value)
{
    ca_buf_printf(b, "%s\"%s\":", sep, key);
    ca_json_write_string(b, value, strlen(value));
}

static int run_version(const cli_command *cmd, int argc, char **argv)
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
    if (nops > 0)
        return cli_usage_error(cmd, "unexpected argument '%s'", ops[0]);

    ca_buf b = CA_BUF_INIT;
    if (json) {
        put_member(&b, "{", "codeanatomy", ca_version());
        put_member(&b, ",", "duckdb", ca_version_duckdb());
        put_member(&b, ",", "tree_sitter", ca_version_tree_sitter());
        put_member(&b, ",", "tree_sitter_python", ca_version_tree_sitter_python());
        ca_buf_printf(&b, ",\"tree_sitter_python_abi\":%d}\n", ca_version_tree_sitter_python_abi());
    } else {
        ca_buf_printf(&b,
                      "codeanatomy %s\nduckdb %s\ntree-sitter %s\ntree-sitter-python %s (ABI %d)\n",
                      ca_version(), ca_version_duckdb(), ca_version_tree_sitter(),
                      ca_version_tree_sitter_python(), ca_version_tree_sitter_python_abi());
    }
    int rc = ca_buf_status(&b);
    if (rc == CA_OK)
        cli_write(stdout, b.data, b.len);
    ca_buf_free(&b);
    if (rc == CA_OK)
        rc = cli_flush_stdout("version");
    return rc ? cli_fail(rc) : CLI_EXIT_OK;
}

const cli_command cli_cmd_version = {
    .name = "version",
    .summary = "Print the versions of codeanatomy, DuckDB, tree-sitter and the Python grammar.",
    .synopsis = "version [--json]",
    .help = "options:\n"
            "  --json       print one JSON object: {\"codeanatomy\", \"duckdb\", \"tree_sitter\",\n"
            "               \"tree_sitter_python\", \"tree_sitter_python_abi\"}\n"
            "  -h, --help   show this help\n",
    .run = run_version,
};
