/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-heap.c - the daemon's malloc: large blocks are mappings of their own, also when glibc's heap has room */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "heap.h"
#include "tapout.h"

#define SOCKBUF (128 * 1024)    /* libslirp's socket buffer */
#define REUSE (200 * 1024)      /* a length only the reuse checks use */

extern void *__libc_malloc(size_t size);
extern void __libc_free(void *p);

static volatile size_t huge = SIZE_MAX / 2;     /* overflows when doubled */

/* pages of [p, p+len) resident now */
static long resident(void *p, size_t len)
{
    uintptr_t start = (uintptr_t)p & ~(uintptr_t)4095;
    size_t n = ((uintptr_t)p + len - start + 4095) / 4096, i;
    unsigned char vec[1024];
    long r = 0;

    if (n > sizeof(vec) || mincore((void *)start, n * 4096, vec) < 0)
        return -1;
    for (i = 0; i < n; i++)
        r += vec[i] & 1;
    return r;
}

/* keep the compiler from dropping writes to a block that is freed next */
static void used(void *p)
{
    __asm__ volatile("" : : "r"(p) : "memory");
}

static bool filled(const unsigned char *p, size_t len, unsigned char v)
{
    size_t i;

    for (i = 0; i < len; i++)
        if (p[i] != v)
            return false;
    return true;
}

#define FALLBACK (300 * 1024)   /* a length no other block here has */

/* the process's address space now, in bytes (no allocation: no stdio) */
static long vm_size(void)
{
    char buf[128];
    ssize_t n;
    int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return -1;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    return strtol(buf, NULL, 10) * 4096;
}

/*
 * In a child whose address space may not grow (RLIMIT_AS at its current
 * size), but whose glibc heap has 4 MiB free: no mapping can be made, so
 * every large request must come from that heap. Returns a bit per failed
 * check (0: all passed).
 */
static int heap_fallback_child(void)
{
    enum { GLIBC_POOL = 128, POOL_CHUNK = 32 * 1024 };
    void *pool[GLIBC_POOL];
    unsigned char *m, *p, *c, *g, *q;
    struct rlimit rl;
    int bad = 0, i;
    long vm;

    mallopt(M_MMAP_MAX, 0);                 /* glibc: the brk heap only */
    mallopt(M_TRIM_THRESHOLD, 64 << 20);    /* ... and it keeps what is freed */
    for (i = 0; i < GLIBC_POOL; i++)
        pool[i] = malloc(POOL_CHUNK);
    for (i = GLIBC_POOL - 1; i >= 0; i--)
        free(pool[i]);
    m = malloc(HEAP_MMAP_MIN + 4096);       /* a mapping, made before */
    g = malloc(1000);
    if (!m || !heap_is_mapped(m) || !g)
        return 0x80;
    memset(m, 0x3c, HEAP_MMAP_MIN + 4096);
    memset(g, 0x4d, 1000);
    vm = vm_size();
    if (vm <= 0 || getrlimit(RLIMIT_AS, &rl) < 0)
        return 0x80;
    rl.rlim_cur = (rlim_t)vm;
    if (setrlimit(RLIMIT_AS, &rl) < 0)
        return 0x80;
    if (mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
             -1, 0) != MAP_FAILED)
        return 0x40;                        /* premise: no mapping now */

    p = malloc(FALLBACK);
    if (!p || heap_is_mapped(p))
        bad |= 1;
    else
        memset(p, 0x11, FALLBACK);
    c = calloc(1, FALLBACK);
    if (!c || heap_is_mapped(c) || !filled(c, FALLBACK, 0))
        bad |= 2;
    q = realloc(m, 2 * FALLBACK);           /* mremap() cannot grow it */
    if (!q || heap_is_mapped(q) || !filled(q, HEAP_MMAP_MIN + 4096, 0x3c))
        bad |= 4;
    else
        m = q;
    q = realloc(g, FALLBACK);               /* past the line, no mapping */
    if (!q || heap_is_mapped(q) || !filled(q, 1000, 0x4d))
        bad |= 8;
    else
        g = q;
    if (malloc_usable_size(p) < FALLBACK)
        bad |= 16;
    free(p);
    free(c);
    free(m);
    free(g);
    return bad;
}

/* run heap_fallback_child() in a child process: its failure bits */
static int heap_fallback(void)
{
    int status;
    pid_t pid = fork();

    if (pid == 0)
        _exit(heap_fallback_child());
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
        return 0x100;
    return WEXITSTATUS(status);
}

