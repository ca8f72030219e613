/* codeanatomy query [--db PATH] [--format table|csv|json|jsonl] [--table NAME=DELTA_PATH]... SQL */
#include "cli/cli.h"

#include "codeanatomy/error.h"
#include "codeanatomy/session.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/err.h"

#include <locale.h>
#include <stdint.h>
#include <string.h>
#include <wchar.h>

#define MOD "cli"

typedef enum { FMT_TABLE, FMT_CSV, FMT_JSON, FMT_JSONL } out_format;

/* ---- shared --------------------------------------------------------------------------------- */

/* Writes b to stdout and empties it; CA_E_IO on a write error. */
static int emit(ca_buf *b)
{
    int rc = ca_buf_status(b);
    if (rc == CA_OK && !cli_write(stdout, b->data, b->len))
        rc = cli_flush_stdout("query");
    ca_buf_clear(b);
    return rc;
}

/* A cell that failed to render (ca_result_text/json returned NULL for a non-NULL value). */
static int cell_error(void)
{
    int rc = ca_error_last()->code;
    return rc ? rc : ca_err_set(CA_E_INTERNAL, MOD, "query: a value could not be rendered");
}

/* ---- csv (RFC 4180: CRLF line ends, quoted when needed, NULL = empty, '' = "") ---------------- */

static void csv_field(ca_buf *b, const char *s)
{
    if (!s)
        return;
    if (*s && !strpbrk(s, ",\"\r\n")) {
        ca_buf_puts(b, s);
        return;
    }
    ca_buf_put_quoted(b, s, '"');
}

static int out_csv(ca_result *r)
{
    ca_buf b = CA_BUF_INIT;
    size_t n = ca_result_column_count(r);
    for (size_t c = 0; c < n; c++) {
        if (c)
            ca_buf_putc(&b, ',');
        csv_field(&b, ca_result_column_name(r, c));
    }
    ca_buf_puts(&b, "\r\n");
    int rc = emit(&b), more;
    while (rc == CA_OK && (more = ca_result_next(r)) != 0) {
        if (more < 0) {
            rc = more;
            break;
        }
        for (size_t c = 0; rc == CA_OK && c < n; c++) {
            if (c)
                ca_buf_putc(&b, ',');
            const char *t = ca_result_text(r, c);
            if (!t && !ca_result_is_null(r, c))
                rc = cell_error();
            csv_field(&b, t);
        }
        ca_buf_puts(&b, "\r\n");
        if (rc == CA_OK)
            rc = emit(&b);
    }
    ca_buf_free(&b);
    return rc;
}

/* ---- json / jsonl --------------------------------------------------------------------------- */

static int json_row(ca_result *r, ca_buf *b)
{
    size_t n = ca_result_column_count(r);
    ca_buf_putc(b, '{');
    for (size_t c = 0; c < n; c++) {
        if (c)
            ca_buf_putc(b, ',');
        ca_json_write_string(b, ca_result_column_name(r, c), strlen(ca_result_column_name(r, c)));
        ca_buf_putc(b, ':');
        const char *j = ca_result_json(r, c);
        if (!j)
            return cell_error();
        ca_buf_puts(b, j);
    }
    return ca_buf_putc(b, '}');
}

static int out_json(ca_result *r, bool lines)
{
    ca_buf b = CA_BUF_INIT;
    int rc = CA_OK, more;
    size_t rows = 0;
    if (!lines)
        ca_buf_putc(&b, '[');
    while ((more = ca_result_next(r)) != 0) {
        if (more < 0) {
            rc = more;
            break;
        }
        if (!lines && rows++)
            ca_buf_putc(&b, ',');
        rc = json_row(r, &b);
        if (lines)
            ca_buf_putc(&b, '\n');
        if (rc == CA_OK)
            rc = emit(&b);
        if (rc)
            break;
    }
    if (rc == CA_OK && !lines) {
        ca_buf_puts(&b, "]\n");
        rc = emit(&b);
    }
    ca_buf_free(&b);
    return rc;
}

/* ---- table (human: aligned columns, numbers right-aligned, NULL as NULL) --------------------- */

typedef struct cell_ref {
    size_t off;   /* into the text store */
    size_t width; /* display columns */
} cell_ref;

typedef struct table {
    ca_buf text;    /* every cell, NUL-separated */
    cell_ref *cells;
    size_t ncells, cap;
    bool wide_ok;   /* a UTF-8 locale is active: wcwidth() is meaningful */
} table;

static bool numeric_type(const char *t)
{
    static const char *const names[] = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
                                        "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT",
                                        "FLOAT", "DOUBLE", "BIGNUM"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(t, names[i]))
            return true;
    return !strncmp(t, "DECIMAL(", 8);
}

