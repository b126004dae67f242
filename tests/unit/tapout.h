/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tapout.h - a minimal TAP (Test Anything Protocol) producer for the unit tests (not the TUN device: src/tap.h) */
#pragma once

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

void tap_plan(int n);
bool tap_ok(bool cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int tap_done(void);

#define TAP_OK(cond, ...) tap_ok((cond), __VA_ARGS__)
#define TAP_IS_INT(got, want, name)                                            \
    do {                                                                       \
        long long g_ = (long long)(got), w_ = (long long)(want);               \
        if (!tap_ok(g_ == w_, "%s", (name)))                                   \
            printf("#   got %lld, want %lld\n", g_, w_);                       \
    } while (0)
#define TAP_IS_STR(got, want, name)                                            \
    do {                                                                       \
        const char *g_ = (got), *w_ = (want);                                  \
        bool e_ = (g_ && w_) ? strcmp(g_, w_) == 0 : g_ == w_;                 \
        if (!tap_ok(e_, "%s", (name)))                                         \
            printf("#   got \"%s\", want \"%s\"\n", g_ ? g_ : "(null)",        \
                   w_ ? w_ : "(null)");                                        \
    } while (0)
