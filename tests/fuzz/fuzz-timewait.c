/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz-timewait.c - libFuzzer target: any frames both ways, and any listing, through the TIME_WAIT reaper */
/*
 * Frames from the namespace are the guest's to choose, and libslirp's
 * frames and listing follow from them: split the input into records
 * (1 byte kind, 2 bytes length, bytes) and feed them as frames to and
 * from libslirp, or as slirp_connection_info() text for a reap round.
 * Every RST the reaper builds must be a whole frame of the right size.
 *
 * Run: ./fuzz-timewait -max_total_time=60 [corpus-dir]
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "timewait.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_rst(void *arg, const uint8_t *frame, size_t len)
{
    (void)arg;
    if (len != 14 + 20 + 20 && len != 14 + 40 + 20)
        abort();
    if (!(frame[len - 20 + 13] & 0x04))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct timewait *tw;
    size_t off = 0;

    if (timewait_new(&tw) < 0)
        return 0;
    while (off + 3 <= size) {
        uint8_t kind = data[off];
        size_t len = (size_t)data[off + 1] << 8 | data[off + 2];
        struct frame_info fi;
        uint8_t *buf;

        off += 3;
        if (len > size - off)
            len = size - off;
        buf = malloc(len + 1);      /* exact size: ASan sees overreads */
        if (!buf)
            break;
        memcpy(buf, data + off, len);
        buf[len] = '\0';
        frame_parse(buf, len, &fi);
        switch (kind % 3) {
        case 0: timewait_note_out(tw, &fi); break;
        case 1: timewait_note_in(tw, buf, &fi); break;
        default: timewait_reap(tw, (const char *)buf, check_rst, NULL); break;
        }
        free(buf);
        off += len;
    }
    timewait_free(tw);
    return 0;
}
