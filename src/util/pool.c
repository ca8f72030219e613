#include "util/pool.h"

#include "util/alloc.h"
#include "util/err.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#define M "util"
#define MAX_THREADS 1024

typedef struct task {
    ca_pool_task_fn fn;
    void *arg;
} task;

struct ca_pool {
    pthread_mutex_t mu;
    pthread_cond_t not_empty; /* workers wait for tasks */
    pthread_cond_t not_full;  /* producers wait for room */
    pthread_cond_t idle;      /* ca_pool_wait waits for count == 0 && active == 0 */
    task *q;                  /* ring buffer */
    size_t cap, head, count;
    size_t active; /* tasks running */
    bool stop;
    size_t n_threads;
    pthread_t *threads;
};

static void *worker(void *p)
{
    ca_pool *pool = p;
    pthread_mutex_lock(&pool->mu);
    for (;;) {
        while (pool->count == 0 && !pool->stop)
            pthread_cond_wait(&pool->not_empty, &pool->mu);
        if (pool->count == 0)
            break; /* stopping and drained */
        task t = pool->q[pool->head];
        pool->head = (pool->head + 1) % pool->cap;
        pool->count--;
        pool->active++;
        pthread_cond_signal(&pool->not_full);
        pthread_mutex_unlock(&pool->mu);
        t.fn(t.arg);
        pthread_mutex_lock(&pool->mu);
        pool->active--;
        if (pool->count == 0 && pool->active == 0)
            pthread_cond_broadcast(&pool->idle);
    }
    pthread_mutex_unlock(&pool->mu);
    return NULL;
}

static void stop_and_join(ca_pool *pool, size_t started)
{
    pthread_mutex_lock(&pool->mu);
    pool->stop = true;
    pthread_cond_broadcast(&pool->not_empty);
    pthread_cond_broadcast(&pool->not_full);
    pthread_mutex_unlock(&pool->mu);
    for (size_t i = 0; i < started; i++)
        pthread_join(pool->threads[i], NULL);
}

static void destroy(ca_pool *pool)
{
    pthread_cond_destroy(&pool->idle);
    pthread_cond_destroy(&pool->not_full);
    pthread_cond_destroy(&pool->not_empty);
    pthread_mutex_destroy(&pool->mu);
    ca__free(pool->threads);
    ca__free(pool->q);
    ca__free(pool);
}

int ca_pool_new(size_t n_threads, size_t queue_cap, ca_pool **out)
{
    *out = NULL;
    if (n_threads == 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        n_threads = c > 0 ? (size_t)c : 1;
        if (n_threads > MAX_THREADS)
            n_threads = MAX_THREADS;
    }
    if (n_threads > MAX_THREADS)
        return ca_err_set(CA_E_INVALID, M, "thread pool: %zu threads (at most %d)", n_threads,
                          MAX_THREADS);
    if (queue_cap == 0)
        queue_cap = 4 * n_threads;
    size_t qbytes, tbytes;
    if (!ca__size_mul(queue_cap, sizeof(task), &qbytes) ||
        !ca__size_mul(n_threads, sizeof(pthread_t), &tbytes))
        return ca_err_set(CA_E_OVERFLOW, M, "thread pool: queue of %zu tasks", queue_cap);
    ca_pool *pool = ca__calloc(1, sizeof *pool);
    if (!pool)
        return ca_err_nomem(M, "thread pool");
    pool->q = ca__malloc(qbytes);
    pool->threads = ca__malloc(tbytes);
    if (!pool->q || !pool->threads) {
        ca__free(pool->q);
        ca__free(pool->threads);
        ca__free(pool);
        return ca_err_nomem(M, "thread pool");
    }
    pool->cap = queue_cap;
    pool->n_threads = n_threads;
    pthread_mutex_init(&pool->mu, NULL);
    pthread_cond_init(&pool->not_empty, NULL);
    pthread_cond_init(&pool->not_full, NULL);
    pthread_cond_init(&pool->idle, NULL);
    for (size_t i = 0; i < n_threads; i++) {
        int e = pthread_create(&pool->threads[i], NULL, worker, pool);
        if (e) {
            stop_and_join(pool, i);
            destroy(pool);
            return ca_err_errno(e, M, "thread pool: starting thread %zu of %zu", i + 1,
                                n_threads);
        }
    }
    *out = pool;
    return CA_OK;
}

size_t ca_pool_threads(const ca_pool *pool) { return pool ? pool->n_threads : 0; }

