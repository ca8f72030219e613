/* Unit tests: trace recorder (Chrome trace-event JSON), logging and clocks. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "util/log.h"
#include "util/time.h"
#include "util/trace.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char trace_path[64];

static int setup(void **state)
{
    (void)state;
    snprintf(trace_path, sizeof trace_path, "/tmp/ca-test-trace-%d.json", (int)getpid());
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(trace_path);
    return 0;
}

static json_t *load_trace(void)
{
    json_error_t err;
    json_t *root = json_load_file(trace_path, JSON_REJECT_DUPLICATES, &err);
    if (!root)
        fail_msg("trace does not parse: %s (line %d)", err.text, err.line);
    assert_true(json_is_array(json_object_get(root, "traceEvents")));
    return root;
}

/* The first event named name (and of phase ph), or NULL. */
static json_t *find(json_t *root, const char *ph, const char *name)
{
    size_t i;
    json_t *ev;
    json_array_foreach(json_object_get(root, "traceEvents"), i, ev)
    {
        if (!strcmp(json_string_value(json_object_get(ev, "ph")), ph) &&
            !strcmp(json_string_value(json_object_get(ev, "name")), name))
            return ev;
    }
    return NULL;
}

static json_int_t ival(json_t *ev, const char *key)
{
    json_t *v = json_object_get(ev, key);
    assert_true(json_is_integer(v));
    return json_integer_value(v);
}

static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

static void test_trace_spans(void **state)
{
    (void)state;
    ca_trace *t = NULL;
    assert_int_equal(ca_trace_open(trace_path, 0, &t), CA_OK);
    ca_trace_thread_name(t, "main");

    ca_trace_span outer, inner;
    ca_trace_begin(t, &outer, "compile", "compile.run");
    ca_trace_arg_str(&outer, "spec", "cpg \"built-in\"\n");
    ca_trace_arg_int(&outer, "views", 42);
    sleep_us(2000);
    ca_trace_begin(t, &inner, "delta", "delta.commit");
    ca_trace_arg_json(&inner, "preview", "[{\"a\":1},{\"a\":null}]");
    ca_trace_arg_json(&inner, "bad", "{not json");
    sleep_us(3000);
    ca_trace_end(&inner);
    ca_trace_end(&inner); /* idempotent */
    ca_trace_arg_int(&inner, "late", 1); /* after end: ignored */
    ca_trace_instant(t, "engine", "checkpoint.skipped",
                     (ca_trace_arg[]){{"reason", CA_TRACE_ARG_STR, "interval", 0},
                                      {"version", CA_TRACE_ARG_INT, NULL, 12}},
                     2);
    sleep_us(1000);
    ca_trace_end(&outer);
    assert_int_equal(ca_trace_event_count(t), 5); /* process_name, thread_name, 2 X, 1 i */
    assert_int_equal(ca_trace_close(t), CA_OK);

    json_t *root = load_trace();
    assert_string_equal(json_string_value(json_object_get(root, "displayTimeUnit")), "ms");
    json_t *o = find(root, "X", "compile.run"), *i = find(root, "X", "delta.commit");
    assert_non_null(o);
    assert_non_null(i);
    assert_string_equal(json_string_value(json_object_get(o, "cat")), "compile");
    assert_int_equal(ival(o, "pid"), getpid());
    assert_int_equal(ival(o, "tid"), gettid());
    /* nesting: inner ⊆ outer, durations in microseconds */
    assert_true(ival(i, "ts") >= ival(o, "ts"));
    assert_true(ival(i, "ts") + ival(i, "dur") <= ival(o, "ts") + ival(o, "dur"));
    assert_true(ival(i, "dur") >= 3000);
    assert_true(ival(o, "dur") >= 6000);
    assert_true(ival(i, "ts") - ival(o, "ts") >= 2000);
    json_t *oa = json_object_get(o, "args");
    assert_string_equal(json_string_value(json_object_get(oa, "spec")), "cpg \"built-in\"\n");
    assert_int_equal(ival(oa, "views"), 42);
    json_t *ia = json_object_get(i, "args");
    json_t *preview = json_object_get(ia, "preview");
    assert_true(json_is_array(preview));
    assert_int_equal(json_array_size(preview), 2);
    assert_true(json_is_null(json_object_get(json_array_get(preview, 1), "a")));
    assert_string_equal(json_string_value(json_object_get(ia, "bad")), "{not json");
    assert_null(json_object_get(ia, "late"));

    json_t *inst = find(root, "i", "checkpoint.skipped");
    assert_non_null(inst);
    assert_string_equal(json_string_value(json_object_get(inst, "s")), "t");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(inst, "args"), "reason")), "interval");
    assert_true(ival(inst, "ts") >= ival(i, "ts") + ival(i, "dur"));

    json_t *tn = find(root, "M", "thread_name");
    assert_non_null(tn);
    assert_string_equal(json_string_value(json_object_get(json_object_get(tn, "args"), "name")),
                        "main");
    assert_non_null(find(root, "M", "process_name"));
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(root, "otherData"), "dropped_events")),
        0);
    json_decref(root);
}

