/* The registry snapshot and registry_hash (functions.md §8.4): every row of
 * codeanatomy_functions() in order, RFC 8785 JSON, hashed with H256 before the hash is added. */
#include "lib/functions/functions_int.h"

#include "util/alloc.h"
#include "util/err.h"
#include "util/hash.h"
#include "util/json.h"

#include <string.h>

#define MOD "functions"

static const char *const COLUMNS[] = {"name", "alias_of", "kind", "origin", "section", "signature", "return_type",
                                      "volatility", "null_handling", "description", "example", "expected",
                                      "definition"};

static int rows_json(ca_duck_conn *conn, json_t *entries)
{
    ca_duck_result *r = NULL;
    int rc = ca_duck_query(conn,
                           "SELECT name, alias_of, kind, origin, section, signature, return_type, volatility, "
                           "null_handling, description, example, expected, definition FROM codeanatomy_functions()",
                           &r);
    if (rc != CA_OK)
        return ca_err_set(CA_E_FUNCTIONS, MOD, "functions: codeanatomy_functions: query: %s",
                          ca_error_last()->message);
    ca_duck_chunk *ch = NULL;
    while ((rc = ca_duck_result_next_chunk(r, &ch)) == CA_OK && ch) {
        size_t n = ca_duck_chunk_size(ch);
        const ca_duck_str *data[13];
        const uint64_t *mask[13];
        for (size_t c = 0; c < 13; c++) {
            ca_duck_vec *v = ca_duck_chunk_vector(ch, c);
            data[c] = ca_duck_vec_data(v);
            mask[c] = ca_duck_vec_validity(v);
        }
        for (size_t i = 0; i < n && rc == CA_OK; i++) {
            json_t *obj = json_object();
            if (!obj || json_array_append_new(entries, obj)) {
                rc = ca_err_nomem(MOD, "snapshot");
                break;
            }
            for (size_t c = 0; c < 13 && rc == CA_OK; c++) {
                json_t *val = ca_duck_row_valid(mask[c], i)
                                  ? json_stringn(ca_duck_str_data(&data[c][i]), ca_duck_str_len(&data[c][i]))
                                  : json_null();
                if (!val || json_object_set_new(obj, COLUMNS[c], val))
                    rc = ca_err_nomem(MOD, "snapshot");
            }
        }
        ca_duck_chunk_free(ch);
        ch = NULL;
        if (rc != CA_OK)
            break;
    }
    ca_duck_result_free(r);
    return rc;
}

/* Builds the snapshot object without registry_hash, and that hash. */
static int build(ca_duck_conn *conn, json_t **out, char hash[65])
{
    ca_json_init();
    *out = NULL;
    json_t *root = json_object(), *entries = json_array();
    if (!root || !entries) {
        json_decref(root);
        json_decref(entries);
        return ca_err_nomem(MOD, "snapshot");
    }
    int rc = CA_OK;
    /* json_object_set_new takes the value's reference also when it fails. */
    if (json_object_set_new(root, "entries", entries) ||
        json_object_set_new(root, "duckdb_version", json_string(ca_duck_library_version())) ||
        json_object_set_new(root, "format", json_string("codeanatomy.function_registry")) ||
        json_object_set_new(root, "format_version", json_integer(1)))
        rc = ca_err_nomem(MOD, "snapshot");
    if (rc == CA_OK)
        rc = rows_json(conn, entries);
    char *canon = NULL;
    size_t len = 0;
    if (rc == CA_OK)
        rc = ca_json_canonical_string(root, &canon, &len);
    if (rc == CA_OK)
        rc = ca_hash_h256_hex(canon, len, hash);
    ca__free(canon);
    if (rc != CA_OK) {
        json_decref(root);
        return rc;
    }
    *out = root;
    return CA_OK;
}

int ca_functions_snapshot_json(ca_duck_conn *conn, char **out)
{
    *out = NULL;
    json_t *root = NULL;
    char hash[65];
    int rc = build(conn, &root, hash);
    if (rc != CA_OK)
        return rc;
    if (json_object_set_new(root, "registry_hash", json_string(hash)))
        rc = ca_err_nomem(MOD, "snapshot");
    if (rc == CA_OK)
        rc = ca_json_canonical_string(root, out, NULL);
    json_decref(root);
    return rc;
}

int ca_functions_snapshot_hash(ca_duck_conn *conn, char out[65])
{
    json_t *root = NULL;
    int rc = build(conn, &root, out);
    json_decref(root);
    return rc;
}
