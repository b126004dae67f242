/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz-json.c - libFuzzer target: any bytes into the JSON parser, and what it reads back through the writer */
/*
 * Whatever json_parse() accepts is written again with json_tree() (doubles
 * with 17 significant digits, which read back to the same double, or as
 * an integer when that is what they print as; infinities as null) and must
 * parse again to the same tree. Anything refused must stay refused at every depth limit below the
 * one it failed at. The sanitizers catch any read outside the input.
 *
 * Run: ./fuzz-json -max_total_time=60 [corpus-dir]
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_DEPTH 16

/* are @a (as written by json_tree()) and @b, read back, the same? */
static int fuzz_same(const struct json_value *a, const struct json_value *b)
{
    if (a->type == JSON_DOUBLE) {
        if (!isfinite(a->u.d))
            return b->type == JSON_NULL;
        if (b->type == JSON_INT)
            return (double)b->u.i == a->u.d;
        return b->type == JSON_DOUBLE && b->u.d == a->u.d;
    }
    if (a->type != b->type)
        return 0;
    switch (a->type) {
    case JSON_NULL:
        return 1;
    case JSON_BOOL:
        return a->u.b == b->u.b;
    case JSON_INT:
        return a->u.i == b->u.i;
    case JSON_STRING:
        return !strcmp(a->u.s, b->u.s);
    default:
        for (a = a->u.first, b = b->u.first; a && b; a = a->next, b = b->next)
            if ((a->key && (!b->key || strcmp(a->key, b->key))) ||
                !fuzz_same(a, b))
                return 0;
        return !a && !b;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct json_value *v = json_parse((const char *)data, size, FUZZ_DEPTH);
    struct json_value *again;
    struct json_writer w;
    size_t len = 0;
    char *out;

    if (!v) {
        if (json_parse((const char *)data, size, 1))
            abort();    /* refused at 16 levels but accepted at 1 */
        return 0;
    }
    json_writer_init(&w);
    json_tree(&w, v);
    out = json_writer_finish(&w, &len);
    if (strlen(out) != len)
        abort();
    again = json_parse(out, len, FUZZ_DEPTH);
    if (!again || !fuzz_same(v, again))
        abort();
    json_free(again);
    json_free(v);
    free(out);
    return 0;
}
