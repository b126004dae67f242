/* SPDX-License-Identifier: GPL-2.0-or-later */
/* err.c - one way to fail: a negative errno and one message, made where the failure is seen and wrapped with context on the way up */
/*
 * DOC: Theory of Operation
 *
 * A function that can say more than an errno takes a struct err as its
 * last parameter. Where the failure is seen, err_make() (or
 * err_make_errno(), which appends strerror) records the errno and one
 * line; each caller that knows more puts its context in front with
 * err_wrap(), on the way up; the top level (main(), hook_main(),
 * slirpctl's main(), the API's reply) prints or sends the line. The
 * functions still return 0 or the negative errno, so a caller that only
 * needs the errno may pass NULL.
 *
 * No allocation: the message lives in the struct, cut at ERR_MSG_MAX - 1
 * bytes, so a failure report cannot itself fail (the allocator's own
 * failures are reported this way too). Pure code: slirpctl links it.
 */
#include <stdio.h>
#include <string.h>

#include "err.h"

/**
 * err_clear() - nothing failed (any more)
 * @e:	the error, or NULL
 *
 * For a caller that recovers from a failure and goes on with @e.
 */
void err_clear(struct err *e)
{
    if (!e)
        return;
    e->code = 0;
    e->flags = 0;
    e->subject = 0;
    e->msg[0] = '\0';
}

/**
 * err_vmake() - err_make() with a va_list
 * @e:		the error, or NULL
 * @code:	a negative errno
 * @fmt:	printf format of the message (NULL: none)
 * @ap:		its arguments
 *
 * Return: @code
 */
int err_vmake(struct err *e, int code, const char *fmt, va_list ap)
{
    if (!e)
        return code;
    err_clear(e);
    e->code = code;
    if (fmt)
        vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    return code;
}

/**
 * err_make() - record a failure where it is seen
 * @e:		the error, or NULL (the caller wants the errno only)
 * @code:	a negative errno
 * @fmt:	printf format of the one-line message
 *
 * Flags and subject are cleared; a caller sets them after.
 *
 * Return: @code
 */
int err_make(struct err *e, int code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    err_vmake(e, code, fmt, ap);
    va_end(ap);
    return code;
}

/* append ": strerror(-code)" (or just strerror if the message is empty) */
static void err_append_strerror(struct err *e)
{
    size_t used = strlen(e->msg);
    int code = e->code < 0 ? -e->code : e->code;

    snprintf(e->msg + used, sizeof(e->msg) - used, "%s%s", used ? ": " : "",
             strerror(code));
}

/**
 * err_make_errno() - err_make(), with ": strerror(-@code)" appended
 * @e:		the error, or NULL
 * @code:	a negative errno
 * @fmt:	printf format of the message before the errno's text
 *
 * Return: @code
 */
int err_make_errno(struct err *e, int code, const char *fmt, ...)
{
    va_list ap;

    if (!e)
        return code;
    va_start(ap, fmt);
    err_vmake(e, code, fmt, ap);
    va_end(ap);
    err_append_strerror(e);
    return code;
}

/**
 * err_wrap() - put "context: " in front of the message, on the way up
 * @e:		the error a callee filled, or NULL
 * @code:	the callee's return value (a negative errno)
 * @fmt:	printf format of the context
 *
 * The recorded code, flags and subject are kept. If the callee recorded
 * nothing (@e->code is 0: it returns a bare errno), this records @code
 * with "context: strerror(-@code)", as err_make_errno() would. An empty
 * message gets the context alone. The context is kept whole and the old
 * message cut, if the two do not fit.
 *
 * Return: @code, so that a caller can "return err_wrap(e, r, ...)" also
 * when @e is NULL
 */
int err_wrap(struct err *e, int code, const char *fmt, ...)
{
    char old[ERR_MSG_MAX];
    size_t used;
    va_list ap;

    if (!e)
        return code;
    if (!e->code) {
        va_start(ap, fmt);
        err_vmake(e, code, fmt, ap);
        va_end(ap);
        err_append_strerror(e);
        return code;
    }
    memcpy(old, e->msg, sizeof(old));
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
    used = strlen(e->msg);
    if (old[0])
        snprintf(e->msg + used, sizeof(e->msg) - used, ": %s", old);
    return code;
}
