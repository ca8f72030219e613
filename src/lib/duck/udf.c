/*
 * UDF glue over DuckDB's C API. Each registered form gets a heap "box" holding the caller's
 * callbacks and extra info; DuckDB owns the box (as the function's extra info) and frees it with
 * box_free when the catalog entry goes away. Trampolines unwrap the box and pass stack contexts
 * (ca_udf_bind / ca_udf_exec / ca_udf_init) that live for one callback.
 *
 * ca_duck_chunk/ca_duck_vec/ca_duck_ltype are the duckdb handles cast (as in duck.c);
 * ca_udf_value is a duckdb_value cast.
 */
#include "lib/duck/udf.h"

#include "util/alloc.h"
#include "util/err.h"

#include <duckdb.h>
#include <string.h>

#define LT(t) ((duckdb_logical_type)(t))

enum udf_kind { K_SCALAR = 1, K_AGGREGATE, K_TABLE };

typedef struct udf_box {
    enum udf_kind kind;
    ca_udf_scalar_fn scalar_fn;
    ca_udf_bind_fn bind;
    ca_udf_init_fn init;
    ca_udf_table_fn table_fn;
    size_t state_size;
    void (*agg_init)(void *extra, void *state);
    void (*agg_update)(ca_udf_exec *ex, ca_duck_chunk *input, void **states);
    void (*agg_combine)(ca_udf_exec *ex, void **source, void **target, size_t n);
    void (*agg_finalize)(ca_udf_exec *ex, void **states, ca_duck_vec *out, size_t n, size_t offset);
    void *extra;
    ca_udf_free_fn extra_free;
} udf_box;

struct ca_udf_bind {
    duckdb_bind_info info;
    enum udf_kind kind;
    void *extra;
};

struct ca_udf_exec {
    duckdb_function_info info;
    enum udf_kind kind;
    void *extra;
};

struct ca_udf_init {
    duckdb_init_info info;
};

static void box_free(void *p)
{
    udf_box *box = p;
    if (!box)
        return;
    if (box->extra_free && box->extra)
        box->extra_free(box->extra);
    ca__free(box);
}

static udf_box *box_new(enum udf_kind kind, void *extra, ca_udf_free_fn extra_free)
{
    udf_box *box = ca__calloc(1, sizeof *box);
    if (!box)
        return NULL;
    box->kind = kind;
    box->extra = extra;
    box->extra_free = extra_free;
    return box;
}

static int refused(const char *name)
{
    return ca_err_set(CA_E_DUCKDB, "duck", "register %s: refused", name);
}

/* ---- scalar ---------------------------------------------------------------------------- */

static void scalar_trampoline(duckdb_function_info info, duckdb_data_chunk input, duckdb_vector out)
{
    udf_box *box = duckdb_scalar_function_get_extra_info(info);
    struct ca_udf_exec ex = {info, K_SCALAR, box->extra};
    box->scalar_fn(&ex, (ca_duck_chunk *)input, (ca_duck_vec *)out);
}

static void scalar_bind_trampoline(duckdb_bind_info info)
{
    udf_box *box = duckdb_scalar_function_bind_get_extra_info(info);
    struct ca_udf_bind b = {info, K_SCALAR, box->extra};
    box->bind(&b);
}

int ca_udf_register_scalar(ca_duck_conn *conn, const char *name, const ca_udf_scalar *forms,
                           size_t n_forms)
{
    duckdb_connection con = (duckdb_connection)ca_duck__raw_conn(conn);
    duckdb_scalar_function_set set = duckdb_create_scalar_function_set(name);
    size_t i = 0;
    int rc = CA_OK;
    if (!set) {
        rc = ca_err_nomem("duck", "scalar function set");
        goto release_extras;
    }
    for (; i < n_forms; i++) {
        const ca_udf_scalar *f = &forms[i];
        udf_box *box = box_new(K_SCALAR, f->extra, f->extra_free);
        duckdb_scalar_function fn = duckdb_create_scalar_function();
        if (!box || !fn) {
            ca__free(box);
            duckdb_destroy_scalar_function(&fn);
            rc = ca_err_nomem("duck", "scalar function");
            goto release_extras;
        }
        box->scalar_fn = f->fn;
        box->bind = f->bind;
        duckdb_scalar_function_set_name(fn, name);
        for (size_t p = 0; p < f->n_params; p++)
            duckdb_scalar_function_add_parameter(fn, LT(f->params[p]));
        if (f->varargs)
            duckdb_scalar_function_set_varargs(fn, LT(f->varargs));
        duckdb_scalar_function_set_return_type(fn, LT(f->ret));
        duckdb_scalar_function_set_function(fn, scalar_trampoline);
        if (f->bind)
            duckdb_scalar_function_set_bind(fn, scalar_bind_trampoline);
        if (f->special_nulls)
            duckdb_scalar_function_set_special_handling(fn);
        if (f->is_volatile)
            duckdb_scalar_function_set_volatile(fn);
        /* From here the box (and the caller's extra inside it) belongs to the function. */
        duckdb_scalar_function_set_extra_info(fn, box, box_free);
        duckdb_state st = duckdb_add_scalar_function_to_set(set, fn);
        duckdb_destroy_scalar_function(&fn);
        if (st != DuckDBSuccess) {
            rc = refused(name);
            i++;
            goto release_extras;
        }
    }
    if (duckdb_register_scalar_function_set(con, set) != DuckDBSuccess)
        rc = refused(name);
    duckdb_destroy_scalar_function_set(&set);
    return rc;

release_extras:
    /* Boxes already handed to DuckDB are released with the set; the rest are ours. */
    for (; i < n_forms; i++)
        if (forms[i].extra_free && forms[i].extra)
            forms[i].extra_free(forms[i].extra);
    duckdb_destroy_scalar_function_set(&set);
    return rc;
}

