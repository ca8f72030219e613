/* Unit tests: the thread pool (tasks, wait, back-pressure, parallel_for). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "util/err.h"
#include "util/pool.h"
#include "util/time.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

typedef struct sum_ctx {
    atomic_long sum;
    atomic_int done;
} sum_ctx;

typedef struct sum_task {
    sum_ctx *ctx;
    long value;
} sum_task;

static void add_task(void *arg)
{
    sum_task *t = arg;
    atomic_fetch_add(&t->ctx->sum, t->value);
    atomic_fetch_add(&t->ctx->done, 1);
}

static void test_sum_many_tasks(void **state)
{
    (void)state;
    ca_pool *pool = NULL;
    assert_int_equal(ca_pool_new(4, 8, &pool), CA_OK);
    assert_int_equal(ca_pool_threads(pool), 4);
    enum { N = 20000 };
    static sum_task tasks[N];
    sum_ctx ctx;
    atomic_init(&ctx.sum, 0);
    atomic_init(&ctx.done, 0);
    for (long i = 0; i < N; i++) {
        tasks[i] = (sum_task){&ctx, i + 1};
        assert_int_equal(ca_pool_submit(pool, add_task, &tasks[i]), CA_OK);
    }
    ca_pool_wait(pool);
    assert_int_equal(atomic_load(&ctx.done), N);
    assert_int_equal(atomic_load(&ctx.sum), (long)N * (N + 1) / 2);

    /* reusable after wait */
    for (long i = 0; i < 100; i++)
        assert_int_equal(ca_pool_submit(pool, add_task, &tasks[i]), CA_OK);
    ca_pool_wait(pool);
    assert_int_equal(atomic_load(&ctx.done), N + 100);
    ca_pool_free(pool);
    ca_pool_free(NULL);
}

/* ---- back-pressure: with the workers blocked, submit blocks once the queue is full ---------- */

typedef struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool open;
    atomic_int started;
} gate;

static void gated_task(void *arg)
{
    gate *g = arg;
    atomic_fetch_add(&g->started, 1);
    pthread_mutex_lock(&g->mu);
    while (!g->open)
        pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
}

typedef struct producer {
    ca_pool *pool;
    gate *g;
    int n;
    atomic_int submitted;
} producer;

static void *produce(void *p)
{
    producer *pr = p;
    for (int i = 0; i < pr->n; i++) {
        if (ca_pool_submit(pr->pool, gated_task, pr->g) != CA_OK)
            break;
        atomic_fetch_add(&pr->submitted, 1);
    }
    return NULL;
}

static void test_back_pressure(void **state)
{
    (void)state;
    ca_pool *pool = NULL;
    assert_int_equal(ca_pool_new(2, 3, &pool), CA_OK);
    gate g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, 0};
    producer pr = {.pool = pool, .g = &g, .n = 20};
    atomic_init(&pr.submitted, 0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, produce, &pr), 0);

    /* 2 running + 3 queued, then the producer blocks */
    uint64_t t0 = ca_time_mono_ns();
    while (atomic_load(&pr.submitted) < 5 && ca_time_mono_ns() - t0 < 5000000000u)
        usleep(1000);
    usleep(100 * 1000);
    assert_int_equal(atomic_load(&g.started), 2);
    assert_int_equal(atomic_load(&pr.submitted), 5);

    pthread_mutex_lock(&g.mu);
    g.open = true;
    pthread_cond_broadcast(&g.cv);
    pthread_mutex_unlock(&g.mu);
    pthread_join(th, NULL);
    ca_pool_wait(pool);
    assert_int_equal(atomic_load(&pr.submitted), 20);
    assert_int_equal(atomic_load(&g.started), 20);
    ca_pool_free(pool);
}

/* ---- parallel_for ------------------------------------------------------------------------- */

typedef struct pf_ctx {
    atomic_int *hits;
    size_t fail_at; /* SIZE_MAX: none */
    size_t fail_at2;
    atomic_long sum;
} pf_ctx;

static int pf_fn(void *p, size_t i)
{
    pf_ctx *c = p;
    atomic_fetch_add(&c->hits[i], 1);
    atomic_fetch_add(&c->sum, (long)i);
    if (i == c->fail_at || i == c->fail_at2)
        return ca_err_set(CA_E_EXTRACT, "extract", "file %zu failed", i);
    return CA_OK;
}

static void test_parallel_for(void **state)
{
    (void)state;
    ca_pool *pool = NULL;
    assert_int_equal(ca_pool_new(3, 0, &pool), CA_OK);
    enum { N = 10000 };
    static atomic_int hits[N];
    pf_ctx c = {.hits = hits, .fail_at = SIZE_MAX, .fail_at2 = SIZE_MAX};
    for (int round = 0; round < 3; round++) {
        ca_pool *p = round == 2 ? NULL : pool; /* NULL: serial on the caller */
        for (int i = 0; i < N; i++)
            atomic_init(&hits[i], 0);
        atomic_init(&c.sum, 0);
        assert_int_equal(ca_pool_parallel_for(p, N, pf_fn, &c), CA_OK);
        for (int i = 0; i < N; i++)
            assert_int_equal(atomic_load(&hits[i]), 1);
        assert_int_equal(atomic_load(&c.sum), (long)N * (N - 1) / 2);
    }
    assert_int_equal(ca_pool_parallel_for(pool, 0, pf_fn, &c), CA_OK);
    assert_int_equal(ca_pool_parallel_for(pool, 1, pf_fn, &c), CA_OK);

    /* the lowest failing index wins, with its error detail, on the calling thread */
    for (int round = 0; round < 20; round++) {
        for (int i = 0; i < N; i++)
            atomic_init(&hits[i], 0);
        c.fail_at = 7000;
        c.fail_at2 = 300;
        ca_error_clear();
        assert_int_equal(ca_pool_parallel_for(pool, N, pf_fn, &c), CA_E_EXTRACT);
        assert_string_equal(ca_error_last()->message, "file 300 failed");
        assert_string_equal(ca_error_last()->module, "extract");
        for (int i = 0; i <= 300; i++) /* every index below the failure ran */
            assert_int_equal(atomic_load(&hits[i]), 1);
    }
    ca_pool_free(pool);
}

static void test_pool_invalid(void **state)
{
    (void)state;
    ca_pool *pool = (ca_pool *)1;
    assert_int_equal(ca_pool_new(5000, 0, &pool), CA_E_INVALID);
    assert_null(pool);
    assert_int_equal(ca_pool_new(0, 0, &pool), CA_OK); /* CPU count */
    assert_true(ca_pool_threads(pool) >= 1);
    ca_pool_free(pool);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sum_many_tasks),
        cmocka_unit_test(test_back_pressure),
        cmocka_unit_test(test_parallel_for),
        cmocka_unit_test(test_pool_invalid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
