/* Shared CLI helpers: error/usage reporting, getopt_long wrapper, output. */
#include "cli/cli.h"

#include "codeanatomy/error.h"
#include "util/err.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

#define MOD "cli"

int cli_fail(int rc)
{
    const ca_error *e = ca_error_last();
    int code = rc ? rc : e->code;
    const char *msg = e->message && *e->message ? e->message : ca_error_describe(code);
    fprintf(stderr, "codeanatomy: %s: %s\n", ca_error_name(code), msg);
    return CLI_EXIT_FAILURE;
}

int cli_usage_error(const cli_command *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "codeanatomy: %s: ", ca_error_name(CA_E_USAGE));
    if (cmd)
        fprintf(stderr, "%s: ", cmd->name);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    if (cmd)
        fprintf(stderr, "\nusage: codeanatomy %s\nTry 'codeanatomy %s --help'.\n", cmd->synopsis, cmd->name);
    else
        fprintf(stderr, "\nusage: codeanatomy <command> [options]\nTry 'codeanatomy --help'.\n");
    return CLI_EXIT_USAGE;
}

int cli_help(const cli_command *cmd)
{
    printf("usage: codeanatomy %s\n\n%s\n", cmd->synopsis, cmd->summary);
    if (cmd->help && *cmd->help)
        printf("\n%s", cmd->help);
    return CLI_EXIT_OK;
}

void cli_parser_init(cli_parser *p, const cli_command *cmd, int argc, char **argv,
                     const struct option *longopts)
{
    p->cmd = cmd;
    p->argc = argc;
    p->argv = argv;
    p->longopts = longopts;
    optind = 0; /* GNU: 0 re-initialises the scan (each command parses its own argv) */
    opterr = 0; /* we print our own messages */
}

int cli_parser_stop(const cli_parser *p, int c)
{
    return c == CLI_OPT_HELP ? cli_help(p->cmd) : CLI_EXIT_USAGE;
}

int cli_parser_next(cli_parser *p, const char **arg)
{
    *arg = NULL;
    /* ':' first: a missing argument is reported as ':' instead of '?'. Only -h is short. */
    int c = getopt_long(p->argc, p->argv, ":h", p->longopts, NULL);
    const char *bad = optind > 0 && optind - 1 < p->argc ? p->argv[optind - 1] : "?";
    switch (c) {
    case -1:
        return CLI_OPT_END;
    case 'h':
        return CLI_OPT_HELP;
    case ':':
        cli_usage_error(p->cmd, "option '%s' needs an argument", bad);
        return CLI_OPT_BAD;
    case '?':
        if (optopt && optopt != '?')
            cli_usage_error(p->cmd, "unknown option '-%c'", optopt);
        else
            cli_usage_error(p->cmd, "unknown option '%s'", bad);
        return CLI_OPT_BAD;
    default:
        *arg = optarg;
        return c;
    }
}

char **cli_parser_operands(cli_parser *p, int *count)
{
    *count = p->argc - optind;
    return p->argv + optind;
}

bool cli_write(FILE *f, const void *data, size_t n)
{
    return n == 0 || fwrite(data, 1, n, f) == n;
}

int cli_flush_stdout(const char *what)
{
    if (fflush(stdout) != 0 || ferror(stdout))
        return ca_err_errno(errno ? errno : EIO, MOD, "%s: writing output", what);
    return CA_OK;
}

int cli_read_all(FILE *f, ca_buf *b, const char *what)
{
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        int rc = ca_buf_append(b, chunk, n);
        if (rc)
            return rc;
    }
    if (ferror(f))
        return ca_err_errno(errno ? errno : EIO, MOD, "%s: reading standard input", what);
    return ca_buf_status(b);
}
