/*
 * A trace-span recorder writing Chrome trace-event JSON ({"traceEvents": [...]}, the format
 * chrome://tracing and Perfetto open). Spans become "X" (complete) events with ts/dur in
 * microseconds since the recorder was opened, pid, tid (Linux thread id), name, cat and args;
 * instants are "i" events with thread scope; thread names are "M" metadata events.
 *
 * Disabled tracing is a NULL ca_trace *: every call below then costs one branch and allocates
 * nothing. Spans live on the caller's stack and must be ended (ca_trace_end) on every path.
 *
 * Thread-safety: one ca_trace may be used from any number of threads (events are appended under
 * a mutex); a single ca_trace_span belongs to the thread that began it.
 */
#ifndef CA_UTIL_TRACE_H
#define CA_UTIL_TRACE_H

#include "codeanatomy/error.h"

#include <stddef.h>
#include <stdint.h>

typedef struct ca_trace ca_trace;

#define CA_TRACE_MAX_ARGS 8

typedef enum ca_trace_arg_kind {
    CA_TRACE_ARG_STR,
    CA_TRACE_ARG_INT,
    CA_TRACE_ARG_JSON, /* a JSON document, embedded as a value (e.g. preview rows) */
} ca_trace_arg_kind;

/* An argument passed to ca_trace_instant (borrowed for the call). */
typedef struct ca_trace_arg {
    const char *key;
    ca_trace_arg_kind kind;
    const char *s; /* STR, JSON */
    int64_t i;     /* INT */
} ca_trace_arg;

/* A span in progress, on the caller's stack. Treat as opaque: use the functions below. */
typedef struct ca_trace_span {
    ca_trace *trace; /* NULL: tracing disabled, everything is a no-op */
    char *name;      /* owned copies */
    char *cat;
    uint64_t start_ns;
    int n_args;
    struct {
        char *key; /* owned */
        char *s;   /* owned (STR, JSON) */
        int64_t i;
        ca_trace_arg_kind kind;
    } args[CA_TRACE_MAX_ARGS];
} ca_trace_span;

/* Starts a recorder whose events are written to path by ca_trace_flush / ca_trace_close.
 * max_events bounds memory (0 = 1,000,000); later events are dropped and counted
 * (otherData.dropped_events). The path is not opened until the first write. */
int ca_trace_open(const char *path, size_t max_events, ca_trace **out);

/* Writes the trace file (atomically: temp + rename) and frees the recorder, also when writing
 * fails. NULL is a no-op returning 0. Spans still open are not recorded (end them first). */
int ca_trace_close(ca_trace *t);

/* Writes everything recorded so far (atomically replacing the file); recording continues. */
int ca_trace_flush(ca_trace *t);

/* Events recorded so far (spans ended, instants, metadata), and events dropped. */
size_t ca_trace_event_count(ca_trace *t);
size_t ca_trace_dropped(ca_trace *t);

/* Out-of-line halves of the inline functions below (enabled path only). */
void ca_trace__begin(ca_trace_span *s, const char *cat, const char *name);
void ca_trace__arg(ca_trace_span *s, const char *key, ca_trace_arg_kind kind, const char *sv,
                   int64_t iv);
void ca_trace__end(ca_trace_span *s);
void ca_trace__instant(ca_trace *t, const char *cat, const char *name, const ca_trace_arg *args,
                       int n_args);

/* Begins a span named name in category cat (both copied) on the calling thread. With
 * t == NULL the span is disabled. */
static inline void ca_trace_begin(ca_trace *t, ca_trace_span *s, const char *cat, const char *name)
{
    s->trace = t;
    if (t)
        ca_trace__begin(s, cat, name);
}

/* Attaches an argument (key and value copied). Up to CA_TRACE_MAX_ARGS per span; more are
 * ignored. A JSON argument that does not parse is recorded as a string. */
static inline void ca_trace_arg_str(ca_trace_span *s, const char *key, const char *value)
{
    if (s->trace)
        ca_trace__arg(s, key, CA_TRACE_ARG_STR, value, 0);
}
static inline void ca_trace_arg_int(ca_trace_span *s, const char *key, int64_t value)
{
    if (s->trace)
        ca_trace__arg(s, key, CA_TRACE_ARG_INT, NULL, value);
}
static inline void ca_trace_arg_json(ca_trace_span *s, const char *key, const char *json_text)
{
    if (s->trace)
        ca_trace__arg(s, key, CA_TRACE_ARG_JSON, json_text, 0);
}

/* Records the span as one "X" event and releases what it owns. Idempotent. */
static inline void ca_trace_end(ca_trace_span *s)
{
    if (s->trace)
        ca_trace__end(s);
}

/* Records an instant event ("i", thread scope) with n_args arguments (borrowed). */
static inline void ca_trace_instant(ca_trace *t, const char *cat, const char *name,
                                    const ca_trace_arg *args, int n_args)
{
    if (t)
        ca_trace__instant(t, cat, name, args, n_args);
}

/* Names the calling thread in the viewer ("M" thread_name event). NULL t is a no-op. */
void ca_trace_thread_name(ca_trace *t, const char *name);

#endif
