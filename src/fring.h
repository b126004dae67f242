/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fring.h - frames from one thread to another: a single-producer, single-consumer ring of bytes and an eventfd */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fring {
    uint8_t *buf;
    size_t size;            /* bytes, a power of two */
    size_t head;            /* producer's: bytes ever written (atomic) */
    size_t tail;            /* consumer's: bytes ever released (atomic) */
    size_t peeked;          /* consumer's: the length of the record peeked */
    int efd;                /* eventfd: the producer's kick */
    int sleeping;           /* (atomic) the consumer waits for a kick */
};

/* the largest record the ring takes (a quarter of it: one always fits
 * behind a wrap, whatever the other end holds when it drains) */
#define fring_max_len(r) ((r)->size / 4 - 16)

int fring_init(struct fring *r, size_t size);
void fring_fini(struct fring *r);
int fring_push(struct fring *r, uint32_t tag, const void *data, size_t len);
void fring_kick(struct fring *r);
void fring_wake(struct fring *r);
bool fring_sleep(struct fring *r);
void fring_awake(struct fring *r);
void fring_ack(struct fring *r);
const uint8_t *fring_peek(struct fring *r, uint32_t *tag, size_t *len);
void fring_pop(struct fring *r);

/**
 * fring_fd() - the eventfd the consumer polls (readable after a kick)
 * @r:	the ring
 *
 * Return: the fd
 */
static inline int fring_fd(const struct fring *r)
{
    return r->efd;
}
