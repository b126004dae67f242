/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fring.c - frames from one thread to another: a single-producer, single-consumer ring of bytes and an eventfd */
/*
 * DOC: Theory of Operation
 *
 * The reader of the tap (the main thread) hands the frames of the shards a
 * worker thread runs (stack.c, --threads) to that thread through one of
 * these. A record is a header of two 32-bit words (length, tag) and the
 * bytes, padded to 8; a record never wraps: where one would not fit before
 * the end, a header with the length FRING_WRAP says "go on at the start".
 * @head and @tail count bytes ever written and released: the producer
 * alone moves @head (a release store after the bytes), the consumer alone
 * moves @tail (after it is done with the bytes), each reads the other's
 * with an acquire load. No lock, no system call per frame.
 *
 * The kick is an eventfd the consumer polls, written only when the
 * consumer is about to sleep: it says so (fring_sleep(): a flag, then a
 * look at @head) before it waits, the producer looks at the flag after
 * each push (fring_wake(): @head, then a look at the flag; both sides with
 * sequentially consistent order, so at least one of them sees the other)
 * and kicks once. A busy consumer costs the producer no system call, a
 * sleeping one is woken by the first record. The consumer reads the
 * eventfd (fring_ack()) before it drains.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fring.h"

#define FRING_HDR 8
#define FRING_WRAP UINT32_MAX

static size_t fring_rec_len(size_t len)
{
    return FRING_HDR + ((len + 7) & ~(size_t)7);
}

/**
 * fring_init() - a ring and its eventfd
 * @r:		the ring
 * @size:	its bytes, a power of two (untouched pages stay unresident)
 *
 * Return: 0, -EINVAL for a size that is not a power of two, or the
 *	   negative errno of mmap() or eventfd()
 */
int fring_init(struct fring *r, size_t size)
{
    memset(r, 0, sizeof(*r));
    r->efd = -1;
    if (size < 4096 || (size & (size - 1)))
        return -EINVAL;
    r->buf = mmap(NULL, size, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (r->buf == MAP_FAILED) {
        r->buf = NULL;
        return -errno;
    }
    r->size = size;
    r->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (r->efd < 0) {
        int e = -errno;

        fring_fini(r);
        return e;
    }
    return 0;
}

/**
 * fring_fini() - free a ring (no thread may use it any more)
 * @r:	the ring, initialised or zeroed
 */
void fring_fini(struct fring *r)
{
    if (r->buf)
        munmap(r->buf, r->size);
    if (r->efd >= 0)
        close(r->efd);
    r->buf = NULL;
    r->efd = -1;
}

/**
 * fring_push() - the producer adds a record
 * @r:		the ring
 * @tag:	the caller's word, given back with the record
 * @data:	the bytes
 * @len:	their length, at most fring_max_len()
 *
 * Return: 0, -EMSGSIZE if @len is too large, -ENOBUFS if the ring is full
 *	   now (the consumer frees space as it drains)
 */
int fring_push(struct fring *r, uint32_t tag, const void *data, size_t len)
{
    size_t head = r->head, tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
    size_t off = head & (r->size - 1), need = fring_rec_len(len), skip = 0;
    uint32_t h[2];

    if (len > fring_max_len(r))
        return -EMSGSIZE;
    if (r->size - off < need)
        skip = r->size - off;       /* a wrap header, then the start */
    if (r->size - (head - tail) < skip + need)
        return -ENOBUFS;
    if (skip) {
        h[0] = FRING_WRAP;
        h[1] = 0;
        memcpy(r->buf + off, h, sizeof(h));
        off = 0;
    }
    h[0] = (uint32_t)len;
    h[1] = tag;
    memcpy(r->buf + off, h, sizeof(h));
    memcpy(r->buf + off + FRING_HDR, data, len);
    __atomic_store_n(&r->head, head + skip + need, __ATOMIC_SEQ_CST);
    return 0;
}

/**
 * fring_kick() - the producer wakes the consumer (after a batch of pushes)
 * @r:	the ring
 */
void fring_kick(struct fring *r)
{
    uint64_t one = 1;

    /* EAGAIN: the counter is at its maximum, the consumer wakes anyway */
    if (write(r->efd, &one, sizeof(one)) < 0)
        return;
}

/**
 * fring_wake() - the producer, after a push: kick the consumer if it sleeps
 * @r:	the ring
 */
void fring_wake(struct fring *r)
{
    if (__atomic_load_n(&r->sleeping, __ATOMIC_SEQ_CST) &&
        __atomic_exchange_n(&r->sleeping, 0, __ATOMIC_SEQ_CST))
        fring_kick(r);
}

/**
 * fring_sleep() - the consumer is about to wait on fring_fd()
 * @r:	the ring
 *
 * Return: false if records wait (do not sleep: drain them)
 */
bool fring_sleep(struct fring *r)
{
    __atomic_store_n(&r->sleeping, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&r->head, __ATOMIC_SEQ_CST) != r->tail) {
        __atomic_store_n(&r->sleeping, 0, __ATOMIC_RELAXED);
        return false;
    }
    return true;
}

/**
 * fring_awake() - the consumer woke (for any reason): no kick is needed
 * @r:	the ring
 */
void fring_awake(struct fring *r)
{
    __atomic_store_n(&r->sleeping, 0, __ATOMIC_RELAXED);
}

/**
 * fring_ack() - the consumer takes the kicks, before it drains
 * @r:	the ring
 */
void fring_ack(struct fring *r)
{
    uint64_t n;

    if (read(r->efd, &n, sizeof(n)) < 0)
        return;     /* EAGAIN: no kick came, the records are drained anyway */
}

/**
 * fring_peek() - the consumer's next record, left in place until fring_pop()
 * @r:		the ring
 * @tag:	its tag
 * @len:	its length
 *
 * Return: its bytes, or NULL when the ring is empty
 */
const uint8_t *fring_peek(struct fring *r, uint32_t *tag, size_t *len)
{
    size_t tail = r->tail, head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
    size_t off;
    uint32_t h[2];

    for (;;) {
        if (tail == head)
            return NULL;
        off = tail & (r->size - 1);
        memcpy(h, r->buf + off, sizeof(h));
        if (h[0] != FRING_WRAP)
            break;
        tail += r->size - off;
        __atomic_store_n(&r->tail, tail, __ATOMIC_RELEASE);
    }
    *tag = h[1];
    *len = h[0];
    r->peeked = fring_rec_len(h[0]);
    return r->buf + off + FRING_HDR;
}

/**
 * fring_pop() - the consumer is done with the record fring_peek() gave
 * @r:	the ring
 */
void fring_pop(struct fring *r)
{
    __atomic_store_n(&r->tail, r->tail + r->peeked, __ATOMIC_RELEASE);
    r->peeked = 0;
}