int ca_pool_submit(ca_pool *pool, ca_pool_task_fn fn, void *arg)
{
    pthread_mutex_lock(&pool->mu);
    while (pool->count == pool->cap && !pool->stop)
        pthread_cond_wait(&pool->not_full, &pool->mu);
    if (pool->stop) {
        pthread_mutex_unlock(&pool->mu);
        return ca_err_set(CA_E_INVALID, M, "thread pool: submit while shutting down");
    }
    pool->q[(pool->head + pool->count) % pool->cap] = (task){fn, arg};
    pool->count++;
    pthread_cond_signal(&pool->not_empty);
    pthread_mutex_unlock(&pool->mu);
    return CA_OK;
}

void ca_pool_wait(ca_pool *pool)
{
    pthread_mutex_lock(&pool->mu);
    while (pool->count > 0 || pool->active > 0)
        pthread_cond_wait(&pool->idle, &pool->mu);
    pthread_mutex_unlock(&pool->mu);
}

void ca_pool_free(ca_pool *pool)
{
    if (!pool)
        return;
    ca_pool_wait(pool);
    stop_and_join(pool, pool->n_threads);
    destroy(pool);
}

/* ---- parallel_for ------------------------------------------------------------------------- */

typedef struct pfor {
    ca_pool_for_fn fn;
    void *ctx;
    size_t n;
    atomic_size_t next;
    atomic_size_t fail_index; /* SIZE_MAX = none */
    pthread_mutex_t mu;
    pthread_cond_t done;
    size_t runners; /* submitted runners not yet finished */
    int rc;
    int err_code;
    char err_module[32];
    char err_message[1024];
} pfor;

static void pfor_run(pfor *pf)
{
    for (;;) {
        size_t i = atomic_fetch_add(&pf->next, 1);
        if (i >= pf->n || i > atomic_load(&pf->fail_index))
            return;
        int r = pf->fn(pf->ctx, i);
        if (r) {
            const ca_error *e = ca_error_last();
            pthread_mutex_lock(&pf->mu);
            if (i < atomic_load(&pf->fail_index)) {
                atomic_store(&pf->fail_index, i);
                pf->rc = r;
                pf->err_code = e->code;
                snprintf(pf->err_module, sizeof pf->err_module, "%s", e->module);
                snprintf(pf->err_message, sizeof pf->err_message, "%s", e->message);
            }
            pthread_mutex_unlock(&pf->mu);
            return;
        }
    }
}

static void pfor_task(void *arg)
{
    pfor *pf = arg;
    pfor_run(pf);
    pthread_mutex_lock(&pf->mu);
    if (--pf->runners == 0)
        pthread_cond_signal(&pf->done);
    pthread_mutex_unlock(&pf->mu);
}

int ca_pool_parallel_for(ca_pool *pool, size_t n, ca_pool_for_fn fn, void *ctx)
{
    if (n == 0)
        return CA_OK;
    pfor pf = {.fn = fn, .ctx = ctx, .n = n, .rc = CA_OK};
    atomic_init(&pf.next, 0);
    atomic_init(&pf.fail_index, SIZE_MAX);
    pthread_mutex_init(&pf.mu, NULL);
    pthread_cond_init(&pf.done, NULL);
    size_t want = pool ? pool->n_threads : 0;
    if (want > n - 1)
        want = n - 1; /* the calling thread takes a share too */
    for (size_t k = 0; k < want; k++) {
        pthread_mutex_lock(&pf.mu);
        pf.runners++;
        pthread_mutex_unlock(&pf.mu);
        if (ca_pool_submit(pool, pfor_task, &pf) != CA_OK) {
            pthread_mutex_lock(&pf.mu);
            pf.runners--;
            pthread_mutex_unlock(&pf.mu);
            break; /* fewer helpers: the calling thread still finishes every index */
        }
    }
    pfor_run(&pf);
    pthread_mutex_lock(&pf.mu);
    while (pf.runners > 0)
        pthread_cond_wait(&pf.done, &pf.mu);
    pthread_mutex_unlock(&pf.mu);
    pthread_cond_destroy(&pf.done);
    pthread_mutex_destroy(&pf.mu);
    if (pf.rc == CA_OK)
        return CA_OK;
    if (pf.err_code == pf.rc)
        return ca_err_set(pf.rc, pf.err_module, "%s", pf.err_message);
    return ca_err_set(pf.rc, M, "parallel_for: index %zu failed (%s)",
                      atomic_load(&pf.fail_index), ca_error_name(pf.rc));
}
