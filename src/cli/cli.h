/*
 * The codeanatomy command: subcommand table entries and the helpers every subcommand shares
 * (option parsing over getopt_long, error and usage reporting, small output helpers).
 *
 * Exit codes: 0 ok, 1 failure (stderr "codeanatomy: <code name>: <message>"), 2 usage
 * (stderr "codeanatomy: usage: <what>" and the command's usage line).
 * The CLI is a client of the public API (include/codeanatomy/) plus src/util helpers only.
 */
#ifndef CA_CLI_H
#define CA_CLI_H

#include "util/buf.h"

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum { CLI_EXIT_OK = 0, CLI_EXIT_FAILURE = 1, CLI_EXIT_USAGE = 2 };

typedef struct cli_command cli_command;

struct cli_command {
    const char *name;
    const char *summary;  /* one line, for `codeanatomy --help` */
    const char *synopsis; /* after "codeanatomy ": "query [--db PATH] ... SQL" */
    const char *help;     /* option and operand descriptions for `codeanatomy <cmd> --help` */
    /* argv[0] is the command name; returns the exit code. */
    int (*run)(const cli_command *cmd, int argc, char **argv);
};

/* Subcommands (one file each: cmd_<name>.c). */
extern const cli_command cli_cmd_delta;
extern const cli_command cli_cmd_extract;
extern const cli_command cli_cmd_functions;
extern const cli_command cli_cmd_query;
extern const cli_command cli_cmd_version;

/* ---- errors and usage ---------------------------------------------------------------------- */

/* Prints "codeanatomy: <ca_error_name(rc)>: <ca_error_last()->message>" to stderr; returns 1. */
int cli_fail(int rc);

/* Prints "codeanatomy: usage: <cmd>: <message>" and the command's usage line to stderr;
 * returns 2. cmd may be NULL for errors before a command is known. */
int cli_usage_error(const cli_command *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints the command's full help to stdout; returns 0. */
int cli_help(const cli_command *cmd);

/* ---- option parsing ------------------------------------------------------------------------ */

/* Every command's long options end with CLI_OPTION_HELP and a zero entry. */
#define CLI_OPTION_HELP {"help", no_argument, NULL, 'h'}

enum { CLI_OPT_END = -1, CLI_OPT_HELP = -2, CLI_OPT_BAD = -3 };

typedef struct cli_parser {
    const cli_command *cmd;
    int argc;
    char **argv;
    const struct option *longopts;
} cli_parser;

/* Starts parsing argv (argv[0] = the command name). Options and operands may be mixed; "--"
 * ends the options. */
void cli_parser_init(cli_parser *p, const cli_command *cmd, int argc, char **argv,
                     const struct option *longopts);

/* The next option's val (its argument in *arg, NULL if none), CLI_OPT_END when the options are
 * done, CLI_OPT_HELP for -h/--help, or CLI_OPT_BAD after printing a usage error (unknown option,
 * missing argument): return CLI_EXIT_USAGE then. */
int cli_parser_next(cli_parser *p, const char **arg);

/* Ends option parsing on CLI_OPT_HELP (prints the help: 0) or CLI_OPT_BAD (2); the usual loop:
 *   while ((c = cli_parser_next(&p, &arg)) >= 0) { switch (c) … }
 *   if (c != CLI_OPT_END) return cli_parser_stop(&p, c); */
int cli_parser_stop(const cli_parser *p, int c);

/* After CLI_OPT_END: the operands (non-option arguments). */
char **cli_parser_operands(cli_parser *p, int *count);

/* ---- output -------------------------------------------------------------------------------- */


/* Writes n bytes to f; false on a write error. */
bool cli_write(FILE *f, const void *data, size_t n);

/* Flushes stdout; on failure raises CA_E_IO ("<what>: writing output: <strerror>") and returns
 * its code, else CA_OK. */
int cli_flush_stdout(const char *what);

/* Reads all of f into b (for "-" = stdin operands). CA_OK or CA_E_IO / CA_E_NOMEM. */
int cli_read_all(FILE *f, ca_buf *b, const char *what);

#endif
