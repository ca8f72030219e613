#include "util/time.h"

#include <time.h>

uint64_t ca_time_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int64_t ca_time_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + (int64_t)(ts.tv_nsec / 1000000);
}

void ca_stopwatch_start(ca_stopwatch *sw) { sw->start_ns = ca_time_mono_ns(); }

uint64_t ca_stopwatch_elapsed_ns(const ca_stopwatch *sw)
{
    uint64_t now = ca_time_mono_ns();
    return now > sw->start_ns ? now - sw->start_ns : 0;
}

uint64_t ca_stopwatch_elapsed_ms(const ca_stopwatch *sw)
{
    return ca_stopwatch_elapsed_ns(sw) / 1000000u;
}

double ca_stopwatch_elapsed_ms_f(const ca_stopwatch *sw)
{
    return (double)ca_stopwatch_elapsed_ns(sw) / 1e6;
}

uint64_t ca_stopwatch_lap_ns(ca_stopwatch *sw)
{
    uint64_t now = ca_time_mono_ns();
    uint64_t d = now > sw->start_ns ? now - sw->start_ns : 0;
    sw->start_ns = now;
    return d;
}
