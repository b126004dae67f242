/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtype.h - the types of the reactor's entries: what the one dispatch switch (dispatch.c) tells apart */
#pragma once

/*
 * Every entry of the reactor (reactor.c) carries one of these in its
 * reference; dispatch_reactor() switches on it to call the owner's
 * handler. A list of names only: the modules that own the entries include
 * it, and only dispatch.c knows what each one calls.
 */
enum evtype {
    EVT_NONE = 0,
    EVT_NSHELPER,           /* the namespace helper's socket */
    EVT_NSHELPER_TIMER,     /* its deadline, its reaping */
    EVT_SPLICE_LISTENER,     /* a splice forward's listening socket */
    EVT_SPLICE_CONN,         /* one socket of a spliced connection */
    EVT_SPLICE_KICK,         /* splice.c's eventfd: come back at once */
    EVT_SPLICE_TIMER,        /* rested listeners */
    EVT_UDP_LISTENER,        /* a UDP forward's host socket */
    EVT_UDP_FLOW,            /* a UDP flow's namespace socket */
    EVT_UDP_TIMER,           /* the UDP relay's idle expiry */
    EVT_TYPE_COUNT,
};