int main(void)
{
    void *small[256], *keep, *b, *c, *q;
    unsigned char *u;
    char *s;
    size_t i;
    int e, n0;

    if (!HEAP_REPLACES_MALLOC) {
        tap_plan(1);
        TAP_OK(true, "# SKIP malloc is glibc's in this build");
        return tap_done();
    }
    tap_plan(45);
    mallopt(M_MMAP_THRESHOLD, 64 * 1024);   /* as the daemon (daemon.c) */

    /* the line */
    b = malloc(HEAP_MMAP_MIN);
    TAP_OK(heap_is_mapped(b), "a request of HEAP_MMAP_MIN bytes is a mapping");
    free(b);
    b = malloc(HEAP_MMAP_MIN - 1);
    TAP_OK(b && !heap_is_mapped(b), "one byte less is glibc's");
    free(b);

    /*
     * What churn leaves behind: more than a socket buffer of small chunks
     * freed below a chunk that stays, so they coalesce into one free heap
     * chunk that glibc would serve the next 128 KiB request from.
     */
    for (i = 0; i < 256; i++)
        small[i] = malloc(1024);
    keep = malloc(64);
    for (i = 0; i < 256; i++)
        free(small[i]);
    q = __libc_malloc(SOCKBUF);
    TAP_OK((char *)q >= (char *)small[0] - 4096 && (char *)q < (char *)sbrk(0),
           "premise: glibc alone serves 128 KiB from its heap, despite its mmap threshold");
    __libc_free(q);
    b = malloc(SOCKBUF);
    c = malloc(SOCKBUF);
    TAP_OK(heap_is_mapped(b) && heap_is_mapped(c),
           "with 256 KiB free in glibc's heap, a socket buffer is still a mapping");
    TAP_IS_INT(resident(b, SOCKBUF), 1, "an untouched buffer holds its header page only");
    q = realloc(b, 131400);     /* libslirp's growth at MSS 1460 */
    TAP_OK(q == b, "growth within the last page keeps the block in place");
    TAP_IS_INT(resident(q, 131400), 1, "... and touches nothing");
    b = q;
    memset((char *)b + 70000, 0xab, 100);
    q = realloc(b, 196440);     /* at MSS 65480: mremap() */
    TAP_OK(heap_is_mapped(q), "growth past the page stays a mapping");
    TAP_OK(filled((unsigned char *)q + 70000, 100, 0xab), "... with its bytes");
    TAP_OK(resident(q, 196440) <= 2, "... moved, not copied (two pages resident)");
    free(q);
    free(c);
    free(keep);

    /* reuse: a clean freed mapping comes back, a dirty one does not (a
     * length no other block here has; other lengths may be kept already) */
    n0 = heap_cached();
    b = malloc(REUSE);
    memset(b, 0x11, 3 * 4096);              /* a short connection's few pages */
    used(b);
    free(b);
    TAP_IS_INT(heap_cached(), n0 + 1, "a clean freed mapping is kept");
    q = malloc(REUSE);
    TAP_OK(q == b && heap_cached() == n0, "... and the next one of its length is it");
    free(q);
    u = calloc(1, REUSE);
    TAP_OK(u != q && filled(u, 3 * 4096, 0), "calloc never takes a kept one: zero pages");
    free(u);
    TAP_IS_INT(heap_cached(), n0 + 2, "the calloc'ed one, untouched, is kept after free");
    b = malloc(REUSE);
    memset(b, 0x22, REUSE);                 /* bulk data went through it */
    used(b);
    free(b);
    TAP_IS_INT(heap_cached(), n0 + 1, "a dirty freed mapping is unmapped, not kept");
    for (i = 0; i < 40; i++)
        small[i] = malloc(REUSE);
    TAP_IS_INT(heap_cached(), n0, "... the kept ones are handed out first");
    for (i = 0; i < 40; i++)
        free(small[i]);
    TAP_IS_INT(heap_cached(), HEAP_CACHE_MAX, "at most HEAP_CACHE_MAX are kept");
    for (i = 0; i < 40; i++)
        small[i] = malloc(REUSE);
    TAP_IS_INT(heap_cached(), n0, "... and all of them are handed out again");
    for (i = 0; i < 40; i++)
        free(small[i]);

    /* calloc */
    u = calloc(4, SOCKBUF);
    TAP_OK(u && heap_is_mapped(u), "a large calloc is a mapping");
    TAP_OK(filled(u, 4 * SOCKBUF, 0), "... and zero");
    free(u);
    u = calloc(16, 16);
    TAP_OK(u && !heap_is_mapped(u) && filled(u, 256, 0), "a small calloc is glibc's, zero");
    free(u);
    errno = 0;
    TAP_OK(!calloc(huge, 4) && errno == ENOMEM, "calloc overflow: NULL, ENOMEM");

    /* realloc across the line, both ways */
    u = malloc(1000);
    memset(u, 0x5a, 1000);
    u = realloc(u, SOCKBUF);
    TAP_OK(heap_is_mapped(u) && filled(u, 1000, 0x5a), "a small block grown past the line moves into a mapping, bytes kept");
    u[SOCKBUF - 1] = 7;
    u = realloc(u, 500);
    TAP_OK(u && !heap_is_mapped(u) && filled(u, 500, 0x5a), "a mapping shrunk below the line moves back to glibc, bytes kept");
    free(u);
    b = realloc(NULL, SOCKBUF);
    TAP_OK(heap_is_mapped(b), "realloc(NULL, large) maps");
    TAP_OK(malloc_usable_size(b) >= SOCKBUF, "malloc_usable_size of a mapping");
    TAP_OK(realloc(b, 0) == NULL, "realloc(mapping, 0) frees it");
    b = malloc(100);
    TAP_OK(malloc_usable_size(b) >= 100 && malloc_usable_size(b) < 4096,
           "malloc_usable_size of a glibc chunk is glibc's");
    free(b);
    TAP_IS_INT(malloc_usable_size(NULL), 0, "malloc_usable_size(NULL)");
    errno = 0;
    TAP_OK(!reallocarray(NULL, huge, 4) && errno == ENOMEM, "reallocarray overflow: NULL, ENOMEM");
    b = reallocarray(NULL, 4, SOCKBUF / 4);
    TAP_OK(heap_is_mapped(b), "reallocarray of a large size maps");
    free(b);
    errno = EINTR;
    free(NULL);
    b = malloc(SOCKBUF);
    errno = EINTR;
    free(b);
    TAP_IS_INT(errno, EINTR, "free() keeps errno");

    /* glibc's chunks 16 bytes into a page are not taken for ours */
    for (i = 0, b = NULL; i < 256; i++) {
        small[i] = malloc(48);
        if (((uintptr_t)small[i] & 4095) == 16 && !b)
            b = small[i];
    }
    TAP_OK(b != NULL, "a glibc chunk 16 bytes into a page was found");
    TAP_OK(b && !heap_is_mapped(b), "... and is glibc's");
    for (i = 0; i < 256; i++)
        free(small[i]);
    TAP_OK(!heap_is_mapped(NULL), "NULL is nobody's");

    /* what glibc allocates itself comes back through our free() */
    s = strdup("slirpd");
    TAP_IS_STR(s, "slirpd", "strdup() works");
    free(s);
    TAP_OK(asprintf(&s, "%0*d", 70000, 1) == 70000 && heap_is_mapped(s),
           "glibc's own large allocations (asprintf) are mappings");
    free(s);
    e = posix_memalign(&q, 4096, SOCKBUF);
    TAP_OK(e == 0 && !heap_is_mapped(q), "posix_memalign stays glibc's");
    free(q);
    q = memalign(64, 100);
    TAP_OK(q && !heap_is_mapped(q), "memalign stays glibc's");
    free(q);

    /* no mapping to be had: glibc's heap serves the large blocks */
    e = heap_fallback();
    if (!TAP_OK(!(e & 0x1c0), "premise: a child with free glibc heap and "
                "an address space that cannot grow (bits %#x)", e))
        e = 0x1f;
    TAP_OK(!(e & 1), "malloc(large) without a mapping: glibc's block");
    TAP_OK(!(e & 2), "calloc(large) without a mapping: glibc's, zero");
    TAP_OK(!(e & 4), "realloc of a mapping mremap() cannot grow: moved into "
           "glibc's heap, bytes kept");
    TAP_OK(!(e & 8), "realloc of a glibc chunk past the line without a "
           "mapping: glibc's realloc, bytes kept");
    TAP_OK(!(e & 16), "malloc_usable_size of such a block");
    return tap_done();
}
