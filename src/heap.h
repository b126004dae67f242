/* SPDX-License-Identifier: GPL-2.0-or-later */
/* heap.h - large allocations straight from mmap(), never from glibc's heap (the daemon's malloc, free, calloc, realloc) */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* requests this large or larger get a mapping of their own */
#define HEAP_MMAP_MIN ((size_t)64 * 1024)
/* freed mappings kept for reuse, at most */
#define HEAP_CACHE_MAX 32
/* the first header word of such a block */
#define HEAP_MAGIC ((size_t)0x736c69727064ull)   /* "slirpd" */

/* 64-bit glibc only (bit 3 of a chunk's size is free there), and never
 * under a sanitizer (it replaces malloc itself) */
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer) || \
    __has_feature(thread_sanitizer)
#define HEAP_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) || \
    defined(SLIRPD_SANITIZED)
#define HEAP_SANITIZED 1
#endif
#if UINTPTR_MAX == 0xffffffffffffffffull && defined(__GLIBC__) && \
    !defined(HEAP_SANITIZED)
#define HEAP_REPLACES_MALLOC 1
#else
#define HEAP_REPLACES_MALLOC 0
#endif

bool heap_is_mapped(const void *p);
int heap_cached(void);