static void test_trace_disabled(void **state)
{
    (void)state;
    ca_trace_span s;
    ca_trace_begin(NULL, &s, "x", "y");
    ca_trace_arg_str(&s, "k", "v");
    ca_trace_arg_int(&s, "k", 1);
    ca_trace_arg_json(&s, "k", "1");
    ca_trace_end(&s);
    ca_trace_instant(NULL, "x", "y", NULL, 0);
    ca_trace_thread_name(NULL, "t");
    assert_int_equal(ca_trace_flush(NULL), CA_OK);
    assert_int_equal(ca_trace_close(NULL), CA_OK);
    assert_int_equal(ca_trace_event_count(NULL), 0);
    assert_int_equal(access(trace_path, F_OK), -1);
}

static void test_trace_args_limit_and_drop(void **state)
{
    (void)state;
    ca_trace *t = NULL;
    assert_int_equal(ca_trace_open(trace_path, 3, &t), CA_OK); /* process_name + 2 */
    ca_trace_span s;
    ca_trace_begin(t, &s, "c", "many.args");
    for (int k = 0; k < CA_TRACE_MAX_ARGS + 3; k++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", k);
        ca_trace_arg_int(&s, key, k);
    }
    ca_trace_end(&s);
    for (int k = 0; k < 4; k++) {
        ca_trace_begin(t, &s, "c", "more");
        ca_trace_end(&s);
    }
    assert_int_equal(ca_trace_event_count(t), 3);
    assert_int_equal(ca_trace_dropped(t), 3);
    assert_int_equal(ca_trace_flush(t), CA_OK); /* flush, keep recording */
    json_t *root = load_trace();
    json_t *ev = find(root, "X", "many.args");
    assert_int_equal(json_object_size(json_object_get(ev, "args")), CA_TRACE_MAX_ARGS);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(root, "otherData"), "dropped_events")),
        3);
    json_decref(root);
    assert_int_equal(ca_trace_close(t), CA_OK);

    /* an unwritable path fails at close, after freeing */
    assert_int_equal(ca_trace_open("/nonexistent-dir/x/trace.json", 0, &t), CA_OK);
    assert_int_equal(ca_trace_close(t), CA_E_NOT_FOUND);
}

typedef struct thr {
    ca_trace *t;
    int id;
} thr;

static void *span_thread(void *p)
{
    thr *a = p;
    char name[32];
    snprintf(name, sizeof name, "worker-%d", a->id);
    ca_trace_thread_name(a->t, name);
    for (int i = 0; i < 200; i++) {
        ca_trace_span outer, inner;
        ca_trace_begin(a->t, &outer, "extract", "extract.file");
        ca_trace_arg_int(&outer, "i", i);
        ca_trace_begin(a->t, &inner, "extract", "extract.parse");
        ca_trace_end(&inner);
        ca_trace_end(&outer);
    }
    return NULL;
}

