/* The registry as SQL: __codeanatomy_registry() (one row per entry and per alias, §8.2) and
 * codeanatomy_function_docs() (one row per entry by name, §8.3). Both read CA_FUNCTIONS. */
#include "lib/functions/functions_int.h"

#include "util/alloc.h"

#include <stdlib.h>
#include <string.h>

typedef struct scan_state {
    size_t entry;  /* next entry */
    size_t alias;  /* 0 = the primary row, k = the k-th alias */
    size_t order[128];
} scan_state;

static void set_text(ca_duck_vec *v, size_t row, const char *s)
{
    if (s)
        ca_duck_vec_set_string(v, row, s, strlen(s));
    else
        ca_duck_vec_set_null(v, row);
}

static void init_scan(ca_udf_init *in)
{
    scan_state *st = ca__calloc(1, sizeof *st);
    if (!st) {
        ca_udf_init_set_error(in, "codeanatomy_functions: out of memory");
        return;
    }
    ca_udf_init_set_data(in, st, ca__free);
}

/* ---- __codeanatomy_registry() ---------------------------------------------------------- */

static const char *const REGISTRY_COLUMNS[] = {"name", "alias_of", "kind", "origin", "section", "signature",
                                               "return_type", "volatility", "null_handling", "description",
                                               "example", "expected", "definition"};

static void registry_bind(ca_udf_bind *b)
{
    ca_duck_ltype *vc = ca_duck_ltype_new(CA_DUCK_VARCHAR);
    for (size_t i = 0; i < 13; i++)
        ca_udf_bind_add_column(b, REGISTRY_COLUMNS[i], vc);
    ca_duck_ltype_free(vc);
}

static void registry_fn(ca_udf_exec *ex, ca_duck_chunk *out)
{
    scan_state *st = ca_udf_exec_init_data(ex);
    size_t cap = ca_duck_vector_capacity(), row = 0;
    ca_duck_vec *v[13];
    for (size_t i = 0; i < 13; i++)
        v[i] = ca_duck_chunk_vector(out, i);
    while (row < cap && st->entry < CA_FUNCTIONS_COUNT) {
        const ca_fn_entry *e = &CA_FUNCTIONS[st->entry];
        size_t n_alias = 0;
        while (e->aliases && e->aliases[n_alias])
            n_alias++;
        const char *name = st->alias == 0 ? e->name : e->aliases[st->alias - 1];
        set_text(v[0], row, name);
        set_text(v[1], row, st->alias == 0 ? NULL : e->name);
        set_text(v[2], row, ca_fn_kind_name(e->kind));
        set_text(v[3], row, ca_fn_origin_name(e->origin));
        set_text(v[4], row, e->section);
        set_text(v[5], row, e->signature);
        set_text(v[6], row, e->return_type);
        set_text(v[7], row, ca_fn_volatility_name(e->volatility));
        set_text(v[8], row, ca_fn_nulls_name(e->nulls));
        set_text(v[9], row, e->description);
        set_text(v[10], row, e->example);
        set_text(v[11], row, e->expected);
        set_text(v[12], row, e->definition);
        row++;
        if (st->alias < n_alias) {
            st->alias++;
        } else {
            st->alias = 0;
            st->entry++;
        }
    }
    ca_duck_chunk_set_size(out, row);
}

int ca_fn__register_registry_table(ca_duck_conn *c, const char *name)
{
    ca_udf_table tf = {.bind = registry_bind, .init = init_scan, .fn = registry_fn};
    return ca_udf_register_table(c, name, &tf);
}

/* ---- codeanatomy_function_docs() ------------------------------------------------------- */

static void docs_bind(ca_udf_bind *b)
{
    ca_duck_ltype *vc = ca_duck_ltype_new(CA_DUCK_VARCHAR);
    ca_duck_ltype *members[3] = {vc, vc, vc};
    const char *names[3] = {"name", "type", "description"};
    ca_duck_ltype *arg = ca_duck_ltype_struct(members, names, 3);
    ca_duck_ltype *args = ca_duck_ltype_list(arg);
    ca_duck_ltype *texts = ca_duck_ltype_list(vc);
    ca_udf_bind_add_column(b, "name", vc);
    ca_udf_bind_add_column(b, "section", vc);
    ca_udf_bind_add_column(b, "signature", vc);
    ca_udf_bind_add_column(b, "description", vc);
    ca_udf_bind_add_column(b, "arguments", args);
    ca_udf_bind_add_column(b, "aliases", texts);
    ca_udf_bind_add_column(b, "null_handling", vc);
    ca_udf_bind_add_column(b, "errors", texts);
    ca_udf_bind_add_column(b, "example", vc);
    ca_udf_bind_add_column(b, "expected", vc);
    ca_udf_bind_set_cardinality(b, CA_FUNCTIONS_COUNT, true);
    ca_duck_ltype_free(texts);
    ca_duck_ltype_free(args);
    ca_duck_ltype_free(arg);
    ca_duck_ltype_free(vc);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(CA_FUNCTIONS[*(const size_t *)a].name, CA_FUNCTIONS[*(const size_t *)b].name);
}

