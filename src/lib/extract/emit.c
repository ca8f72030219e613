/*
 * Writing an evidence table out of DuckDB: the single storage seam of the extractor. Each part
 * is one Delta commit to OUT/evidence/<table> (delta.md): part 0 overwrites the table (creating
 * it on the first run), later parts append. Rows go out in the table's defined sort order and
 * parts are cut at deterministic batch boundaries, so two runs give the same rows in the same
 * files.
 */
#include "lib/extract/extract_int.h"

#include "codeanatomy/delta.h"
#include "util/buf.h"
#include "util/err.h"

#include <string.h>

int ca_extract__emit_table(ca_delta_ctx *delta, ca_duck_conn *conn, const char *out_dir, size_t i,
                           size_t part)
{
    const char *name = ca_extract_table_name(i);
    ca_buf root = CA_BUF_INIT, sql = CA_BUF_INIT;
    ca_buf_printf(&root, "%s/evidence/%s", out_dir, name);
    ca_buf_printf(&sql, "SELECT * FROM main.%s ORDER BY %s", name, ca_extract__table_order(i));
    int rc = ca_buf_status(&root) ? ca_buf_status(&root) : ca_buf_status(&sql);
    if (rc == CA_OK) {
        ca_delta_write_options o = CA_DELTA_WRITE_OPTIONS_INIT;
        o.sql = ca_buf_cstr(&sql);
        o.mode = part == 0 ? CA_DELTA_WRITE_OVERWRITE : CA_DELTA_WRITE_APPEND;
        o.table_name = name;
        ca_delta_write_result res;
        memset(&res, 0, sizeof res);
        rc = ca_delta_write(delta, conn, ca_buf_cstr(&root), &o, &res);
        ca_delta_write_result_clear(&res);
    }
    ca_buf_free(&root);
    ca_buf_free(&sql);
    return rc;
}
