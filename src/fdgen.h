/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fdgen.h - a generation per fd number, moved on by every close(): a reused number told from the file it held */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* fd numbers with a generation; a larger one has none (fdgen_get(): 0) */
#define FDGEN_MAX (1u << 20)

/* the counters (fdgen.c): read them through fdgen_get() */
extern uint32_t fdgen_table[FDGEN_MAX];
/* every close() of the process, any number (fdgen_all()) */
extern uint32_t fdgen_closes;

/* is @fd within the table: are its closes counted? */
static inline bool fdgen_known(int fd)
{
    return (unsigned int)fd < FDGEN_MAX;
}

/**
 * fdgen_get() - the generation of an fd number
 * @fd:	the number
 *
 * Return: how many times it was closed (modulo 2^32); 0 if it is beyond
 *	   the table
 */
static inline uint32_t fdgen_get(int fd)
{
    if (!fdgen_known(fd))
        return 0;
    return __atomic_load_n(&fdgen_table[fd], __ATOMIC_ACQUIRE);
}

/**
 * fdgen_all() - how many files the process closed
 *
 * Return: every close() so far, any fd number (modulo 2^32)
 */
static inline uint32_t fdgen_all(void)
{
    return __atomic_load_n(&fdgen_closes, __ATOMIC_ACQUIRE);
}