static void docs_init(ca_udf_init *in)
{
    scan_state *st = ca__calloc(1, sizeof *st);
    if (!st || CA_FUNCTIONS_COUNT > sizeof st->order / sizeof st->order[0]) {
        ca__free(st);
        ca_udf_init_set_error(in, "codeanatomy_function_docs: out of memory");
        return;
    }
    for (size_t i = 0; i < CA_FUNCTIONS_COUNT; i++)
        st->order[i] = i;
    qsort(st->order, CA_FUNCTIONS_COUNT, sizeof st->order[0], by_name);
    ca_udf_init_set_data(in, st, ca__free);
}

/* Appends a NULL-terminated string array as row's list. */
static bool put_text_list(ca_duck_vec *v, size_t row, const char *const *items)
{
    size_t k = 0;
    while (items && items[k])
        k++;
    size_t off = ca_duck_vec_list_size(v);
    if (ca_duck_vec_list_reserve(v, off + k) != CA_OK)
        return false;
    ca_duck_vec *child = ca_duck_vec_list_child(v);
    for (size_t i = 0; i < k; i++)
        set_text(child, off + i, items[i]);
    if (ca_duck_vec_list_set_size(v, off + k) != CA_OK)
        return false;
    ca_duck_list_entry *le = ca_duck_vec_data(v);
    le[row].offset = off;
    le[row].length = k;
    return true;
}

static bool put_args(ca_duck_vec *v, size_t row, const ca_fn_entry *e)
{
    size_t off = ca_duck_vec_list_size(v);
    if (ca_duck_vec_list_reserve(v, off + e->n_args) != CA_OK)
        return false;
    ca_duck_vec *child = ca_duck_vec_list_child(v);
    ca_duck_vec *f[3] = {ca_duck_vec_struct_child(child, 0), ca_duck_vec_struct_child(child, 1),
                         ca_duck_vec_struct_child(child, 2)};
    for (size_t i = 0; i < e->n_args; i++) {
        set_text(f[0], off + i, e->args[i].name);
        set_text(f[1], off + i, e->args[i].type);
        set_text(f[2], off + i, e->args[i].doc);
    }
    if (ca_duck_vec_list_set_size(v, off + e->n_args) != CA_OK)
        return false;
    ca_duck_list_entry *le = ca_duck_vec_data(v);
    le[row].offset = off;
    le[row].length = e->n_args;
    return true;
}

static void docs_fn(ca_udf_exec *ex, ca_duck_chunk *out)
{
    scan_state *st = ca_udf_exec_init_data(ex);
    size_t cap = ca_duck_vector_capacity(), row = 0;
    ca_duck_vec *v[10];
    for (size_t i = 0; i < 10; i++)
        v[i] = ca_duck_chunk_vector(out, i);
    while (row < cap && st->entry < CA_FUNCTIONS_COUNT) {
        const ca_fn_entry *e = &CA_FUNCTIONS[st->order[st->entry]];
        set_text(v[0], row, e->name);
        set_text(v[1], row, e->section);
        set_text(v[2], row, e->signature);
        set_text(v[3], row, e->description);
        if (!put_args(v[4], row, e) || !put_text_list(v[5], row, e->aliases) ||
            !put_text_list(v[7], row, e->errors)) {
            ca_udf_exec_set_error(ex, "codeanatomy_function_docs: out of memory");
            return;
        }
        set_text(v[6], row, ca_fn_nulls_name(e->nulls));
        set_text(v[8], row, e->example);
        set_text(v[9], row, e->expected);
        row++;
        st->entry++;
    }
    ca_duck_chunk_set_size(out, row);
}

int ca_fn__register_function_docs(ca_duck_conn *c, const ca_fn_entry *e)
{
    ca_udf_table tf = {.bind = docs_bind, .init = docs_init, .fn = docs_fn};
    return ca_udf_register_table(c, e->name, &tf);
}
