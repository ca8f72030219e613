/* Delta schema JSON -> DuckDB types, column mapping (delta.md §7.1, §7.4). */
#include "lib/delta/delta_int.h"

#include "util/alloc.h"
#include "util/err.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static void type_free(dl_type *t);

static void field_free(dl_field *f)
{
    ca__free(f->name);
    ca__free(f->phys);
    type_free(f->type);
}

static void type_free(dl_type *t)
{
    if (!t)
        return;
    ca__free(t->prim);
    ca__free(t->duck);
    for (size_t i = 0; i < t->n_fields; i++)
        field_free(&t->fields[i]);
    ca__free(t->fields);
    type_free(t->elem);
    type_free(t->key);
    type_free(t->val);
    ca__free(t);
}

void ca_delta__schema_free(dl_schema *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_fields; i++)
        field_free(&s->fields[i]);
    ca__free(s->fields);
    s->fields = NULL;
    s->n_fields = 0;
}

typedef struct parse_ctx {
    const char *root;
    dl_cm_mode mode;
} parse_ctx;

static int corrupt(const parse_ctx *pc, const char *what)
{
    return ca_err_set(CA_E_DELTA_CORRUPT, DL_MOD, "delta: %s: metaData.schemaString: %s", pc->root,
                      what);
}

static int prim_duck(const parse_ctx *pc, const char *p, char **out)
{
    static const struct { const char *delta, *duck; } map[] = {
        {"boolean", "BOOLEAN"}, {"byte", "TINYINT"},     {"short", "SMALLINT"},
        {"integer", "INTEGER"}, {"long", "BIGINT"},       {"float", "FLOAT"},
        {"double", "DOUBLE"},   {"string", "VARCHAR"},    {"binary", "BLOB"},
        {"date", "DATE"},       {"timestamp", "TIMESTAMPTZ"}, {"timestamp_ntz", "TIMESTAMP"},
        {"void", "INTEGER"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(p, map[i].delta) == 0)
            return (*out = ca__strdup(map[i].duck)) ? CA_OK : ca_err_nomem(DL_MOD, "schema");
    if (strncmp(p, "decimal", 7) == 0) {
        int prec = 10, scale = 0;
        const char *q = p + 7;
        while (*q == ' ')
            q++;
        if (*q) {
            char tail = 0;
            if (sscanf(q, "(%d ,%d )%c", &prec, &scale, &tail) < 2 &&
                sscanf(q, "(%d,%d)%c", &prec, &scale, &tail) < 2)
                return corrupt(pc, "bad decimal type");
        }
        if (prec < 1 || prec > 38 || scale < 0 || scale > prec)
            return ca_err_set(CA_E_DELTA_UNSUPPORTED, DL_MOD,
                              "delta: %s: schema: type %s is beyond DECIMAL(38)", pc->root, p);
        char buf[40];
        snprintf(buf, sizeof buf, "DECIMAL(%d,%d)", prec, scale);
        return (*out = ca__strdup(buf)) ? CA_OK : ca_err_nomem(DL_MOD, "schema");
    }
    return ca_err_set(CA_E_DELTA_UNSUPPORTED, DL_MOD, "delta: %s: schema: unsupported type '%s'",
                      pc->root, p);
}

static int parse_type(const parse_ctx *pc, json_t *j, dl_type **out);

static int parse_fields(const parse_ctx *pc, json_t *arr, dl_field **out, size_t *n_out)
{
    if (!json_is_array(arr))
        return corrupt(pc, "struct without a fields array");
    size_t n = json_array_size(arr);
    dl_field *fs = n ? ca__calloc(n, sizeof *fs) : NULL;
    if (n && !fs)
        return ca_err_nomem(DL_MOD, "schema");
    int rc = CA_OK;
    for (size_t i = 0; i < n && rc == CA_OK; i++) {
        json_t *f = json_array_get(arr, i);
        const char *name = json_string_value(json_object_get(f, "name"));
        if (!name) {
            rc = corrupt(pc, "field without a name");
            break;
        }
        fs[i].name = ca__strdup(name);
        json_t *nl = json_object_get(f, "nullable");
        fs[i].nullable = !json_is_false(nl);
        json_t *md = json_object_get(f, "metadata");
        const char *phys = json_string_value(json_object_get(md, "delta.columnMapping.physicalName"));
        json_t *id = json_object_get(md, "delta.columnMapping.id");
        fs[i].id = json_is_integer(id) ? json_integer_value(id) : -1;
        if (pc->mode != DL_CM_NONE && !phys) {
            rc = corrupt(pc, "column mapping without a physicalName");
            break;
        }
        if (pc->mode == DL_CM_ID && fs[i].id < 0) {
            rc = corrupt(pc, "column mapping mode id without delta.columnMapping.id");
            break;
        }
        fs[i].phys = ca__strdup(pc->mode != DL_CM_NONE ? phys : name);
        if (!fs[i].name || !fs[i].phys) {
            rc = ca_err_nomem(DL_MOD, "schema");
            break;
        }
        rc = parse_type(pc, json_object_get(f, "type"), &fs[i].type);
    }
    if (rc) {
        for (size_t i = 0; i < n; i++)
            field_free(&fs[i]);
        ca__free(fs);
        return rc;
    }
    *out = fs;
    *n_out = n;
    return CA_OK;
}

static int parse_type(const parse_ctx *pc, json_t *j, dl_type **out)
{
    dl_type *t = ca__calloc(1, sizeof *t);
    if (!t)
        return ca_err_nomem(DL_MOD, "schema");
    int rc = CA_OK;
    if (json_is_string(j)) {
        t->kind = DL_PRIM;
        t->prim = ca__strdup(json_string_value(j));
        rc = t->prim ? prim_duck(pc, t->prim, &t->duck) : ca_err_nomem(DL_MOD, "schema");
    } else if (json_is_object(j)) {
        const char *k = json_string_value(json_object_get(j, "type"));
        if (!k) {
            rc = corrupt(pc, "type object without 'type'");
        } else if (strcmp(k, "struct") == 0) {
            t->kind = DL_STRUCT;
            rc = parse_fields(pc, json_object_get(j, "fields"), &t->fields, &t->n_fields);
        } else if (strcmp(k, "array") == 0) {
            t->kind = DL_ARRAY;
            rc = parse_type(pc, json_object_get(j, "elementType"), &t->elem);
        } else if (strcmp(k, "map") == 0) {
            t->kind = DL_MAP;
            rc = parse_type(pc, json_object_get(j, "keyType"), &t->key);
            if (rc == CA_OK)
                rc = parse_type(pc, json_object_get(j, "valueType"), &t->val);
        } else {
            rc = ca_err_set(CA_E_DELTA_UNSUPPORTED, DL_MOD,
                            "delta: %s: schema: unsupported type '%s'", pc->root, k);
        }
    } else {
        rc = corrupt(pc, "field without a type");
    }
    if (rc) {
        type_free(t);
        return rc;
    }
    *out = t;
    return CA_OK;
}

int ca_delta__schema_parse(const char *root, const char *schema_string, dl_cm_mode mode,
                           dl_schema *out)
{
    parse_ctx pc = {root, mode};
    memset(out, 0, sizeof *out);
    json_error_t jerr;
    json_t *j = json_loads(schema_string, JSON_REJECT_DUPLICATES, &jerr);
    if (!j)
        return ca_err_set(CA_E_DELTA_CORRUPT, DL_MOD,
                          "delta: %s: metaData.schemaString: invalid JSON: %s", root, jerr.text);
    int rc;
    const char *k = json_string_value(json_object_get(j, "type"));
    if (!k || strcmp(k, "struct") != 0)
        rc = corrupt(&pc, "not a struct");
    else
        rc = parse_fields(&pc, json_object_get(j, "fields"), &out->fields, &out->n_fields);
    json_decref(j);
    return rc;
}

static void quote_ident(ca_buf *b, const char *s) { ca_buf_put_quoted(b, s, '"'); }

int ca_delta__type_sql(const dl_type *t, bool phys_names, ca_buf *b)
{
    switch (t->kind) {
    case DL_PRIM:
        ca_buf_puts(b, t->duck);
        break;
    case DL_STRUCT:
        ca_buf_puts(b, "STRUCT(");
        for (size_t i = 0; i < t->n_fields; i++) {
            if (i)
                ca_buf_puts(b, ", ");
            quote_ident(b, phys_names ? t->fields[i].phys : t->fields[i].name);
            ca_buf_putc(b, ' ');
            ca_delta__type_sql(t->fields[i].type, phys_names, b);
        }
        ca_buf_putc(b, ')');
        break;
    case DL_ARRAY:
        ca_delta__type_sql(t->elem, phys_names, b);
        ca_buf_puts(b, "[]");
        break;
    case DL_MAP:
        ca_buf_puts(b, "MAP(");
        ca_delta__type_sql(t->key, phys_names, b);
        ca_buf_puts(b, ", ");
        ca_delta__type_sql(t->val, phys_names, b);
        ca_buf_putc(b, ')');
        break;
    }
    return ca_buf_status(b);
}

bool ca_delta__type_needs_rename(const dl_type *t)
{
    switch (t->kind) {
    case DL_PRIM:
        return false;
    case DL_STRUCT:
        for (size_t i = 0; i < t->n_fields; i++)
            if (strcmp(t->fields[i].name, t->fields[i].phys) != 0 ||
                ca_delta__type_needs_rename(t->fields[i].type))
                return true;
        return false;
    case DL_ARRAY:
        return ca_delta__type_needs_rename(t->elem);
    case DL_MAP:
        return ca_delta__type_needs_rename(t->key) || ca_delta__type_needs_rename(t->val);
    }
    return false;
}

void ca_delta__type_rename_expr(const dl_type *t, const char *expr, int depth, ca_buf *b)
{
    if (!ca_delta__type_needs_rename(t)) {
        ca_buf_puts(b, expr);
        return;
    }
    char var[32];
    snprintf(var, sizeof var, "__dl_x%d", depth);
    ca_buf sub = CA_BUF_INIT;
    switch (t->kind) {
    case DL_PRIM:
        ca_buf_puts(b, expr);
        break;
    case DL_STRUCT:
        ca_buf_printf(b, "CASE WHEN (%s) IS NULL THEN NULL ELSE struct_pack(", expr);
        for (size_t i = 0; i < t->n_fields; i++) {
            if (i)
                ca_buf_puts(b, ", ");
            quote_ident(b, t->fields[i].name);
            ca_buf_puts(b, " := ");
            ca_buf_clear(&sub);
            ca_buf_printf(&sub, "(%s).", expr);
            quote_ident(&sub, t->fields[i].phys);
            ca_delta__type_rename_expr(t->fields[i].type, ca_buf_cstr(&sub), depth + 1, b);
        }
        ca_buf_puts(b, ") END");
        break;
    case DL_ARRAY:
        ca_buf_printf(b, "list_transform(%s, lambda %s: ", expr, var);
        ca_delta__type_rename_expr(t->elem, var, depth + 1, b);
        ca_buf_putc(b, ')');
        break;
    case DL_MAP:
        ca_buf_printf(b, "map_from_entries(list_transform(map_entries(%s), lambda %s: struct_pack(key := ",
                      expr, var);
        ca_buf_clear(&sub);
        ca_buf_printf(&sub, "%s.key", var);
        ca_delta__type_rename_expr(t->key, ca_buf_cstr(&sub), depth + 1, b);
        ca_buf_puts(b, ", value := ");
        ca_buf_clear(&sub);
        ca_buf_printf(&sub, "%s.value", var);
        ca_delta__type_rename_expr(t->val, ca_buf_cstr(&sub), depth + 1, b);
        ca_buf_puts(b, ")))");
        break;
    }
    ca_buf_free(&sub);
}

bool ca_delta__type_has_tz(const dl_type *t)
{
    switch (t->kind) {
    case DL_PRIM:
        return strcmp(t->prim, "timestamp") == 0;
    case DL_STRUCT:
        for (size_t i = 0; i < t->n_fields; i++)
            if (ca_delta__type_has_tz(t->fields[i].type))
                return true;
        return false;
    case DL_ARRAY:
        return ca_delta__type_has_tz(t->elem);
    case DL_MAP:
        return ca_delta__type_has_tz(t->key) || ca_delta__type_has_tz(t->val);
    }
    return false;
}
