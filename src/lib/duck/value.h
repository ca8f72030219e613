/*
 * Rendering one cell of a DuckDB vector, in two forms:
 *
 *  - display text: byte-for-byte what DuckDB's CAST(x AS VARCHAR) prints (for TIMESTAMP WITH
 *    TIME ZONE: as printed in a session whose TimeZone is UTC, which is how sessions are opened);
 *  - JSON text under the machine-output rules of DESIGN.md §2 (the exact choices are listed in
 *    docs/internals/cli.md, "JSON values").
 *
 * A logical type is first compiled into a ca_duck_vtype: the type tree with everything the
 * renderer needs per cell (decimal scale, enum dictionary, member names, map key kind) fetched
 * once, so rendering a cell allocates nothing but the output. A ca_duck_vtype is immutable after
 * ca_duck_vtype_new and may be shared by threads.
 *
 * Rendering appends to a ca_buf; failures (out of memory, buffer limit) are recorded in the
 * buffer (ca_buf_status) and returned. Vectors are those of a fetched result chunk (flat).
 */
#ifndef CA_DUCK_VALUE_H
#define CA_DUCK_VALUE_H

#include "lib/duck/duck.h"
#include "util/buf.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct ca_duck_vtype ca_duck_vtype;

/* Compiles a logical type (borrowed; not kept) for rendering. *out is owned by the caller
 * (ca_duck_vtype_free). CA_OK or CA_E_NOMEM. Types the renderer does not know are accepted;
 * rendering a non-NULL value of one fails with CA_E_UNSUPPORTED. */
int ca_duck_vtype_new(ca_duck_ltype *lt, ca_duck_vtype **out);
void ca_duck_vtype_free(ca_duck_vtype *t); /* accepts NULL */

/* The type id the vtype was compiled from. */
ca_duck_type ca_duck_vtype_id(const ca_duck_vtype *t);

/* True when row of v is SQL NULL. */
bool ca_duck_value_is_null(ca_duck_vec *v, size_t row);

/* Appends the display text of row of v (type t) to out: "NULL" for SQL NULL (callers that must
 * tell NULL from the string 'NULL' check ca_duck_value_is_null first). CA_OK, CA_E_NOMEM,
 * CA_E_OVERFLOW (buffer limit) or CA_E_UNSUPPORTED (a type the renderer does not know). */
int ca_duck_value_text(ca_buf *out, const ca_duck_vtype *t, ca_duck_vec *v, size_t row);

/* Appends the JSON text of row of v (type t) to out: "null" for SQL NULL. Same returns. */
int ca_duck_value_json(ca_buf *out, const ca_duck_vtype *t, ca_duck_vec *v, size_t row);


/* Shortest text that reads back as the same double (float when is_float), formatted as DuckDB
 * prints a DOUBLE: "0.1", "2.0", "1e+20", "1.5e-07", "nan", "inf", "-inf". Appended to out.
 * (For FLOAT, DuckDB's own text differs for ~1% of values, where its formatter falls back to the
 * double's digits; ca_duck_value_text therefore asks DuckDB for FLOAT display text, while JSON
 * uses this function's true shortest form.) */
int ca_duck_format_double(ca_buf *out, double v, bool is_float);

#endif
