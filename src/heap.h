/* heap.h - glibc malloc tuned for libslirp's socket buffers: thresholds, and a trim after bursts */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* buffers below this come from the heap: libslirp's 128 KiB socket buffers
 * and their growth to 3 * MSS (192 KiB at MTU 65520) */
#define HEAP_MMAP_THRESHOLD (256 * 1024)
/* free memory kept at the top of the heap (no brk churn per connection) */
#define HEAP_TRIM_THRESHOLD (1024 * 1024)
/* free heap memory beyond this is given back, at most once a second */
#define HEAP_TRIM_FREE (4 * 1024 * 1024)
#define HEAP_TRIM_INTERVAL_MS 1000

struct heap_stats {
    uint64_t trims;             /* malloc_trim() calls */
    size_t free_bytes;          /* free heap memory at the last check */
};

void heap_init(void);
void heap_tick(int64_t now_ms);
void heap_timeout(int *timeout_ms, int64_t now_ms);
void heap_get_stats(struct heap_stats *ret);
