/*
 * A fixed-size thread pool over pthreads with a bounded task queue: ca_pool_submit blocks while
 * the queue is full (back-pressure), so a producer cannot run ahead of the workers unboundedly.
 *
 * Thread-safety: submit, wait and parallel_for may be called from any thread that is not one of
 * the pool's workers (a task that submits to its own pool, or waits on it, can deadlock).
 * ca_pool_free must not race with other calls.
 */
#ifndef CA_UTIL_POOL_H
#define CA_UTIL_POOL_H

#include "codeanatomy/error.h"

#include <stddef.h>

typedef struct ca_pool ca_pool;

typedef void (*ca_pool_task_fn)(void *arg);

/* Starts n_threads workers (0 = the number of online CPUs) with room for queue_cap pending
 * tasks (0 = 4 × n_threads). CA_E_INVALID above 1024 threads. */
int ca_pool_new(size_t n_threads, size_t queue_cap, ca_pool **out);

/* Waits for every submitted task, stops and joins the workers, frees the pool. NULL no-op. */
void ca_pool_free(ca_pool *pool);

size_t ca_pool_threads(const ca_pool *pool);

/* Queues fn(arg), blocking while the queue is full. Tasks start in submission order. */
int ca_pool_submit(ca_pool *pool, ca_pool_task_fn fn, void *arg);

/* Blocks until every task submitted so far (by any thread) has finished. */
void ca_pool_wait(ca_pool *pool);

/* fn(ctx, i) for every i in [0, n), on the workers and the calling thread; returns when all
 * calls are done. A non-zero return stops handing out higher indices; the result is the status
 * of the lowest failing index (deterministic if fn is), with that call's ca_error_last()
 * copied to the calling thread. Indices are handed out in increasing order. pool NULL runs
 * everything on the calling thread. */
typedef int (*ca_pool_for_fn)(void *ctx, size_t i);
int ca_pool_parallel_for(ca_pool *pool, size_t n, ca_pool_for_fn fn, void *ctx);

#endif
