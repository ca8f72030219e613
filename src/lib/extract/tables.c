/* The evidence table schemas (cpg.md §2): names, DDL, sort keys. */
#include "lib/extract/extract_int.h"

#include "util/err.h"

#include <stdio.h>

typedef struct table_def {
    const char *name;
    const char *columns; /* DDL column list */
    const char *order;   /* ORDER BY of the written files */
} table_def;

static const table_def tables[CA_EXTRACT_TABLE_COUNT] = {
    {"repo_files",
     "file_id VARCHAR, path VARCHAR, module_name VARCHAR, is_package_init BOOLEAN, size_bytes BIGINT, "
     "content_hash VARCHAR, encoding VARCHAR, line_count BIGINT, parse_error_count BIGINT, error VARCHAR",
     "path"},
    {"file_lines", "file_id VARCHAR, line_no BIGINT, bstart BIGINT, bend BIGINT", "file_id, line_no"},
    {"scopes",
     "file_id VARCHAR, scope_id VARCHAR, kind VARCHAR, name VARCHAR, qualname VARCHAR, "
     "parent_scope_id VARCHAR, def_id VARCHAR, bstart BIGINT, bend BIGINT",
     "file_id, bstart, bend, scope_id"},
    {"defs",
     "file_id VARCHAR, def_id VARCHAR, kind VARCHAR, name VARCHAR, qualname VARCHAR, symbol VARCHAR, "
     "scope_id VARCHAR, body_scope_id VARCHAR, container_def_id VARCHAR, bstart BIGINT, bend BIGINT, "
     "name_bstart BIGINT, name_bend BIGINT, start_line BIGINT, start_col BIGINT, end_line BIGINT, "
     "end_col BIGINT, is_async BOOLEAN, is_method BOOLEAN, docstring VARCHAR",
     "file_id, bstart, bend, def_id"},
    {"params",
     "file_id VARCHAR, def_id VARCHAR, function_def_id VARCHAR, position BIGINT, name VARCHAR, "
     "kind VARCHAR, has_default BOOLEAN, default_text VARCHAR, annotation_text VARCHAR",
     "file_id, function_def_id, position"},
    {"refs",
     "file_id VARCHAR, ref_id VARCHAR, name VARCHAR, ctx VARCHAR, scope_id VARCHAR, resolution VARCHAR, "
     "binding_def_id VARCHAR, container_def_id VARCHAR, bstart BIGINT, bend BIGINT, start_line BIGINT, "
     "start_col BIGINT",
     "file_id, bstart, ref_id"},
    {"attributes",
     "file_id VARCHAR, attr_id VARCHAR, attr VARCHAR, qualifier_text VARCHAR, root_name VARCHAR, "
     "root_ref_id VARCHAR, ctx VARCHAR, scope_id VARCHAR, container_def_id VARCHAR, bstart BIGINT, "
     "bend BIGINT",
     "file_id, bstart, bend, attr_id"},
    {"imports",
     "file_id VARCHAR, import_id VARCHAR, kind VARCHAR, module VARCHAR, level BIGINT, "
     "absolute_module VARCHAR, name VARCHAR, alias VARCHAR, bound_name VARCHAR, def_id VARCHAR, "
     "scope_id VARCHAR, bstart BIGINT, bend BIGINT, is_conditional BOOLEAN, is_type_checking BOOLEAN",
     "file_id, bstart, import_id"},
    {"calls",
     "file_id VARCHAR, call_id VARCHAR, callee_text VARCHAR, callee_name VARCHAR, callee_root VARCHAR, "
     "callee_ref_id VARCHAR, scope_id VARCHAR, container_def_id VARCHAR, bstart BIGINT, bend BIGINT, "
     "start_line BIGINT, start_col BIGINT, arg_count BIGINT, has_star_args BOOLEAN, has_kwargs BOOLEAN",
     "file_id, bstart, bend, call_id"},
    {"call_args",
     "file_id VARCHAR, arg_id VARCHAR, call_id VARCHAR, position BIGINT, keyword VARCHAR, "
     "is_star BOOLEAN, is_double_star BOOLEAN, text VARCHAR, bstart BIGINT, bend BIGINT",
     "file_id, call_id, position"},
    {"decorators",
     "file_id VARCHAR, dec_id VARCHAR, def_id VARCHAR, position BIGINT, text VARCHAR, name VARCHAR, "
     "bstart BIGINT, bend BIGINT",
     "file_id, bstart, dec_id"},
    {"class_bases",
     "file_id VARCHAR, base_id VARCHAR, class_def_id VARCHAR, position BIGINT, text VARCHAR, "
     "name VARCHAR, keyword VARCHAR, bstart BIGINT, bend BIGINT",
     "file_id, class_def_id, position"},
    {"parse_errors",
     "file_id VARCHAR, bstart BIGINT, bend BIGINT, start_line BIGINT, start_col BIGINT, kind VARCHAR, "
     "snippet VARCHAR",
     "file_id, bstart, bend, kind"},
    {"syntax_nodes",
     "file_id VARCHAR, node_id VARCHAR, kind VARCHAR, bstart BIGINT, bend BIGINT, start_line BIGINT, "
     "start_col BIGINT, end_line BIGINT, end_col BIGINT, parent_id VARCHAR, child_index BIGINT, "
     "field_name VARCHAR, is_error BOOLEAN, text VARCHAR",
     "file_id, bstart, bend DESC, node_id, child_index"},
};

const char *ca_extract_table_name(size_t i)
{
    return i < CA_EXTRACT_TABLE_COUNT ? tables[i].name : NULL;
}

const char *ca_extract__table_order(size_t i) { return tables[i].order; }

static const char *const skip_reasons[CA_EXTRACT_SKIP_COUNT] = {
    "too_large", "unreadable", "binary", "not_utf8_decodable", "unknown_encoding"};

const char *ca_extract_skip_reason(size_t i)
{
    return i < CA_EXTRACT_SKIP_COUNT ? skip_reasons[i] : NULL;
}

int ca_extract__create_tables(ca_duck_conn *conn)
{
    for (size_t i = 0; i < CA_EXTRACT_TABLE_COUNT; i++) {
        int rc = ca_duck_execf(conn, "CREATE OR REPLACE TABLE main.%s (%s)", tables[i].name,
                               tables[i].columns);
        if (rc != CA_OK)
            return rc;
    }
    return CA_OK;
}