/* Display columns of a UTF-8 string (control characters are escaped before this). */
static size_t display_width(const table *t, const char *s)
{
    size_t w = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        uint32_t cp = *p;
        int extra = cp >= 0xF0 ? 3 : cp >= 0xE0 ? 2 : cp >= 0xC0 ? 1 : 0;
        if (extra)
            cp &= 0x3Fu >> extra;
        p++;
        for (int i = 0; i < extra && (*p & 0xC0) == 0x80; i++, p++)
            cp = (cp << 6) | (*p & 0x3F);
        int cw = t->wide_ok ? wcwidth((wchar_t)cp) : 1;
        w += cw < 0 ? 1 : (size_t)cw;
    }
    return w;
}

/* Stores one cell: control characters made visible (\n, \t, \r, \xNN) so rows stay one line. */
static int table_add(table *t, const char *s)
{
    if (t->ncells == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 256, bytes;
        if (!ca__size_mul(cap, sizeof *t->cells, &bytes))
            return ca_err_set(CA_E_OVERFLOW, MOD, "query: table too large");
        cell_ref *c = ca__realloc(t->cells, bytes);
        if (!c)
            return ca_err_nomem(MOD, "query table");
        t->cells = c;
        t->cap = cap;
    }
    size_t off = t->text.len;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p >= 0x20 && *p != 0x7F)
            ca_buf_putc(&t->text, (char)*p);
        else if (*p == '\n')
            ca_buf_puts(&t->text, "\\n");
        else if (*p == '\t')
            ca_buf_puts(&t->text, "\\t");
        else if (*p == '\r')
            ca_buf_puts(&t->text, "\\r");
        else
            ca_buf_printf(&t->text, "\\x%02X", *p);
    }
    ca_buf_putc(&t->text, '\0');
    int rc = ca_buf_status(&t->text);
    if (rc)
        return rc;
    t->cells[t->ncells].off = off;
    t->cells[t->ncells].width = display_width(t, t->text.data + off);
    t->ncells++;
    return CA_OK;
}

static void pad(ca_buf *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ca_buf_putc(b, ' ');
}

static int out_table(ca_result *r)
{
    table t = {.text = CA_BUF_INIT};
    t.wide_ok = setlocale(LC_CTYPE, "C.UTF-8") != NULL;
    size_t n = ca_result_column_count(r), rows = 0;
    int rc = CA_OK, more;
    for (size_t c = 0; rc == CA_OK && c < n; c++)
        rc = table_add(&t, ca_result_column_name(r, c));
    while (rc == CA_OK && (more = ca_result_next(r)) != 0) {
        if (more < 0) {
            rc = more;
            break;
        }
        rows++;
        for (size_t c = 0; rc == CA_OK && c < n; c++) {
            const char *s = ca_result_text(r, c);
            if (!s && !ca_result_is_null(r, c))
                rc = cell_error();
            else
                rc = table_add(&t, s ? s : "NULL");
        }
    }
    size_t *width = ca__calloc(n ? n : 1, sizeof *width);
    bool *right = ca__calloc(n ? n : 1, sizeof *right);
    if (rc == CA_OK && (!width || !right))
        rc = ca_err_nomem(MOD, "query table");
    ca_buf b = CA_BUF_INIT;
    if (rc == CA_OK) {
        for (size_t c = 0; c < n; c++) {
            right[c] = numeric_type(ca_result_column_type(r, c));
            for (size_t i = c; i < t.ncells; i += n)
                if (t.cells[i].width > width[c])
                    width[c] = t.cells[i].width;
        }
        for (size_t row = 0; n && row <= rows && rc == CA_OK; row++) {
            for (size_t c = 0; c < n; c++) {
                const cell_ref *cell = &t.cells[row * n + c];
                size_t gap = width[c] - cell->width;
                ca_buf_puts(&b, c ? "| " : " ");
                if (right[c])
                    pad(&b, gap);
                ca_buf_puts(&b, t.text.data + cell->off);
                if (!right[c] && c + 1 < n)
                    pad(&b, gap);
                if (c + 1 < n)
                    ca_buf_putc(&b, ' ');
            }
            ca_buf_putc(&b, '\n');
            if (row == 0) { /* the rule under the header */
                for (size_t c = 0; c < n; c++) {
                    if (c)
                        ca_buf_putc(&b, '+');
                    for (size_t i = 0; i < width[c] + 2; i++)
                        ca_buf_putc(&b, '-');
                }
                ca_buf_putc(&b, '\n');
            }
            rc = emit(&b);
        }
        if (rc == CA_OK) {
            ca_buf_printf(&b, "(%zu row%s)\n", rows, rows == 1 ? "" : "s");
            rc = emit(&b);
        }
    }
    ca_buf_free(&b);
    ca__free(width);
    ca__free(right);
    ca__free(t.cells);
    ca_buf_free(&t.text);
    return rc;
}

/* ---- the command ---------------------------------------------------------------------------- */

static int parse_format(const char *s, out_format *out)
{
    static const char *const names[] = {"table", "csv", "json", "jsonl"};
    for (int i = 0; i < 4; i++) {
        if (!strcmp(s, names[i])) {
            *out = (out_format)i;
            return 0;
        }
    }
    return -1;
}

