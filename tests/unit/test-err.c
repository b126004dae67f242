/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-err.c - struct err: make, make_errno, wrap (of a wrap, of nothing), NULL, truncation, the code kept */
#include <errno.h>
#include <string.h>

#include "err.h"
#include "tapout.h"

int main(void)
{
    struct err e, e2;
    char big[ERR_MSG_MAX * 2];

    tap_plan(22);

    err_clear(&e);
    TAP_IS_INT(e.code, 0, "cleared: no code");
    TAP_IS_STR(e.msg, "", "cleared: no message");

    TAP_IS_INT(err_make(&e, -EINVAL, "bad %s: %d", "mtu", 7), -EINVAL,
               "err_make returns the code");
    TAP_IS_INT(e.code, -EINVAL, "err_make records the code");
    TAP_IS_STR(e.msg, "bad mtu: 7", "err_make formats the message");

    e.flags = ERR_USAGE;
    e.subject = 3;
    TAP_IS_INT(err_wrap(&e, -EINVAL, "option %s", "-m"), -EINVAL,
               "err_wrap returns the code");
    TAP_IS_STR(e.msg, "option -m: bad mtu: 7", "err_wrap prepends the context");
    TAP_OK(err_wrap(&e, -EIO, "outer") == -EIO && e.code == -EINVAL &&
           e.flags == ERR_USAGE && e.subject == 3,
           "a wrap keeps the recorded code, flags and subject");
    TAP_IS_STR(e.msg, "outer: option -m: bad mtu: 7", "a wrap of a wrap");

    TAP_IS_INT(err_make_errno(&e, -ENOENT, "open %s", "/x"), -ENOENT,
               "err_make_errno returns the code");
    TAP_OK(!strcmp(e.msg, "open /x: No such file or directory") &&
           e.flags == 0 && e.subject == 0,
           "err_make_errno appends strerror, clears flags and subject: %s",
           e.msg);

    err_make(&e, -EPERM, "%s", "");
    err_wrap(&e, -EPERM, "ctx");
    TAP_IS_STR(e.msg, "ctx", "a wrap of an empty message is the context alone");

    err_clear(&e);
    TAP_IS_INT(err_wrap(&e, -EACCES, "mkdir %s", "/d"), -EACCES,
               "a wrap of nothing recorded returns the code");
    TAP_OK(e.code == -EACCES && !strcmp(e.msg, "mkdir /d: Permission denied"),
           "... and records it with strerror: %s", e.msg);

    TAP_IS_INT(err_make(NULL, -EBADF, "x %d", 1), -EBADF, "err_make(NULL)");
    TAP_IS_INT(err_make_errno(NULL, -EBADF, "x"), -EBADF,
               "err_make_errno(NULL)");
    TAP_IS_INT(err_wrap(NULL, -EBADF, "x"), -EBADF, "err_wrap(NULL)");
    err_clear(NULL);
    TAP_OK(true, "err_clear(NULL) does nothing");

    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    err_make(&e, -E2BIG, "%s", big);
    TAP_OK(strlen(e.msg) == ERR_MSG_MAX - 1 && e.code == -E2BIG,
           "a long message is cut at %d bytes", ERR_MSG_MAX - 1);
    err_wrap(&e, -E2BIG, "head");
    TAP_OK(strlen(e.msg) == ERR_MSG_MAX - 1 && !strncmp(e.msg, "head: aaa", 9),
           "a wrap of a full message keeps the context and cuts the tail");
    err_make_errno(&e2, -EIO, "%s", big);
    TAP_OK(strlen(e2.msg) == ERR_MSG_MAX - 1 && e2.code == -EIO,
           "err_make_errno of a full message stays within the buffer");
    big[ERR_MSG_MAX - 4] = '\0';
    err_make(&e, -E2BIG, "%s", big);
    err_wrap(&e, -E2BIG, "%s", big);
    TAP_OK(strlen(e.msg) == ERR_MSG_MAX - 1, "a context as long as the buffer");
    return tap_done();
}
