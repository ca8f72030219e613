/* Core util: allocator seam, errors, bounded buffer, arena. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "util/alloc.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/err.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

static void test_error_names_come_from_the_table(void **state)
{
    (void)state;
    assert_string_equal(ca_error_name(CA_OK), "ok");
    assert_string_equal(ca_error_name(CA_E_DELTA_CONFLICT), "delta_conflict");
    assert_string_equal(ca_error_name(CA_E_FUNCTIONS), "functions");
    assert_string_equal(ca_error_name(CA_E_SPEC), "spec");
    assert_string_equal(ca_error_name(12345), "unknown");
    assert_string_equal(ca_error_describe(CA_E_NOSPC), "no space left on device");
}

static void test_error_codes_are_unique_and_negative(void **state)
{
    (void)state;
#define COLLECT(name, value, str, desc) value,
    int codes[] = {CA_ERROR_TABLE(COLLECT)};
#undef COLLECT
    size_t n = sizeof codes / sizeof codes[0];
    for (size_t i = 0; i < n; i++) {
        assert_true(codes[i] <= 0);
        for (size_t j = i + 1; j < n; j++)
            assert_int_not_equal(codes[i], codes[j]);
    }
}

static void test_error_last_is_never_null_and_one_line(void **state)
{
    (void)state;
    ca_error_clear();
    const ca_error *e = ca_error_last();
    assert_non_null(e);
    assert_int_equal(e->code, CA_OK);
    assert_string_equal(e->message, "");
    assert_int_equal(ca_err_set(CA_E_IO, "util", "line one\nline two"), CA_E_IO);
    e = ca_error_last();
    assert_int_equal(e->code, CA_E_IO);
    assert_string_equal(e->module, "util");
    assert_string_equal(e->message, "line one line two");
}

static void *other_thread(void *arg)
{
    (void)arg;
    const ca_error *e = ca_error_last();
    return (void *)(intptr_t)(e->code == CA_OK && e->message[0] == '\0');
}

static void test_error_last_is_thread_local(void **state)
{
    (void)state;
    ca_err_set(CA_E_NOMEM, "util", "main thread");
    pthread_t t;
    void *ok = NULL;
    assert_int_equal(pthread_create(&t, NULL, other_thread, NULL), 0);
    pthread_join(t, &ok);
    assert_true((intptr_t)ok);
    assert_int_equal(ca_error_last()->code, CA_E_NOMEM);
}

static void test_errno_mapping(void **state)
{
    (void)state;
    assert_int_equal(ca_err_errno(ENOSPC, "util", "write %s", "x"), CA_E_NOSPC);
    assert_non_null(strstr(ca_error_last()->message, "write x: "));
    assert_int_equal(ca_err_errno(ENOENT, "util", "open"), CA_E_NOT_FOUND);
    assert_int_equal(ca_err_errno(EEXIST, "util", "link"), CA_E_EXISTS);
    assert_int_equal(ca_err_errno(EIO, "util", "read"), CA_E_IO);
}

static void test_size_arithmetic_detects_overflow(void **state)
{
    (void)state;
    size_t r = 7;
    assert_false(ca__size_add(SIZE_MAX, 1, &r));
    assert_int_equal(r, 7);
    assert_false(ca__size_mul(SIZE_MAX / 2 + 1, 2, &r));
    assert_true(ca__size_mul(3, 4, &r));
    assert_int_equal(r, 12);
}

static void test_buf_appends_and_formats(void **state)
{
    (void)state;
    ca_buf b = CA_BUF_INIT;
    assert_string_equal(ca_buf_cstr(&b), "");
    ca_buf_puts(&b, "abc");
    ca_buf_putc(&b, '-');
    ca_buf_printf(&b, "%d/%s", 42, "x");
    for (int i = 0; i < 1000; i++)
        ca_buf_putc(&b, 'z');
    assert_int_equal(ca_buf_status(&b), CA_OK);
    assert_int_equal(b.len, 8 + 1000);
    assert_memory_equal(ca_buf_cstr(&b), "abc-42/xz", 9);
    size_t len = 0;
    char *d = ca_buf_detach(&b, &len);
    assert_int_equal(len, 1008);
    assert_null(b.data);
    ca__free(d);
}

static void test_buf_detach_of_empty_buffer_is_an_empty_string(void **state)
{
    (void)state;
    ca_buf b = CA_BUF_INIT;
    size_t len = 99;
    char *d = ca_buf_detach(&b, &len);
    assert_non_null(d);
    assert_int_equal(len, 0);
    assert_string_equal(d, "");
    ca__free(d);
    assert_int_equal(ca_buf_reserve(&b, 10), CA_OK);
    assert_string_equal(ca_buf_cstr(&b), "");
    ca_buf_free(&b);
}

static void test_buf_put_quoted_doubles_the_quote(void **state)
{
    (void)state;
    ca_buf b = CA_BUF_INIT;
    ca_buf_put_quoted(&b, "it's 'x'", '\'');
    ca_buf_putc(&b, ' ');
    ca_buf_put_quoted(&b, "a\"b", '"');
    ca_buf_putc(&b, ' ');
    ca_buf_put_quoted(&b, "", '"');
    assert_string_equal(ca_buf_cstr(&b), "'it''s ''x''' \"a\"\"b\" \"\"");
    ca_buf_free(&b);
}

static void test_buf_limit_fails_once_and_sticks(void **state)
{
    (void)state;
    ca_buf b;
    ca_buf_init(&b, 8);
    assert_int_equal(ca_buf_puts(&b, "12345678"), CA_OK);
    assert_int_equal(ca_buf_putc(&b, '9'), CA_E_OVERFLOW);
    assert_int_equal(ca_error_last()->code, CA_E_OVERFLOW);
    ca_error_clear();
    assert_int_equal(ca_buf_puts(&b, "more"), CA_E_OVERFLOW);
    assert_int_equal(ca_error_last()->code, CA_OK); /* reported once only */
    assert_int_equal(ca_buf_status(&b), CA_E_OVERFLOW);
    assert_string_equal(ca_buf_cstr(&b), "12345678");
    assert_null(ca_buf_detach(&b, NULL));
    ca_buf_free(&b);
}