/* NAME=PATH becomes a temporary view NAME over read_delta(PATH); -1 on a malformed spec. */
static int add_table_view(ca_buf *views, const char *spec)
{
    const char *eq = strchr(spec, '=');
    if (!eq || eq == spec || !eq[1])
        return -1;
    char *name = ca__strndup(spec, (size_t)(eq - spec));
    if (!name)
        return ca_err_nomem(MOD, "query --table");
    ca_buf_puts(views, "CREATE OR REPLACE TEMP VIEW ");
    ca_buf_put_quoted(views, name, '"');
    ca_buf_puts(views, " AS SELECT * FROM read_delta(");
    ca_buf_put_quoted(views, eq + 1, '\'');
    ca_buf_puts(views, ");\n");
    ca__free(name);
    return CA_OK;
}

static int run_query(const cli_command *cmd, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"db", required_argument, NULL, 'd'},
        {"format", required_argument, NULL, 'f'},
        {"table", required_argument, NULL, 't'},
        CLI_OPTION_HELP,
        {0, 0, 0, 0},
    };
    const char *db = NULL;
    out_format fmt = FMT_TABLE;
    ca_buf views = CA_BUF_INIT; /* one CREATE VIEW per --table */
    cli_parser p;
    cli_parser_init(&p, cmd, argc, argv, longopts);
    const char *arg;
    int c;
    while ((c = cli_parser_next(&p, &arg)) >= 0) {
        switch (c) {
        case 'd':
            db = arg;
            break;
        case 'f':
            if (parse_format(arg, &fmt)) {
                ca_buf_free(&views);
                return cli_usage_error(cmd, "unknown format '%s' (table, csv, json or jsonl)", arg);
            }
            break;
        case 't':
            if (add_table_view(&views, arg)) {
                ca_buf_free(&views);
                return cli_usage_error(cmd, "--table expects NAME=DELTA_PATH, got '%s'", arg);
            }
            break;
        default:
            ca_buf_free(&views);
            return cli_usage_error(cmd, "unhandled option");
        }
    }
    if (c != CLI_OPT_END) {
        ca_buf_free(&views);
        return cli_parser_stop(&p, c);
    }
    int nops;
    char **ops = cli_parser_operands(&p, &nops);
    if (nops != 1) {
        ca_buf_free(&views);
        if (nops == 0)
            return cli_usage_error(cmd, "missing SQL (give the query, or '-' to read it from stdin)");
        return cli_usage_error(cmd, "expected one SQL argument, got %d (quote the query)", nops);
    }

    ca_buf sql = CA_BUF_INIT;
    int rc = ca_buf_status(&views);
    if (!strcmp(ops[0], "-"))
        rc = cli_read_all(stdin, &sql, "query");
    else
        rc = ca_buf_puts(&sql, ops[0]);

    ca_session *s = NULL;
    ca_result *r = NULL;
    if (rc == CA_OK) {
        ca_session_options opts = CA_SESSION_OPTIONS_INIT;
        opts.db_path = db;
        rc = ca_session_open(&opts, &s);
    }
    if (rc == CA_OK && views.len)
        rc = ca_session_exec(s, ca_buf_cstr(&views));
    if (rc == CA_OK)
        rc = ca_session_query(s, ca_buf_cstr(&sql), &r);
    if (rc == CA_OK) {
        switch (fmt) {
        case FMT_TABLE: rc = out_table(r); break;
        case FMT_CSV: rc = out_csv(r); break;
        case FMT_JSON: rc = out_json(r, false); break;
        case FMT_JSONL: rc = out_json(r, true); break;
        }
    }
    if (rc == CA_OK)
        rc = cli_flush_stdout("query");
    ca_result_free(r);
    ca_session_close(s);
    ca_buf_free(&sql);
    ca_buf_free(&views);
    return rc ? cli_fail(rc) : CLI_EXIT_OK;
}

const cli_command cli_cmd_query = {
    .name = "query",
    .summary = "Run SQL in a session (DuckDB with the function library) and print the result.",
    .synopsis = "query [--db PATH] [--format table|csv|json|jsonl] [--table NAME=DELTA_PATH]... SQL",
    .help = "arguments:\n"
            "  SQL                  one or more statements; the last one's result is printed.\n"
            "                       '-' reads the SQL from standard input; put '--' before an SQL\n"
            "                       text that starts with '-'.\n"
            "options:\n"
            "  --db PATH            DuckDB database file (default: an in-memory database)\n"
            "  --format FORMAT      table (default; aligned columns for people), csv (RFC 4180,\n"
            "                       header row, NULL as an empty field), json (one array of\n"
            "                       objects), jsonl (one object per line)\n"
            "  --table NAME=PATH    register the Delta table at PATH as a view NAME over\n"
            "                       read_delta(PATH) (repeatable)\n"
            "  -h, --help           show this help\n"
            "JSON values: integers within +-2^53 and finite doubles are numbers; larger integers,\n"
            "DECIMAL, NaN/Infinity, dates, times and timestamps (ISO 8601) are strings; BLOB is\n"
            "base64; LIST/ARRAY are arrays; STRUCT and VARCHAR-keyed MAP are objects; NULL is null.\n",
    .run = run_query,
};
