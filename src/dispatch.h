/* SPDX-License-Identifier: GPL-2.0-or-later */
/* dispatch.h - the switches from an event to its handler: the poll loop's entries and the reactor's */
#pragma once

#include "loop.h"

struct api;
struct nshelper;
struct reactor;
struct splice;
struct stack;
struct udprelay;

/* frames drained from the tap per wake-up */
#define DISPATCH_TAP_BUDGET 256

/*
 * What the handlers belong to (NULL: none of its entries exist). The loop
 * is given dispatch_loop_ops and this as their argument.
 */
struct dispatch {
    struct stack *stack;
    struct api *api;
    struct reactor *reactor;
    struct nshelper *helper;
    struct splice *splice;
    struct udprelay *relay;
};

extern const struct loop_ops dispatch_loop_ops;

void dispatch_reactor(struct dispatch *d);
