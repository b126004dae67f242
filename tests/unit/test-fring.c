/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-fring.c - the ring that hands frames to a worker thread: order, tags, wrap, full, oversize, kicks, two threads */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fring.h"
#include "tapout.h"

#define STRESS_RECORDS 200000

/* record i: length and contents both derived from i */
static size_t rec_len(unsigned int i)
{
    return 1 + (i * 7919u) % 1500;
}

static void rec_fill(uint8_t *buf, unsigned int i)
{
    size_t n = rec_len(i), k;

    for (k = 0; k < n; k++)
        buf[k] = (uint8_t)(i + k);
}

static bool rec_check(const uint8_t *buf, size_t len, uint32_t tag,
                      unsigned int i)
{
    size_t k;

    if (tag != i || len != rec_len(i))
        return false;
    for (k = 0; k < len; k++)
        if (buf[k] != (uint8_t)(i + k))
            return false;
    return true;
}

static int readable(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };

    return poll(&p, 1, 0);
}

struct stress {
    struct fring *r;
    unsigned int bad, got, fulls, stalls;
};

/* the consumer, as a worker: says it sleeps, waits on the eventfd (10 s:
 * a lost wake-up stalls the test past its bound), drains, checks */
static void *consumer(void *arg)
{
    struct stress *s = arg;
    time_t end = time(NULL) + 30;
    const uint8_t *p;
    uint32_t tag;
    size_t len;

    while (s->got < STRESS_RECORDS && time(NULL) < end) {
        struct pollfd pf = { .fd = fring_fd(s->r), .events = POLLIN };

        if (fring_sleep(s->r) && poll(&pf, 1, 10000) == 0)
            s->stalls++;
        fring_awake(s->r);
        fring_ack(s->r);
        while ((p = fring_peek(s->r, &tag, &len))) {
            if (!rec_check(p, len, tag, s->got))
                s->bad++;
            s->got++;
            fring_pop(s->r);
        }
    }
    return NULL;
}

