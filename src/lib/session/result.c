/* ca_result: the public forward-only cursor over a DuckDB result (session.h). Cells are rendered
 * by the duck module's value renderer; each column's type is compiled once, when the cursor is
 * made. */
#include "lib/session/session.h"

#include "lib/duck/value.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"

#include <assert.h>

#define MOD "session"

struct ca_result {
    ca_duck_result *dr;
    size_t ncols;
    const char **names;      /* borrowed from dr */
    const char **types;      /* borrowed from dr */
    ca_duck_vtype **vtypes;  /* per column */
    ca_duck_chunk *chunk;    /* current chunk, NULL before the first row and at the end */
    ca_duck_vec **vecs;      /* the current chunk's vectors */
    size_t rows;             /* rows in the current chunk */
    size_t row;              /* current row in the chunk */
    bool done;
    ca_buf cell;             /* the last text/json cell handed out */
};

void ca_result_free(ca_result *r)
{
    if (!r)
        return;
    ca_duck_chunk_free(r->chunk);
    for (size_t i = 0; r->vtypes && i < r->ncols; i++)
        ca_duck_vtype_free(r->vtypes[i]);
    ca__free(r->vtypes);
    ca__free(r->vecs);
    ca__free(r->names);
    ca__free(r->types);
    ca_buf_free(&r->cell);
    ca_duck_result_free(r->dr);
    ca__free(r);
}

int ca_session__result_new(ca_duck_result *dr, ca_result **out)
{
    *out = NULL;
    ca_result *r = ca__calloc(1, sizeof *r);
    if (!r) {
        ca_duck_result_free(dr);
        return ca_err_nomem(MOD, "result");
    }
    r->dr = dr;
    r->ncols = ca_duck_result_column_count(dr);
    size_t n = r->ncols ? r->ncols : 1;
    r->names = ca__calloc(n, sizeof *r->names);
    r->types = ca__calloc(n, sizeof *r->types);
    r->vtypes = ca__calloc(n, sizeof *r->vtypes);
    r->vecs = ca__calloc(n, sizeof *r->vecs);
    int rc = r->names && r->types && r->vtypes && r->vecs ? CA_OK : ca_err_nomem(MOD, "result");
    for (size_t i = 0; rc == CA_OK && i < r->ncols; i++) {
        r->names[i] = ca_duck_result_column_name(dr, i);
        r->types[i] = ca_duck_result_column_type_text(dr, i);
        if (!r->names[i] || !r->types[i])
            rc = ca_err_nomem(MOD, "result column");
        else
            rc = ca_duck_vtype_new(ca_duck_result_column_ltype(dr, i), &r->vtypes[i]);
    }
    if (rc) {
        ca_result_free(r);
        return rc;
    }
    *out = r;
    return CA_OK;
}

size_t ca_result_column_count(const ca_result *r) { return r->ncols; }

const char *ca_result_column_name(const ca_result *r, size_t col)
{
    assert(col < r->ncols);
    return r->names[col];
}

const char *ca_result_column_type(const ca_result *r, size_t col)
{
    assert(col < r->ncols);
    return r->types[col];
}

int ca_result_next(ca_result *r)
{
    if (r->done)
        return 0;
    if (r->chunk && r->row + 1 < r->rows) {
        r->row++;
        return 1;
    }
    for (;;) {
        ca_duck_chunk_free(r->chunk);
        r->chunk = NULL;
        int rc = ca_duck_result_next_chunk(r->dr, &r->chunk);
        if (rc || !r->chunk) {
            r->done = true;
            return rc ? rc : 0;
        }
        r->rows = ca_duck_chunk_size(r->chunk);
        if (r->rows == 0)
            continue;
        for (size_t i = 0; i < r->ncols; i++)
            r->vecs[i] = ca_duck_chunk_vector(r->chunk, i);
        r->row = 0;
        return 1;
    }
}

bool ca_result_is_null(const ca_result *r, size_t col)
{
    assert(r->chunk && col < r->ncols);
    return ca_duck_value_is_null(r->vecs[col], r->row);
}

/* Renders the current row's cell into r->cell; NULL (with the error raised) on failure. */
static const char *cell(ca_result *r, size_t col, bool json)
{
    assert(r->chunk && col < r->ncols);
    ca_buf_clear(&r->cell); /* keeps the memory; also resets a failed buffer */
    int rc = json ? ca_duck_value_json(&r->cell, r->vtypes[col], r->vecs[col], r->row)
                  : ca_duck_value_text(&r->cell, r->vtypes[col], r->vecs[col], r->row);
    return rc ? NULL : ca_buf_cstr(&r->cell);
}

const char *ca_result_text(ca_result *r, size_t col)
{
    if (ca_result_is_null(r, col))
        return NULL;
    return cell(r, col, false);
}

const char *ca_result_json(ca_result *r, size_t col)
{
    return cell(r, col, true);
}
