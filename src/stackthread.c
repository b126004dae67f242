/* SPDX-License-Identifier: GPL-2.0-or-later */
/* stackthread.c - worker threads (--threads): each runs a group of the stack's shards in a poll loop of its own */
/*
 * DOC: Theory of Operation
 *
 * With --threads=N the stack's shards form N groups (shard i is group
 * i % N's, stack.c). Group 0 stays with the main thread, which also reads
 * the tap, steers every frame, holds the forwards (shard 0) and answers the
 * API. Each other group gets a thread of its own here, with a loop (loop.c)
 * over its shards' sets of fds and the eventfd of the ring through which the
 * main thread hands it its frames; it writes what its shards send to the
 * tap itself.
 *
 * A worker holds its group's lock while it runs libslirp (a fill, the
 * frames, the events, the poll, the reaper, the flush) and lets go of it
 * before it waits. The main thread takes every worker's lock around an API
 * request (stack_pause()), so a request sees and changes every shard as
 * in one thread, and waits for at most one iteration of each worker.
 *
 * The threads start after the sandbox (capabilities are per thread: the
 * workers never had any) and before the seccomp filter, which is loaded for
 * every thread at once (SECCOMP_FILTER_FLAG_TSYNC). A worker whose loop
 * fails writes an eventfd the main loop watches (EVT_WORKER_FAILED): the
 * daemon ends, as it would if its own loop failed.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "evtype.h"
#include "log.h"
#include "loop.h"
#include "stack.h"
#include "stackthread.h"

struct stackthread_worker {
    struct stackthread *all;
    unsigned int gi;            /* its group in the stack */
    pthread_t tid;
    bool started;
    bool locked;                /* it holds its group's lock */
    struct loop loop;
};

struct stackthread {
    struct stack *st;
    unsigned int n;             /* workers */
    struct stackthread_worker *w;
    bool stop;                  /* (atomic) the workers end */
    int failfd;                 /* eventfd: a worker's loop failed */
    pthread_mutex_t up_lock;
    pthread_cond_t up_cond;
    unsigned int up;            /* workers past their start-up */
};

static void stackthread_hold(struct stackthread_worker *w)
{
    if (!w->locked)
        stack_group_lock(w->all->st, w->gi);
    w->locked = true;
}

static void stackthread_release(struct stackthread_worker *w)
{
    if (w->locked)
        stack_group_unlock(w->all->st, w->gi);
    w->locked = false;
}

static void stackthread_prepare(void *opaque, struct loop *l, int *timeout)
{
    struct stackthread_worker *w = opaque;

    stackthread_hold(w);
    stack_group_fill(w->all->st, w->gi, timeout);
    stackthread_release(w);
}

static void stackthread_dispatch(void *opaque, struct loop *l, int type,
                                 void *data, int fd, short revents)
{
    struct stackthread_worker *w = opaque;
    int r;

    stackthread_hold(w);
    switch ((enum evtype)type) {
    case EVT_STACK:
        r = stack_on_ready(w->all->st, data);
        if (r < 0) {
            log_errno(r, "worker %u: polling libslirp's sockets failed",
                      w->gi);
            loop_quit(l, r);
        }
        break;
    case EVT_RING:
        if (__atomic_load_n(&w->all->stop, __ATOMIC_ACQUIRE))
            loop_quit(l, 0);
        else
            stack_group_drain(w->all->st, w->gi);
        break;
    default:
        break;
    }
}

static void stackthread_after(void *opaque, struct loop *l, bool poll_failed)
{
    struct stackthread_worker *w = opaque;

    stackthread_hold(w);
    if (!loop_quitting(l))
        stack_group_after(w->all->st, w->gi, poll_failed);
    stackthread_release(w);
}

static const struct loop_ops stackthread_ops = {
    .prepare = stackthread_prepare,
    .dispatch = stackthread_dispatch,
    .after = stackthread_after,
};

