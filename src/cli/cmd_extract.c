/* codeanatomy extract REPO -o OUT [--threads N] [--ast] [--include GLOB]... [--exclude GLOB]...
 *                    [--max-file-size BYTES] [--json] [--quiet] */
#include "cli/cli.h"

#include "codeanatomy/error.h"
#include "codeanatomy/extract.h"
#include "codeanatomy/memory.h"
#include "codeanatomy/session.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/time.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MOD "cli"

extern const cli_command cli_cmd_extract;

typedef struct progress_state {
    bool on;
    double start_s;
} progress_state;

static double now_s(void) { return (double)ca_time_mono_ns() / 1e9; }

static void progress(void *ctx, uint64_t done, uint64_t total, uint64_t bytes)
{
    progress_state *p = ctx;
    if (!p->on)
        return;
    double el = now_s() - p->start_s;
    double mbs = el > 0 ? (double)bytes / 1e6 / el : 0;
    fprintf(stderr, "\rextract: %llu/%llu files  %.1f MB/s", (unsigned long long)done,
            (unsigned long long)total, mbs);
    if (done == total)
        fputc('\n', stderr);
    fflush(stderr);
}

static int run_extract(const cli_command *cmd, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"threads", required_argument, NULL, 't'},
        {"ast", no_argument, NULL, 'a'},
        {"include", required_argument, NULL, 'i'},
        {"exclude", required_argument, NULL, 'x'},
        {"max-file-size", required_argument, NULL, 'm'},
        {"json", no_argument, NULL, 'j'},
        {"quiet", no_argument, NULL, 'q'},
        {"trace", required_argument, NULL, 'T'},
        CLI_OPTION_HELP,
        {0, 0, 0, 0},
    };
    ca_extract_options o = CA_EXTRACT_OPTIONS_INIT;
    const char *out = NULL;
    bool json = false, quiet = false;
    const char **inc = ca__calloc((size_t)argc + 1, sizeof *inc);
    const char **exc = ca__calloc((size_t)argc + 1, sizeof *exc);
    int code = CLI_EXIT_OK;
    char **argv_copy = NULL;
    if (!inc || !exc) {
        code = cli_fail(ca_err_nomem(MOD, "arguments"));
        goto done;
    }
    /* the shared parser knows only -h as a short option: spell -o as --output */
    char **av = ca__calloc((size_t)argc + 1, sizeof *av);
    if (!av) {
        code = cli_fail(ca_err_nomem(MOD, "arguments"));
        goto done;
    }
    for (int k = 0; k < argc; k++)
        av[k] = !strcmp(argv[k], "-o") ? (char *)"--output" : argv[k];
    argv_copy = av;
    cli_parser p;
    cli_parser_init(&p, cmd, argc, av, longopts);
    const char *arg;
    int c;
    while ((c = cli_parser_next(&p, &arg)) >= 0) {
        char *end = NULL;
        switch (c) {
        case 'o': out = arg; break;
        case 't': {
            errno = 0;
            long v = strtol(arg, &end, 10);
            if (errno || !*arg || *end || v < 1 || v > 1024) {
                code = cli_usage_error(cmd, "--threads expects 1..1024, got '%s'", arg);
                goto done;
            }
            o.threads = (int)v;
            break;
        }
        case 'a': o.ast = true; break;
        case 'i': inc[o.n_include++] = arg; break;
        case 'x': exc[o.n_exclude++] = arg; break;
        case 'm': {
            errno = 0;
            unsigned long long v = strtoull(arg, &end, 10);
            if (errno || !*arg || *end || v == 0 || arg[0] == '-') {
                code = cli_usage_error(cmd, "--max-file-size expects a positive byte count, got '%s'", arg);
                goto done;
            }
            o.max_file_size = v;
            break;
        }
        case 'j': json = true; break;
        case 'q': quiet = true; break;
        case 'T': o.trace_path = arg; break;
        default: code = cli_usage_error(cmd, "unhandled option"); goto done;
        }
    }
    if (c != CLI_OPT_END) {
        code = cli_parser_stop(&p, c);
        goto done;
    }
    int nops;
    char **ops = cli_parser_operands(&p, &nops);
    if (nops != 1) {
        code = cli_usage_error(cmd, nops ? "expected one REPO argument, got %d" : "missing REPO%.0d", nops);
        goto done;
    }
    if (!out) {
        code = cli_usage_error(cmd, "missing -o OUT");
        goto done;
    }
    o.repo_root = ops[0];
    o.out_dir = out;
    o.include = inc;
    o.exclude = exc;
    progress_state ps = {!quiet && isatty(2), now_s()};
    o.progress = progress;
    o.progress_ctx = &ps;

    ca_session *s = NULL;
    ca_session_options so = CA_SESSION_OPTIONS_INIT;
    so.threads = o.threads;
    int rc = ca_session_open(&so, &s);
    ca_extract_summary sum;
    if (rc == CA_OK)
        rc = ca_extract_run(s, &o, &sum);
    ca_session_close(s);
    if (rc != CA_OK) {
        code = cli_fail(rc);
        goto done;
    }
    if (json) {
        char *j = NULL;
        rc = ca_extract_summary_json(&sum, &j);
        if (rc == CA_OK) {
            fputs(j, stdout);
            fputc('\n', stdout);
        }
        ca_free(j);
    } else if (!quiet) {
        printf("files: %llu (parsed %llu, with parse errors %llu, skipped %llu)\n",
               (unsigned long long)sum.files, (unsigned long long)sum.files_parsed,
               (unsigned long long)sum.files_with_parse_errors, (unsigned long long)sum.files_skipped);
        for (size_t k = 0; k < CA_EXTRACT_SKIP_COUNT; k++)
            if (sum.skipped[k])
                printf("  skipped %s: %llu\n", ca_extract_skip_reason(k), (unsigned long long)sum.skipped[k]);
        printf("lines: %llu  bytes: %llu\nrows:\n", (unsigned long long)sum.lines, (unsigned long long)sum.bytes);
        for (size_t t = 0; t < CA_EXTRACT_TABLE_COUNT; t++)
            printf("  %-14s %llu\n", ca_extract_table_name(t), (unsigned long long)sum.rows[t]);
        printf("threads: %d  elapsed: %.3f s\n", sum.threads, sum.elapsed_ms / 1000.0);
    }
    if (rc == CA_OK)
        rc = cli_flush_stdout("extract");
    code = rc ? cli_fail(rc) : CLI_EXIT_OK;
