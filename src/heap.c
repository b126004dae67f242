/* SPDX-License-Identifier: GPL-2.0-or-later */
/* heap.c - large allocations straight from mmap(), never from glibc's heap (the daemon's malloc, free, calloc, realloc) */
/*
 * DOC: Theory of Operation
 *
 * libslirp gives every TCP socket two 128 KiB buffers and then grows them
 * with realloc() to a multiple of its MSS. glibc's mallopt(M_MMAP_THRESHOLD)
 * (daemon.c) makes such sizes mmap()ed -- but only when no free heap chunk
 * can serve them: glibc looks at its bins and the top of the heap first.
 * Connection churn leaves free heap chunks of that size behind (the small
 * allocations of many sockets coalesce), the next socket's first buffer is
 * carved from one, and its growth then cannot happen in place (the second
 * buffer sits right behind it): realloc() copies it whole into a new
 * mapping, which is thereby resident. Measured: 400 idle connections cost
 * +3.4 MB on a fresh daemon and +27 MB after 2000 short ones
 * (docs/design.md, "Memory").
 *
 * So the daemon executable defines malloc(), free(), calloc(), realloc(),
 * reallocarray() and malloc_usable_size() itself (glibc supports replacing
 * them; its own internal calls and every library's go through these): a
 * request of HEAP_MMAP_MIN bytes or more is an anonymous mapping of its
 * own, everything smaller is glibc's (__libc_malloc() and friends). A
 * mapping is never touched beyond its header until used, free() unmaps it,
 * and realloc() keeps it when the page count does not change or mremap()s
 * it (page tables move, no byte is copied).
 *
 * Telling the two apart in free(): a block of ours starts 16 bytes into a
 * page, behind a header of two words, HEAP_MAGIC and the mapping's length
 * with bit 3 set. A glibc chunk has its size there, a multiple of 16 with
 * flags in bits 0-2 (64-bit glibc: MALLOC_ALIGNMENT is 16), so bit 3 is
 * never set in it; the page offset and the magic are checked too. Only
 * 64-bit builds replace malloc (elsewhere this file is empty), and not
 * under a sanitizer, which brings its own. memalign() and its relatives
 * stay glibc's: their chunks are told apart the same way.
 *
 * Reuse. A mapping per buffer costs an mmap() and an munmap() (with its TLB
 * shoot-down) per buffer, two of each per libslirp socket: short
 * connections through libslirp ran 10-25 % slower than when glibc served
 * them from its heap. So free() keeps up to HEAP_CACHE_MAX freed mappings
 * that are still clean -- at most HEAP_CACHE_DIRTY pages resident
 * (mincore()), as a short connection's buffers are -- and malloc() hands
 * one of the same length out again, without a system call. A buffer that
 * carried bulk data is unmapped, so a reused one never brings more than a
 * few resident pages to an idle connection. calloc() always maps fresh
 * (zero) pages. The cache is the only state, behind a spin lock (held
 * for a few loads and stores: one atomic when the daemon has one thread,
 * and short waits between the worker threads of --threads).
 *
 * When the kernel refuses a mapping (RLIMIT_AS, vm.max_map_count, memory
 * pressure), the block comes from glibc instead, as it would without this
 * file: glibc can still serve it from free heap space, and free() tells its
 * chunks apart as always. A realloc() whose mremap() is refused moves the
 * block into glibc's heap the same way. glibc's malloc_usable_size() is
 * reached through dlsym(): if that lookup fails, the process stops with a
 * message, since no size of a glibc chunk could be trusted any more.
 */
#include <errno.h>
#include <malloc.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "heap.h"

#if HEAP_REPLACES_MALLOC

#include <dlfcn.h>

#define HEAP_HDR 16                     /* two words before the pointer */
#define HEAP_LEN_TAG ((size_t)8)        /* bit 3: never set in glibc's */
#define HEAP_PAGE ((size_t)4096)        /* block alignment (mmap gives at least this) */
#define HEAP_CACHE_DIRTY 4              /* resident pages a cached one may have */
#define HEAP_CACHE_SCAN 64              /* pages mincore() looks at, at most */

