#include "util/err.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define MESSAGE_MAX 1024

static _Thread_local struct {
    ca_error pub;
    char module[32];
    char message[MESSAGE_MAX];
} last = {{CA_OK, "", ""}, "", ""};

#define CA__ERROR_NAME(name, value, str, desc) case value: return str;
const char *ca_error_name(int code)
{
    switch (code) {
        CA_ERROR_TABLE(CA__ERROR_NAME)
    default:
        return "unknown";
    }
}
#undef CA__ERROR_NAME

#define CA__ERROR_DESC(name, value, str, desc) case value: return desc;
const char *ca_error_describe(int code)
{
    switch (code) {
        CA_ERROR_TABLE(CA__ERROR_DESC)
    default:
        return "unknown error code";
    }
}
#undef CA__ERROR_DESC

const ca_error *ca_error_last(void)
{
    last.pub.module = last.module;
    last.pub.message = last.message;
    return &last.pub;
}

void ca_error_clear(void)
{
    last.pub.code = CA_OK;
    last.module[0] = '\0';
    last.message[0] = '\0';
}

int ca_err_setv(int code, const char *module, const char *fmt, va_list ap)
{
    char tmp[MESSAGE_MAX];
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    for (char *p = tmp; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    memcpy(last.message, tmp, sizeof tmp);
    snprintf(last.module, sizeof last.module, "%s", module ? module : "");
    last.pub.code = code;
    return code;
}

int ca_err_set(int code, const char *module, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ca_err_setv(code, module, fmt, ap);
    va_end(ap);
    return code;
}

int ca_err_nomem(const char *module, const char *what)
{
    return ca_err_set(CA_E_NOMEM, module, "out of memory: %s", what);
}

static int code_of_errno(int errnum)
{
    switch (errnum) {
    case ENOSPC:
    case EDQUOT:
        return CA_E_NOSPC;
    case ENOENT:
    case ENOTDIR:
        return CA_E_NOT_FOUND;
    case EEXIST:
        return CA_E_EXISTS;
    case ENOMEM:
        return CA_E_NOMEM;
    default:
        return CA_E_IO;
    }
}

int ca_err_errno(int errnum, const char *module, const char *fmt, ...)
{
    char head[MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    return ca_err_set(code_of_errno(errnum), module, "%s: %s", head, strerror(errnum));
}
