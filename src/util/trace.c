#include "util/trace.h"

#include "util/alloc.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/time.h"

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#define M "util"
#define DEFAULT_MAX_EVENTS ((size_t)1000000)

struct ca_trace {
    char *path;
    uint64_t origin_ns; /* ts 0 */
    int64_t pid;
    size_t max_events;
    pthread_mutex_t mu; /* guards events */
    json_t *events;     /* array */
    atomic_size_t dropped;
};

static int64_t thread_id(void) { return (int64_t)gettid(); }

/* Microseconds since the origin; floors both ends of a span, so nested spans stay nested. */
static json_int_t us_since(const ca_trace *t, uint64_t ns)
{
    return ns > t->origin_ns ? (json_int_t)((ns - t->origin_ns) / 1000) : 0;
}

/* Appends ev (reference stolen) or drops it. */
static void record(ca_trace *t, json_t *ev)
{
    if (!ev) {
        atomic_fetch_add(&t->dropped, 1);
        return;
    }
    pthread_mutex_lock(&t->mu);
    int ok = json_array_size(t->events) < t->max_events && json_array_append(t->events, ev) == 0;
    pthread_mutex_unlock(&t->mu);
    if (!ok)
        atomic_fetch_add(&t->dropped, 1);
    json_decref(ev);
}

static json_t *event_head(ca_trace *t, const char *ph, const char *cat, const char *name,
                          json_int_t ts)
{
    json_t *ev = json_object();
    if (!ev)
        return NULL;
    if (json_object_set_new(ev, "name", json_string(name ? name : "")) ||
        json_object_set_new(ev, "cat", json_string(cat ? cat : "")) ||
        json_object_set_new(ev, "ph", json_string(ph)) ||
        json_object_set_new(ev, "ts", json_integer(ts)) ||
        json_object_set_new(ev, "pid", json_integer(t->pid)) ||
        json_object_set_new(ev, "tid", json_integer(thread_id()))) {
        json_decref(ev);
        return NULL;
    }
    return ev;
}

static json_t *arg_value(ca_trace_arg_kind kind, const char *s, int64_t i)
{
    switch (kind) {
    case CA_TRACE_ARG_INT:
        return json_integer(i);
    case CA_TRACE_ARG_JSON: {
        json_t *v = s ? json_loads(s, JSON_DECODE_ANY, NULL) : NULL;
        return v ? v : json_string(s ? s : "");
    }
    default:
        return json_string(s ? s : "");
    }
}

int ca_trace_open(const char *path, size_t max_events, ca_trace **out)
{
    *out = NULL;
    ca_trace *t = ca__calloc(1, sizeof *t);
    if (!t)
        return ca_err_nomem(M, "trace");
    t->path = ca__strdup(path);
    t->events = json_array();
    if (!t->path || !t->events) {
        ca__free(t->path);
        json_decref(t->events);
        ca__free(t);
        return ca_err_nomem(M, "trace");
    }
    t->origin_ns = ca_time_mono_ns();
    t->pid = (int64_t)getpid();
    t->max_events = max_events ? max_events : DEFAULT_MAX_EVENTS;
    atomic_init(&t->dropped, 0);
    pthread_mutex_init(&t->mu, NULL);
    json_t *ev = event_head(t, "M", "__metadata", "process_name", 0);
    if (ev && json_object_set_new(ev, "args", json_pack("{s:s}", "name", "codeanatomy"))) {
        json_decref(ev);
        ev = NULL;
    }
    record(t, ev);
    *out = t;
    return CA_OK;
}