/* ---- aggregates ------------------------------------------------------------------------ */

static idx_t agg_state_size(duckdb_function_info info)
{
    udf_box *box = duckdb_aggregate_function_get_extra_info(info);
    return box->state_size;
}

static void agg_init(duckdb_function_info info, duckdb_aggregate_state state)
{
    udf_box *box = duckdb_aggregate_function_get_extra_info(info);
    box->agg_init(box->extra, (void *)state);
}

static void agg_update(duckdb_function_info info, duckdb_data_chunk input, duckdb_aggregate_state *states)
{
    udf_box *box = duckdb_aggregate_function_get_extra_info(info);
    struct ca_udf_exec ex = {info, K_AGGREGATE, box->extra};
    box->agg_update(&ex, (ca_duck_chunk *)input, (void **)states);
}

static void agg_combine(duckdb_function_info info, duckdb_aggregate_state *source,
                        duckdb_aggregate_state *target, idx_t count)
{
    udf_box *box = duckdb_aggregate_function_get_extra_info(info);
    struct ca_udf_exec ex = {info, K_AGGREGATE, box->extra};
    box->agg_combine(&ex, (void **)source, (void **)target, count);
}

static void agg_finalize(duckdb_function_info info, duckdb_aggregate_state *source, duckdb_vector result,
                         idx_t count, idx_t offset)
{
    udf_box *box = duckdb_aggregate_function_get_extra_info(info);
    struct ca_udf_exec ex = {info, K_AGGREGATE, box->extra};
    box->agg_finalize(&ex, (void **)source, (ca_duck_vec *)result, count, offset);
}

int ca_udf_register_aggregate(ca_duck_conn *conn, const char *name, const ca_udf_aggregate *forms,
                              size_t n_forms)
{
    duckdb_connection con = (duckdb_connection)ca_duck__raw_conn(conn);
    duckdb_aggregate_function_set set = duckdb_create_aggregate_function_set(name);
    size_t i = 0;
    int rc = CA_OK;
    if (!set) {
        rc = ca_err_nomem("duck", "aggregate function set");
        goto release_extras;
    }
    for (; i < n_forms; i++) {
        const ca_udf_aggregate *f = &forms[i];
        udf_box *box = box_new(K_AGGREGATE, f->extra, f->extra_free);
        duckdb_aggregate_function fn = duckdb_create_aggregate_function();
        if (!box || !fn) {
            ca__free(box);
            duckdb_destroy_aggregate_function(&fn);
            rc = ca_err_nomem("duck", "aggregate function");
            goto release_extras;
        }
        box->state_size = f->state_size;
        box->agg_init = f->init;
        box->agg_update = f->update;
        box->agg_combine = f->combine;
        box->agg_finalize = f->finalize;
        duckdb_aggregate_function_set_name(fn, name);
        for (size_t p = 0; p < f->n_params; p++)
            duckdb_aggregate_function_add_parameter(fn, LT(f->params[p]));
        duckdb_aggregate_function_set_return_type(fn, LT(f->ret));
        duckdb_aggregate_function_set_functions(fn, agg_state_size, agg_init, agg_update, agg_combine,
                                                agg_finalize);
        /* The destructor gets no function info to find a box by, so the caller's callback is
         * installed directly: void ** / size_t match duckdb_aggregate_state * / idx_t in the ABI. */
        if (f->destroy)
            duckdb_aggregate_function_set_destructor(fn, (duckdb_aggregate_destroy_t)(void (*)(void))f->destroy);
        if (f->special_nulls)
            duckdb_aggregate_function_set_special_handling(fn);
        duckdb_aggregate_function_set_extra_info(fn, box, box_free);
        duckdb_state st = duckdb_add_aggregate_function_to_set(set, fn);
        duckdb_destroy_aggregate_function(&fn);
        if (st != DuckDBSuccess) {
            rc = refused(name);
            i++;
            goto release_extras;
        }
    }
    if (duckdb_register_aggregate_function_set(con, set) != DuckDBSuccess)
        rc = refused(name);
    duckdb_destroy_aggregate_function_set(&set);
    return rc;

release_extras:
    for (; i < n_forms; i++)
        if (forms[i].extra_free && forms[i].extra)
            forms[i].extra_free(forms[i].extra);
    duckdb_destroy_aggregate_function_set(&set);
    return rc;
}

