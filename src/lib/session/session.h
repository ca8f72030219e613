/* Module-internal view of a session, for other library modules (extract, engine). */
#ifndef CA_SESSION_MODULE_H
#define CA_SESSION_MODULE_H

#include "codeanatomy/session.h"
#include "lib/duck/duck.h"

/* The DuckDB database and the duck connection behind a session / connection (borrowed). */
ca_duck_db *ca_session__duck_db(ca_session *s);
ca_duck_conn *ca_session__duck_conn(ca_connection *c);
/* The session's private temporary directory (borrowed). */
const char *ca_session__temp_dir(ca_session *s);

/* Wraps a duck result as a public cursor; takes ownership of dr (freed also on failure). */
int ca_session__result_new(ca_duck_result *dr, ca_result **out);

#endif