int ca_trace_flush(ca_trace *t)
{
    if (!t)
        return CA_OK;
    json_t *other = json_pack("{s:s, s:I}", "producer", "codeanatomy",
                              "dropped_events", (json_int_t)atomic_load(&t->dropped));
    json_t *root = json_object();
    char *text = NULL;
    pthread_mutex_lock(&t->mu);
    if (other && root && !json_object_set(root, "traceEvents", t->events) &&
        !json_object_set_new(root, "displayTimeUnit", json_string("ms")) &&
        !json_object_set(root, "otherData", other))
        text = json_dumps(root, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(root); /* drops root's reference to events: under the lock too */
    pthread_mutex_unlock(&t->mu);
    json_decref(other);
    if (!text)
        return ca_err_nomem(M, "trace JSON");
    int rc = ca_fs_write_replace(ca_fs_posix(), t->path, text, strlen(text));
    json_malloc_t jmalloc;
    json_free_t jfree;
    json_get_alloc_funcs(&jmalloc, &jfree); /* json_dumps allocates with jansson's allocator */
    jfree(text);
    return rc;
}

int ca_trace_close(ca_trace *t)
{
    if (!t)
        return CA_OK;
    int rc = ca_trace_flush(t);
    pthread_mutex_destroy(&t->mu);
    json_decref(t->events);
    ca__free(t->path);
    ca__free(t);
    return rc;
}

size_t ca_trace_event_count(ca_trace *t)
{
    if (!t)
        return 0;
    pthread_mutex_lock(&t->mu);
    size_t n = json_array_size(t->events);
    pthread_mutex_unlock(&t->mu);
    return n;
}

size_t ca_trace_dropped(ca_trace *t) { return t ? atomic_load(&t->dropped) : 0; }

void ca_trace__begin(ca_trace_span *s, const char *cat, const char *name)
{
    s->n_args = 0;
    s->name = ca__strdup(name ? name : "");
    s->cat = ca__strdup(cat ? cat : "");
    if (!s->name || !s->cat) {
        atomic_fetch_add(&s->trace->dropped, 1);
        ca__free(s->name);
        ca__free(s->cat);
        s->trace = NULL; /* disabled from here on */
        return;
    }
    s->start_ns = ca_time_mono_ns();
}

void ca_trace__arg(ca_trace_span *s, const char *key, ca_trace_arg_kind kind, const char *sv,
                   int64_t iv)
{
    if (s->n_args >= CA_TRACE_MAX_ARGS || !key)
        return;
    char *k = ca__strdup(key);
    char *v = kind == CA_TRACE_ARG_INT ? NULL : ca__strdup(sv ? sv : "");
    if (!k || (kind != CA_TRACE_ARG_INT && !v)) {
        ca__free(k);
        ca__free(v);
        return;
    }
    s->args[s->n_args].key = k;
    s->args[s->n_args].s = v;
    s->args[s->n_args].i = iv;
    s->args[s->n_args].kind = kind;
    s->n_args++;
}

void ca_trace__end(ca_trace_span *s)
{
    uint64_t end_ns = ca_time_mono_ns();
    ca_trace *t = s->trace;
    json_int_t ts = us_since(t, s->start_ns);
    json_t *ev = event_head(t, "X", s->cat, s->name, ts);
    if (ev && json_object_set_new(ev, "dur", json_integer(us_since(t, end_ns) - ts))) {
        json_decref(ev);
        ev = NULL;
    }
    if (ev && s->n_args) {
        json_t *args = json_object();
        for (int i = 0; args && i < s->n_args; i++)
            if (json_object_set_new(args, s->args[i].key,
                                    arg_value(s->args[i].kind, s->args[i].s, s->args[i].i))) {
                json_decref(args);
                args = NULL;
            }
        if (!args || json_object_set_new(ev, "args", args)) {
            json_decref(ev);
            ev = NULL;
        }
    }
    record(t, ev);
    for (int i = 0; i < s->n_args; i++) {
        ca__free(s->args[i].key);
        ca__free(s->args[i].s);
    }
    ca__free(s->name);
    ca__free(s->cat);
    s->name = s->cat = NULL;
    s->n_args = 0;
    s->trace = NULL; /* a second end is a no-op */
}

void ca_trace__instant(ca_trace *t, const char *cat, const char *name, const ca_trace_arg *args,
                       int n_args)
{
    json_t *ev = event_head(t, "i", cat, name, us_since(t, ca_time_mono_ns()));
    if (ev && json_object_set_new(ev, "s", json_string("t"))) {
        json_decref(ev);
        ev = NULL;
    }
    if (ev && n_args > 0) {
        json_t *a = json_object();
        for (int i = 0; a && i < n_args; i++)
            if (args[i].key &&
                json_object_set_new(a, args[i].key, arg_value(args[i].kind, args[i].s, args[i].i))) {
                json_decref(a);
                a = NULL;
            }
        if (!a || json_object_set_new(ev, "args", a)) {
            json_decref(ev);
            ev = NULL;
        }
    }
    record(t, ev);
}

void ca_trace_thread_name(ca_trace *t, const char *name)
{
    if (!t)
        return;
    json_t *ev = event_head(t, "M", "__metadata", "thread_name", 0);
    if (ev && json_object_set_new(ev, "args", json_pack("{s:s}", "name", name ? name : ""))) {
        json_decref(ev);
        ev = NULL;
    }
    record(t, ev);
}