/* ---- table functions ------------------------------------------------------------------- */

static void table_bind_trampoline(duckdb_bind_info info)
{
    udf_box *box = duckdb_bind_get_extra_info(info);
    struct ca_udf_bind b = {info, K_TABLE, box->extra};
    box->bind(&b);
}

static void table_init_trampoline(duckdb_init_info info)
{
    udf_box *box = duckdb_init_get_extra_info(info);
    struct ca_udf_init in = {info};
    if (box->init)
        box->init(&in);
}

static void table_fn_trampoline(duckdb_function_info info, duckdb_data_chunk output)
{
    udf_box *box = duckdb_function_get_extra_info(info);
    struct ca_udf_exec ex = {info, K_TABLE, box->extra};
    box->table_fn(&ex, (ca_duck_chunk *)output);
}

int ca_udf_register_table(ca_duck_conn *conn, const char *name, const ca_udf_table *tf)
{
    duckdb_connection con = (duckdb_connection)ca_duck__raw_conn(conn);
    udf_box *box = box_new(K_TABLE, tf->extra, tf->extra_free);
    duckdb_table_function fn = duckdb_create_table_function();
    if (!box || !fn) {
        ca__free(box);
        duckdb_destroy_table_function(&fn);
        if (tf->extra_free && tf->extra)
            tf->extra_free(tf->extra);
        return ca_err_nomem("duck", "table function");
    }
    box->bind = tf->bind;
    box->init = tf->init;
    box->table_fn = tf->fn;
    duckdb_table_function_set_name(fn, name);
    for (size_t p = 0; p < tf->n_params; p++)
        duckdb_table_function_add_parameter(fn, LT(tf->params[p]));
    duckdb_table_function_set_extra_info(fn, box, box_free);
    duckdb_table_function_set_bind(fn, table_bind_trampoline);
    duckdb_table_function_set_init(fn, table_init_trampoline);
    duckdb_table_function_set_function(fn, table_fn_trampoline);
    int rc = CA_OK;
    if (duckdb_register_table_function(con, fn) != DuckDBSuccess)
        rc = refused(name);
    duckdb_destroy_table_function(&fn);
    return rc;
}

/* ---- bind context ---------------------------------------------------------------------- */

void *ca_udf_bind_extra(ca_udf_bind *b) { return b->extra; }

size_t ca_udf_bind_arg_count(ca_udf_bind *b)
{
    return b->kind == K_SCALAR ? duckdb_scalar_function_bind_get_argument_count(b->info) : 0;
}

ca_duck_ltype *ca_udf_bind_arg_type(ca_udf_bind *b, size_t i)
{
    duckdb_expression e = duckdb_scalar_function_bind_get_argument(b->info, i);
    if (!e)
        return NULL;
    duckdb_logical_type t = duckdb_expression_return_type(e);
    duckdb_destroy_expression(&e);
    return (ca_duck_ltype *)t;
}

bool ca_udf_bind_arg_foldable(ca_udf_bind *b, size_t i)
{
    duckdb_expression e = duckdb_scalar_function_bind_get_argument(b->info, i);
    if (!e)
        return false;
    bool r = duckdb_expression_is_foldable(e);
    duckdb_destroy_expression(&e);
    return r;
}

int ca_udf_bind_arg_fold(ca_udf_bind *b, size_t i, ca_udf_value **out)
{
    *out = NULL;
    duckdb_expression e = duckdb_scalar_function_bind_get_argument(b->info, i);
    if (!e)
        return ca_err_set(CA_E_INVALID, "duck", "fold: no argument %zu", i);
    duckdb_client_context ctx = NULL;
    duckdb_scalar_function_get_client_context(b->info, &ctx);
    duckdb_value v = NULL;
    duckdb_error_data err = duckdb_expression_fold(ctx, e, &v);
    int rc = CA_OK;
    if (err && duckdb_error_data_has_error(err)) {
        rc = ca_err_set(CA_E_DUCKDB, "duck", "fold: %s", duckdb_error_data_message(err));
        if (v)
            duckdb_destroy_value(&v);
    } else {
        *out = (ca_udf_value *)v;
    }
    duckdb_destroy_error_data(&err);
    duckdb_destroy_client_context(&ctx);
    duckdb_destroy_expression(&e);
    return rc;
}

