/* Section "spans": interval_align_score, the one span function DuckDB cannot express exactly
 * (128-bit integer steps, one IEEE division; functions.md §4.2). The span predicates are macros. */
#include "lib/functions/functions_int.h"

#include <math.h>

__extension__ typedef __int128 i128;

static void align_score_fn(ca_udf_exec *ex, ca_duck_chunk *in, ca_duck_vec *out)
{
    size_t n = ca_duck_chunk_size(in);
    const int64_t *a[4];
    const uint64_t *m[4];
    for (size_t i = 0; i < 4; i++) {
        ca_duck_vec *v = ca_duck_chunk_vector(in, i);
        a[i] = ca_duck_vec_data(v);
        m[i] = ca_duck_vec_validity(v);
    }
    double *o = ca_duck_vec_data(out);
    for (size_t r = 0; r < n; r++) {
        if (!ca_duck_row_valid(m[0], r) || !ca_duck_row_valid(m[1], r) || !ca_duck_row_valid(m[2], r) ||
            !ca_duck_row_valid(m[3], r)) {
            ca_duck_vec_set_null(out, r);
            continue;
        }
        int64_t ls = a[0][r], le = a[1][r], rs = a[2][r], re = a[3][r];
        if (le < ls) {
            ca_fn__exec_errorf(ex, "interval_align_score: left interval has end %lld < start %lld",
                               (long long)le, (long long)ls);
            return;
        }
        if (re < rs) {
            ca_fn__exec_errorf(ex, "interval_align_score: right interval has end %lld < start %lld",
                               (long long)re, (long long)rs);
            return;
        }
        i128 lo = ls > rs ? ls : rs, hi = le < re ? le : re;
        i128 inter = hi > lo ? hi - lo : 0;
        i128 uni = ((i128)le - ls) + ((i128)re - rs) - inter;
        if (uni > 0) {
            double q = (double)inter / (double)uni;
            /* Beyond 2^53 both conversions may round to one value: keep "1.0 iff identical". */
            o[r] = (inter < uni && q >= 1.0) ? nextafter(1.0, 0.0) : q;
        }
        else
            o[r] = ls == rs ? 1.0 : 0.0;
    }
}

int ca_fn__register_interval_align_score(ca_duck_conn *c, const ca_fn_entry *e)
{
    ca_duck_type p[4] = {CA_DUCK_BIGINT, CA_DUCK_BIGINT, CA_DUCK_BIGINT, CA_DUCK_BIGINT};
    return ca_fn__register_simple(c, e->name, p, 4, CA_DUCK_DOUBLE, align_score_fn, NULL, false);
}
