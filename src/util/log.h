/*
 * Leveled logging to stderr: one line per message, "codeanatomy: <level>: <module>: <message>".
 * The level comes from the environment variable CODEANATOMY_LOG (off|error|warn|info|debug, read
 * once on first use; default warn) unless ca_log_set_level() was called. Thread-safe: a line is
 * formatted privately and written with one locked fwrite, so lines never interleave.
 */
#ifndef CA_UTIL_LOG_H
#define CA_UTIL_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

typedef enum ca_log_level {
    CA_LOG_OFF = -1,
    CA_LOG_ERROR = 0,
    CA_LOG_WARN = 1,
    CA_LOG_INFO = 2,
    CA_LOG_DEBUG = 3,
} ca_log_level;

/* Sets the level (overrides CODEANATOMY_LOG). */
void ca_log_set_level(ca_log_level level);
ca_log_level ca_log_get_level(void);
/* Parses "off", "error", "warn"/"warning", "info", "debug" (case-insensitive); false if unknown. */
bool ca_log_level_parse(const char *text, ca_log_level *out);
/* "error", "warn", "info", "debug", "off". */
const char *ca_log_level_name(ca_log_level level);

/* Whether a message of this level would be written (guards costly argument preparation). */
bool ca_log_enabled(ca_log_level level);

/* Redirects output (tests); NULL restores stderr. The stream is borrowed. */
void ca_log_set_stream(FILE *stream);

/* Writes one line if level is enabled. Newlines in the message become spaces; messages longer
 * than 4 KiB are truncated. module is a short tag ("delta", "extract"). */
void ca_log(ca_log_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void ca_logv(ca_log_level level, const char *module, const char *fmt, va_list ap);

#define CA_LOG_E(module, ...) ca_log(CA_LOG_ERROR, module, __VA_ARGS__)
#define CA_LOG_W(module, ...) ca_log(CA_LOG_WARN, module, __VA_ARGS__)
#define CA_LOG_I(module, ...) ca_log(CA_LOG_INFO, module, __VA_ARGS__)
#define CA_LOG_D(module, ...) ca_log(CA_LOG_DEBUG, module, __VA_ARGS__)

#endif