int main(void)
{
    static uint8_t buf[70000];
    struct fring r;
    struct stress s = { .r = &r };
    const uint8_t *p;
    pthread_t th;
    uint32_t tag;
    size_t len, total;
    unsigned int i, n;
    time_t end;
    bool ok;

    tap_plan(20);
    TAP_IS_INT(fring_init(&r, 5000), -EINVAL, "a size not a power of two: -EINVAL");
    if (fring_init(&r, 1u << 16) < 0) {
        printf("Bail out! fring_init\n");
        return 1;
    }

    /* empty, then records in order with their tags */
    TAP_OK(!fring_peek(&r, &tag, &len), "a new ring is empty");
    TAP_IS_INT(readable(fring_fd(&r)), 0, "no kick: the eventfd is not readable");
    for (i = 0; i < 3; i++) {
        rec_fill(buf, i);
        fring_push(&r, i, buf, rec_len(i));
    }
    fring_kick(&r);
    TAP_IS_INT(readable(fring_fd(&r)), 1, "a kick makes the eventfd readable");
    fring_ack(&r);
    TAP_IS_INT(readable(fring_fd(&r)), 0, "the ack takes the kick");
    ok = true;
    for (i = 0; i < 3; i++) {
        p = fring_peek(&r, &tag, &len);
        ok = ok && p && rec_check(p, len, tag, i);
        fring_pop(&r);
    }
    TAP_OK(ok && !fring_peek(&r, &tag, &len), "three records, in order, tags and bytes kept");

    /* the record must stay until popped */
    rec_fill(buf, 5);
    fring_push(&r, 5, buf, rec_len(5));
    p = fring_peek(&r, &tag, &len);
    p = fring_peek(&r, &tag, &len);
    TAP_OK(p && rec_check(p, len, tag, 5), "a peek twice gives the same record");
    fring_pop(&r);

    /* oversize */
    TAP_IS_INT(fring_push(&r, 0, buf, fring_max_len(&r) + 1), -EMSGSIZE,
               "above fring_max_len(): -EMSGSIZE");

    /* full: pushes of 1000 bytes until refused, then drained whole */
    memset(buf, 0xab, 1000);
    for (n = 0; n < 1000 && fring_push(&r, n, buf, 1000) == 0; n++)
        ;
    total = (size_t)n * (8 + 1000);
    TAP_OK(n > 0 && total <= (1u << 16) && total + 2 * 1008 > (1u << 16) - 1008,
           "the ring takes what fits (%u records of 1000 bytes in 64 KiB)", n);
    TAP_IS_INT(fring_push(&r, 0, buf, 1000), -ENOBUFS, "a full ring: -ENOBUFS");
    for (i = 0; (p = fring_peek(&r, &tag, &len)); i++) {
        if (tag != i || len != 1000 || p[999] != 0xab)
            break;
        fring_pop(&r);
    }
    TAP_IS_INT(i, n, "every record of the full ring comes back");
    TAP_OK(fring_push(&r, 0, buf, 1000) == 0, "drained: room again");
    fring_pop(&r);      /* (nothing peeked: a no-op) */
    p = fring_peek(&r, &tag, &len);
    fring_pop(&r);

    /* wrap: records that do not fit before the end go to the start */
    ok = true;
    for (i = 0; i < 500 && ok; i++) {
        rec_fill(buf, i);
        ok = fring_push(&r, i, buf, rec_len(i)) == 0;
        p = fring_peek(&r, &tag, &len);
        ok = ok && p && rec_check(p, len, tag, i) &&
             p + len <= r.buf + r.size;
        fring_pop(&r);
    }
    TAP_OK(ok, "500 records of varied sizes across many wraps, each contiguous");
    TAP_OK(r.head == r.tail && r.head > r.size, "head and tail meet after %zu bytes", r.head);

    /* a large frame (a TSO super-frame) in a ring that holds it */
    fring_fini(&r);
    fring_init(&r, 1u << 20);
    memset(buf, 0x5a, sizeof(buf));
    fring_push(&r, 9, buf, 65550);
    p = fring_peek(&r, &tag, &len);
    TAP_OK(p && len == 65550 && tag == 9 && p[65549] == 0x5a, "a 64 KiB frame whole");
    fring_pop(&r);

    /* the wake-up protocol, in one thread */
    fring_fini(&r);
    fring_init(&r, 1u << 16);
    fring_push(&r, 1, buf, 10);
    TAP_OK(!fring_sleep(&r), "fring_sleep() with a record waiting: false (drain first)");
    p = fring_peek(&r, &tag, &len);
    fring_pop(&r);
    fring_awake(&r);
    fring_push(&r, 2, buf, 10);
    fring_wake(&r);
    TAP_IS_INT(readable(fring_fd(&r)), 0, "a push to an awake consumer: no kick");
    p = fring_peek(&r, &tag, &len);
    fring_pop(&r);
    TAP_OK(fring_sleep(&r), "fring_sleep() on an empty ring: true");
    fring_push(&r, 3, buf, 10);
    fring_wake(&r);
    fring_push(&r, 4, buf, 10);
    fring_wake(&r);
    TAP_IS_INT(readable(fring_fd(&r)), 1, "a push to a sleeping consumer kicks it");
    fring_ack(&r);
    while (fring_peek(&r, &tag, &len))
        fring_pop(&r);

    /* two threads, kicks only through fring_wake(): every record arrives
     * once, in order, intact, and no wake-up is lost */
    pthread_create(&th, NULL, consumer, &s);
    end = time(NULL) + 30;
    for (i = 0; i < STRESS_RECORDS && time(NULL) < end;) {
        rec_fill(buf, i);
        if (fring_push(&r, i, buf, rec_len(i)) == 0) {
            i++;
            fring_wake(&r);
        } else {
            s.fulls++;
            fring_kick(&r);
            sched_yield();
        }
    }
    pthread_join(th, NULL);
    TAP_OK(s.got == STRESS_RECORDS && s.bad == 0 && s.stalls == 0,
           "two threads: %u of %u records, %u bad, %u lost wake-ups (the "
           "ring was full %u times)", s.got, STRESS_RECORDS, s.bad, s.stalls,
           s.fulls);
    fring_fini(&r);
    return tap_done();
}
