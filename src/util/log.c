#include "util/log.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LINE_MAX_BYTES 4096

static atomic_int level_value = CA_LOG_WARN;
static atomic_bool level_set; /* by the setter: the environment no longer applies */
static pthread_once_t env_once = PTHREAD_ONCE_INIT;
static _Atomic(FILE *) out_stream;

static void read_env(void)
{
    const char *v = getenv("CODEANATOMY_LOG");
    ca_log_level l;
    if (v && ca_log_level_parse(v, &l) && !atomic_load(&level_set))
        atomic_store(&level_value, (int)l);
}

bool ca_log_level_parse(const char *text, ca_log_level *out)
{
    static const struct {
        const char *name;
        ca_log_level level;
    } names[] = {{"off", CA_LOG_OFF},   {"none", CA_LOG_OFF},   {"error", CA_LOG_ERROR},
                 {"warn", CA_LOG_WARN}, {"warning", CA_LOG_WARN}, {"info", CA_LOG_INFO},
                 {"debug", CA_LOG_DEBUG}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (text && !strcasecmp(text, names[i].name)) {
            *out = names[i].level;
            return true;
        }
    return false;
}

const char *ca_log_level_name(ca_log_level level)
{
    switch (level) {
    case CA_LOG_ERROR:
        return "error";
    case CA_LOG_WARN:
        return "warn";
    case CA_LOG_INFO:
        return "info";
    case CA_LOG_DEBUG:
        return "debug";
    default:
        return "off";
    }
}

void ca_log_set_level(ca_log_level level)
{
    pthread_once(&env_once, read_env); /* so a later first use cannot undo the setter */
    atomic_store(&level_set, true);
    atomic_store(&level_value, (int)level);
}

ca_log_level ca_log_get_level(void)
{
    pthread_once(&env_once, read_env);
    return (ca_log_level)atomic_load(&level_value);
}

bool ca_log_enabled(ca_log_level level)
{
    return level != CA_LOG_OFF && (int)level <= (int)ca_log_get_level();
}

void ca_log_set_stream(FILE *stream) { atomic_store(&out_stream, stream); }

void ca_logv(ca_log_level level, const char *module, const char *fmt, va_list ap)
{
    if (!ca_log_enabled(level))
        return;
    char line[LINE_MAX_BYTES + 2];
    int head = snprintf(line, sizeof line - 1, "codeanatomy: %s: %s: ", ca_log_level_name(level),
                        module ? module : "-");
    if (head < 0)
        return;
    size_t n = (size_t)head < sizeof line - 2 ? (size_t)head : sizeof line - 2;
    int body = vsnprintf(line + n, sizeof line - 1 - n, fmt, ap);
    if (body > 0)
        n += (size_t)body < sizeof line - 2 - n ? (size_t)body : sizeof line - 2 - n;
    for (size_t i = 0; i < n; i++)
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    line[n++] = '\n';
    FILE *f = atomic_load(&out_stream);
    if (!f)
        f = stderr;
    flockfile(f);
    fwrite(line, 1, n, f);
    fflush(f);
    funlockfile(f);
}

void ca_log(ca_log_level level, const char *module, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ca_logv(level, module, fmt, ap);
    va_end(ap);
}
