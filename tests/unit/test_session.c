/* The session: options, temp directory, connections, queries through the public API. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "codeanatomy/codeanatomy.h"
#include "lib/session/session.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void test_open_query_close(void **state)
{
    (void)state;
    ca_session *s = NULL;
    ca_session_options o = CA_SESSION_OPTIONS_INIT;
    o.threads = 2;
    o.memory_limit = "1GB";
    assert_int_equal(ca_session_open(&o, &s), CA_OK);
    ca_result *r = NULL;
    assert_int_equal(ca_session_query(s, "select 42 as x, 'a' as y, NULL::INT as z", &r), CA_OK);
    assert_int_equal(ca_result_column_count(r), 3);
    assert_string_equal(ca_result_column_name(r, 0), "x");
    assert_string_equal(ca_result_column_type(r, 0), "INTEGER");
    assert_int_equal(ca_result_next(r), 1);
    assert_string_equal(ca_result_text(r, 0), "42");
    assert_string_equal(ca_result_json(r, 1), "\"a\"");
    assert_true(ca_result_is_null(r, 2));
    assert_int_equal(ca_result_next(r), 0);
    ca_result_free(r);
    char *hash = NULL;
    assert_int_equal(ca_functions_registry_hash(s, &hash), CA_OK);
    assert_int_equal(strlen(hash), 64);
    ca_free(hash);
    assert_int_equal(ca_session_exec(s, "create table t as select 1 as a"), CA_OK);
    assert_int_equal(ca_session_exec(s, "select * from missing"), CA_E_DUCKDB);
    ca_session_close(s);
    ca_session_close(NULL);
}

static void test_temp_dir_is_private_and_removed(void **state)
{
    (void)state;
    ca_session *s = NULL;
    assert_int_equal(ca_session_open(NULL, &s), CA_OK);
    char dir[4096];
    strcpy(dir, ca_session__temp_dir(s));
    struct stat st;
    assert_int_equal(stat(dir, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    ca_session_close(s);
    assert_int_not_equal(stat(dir, &st), 0);
}

static void test_bad_options_are_rejected(void **state)
{
    (void)state;
    ca_session *s = NULL;
    ca_session_options o = CA_SESSION_OPTIONS_INIT;
    o.version = 99;
    assert_int_equal(ca_session_open(&o, &s), CA_E_INVALID);
    assert_null(s);
    o.version = CA_SESSION_OPTIONS_VERSION;
    o.threads = -1;
    assert_int_equal(ca_session_open(&o, &s), CA_E_INVALID);
    o.threads = 1;
    o.memory_limit = "lots";
    assert_int_equal(ca_session_open(&o, &s), CA_E_DUCKDB);
    assert_string_equal(ca_error_name(ca_error_last()->code), "duckdb");
}

static void *count_on_own_connection(void *arg)
{
    ca_connection *c = arg;
    ca_result *r = NULL;
    /* stable_id proves the function library is registered on this connection too. */
    intptr_t ok = ca_connection_query(c, "select count(*), stable_id('file', 'a.py') from range(100000)", &r) == CA_OK &&
                  ca_result_next(r) == 1 && strcmp(ca_result_text(r, 0), "100000") == 0 &&
                  strcmp(ca_result_text(r, 1), "file:59ea7f0accf0518ae914c887f2ded8f0") == 0;
    ca_result_free(r);
    return (void *)ok;
}

static void test_connections_on_threads(void **state)
{
    (void)state;
    ca_session *s = NULL;
    assert_int_equal(ca_session_open(NULL, &s), CA_OK);
    ca_connection *c[2] = {NULL, NULL};
    pthread_t t[2];
    for (int i = 0; i < 2; i++) {
        assert_int_equal(ca_session_connect(s, &c[i]), CA_OK);
        pthread_create(&t[i], NULL, count_on_own_connection, c[i]);
    }
    for (int i = 0; i < 2; i++) {
        void *ok = NULL;
        pthread_join(t[i], &ok);
        assert_true((intptr_t)ok);
        ca_connection_close(c[i]);
    }
    ca_session_close(s);
}

static void test_file_database_persists(void **state)
{
    (void)state;
    char path[] = "/tmp/ca-test-session-XXXXXX";
    assert_non_null(mkdtemp(path));
    char db[4200];
    snprintf(db, sizeof db, "%s/x.duckdb", path);
    ca_session_options o = CA_SESSION_OPTIONS_INIT;
    o.db_path = db;
    ca_session *s = NULL;
    assert_int_equal(ca_session_open(&o, &s), CA_OK);
    assert_int_equal(ca_session_exec(s, "create table p as select 7 as v"), CA_OK);
    ca_session_close(s);
    assert_int_equal(ca_session_open(&o, &s), CA_OK);
    ca_result *r = NULL;
    assert_int_equal(ca_session_query(s, "select v from p", &r), CA_OK);
    assert_int_equal(ca_result_next(r), 1);
    assert_string_equal(ca_result_text(r, 0), "7");
    ca_result_free(r);
    ca_session_close(s);
    remove(db);
    remove(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_query_close),
        cmocka_unit_test(test_temp_dir_is_private_and_removed),
        cmocka_unit_test(test_bad_options_are_rejected),
        cmocka_unit_test(test_connections_on_threads),
        cmocka_unit_test(test_file_database_persists),
    };
    return cmocka_run_group_tests_name("session", tests, NULL, NULL);
}