static void test_buf_allocation_failure(void **state)
{
    (void)state;
    ca_buf b = CA_BUF_INIT;
    ca__alloc_fail_after(1);
    assert_int_equal(ca_buf_puts(&b, "x"), CA_E_NOMEM);
    ca__alloc_fail_after(0);
    assert_int_equal(ca_buf_status(&b), CA_E_NOMEM);
    ca_buf_free(&b);
}

static int cleanup_order[4];
static int cleanup_count;
static void record_cleanup(void *arg) { cleanup_order[cleanup_count++] = (int)(intptr_t)arg; }

static void test_arena_allocates_aligned_and_runs_cleanups_in_reverse(void **state)
{
    (void)state;
    ca_arena *a = ca_arena_new(128);
    assert_non_null(a);
    for (int i = 0; i < 100; i++) {
        void *p = ca_arena_alloc(a, (size_t)i * 3 + 1);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % _Alignof(max_align_t), 0);
        memset(p, 0xAB, (size_t)i * 3 + 1);
    }
    char *big = ca_arena_alloc(a, 10000); /* larger than a chunk */
    assert_non_null(big);
    memset(big, 1, 10000);
    assert_string_equal(ca_arena_printf(a, "%s-%d", "v", 7), "v-7");
    assert_string_equal(ca_arena_strndup(a, "abcdef", 3), "abc");
    int *z = ca_arena_calloc(a, 10, sizeof(int));
    for (int i = 0; i < 10; i++)
        assert_int_equal(z[i], 0);
    cleanup_count = 0;
    ca_arena_on_cleanup(a, record_cleanup, (void *)1);
    ca_arena_on_cleanup(a, record_cleanup, (void *)2);
    ca_arena_reset(a);
    assert_int_equal(cleanup_count, 2);
    assert_int_equal(cleanup_order[0], 2);
    assert_int_equal(cleanup_order[1], 1);
    assert_int_equal(ca_arena_used(a), 0);
    assert_non_null(ca_arena_alloc(a, 16));
    ca_arena_on_cleanup(a, record_cleanup, (void *)3);
    ca_arena_free(a);
    assert_int_equal(cleanup_count, 3);
    ca_arena_free(NULL);
}

static void test_arena_overflow_is_an_error(void **state)
{
    (void)state;
    ca_arena *a = ca_arena_new(0);
    assert_null(ca_arena_calloc(a, SIZE_MAX / 2, 4));
    assert_int_equal(ca_error_last()->code, CA_E_OVERFLOW);
    assert_null(ca_arena_alloc(a, SIZE_MAX - 2));
    ca_arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_names_come_from_the_table),
        cmocka_unit_test(test_error_codes_are_unique_and_negative),
        cmocka_unit_test(test_error_last_is_never_null_and_one_line),
        cmocka_unit_test(test_error_last_is_thread_local),
        cmocka_unit_test(test_errno_mapping),
        cmocka_unit_test(test_size_arithmetic_detects_overflow),
        cmocka_unit_test(test_buf_appends_and_formats),
        cmocka_unit_test(test_buf_detach_of_empty_buffer_is_an_empty_string),
        cmocka_unit_test(test_buf_put_quoted_doubles_the_quote),
        cmocka_unit_test(test_buf_limit_fails_once_and_sticks),
        cmocka_unit_test(test_buf_allocation_failure),
        cmocka_unit_test(test_arena_allocates_aligned_and_runs_cleanups_in_reverse),
        cmocka_unit_test(test_arena_overflow_is_an_error),
    };
    return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
