/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-loop.c - the poll loop as a mechanism: the order of its hooks, entries added and removed while dispatching, sets of fds */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "loop.h"
#include "tapout.h"

/* what the hooks saw, in order: one letter per call */
static struct {
    char trace[256];
    size_t n;
    int pipes[2][2];            /* the entries' pipes */
    int timeout_seen;           /* prepare() lowered the timeout */
    int dispatched[8];          /* types, in order */
    int ndispatched;
    int iterations;
    int quit_at;                /* dispatching this type calls loop_quit() */
    int remove_fd;              /* dispatching type 1 removes this fd */
    int add_fd;                 /* ... and adds this one (type 3) */
    struct pollfd set[3];       /* a set's array, as its client keeps it */
    size_t set_n;
    size_t set_shrink;          /* prepare(): after an iteration, set_n */
    int set_fd;                 /* the fd dispatch() got for the set */
    short set_revents;          /* and the revents */
    short set_seen[3];          /* the array's revents at dispatch */
} t;

static void note(char c)
{
    if (t.n + 1 < sizeof(t.trace))
        t.trace[t.n++] = c;
}

static void prepare(void *opaque, struct loop *l, int *timeout)
{
    note('p');
    if (t.iterations > 0 && t.set_shrink)
        t.set_n = t.set_shrink;
    t.timeout_seen = *timeout;
    *timeout = 1000;
}

static void dispatch(void *opaque, struct loop *l, int type, void *data,
                     int fd, short revents)
{
    note('d');
    if (t.ndispatched < 8)
        t.dispatched[t.ndispatched++] = type;
    if (type == t.quit_at)
        loop_quit(l, 7);
    if (type == 4) {
        t.set_fd = fd;
        t.set_revents = revents;
        for (size_t i = 0; i < 3; i++)
            t.set_seen[i] = t.set[i].revents;
    }
    if (type == 1 && t.remove_fd >= 0) {
        loop_remove(l, t.remove_fd);
        loop_add(l, t.add_fd, POLLIN, 3, NULL);
        t.remove_fd = -1;       /* once */
    }
}

static void after(void *opaque, struct loop *l, bool poll_failed)
{
    note('a');
    if (++t.iterations >= 2)
        loop_quit(l, 0);
}

static const struct loop_ops ops = {
    .prepare = prepare, .dispatch = dispatch, .after = after,
};

int main(void)
{
    struct loop l;
    int i, r, extra[2], empty[2][2];

    tap_plan(18);
    for (i = 0; i < 2; i++)
        if (pipe(t.pipes[i]) < 0 || write(t.pipes[i][1], "x", 1) != 1) {
            printf("Bail out! pipe: %s\n", strerror(errno));
            return 1;
        }
    if (pipe(extra) < 0 || write(extra[1], "x", 1) != 1) {
        printf("Bail out! pipe: %s\n", strerror(errno));
        return 1;
    }

    /* two iterations; entry 1 removes entry 2 and adds a third */
    t.quit_at = -1;
    t.remove_fd = t.pipes[1][0];
    t.add_fd = extra[0];
    loop_init(&l, &ops, NULL, 0);
    loop_add(&l, t.pipes[0][0], POLLIN, 1, NULL);
    loop_add(&l, t.pipes[1][0], POLLIN, 2, NULL);
    r = loop_run(&l);
    TAP_IS_INT(r, 0, "loop_run: the status of loop_quit()");
    TAP_IS_STR(t.trace, "pdapdda", "prepare, dispatch, after, each iteration");
    TAP_IS_INT(t.dispatched[0], 1, "the first entry first");
    TAP_IS_INT(t.dispatched[1], 1, "a removed entry is not dispatched, "
               "an added one not in the iteration that added it");
    TAP_IS_INT(t.dispatched[2], 3, "the added entry, the next time");
    TAP_IS_INT(t.timeout_seen, -1, "prepare() starts from no timeout");
    TAP_IS_INT((int)l.n_ent, 2, "the removed slot was compacted");
    loop_free(&l);

    /* loop_quit() while dispatching: the rest waits, after() still runs */
    memset(t.trace, 0, sizeof(t.trace));
    t.n = 0;
    t.ndispatched = 0;
    t.iterations = 0;
    t.quit_at = 1;
    t.remove_fd = -1;
    loop_init(&l, &ops, NULL, 0);
    loop_add(&l, t.pipes[0][0], POLLIN, 1, NULL);
    loop_add(&l, t.pipes[1][0], POLLIN, 2, NULL);
    r = loop_run(&l);
    TAP_IS_INT(r, 7, "loop_quit(7) while dispatching");
    TAP_IS_STR(t.trace, "pda", "no entry after the one that quit; after() "
               "runs");
    TAP_OK(loop_quitting(&l), "loop_quitting()");

    /* loop_set_events(): an entry polled for nothing has no events */
    memset(t.trace, 0, sizeof(t.trace));
    t.n = 0;
    t.ndispatched = 0;
    t.iterations = 0;
    t.quit_at = -1;
    loop_free(&l);
    loop_init(&l, &ops, NULL, 0);
    loop_add(&l, t.pipes[0][0], POLLIN, 1, NULL);
    loop_set_events(&l, t.pipes[0][0], 0);
    loop_run(&l);
    TAP_IS_INT(t.ndispatched, 0, "loop_set_events(0): not dispatched");
    loop_free(&l);

    /* a set (two empty pipes around one with data), then a plain entry;
     * after the first iteration its client shrinks it to the first fd */
    for (i = 0; i < 2; i++)
        if (pipe(empty[i]) < 0) {
            printf("Bail out! pipe: %s\n", strerror(errno));
            return 1;
        }
    memset(t.trace, 0, sizeof(t.trace));
    t.n = 0;
    t.ndispatched = 0;
    t.iterations = 0;
    t.set[0] = (struct pollfd){ .fd = empty[0][0], .events = POLLIN };
    t.set[1] = (struct pollfd){ .fd = t.pipes[0][0], .events = POLLIN };
    t.set[2] = (struct pollfd){ .fd = empty[1][0], .events = POLLIN };
    t.set_n = 3;
    t.set_shrink = 1;
    loop_init(&l, &ops, NULL, 0);
    struct pollfd *setp = t.set;
    loop_add_set(&l, &setp, &t.set_n, 4, NULL);
    loop_add(&l, t.pipes[1][0], POLLIN, 2, NULL);
    loop_run(&l);
    TAP_IS_STR(t.trace, "pddapda", "a set is dispatched once, in its place");
    TAP_OK(t.dispatched[0] == 4 && t.dispatched[1] == 2 &&
           t.dispatched[2] == 2, "the set, then the plain entry, twice");
    TAP_IS_INT(t.set_fd, LOOP_SET, "a set's fd is LOOP_SET");
    TAP_IS_INT(t.set_revents, POLLIN, "with the union of its revents");
    TAP_OK(t.set_seen[0] == 0 && t.set_seen[1] == POLLIN &&
           t.set_seen[2] == 0, "each fd's revents, written back in place");
    TAP_IS_INT(t.set[0].revents, 0,
               "shrunk to an fd without events: cleared, not dispatched");
    TAP_IS_INT((int)l.n_pfd, 2, "the second poll had two fds");
    loop_free(&l);
    return tap_done();
}
