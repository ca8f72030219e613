/* Raising errors: sets the calling thread's ca_error_last() and returns the code. */
#ifndef CA_UTIL_ERR_H
#define CA_UTIL_ERR_H

#include "codeanatomy/error.h"

#include <stdarg.h>

/* Sets the last error (code, module, printf-formatted one-line message) and returns code.
 * Newlines in the message are replaced by spaces; the message is truncated at 1 KiB. */
int ca_err_set(int code, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int ca_err_setv(int code, const char *module, const char *fmt, va_list ap);

/* Raises CA_E_NOMEM for module with "out of memory: <what>". */
int ca_err_nomem(const char *module, const char *what);

/* Raises an OS error: maps errno (ENOSPC → CA_E_NOSPC, ENOENT → CA_E_NOT_FOUND,
 * EEXIST → CA_E_EXISTS, ENOMEM → CA_E_NOMEM, else CA_E_IO) and appends strerror. */
int ca_err_errno(int errnum, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