/* a worker's top level: its loop, until stackthread_stop() */
static void *stackthread_main(void *arg)
{
    struct stackthread_worker *w = arg;
    uint64_t one = 1;
    int r;

    /* the thread's own start-up calls (set_robust_list, rseq) are done:
     * the seccomp filter may come */
    pthread_mutex_lock(&w->all->up_lock);
    w->all->up++;
    pthread_cond_signal(&w->all->up_cond);
    pthread_mutex_unlock(&w->all->up_lock);
    r = loop_run(&w->loop);

    stackthread_release(w);
    if (r != 0) {
        if (r < 0)
            log_errno(r, "worker %u: its loop failed", w->gi);
        if (write(w->all->failfd, &one, sizeof(one)) < 0)
            err("worker %u: cannot tell the main thread it ended", w->gi);
    }
    return NULL;
}

/**
 * stackthread_start() - one thread per group of shards but the main
 *			 thread's (none when the stack has one group)
 * @st:		the stack, its loop entries of group 0 attached
 * @ret:	the threads, for stackthread_stop()
 *
 * The threads block every signal (the main thread's signalfd takes them).
 *
 * Return: 0 or a negative errno (no thread runs then)
 */
int stackthread_start(struct stack *st, struct stackthread **ret)
{
    struct stackthread *t = calloc(1, sizeof(*t));
    sigset_t all, old;
    unsigned int i;
    int r = 0;

    *ret = NULL;
    if (!t)
        return -ENOMEM;
    t->st = st;
    t->n = stack_groups(st) - 1;
    pthread_mutex_init(&t->up_lock, NULL);
    pthread_cond_init(&t->up_cond, NULL);
    /* without a worker, nothing can fail: no fd for the main loop */
    t->failfd = t->n ? eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC) : -1;
    t->w = calloc(t->n ? t->n : 1, sizeof(*t->w));
    if ((t->n && t->failfd < 0) || !t->w) {
        r = t->n && t->failfd < 0 ? -errno : -ENOMEM;
        stackthread_stop(t);
        return r;
    }
    for (i = 0; i < t->n && r == 0; i++) {
        t->w[i].all = t;
        t->w[i].gi = i + 1;
        loop_init(&t->w[i].loop, &stackthread_ops, &t->w[i], 0);
        r = stack_group_attach(st, i + 1, &t->w[i].loop);
    }
    if (r < 0 || t->n == 0) {
        if (r == 0)
            *ret = t;
        else
            stackthread_stop(t);
        return r;
    }
    /* every signal but those the kernel sends the thread itself
     * (seccomp's SIGSYS, faults): blocked, those would kill the process
     * without a word */
    sigfillset(&all);
    sigdelset(&all, SIGSYS);
    sigdelset(&all, SIGSEGV);
    sigdelset(&all, SIGBUS);
    sigdelset(&all, SIGFPE);
    sigdelset(&all, SIGILL);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    for (i = 0; i < t->n; i++) {
        r = -pthread_create(&t->w[i].tid, NULL, stackthread_main, &t->w[i]);
        if (r < 0)
            break;
        t->w[i].started = true;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    /* wait for those started to be past their start-up */
    pthread_mutex_lock(&t->up_lock);
    while (t->up < i)
        pthread_cond_wait(&t->up_cond, &t->up_lock);
    pthread_mutex_unlock(&t->up_lock);
    if (r < 0) {
        stackthread_stop(t);
        return r;
    }
    *ret = t;
    return 0;
}

/**
 * stackthread_fd() - the eventfd that becomes readable when a worker's loop
 *		      failed (EVT_WORKER_FAILED in the main loop)
 * @t:	the threads
 *
 * Return: the fd, or -1 without worker threads (nothing to watch)
 */
int stackthread_fd(const struct stackthread *t)
{
    return t->failfd;
}

/**
 * stackthread_stop() - end the workers and wait for them
 * @t:	the threads, or NULL
 */
void stackthread_stop(struct stackthread *t)
{
    unsigned int i;

    if (!t)
        return;
    __atomic_store_n(&t->stop, true, __ATOMIC_RELEASE);
    for (i = 0; t->w && i < t->n; i++)
        if (t->w[i].started)
            stack_group_kick(t->st, t->w[i].gi);
    for (i = 0; t->w && i < t->n; i++) {
        if (t->w[i].started)
            pthread_join(t->w[i].tid, NULL);
        loop_free(&t->w[i].loop);
    }
    if (t->failfd >= 0)
        close(t->failfd);
    pthread_mutex_destroy(&t->up_lock);
    pthread_cond_destroy(&t->up_cond);
    free(t->w);
    free(t);
}
