/* SPDX-License-Identifier: GPL-2.0-or-later */
/* loop.c - the one poll loop: fds with a type, hooks around poll(), busy-polling */
/*
 * DOC: Theory of Operation
 *
 * One thread, one poll() per iteration. The loop is a mechanism: what its
 * entries are and what they call is its client's business (struct
 * loop_ops; dispatch.c for the daemon). Each iteration:
 *
 *   1. ops->prepare() lowers the timeout (libslirp's timers, the API's
 *      deadlines);
 *   2. the entries (loop_add(): an fd, its events, a type and a pointer
 *      the loop does not look at) are copied into the poll array; a set
 *      (loop_add_set(): an array of pollfds its client keeps, and may
 *      change between iterations) is copied in a row;
 *   3. poll(), after polling without sleeping for busypoll.c's adaptive
 *      window (--busy-poll; ops->bytes() tells it about bulk transfer);
 *   4. each entry with events goes to ops->dispatch(), in the order of
 *      registration, until loop_quit(); a set's revents are first copied
 *      back into its array, and it is dispatched once if any has events;
 *   5. ops->after() (libslirp's service, deadlines, the tap's flush);
 *   6. slots removed during dispatch are compacted.
 *
 * Handlers may add and remove entries while dispatching: removal only marks
 * the slot (fd -1); additions are appended and first polled next time.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "busypoll.h"
#include "loop.h"

/**
 * loop_init() - an empty loop
 * @l:		the loop
 * @ops:	what it calls (must outlive it)
 * @opaque:	their first argument
 * @busy_us:	the longest busy-poll window (--busy-poll; 0: none)
 */
void loop_init(struct loop *l, const struct loop_ops *ops, void *opaque,
               unsigned int busy_us)
{
    memset(l, 0, sizeof(*l));
    l->ops = ops;
    l->opaque = opaque;
    busypoll_init(&l->busy, busy_us);
}

/**
 * loop_free() - free the loop's arrays (the fds are the clients')
 * @l:	the loop
 */
void loop_free(struct loop *l)
{
    free(l->ent);
    free(l->pfd);
    memset(l, 0, sizeof(*l));
}

static int loop_grow(void **p, size_t *cap, size_t need, size_t size)
{
    size_t n = *cap ? *cap : 16;
    void *q;

    if (need <= *cap)
        return 0;
    while (n < need)
        n *= 2;
    q = realloc(*p, n * size);
    if (!q)
        return -ENOMEM;
    *p = q;
    *cap = n;
    return 0;
}

/**
 * loop_add() - register a persistent fd
 * @l:		the loop
 * @fd:		the fd (not owned)
 * @events:	poll events
 * @type:	what it is, for ops->dispatch()
 * @data:	for ops->dispatch()
 *
 * Return: 0 or -ENOMEM
 */
int loop_add(struct loop *l, int fd, short events, int type, void *data)
{
    int r = loop_grow((void **)&l->ent, &l->cap_ent, l->n_ent + 1,
                      sizeof(*l->ent));

    if (r < 0)
        return r;
    l->ent[l->n_ent++] = (struct loop_entry){
        .fd = fd, .events = events, .type = type, .data = data,
    };
    return 0;
}

/**
 * loop_add_set() - register a set of fds polled in every iteration, which
 *		    its client may change between iterations
 * @l:		the loop
 * @pfd:	where the client keeps the array (fd, events)
 * @n:		where it keeps the array's length
 * @type:	for ops->dispatch() (with fd LOOP_SET)
 * @data:	for ops->dispatch()
 *
 * After poll(), each pollfd's revents is written back to the array.
 *
 * Return: 0 or -ENOMEM
 */
int loop_add_set(struct loop *l, struct pollfd *const *pfd, const size_t *n,
                 int type, void *data)
{
    int r = loop_add(l, LOOP_SET, 0, type, data);

    if (r < 0)
        return r;
    l->ent[l->n_ent - 1].set_pfd = pfd;
    l->ent[l->n_ent - 1].set_n = n;
    return 0;
}

/**
 * loop_set_events() - change the events polled for a persistent fd
 * @l:		the loop
 * @fd:		a registered fd
 * @events:	new poll events
 *
 * Return: 0 or -ENOENT
 */
int loop_set_events(struct loop *l, int fd, short events)
{
    size_t i;

    for (i = 0; i < l->n_ent; i++) {
        if (l->ent[i].fd == fd) {
            l->ent[i].events = events;
            return 0;
        }
    }
    return -ENOENT;
}

/**
 * loop_remove() - unregister a persistent fd (safe while dispatching)
 * @l:	the loop
 * @fd:	a registered fd
 */
