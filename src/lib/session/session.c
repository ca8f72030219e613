/* ca_session: a DuckDB database with the project's settings and per-connection registrations. */
#include "lib/session/session.h"

#include "codeanatomy/delta.h"
#include "lib/functions/functions.h"

#include "util/alloc.h"
#include "util/err.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MOD "session"

struct ca_session {
    ca_duck_db *db;
    ca_delta_ctx *delta; /* one per database: the Delta SQL functions are database-global */
    ca_connection *main;
    char *temp_dir;
    bool owns_temp_dir;
};

struct ca_connection {
    ca_session *session;
    ca_duck_conn *conn;
};

/* Every connection gets the SQL function library and the Delta SQL functions here, before the
 * caller sees it. Modules register in dependency order as they land. */
static int register_connection(ca_duck_conn *conn, void *ctx)
{
    ca_session *s = ctx;
    int rc = ca_functions_register(conn);
    if (rc == CA_OK)
        rc = ca_delta_register_sql(s->delta, conn);
    return rc;
}

static int make_temp_dir(char **out)
{
    const char *base = getenv("TMPDIR");
    char tmpl[4096];
    snprintf(tmpl, sizeof tmpl, "%s/codeanatomy-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmpl))
        return ca_err_errno(errno, MOD, "session: temp dir %s", tmpl);
    *out = ca__strdup(tmpl);
    return *out ? CA_OK : ca_err_nomem(MOD, "temp dir");
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void remove_tree(const char *path) { nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS); }

/* 75% of physical memory: DuckDB's own default is 80%, but set explicitly (dependencies.md). */
static void default_memory_limit(char *buf, size_t n)
{
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    unsigned long long mb = pages > 0 && size > 0 ? (unsigned long long)pages * (unsigned long long)size / (1024 * 1024) : 4096;
    snprintf(buf, n, "%lluMB", mb * 3 / 4);
}

static int check_options(const ca_session_options *o)
{
    if (o->version != CA_SESSION_OPTIONS_VERSION)
        return ca_err_set(CA_E_INVALID, MOD, "session: options version %u, expected %u", o->version,
                          CA_SESSION_OPTIONS_VERSION);
    if (o->threads < 0)
        return ca_err_set(CA_E_INVALID, MOD, "session: threads %d < 0", o->threads);
    return CA_OK;
}

static int connection_new(ca_session *s, ca_connection **out)
{
    ca_connection *c = ca__calloc(1, sizeof *c);
    if (!c)
        return ca_err_nomem(MOD, "connection");
    c->session = s;
    int rc = ca_duck_connect(s->db, &c->conn);
    if (rc) {
        ca__free(c);
        return rc;
    }
    *out = c;
    return CA_OK;
}

int ca_session_open(const ca_session_options *opts, ca_session **out)
{
    ca_session_options defaults = CA_SESSION_OPTIONS_INIT;
    const ca_session_options *o = opts ? opts : &defaults;
    *out = NULL;
    int rc = check_options(o);
    if (rc)
        return rc;
    ca_session *s = ca__calloc(1, sizeof *s);
    if (!s)
        return ca_err_nomem(MOD, "session");
    if (o->temp_dir) {
        s->temp_dir = ca__strdup(o->temp_dir);
        rc = s->temp_dir ? CA_OK : ca_err_nomem(MOD, "temp dir");
    } else {
        rc = make_temp_dir(&s->temp_dir);
        s->owns_temp_dir = rc == CA_OK;
    }
    char mem[64];
    default_memory_limit(mem, sizeof mem);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    ca_duck_config cfg = {
        .path = o->db_path,
        .threads = o->threads > 0 ? o->threads : (cores > 0 ? (int)cores : 1),
        .memory_limit = o->memory_limit ? o->memory_limit : mem,
        .temp_dir = s->temp_dir,
        .timezone = "UTC",
    };
    if (rc == CA_OK)
        rc = ca_duck_open(&cfg, &s->db);
    if (rc == CA_OK)
        rc = ca_delta_ctx_new(s->db, NULL, NULL, &s->delta);
    if (rc == CA_OK) {
        ca_duck_set_connect_hook(s->db, register_connection, s);
        rc = connection_new(s, &s->main);
    }
    if (rc) {
        ca_session_close(s);
        return rc;
    }
    *out = s;
    return CA_OK;
}

void ca_session_close(ca_session *s)
{
    if (!s)
        return;
    ca_connection_close(s->main);
    ca_delta_ctx_free(s->delta);
    ca_duck_close(s->db);
    if (s->owns_temp_dir)
        remove_tree(s->temp_dir);
    ca__free(s->temp_dir);
    ca__free(s);
}

int ca_session_connect(ca_session *s, ca_connection **out)
{
    *out = NULL;
    return connection_new(s, out);
}

void ca_connection_close(ca_connection *c)
{
    if (!c)
        return;
    ca_duck_disconnect(c->conn);
    ca__free(c);
}

ca_connection *ca_session_connection(ca_session *s) { return s->main; }

int ca_connection_exec(ca_connection *c, const char *sql) { return ca_duck_exec(c->conn, sql); }
int ca_session_exec(ca_session *s, const char *sql) { return ca_connection_exec(s->main, sql); }

int ca_connection_query(ca_connection *c, const char *sql, ca_result **out)
{
    *out = NULL;
    ca_duck_result *dr = NULL;
    int rc = ca_duck_query(c->conn, sql, &dr);
    if (rc)
        return rc;
    return ca_session__result_new(dr, out);
}

int ca_session_query(ca_session *s, const char *sql, ca_result **out)
{
    return ca_connection_query(s->main, sql, out);
}

ca_duck_db *ca_session__duck_db(ca_session *s) { return s->db; }
ca_delta_ctx *ca_session_delta(ca_session *s) { return s->delta; }
ca_duck_conn *ca_session__duck_conn(ca_connection *c) { return c->conn; }
const char *ca_session__temp_dir(ca_session *s) { return s->temp_dir; }
