/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tapout.c - a minimal TAP (Test Anything Protocol) producer for the unit tests */
#include <stdarg.h>
#include <stdio.h>

#include "tapout.h"

static int tap_count;
static int tap_failed;
static int tap_planned = -1;

void tap_plan(int n)
{
    tap_planned = n;
    printf("1..%d\n", n);
}

bool tap_ok(bool cond, const char *fmt, ...)
{
    va_list ap;

    tap_count++;
    if (!cond)
        tap_failed++;
    printf("%s %d - ", cond ? "ok" : "not ok", tap_count);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
    return cond;
}

/* Print the plan if none was given; return the process exit status. */
int tap_done(void)
{
    if (tap_planned < 0)
        printf("1..%d\n", tap_count);
    else if (tap_planned != tap_count)
        printf("# planned %d tests but ran %d\n", tap_planned, tap_count);
    return tap_failed || (tap_planned >= 0 && tap_planned != tap_count) ? 1 : 0;
}