void loop_remove(struct loop *l, int fd)
{
    size_t i;

    if (fd < 0)
        return;
    for (i = 0; i < l->n_ent; i++) {
        if (l->ent[i].fd == fd) {
            l->ent[i].fd = -1;
            return;
        }
    }
}

/**
 * loop_quit() - leave loop_run() after this iteration
 * @l:		the loop
 * @status:	exit status for the process
 */
void loop_quit(struct loop *l, int status)
{
    if (!l->quit)
        l->exit_status = status;
    l->quit = true;
}

/**
 * loop_quitting() - was loop_quit() called?
 * @l:	the loop
 *
 * Return: true if loop_run() returns after this iteration
 */
bool loop_quitting(const struct loop *l)
{
    return l->quit;
}

static void loop_compact(struct loop *l)
{
    size_t i, j = 0;

    for (i = 0; i < l->n_ent; i++) {
        if (l->ent[i].fd != -1)
            l->ent[j++] = l->ent[i];
    }
    l->n_ent = j;
}

/* this iteration's poll array: the first @n_persist entries, sets in a row */
static int loop_build(struct loop *l, size_t n_persist)
{
    size_t i, k, n = 0;

    for (i = 0; i < n_persist; i++)
        n += l->ent[i].fd == LOOP_SET ? *l->ent[i].set_n : 1;
    if (loop_grow((void **)&l->pfd, &l->cap_pfd, n, sizeof(*l->pfd)) < 0)
        return -ENOMEM;
    n = 0;
    for (i = 0; i < n_persist; i++) {
        struct loop_entry *e = &l->ent[i];

        e->first = n;
        if (e->fd != LOOP_SET) {
            e->count = 1;
            l->pfd[n++] = (struct pollfd){ .fd = e->fd, .events = e->events };
            continue;
        }
        e->count = *e->set_n;
        for (k = 0; k < e->count; k++)
            l->pfd[n++] = (struct pollfd){ .fd = (*e->set_pfd)[k].fd,
                                           .events = (*e->set_pfd)[k].events };
    }
    l->n_pfd = n;
    return 0;
}

/*
 * loop_wait() - poll(), after polling without sleeping for the adaptive
 * window of busypoll.c: an event that comes within it is taken without a
 * wake-up from sleep
 */
static int loop_wait(struct loop *l, int timeout)
{
    unsigned int win;
    int64_t start, now;
    uint64_t bytes;
    int n;

    if (!l->busy.max_us)
        return poll(l->pfd, l->n_pfd, timeout);
    if (timeout == 0)
        return poll(l->pfd, l->n_pfd, 0);
    bytes = l->ops->bytes ? l->ops->bytes(l->opaque) : 0;
    win = busypoll_window(&l->busy, timeout, bytes - l->bytes_seen);
    l->bytes_seen = bytes;
    start = now = busypoll_now_us();
    while (now - start < (int64_t)win) {
        n = poll(l->pfd, l->n_pfd, 0);
        now = busypoll_now_us();
        if (n != 0) {
            busypoll_hit(&l->busy, now - start);
            return n;
        }
        sched_yield();
    }
    n = poll(l->pfd, l->n_pfd, timeout);
    busypoll_slept(&l->busy, now - start, busypoll_now_us() - start);
    return n;
}

/**
 * loop_run() - poll and dispatch until loop_quit()
 * @l:	the loop
 *
 * Return: the status given to loop_quit(), or a negative errno if poll()
 *	   itself failed
 */
int loop_run(struct loop *l)
{
    const struct loop_ops *ops = l->ops;

    while (!l->quit) {
        size_t i, k, n_persist = l->n_ent;
        int timeout = -1, n;

        if (ops->prepare)
            ops->prepare(l->opaque, l, &timeout);
        if (loop_build(l, n_persist) < 0)
            return -ENOMEM;

        n = loop_wait(l, timeout);
        if (n < 0 && errno != EINTR)
            return -errno;

        for (i = 0; i < n_persist && !l->quit; i++) {
            struct loop_entry *e = &l->ent[i];
            short rev = 0;

            if (e->fd != LOOP_SET) {
                if (n > 0 && l->pfd[e->first].revents &&
                    e->fd == l->pfd[e->first].fd)
                    ops->dispatch(l->opaque, l, e->type, e->data, e->fd,
                                  l->pfd[e->first].revents);
                continue;
            }
            /* every time: the set's array must not keep old results
             * (it changes only between iterations) */
            for (k = 0; k < e->count && k < *e->set_n; k++) {
                short r = n > 0 ? l->pfd[e->first + k].revents : 0;

                (*e->set_pfd)[k].revents = r;
                rev |= r;
            }
            if (rev)
                ops->dispatch(l->opaque, l, e->type, e->data, LOOP_SET, rev);
        }
        if (ops->after)
            ops->after(l->opaque, l, n < 0);
        loop_compact(l);
    }
    return l->exit_status;
}
