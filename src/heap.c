/* heap.c - glibc malloc tuned for libslirp's socket buffers: thresholds, and a trim after bursts */
/*
 * DOC: Theory of Operation
 *
 * libslirp allocates two 128 KiB buffers per TCP socket and grows them with
 * g_realloc() in tcp_mss() to a multiple of the MSS (3 * 65480 = 192 KiB at
 * MTU 65520). Two glibc behaviours matter:
 *
 *   - with its default, dynamic mmap threshold, the first free of an
 *     mmapped buffer raises the threshold and every later buffer comes from
 *     the heap, where freed ones stay resident: slirp4netns grows to
 *     ~650 MB in a burst of short connections (their sockets sit in
 *     TIME_WAIT; see timewait.c, which now ends that);
 *   - an mmapped buffer that grows is moved with mremap(), and each
 *     allocation and free is an mmap()/munmap(): measured here 40-100 us
 *     per mremap (the VM), 2 per connection at MTU 65520, which capped the
 *     short-connection rate near 1 k/s.
 *
 * So the threshold is fixed above the buffers (HEAP_MMAP_THRESHOLD: the heap
 * serves them and reuses freed ones without a syscall), the top of the heap
 * keeps HEAP_TRIM_THRESHOLD free (no brk() per connection), and what a
 * burst of many concurrent connections leaves free in the middle of the
 * heap is given back by heap_tick(): at most once a second, when
 * mallinfo2() counts more than HEAP_TRIM_FREE free, malloc_trim(0) returns
 * the free pages (madvise), so the daemon's RSS falls back after a burst.
 */
#include <malloc.h>
#include <stdbool.h>

#include "heap.h"

static int64_t heap_last_ms;
static bool heap_active;        /* iterations ran since the last check */
static struct heap_stats heap_st;

/**
 * heap_init() - fix glibc's thresholds (before libslirp allocates)
 */
void heap_init(void)
{
    mallopt(M_MMAP_THRESHOLD, HEAP_MMAP_THRESHOLD);
    mallopt(M_TRIM_THRESHOLD, HEAP_TRIM_THRESHOLD);
}

/**
 * heap_tick() - give free heap memory back after a burst (cheap to call
 *		 every loop iteration: it acts at most once a second)
 * @now_ms:	a monotonic clock, milliseconds
 */
void heap_tick(int64_t now_ms)
{
    struct mallinfo2 mi;

    if (now_ms - heap_last_ms < HEAP_TRIM_INTERVAL_MS) {
        heap_active = true;
        return;
    }
    heap_last_ms = now_ms;
    heap_active = false;
    mi = mallinfo2();
    heap_st.free_bytes = mi.fordblks;
    if (mi.fordblks > HEAP_TRIM_FREE) {
        malloc_trim(0);
        heap_st.trims++;
    }
}

/**
 * heap_timeout() - lower the loop's poll timeout to the next check, if
 *		    anything ran since the last one (so the memory a burst
 *		    freed is given back even if the daemon then sleeps)
 * @timeout_ms:	the loop's timeout (-1: none)
 * @now_ms:	the clock heap_tick() gets
 */
void heap_timeout(int *timeout_ms, int64_t now_ms)
{
    int64_t left;

    if (!heap_active)
        return;
    left = HEAP_TRIM_INTERVAL_MS - (now_ms - heap_last_ms);
    if (left < 0)
        left = 0;
    if (*timeout_ms < 0 || left < *timeout_ms)
        *timeout_ms = (int)left;
}

/**
 * heap_get_stats() - the counters
 * @ret:	filled
 */
void heap_get_stats(struct heap_stats *ret)
{
    *ret = heap_st;
}