/* freed mappings kept for reuse */
static struct {
    void *base;
    size_t len;
} heap_cache[HEAP_CACHE_MAX];
static int heap_ncache;
static bool heap_lock_word;          /* a byte for __atomic_test_and_set */

static void heap_lock(void)
{
    while (__atomic_test_and_set(&heap_lock_word, __ATOMIC_ACQUIRE))
        ;
}

static void heap_unlock(void)
{
    __atomic_clear(&heap_lock_word, __ATOMIC_RELEASE);
}

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void __libc_free(void *p);

/* the header words of the block @p would have */
static size_t *heap_hdr(void *p)
{
    return (size_t *)((char *)p - HEAP_HDR);
}

/**
 * heap_is_mapped() - was @p made by this file's malloc?
 * @p:	a pointer from any malloc of this process, or NULL
 *
 * Return: true for a block of ours (a mapping of its own)
 */
bool heap_is_mapped(const void *p)
{
    const size_t *h;

    if (!p || ((uintptr_t)p & (HEAP_PAGE - 1)) != HEAP_HDR)
        return false;
    h = heap_hdr((void *)p);
    return h[0] == HEAP_MAGIC && (h[1] & (HEAP_PAGE - 1)) == HEAP_LEN_TAG;
}

/* the mapping's length, from a block of ours */
static size_t heap_maplen(void *p)
{
    return heap_hdr(p)[1] & ~(HEAP_PAGE - 1);
}

/* a mapping for @size bytes, or 0 on overflow */
static size_t heap_len_for(size_t size)
{
    if (size > SIZE_MAX - HEAP_HDR - HEAP_PAGE)
        return 0;
    return (size + HEAP_HDR + HEAP_PAGE - 1) & ~(HEAP_PAGE - 1);
}

/* a cached mapping of exactly @len bytes, or NULL */
static void *heap_cache_take(size_t len)
{
    void *base = NULL;
    int i;

    heap_lock();
    for (i = heap_ncache - 1; i >= 0; i--) {
        if (heap_cache[i].len == len) {
            base = heap_cache[i].base;
            heap_cache[i] = heap_cache[--heap_ncache];
            break;
        }
    }
    heap_unlock();
    return base;
}

/* keep a freed mapping if there is room and it is clean; true if kept */
static bool heap_cache_put(void *base, size_t len)
{
    unsigned char vec[HEAP_CACHE_SCAN];
    size_t pg = (size_t)getpagesize(), pages = (len + pg - 1) / pg, i;
    int dirty = 0;
    bool kept = false;

    if (pages > HEAP_CACHE_SCAN || heap_ncache >= HEAP_CACHE_MAX ||
        mincore(base, len, vec) < 0)
        return false;
    for (i = 0; i < pages; i++)
        dirty += vec[i] & 1;
    if (dirty > HEAP_CACHE_DIRTY)
        return false;
    heap_lock();
    if (heap_ncache < HEAP_CACHE_MAX) {
        heap_cache[heap_ncache].base = base;
        heap_cache[heap_ncache].len = len;
        heap_ncache++;
        kept = true;
    }
    heap_unlock();
    return kept;
}

/**
 * heap_cached() - freed mappings kept for reuse now
 *
 * Return: how many (at most HEAP_CACHE_MAX)
 */
int heap_cached(void)
{
    return __atomic_load_n(&heap_ncache, __ATOMIC_RELAXED);
}

