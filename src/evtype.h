/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evtype.h - the types of the poll loop's and the reactor's entries: what the dispatch switches (dispatch.c) tell apart */
#pragma once

/*
 * Every entry of the poll loop (loop_add()) and of the reactor (its
 * struct reactor_ref) carries one of these; dispatch.c switches on it to
 * call the owner's handler. A list of names only: the modules that own the
 * entries include it, and only dispatch.c knows what each one calls.
 */
enum evtype {
    EVT_NONE = 0,
    /* the poll loop's entries */
    EVT_TAP,                /* frames from the namespace */
    EVT_EXIT_FD,            /* --exit-fd: any event ends the daemon */
    EVT_SIGNAL,             /* signalfd: SIGTERM, SIGINT */
    EVT_EXIT_PID,           /* --exit-with-pid: the pidfd became readable */
    EVT_API_LISTEN,         /* --api-socket listener */
    EVT_API_CONN,           /* one API client connection */
    EVT_REACTOR,            /* the reactor's epoll fd */
    EVT_STACK,              /* a shard: its few sockets, or their epoll fd */
    EVT_RING,               /* a worker's frames from the main thread */
    EVT_WORKER_FAILED,      /* a worker thread's loop ended in error */
    /* the reactor's entries */
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
