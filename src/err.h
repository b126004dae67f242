/* SPDX-License-Identifier: GPL-2.0-or-later */
/* err.h - one way to fail: a negative errno and one message, made where the failure is seen and wrapped with context on the way up */
#pragma once

#include <stdarg.h>

/* the longest message kept, with its NUL; longer ones are cut */
#define ERR_MSG_MAX 512

/* struct err.flags */
#define ERR_USAGE 0x1u  /* the top level prints the usage after the message */

/**
 * struct err - why a call failed, for the top level to print or reply
 * @code:	negative errno; 0 while nothing failed
 * @flags:	ERR_* for the top level
 * @subject:	what the failure is about, for callers that must say so
 *		(the API's "bad arguments.<field>": an enum fwd_field); 0:
 *		nothing in particular
 * @msg:	one line, without the program's name or a final newline;
 *		"" when @subject says it all
 */
struct err {
    int code;
    unsigned int flags;
    int subject;
    char msg[ERR_MSG_MAX];
};

void err_clear(struct err *e);
int err_vmake(struct err *e, int code, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
int err_make(struct err *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int err_make_errno(struct err *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int err_wrap(struct err *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