/* a block for @size bytes; @fresh: zero pages (no reuse) */
static void *heap_map(size_t size, bool fresh)
{
    size_t len = heap_len_for(size);
    size_t *h = NULL;

    if (!len) {
        errno = ENOMEM;
        return NULL;
    }
    if (!fresh)
        h = heap_cache_take(len);
    if (!h)
        h = mmap(NULL, len, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (h == MAP_FAILED) {
        errno = ENOMEM;
        return NULL;
    }
    h[0] = HEAP_MAGIC;
    h[1] = len | HEAP_LEN_TAG;
    return (char *)h + HEAP_HDR;
}

void *malloc(size_t size)
{
    void *p;

    if (size >= HEAP_MMAP_MIN) {
        p = heap_map(size, false);
        if (p || !heap_len_for(size))
            return p;
    }
    return __libc_malloc(size);     /* small, or no mapping to be had */
}

void *calloc(size_t n, size_t size)
{
    size_t total;

    if (__builtin_mul_overflow(n, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    if (total >= HEAP_MMAP_MIN) {
        void *p = heap_map(total, true);    /* fresh pages are zero */

        if (p || !heap_len_for(total))
            return p;
    }
    return __libc_calloc(n, size);
}

void free(void *p)
{
    if (heap_is_mapped(p)) {
        int e = errno;

        if (!heap_cache_put(heap_hdr(p), heap_maplen(p)))
            munmap(heap_hdr(p), heap_maplen(p));
        errno = e;
        return;
    }
    __libc_free(p);
}

/* stop with a message; for what cannot go on (no stdio: we are malloc) */
static void heap_die(const char *msg)
{
    ssize_t w = write(STDERR_FILENO, msg, strlen(msg));

    (void)w;
    abort();
}

/* glibc's own, for its chunks (not exported under another name) */
static size_t heap_libc_usable(void *p)
{
    static size_t (*fn)(void *);

    if (!fn) {
        fn = (size_t (*)(void *))dlsym(RTLD_NEXT, "malloc_usable_size");
        if (!fn)
            heap_die("slirpd: heap: dlsym() cannot find glibc's "
                     "malloc_usable_size(); aborting\n");
    }
    return fn(p);
}

size_t malloc_usable_size(void *p)
{
    if (heap_is_mapped(p))
        return heap_maplen(p) - HEAP_HDR;
    return p ? heap_libc_usable(p) : 0;
}

void *realloc(void *p, size_t size)
{
    size_t old, len;
    void *q;

    if (!heap_is_mapped(p)) {
        if (!p || size < HEAP_MMAP_MIN)
            return p ? __libc_realloc(p, size) : malloc(size);
        /* a small chunk of glibc's grows past the line: into a mapping,
         * or where glibc puts it when there is none */
        q = heap_map(size, false);
        if (!q)
            return heap_len_for(size) ? __libc_realloc(p, size) : NULL;
        old = heap_libc_usable(p);
        memcpy(q, p, old < size ? old : size);
        __libc_free(p);
        return q;
    }
    if (size == 0) {                /* as glibc: frees, returns NULL */
        free(p);
        return NULL;
    }
    old = heap_maplen(p);
    if (size < HEAP_MMAP_MIN) {
        q = __libc_malloc(size);
        if (!q)
            return NULL;
        memcpy(q, p, size);
        free(p);
        return q;
    }
    len = heap_len_for(size);
    if (!len) {
        errno = ENOMEM;
        return NULL;
    }
    if (len == old)
        return p;
    q = mremap(heap_hdr(p), old, len, MREMAP_MAYMOVE);
    if (q == MAP_FAILED) {
        /* no room for the mapping to grow (a shrink never fails): into
         * glibc's heap, which may still have some */
        q = __libc_malloc(size);
        if (!q) {
            errno = ENOMEM;
            return NULL;
        }
        memcpy(q, p, old - HEAP_HDR < size ? old - HEAP_HDR : size);
        free(p);
        return q;
    }
    ((size_t *)q)[1] = len | HEAP_LEN_TAG;
    return (char *)q + HEAP_HDR;
}

void *reallocarray(void *p, size_t n, size_t size)
{
    size_t total;

    if (__builtin_mul_overflow(n, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc(p, total);
}

#else /* !HEAP_REPLACES_MALLOC */

bool heap_is_mapped(const void *p)
{
    (void)p;
    return false;
}

int heap_cached(void)
{
    return 0;
}

#endif
