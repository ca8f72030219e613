/* The public registry API over a session (include/codeanatomy/functions.h): lives here because
 * the functions module sits below the session and must not know it. */
#include "lib/functions/functions.h"
#include "lib/session/session.h"

#include "util/alloc.h"
#include "util/err.h"

int ca_functions_registry_json(ca_session *s, char **out)
{
    *out = NULL;
    if (!s)
        return ca_err_set(CA_E_INVALID, "functions", "functions: registry: no session");
    return ca_functions_snapshot_json(ca_session__duck_conn(ca_session_connection(s)), out);
}

int ca_functions_registry_hash(ca_session *s, char **out)
{
    *out = NULL;
    if (!s)
        return ca_err_set(CA_E_INVALID, "functions", "functions: registry: no session");
    char h[65];
    int rc = ca_functions_snapshot_hash(ca_session__duck_conn(ca_session_connection(s)), h);
    if (rc != CA_OK)
        return rc;
    *out = ca__strdup(h);
    return *out ? CA_OK : ca_err_nomem("functions", "registry hash");
}