size_t ca_udf_bind_param_count(ca_udf_bind *b)
{
    return b->kind == K_TABLE ? duckdb_bind_get_parameter_count(b->info) : 0;
}

ca_udf_value *ca_udf_bind_param(ca_udf_bind *b, size_t i)
{
    return (ca_udf_value *)duckdb_bind_get_parameter(b->info, i);
}

void ca_udf_bind_add_column(ca_udf_bind *b, const char *name, ca_duck_ltype *type)
{
    duckdb_bind_add_result_column(b->info, name, LT(type));
}

void ca_udf_bind_set_cardinality(ca_udf_bind *b, size_t rows, bool exact)
{
    duckdb_bind_set_cardinality(b->info, rows, exact);
}

void ca_udf_bind_set_data(ca_udf_bind *b, void *data, ca_udf_free_fn free_fn, ca_udf_copy_fn copy_fn)
{
    if (b->kind == K_SCALAR) {
        duckdb_scalar_function_set_bind_data(b->info, data, free_fn);
        if (copy_fn)
            duckdb_scalar_function_set_bind_data_copy(b->info, copy_fn);
    } else {
        duckdb_bind_set_bind_data(b->info, data, free_fn);
    }
}

void ca_udf_bind_set_error(ca_udf_bind *b, const char *msg)
{
    if (b->kind == K_SCALAR)
        duckdb_scalar_function_bind_set_error(b->info, msg);
    else
        duckdb_bind_set_error(b->info, msg);
}

/* ---- execution context ----------------------------------------------------------------- */

void *ca_udf_exec_extra(ca_udf_exec *ex) { return ex->extra; }

void *ca_udf_exec_bind_data(ca_udf_exec *ex)
{
    switch (ex->kind) {
    case K_SCALAR: return duckdb_scalar_function_get_bind_data(ex->info);
    case K_TABLE: return duckdb_function_get_bind_data(ex->info);
    default: return NULL;
    }
}

void *ca_udf_exec_init_data(ca_udf_exec *ex)
{
    return ex->kind == K_TABLE ? duckdb_function_get_init_data(ex->info) : NULL;
}

void ca_udf_exec_set_error(ca_udf_exec *ex, const char *msg)
{
    switch (ex->kind) {
    case K_SCALAR: duckdb_scalar_function_set_error(ex->info, msg); break;
    case K_AGGREGATE: duckdb_aggregate_function_set_error(ex->info, msg); break;
    case K_TABLE: duckdb_function_set_error(ex->info, msg); break;
    }
}

/* ---- table init context ---------------------------------------------------------------- */

void *ca_udf_init_bind_data(ca_udf_init *in) { return duckdb_init_get_bind_data(in->info); }

void ca_udf_init_set_data(ca_udf_init *in, void *data, ca_udf_free_fn free_fn)
{
    duckdb_init_set_init_data(in->info, data, free_fn);
}

void ca_udf_init_set_error(ca_udf_init *in, const char *msg) { duckdb_init_set_error(in->info, msg); }

/* ---- constants ------------------------------------------------------------------------- */

bool ca_udf_value_is_null(ca_udf_value *v) { return !v || duckdb_is_null_value((duckdb_value)v); }

ca_duck_type ca_udf_value_type(ca_udf_value *v)
{
    duckdb_logical_type t = duckdb_get_value_type((duckdb_value)v); /* borrowed from the value */
    return (ca_duck_type)duckdb_get_type_id(t);
}

char *ca_udf_value_text(ca_udf_value *v)
{
    if (ca_udf_value_is_null(v))
        return NULL;
    char *s = duckdb_get_varchar((duckdb_value)v);
    if (!s)
        return NULL;
    char *r = ca__strdup(s);
    duckdb_free(s);
    return r;
}

bool ca_udf_value_bool(ca_udf_value *v) { return duckdb_get_bool((duckdb_value)v); }
int64_t ca_udf_value_int64(ca_udf_value *v) { return duckdb_get_int64((duckdb_value)v); }

void ca_udf_value_free(ca_udf_value *v)
{
    duckdb_value d = (duckdb_value)v;
    if (d)
        duckdb_destroy_value(&d);
}

/* ---- vectors --------------------------------------------------------------------------- */

void ca_udf_vec_set_null_struct(ca_duck_vec *v, size_t n_children, size_t row)
{
    ca_duck_vec_set_null(v, row);
    for (size_t i = 0; i < n_children; i++)
        ca_duck_vec_set_null(ca_duck_vec_struct_child(v, i), row);
}
