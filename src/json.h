/* SPDX-License-Identifier: GPL-2.0-or-later */
/* json.h - the API's JSON: a strict, bounded parser into a tree, and a compact writer */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum json_type {
    JSON_NULL,
    JSON_BOOL,
    JSON_INT,       /* a number without fraction or exponent that fits int64 */
    JSON_DOUBLE,    /* any other number */
    JSON_STRING,
    JSON_ARRAY,
    JSON_OBJECT,
};

/* one value; an array's or object's children are a list through ->next */
struct json_value {
    enum json_type type;
    const char *key;            /* the member's name, inside an object */
    struct json_value *next;    /* the next element or member */
    union {
        bool b;
        int64_t i;
        double d;
        const char *s;          /* NUL-terminated, never contains a NUL */
        struct json_value *first;   /* array, object: the first child */
    } u;
};

struct json_value *json_parse(const char *text, size_t len, int max_depth);
void json_free(struct json_value *v);
const struct json_value *json_member(const struct json_value *obj,
                                     const char *key);
size_t json_count(const struct json_value *v);

/* the writer: compact output (no spaces), keys in the order written */
struct json_writer {
    char *buf;
    size_t len, cap;
    bool sep;       /* the next item of the current container needs a comma */
};

void json_writer_init(struct json_writer *w);
void json_begin_object(struct json_writer *w);
void json_end_object(struct json_writer *w);
void json_begin_array(struct json_writer *w);
void json_end_array(struct json_writer *w);
void json_key(struct json_writer *w, const char *key);
void json_str(struct json_writer *w, const char *s);    /* NULL: null */
void json_int(struct json_writer *w, int64_t v);
void json_bool(struct json_writer *w, bool v);
void json_null(struct json_writer *w);
void json_tree(struct json_writer *w, const struct json_value *v);
char *json_writer_finish(struct json_writer *w, size_t *ret_len);