static void test_trace_threads(void **state)
{
    (void)state;
    ca_trace *t = NULL;
    assert_int_equal(ca_trace_open(trace_path, 0, &t), CA_OK);
    pthread_t th[4];
    thr args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (thr){t, i};
        assert_int_equal(pthread_create(&th[i], NULL, span_thread, &args[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(ca_trace_close(t), CA_OK);

    json_t *root = load_trace();
    json_t *events = json_object_get(root, "traceEvents");
    assert_int_equal(json_array_size(events), 1 + 4 + 4 * 200 * 2);
    /* per thread, every parse span lies inside the file span recorded right after it */
    size_t i;
    json_t *ev;
    int tids = 0;
    json_int_t seen[4] = {0};
    json_array_foreach(events, i, ev)
    {
        if (strcmp(json_string_value(json_object_get(ev, "name")), "thread_name"))
            continue;
        seen[tids++] = ival(ev, "tid");
    }
    assert_int_equal(tids, 4);
    for (int a = 0; a < 4; a++)
        for (int b = a + 1; b < 4; b++)
            assert_true(seen[a] != seen[b]);
    json_t *last_parse[4] = {NULL};
    int spans = 0;
    json_array_foreach(events, i, ev)
    {
        const char *name = json_string_value(json_object_get(ev, "name"));
        if (!strcmp(json_string_value(json_object_get(ev, "ph")), "M"))
            continue;
        int k = 0;
        while (k < 4 && seen[k] != ival(ev, "tid"))
            k++;
        assert_true(k < 4);
        if (!strcmp(name, "extract.parse"))
            last_parse[k] = ev;
        else if (!strcmp(name, "extract.file")) {
            json_t *p = last_parse[k];
            assert_non_null(p);
            assert_true(ival(p, "ts") >= ival(ev, "ts"));
            assert_true(ival(p, "ts") + ival(p, "dur") <= ival(ev, "ts") + ival(ev, "dur"));
            last_parse[k] = NULL;
            spans++;
        }
    }
    assert_int_equal(spans, 800);
    json_decref(root);
}

/* ---- log ---------------------------------------------------------------------------------- */

static char *read_stream(FILE *f)
{
    fflush(f);
    long n = ftell(f);
    char *s = calloc(1, (size_t)n + 1);
    rewind(f);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    return s;
}

static void test_log(void **state)
{
    (void)state;
    /* the environment sets the level on first use (nothing logged before this test) */
    assert_int_equal(setenv("CODEANATOMY_LOG", "debug", 1), 0);
    assert_int_equal(ca_log_get_level(), CA_LOG_DEBUG);
    ca_log_level l;
    assert_true(ca_log_level_parse("DEBUG", &l));
    assert_int_equal(l, CA_LOG_DEBUG);
    assert_true(ca_log_level_parse("warning", &l));
    assert_int_equal(l, CA_LOG_WARN);
    assert_true(ca_log_level_parse("off", &l));
    assert_int_equal(l, CA_LOG_OFF);
    assert_false(ca_log_level_parse("loud", &l));
    assert_string_equal(ca_log_level_name(CA_LOG_INFO), "info");

    FILE *f = tmpfile();
    assert_non_null(f);
    ca_log_set_stream(f);
    ca_log_set_level(CA_LOG_INFO);
    assert_int_equal(ca_log_get_level(), CA_LOG_INFO);
    assert_true(ca_log_enabled(CA_LOG_WARN));
    assert_false(ca_log_enabled(CA_LOG_DEBUG));
    assert_false(ca_log_enabled(CA_LOG_OFF));
    CA_LOG_I("delta", "commit %d done", 12);
    CA_LOG_D("delta", "hidden");
    CA_LOG_E("extract", "two\nlines");
    CA_LOG_W("util", "%s", "careful");
    char *s = read_stream(f);
    assert_string_equal(s, "codeanatomy: info: delta: commit 12 done\n"
                           "codeanatomy: error: extract: two lines\n"
                           "codeanatomy: warn: util: careful\n");
    free(s);

    /* long messages are truncated to one line */
    rewind(f);
    assert_int_equal(ftruncate(fileno(f), 0), 0);
    char big[10000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    CA_LOG_W("m", "%s", big);
    s = read_stream(f);
    size_t n = strlen(s);
    assert_true(n <= 4097 && n > 4000);
    assert_int_equal(s[n - 1], '\n');
    assert_ptr_equal(strchr(s, '\n'), s + n - 1);
    free(s);

    ca_log_set_level(CA_LOG_OFF);
    rewind(f);
    assert_int_equal(ftruncate(fileno(f), 0), 0);
    CA_LOG_E("m", "silent");
    s = read_stream(f);
    assert_string_equal(s, "");
    free(s);
    ca_log_set_stream(NULL);
    ca_log_set_level(CA_LOG_WARN);
    fclose(f);
}

/* ---- time --------------------------------------------------------------------------------- */

static void test_time(void **state)
{
    (void)state;
    uint64_t a = ca_time_mono_ns();
    ca_stopwatch sw;
    ca_stopwatch_start(&sw);
    sleep_us(5000);
    uint64_t b = ca_time_mono_ns();
    assert_true(b - a >= 5000000u);
    assert_true(ca_stopwatch_elapsed_ns(&sw) >= 5000000u);
    assert_true(ca_stopwatch_elapsed_ms(&sw) >= 5);
    assert_true(ca_stopwatch_elapsed_ms_f(&sw) >= 5.0);
    uint64_t lap = ca_stopwatch_lap_ns(&sw);
    assert_true(lap >= 5000000u);
    assert_true(ca_stopwatch_elapsed_ns(&sw) < lap);

    int64_t w = ca_time_wall_ms();
    int64_t ref = (int64_t)time(NULL) * 1000;
    assert_true(w > 1600000000000LL);
    assert_true(w >= ref - 1000 && w <= ref + 2000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_trace_spans, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trace_disabled, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trace_args_limit_and_drop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trace_threads, setup, teardown),
        cmocka_unit_test(test_log),
        cmocka_unit_test(test_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