done:
    ca__free(argv_copy);
    ca__free(inc);
    ca__free(exc);
    return code;
}

const cli_command cli_cmd_extract = {
    .name = "extract",
    .summary = "Extract the evidence tables of a Python repository.",
    .synopsis = "extract REPO -o OUT [--threads N] [--ast] [--include GLOB]... [--exclude GLOB]... "
                "[--max-file-size BYTES] [--json] [--quiet] [--trace FILE]",
    .help = "arguments:\n"
            "  REPO                 repository root (top-level .gitignore honoured; hidden,\n"
            "                       __pycache__ and virtual-env directories skipped)\n"
            "options:\n"
            "  -o, --output OUT     output directory; each table is the Delta table\n"
            "                       OUT/evidence/<table>/ (overwritten in a new version)\n"
            "  --threads N          parser threads (default: number of cores)\n"
            "  --ast                also write syntax_nodes (every named tree-sitter node)\n"
            "  --include GLOB       only files matching a glob (repeatable; '**' crosses dirs)\n"
            "  --exclude GLOB       skip files and directories matching a glob (repeatable)\n"
            "  --max-file-size B    skip larger files (default 10485760)\n"
            "  --json               print the summary as JSON\n"
            "  --quiet              no progress bar and no text summary\n"
            "  --trace FILE         write a Chrome trace (a span per file) to FILE\n"
            "  -h, --help           show this help\n",
    .run = run_extract,
};

