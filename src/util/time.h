/* Clocks: monotonic nanoseconds for durations, wall-clock milliseconds for timestamps. */
#ifndef CA_UTIL_TIME_H
#define CA_UTIL_TIME_H

#include <stdint.h>

/* CLOCK_MONOTONIC in nanoseconds (arbitrary origin; never goes back). Thread-safe. */
uint64_t ca_time_mono_ns(void);

/* CLOCK_REALTIME in milliseconds since the Unix epoch (commit timestamps, mtimes). Thread-safe. */
int64_t ca_time_wall_ms(void);

/* A stopwatch over the monotonic clock; a plain value, no cleanup. */
typedef struct ca_stopwatch {
    uint64_t start_ns;
} ca_stopwatch;

/* Starts (or restarts) the stopwatch. */
void ca_stopwatch_start(ca_stopwatch *sw);
/* Time since start, in nanoseconds / whole milliseconds / fractional milliseconds. */
uint64_t ca_stopwatch_elapsed_ns(const ca_stopwatch *sw);
uint64_t ca_stopwatch_elapsed_ms(const ca_stopwatch *sw);
double ca_stopwatch_elapsed_ms_f(const ca_stopwatch *sw);
/* Returns the time since start in nanoseconds and restarts the stopwatch (lap time). */
uint64_t ca_stopwatch_lap_ns(ca_stopwatch *sw);

#endif
